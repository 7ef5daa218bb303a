package kiosk

import (
	"context"
	"time"

	"ndikiosk/ndi"
	"ndikiosk/ndi/fapi"
	"ndikiosk/ndi/verify"
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

// VerifyProvider is Singpass Verify v2.
type VerifyProvider struct{ *verify.Client }

// NewCode signs a dynamic Verify QR.
func (v VerifyProvider) NewCode(_ context.Context, state string, lifetime time.Duration) (Code, error) {
	u, q, err := v.NewQR(state, lifetime)
	return Code{URL: u, Start: q.Start, Expiry: q.Expiry, AcceptUntil: q.Expiry}, err
}

// Remote is false: Verify codes are signed locally.
func (VerifyProvider) Remote() bool { return false }

// FAPIProvider is Singpass Myinfo under the FAPI 2.0 profile.
type FAPIProvider struct{ *fapi.Client }

// FAPIRedirectWindow is how long after its request_uri expires a redirect
// is still awaited.
const FAPIRedirectWindow = 5 * time.Minute

// NewCode pushes an authorisation request; the QR carries the
// authorisation URL, valid as long as Singpass keeps the request_uri.
func (f FAPIProvider) NewCode(ctx context.Context, state string, _ time.Duration) (Code, error) {
	a, err := f.Authorize(ctx, state)
	return Code{URL: a.URL, Start: a.Start, Expiry: a.Expiry, AcceptUntil: a.Expiry.Add(FAPIRedirectWindow)}, err
}

// Remote is true: every code is a PAR round trip.
func (FAPIProvider) Remote() bool { return true }
