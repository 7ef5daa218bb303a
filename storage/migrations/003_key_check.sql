-- The key check value: an HMAC of a fixed label under visits.key, never the
-- key. It lets the log refuse a missing or wrong key instead of carrying on
-- with a new one that reads no row and matches no one on the deny list.
CREATE TABLE key_check (
  id      INTEGER PRIMARY KEY CHECK (id = 1),
  value   BLOB    NOT NULL,
  made_at INTEGER NOT NULL
);
