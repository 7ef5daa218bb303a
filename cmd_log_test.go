package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"ndikiosk/kiosk"
	"ndikiosk/ndi"
	"ndikiosk/storage"
)

func seedLog(t *testing.T) (string, []int64) {
	dir := t.TempDir()
	db, err := storage.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var ids []int64
	for i, day := range []string{"2026-11-20", "2026-11-21", "2026-11-22"} {
		start, _ := time.ParseInLocation("2006-01-02 15:04", day+" 23:30", ndi.SGT)
		id, err := db.Save(context.Background(), kiosk.Visit{KioskID: "k1", Mode: kiosk.ModeVisitor, TxnRef: "k1-" + day,
			Attributes: []string{"name", "partialuinfin"}, StartedAt: start, DecidedAt: start.Add(time.Second),
			Outcome: kiosk.OutcomeCheckedIn, MaskedID: "*****567D", Name: []string{"=HYPERLINK(1)", "ALICE", "BOB, JR"}[i],
			Host: "Ms Lee", Purpose: "Meeting", PersonKey: db.PersonKey("S1234567D")})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return dir, ids
}

func TestExport(t *testing.T) {
	dir, _ := seedLog(t)
	code, out, errs := runCLI("export", "--data-dir", dir, "--from", "2026-11-21", "--to", "2026-11-22")
	if code != 0 {
		t.Fatalf("export: %d %s", code, errs)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(rows) != 3 {
		t.Fatalf("csv %d rows %v:\n%s", len(rows), err, out)
	}
	if rows[0][0] != "id" || rows[1][11] != "ALICE" || rows[2][11] != "BOB, JR" || rows[1][5] != "2026-11-21T23:30:00+08:00" || rows[1][10] != "*****567D" {
		t.Fatalf("rows %q", rows)
	}
	code, out, _ = runCLI("export", "--data-dir", dir, "--format", "json", "--to", "2026-11-20")
	var visits []map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &visits) != nil || len(visits) != 1 || visits[0]["name"] != "=HYPERLINK(1)" {
		t.Fatalf("json export: %d %s", code, out)
	}
	if strings.Contains(out, "person_key") || strings.Contains(out, "S1234567D") {
		t.Fatal("the export carries the person key or a full id")
	}
	_, out, _ = runCLI("export", "--data-dir", dir, "--to", "2026-11-20")
	if rows, _ := csv.NewReader(strings.NewReader(out)).ReadAll(); len(rows) != 2 || rows[1][11] != "'=HYPERLINK(1)" {
		t.Fatalf("a formula-like name is not neutralised in CSV: %q", out)
	}
	if code, _, errs := runCLI("export", "--data-dir", dir, "--from", "21/11/2026"); code != 1 || !strings.Contains(errs, "not a date") {
		t.Fatalf("bad date: %d %s", code, errs)
	}
	if code, _, _ := runCLI("export", "--data-dir", dir, "--format", "xml"); code != 1 {
		t.Fatal("xml accepted")
	}
}

func TestDenyAndAllow(t *testing.T) {
	dir, ids := seedLog(t)
	code, out, errs := runCLI("deny", "--data-dir", dir, "--visit", "2", "--note", "abusive")
	if code != 0 || !strings.Contains(out, "denied: the person of visit 2 (*****567D)") {
		t.Fatalf("deny: %d %s %s", code, out, errs)
	}
	db, _ := storage.Open(dir)
	denied, _ := db.Denied(context.Background(), db.PersonKey("S1234567D"))
	db.Close()
	if !denied {
		t.Fatal("not on the deny list")
	}
	if code, _, _ := runCLI("allow", "--data-dir", dir, "--visit", "3"); code != 0 {
		t.Fatal("allow failed")
	}
	db, _ = storage.Open(dir)
	denied, _ = db.Denied(context.Background(), db.PersonKey("S1234567D"))
	db.Close()
	if denied || len(ids) != 3 {
		t.Fatal("still denied")
	}
	if code, _, errs := runCLI("deny", "--data-dir", dir, "--visit", "99"); code != 1 || !strings.Contains(errs, "not found") {
		t.Fatalf("unknown visit: %d %s", code, errs)
	}
	if code, _, _ := runCLI("deny", "--data-dir", dir); code != 2 {
		t.Fatal("missing --visit is not a usage error")
	}
}
