package storage

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"ndikiosk/kiosk"
)

func openTemp(t testing.TB) (*DB, string) {
	t.Helper()
	dir := t.TempDir()
	d, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d, dir
}

var t0 = time.Date(2026, 11, 22, 9, 30, 0, 0, time.UTC)

func visit(d *DB, i int, name, host string) kiosk.Visit {
	return kiosk.Visit{KioskID: "k1", Mode: kiosk.ModeVisitor, TxnRef: fmt.Sprintf("k1-%032d", i),
		Attributes: []string{"name", "partialuinfin", "mobileno"}, StartedAt: t0.Add(time.Duration(i) * time.Minute),
		DecidedAt: t0.Add(time.Duration(i)*time.Minute + 2*time.Second), Outcome: kiosk.OutcomeCheckedIn,
		MaskedID: "*****567D", Name: name, Host: host, Purpose: "Meeting", PersonKey: d.PersonKey(fmt.Sprintf("S%07dD", i))}
}

func TestSaveAndReadBack(t *testing.T) {
	d, _ := openTemp(t)
	ctx := context.Background()
	v := visit(d, 1, "TAN, AH KOW 100%", "Ms Lee")
	id, err := d.Save(ctx, v)
	if err != nil {
		t.Fatal(err)
	}
	got, err := d.Visits(ctx, kiosk.VisitFilter{})
	if err != nil || len(got) != 1 {
		t.Fatalf("%v %v", got, err)
	}
	g := got[0]
	if g.ID != id || g.Name != v.Name || g.MaskedID != v.MaskedID || !g.StartedAt.Equal(v.StartedAt) || g.Outcome != v.Outcome ||
		strings.Join(g.Attributes, ",") != "name,partialuinfin,mobileno" || !bytes.Equal(g.PersonKey, v.PersonKey) || !g.CheckedOutAt.IsZero() {
		t.Fatalf("read back %+v", g)
	}
}

func TestNothingPersonalInTheFile(t *testing.T) {
	d, dir := openTemp(t)
	ctx := context.Background()
	for i := 0; i < 50; i++ {
		v := visit(d, i, fmt.Sprintf("VISITOR NUMBER %d", i), "Mr Ong")
		v.MaskedID = fmt.Sprintf("*****%03dZ", i)
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
	for _, secret := range []string{"VISITOR NUMBER", "*****007Z", "S0000007D"} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Errorf("the database file contains %q in clear", secret)
		}
	}
	if !bytes.Contains(raw, []byte("Mr Ong")) {
		t.Error("sanity: the host should be searchable in clear")
	}
}

func TestPersonKey(t *testing.T) {
	a, _ := openTemp(t)
	b, _ := openTemp(t)
	if !bytes.Equal(a.PersonKey("s1234567d"), a.PersonKey("S1234567D ")) || len(a.PersonKey("x")) != 32 {
		t.Error("the key is not stable for one person")
	}
	if bytes.Equal(a.PersonKey("S1234567D"), b.PersonKey("S1234567D")) {
		t.Error("two installs give the same key: the secret is not per install")
	}
}

func TestReopenKeepsDataAndMigrationsOnce(t *testing.T) {
	dir := t.TempDir()
	d, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	d.Save(context.Background(), visit(d, 1, "A", "H"))
	d.Close()
	d, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var n int
	d.sql.QueryRow(`SELECT COUNT(*) FROM schema_migrations`).Scan(&n)
	vs, _ := d.Visits(context.Background(), kiosk.VisitFilter{})
	files, _ := fs.Glob(migrations, "migrations/*.sql")
	if n != len(files) || len(vs) != 1 || vs[0].Name != "A" {
		t.Fatalf("migrations %d, visits %v", n, vs)
	}
	if st, _ := os.Stat(filepath.Join(dir, KeyFile)); st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v", st.Mode())
	}
}

func TestDamagedKeyFile(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, KeyFile), []byte("short"), 0o600)
	if _, err := Open(dir); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Fatalf("damaged key: %v", err)
	}
}

func TestCheckOutAndDenyList(t *testing.T) {
	d, _ := openTemp(t)
	ctx := context.Background()
	v := visit(d, 1, "A", "H")
	id, _ := d.Save(ctx, v)
	open, err := d.OpenVisit(ctx, v.PersonKey, t0.Add(-time.Hour))
	if err != nil || open.ID != id {
		t.Fatalf("open visit: %+v %v", open, err)
	}
	if _, err := d.OpenVisit(ctx, v.PersonKey, t0.Add(time.Hour)); !errors.Is(err, kiosk.ErrNotFound) {
		t.Fatalf("visit from before 'since': %v", err)
	}
	if err := d.CheckOut(ctx, id, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := d.CheckOut(ctx, id, t0.Add(time.Hour)); !errors.Is(err, kiosk.ErrNotFound) {
		t.Fatalf("second check-out: %v", err)
	}
	if _, err := d.OpenVisit(ctx, v.PersonKey, t0.Add(-time.Hour)); !errors.Is(err, kiosk.ErrNotFound) {
		t.Fatalf("after check-out: %v", err)
	}
	if denied, _ := d.Denied(ctx, v.PersonKey); denied {
		t.Fatal("denied before being listed")
	}
	d.Deny(ctx, v.PersonKey, "banned by management", t0)
	if denied, err := d.Denied(ctx, v.PersonKey); !denied || err != nil {
		t.Fatal("not denied after being listed")
	}
	d.Allow(ctx, v.PersonKey)
	if denied, _ := d.Denied(ctx, v.PersonKey); denied {
		t.Fatal("still denied after removal")
	}
}

func TestSearchAndPaging(t *testing.T) {
	d, _ := openTemp(t)
	ctx := context.Background()
	for i := 0; i < 30; i++ {
		name, host := "ALICE TAN", "Ms Lee"
		if i%3 == 0 {
			name, host = "BOB LIM", "Mr_Ong 100%"
		}
		d.Save(ctx, visit(d, i, name, host))
	}
	page, _ := d.Visits(ctx, kiosk.VisitFilter{Limit: 5, Offset: 5})
	if len(page) != 5 || !page[0].StartedAt.Equal(t0.Add(24*time.Minute)) {
		t.Fatalf("page 2: %d rows, first %v", len(page), page[0].StartedAt)
	}
	bobs, _ := d.Visits(ctx, kiosk.VisitFilter{Name: "bob", Limit: 3, Offset: 2})
	if len(bobs) != 3 || bobs[0].Name != "BOB LIM" || !bobs[0].StartedAt.Equal(t0.Add(21*time.Minute)) {
		t.Fatalf("name search: %+v", bobs)
	}
	ong, _ := d.Visits(ctx, kiosk.VisitFilter{Host: "ong 100%"})
	literal, _ := d.Visits(ctx, kiosk.VisitFilter{Host: "r_o"})
	wild, _ := d.Visits(ctx, kiosk.VisitFilter{Host: "s_l"})
	if len(ong) != 10 || len(literal) != 10 || len(wild) != 0 {
		t.Fatalf("host search: %d %d %d", len(ong), len(literal), len(wild))
	}
	day, _ := d.Visits(ctx, kiosk.VisitFilter{From: t0.Add(10 * time.Minute), To: t0.Add(20 * time.Minute)})
	if len(day) != 10 {
		t.Fatalf("date range: %d", len(day))
	}
}

func TestPurge(t *testing.T) {
	d, _ := openTemp(t)
	ctx := context.Background()
	for i := 0; i < 10; i++ {
		d.Save(ctx, visit(d, i, "A", "H"))
	}
	n, err := d.Purge(ctx, t0.Add(4*time.Minute))
	left, _ := d.Visits(ctx, kiosk.VisitFilter{})
	if err != nil || n != 4 || len(left) != 6 {
		t.Fatalf("purged %d (%v), %d left", n, err, len(left))
	}
}

func TestDiskFullRefusesCleanly(t *testing.T) {
	d, _ := openTemp(t)
	ctx := context.Background()
	d.Save(ctx, visit(d, 0, "A", "H"))
	d.sql.SetMaxOpenConns(1) // the page limit is per connection
	var pages int
	d.sql.QueryRow(`PRAGMA page_count`).Scan(&pages)
	d.sql.Exec(fmt.Sprintf(`PRAGMA max_page_count = %d`, pages))
	var err error
	for i := 1; i < 200 && err == nil; i++ {
		v := visit(d, i, strings.Repeat("LONG NAME ", 50), "H")
		_, err = d.Save(ctx, v)
	}
	var se *kiosk.StoreError
	if !errors.As(err, &se) || se.Reason != "the disk is full" {
		t.Fatalf("want a disk-full ErrStorage, got %v", err)
	}
	if s, _ := d.IntegrityCheck(ctx); s != "ok" {
		t.Fatalf("integrity after a full disk: %s", s)
	}
	d.sql.Exec(`PRAGMA max_page_count = 1073741823`)
	if _, err := d.Save(ctx, visit(d, 500, "B", "H")); err != nil {
		t.Fatalf("no recovery after space came back: %v", err)
	}
}

// TestCrashLosesNoCommittedVisit runs a child that saves visits as fast as
// it can and prints each id once its transaction committed, kills it with
// SIGKILL mid-burst, and checks every printed id is in the file.
func TestCrashLosesNoCommittedVisit(t *testing.T) {
	if os.Getenv("NDIKIOSK_CRASH_DIR") != "" {
		return // the child runs crashChild from TestMain
	}
	// The data folder exists already, open to others, as an operator's
	// mkdir leaves it; the files must still be private after the crash.
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashLosesNoCommittedVisit$")
	cmd.Env = append(os.Environ(), "NDIKIOSK_CRASH_DIR="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var committed []int64
	sc := bufio.NewScanner(out)
	for sc.Scan() && len(committed) < 300 {
		id, err := strconv.ParseInt(sc.Text(), 10, 64)
		if err != nil {
			t.Fatalf("child said %q", sc.Text())
		}
		committed = append(committed, id)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	if len(committed) < 300 {
		t.Fatalf("the child committed only %d visits", len(committed))
	}
	for _, f := range []string{DBFile, DBFile + "-wal", DBFile + "-shm", KeyFile} {
		if st, err := os.Stat(filepath.Join(dir, f)); err == nil && st.Mode().Perm() != 0o600 {
			t.Fatalf("%s is %v after kill -9 in a 0755 folder", f, st.Mode().Perm())
		}
	}
	d, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if s, err := d.IntegrityCheck(context.Background()); s != "ok" || err != nil {
		t.Fatalf("integrity_check after kill -9: %s %v", s, err)
	}
	for _, id := range committed {
		var n int
		d.sql.QueryRow(`SELECT COUNT(*) FROM visits WHERE id = ?`, id).Scan(&n)
		if n != 1 {
			t.Fatalf("committed visit %d is gone after kill -9", id)
		}
	}
}

func TestMain(m *testing.M) {
	if dir := os.Getenv("NDIKIOSK_CRASH_DIR"); dir != "" {
		crashChild(dir)
		return
	}
	os.Exit(m.Run())
}

func crashChild(dir string) {
	d, err := Open(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	w := bufio.NewWriter(os.Stdout)
	for i := 0; ; i++ {
		id, err := d.Save(context.Background(), visit(d, i, "CRASH TEST", "H"))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Fprintln(w, id)
		w.Flush()
	}
}

func BenchmarkSave(b *testing.B) {
	d, _ := openTemp(b)
	ctx := context.Background()
	i := 0
	for b.Loop() {
		i++
		if _, err := d.Save(ctx, visit(d, i, "BENCH VISITOR", "H")); err != nil {
			b.Fatal(err)
		}
	}
}

// seedBulk inserts n visits in one transaction, the way a busy year of
// visits would sit in the log.
func seedBulk(tb testing.TB, d *DB, n int) {
	tx, err := d.sql.Begin()
	if err != nil {
		tb.Fatal(err)
	}
	stmt, err := tx.Prepare(`INSERT INTO visits (kiosk_id, mode, txn_ref, attributes, started_at, decided_at, outcome,
		masked_id, name, host, purpose, person_key) VALUES ('k1', 'visitor', ?, 'name,partialuinfin,mobileno', ?, ?, 'checked-in', ?, ?, 'Ms Lee', 'Meeting', ?)`)
	if err != nil {
		tb.Fatal(err)
	}
	for i := 0; i < n; i++ {
		ref := fmt.Sprintf("k1-%032d", i)
		at := t0.Add(time.Duration(i) * time.Second).UnixMilli()
		if _, err := stmt.Exec(ref, at, at+1500, d.seal("masked_id", ref, "*****567D"), d.seal("name", ref, fmt.Sprintf("VISITOR %d", i)),
			d.PersonKey(fmt.Sprintf("S%07dD", i))); err != nil {
			tb.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		tb.Fatal(err)
	}
}

func TestExportStreamsEverything(t *testing.T) {
	d, _ := openTemp(t)
	seedBulk(t, d, 1000)
	var buf bytes.Buffer
	if err := d.Export(context.Background(), &buf, kiosk.VisitFilter{}, "csv"); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(buf.String(), "\n"); n != 1001 || !strings.Contains(buf.String(), "VISITOR 999") {
		t.Fatalf("%d lines", n)
	}
}

func BenchmarkExport100k(b *testing.B) {
	d, _ := openTemp(b)
	seedBulk(b, d, 100_000)
	for b.Loop() {
		if err := d.Export(context.Background(), io.Discard, kiosk.VisitFilter{}, "csv"); err != nil {
			b.Fatal(err)
		}
	}
}

func TestSingleInstanceLock(t *testing.T) {
	dir := t.TempDir()
	release, err := Lock(dir)
	if err != nil {
		t.Fatal(err)
	}
	// A second process cannot take it (flock locks are per open file, so
	// a second open in this process stands in for another process).
	if _, err := Lock(dir); !errors.Is(err, ErrRunning) || !strings.Contains(err.Error(), fmt.Sprintf("pid %d", os.Getpid())) {
		t.Fatalf("second lock: %v", err)
	}
	release()
	release2, err := Lock(dir)
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	release2()
}
