package ui

import "ndikiosk/kiosk"

// Engine is what the screens need from the kiosk's engine: screens out,
// taps in. *kiosk.Engine provides it in process; anything that delivers the
// same screens and takes the same taps (a hub client, a test's fake) can
// stand in for it.
type Engine interface {
	// Subscribe registers fn for every new screen, starting with the
	// current one. fn may be called on any goroutine.
	Subscribe(fn func(kiosk.Screen))
	// Cancel abandons the current visit.
	Cancel()
	// Confirm submits the visitor's host and purpose; an error means the
	// choice was not accepted and the confirm screen stays.
	Confirm(host, purpose string) error
	// Dismiss closes the result on show at the visitor's tap (once it has
	// stood its minimum time); a fresh code follows.
	Dismiss()
	// CheckOut answers kiosk.PhaseCheckOut: yes checks the visitor out,
	// no shows a fresh code and changes nothing.
	CheckOut(yes bool)
	// FaceRetry starts another Face attempt after a failed one.
	FaceRetry()
	// Camera is the Face step's camera, for the live preview; nil without one.
	Camera() kiosk.Camera
	// Pause retires every code and shows kiosk.PhasePaused while staff
	// use the PIN pad or the admin screens; Resume shows a fresh code.
	Pause()
	Resume()
	// OutOfService shows the unavailable screen for good: the callback
	// server died and the kiosk is about to quit.
	OutOfService()
	// NoSingpass is the visitor's "No Singpass?" tap: where the venue has
	// staff to call (a hub's dashboard) they are alerted, and it says so.
	NoSingpass() (called bool)
}

var _ Engine = (*kiosk.Engine)(nil)
