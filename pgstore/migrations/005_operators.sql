-- The operators' dashboard on the hub (package dashboard): staff accounts,
-- their sessions, failed sign-ins (the lockout, shared by every replica),
-- and roll calls with their ticks.
--
-- A password is kept only as an argon2id hash string (its parameters and
-- salt inside); a session only as the SHA-256 of its random token.
CREATE TABLE operators (
  id            BIGSERIAL   PRIMARY KEY,
  name          TEXT        NOT NULL,
  role          TEXT        NOT NULL CHECK (role IN ('viewer', 'admin')),
  password_hash TEXT        NOT NULL,
  created_at    TIMESTAMPTZ NOT NULL,
  changed_at    TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX operators_name ON operators (lower(name));

CREATE TABLE operator_sessions (
  token_hash  BYTEA       PRIMARY KEY,
  operator_id BIGINT      NOT NULL REFERENCES operators (id) ON DELETE CASCADE,
  created_at  TIMESTAMPTZ NOT NULL,
  last_seen   TIMESTAMPTZ NOT NULL
);
CREATE INDEX operator_sessions_operator ON operator_sessions (operator_id);

-- One row a failed sign-in: the SHA-256 of the name as typed (lower-cased,
-- whether or not an operator has it: staff sometimes type a password into
-- the name field) and the client's address. Rows older than the lockout
-- window are deleted as new ones come.
CREATE TABLE signin_failures (
  name      BYTEA       NOT NULL,
  client    TEXT        NOT NULL,
  failed_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX signin_failures_name ON signin_failures (name, failed_at);
CREATE INDEX signin_failures_client ON signin_failures (client, failed_at);

-- A roll call: staff tick off who is on site at a site, on their phones.
-- Ticks name visits by id, never a person.
CREATE TABLE roll_calls (
  id         BIGSERIAL   PRIMARY KEY,
  site       TEXT        NOT NULL,
  started_at TIMESTAMPTZ NOT NULL,
  started_by TEXT        NOT NULL,
  ended_at   TIMESTAMPTZ
);

CREATE TABLE roll_call_ticks (
  roll_call_id BIGINT      NOT NULL REFERENCES roll_calls (id) ON DELETE CASCADE,
  visit_id     BIGINT      NOT NULL,
  ticked_at    TIMESTAMPTZ NOT NULL,
  ticked_by    TEXT        NOT NULL,
  PRIMARY KEY (roll_call_id, visit_id)
);
