-- Host notification's outbox (package notify). A visitor checked in with
-- Singpass, or a walk-in registered by staff, whose visit names a host gets
-- one row a channel, written by a trigger in the visit's own transaction:
-- a visit is never recorded without its notifications, nor the reverse.
-- Rows hold the visit's id, never a name; the sender reads the sealed name
-- through the hub's key when it sends.
--
-- state: pending (to send, at due_at), sent, skipped (channel not set up,
-- or a host with no email), dead (failed for good: last_error says why;
-- an operator may replay it). A worker claims a row by setting
-- locked_until (its lease) under FOR UPDATE SKIP LOCKED and counts the
-- attempt then, so a replica killed mid-send leaves the row to another
-- replica once the lease runs out.
CREATE TABLE notify_outbox (
  id           BIGSERIAL   PRIMARY KEY,
  visit_id     BIGINT      NOT NULL REFERENCES visits (id) ON DELETE CASCADE,
  channel      TEXT        NOT NULL CHECK (channel IN ('email', 'webhook')),
  state        TEXT        NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'skipped', 'dead')),
  attempts     INTEGER     NOT NULL DEFAULT 0,
  due_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
  locked_until TIMESTAMPTZ,
  locked_by    TEXT        NOT NULL DEFAULT '',
  last_error   TEXT        NOT NULL DEFAULT '',
  created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
  done_at      TIMESTAMPTZ,
  UNIQUE (visit_id, channel)
);
CREATE INDEX notify_outbox_due ON notify_outbox (due_at, id) WHERE state = 'pending';
CREATE INDEX notify_outbox_done ON notify_outbox (done_at) WHERE state <> 'pending';

CREATE FUNCTION ndikiosk_notify_enqueue() RETURNS trigger AS $$
BEGIN
  IF NEW.outcome IN ('checked-in', 'walk-in') AND NEW.host <> '' THEN
    INSERT INTO notify_outbox (visit_id, channel) VALUES (NEW.id, 'email'), (NEW.id, 'webhook');
    -- Wakes the replicas' workers at commit; they poll as well.
    PERFORM pg_notify('ndikiosk_notify', '');
  END IF;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER visits_notify AFTER INSERT ON visits FOR EACH ROW EXECUTE FUNCTION ndikiosk_notify_enqueue();
