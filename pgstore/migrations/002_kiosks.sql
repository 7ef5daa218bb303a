-- The hub's kiosks. A kiosk is enrolled with a one-time token and then
-- holds a credential of its own; both are stored as SHA-256 hashes only, so
-- a copy of the database lets no one act as a kiosk. settings is what the
-- hub pushes to the kiosk (mode, minimum age, venue, hosts, languages).
CREATE TABLE kiosks (
  id          TEXT        PRIMARY KEY,
  created_at  TIMESTAMPTZ NOT NULL,
  revoked_at  TIMESTAMPTZ,
  settings    JSONB       NOT NULL DEFAULT '{}'
);

CREATE TABLE kiosk_enrolments (
  token_hash  BYTEA       PRIMARY KEY,
  kiosk_id    TEXT        NOT NULL REFERENCES kiosks (id) ON DELETE CASCADE,
  created_at  TIMESTAMPTZ NOT NULL,
  expires_at  TIMESTAMPTZ NOT NULL,
  used_at     TIMESTAMPTZ
);

CREATE TABLE kiosk_credentials (
  secret_hash BYTEA       PRIMARY KEY,
  kiosk_id    TEXT        NOT NULL REFERENCES kiosks (id) ON DELETE CASCADE,
  issued_at   TIMESTAMPTZ NOT NULL,
  revoked_at  TIMESTAMPTZ,
  last_seen   TIMESTAMPTZ
);
CREATE INDEX kiosk_credentials_kiosk ON kiosk_credentials (kiosk_id);
