-- The venue's side of the hub: which site a visit was at, the hosts a
-- visitor may see (with the address they are told at), walk-in alerts from
-- the kiosks, and invitations for expected visitors.
--
-- A site is a kiosk's venue name; a walk-in registered by staff on the
-- dashboard is a visit with outcome 'walk-in' at the site staff chose.
ALTER TABLE visits ADD COLUMN site TEXT NOT NULL DEFAULT '';
CREATE INDEX visits_site_open ON visits (site, started_at) WHERE checked_out_at IS NULL;

-- Every new or changed visit is announced on ndikiosk_events (ids only,
-- never a name) so that every replica's dashboard can update its on-site
-- list at once.
CREATE FUNCTION ndikiosk_visit_event() RETURNS trigger AS $$
BEGIN
  PERFORM pg_notify('ndikiosk_events', json_build_object('kind', 'visit', 'id', NEW.id, 'site', NEW.site, 'kiosk', NEW.kiosk_id)::text);
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER visits_event AFTER INSERT OR UPDATE ON visits FOR EACH ROW EXECUTE FUNCTION ndikiosk_visit_event();

-- Hosts by site. A host's email is where they are told of their visitor;
-- a host's name is what the kiosk offers and the visit records.
CREATE TABLE hosts (
  id         BIGSERIAL   PRIMARY KEY,
  site       TEXT        NOT NULL,
  name       TEXT        NOT NULL,
  email      TEXT        NOT NULL DEFAULT '',
  created_at TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX hosts_site_name ON hosts (site, lower(name));

-- "No Singpass?" pressed on a kiosk: staff are asked to come. Handled when
-- someone on the dashboard says so.
CREATE TABLE alerts (
  id         BIGSERIAL   PRIMARY KEY,
  kiosk_id   TEXT        NOT NULL,
  site       TEXT        NOT NULL DEFAULT '',
  raised_at  TIMESTAMPTZ NOT NULL,
  handled_at TIMESTAMPTZ,
  handled_by TEXT        NOT NULL DEFAULT ''
);
CREATE INDEX alerts_open ON alerts (raised_at) WHERE handled_at IS NULL;

-- Invitations for expected visitors. name is sealed like a visit's (bound
-- to the row's ref); name_key is the keyed hash of the name as Singpass
-- spells it (upper-cased, spaces folded), by which a scan finds it;
-- person_key, when the invitation was made from an earlier visit, matches
-- that person whatever their name. note is sealed too: staff write what
-- they like in it.
CREATE TABLE invitations (
  id          BIGSERIAL   PRIMARY KEY,
  ref         TEXT        NOT NULL UNIQUE,
  site        TEXT        NOT NULL,
  day         DATE        NOT NULL,
  name        BYTEA       NOT NULL,
  name_key    BYTEA       NOT NULL,
  person_key  BYTEA,
  host        TEXT        NOT NULL,
  purpose     TEXT        NOT NULL DEFAULT '',
  note        BYTEA,
  created_at  TIMESTAMPTZ NOT NULL,
  created_by  TEXT        NOT NULL DEFAULT '',
  visit_id    BIGINT
);
CREATE INDEX invitations_day ON invitations (day, site);
CREATE INDEX invitations_name ON invitations (name_key, day);
CREATE INDEX invitations_person ON invitations (person_key, day) WHERE person_key IS NOT NULL;
