package pgstore

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"ndikiosk/internal/pgtest"
	"ndikiosk/internal/seal"
	"ndikiosk/kiosk"
	"ndikiosk/storage"
)

var server *pgtest.Server

// TestMain starts one real PostgreSQL server for the package; every test
// gets a database of its own on it.
func TestMain(m *testing.M) { os.Exit(pgtest.Main(m, &server)) }

func newDB(t *testing.T) (*DB, string, []byte) {
	t.Helper()
	ctx := context.Background()
	url, err := server.NewDatabase(ctx)
	if err != nil {
		t.Fatal(err)
	}
	key := seal.NewKey()
	d, err := Open(ctx, url, key)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	return d, url, key
}

var t0 = time.Date(2026, 12, 3, 9, 0, 0, 0, kiosk.SGT)

func visit(d *DB, i int, name, uin string) kiosk.Visit {
	return kiosk.Visit{KioskID: "lobby-1", Mode: kiosk.ModeVisitor, TxnRef: fmt.Sprintf("txn-%d", i), Attributes: []string{"name", "uinfin"},
		StartedAt: t0.Add(time.Duration(i) * time.Minute), DecidedAt: t0.Add(time.Duration(i)*time.Minute + time.Second),
		Outcome: kiosk.OutcomeCheckedIn, MaskedID: "*****" + uin[5:], Name: name, Host: "Reception", Purpose: "Meeting",
		PersonKey: d.PersonKey(uin)}
}

func TestSaveReadCheckOutDeny(t *testing.T) {
	d, _, _ := newDB(t)
	ctx := context.Background()
	v := visit(d, 1, "TAN AH KOW", "S1234567D")
	id, err := d.Save(ctx, v)
	if err != nil {
		t.Fatal(err)
	}
	got, err := d.Visit(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	v.ID = id
	if !got.StartedAt.Equal(v.StartedAt) || !got.DecidedAt.Equal(v.DecidedAt) {
		t.Fatalf("times: %v %v", got.StartedAt, got.DecidedAt)
	}
	got.StartedAt, got.DecidedAt = v.StartedAt, v.DecidedAt
	if fmt.Sprint(got) != fmt.Sprint(v) {
		t.Fatalf("read back\n%+v\nsaved\n%+v", got, v)
	}
	open, err := d.OpenVisit(ctx, d.PersonKey("s1234567d"), t0)
	if err != nil || open.ID != id {
		t.Fatalf("open visit: %v %v", open.ID, err)
	}
	if err := d.CheckOut(ctx, id, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := d.CheckOut(ctx, id, t0.Add(2*time.Hour)); !errors.Is(err, kiosk.ErrNotFound) {
		t.Fatalf("second check-out: %v", err)
	}
	if _, err := d.OpenVisit(ctx, v.PersonKey, t0); !errors.Is(err, kiosk.ErrNotFound) {
		t.Fatalf("open visit after check-out: %v", err)
	}
	if denied, err := d.Denied(ctx, v.PersonKey); err != nil || denied {
		t.Fatalf("denied before: %v %v", denied, err)
	}
	masked, err := d.DenyVisitor(ctx, id, true, "shouted at staff", t0)
	if err != nil || masked != "*****567D" {
		t.Fatalf("deny: %q %v", masked, err)
	}
	if denied, _ := d.Denied(ctx, d.PersonKey("S1234567D")); !denied {
		t.Fatal("not denied after deny")
	}
	if _, err := d.DenyVisitor(ctx, id, false, "", t0); err != nil {
		t.Fatal(err)
	}
	if denied, _ := d.Denied(ctx, v.PersonKey); denied {
		t.Fatal("still denied after allow")
	}
}

func TestSearchPagingAndPurge(t *testing.T) {
	d, _, _ := newDB(t)
	ctx := context.Background()
	names := []string{"TAN AH KOW", "LIM BEE LING", "TAN MEI", "ONG 100%_X"}
	for i, n := range names {
		v := visit(d, i, n, fmt.Sprintf("S000000%dA", i))
		if i == 3 {
			v.Host = "100%_Lab"
		}
		if _, err := d.Save(ctx, v); err != nil {
			t.Fatal(err)
		}
	}
	list := func(f kiosk.VisitFilter) []string {
		t.Helper()
		vs, err := d.Visits(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, v := range vs {
			out = append(out, v.Name)
		}
		return out
	}
	if got := list(kiosk.VisitFilter{}); strings.Join(got, ",") != "ONG 100%_X,TAN MEI,LIM BEE LING,TAN AH KOW" {
		t.Fatalf("newest first: %v", got)
	}
	if got := list(kiosk.VisitFilter{Name: "tan", Limit: 1, Offset: 1}); strings.Join(got, ",") != "TAN AH KOW" {
		t.Fatalf("name filter page 2: %v", got)
	}
	if got := list(kiosk.VisitFilter{Host: "%_"}); strings.Join(got, ",") != "ONG 100%_X" {
		t.Fatalf("host filter with LIKE characters: %v", got)
	}
	if got := list(kiosk.VisitFilter{Limit: 2, Offset: 1}); strings.Join(got, ",") != "TAN MEI,LIM BEE LING" {
		t.Fatalf("paging: %v", got)
	}
	if got := list(kiosk.VisitFilter{From: t0.Add(time.Minute), To: t0.Add(3 * time.Minute)}); strings.Join(got, ",") != "TAN MEI,LIM BEE LING" {
		t.Fatalf("period: %v", got)
	}
	n, err := d.Purge(ctx, t0.Add(2*time.Minute))
	if err != nil || n != 2 {
		t.Fatalf("purge: %d %v", n, err)
	}
	if got := list(kiosk.VisitFilter{}); len(got) != 2 {
		t.Fatalf("after purge: %v", got)
	}
}

// TestKeyCheck: the database knows its key. Another key is refused before
// anything is written; the right key opens it again, migrations once.
func TestKeyCheck(t *testing.T) {
	d, url, key := newDB(t)
	ctx := context.Background()
	if _, err := d.Save(ctx, visit(d, 1, "TAN AH KOW", "S1234567D")); err != nil {
		t.Fatal(err)
	}
	d.Close()
	if _, err := Open(ctx, url, seal.NewKey()); err == nil || !strings.Contains(err.Error(), "not the key of this database") {
		t.Fatalf("another key: %v", err)
	}
	again, err := Open(ctx, url, key)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	vs, err := again.Visits(ctx, kiosk.VisitFilter{})
	if err != nil || len(vs) != 1 || vs[0].Name != "TAN AH KOW" {
		t.Fatalf("reopened: %v %v", vs, err)
	}
	applied, err := again.Applied(ctx)
	if err != nil || fmt.Sprint(applied) != fmt.Sprint(Versions()) {
		t.Fatalf("migrations applied %v, known %v (%v)", applied, Versions(), err)
	}
	if _, err := again.Pool().Exec(ctx, `DELETE FROM key_check`); err != nil {
		t.Fatal(err)
	}
	again.Close()
	if _, err := Open(ctx, url, seal.NewKey()); err == nil || !strings.Contains(err.Error(), "no key check value") {
		t.Fatalf("visits without a key check value, new key: %v", err)
	}
}

// TestReplicasStartTogether: two hubs opening one new database at once
// both succeed, and the schema is migrated once.
func TestReplicasStartTogether(t *testing.T) {
	ctx := context.Background()
	url, err := server.NewDatabase(ctx)
	if err != nil {
		t.Fatal(err)
	}
	key := seal.NewKey()
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			d, err := Open(ctx, url, key)
			errs[i] = err
			if err == nil {
				d.Close()
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("replica %d: %v", i, err)
		}
	}
}

// TestNothingPersonalInADump: pg_dump of the whole database holds no
// name, masked id or UIN/FIN in the clear, in visits, invitations or
// walk-ins.
func TestNothingPersonalInADump(t *testing.T) {
	d, url, _ := newDB(t)
	ctx := context.Background()
	people := map[string]string{"S1234567D": "TAN AH KOW", "F7654321N": "ZHANG WEI", "T0312345Z": "RAJ KUMAR"}
	i := 0
	for uin, name := range people {
		i++
		v := visit(d, i, name, uin)
		if _, err := d.Save(ctx, v); err != nil {
			t.Fatal(err)
		}
		if err := d.Deny(ctx, v.PersonKey, "", t0); err != nil {
			t.Fatal(err)
		}
	}
	// Staff's records name people too: an invitation (with a note naming
	// them) and a walk-in.
	if _, err := d.Invite(ctx, Invitation{Site: "HQ", Day: t0, Name: "SUBRAMANIAM PILLAI", Host: "Ms Lee",
		Note: "SUBRAMANIAM brings HARIHARAN"}, t0); err != nil {
		t.Fatal(err)
	}
	if _, err := d.WalkIn(ctx, "HQ", "VELUPILLAI HARIHARAN", "Ms Lee", "Delivery", t0); err != nil {
		t.Fatal(err)
	}
	people["G0000000X"] = "SUBRAMANIAM PILLAI VELUPILLAI HARIHARAN"
	out, err := exec.Command(server.Bin("pg_dump"), "--data-only", url).CombinedOutput()
	if err != nil {
		t.Fatalf("pg_dump: %v\n%s", err, out)
	}
	if !bytes.Contains(out, []byte("lobby-1")) {
		t.Fatal("the dump has no visits at all")
	}
	for uin, name := range people {
		// The name's words of five letters or more: shorter ones ("TAN")
		// turn up in any upper-cased dump.
		words := []string{uin, uin[5:], name}
		for _, w := range strings.Fields(name) {
			if len(w) >= 5 {
				words = append(words, w)
			}
		}
		for _, s := range words {
			// bytea columns dump as hex: look for that too.
			if bytes.Contains(bytes.ToUpper(out), []byte(s)) || bytes.Contains(out, []byte(hex.EncodeToString([]byte(s)))) {
				t.Errorf("the dump shows %q", s)
			}
		}
	}
}

// TestExportMatchesTheKiosks: the same visits export byte for byte the
// same from PostgreSQL as from a kiosk's SQLite log, in CSV and JSON.
func TestExportMatchesTheKiosks(t *testing.T) {
	d, _, _ := newDB(t)
	lite, err := storage.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer lite.Close()
	ctx := context.Background()
	for i, name := range []string{"TAN AH KOW", "=HYPERLINK(\"x\")", "LIM \u202eBEE"} {
		v := visit(d, i, name, fmt.Sprintf("S000000%dA", i))
		v.Purpose = "+65 6123 4567"
		if i == 1 {
			v.CheckedOutAt = v.DecidedAt.Add(time.Hour)
			v.FaceResult, v.FaceScore = "match", 0.931
		}
		v.ID = 0
		if _, err := d.Save(ctx, v); err != nil {
			t.Fatal(err)
		}
		if _, err := lite.Save(ctx, v); err != nil {
			t.Fatal(err)
		}
	}
	for _, format := range []string{"csv", "json"} {
		var pg, sq bytes.Buffer
		if err := d.Export(ctx, &pg, kiosk.VisitFilter{}, format); err != nil {
			t.Fatal(err)
		}
		if err := lite.Export(ctx, &sq, kiosk.VisitFilter{}, format); err != nil {
			t.Fatal(err)
		}
		if pg.String() != sq.String() || pg.Len() < 200 {
			t.Errorf("%s export differs:\nPostgreSQL:\n%s\nSQLite:\n%s", format, pg.String(), sq.String())
		}
	}
}

// TestUnreachableDatabase: a hub pointed at a closed port gets a
// StoreError that says so, not a driver's message; the URL's password is
// not repeated.
func TestUnreachableDatabase(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := Open(ctx, "postgres://hub:s3cret@127.0.0.1:1/ndikiosk?sslmode=disable&connect_timeout=2", seal.NewKey())
	var se *kiosk.StoreError
	if !errors.As(err, &se) || !strings.Contains(se.Reason, "unreachable") || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("closed port: %v", err)
	}
	if _, err := Open(ctx, "postgres://hub:s3cret@[::1", seal.NewKey()); err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("bad URL: %v", err)
	}
}

// TestNewerSchemaRefused: a hub binary older than the database's schema
// stops instead of writing into tables it does not know.
func TestNewerSchemaRefused(t *testing.T) {
	d, url, key := newDB(t)
	ctx := context.Background()
	newer := Versions()[len(Versions())-1] + 1
	if _, err := d.Pool().Exec(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES ($1, now())`, newer); err != nil {
		t.Fatal(err)
	}
	d.Close()
	if _, err := Open(ctx, url, key); err == nil || !strings.Contains(err.Error(), "newer than this ndikiosk knows") {
		t.Fatalf("a newer schema: %v", err)
	}
}
