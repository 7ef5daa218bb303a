-- Signed agreements (Sign with Singpass): the signed PDF of a visit,
-- AES-GCM sealed under the hub's log key and bound to the column
-- "document" and the visit's txn_ref. Deleted with its visit.
CREATE TABLE documents (
  visit_id  BIGINT      PRIMARY KEY REFERENCES visits (id) ON DELETE CASCADE,
  document  BYTEA       NOT NULL,
  stored_at TIMESTAMPTZ NOT NULL
);
