package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"ndikiosk/config"
	"ndikiosk/internal/seal"
	"ndikiosk/pgstore"
)

// TestHubNotifyDeadAndReplay: `hub notify dead` lists the dead letters of
// a hub's log without the visitor's name; `hub notify replay` queues one,
// or all, again; hostile arguments get a clear refusal.
func TestHubNotifyDeadAndReplay(t *testing.T) {
	ctx := context.Background()
	database := hubPG.Database(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "hub.toml")
	os.WriteFile(path, []byte(fmt.Sprintf("sandbox = true\n[kiosk]\ndata_dir = %q\n[hub]\ndatabase = %q\n", filepath.Join(dir, "data"), database)), 0o600)
	key := seal.NewKey()
	os.MkdirAll(filepath.Join(dir, "data"), 0o700)
	os.WriteFile(filepath.Join(dir, "data", config.HubKeyFile), key, 0o600)
	db, err := pgstore.Open(ctx, database, key)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var visits []int64
	for i := range 2 {
		id, err := db.WalkIn(ctx, "Tower A", "SECRETNAME "+strconv.Itoa(i), "Ms Tan", "", time.Now())
		if err != nil {
			t.Fatal(err)
		}
		visits = append(visits, id)
	}
	if _, err := db.Pool().Exec(ctx, `UPDATE notify_outbox SET state = 'dead', attempts = 8, done_at = now(),
		last_error = 'delivery: webhook refused it (400)' WHERE channel = 'webhook'`); err != nil {
		t.Fatal(err)
	}
	var rows []int64
	r, _ := db.Pool().Query(ctx, `SELECT id FROM notify_outbox WHERE state = 'dead' ORDER BY id`)
	for r.Next() {
		var id int64
		r.Scan(&id)
		rows = append(rows, id)
	}
	r.Close()

	code, out, errs := runCLI("hub", "notify", "dead", "--config", path)
	if code != 0 || !strings.Contains(out, "2 dead letter(s)") || !strings.Contains(out, "webhook refused it (400)") ||
		!strings.Contains(out, strconv.FormatInt(visits[0], 10)) {
		t.Fatalf("dead: exit %d\n%s%s", code, out, errs)
	}
	if strings.Contains(out, "SECRETNAME") {
		t.Fatal("the dead letter list shows a visitor's name")
	}
	for _, bad := range [][]string{
		{"hub", "notify", "replay", "--config", path},                         // neither
		{"hub", "notify", "replay", "1", "--all", "--config", path},           // both
		{"hub", "notify", "replay", "-5", "--config", path},                   // a flag that is no flag
		{"hub", "notify", "replay", "1; DROP TABLE visits", "--config", path}, // not a number
		{"hub", "notify", "replay", "--config", path, "1", "2"},               // two ids
		{"hub", "notify", "resend", "--config", path},                         // unknown
		{"hub", "notify", "dead", "--limit", "-1", "--config", path},          // negative
	} {
		if code, out, errs := runCLI(bad...); code == 0 {
			t.Errorf("%q: exit 0\n%s%s", bad, out, errs)
		}
	}
	if code, _, errs := runCLI("hub", "notify", "replay", "999999", "--config", path); code == 0 || !strings.Contains(errs, "no dead letter 999999") {
		t.Fatalf("unknown id: exit %d %s", code, errs)
	}
	code, out, errs = runCLI("hub", "notify", "replay", strconv.FormatInt(rows[0], 10), "--config", path)
	if code != 0 || !strings.Contains(out, "queued again") {
		t.Fatalf("replay: exit %d\n%s%s", code, out, errs)
	}
	state := func(id int64) (s string) {
		db.Pool().QueryRow(ctx, `SELECT state FROM notify_outbox WHERE id = $1`, id).Scan(&s)
		return s
	}
	if state(rows[0]) != "pending" || state(rows[1]) != "dead" {
		t.Fatalf("after replaying one: %s, %s", state(rows[0]), state(rows[1]))
	}
	code, out, errs = runCLI("hub", "notify", "replay", "--all", "--config", path)
	if code != 0 || !strings.Contains(out, "1 dead letter(s) queued again") || state(rows[1]) != "pending" {
		t.Fatalf("replay --all: exit %d\n%s%s", code, out, errs)
	}
	code, out, _ = runCLI("hub", "notify", "dead", "--config", path)
	if code != 0 || !strings.Contains(out, "No dead letters") {
		t.Fatalf("after replay: %s", out)
	}
}
