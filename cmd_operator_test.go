package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ndikiosk/config"
	"ndikiosk/dashboard"
	"ndikiosk/internal/seal"
	"ndikiosk/pgstore"
)

// TestHubOperatorCommands: `hub operator add|list|passwd|remove` on a
// real PostgreSQL: the password comes from stdin or a file, bad names,
// roles and passwords are refused with the reason, and only an argon2id
// hash is stored.
func TestHubOperatorCommands(t *testing.T) {
	ctx := context.Background()
	database := hubPG.Database(t)
	dir := t.TempDir()
	key := seal.NewKey()
	if err := os.WriteFile(filepath.Join(dir, config.HubKeyFile), key, 0o600); err != nil {
		t.Fatal(err)
	}
	op := func(stdin string, args ...string) (string, string, error) {
		var out, errs bytes.Buffer
		args = append(args, "--database", database, "--data-dir", dir)
		err := runHubOperator(args, strings.NewReader(stdin), &out, &errs)
		return out.String(), errs.String(), err
	}
	const pw = "a long enough password"
	if out, _, err := op(pw+"\n", "add", "--name", "ada", "--role", "admin"); err != nil || !strings.Contains(out, "Operator ada added (admin)") {
		t.Fatalf("add: %v %s", err, out)
	}
	file := filepath.Join(dir, "pw")
	os.WriteFile(file, []byte("another good password\n"), 0o600)
	if _, _, err := op("", "add", "--name", "viv", "--password-file", file); err != nil {
		t.Fatalf("add from a file: %v", err)
	}
	for _, tc := range []struct {
		stdin string
		args  []string
		want  string
	}{
		{pw, []string{"add", "--name", "ada"}, "exists already"},
		{pw, []string{"add", "--name", "a b"}, "letters, digits"},
		{pw, []string{"add", "--name", "eve", "--role", "root"}, "use viewer or admin"},
		{"short\n", []string{"add", "--name", "eve"}, "12–256 characters"},
		{"", []string{"add", "--name", "eve"}, "no password given"},
		{pw, []string{"remove", "--name", "nobody"}, "no operator of that name"},
		{pw, []string{"add", "--name", "eve", "--password-file", filepath.Join(dir, "missing")}, "no such file"},
	} {
		_, _, err := op(tc.stdin, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.args, err, tc.want)
		}
	}
	if _, _, err := op("", "add"); err != errUsage {
		t.Errorf("add without --name: %v", err)
	}
	if _, _, err := op("", "frobnicate"); err != errUsage {
		t.Errorf("unknown subcommand: %v", err)
	}
	out, _, err := op("", "list")
	if err != nil || !strings.Contains(out, "ada") || !strings.Contains(out, "admin") || !strings.Contains(out, "viv") || strings.Contains(out, "eve") {
		t.Fatalf("list: %v\n%s", err, out)
	}
	db, err := pgstore.Open(ctx, database, key)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var hash string
	db.Pool().QueryRow(ctx, `SELECT password_hash FROM operators WHERE name = 'ada'`).Scan(&hash)
	if !strings.HasPrefix(hash, "$argon2id$") || !dashboard.CheckHash(hash, pw) {
		t.Fatalf("stored hash %q", hash)
	}
	if _, _, err := op("yet another password\n", "passwd", "--name", "ada"); err != nil {
		t.Fatal(err)
	}
	db.Pool().QueryRow(ctx, `SELECT password_hash FROM operators WHERE name = 'ada'`).Scan(&hash)
	if dashboard.CheckHash(hash, pw) || !dashboard.CheckHash(hash, "yet another password") {
		t.Fatal("passwd did not change the password")
	}
	if _, _, err := op("", "remove", "--name", "ADA"); err != nil {
		t.Fatal(err)
	}
	if _, out, _ := op("", "list"); strings.Contains(out, "ada") {
		t.Fatalf("ada still listed:\n%s", out)
	}
}
