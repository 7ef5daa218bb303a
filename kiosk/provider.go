package kiosk

import (
	"context"
	"time"

	"ndikiosk/ndi"
)

// Provider is the identity service behind the QR. Two implement it:
// Singpass Verify (signed QR codes, PKI_SIGN token and person calls) and
// Singpass Myinfo under FAPI 2.0 (pushed authorisation requests, DPoP,
// encrypted userinfo). Both hand the engine the same ndi.Person.
type Provider interface {
	// NewCode prepares a code for state: what the QR shows and how long
	// it may be scanned.
	NewCode(ctx context.Context, state string, lifetime time.Duration) (Code, error)
	// Exchange turns a callback (Verify) or redirect (FAPI) into the
	// person's data.
	Exchange(ctx context.Context, cb ndi.Callback) (*ndi.Person, error)
	// Remote reports whether NewCode is a network round trip. The engine
	// then prepares codes ahead of time, off its lock; a local provider's
	// codes are made on the spot.
	Remote() bool
}

// Code is one QR for the screen.
type Code struct {
	URL    string
	Start  time.Time // valid from
	Expiry time.Time // last moment it may be scanned
	// AcceptUntil is how long its callback is awaited: Verify calls back
	// within the code's life; after a FAPI scan the person may still take
	// a few minutes in the Singpass app.
	AcceptUntil time.Time
}
