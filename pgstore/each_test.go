package pgstore

import (
	"context"
	"errors"
	"testing"
	"time"

	"ndikiosk/kiosk"
)

// failingWriter fails once it has taken n bytes, as a closed pipe does.
type failingWriter struct{ n int }

var errPipe = errors.New("broken pipe")

func (w *failingWriter) Write(p []byte) (int, error) {
	if w.n -= len(p); w.n < 0 {
		return 0, errPipe
	}
	return len(p), nil
}

// TestExportAcrossBatches: an export reads its rows on another goroutine
// in batches; every row comes out once and in order, a writer's error ends
// it with that error (no hang, no leak), and a cancelled context is an
// error, not a short export that looks complete.
func TestExportAcrossBatches(t *testing.T) {
	d, _, _ := newDB(t)
	n := 5*readBatch + 17
	seedCopy(t, d, n)
	ctx := context.Background()
	var cw countWriter
	if err := d.Export(ctx, &cw, kiosk.VisitFilter{}, "csv"); err != nil || cw.lines != int64(n)+1 {
		t.Fatalf("export: %d lines, %v", cw.lines, err)
	}
	all, err := d.Visits(ctx, kiosk.VisitFilter{})
	if err != nil || len(all) != n {
		t.Fatalf("visits: %d %v", len(all), err)
	}
	for i := 1; i < len(all); i++ {
		if all[i].StartedAt.After(all[i-1].StartedAt) {
			t.Fatalf("visit %d out of order", i)
		}
	}
	if err := d.Export(ctx, &failingWriter{n: 100 << 10}, kiosk.VisitFilter{}, "csv"); !errors.Is(err, errPipe) {
		t.Fatalf("export to a broken pipe: %v", err)
	}
	some, err := d.Visits(ctx, kiosk.VisitFilter{Name: "VISITOR 1", Offset: 3, Limit: 4})
	if err != nil || len(some) != 4 {
		t.Fatalf("name filter with paging: %d %v", len(some), err)
	}
	cctx, cancel := context.WithTimeout(ctx, time.Millisecond)
	defer cancel()
	time.Sleep(2 * time.Millisecond)
	if err := d.Export(cctx, &countWriter{}, kiosk.VisitFilter{}, "csv"); err == nil {
		t.Fatal("an export whose context ended reported success")
	}
}

// TestPoolSize: the hub's pool has room for visits committing together
// (DefaultMaxConns) unless the URL says otherwise.
func TestPoolSize(t *testing.T) {
	_, url, key := newDB(t)
	ctx := context.Background()
	d, err := Open(ctx, url, key)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if got := d.Pool().Config().MaxConns; got != DefaultMaxConns {
		t.Errorf("pool of %d, want %d", got, DefaultMaxConns)
	}
	d2, err := Open(ctx, url+"&pool_max_conns=7", key)
	if err != nil {
		t.Fatal(err)
	}
	defer d2.Close()
	if got := d2.Pool().Config().MaxConns; got != 7 {
		t.Errorf("pool_max_conns=7 gave %d", got)
	}
}
