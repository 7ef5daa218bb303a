package storage

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"ndikiosk/kiosk"
	"ndikiosk/ndi/sign/pdf"
)

// signedLike is a PDF standing in for a signed agreement: it carries the
// signer's name, as a real one does in its certificate.
func signedLike(name string) []byte {
	return append(pdf.Sample(1, 8000), []byte("% /Name ("+name+") /Reason (signed with Singpass)\n%%EOF\n")...)
}

// A signed document is kept sealed with its visit: the file holds neither
// the PDF's header nor the signer's name, reading visits does not load it,
// the period's export returns it, and retention deletes it with the visit.
func TestDocumentsSealedExportedAndPurged(t *testing.T) {
	d, dir := openTemp(t)
	ctx := context.Background()
	var want [][]byte
	for i := 0; i < 6; i++ {
		v := visit(d, i, "VISITOR", "Mr Ong")
		if i%2 == 0 {
			v.Document = signedLike("SIGNER NUMBER " + string(rune('A'+i)))
			want = append(want, v.Document)
		}
		if _, err := d.Save(ctx, v); err != nil {
			t.Fatal(err)
		}
	}
	d.sql.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
	var raw []byte
	for _, f := range []string{DBFile, DBFile + "-wal"} {
		b, _ := os.ReadFile(filepath.Join(dir, f))
		raw = append(raw, b...)
	}
	for _, secret := range []string{"%PDF", "SIGNER NUMBER", "signed with Singpass"} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Errorf("the database file contains %q in clear", secret)
		}
	}
	vs, err := d.Visits(ctx, kiosk.VisitFilter{})
	if err != nil || len(vs) != 6 {
		t.Fatal(len(vs), err)
	}
	for _, v := range vs {
		if v.Document != nil {
			t.Fatalf("visit %d was read with its document", v.ID)
		}
	}
	var got [][]byte
	var ids []int64
	collect := func(f kiosk.VisitFilter) {
		got, ids = nil, nil
		if err := d.Documents(ctx, f, func(id int64, doc []byte) error {
			got, ids = append(got, doc), append(ids, id)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	collect(kiosk.VisitFilter{})
	if len(got) != 3 || !bytes.Equal(got[0], want[0]) || !bytes.Equal(got[2], want[2]) || ids[0] != 1 || ids[1] != 3 {
		t.Fatalf("documents %d, ids %v", len(got), ids)
	}
	collect(kiosk.VisitFilter{From: t0.Add(time.Minute), To: t0.Add(3 * time.Minute)})
	if len(got) != 1 || ids[0] != 3 {
		t.Fatalf("period's documents: ids %v", ids)
	}
	if n, err := d.Purge(ctx, t0.Add(3*time.Minute)); err != nil || n != 3 {
		t.Fatalf("purged %d: %v", n, err)
	}
	var left int
	d.sql.QueryRow(`SELECT COUNT(*) FROM documents`).Scan(&left)
	if left != 1 {
		t.Fatalf("%d documents left after the purge; want the one of the visit kept", left)
	}
}

// A sealed document moved to another visit's row does not open: it is
// bound to its own visit.
func TestDocumentBoundToItsVisit(t *testing.T) {
	d, _ := openTemp(t)
	ctx := context.Background()
	a, b := visit(d, 1, "A", "H"), visit(d, 2, "B", "H")
	a.Document, b.Document = signedLike("A"), signedLike("B")
	ida, _ := d.Save(ctx, a)
	idb, _ := d.Save(ctx, b)
	if _, err := d.sql.Exec(`UPDATE documents SET document = (SELECT document FROM documents WHERE visit_id = ?) WHERE visit_id = ?`, ida, idb); err != nil {
		t.Fatal(err)
	}
	err := d.Documents(ctx, kiosk.VisitFilter{}, func(int64, []byte) error { return nil })
	if err == nil {
		t.Fatal("a document moved to another visit was opened")
	}
}

// A log from before documents (read as it is, not migrated) has none to
// export, rather than an error.
func TestDocumentsOfAnOlderLog(t *testing.T) {
	d, _ := openTemp(t)
	if _, err := d.sql.Exec(`DROP TABLE documents`); err != nil {
		t.Fatal(err)
	}
	n := 0
	if err := d.Documents(context.Background(), kiosk.VisitFilter{}, func(int64, []byte) error { n++; return nil }); err != nil || n != 0 {
		t.Fatalf("%d documents, %v", n, err)
	}
}
