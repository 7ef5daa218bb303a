package kiosk

import (
	"net/url"
	"strings"
	"testing"
	"time"
)

// stateOf is the state of a QR URL.
func stateOf(t *testing.T, qr string) string {
	t.Helper()
	u, err := url.Parse(qr)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("state")
}

// The state is on the screen for anyone to read, so an error callback with
// it proves nothing: the code is retired and a fresh one shown; the log
// says "unverified", never "unavailable" or "denied"; a visitor already
// in the flow is not interrupted.
func TestErrorCallbackIsNotEvidence(t *testing.T) {
	for _, code := range []string{"503", "access_denied", "server_error"} {
		t.Run(code, func(t *testing.T) {
			r := newRig(t, nil, nil)
			shown := r.qr(t)
			v := r.e.Callback(url.Values{"error": {code}, "state": {stateOf(t, shown.QR)}})
			if v.Status != 200 {
				t.Fatalf("verdict %+v", v)
			}
			now := r.waitPhase(t, PhaseQR)
			if now.QR == shown.QR {
				t.Fatal("the reported code is still on screen")
			}
			r.mu.Lock()
			seen := append([]Screen(nil), r.seen...)
			r.mu.Unlock()
			for _, s := range seen {
				if s.Phase == PhaseUnavailable || s.Phase == PhaseResult {
					t.Fatalf("an unauthenticated report showed %s %s", s.Phase, s.Outcome)
				}
			}
			r.e.Close() // the log write is finished
			vs := r.store.visits
			if len(vs) != 1 || vs[0].Outcome != OutcomeUnverified || vs[0].Reason != "reported-"+code {
				t.Fatalf("logged %+v", vs)
			}
		})
	}
	t.Run("during a visit", func(t *testing.T) {
		r := newRig(t, nil, nil)
		r.qr(t)
		older := r.e.Screen().QR
		r.clock.Add(51 * time.Second) // a new code; the older one is still good
		r.e.Step()
		current := r.waitFor(t, "a second code", func(s Screen) bool { return s.Phase == PhaseQR && s.QR != older })
		if v := r.e.Callback(url.Values{"code": {"c"}, "state": {stateOf(t, current.QR)}}); v.Status != 200 {
			t.Fatalf("scan %+v", v)
		}
		r.waitPhase(t, PhaseResult)
		if v := r.e.Callback(url.Values{"error": {"503"}, "state": {stateOf(t, older)}}); v.Status != 409 {
			t.Fatalf("an error callback during a result: %+v", v)
		}
		if s := r.e.Screen(); s.Phase != PhaseResult || s.Outcome != OutcomeEligible {
			t.Fatalf("the visitor's result was interrupted: %+v", s)
		}
	})
}

// A result stands for its minimum time: another visitor's scan meanwhile is
// asked to wait (and is not logged as a refusal); each result names the
// end of the masked id and the time it was decided.
func TestResultStandsItsMinimum(t *testing.T) {
	r := newRig(t, nil, nil)
	first := r.qr(t)
	r.clock.Add(51 * time.Second) // a second code; the first is still good
	r.e.Step()
	second := r.waitFor(t, "a second code", func(s Screen) bool { return s.Phase == PhaseQR && s.QR != first.QR })
	if v := r.e.Callback(url.Values{"code": {"a"}, "state": {stateOf(t, second.QR)}}); v.Status != 200 {
		t.Fatalf("first visitor %+v", v)
	}
	res := r.waitPhase(t, PhaseResult)
	if !strings.HasSuffix(res.MaskedID, "567D") || !res.DecidedAt.Equal(r.clock.Now()) {
		t.Fatalf("the result does not say whose it is and when: %+v", res)
	}
	r.clock.Add(2 * time.Second)
	v := r.e.Callback(url.Values{"code": {"b"}, "state": {stateOf(t, first.QR)}})
	if v.Status != 409 || !strings.Contains(v.Message, "try again in a few seconds") {
		t.Fatalf("a scan 2 s into a result: %+v", v)
	}
	if s := r.e.Screen(); s.Seq != res.Seq {
		t.Fatalf("the result was replaced: %+v", s)
	}
	r.e.Close()
	if n := len(r.store.visits); n != 1 {
		t.Fatalf("%d rows; the visitor asked to wait was logged", n)
	}
}

// While staff are at the admin screens no code is shown or honoured, and a
// code seen before is refused; Resume shows a fresh one.
func TestPauseRetiresEveryCode(t *testing.T) {
	r := newRig(t, nil, nil)
	seen := r.qr(t)
	r.e.Pause()
	if s := r.waitPhase(t, PhasePaused); s.QR != "" {
		t.Fatalf("a code on the paused screen: %+v", s)
	}
	if v := r.e.Callback(url.Values{"code": {"c"}, "state": {stateOf(t, seen.QR)}}); v.Status != 404 {
		t.Fatalf("a scan while paused: %+v", v)
	}
	r.clock.Add(5 * time.Minute)
	r.e.Step()
	r.e.Cancel()
	if s := r.e.Screen(); s.Phase != PhasePaused {
		t.Fatalf("paused kiosk moved on by itself: %+v", s)
	}
	r.e.Resume()
	if s := r.waitPhase(t, PhaseQR); s.QR == seen.QR {
		t.Fatal("Resume showed the retired code")
	}
	if r.provider.exchanges.Load() != 0 {
		t.Fatal("a paused kiosk exchanged a code")
	}
}

// Out of service (the callback server died) is for good: the unavailable
// screen with the alternative stays, and Resume does not undo it.
func TestOutOfServiceStays(t *testing.T) {
	r := newRig(t, nil, nil)
	r.qr(t)
	r.e.OutOfService()
	r.e.Pause() // staff at the PIN pad meanwhile
	r.e.Resume()
	r.clock.Add(time.Hour)
	r.e.Step()
	if s := r.e.Screen(); s.Phase != PhaseUnavailable || s.Alternative == "" || s.QR != "" {
		t.Fatalf("out of service: %+v", s)
	}
}

// Typed hosts and purposes lose control characters and the invisible
// marks that reorder text; an overlong one is refused with a message that
// says so, not "choose from the list".
func TestTypedChoicesAreCleaned(t *testing.T) {
	r := newRig(t, func(c *EngineConfig) { c.Mode, c.FreeText = ModeVisitor, true }, nil)
	r.qr(t)
	r.scan(t)
	r.waitPhase(t, PhaseConfirm)
	if err := r.e.Confirm(strings.Repeat("a", MaxChoice+1), "Meeting"); err != ErrTooLong || !strings.Contains(err.Error(), "120 characters") {
		t.Fatalf("a %d-character host: %v", MaxChoice+1, err)
	}
	if err := r.e.Confirm("Reception\u202e;=1+1\x00\r\n", "  Meet\u200fing\t"); err != nil {
		t.Fatal(err)
	}
	r.waitPhase(t, PhaseResult)
	r.e.Close()
	v := r.store.visits[0]
	if v.Host != "Reception;=1+1" || v.Purpose != "Meeting" {
		t.Fatalf("stored host %q purpose %q", v.Host, v.Purpose)
	}
}
