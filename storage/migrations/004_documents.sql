-- Signed agreements (Sign with Singpass): the signed PDF of a visit,
-- sealed with AES-GCM under visits.key and bound to the column "document"
-- and the visit's txn_ref. Deleted with its visit.
CREATE TABLE documents (
  visit_id  INTEGER PRIMARY KEY REFERENCES visits (id) ON DELETE CASCADE,
  document  BLOB    NOT NULL,
  stored_at INTEGER NOT NULL
);
