package app

import (
	"context"
	"ndikiosk/kiosk"
	"ndikiosk/ndi/fapi"
	"ndikiosk/ndi/verify"
	"time"
)

// VerifyProvider is Singpass Verify v2.
type VerifyProvider struct{ *verify.Client }

// NewCode signs a dynamic Verify QR.
func (v VerifyProvider) NewCode(_ context.Context, state string, lifetime time.Duration) (kiosk.Code, error) {
	u, q, err := v.NewQR(state, lifetime)
	return kiosk.Code{URL: u, Start: q.Start, Expiry: q.Expiry, AcceptUntil: q.Expiry}, err
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
func (f FAPIProvider) NewCode(ctx context.Context, state string, _ time.Duration) (kiosk.Code, error) {
	a, err := f.Authorize(ctx, state)
	return kiosk.Code{URL: a.URL, Start: a.Start, Expiry: a.Expiry, AcceptUntil: a.Expiry.Add(FAPIRedirectWindow)}, err
}

// Remote is true: every code is a PAR round trip.
func (FAPIProvider) Remote() bool { return true }
