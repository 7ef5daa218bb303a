package kiosk

import (
	"context"
	"testing"
	"time"

	"ndikiosk/ndi"
)

// result scans the code on screen and waits for the decision.
func (r *rig) result(t *testing.T) Screen {
	t.Helper()
	r.qr(t)
	if v := r.scan(t); v.Status != 200 {
		t.Fatalf("callback %+v", v)
	}
	return r.waitFor(t, "on a result", func(s Screen) bool { return s.Phase == PhaseResult || s.Phase == PhaseUnavailable })
}

// TestDismissAfterResultMin: a tap closes a result once door staff have
// had its minimum time to read it; a tap before that brings the close
// forward to then. Nothing else is closed by a tap.
func TestDismissAfterResultMin(t *testing.T) {
	r := newRig(t, nil, nil)
	r.qr(t)
	qr := r.e.Screen()
	r.e.Dismiss() // nothing to dismiss on the code screen
	if s := r.e.Screen(); s.Seq != qr.Seq {
		t.Fatalf("Dismiss changed the code screen: %+v", s)
	}
	s := r.result(t)
	decided := s.DecidedAt
	if s.Outcome != OutcomeEligible || !s.Until.Equal(decided.Add(10*time.Second)) {
		t.Fatalf("result %+v", s)
	}
	r.clock.Add(time.Second)
	r.e.Dismiss()
	s = r.e.Screen()
	if s.Phase != PhaseResult || !s.Until.Equal(decided.Add(4*time.Second)) || !s.DecidedAt.Equal(decided) {
		t.Fatalf("dismissed before result_min: %+v", s)
	}
	r.clock.Add(3 * time.Second)
	r.e.Step()
	r.waitPhase(t, PhaseQR)

	s = r.result(t)
	r.clock.Add(4 * time.Second)
	r.e.Dismiss()
	if s := r.waitPhase(t, PhaseQR); s.QR == "" {
		t.Fatalf("after a tap: %+v", s)
	}

	r.e.OutOfService()
	r.e.Dismiss()
	if s := r.e.Screen(); s.Phase != PhaseUnavailable {
		t.Fatalf("a tap closed the out-of-service screen: %+v", s)
	}
}

// visitorRig is a visitor-mode engine whose store may be gated.
func visitorRig(t *testing.T, setup func(*fakeProvider, *memStore)) *rig {
	return newRig(t, func(c *EngineConfig) { c.Mode = ModeVisitor }, setup)
}

// checkIn registers the adult as a visitor.
func (r *rig) checkIn(t *testing.T) {
	t.Helper()
	r.qr(t)
	r.scan(t)
	r.waitPhase(t, PhaseConfirm)
	if err := r.e.Confirm("Ms Lee", "Meeting"); err != nil {
		t.Fatal(err)
	}
	r.waitFor(t, "checked in", func(s Screen) bool { return s.Outcome == OutcomeCheckedIn })
	r.e.Cancel()
}

// askCheckOut scans a checked-in visitor's code and waits for the question.
func (r *rig) askCheckOut(t *testing.T) Screen {
	t.Helper()
	r.qr(t)
	if v := r.scan(t); v.Status != 200 {
		t.Fatalf("callback %+v", v)
	}
	return r.waitPhase(t, PhaseCheckOut)
}

// TestCheckOutIsAsked: a visitor checked in today who scans again is
// asked; no, or no answer, changes nothing; yes checks out.
func TestCheckOutIsAsked(t *testing.T) {
	r := visitorRig(t, nil)
	r.checkIn(t)
	r.clock.Add(time.Hour)
	s := r.askCheckOut(t)
	if s.Name != "TAN AH KOW" || s.MaskedID != adult().MaskedID() || !s.Until.Equal(r.clock.Now().Add(time.Minute)) {
		t.Fatalf("question %+v", s)
	}
	// Another visitor must wait: the question is someone's.
	r.clock.Add(5 * time.Second)
	if v := r.e.Callback(forged); v.Status != 404 {
		t.Fatalf("forged callback during the question: %+v", v)
	}
	r.e.Dismiss() // a tap elsewhere is no answer
	if s := r.e.Screen(); s.Phase != PhaseCheckOut {
		t.Fatalf("Dismiss closed the question: %+v", s)
	}
	r.e.CheckOut(false)
	r.waitPhase(t, PhaseQR)
	r.e.CheckOut(true) // too late: nothing to answer
	if vs := r.store.saved(); len(vs) != 1 || !vs[0].CheckedOutAt.IsZero() {
		t.Fatalf("after no: %+v", vs)
	}

	r.askCheckOut(t)
	r.clock.Add(time.Minute)
	r.e.Step()
	r.waitPhase(t, PhaseQR)
	if vs := r.store.saved(); len(vs) != 1 || !vs[0].CheckedOutAt.IsZero() {
		t.Fatalf("after no answer: %+v", vs)
	}

	r.askCheckOut(t)
	r.e.CheckOut(true)
	s = r.waitFor(t, "checked out", func(s Screen) bool { return s.Outcome == OutcomeCheckedOut })
	if s.Name != "TAN AH KOW" || s.MaskedID != adult().MaskedID() {
		t.Fatalf("goodbye %+v", s)
	}
	if vs := r.store.saved(); len(vs) != 1 || !vs[0].CheckedOutAt.Equal(r.clock.Now()) {
		t.Fatalf("after yes: %+v", vs)
	}
	r.e.Cancel()
	if s := r.result2(t); s.Phase != PhaseConfirm {
		t.Fatalf("the scan after checking out: %+v", s)
	}
}

// result2 scans and waits for the engine to leave the checking screen.
func (r *rig) result2(t *testing.T) Screen {
	t.Helper()
	r.qr(t)
	r.scan(t)
	return r.waitFor(t, "decided", func(s Screen) bool { return s.Phase != PhaseChecking && s.Phase != PhaseQR })
}

// TestCheckOutWritesOffTheLock: the answer is written to the log without
// the engine's lock, and a cancel meanwhile drops the goodbye.
func TestCheckOutWritesOffTheLock(t *testing.T) {
	var g *gate
	r := visitorRig(t, func(_ *fakeProvider, s *memStore) {
		g = newGate("CheckOut")
		s.hook = g.hook
	})
	r.checkIn(t)
	r.askCheckOut(t)
	done := make(chan struct{})
	go func() { defer close(done); r.e.CheckOut(true) }()
	g.waitEntered(t)
	within(t, "Screen during the check-out write", func() { r.e.Screen() })
	within(t, "Cancel during the check-out write", r.e.Cancel)
	g.release()
	<-done
	if s := r.e.Screen(); s.Phase != PhaseQR {
		t.Fatalf("a cancelled check-out still said goodbye: %+v", s)
	}
}

// TestOperatorWording: every result carries the venue's contact and
// alternative, by language, as configured; the engine's own message says
// them in English, with the English defaults when the venue named none.
func TestOperatorWording(t *testing.T) {
	local := map[string]Wording{"zh": {Contact: "前台", Alternative: "请到柜台。"}}
	r := newRig(t, func(c *EngineConfig) {
		c.Contact, c.Alternative, c.Local = "", "", local
	}, func(p *fakeProvider, _ *memStore) {
		p.exchange = func(context.Context) (*ndi.Person, error) { return nil, ndi.ErrUnavailable }
	})
	local["zh"] = Wording{Contact: "changed afterwards"}
	s := r.result(t)
	if s.Phase != PhaseUnavailable || s.Contact != "" || s.Alternative != "" || s.Local["zh"].Contact != "前台" {
		t.Fatalf("unavailable %+v", s)
	}
	want := "We are unable to validate your identity through Verify. Please contact " + DefaultContact +
		" if you require additional assistance.\n" + DefaultAlternative
	if s.Message != want {
		t.Fatalf("message %q", s.Message)
	}
}
