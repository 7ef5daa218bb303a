package hub

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"ndikiosk/internal/pgtest"
	"ndikiosk/internal/seal"
	"ndikiosk/internal/testclock"
	"ndikiosk/pgstore"
)

var server *pgtest.Server

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m, &server)) }

func newRegistry(t *testing.T) (*Registry, *testclock.Clock, string) {
	t.Helper()
	ctx := context.Background()
	url, err := server.NewDatabase(ctx)
	if err != nil {
		t.Fatal(err)
	}
	db, err := pgstore.Open(ctx, url, seal.NewKey())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	clock := testclock.New(time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC))
	return NewRegistry(db.Pool(), clock.Now), clock, url
}

func TestEnrolRedeemAuthenticate(t *testing.T) {
	r, _, url := newRegistry(t)
	ctx := context.Background()
	token, err := r.Enrol(ctx, "lobby-1")
	if err != nil {
		t.Fatal(err)
	}
	id, cred, err := r.Redeem(ctx, token)
	if err != nil || id != "lobby-1" {
		t.Fatalf("redeem: %q %v", id, err)
	}
	if got, err := r.Authenticate(ctx, cred); err != nil || got != "lobby-1" {
		t.Fatalf("authenticate: %q %v", got, err)
	}
	if _, _, err := r.Redeem(ctx, token); !errors.Is(err, ErrRefused) {
		t.Fatalf("a token redeemed twice: %v", err)
	}
	for _, bad := range []string{"", token, cred + "x", strings.Replace(cred, credentialPrefix, enrolPrefix, 1)} {
		if _, err := r.Authenticate(ctx, bad); !errors.Is(err, ErrRefused) {
			t.Errorf("authenticate %q: %v", bad, err)
		}
	}
	if _, _, err := r.Redeem(ctx, cred); !errors.Is(err, ErrRefused) {
		t.Errorf("a credential redeemed as a token: %v", err)
	}
	// Only hashes are kept: a copy of the database lets no one in.
	out, err := exec.Command(server.Bin("pg_dump"), "--data-only", url).CombinedOutput()
	if err != nil {
		t.Fatalf("pg_dump: %v %s", err, out)
	}
	if !bytes.Contains(out, []byte("lobby-1")) {
		t.Fatal("the dump has no kiosk")
	}
	for _, s := range []string{token, cred, token[len(enrolPrefix):], cred[len(credentialPrefix):]} {
		if bytes.Contains(out, []byte(s)) {
			t.Errorf("the dump holds a secret: %q", s)
		}
	}
}

func TestEnrolmentExpiresAndIsReplaced(t *testing.T) {
	r, clock, _ := newRegistry(t)
	ctx := context.Background()
	old, _ := r.Enrol(ctx, "lobby-1")
	fresh, _ := r.Enrol(ctx, "lobby-1")
	if _, _, err := r.Redeem(ctx, old); !errors.Is(err, ErrRefused) {
		t.Fatalf("a token replaced by a newer one: %v", err)
	}
	clock.Add(EnrolmentLifetime + time.Second)
	if _, _, err := r.Redeem(ctx, fresh); !errors.Is(err, ErrRefused) {
		t.Fatalf("an expired token: %v", err)
	}
}

// TestRevokeCutsOffAtOnce: a stolen kiosk's credential and its unused
// token stop working with one call; enrolling it again gives a new
// credential and the old one stays dead.
func TestRevokeCutsOffAtOnce(t *testing.T) {
	r, _, _ := newRegistry(t)
	ctx := context.Background()
	token, _ := r.Enrol(ctx, "lobby-1")
	_, cred, err := r.Redeem(ctx, token)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := r.Enrol(ctx, "lobby-2")
	_, otherCred, _ := r.Redeem(ctx, other)
	pending, _ := r.Enrol(ctx, "lobby-1") // a re-enrolment under way when it is stolen
	if err := r.Revoke(ctx, "lobby-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Authenticate(ctx, cred); !errors.Is(err, ErrRefused) {
		t.Fatalf("revoked credential: %v", err)
	}
	if _, _, err := r.Redeem(ctx, pending); !errors.Is(err, ErrRefused) {
		t.Fatalf("token of a revoked kiosk: %v", err)
	}
	if live, _ := r.Live(ctx, "lobby-1"); live {
		t.Fatal("revoked kiosk is live")
	}
	if id, err := r.Authenticate(ctx, otherCred); err != nil || id != "lobby-2" {
		t.Fatalf("another kiosk cut off too: %q %v", id, err)
	}
	if err := r.Revoke(ctx, "lobby-9"); err == nil {
		t.Fatal("revoking an unknown kiosk says nothing")
	}
	again, _ := r.Enrol(ctx, "lobby-1")
	_, newCred, err := r.Redeem(ctx, again)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Authenticate(ctx, newCred); err != nil {
		t.Fatalf("re-enrolled kiosk: %v", err)
	}
	if _, err := r.Authenticate(ctx, cred); !errors.Is(err, ErrRefused) {
		t.Fatalf("the stolen credential works again after re-enrolment: %v", err)
	}
}

// TestRedeemRevokesEarlierCredentials: the kiosk that enrols last is the
// one that counts.
func TestRedeemRevokesEarlierCredentials(t *testing.T) {
	r, _, _ := newRegistry(t)
	ctx := context.Background()
	first, _ := r.Enrol(ctx, "lobby-1")
	_, cred1, _ := r.Redeem(ctx, first)
	second, _ := r.Enrol(ctx, "lobby-1")
	if _, err := r.Authenticate(ctx, cred1); err != nil {
		t.Fatalf("a pending re-enrolment cut the kiosk off early: %v", err)
	}
	_, cred2, _ := r.Redeem(ctx, second)
	if _, err := r.Authenticate(ctx, cred1); !errors.Is(err, ErrRefused) {
		t.Fatalf("old credential after re-enrolment: %v", err)
	}
	if _, err := r.Authenticate(ctx, cred2); err != nil {
		t.Fatal(err)
	}
}

func TestKioskIDs(t *testing.T) {
	for _, ok := range []string{"lobby-1", "a", "roadshow-2026-van-3"} {
		if err := CheckKioskID(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "Lobby", "-x", "a b", "lobby_1", "x/../y", strings.Repeat("a", 41), "lobby-1\n"} {
		if err := CheckKioskID(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	r, _, _ := newRegistry(t)
	if _, err := r.Enrol(context.Background(), "Lobby 1"); err == nil {
		t.Error("Enrol took a bad id")
	}
}
