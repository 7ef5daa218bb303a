package pgstore

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"ndikiosk/internal/seal"
	"ndikiosk/kiosk"
)

// seedCopy writes n visit rows with COPY, their personal columns sealed
// with the log's key as Save seals them, so that an export decrypts each.
// It is how a large log is made in reasonable time, not how the hub
// writes (the hub writes one committed row a visit).
func seedCopy(tb testing.TB, d *DB, n int) {
	tb.Helper()
	ctx := context.Background()
	start := time.Date(2026, 1, 1, 8, 0, 0, 0, kiosk.SGT)
	const batch = 50_000
	for done := 0; done < n; done += batch {
		rows := make([][]any, 0, min(batch, n-done))
		for i := done; i < done+batch && i < n; i++ {
			ref := "txn-" + strconv.Itoa(i)
			at := start.Add(time.Duration(i) * 3 * time.Second)
			uin := fmt.Sprintf("S%07dA", i%10_000_000)
			rows = append(rows, []any{"lobby-" + strconv.Itoa(i%500), kiosk.ModeVisitor, ref, []string{"name", "uinfin"}, at, at.Add(4 * time.Second),
				nil, string(kiosk.OutcomeCheckedIn), "", d.box.Seal("masked_id", ref, "*****"+uin[5:]), d.box.Seal("name", ref, "VISITOR "+strconv.Itoa(i)),
				"Reception", "Meeting", "", nil, d.box.PersonKey(uin), true})
		}
		if _, err := d.pool.CopyFrom(ctx, pgx.Identifier{"visits"}, []string{"kiosk_id", "mode", "txn_ref", "attributes", "started_at", "decided_at",
			"checked_out_at", "outcome", "reason", "masked_id", "name", "host", "purpose", "face_result", "face_score", "person_key", "sandbox"},
			pgx.CopyFromRows(rows)); err != nil {
			tb.Fatal(err)
		}
	}
	if _, err := d.pool.Exec(ctx, `VACUUM ANALYZE visits`); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkExport1M exports a log of 1,000,000 visits from PostgreSQL to
// CSV (two AES-GCM columns opened a row), as `ndikiosk export` does with a
// hub's config. Target (issue 14): ≤ 5 s. Seeding takes a while and is
// not timed; PGBENCH_VISITS sets another size.
func BenchmarkExport1M(b *testing.B) {
	n := 1_000_000
	if s := os.Getenv("PGBENCH_VISITS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	ctx := context.Background()
	url, err := server.NewDatabase(ctx)
	if err != nil {
		b.Fatal(err)
	}
	d, err := Open(ctx, url, seal.NewKey())
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	seedCopy(b, d, n)
	if os.Getenv("PGBENCH_EXPLAIN") != "" {
		rows, err := d.pool.Query(ctx, `EXPLAIN (ANALYZE, BUFFERS) SELECT `+columns+` FROM visits WHERE TRUE ORDER BY started_at ASC, id ASC`)
		if err != nil {
			b.Fatal(err)
		}
		for rows.Next() {
			var line string
			rows.Scan(&line)
			b.Log(line)
		}
		rows.Close()
	}
	var cw countWriter
	cpu0 := cpuTime()
	for b.Loop() {
		cw = countWriter{}
		if err := d.Export(ctx, &cw, kiosk.VisitFilter{}, "csv"); err != nil {
			b.Fatal(err)
		}
	}
	if cw.lines != int64(n)+1 {
		b.Fatalf("exported %d lines, want %d", cw.lines, n+1)
	}
	b.ReportMetric(float64(cw.bytes)/1e6, "MB")
	b.ReportMetric((cpuTime()-cpu0).Seconds()/float64(b.N), "cpu-s/op")
}

// cpuTime is this process's CPU time (user and system), all threads: the
// export's own cost, apart from what the machine's other work takes.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// countWriter counts what an export writes, and its lines.
type countWriter struct{ bytes, lines int64 }

func (c *countWriter) Write(p []byte) (int, error) {
	c.bytes += int64(len(p))
	for _, ch := range p {
		if ch == '\n' {
			c.lines++
		}
	}
	return len(p), nil
}

var _ io.Writer = (*countWriter)(nil)
