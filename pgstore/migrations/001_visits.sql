-- The hub's visit log: the kiosk's SQLite log (storage/migrations) for a
-- fleet. masked_id and name are AES-GCM ciphertexts bound to their column
-- and txn_ref; person_key is an HMAC of the UIN/FIN. Neither the UIN/FIN
-- nor a date of birth, a code or a token is ever stored.
CREATE TABLE visits (
  id             BIGSERIAL   PRIMARY KEY,
  kiosk_id       TEXT        NOT NULL,
  mode           TEXT        NOT NULL,
  txn_ref        TEXT        NOT NULL,
  attributes     TEXT[]      NOT NULL DEFAULT '{}',
  started_at     TIMESTAMPTZ NOT NULL,
  decided_at     TIMESTAMPTZ NOT NULL,
  checked_out_at TIMESTAMPTZ,
  outcome        TEXT        NOT NULL,
  reason         TEXT        NOT NULL DEFAULT '',
  masked_id      BYTEA,
  name           BYTEA,
  host           TEXT        NOT NULL DEFAULT '',
  purpose        TEXT        NOT NULL DEFAULT '',
  face_result    TEXT        NOT NULL DEFAULT '',
  face_score     DOUBLE PRECISION,
  person_key     BYTEA,
  sandbox        BOOLEAN     NOT NULL DEFAULT FALSE
);
CREATE INDEX visits_started ON visits (started_at, id);
CREATE INDEX visits_open ON visits (person_key, started_at) WHERE checked_out_at IS NULL;

-- The fleet's deny list: keyed hashes only.
CREATE TABLE deny_list (
  person_key BYTEA       PRIMARY KEY,
  added_at   TIMESTAMPTZ NOT NULL,
  note       TEXT        NOT NULL DEFAULT ''
);

-- The key check value: an HMAC of a fixed label under the hub's log key,
-- never the key. A hub started with another key refuses the database
-- instead of writing rows no one can read.
CREATE TABLE key_check (
  id      INTEGER     PRIMARY KEY CHECK (id = 1),
  value   BYTEA       NOT NULL,
  made_at TIMESTAMPTZ NOT NULL
);
