package dashboard

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"
)

// TestSignInChecksBounded: each password check holds argon2id's 19 MiB, so
// a flood of sign-ins (all let past the lockout before any failure is
// counted) must not run them all at once. With every slot taken, a sign-in
// waits and then answers busy, counting no failure (a flood cannot lock
// out a name); once a slot frees, it goes through.
func TestSignInChecksBounded(t *testing.T) {
	r := newRig(t)
	r.operator("alice", Admin)
	a := r.d.Accounts()
	for range cap(a.checks) {
		a.checks <- struct{}{}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := a.SignIn(ctx, "alice", "wrong password!", "192.0.2.1"); !errors.Is(err, ErrBusy) {
		t.Fatalf("sign-in with every check slot taken: %v, want ErrBusy", err)
	}
	if n := r.count(`SELECT count(*) FROM signin_failures`); n != 0 {
		t.Fatalf("a refused-as-busy sign-in counted %d failures", n)
	}
	// A sign-in waiting for a slot goes through once one frees.
	go func() {
		time.Sleep(50 * time.Millisecond)
		for range cap(a.checks) {
			<-a.checks
		}
	}()
	if resp, _ := r.client().signIn("alice", password); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in once a slot freed: HTTP %d", resp.StatusCode)
	}
}
