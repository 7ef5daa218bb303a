-- The visit log. Times are Unix milliseconds (UTC). masked_id and name are
-- AES-GCM ciphertexts; person_key is an HMAC of the UIN/FIN. Neither the
-- UIN/FIN nor a date of birth is ever stored.
CREATE TABLE visits (
  id             INTEGER PRIMARY KEY,
  kiosk_id       TEXT    NOT NULL,
  mode           TEXT    NOT NULL,
  txn_ref        TEXT    NOT NULL,
  attributes     TEXT    NOT NULL,
  started_at     INTEGER NOT NULL,
  decided_at     INTEGER NOT NULL,
  checked_out_at INTEGER,
  outcome        TEXT    NOT NULL,
  reason         TEXT    NOT NULL DEFAULT '',
  masked_id      BLOB,
  name           BLOB,
  host           TEXT    NOT NULL DEFAULT '',
  purpose        TEXT    NOT NULL DEFAULT '',
  face_result    TEXT    NOT NULL DEFAULT '',
  face_score     REAL,
  person_key     BLOB
);
CREATE INDEX visits_started ON visits (started_at);
CREATE INDEX visits_open ON visits (person_key, checked_out_at);

CREATE TABLE deny_list (
  person_key BLOB    PRIMARY KEY,
  added_at   INTEGER NOT NULL,
  note       TEXT    NOT NULL DEFAULT ''
);
