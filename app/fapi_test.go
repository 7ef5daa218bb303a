package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"ndikiosk/app"
	"ndikiosk/config"
	"ndikiosk/internal/phone"
	. "ndikiosk/kiosk"
	"ndikiosk/ndi/jose"
)

// flakyProvider fails NewCode while down is set, as a network outage at
// the pushed authorisation request would.
type flakyProvider struct {
	Provider
	down     atomic.Bool
	codes    atomic.Int32
	attempts atomic.Int32
}

func (f *flakyProvider) NewCode(ctx context.Context, state string, lifetime time.Duration) (Code, error) {
	f.attempts.Add(1)
	if f.down.Load() {
		return Code{}, errors.New("network is down")
	}
	f.codes.Add(1)
	return f.Provider.NewCode(ctx, state, lifetime)
}

// waitFor polls until cond holds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

func TestFAPICodesRotateBeforeTheRequestURIExpires(t *testing.T) {
	r := newRigWith(t, config.ProviderFAPI, nil)
	first := r.engine.Screen()
	u, _ := url.Parse(first.QR)
	if u.Path != config.SandboxPrefix+"/fapi/auth" || !strings.HasPrefix(u.Query().Get("request_uri"), "urn:ietf:params:oauth:request_uri:") {
		t.Fatalf("QR %s", first.QR)
	}
	// The request_uri lives 60 s; the next code shows 10 s before that and
	// is asked for 5 s earlier still, off the engine's lock.
	if want := first.QRStart.Add(50 * time.Second); !first.NextQR.Equal(want) {
		t.Fatalf("next code at %v, want %v", first.NextQR, want)
	}
	counted := &flakyProvider{Provider: r.provider.Provider}
	r.provider.Provider = counted
	r.clock.Add(45 * time.Second)
	r.engine.Step()
	waitFor(t, "the prepared code", func() bool { return counted.codes.Load() == 1 })
	if r.engine.Screen().QR != first.QR {
		t.Fatal("the prepared code was shown early")
	}
	r.clock.Add(5 * time.Second)
	waitFor(t, "the second code", func() bool { r.engine.Step(); return r.engine.Screen().QR != first.QR })
	second := r.engine.Screen()
	if !second.QRStart.Equal(first.QRStart.Add(45*time.Second)) || r.engine.Outstanding() != 2 {
		t.Fatalf("second code started %v (first %v), %d outstanding", second.QRStart, first.QRStart, r.engine.Outstanding())
	}
	// A phone that opened the old code just before it changed still
	// finishes, and its redirect is accepted after the request_uri is gone.
	redirect, err := phone.Approve(first.QR, personaID(t, "Adult citizen"))
	if err != nil {
		t.Fatal(err)
	}
	r.clock.Add(30 * time.Second)
	status, body := get(t, redirect)
	if status != 200 || !strings.Contains(body, "Done") {
		t.Fatalf("late redirect: %d %s", status, body)
	}
	if s := r.settle(t); s.Outcome != OutcomeEligible {
		t.Fatalf("visit from the old code: %+v", s)
	}
	// And the same redirect again is refused like a replayed callback.
	if status, _ := get(t, redirect); status != 404 {
		t.Fatalf("replayed redirect: %d", status)
	}
}

func TestFAPIExpiredCodeCannotBeUsed(t *testing.T) {
	r := newRigWith(t, config.ProviderFAPI, nil)
	first := r.engine.Screen()
	r.clock.Add(61 * time.Second)
	if _, err := r.sb.ScanURL(context.Background(), first.QR, personaID(t, "Adult citizen"), "allow", ""); err == nil ||
		!strings.Contains(err.Error(), "request_uri has expired") {
		t.Fatalf("expired request_uri: %v", err)
	}
	if r.provider.exchanges.Load() != 0 {
		t.Fatal("an expired code reached the token endpoint")
	}
}

func TestFAPIOutageAtPARRecovers(t *testing.T) {
	r := newRigWith(t, config.ProviderFAPI, func(k *config.Config) { k.Kiosk.ResultTimeout.Duration = 8 * time.Second })
	flaky := &flakyProvider{Provider: r.provider.Provider}
	r.provider.Provider = flaky
	first := r.engine.Screen()
	flaky.down.Store(true)
	// The next code cannot be had: the current one stays while it is good…
	r.clock.Add(50 * time.Second)
	r.engine.Step()
	waitFor(t, "the failed attempt", func() bool { r.engine.Step(); return flaky.attempts.Load() >= 1 })
	if s := r.engine.Screen(); s.Phase != PhaseQR || s.QR != first.QR {
		t.Fatalf("a still-good code was taken off the screen: %+v", s)
	}
	// …and once it has expired the kiosk says Singpass is unavailable.
	r.clock.Add(10 * time.Second)
	waitFor(t, "the unavailable screen", func() bool { r.engine.Step(); return r.engine.Screen().Phase == PhaseUnavailable })
	if s := r.engine.Screen(); !strings.Contains(s.Message, "through Singpass") {
		t.Fatalf("message %q", s.Message)
	}
	// The network comes back: the kiosk returns to a fresh code by itself.
	flaky.down.Store(false)
	r.clock.Add(9 * time.Second)
	s := r.waitQR(t)
	if s.QR == first.QR {
		t.Fatal("the expired code came back")
	}
	if s := r.visit(t, "Adult citizen", "allow", ""); s.Outcome != OutcomeEligible {
		t.Fatalf("visit after the outage: %+v", s)
	}
}

func TestFAPIKioskPublishesItsJWKS(t *testing.T) {
	r := newRigWith(t, config.ProviderFAPI, nil)
	status, body := get(t, r.base+"/.well-known/jwks.json")
	if status != 200 {
		t.Fatalf("JWKS: %d", status)
	}
	keys, err := jose.ParseJWKS([]byte(body))
	if err != nil || len(keys) != 2 || keys[0].Use != "sig" || keys[1].Use != "enc" || keys[0].Kid == keys[1].Kid {
		t.Fatalf("JWKS %s: %v", body, err)
	}
	var raw map[string][]map[string]any
	json.Unmarshal([]byte(body), &raw)
	for _, k := range raw["keys"] {
		if _, private := k["d"]; private {
			t.Fatal("the JWKS publishes a private key")
		}
	}
	// The keys were made on first start and are kept for the next.
	conf := config.SandboxDefaults()
	conf.Kiosk.DataDir, conf.Kiosk.Provider = r.dataDir, config.ProviderFAPI
	again, err := app.FAPIKeys(conf)
	if err != nil || again.Signing.Kid != keys[0].Kid || again.Encryption.Kid != keys[1].Kid {
		t.Fatalf("keys after a restart: %v %v", again.Signing.Kid, err)
	}
}

// TestFAPISlowApprovalStillLands: a visitor opens the code, then takes
// four minutes in the Singpass app while the kiosk keeps rotating; the
// redirect is still accepted.
func TestFAPISlowApprovalStillLands(t *testing.T) {
	r := newRigWith(t, config.ProviderFAPI, nil)
	counted := &flakyProvider{Provider: r.provider.Provider}
	r.provider.Provider = counted
	page, err := phone.Open(r.engine.Screen().QR)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 5; i++ {
		shown := r.engine.Screen().QR
		r.clock.Add(45 * time.Second)
		r.engine.Step()
		waitFor(t, "a prepared code", func() bool { return counted.codes.Load() == int32(i) })
		r.clock.Add(5 * time.Second)
		waitFor(t, "the next code", func() bool { r.engine.Step(); return r.engine.Screen().QR != shown })
	}
	redirect, err := page.Allow(personaID(t, "Adult citizen"))
	if err != nil {
		t.Fatal(err)
	}
	if status, body := get(t, redirect); status != 200 || !strings.Contains(body, "Done") {
		t.Fatalf("redirect after 250 s: %d %s", status, body)
	}
	if s := r.settle(t); s.Outcome != OutcomeEligible {
		t.Fatalf("slow visitor: %+v", s)
	}
}

// TestFAPIFailingPARIsNotHammered: an issuer that refuses at once gets one
// attempt every few seconds, not one per engine step.
func TestFAPIFailingPARIsNotHammered(t *testing.T) {
	r := newRigWith(t, config.ProviderFAPI, nil)
	flaky := &flakyProvider{Provider: r.provider.Provider}
	r.provider.Provider = flaky
	flaky.down.Store(true)
	r.clock.Add(50 * time.Second)
	for i := 0; i < 50; i++ {
		r.engine.Step()
		time.Sleep(2 * time.Millisecond)
	}
	if n := flaky.attempts.Load(); n != 1 {
		t.Fatalf("%d attempts within one engine second", n)
	}
	r.clock.Add(4 * time.Second)
	waitFor(t, "the second attempt", func() bool { r.engine.Step(); return flaky.attempts.Load() == 2 })
}
