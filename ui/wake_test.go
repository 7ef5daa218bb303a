package ui

import (
	"testing"
	"time"

	"ndikiosk/kiosk"
)

// The countdown bar takes countdownSteps steps over a code's display time,
// and the UI's timer wakes once per step, just after it: no wake-up in
// between, none once the code is due.
func TestCountdownWakesOncePerStep(t *testing.T) {
	s := kiosk.Screen{Phase: kiosk.PhaseQR, QRStart: epoch, NextQR: epoch.Add(110 * time.Second)}
	step := 110 * time.Second / countdownSteps
	now := epoch
	var wakes int
	for {
		d, ok := wakeAfter(s, now, time.Time{})
		if !ok {
			break
		}
		if d < wakeLate || d > step+wakeLate {
			t.Fatalf("at %v the next wake is in %v, outside (0, one step of %v]", now.Sub(epoch), d, step)
		}
		before, _ := countdownShare(s, now)
		now = now.Add(d)
		after, _ := countdownShare(s, now)
		if after >= before {
			t.Fatalf("woken at %v for nothing: the bar stays at %.2f", now.Sub(epoch), after)
		}
		if wakes++; wakes > countdownSteps {
			t.Fatalf("more than %d wake-ups for one code", countdownSteps)
		}
	}
	if v, _ := countdownShare(s, now); v != 0 || wakes != countdownSteps {
		t.Fatalf("%d wake-ups, the bar ends at %.2f", wakes, v)
	}
	// A fresh code shows a full bar, halfway half of it.
	if v, _ := countdownShare(s, epoch); v != 1 {
		t.Fatalf("a fresh code shows %.2f", v)
	}
	if v, _ := countdownShare(s, epoch.Add(55*time.Second)); v != 0.5 {
		t.Fatalf("halfway, the bar shows %.2f", v)
	}
}

// Only screens that change with time wake the UI: not the result, the
// checking or the paused screens, and not a Face retry.
func TestNothingWakesWhenNothingChanges(t *testing.T) {
	for _, s := range []kiosk.Screen{
		{Phase: kiosk.PhaseChecking},
		{Phase: kiosk.PhaseResult},
		{Phase: kiosk.PhasePaused},
		{Phase: kiosk.PhaseConfirm},
		{Phase: kiosk.PhaseFace, FaceRetry: true, Until: epoch.Add(time.Minute)},
		{Phase: kiosk.PhaseFace, Until: epoch.Add(-time.Second)},
	} {
		if d, ok := wakeAfter(s, epoch, time.Time{}); ok {
			t.Errorf("%v wakes the UI after %v", s.Phase, d)
		}
	}
}

// The Face countdown wakes on each whole second it shows; open admin
// screens wake the UI when they are due to close, whichever is first.
func TestFaceAndAdminWakes(t *testing.T) {
	face := kiosk.Screen{Phase: kiosk.PhaseFace, Until: epoch.Add(20*time.Second + 300*time.Millisecond)}
	if d, ok := wakeAfter(face, epoch, time.Time{}); !ok || d != 300*time.Millisecond+wakeLate {
		t.Fatalf("Face countdown wakes after %v (%v)", d, ok)
	}
	closeAt := epoch.Add(2 * time.Minute)
	if d, ok := wakeAfter(kiosk.Screen{Phase: kiosk.PhasePaused}, epoch, closeAt); !ok || d != 2*time.Minute+wakeLate {
		t.Fatalf("open admin screens wake after %v (%v)", d, ok)
	}
	if d, _ := wakeAfter(face, epoch, closeAt); d != 300*time.Millisecond+wakeLate {
		t.Fatalf("the earlier of the two is not first: %v", d)
	}
	if d, ok := wakeAfter(kiosk.Screen{Phase: kiosk.PhasePaused}, closeAt.Add(time.Second), closeAt); !ok || d != wakeLate {
		t.Fatalf("admin screens past their time wake after %v (%v)", d, ok)
	}
}
