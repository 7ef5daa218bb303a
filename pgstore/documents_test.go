package pgstore

import (
	"bytes"
	"context"
	"testing"
	"time"

	"ndikiosk/kiosk"
	"ndikiosk/ndi/sign/pdf"
)

// A signed document is sealed in the hub's log with its visit (the table
// holds no PDF header and no signer's name), never read with the visit,
// exported for its period, and deleted with the visit by retention.
func TestDocumentsSealedExportedPurged(t *testing.T) {
	d, _, _ := newDB(t)
	ctx := context.Background()
	var want [][]byte
	for i := 0; i < 4; i++ {
		v := visit(d, i, "TAN AH KOW", "S1234567D")
		if i != 1 {
			v.Document = append(pdf.Sample(1, 6000), []byte("% /Name (SIGNER TAN AH KOW)\n")...)
			want = append(want, v.Document)
		}
		if _, err := d.Save(ctx, v); err != nil {
			t.Fatal(err)
		}
	}
	rows, err := d.pool.Query(ctx, `SELECT document FROM documents`)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for rows.Next() {
		var raw []byte
		rows.Scan(&raw)
		n++
		if bytes.Contains(raw, []byte("%PDF")) || bytes.Contains(raw, []byte("SIGNER")) {
			t.Fatal("a document is in clear in the table")
		}
	}
	rows.Close()
	if n != 3 {
		t.Fatalf("%d documents stored", n)
	}
	vs, err := d.Visits(ctx, kiosk.VisitFilter{})
	if err != nil || len(vs) != 4 || vs[0].Document != nil {
		t.Fatalf("visits %d %v", len(vs), err)
	}
	var got [][]byte
	if err := d.Documents(ctx, kiosk.VisitFilter{From: t0, To: t0.Add(time.Hour)}, func(_ int64, doc []byte) error {
		got = append(got, doc)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || !bytes.Equal(got[0], want[0]) || !bytes.Equal(got[2], want[2]) {
		t.Fatalf("exported %d", len(got))
	}
	if _, err := d.Purge(ctx, t0.Add(3*time.Minute)); err != nil {
		t.Fatal(err)
	}
	var left int
	d.pool.QueryRow(ctx, `SELECT COUNT(*) FROM documents`).Scan(&left)
	if left != 1 {
		t.Fatalf("%d documents left after the purge", left)
	}
}
