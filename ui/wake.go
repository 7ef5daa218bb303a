package ui

import (
	"math"
	"time"

	"ndikiosk/kiosk"
)

// countdownSteps is how many steps the QR screen's countdown bar takes
// over a code's display time: about 11 s a step for the default 110 s.
// Each step repaints the whole window (Fyne's GL driver has no partial
// redraw), about 30 ms of CPU under software GL, so the bar moves only as
// often as a visitor needs to see that the code is running out: 22 steps
// of 5 s cost about 0.3 % of a core more than these 10 (docs/idle.md).
const countdownSteps = 10

// wakeLate is how long after a step's boundary the timer fires, so that
// a timer that fires a little early still finds the step taken.
const wakeLate = 5 * time.Millisecond

// countdownShare is the share of s's code display time left at now,
// rounded up to a whole step (1 for a fresh code, 0 once it is due); ok is
// false when s has no countdown.
func countdownShare(s kiosk.Screen, now time.Time) (v float64, ok bool) {
	total := s.NextQR.Sub(s.QRStart)
	if s.Phase != kiosk.PhaseQR || total <= 0 {
		return 0, false
	}
	left := s.NextQR.Sub(now)
	x := left.Seconds() / total.Seconds() * countdownSteps
	return max(0, min(1, math.Ceil(x)/countdownSteps)), true
}

// nextStep is how long after now the countdown bar next changes; ok is
// false when it does not change any more (the code is due: the engine
// sends the next screen).
func nextStep(s kiosk.Screen, now time.Time) (d time.Duration, ok bool) {
	total := s.NextQR.Sub(s.QRStart)
	left := s.NextQR.Sub(now)
	if total <= 0 || left <= 0 {
		return 0, false
	}
	// The bar shows ceil(x) steps, x = left/total*steps: it drops a step
	// when x reaches the next whole number below it.
	x := float64(left) / float64(total) * countdownSteps
	n := math.Ceil(x) - 1
	boundary := s.NextQR.Add(-time.Duration(n / countdownSteps * float64(total)))
	return boundary.Sub(now) + wakeLate, true
}

// faceSecond is how long after now the Face countdown's (or a result's)
// whole seconds change: it shows the seconds left, rounded up.
func faceSecond(s kiosk.Screen, now time.Time) (d time.Duration, ok bool) {
	left := s.Until.Sub(now)
	if s.FaceRetry || left <= 0 {
		return 0, false
	}
	d = left % time.Second
	if d == 0 {
		d = time.Second
	}
	return d + wakeLate, true
}

// wakeAfter is when the UI next has something to change on its own, after
// now, on screen s: the countdown bar's next step on the QR screen, the
// next second of the Face countdown, the admin screens' closing time
// (closeAt, zero when they are not open). ok is false when nothing on
// screen changes with time: the engine's next screen will wake the UI.
func wakeAfter(s kiosk.Screen, now, closeAt time.Time) (d time.Duration, ok bool) {
	switch s.Phase {
	case kiosk.PhaseQR:
		d, ok = nextStep(s, now)
	case kiosk.PhaseFace:
		d, ok = faceSecond(s, now)
	case kiosk.PhaseResult, kiosk.PhaseUnavailable, kiosk.PhaseCheckOut, kiosk.PhaseSign:
		// "Tap to close · N s": the seconds left, while there are any.
		if !s.Until.IsZero() {
			s.FaceRetry = false
			d, ok = faceSecond(s, now)
		}
	}
	if !closeAt.IsZero() {
		c := max(closeAt.Sub(now), 0) + wakeLate
		if !ok || c < d {
			d, ok = c, true
		}
	}
	return d, ok
}
