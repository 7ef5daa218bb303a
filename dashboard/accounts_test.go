package dashboard

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestHashPassword: the hash string carries its parameters, a wrong or
// near password does not match, and damaged or extreme strings match
// nothing instead of failing open or running away.
func TestHashPassword(t *testing.T) {
	h := HashPassword(password)
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") || strings.Contains(h, password) {
		t.Fatalf("hash %q", h)
	}
	if h == HashPassword(password) {
		t.Fatal("no salt")
	}
	if !CheckHash(h, password) || CheckHash(h, password+" ") || CheckHash(h, "") {
		t.Fatal("check")
	}
	parts := strings.Split(h, "$")
	for _, bad := range []string{"", "$", "plain", strings.Replace(h, "argon2id", "argon2i", 1), strings.Replace(h, "v=19", "v=16", 1),
		strings.Replace(h, "m=19456", "m=4294967295", 1), strings.Replace(h, "t=2", "t=0", 1), strings.Replace(h, "p=1", "p=255", 1),
		"$argon2id$v=19$" + parts[3] + "$" + parts[4] + "$", "$argon2id$v=19$" + parts[3] + "$!!$" + parts[5], h + "$x"} {
		if CheckHash(bad, password) {
			t.Errorf("%q matches", bad)
		}
	}
}

// TestAccountsHostile: names and passwords out of bounds are refused,
// duplicates too (whatever the case), and a changed password ends the
// operator's sessions.
func TestAccountsHostile(t *testing.T) {
	r := newRig(t)
	a := r.d.Accounts()
	ctx := context.Background()
	for _, name := range []string{"", "a b", "x/y", "<script>", strings.Repeat("a", MaxName+1), "tab\t", "rtl\u202e"} {
		if err := a.Add(ctx, name, Viewer, password); !errors.Is(err, ErrName) {
			t.Errorf("name %q: %v", name, err)
		}
	}
	for _, pw := range []string{"", "short", strings.Repeat("p", MaxPassword+1)} {
		if err := a.Add(ctx, "bob", Viewer, pw); !errors.Is(err, ErrPassword) {
			t.Errorf("password of %d: %v", len(pw), err)
		}
	}
	if err := a.Add(ctx, "bob", "root", password); err == nil {
		t.Error("role root accepted")
	}
	if err := a.Add(ctx, "Bob", Admin, password); err != nil {
		t.Fatal(err)
	}
	if err := a.Add(ctx, "bob", Viewer, password); !errors.Is(err, ErrExists) {
		t.Fatalf("duplicate: %v", err)
	}
	token, err := a.SignIn(ctx, "BOB", password, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if s, err := a.Session(ctx, token, true); err != nil || s.Name != "Bob" || s.Role != Admin {
		t.Fatalf("session: %+v %v", s, err)
	}
	if err := a.SetPassword(ctx, "bob", "another long password"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Session(ctx, token, true); !errors.Is(err, ErrNoSession) {
		t.Fatalf("session after a new password: %v", err)
	}
	if _, err := a.SignIn(ctx, "bob", password, "127.0.0.1"); !errors.Is(err, ErrSignIn) {
		t.Fatalf("old password: %v", err)
	}
	if err := a.Remove(ctx, "nobody"); !errors.Is(err, ErrNoSuch) {
		t.Fatalf("remove nobody: %v", err)
	}
	if err := a.Remove(ctx, "bob"); err != nil {
		t.Fatal(err)
	}
	if ops, _ := a.List(ctx); len(ops) != 0 {
		t.Fatalf("operators left: %v", ops)
	}
}

// TestTidy: expired sessions and roll calls past the retention rule are
// deleted; live ones stay.
func TestTidy(t *testing.T) {
	r := newRig(t)
	r.operator("ada", Admin)
	ctx := context.Background()
	old, _ := r.d.Accounts().SignIn(ctx, "ada", password, "127.0.0.1")
	r.db.Pool().Exec(ctx, `INSERT INTO roll_calls (site, started_at, started_by) VALUES ('HQ', $1, 'ada')`, r.clock.Now())
	r.clock.Add(31 * 24 * time.Hour)
	live, _ := r.d.Accounts().SignIn(ctx, "ada", password, "127.0.0.1")
	r.db.Pool().Exec(ctx, `INSERT INTO roll_calls (site, started_at, started_by) VALUES ('HQ', $1, 'ada')`, r.clock.Now())
	if err := r.d.tidy(ctx); err != nil {
		t.Fatal(err)
	}
	if n := r.count(`SELECT count(*) FROM operator_sessions WHERE token_hash = $1`, tokenHash(old)); n != 0 {
		t.Error("an expired session is kept")
	}
	if n := r.count(`SELECT count(*) FROM operator_sessions WHERE token_hash = $1`, tokenHash(live)); n != 1 {
		t.Error("a live session was deleted")
	}
	if n := r.count(`SELECT count(*) FROM roll_calls`); n != 1 {
		t.Errorf("%d roll calls kept, want 1", n)
	}
}
