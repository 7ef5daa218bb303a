package app_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"ndikiosk/app"
	"ndikiosk/config"
	"ndikiosk/internal/testclock"
	. "ndikiosk/kiosk"
	"ndikiosk/ndi"
	"ndikiosk/ndi/sandbox"
	"ndikiosk/storage"
)

// countingProvider counts exchanges, to prove that refused callbacks make
// no outbound call.
type countingProvider struct {
	Provider
	exchanges atomic.Int32
}

func (c *countingProvider) Exchange(ctx context.Context, cb ndi.Callback) (*ndi.Person, error) {
	c.exchanges.Add(1)
	return c.Provider.Exchange(ctx, cb)
}

type rig struct {
	kiosk    *app.Kiosk
	engine   *Engine
	store    *storage.DB
	sb       *sandbox.Sandbox
	provider *countingProvider
	clock    *testclock.Clock
	base     string
	dataDir  string
	identity *app.Identity
}

var (
	rigKeysOnce sync.Once
	rigKeysDir  string
	rigKeysErr  error
)

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// Providers runs a test once per identity provider, switching nothing but
// kiosk.provider in the config.
var providers = []string{config.ProviderVerify, config.ProviderFAPI}

func forProviders(t *testing.T, test func(t *testing.T, provider string)) {
	for _, p := range providers {
		t.Run(p, func(t *testing.T) { test(t, p) })
	}
}

// newRig runs a Verify kiosk; see newRigWith.
func newRig(t testing.TB, tweak func(*config.Config), wrap ...func(VisitStore) VisitStore) *rig {
	return newRigWith(t, config.ProviderVerify, tweak, wrap...)
}

// newRigWith runs a kiosk built by app.New, as ndikiosk builds it, from the
// sandbox-mode config changed by tweak (may be nil), on a free port and a
// test clock. wrap, if given, wraps the SQLite store (to make it fail).
func newRigWith(t testing.TB, provider string, tweak func(*config.Config), wrap ...func(VisitStore) VisitStore) *rig {
	t.Helper()
	rigKeysOnce.Do(func() {
		// RSA keys take a while to make: one set, copied into each rig.
		rigKeysDir, rigKeysErr = os.MkdirTemp("", "ndikiosk-rig-keys")
		if rigKeysErr == nil {
			_, rigKeysErr = sandbox.LoadOrCreateKeys(rigKeysDir, time.Now())
		}
	})
	if rigKeysErr != nil {
		t.Fatal(rigKeysErr)
	}
	r := &rig{clock: testclock.New(time.Now()), dataDir: t.TempDir()}
	if err := os.CopyFS(filepath.Join(r.dataDir, "sandbox"), os.DirFS(rigKeysDir)); err != nil {
		t.Fatal(err)
	}
	conf := config.SandboxDefaults()
	conf.Kiosk.Listen, conf.Kiosk.DataDir, conf.Kiosk.Provider = "127.0.0.1:0", r.dataDir, provider
	conf.Kiosk.Contact = "the front desk"
	if tweak != nil {
		tweak(conf)
	}
	opts := app.Options{Version: "test", Clock: r.clock.Now, Log: quietLog(),
		WrapProvider: func(p Provider) Provider {
			r.provider = &countingProvider{Provider: p}
			return r.provider
		}}
	if len(wrap) > 0 {
		opts.WrapStore = func(s VisitStore) VisitStore {
			for _, w := range wrap {
				s = w(s)
			}
			return s
		}
	}
	k, err := app.New(conf, opts)
	if err != nil {
		t.Fatal(err)
	}
	r.kiosk, r.engine, r.store, r.identity, r.sb = k, k.Engine, k.Store, k.Identity, k.Identity.Sandbox
	r.base = "http://" + k.Addr()
	r.sb.SetSlowDelay(1500 * time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() {
		cancel()
		if err := k.Close(); err != nil {
			t.Error(err)
		}
	})
	go k.Serve(ctx)
	r.waitQR(t)
	return r
}

// waitQR steps the engine until a code is on screen: at once with Verify,
// after the pushed authorisation request with FAPI.
func (r *rig) waitQR(t testing.TB) Screen {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		r.engine.Step()
		if s := r.engine.Screen(); s.Phase == PhaseQR {
			return s
		}
	}
	t.Fatalf("no code on screen: %+v", r.engine.Screen())
	return Screen{}
}

// scan is a phone scanning the code on the kiosk's screen. The sandbox is
// told of each new code too, but as a subscriber is, after the engine has
// let go of its lock: a test that has just seen a code on the screen may be
// ahead of it.
func (r *rig) scan(personaID, decision, fault string) (sandbox.ScanResult, error) {
	return r.sb.ScanURL(context.Background(), r.engine.Screen().QR, personaID, decision, fault)
}

func personaID(t *testing.T, label string) string {
	p, ok := sandbox.PersonaByLabel(label, time.Now())
	if !ok {
		t.Fatalf("no persona %q", label)
	}
	return p.ID
}

// visit scans the shown QR and waits for the engine to settle.
func (r *rig) visit(t *testing.T, label, decision, fault string) Screen {
	t.Helper()
	if r.engine.Screen().Phase == PhaseStarting {
		r.waitQR(t) // a FAPI code on its way
	}
	res, err := r.scan(personaID(t, label), decision, fault)
	if err != nil {
		t.Fatalf("scan: %v", err)
	}
	if res.CallbackStatus != 200 {
		t.Fatalf("callback status %d: %s", res.CallbackStatus, res.CallbackBody)
	}
	return r.settle(t)
}

func (r *rig) settle(t *testing.T) Screen {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if s := r.engine.Screen(); s.Phase != PhaseChecking {
			return s
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("the engine never left the checking screen")
	return Screen{}
}

func TestAgeDecisions(t *testing.T) {
	cases := []struct {
		label  string
		minAge int
		want   Outcome
	}{
		{"Adult citizen", 18, OutcomeEligible},
		{"Turns 18 today", 18, OutcomeEligible},
		{"17, turns 18 tomorrow", 18, OutcomeNotEligible},
		{"17 years old", 18, OutcomeNotEligible},
		{"Turns 21 today", 21, OutcomeEligible},
		{"20, turns 21 tomorrow", 21, OutcomeNotEligible},
		{"Foreigner (FIN)", 21, OutcomeEligible},
		{"No date of birth on record", 18, OutcomeCannotDecide},
		{"Date of birth unavailable", 18, OutcomeCannotDecide},
	}
	forProviders(t, func(t *testing.T, provider string) {
		wantAttrs := map[string]string{config.ProviderVerify: "partialuinfin,dob", config.ProviderFAPI: "uinfin,dob"}[provider]
		for _, c := range cases {
			t.Run(c.label, func(t *testing.T) {
				r := newRigWith(t, provider, func(k *config.Config) { k.Kiosk.MinAge = c.minAge })
				s := r.visit(t, c.label, "allow", "")
				if s.Phase != PhaseResult || s.Outcome != c.want || s.MinAge != c.minAge {
					t.Fatalf("screen %+v, want result %s", s, c.want)
				}
				vs, err := r.store.Visits(context.Background(), VisitFilter{})
				if err != nil || len(vs) != 1 {
					t.Fatalf("visit log: %v %v", vs, err)
				}
				v := vs[0]
				if v.Outcome != c.want || !strings.HasPrefix(v.MaskedID, "*****") || v.Name != "" || v.Mode != ModeAge ||
					strings.Join(v.Attributes, ",") != wantAttrs || !strings.HasPrefix(v.TxnRef, "kiosk1-") || v.PersonKey != nil ||
					v.MaskedID != ndi.MaskID(personaID(t, c.label)) {
					t.Fatalf("logged %+v", v)
				}
			})
		}
	})
}

func TestResultClearsToNewCode(t *testing.T) { forProviders(t, testResultClearsToNewCode) }

func testResultClearsToNewCode(t *testing.T, provider string) {
	r := newRigWith(t, provider, func(k *config.Config) { k.Kiosk.ResultTimeout.Duration = 8 * time.Second })
	first := r.engine.Screen().QR
	r.visit(t, "Adult citizen", "allow", "")
	r.clock.Add(7 * time.Second)
	r.engine.Step()
	if r.engine.Screen().Phase != PhaseResult {
		t.Fatal("result cleared early")
	}
	r.clock.Add(2 * time.Second)
	s := r.waitQR(t)
	if s.Phase != PhaseQR || s.QR == first || s.MaskedID != "" {
		t.Fatalf("after the result: %+v", s)
	}
}

func TestDeniedAndUnavailable(t *testing.T) { forProviders(t, testDeniedAndUnavailable) }

func testDeniedAndUnavailable(t *testing.T, provider string) {
	r := newRigWith(t, provider, nil)
	service := map[string]string{config.ProviderVerify: "Verify", config.ProviderFAPI: "Singpass"}[provider]
	// A decline or an outage reported on the callback is not evidence (the
	// state is on the screen for anyone): a fresh code, no verdict.
	for _, c := range []struct{ decision, fault string }{{"deny", ""}, {"allow", sandbox.FaultUnavailable}} {
		before := r.engine.Screen().QR
		r.visit(t, "Adult citizen", c.decision, c.fault)
		if s := r.waitQR(t); s.QR == before {
			t.Fatalf("%s %s reported on the callback: %+v", c.decision, c.fault, s)
		}
	}
	for _, fault := range []string{sandbox.FaultPerson500, sandbox.FaultToken500} {
		r.engine.Cancel()
		s := r.visit(t, "Adult citizen", "allow", fault)
		want := "We are unable to validate your identity through " + service + ". Please contact the front desk if you require additional assistance.\nPlease approach the counter."
		if s.Phase != PhaseUnavailable || s.Message != want {
			t.Fatalf("%s: %+v", fault, s)
		}
	}
	r.engine.Cancel()
	for _, fault := range []string{sandbox.FaultBadSignature, sandbox.FaultGarbledJWE, sandbox.FaultBadToken} {
		r.engine.Cancel()
		if s := r.visit(t, "Adult citizen", "allow", fault); s.Outcome != OutcomeError {
			t.Fatalf("%s: %+v", fault, s)
		}
	}
}

func TestSlowExchangeTimesOut(t *testing.T) {
	forProviders(t, func(t *testing.T, provider string) {
		r := newRigWith(t, provider, exchangeTimeout(2*time.Second))
		r.sb.SetSlowDelay(3 * time.Second) // past the deadline at the first call
		if s := r.visit(t, "Adult citizen", "allow", sandbox.FaultSlow); s.Phase != PhaseUnavailable {
			t.Fatalf("slow Singpass: %+v", s)
		}
	})
}

func get(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestForgedAndReplayedCallbacks(t *testing.T) { forProviders(t, testForgedAndReplayedCallbacks) }

func testForgedAndReplayedCallbacks(t *testing.T, provider string) {
	r := newRigWith(t, provider, nil)
	before := r.engine.Screen()
	for _, q := range []string{"code=abc&state=kiosk1-forged", "code=abc", "state=x", "error=access_denied&state=kiosk1-nope", "code=a%00b&state=kiosk1-x"} {
		if status, _ := get(t, r.base+"/callback?"+q); status < 400 || status >= 500 {
			t.Errorf("forged %q: status %d", q, status)
		}
	}
	if s := r.engine.Screen(); s.Seq != before.Seq || r.provider.exchanges.Load() != 0 {
		t.Fatalf("a forged callback changed something: %+v, %d exchanges", s, r.provider.exchanges.Load())
	}
	res, err := r.scan(personaID(t, "Adult citizen"), "allow", "")
	if err != nil {
		t.Fatal(err)
	}
	r.settle(t)
	if status, body := get(t, res.CallbackURL); status != 404 || !strings.Contains(body, "no longer valid") {
		t.Fatalf("replayed callback: %d %s", status, body)
	}
	if n := r.provider.exchanges.Load(); n != 1 {
		t.Fatalf("%d exchanges, want 1", n)
	}
}

func TestExpiredStateRefused(t *testing.T) {
	r := newRig(t, qrTiming(time.Minute, 5*time.Second))
	u, _ := url.Parse(r.engine.Screen().QR)
	state := u.Query().Get("state")
	r.clock.Add(61 * time.Second)
	if status, _ := get(t, r.base+"/callback?code=abc&state="+state); status != 410 {
		t.Fatalf("expired state: %d, want 410", status)
	}
	if r.provider.exchanges.Load() != 0 {
		t.Fatal("an expired state reached the token API")
	}
}

func TestRotationKeepsRecentCodesValid(t *testing.T) {
	r := newRig(t, qrTiming(60*time.Second, 10*time.Second))
	first := r.engine.Screen()
	if want := first.QRStart.Add(50 * time.Second); !first.NextQR.Equal(want) {
		t.Fatalf("next code at %v, want %v", first.NextQR, want)
	}
	r.clock.Add(50 * time.Second)
	r.engine.Step()
	second := r.engine.Screen()
	if second.QR == first.QR || r.engine.Outstanding() != 2 {
		t.Fatalf("no rotation: outstanding %d", r.engine.Outstanding())
	}
	// A phone that scanned the old code just before it changed still works.
	res, err := r.sb.ScanURL(context.Background(), first.QR, personaID(t, "Adult citizen"), "allow", "")
	if err != nil || res.CallbackStatus != 200 {
		t.Fatalf("old code: %+v %v", res, err)
	}
	if s := r.settle(t); s.Outcome != OutcomeEligible {
		t.Fatalf("old code visit: %+v", s)
	}
	for i := 0; i < 10; i++ {
		r.clock.Add(50 * time.Second)
		r.engine.Step()
	}
	if n := r.engine.Outstanding(); n > 4 || n < 1 {
		t.Fatalf("%d outstanding codes", n)
	}
}

func TestCancelDropsLateResult(t *testing.T) {
	r := newRig(t, exchangeTimeout(10*time.Second))
	if _, err := r.scan(personaID(t, "Adult citizen"), "allow", sandbox.FaultSlow); err != nil {
		t.Fatal(err)
	}
	if r.engine.Screen().Phase != PhaseChecking {
		t.Fatal("not checking")
	}
	r.engine.Cancel()
	if s := r.engine.Screen(); s.Phase != PhaseQR {
		t.Fatalf("cancel: %+v", s)
	}
	seq := r.engine.Screen().Seq
	time.Sleep(2 * time.Second) // the slow answer arrives
	if s := r.engine.Screen(); s.Phase != PhaseQR || s.Seq != seq {
		t.Fatalf("a cancelled visit came back: %+v", s)
	}
}

func TestHealthz(t *testing.T) {
	r := newRig(t, nil)
	status, body := get(t, r.base+"/healthz")
	var h map[string]any
	if status != 200 || json.Unmarshal([]byte(body), &h) != nil || h["phase"] != "qr" || h["outstanding_codes"].(float64) != 1 {
		t.Fatalf("healthz %d %s", status, body)
	}
}

// BenchmarkCallbackToDecision measures, against the sandbox on loopback,
// the time from the callback being accepted to the decision screen: token,
// person, decryption, verification, the decision and the visit log write.
func BenchmarkCallbackToDecision(b *testing.B) {
	for _, provider := range providers {
		b.Run(provider, func(b *testing.B) { benchCallbackToDecision(b, provider) })
	}
}

func benchCallbackToDecision(b *testing.B, provider string) {
	r := newRigWith(b, provider, nil)
	accepted := make(chan time.Time, 1)
	decided := make(chan time.Time, 1)
	r.engine.Subscribe(func(s Screen) {
		switch s.Phase {
		case PhaseChecking:
			accepted <- time.Now()
		case PhaseResult:
			decided <- time.Now()
		}
	})
	adult, _ := sandbox.PersonaByLabel("Adult citizen", time.Now())
	id := adult.ID
	var lat []time.Duration
	for b.Loop() {
		r.engine.Cancel()
		r.waitQR(b)
		if _, err := r.scan(id, "allow", ""); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, (<-decided).Sub(<-accepted))
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

// exchangeTimeout sets the exchange deadline of both providers.
func exchangeTimeout(d time.Duration) func(*config.Config) {
	return func(k *config.Config) { k.Verify.ExchangeTimeout.Duration, k.FAPI.ExchangeTimeout.Duration = d, d }
}

// qrTiming sets Verify's code lifetime and lead.
func qrTiming(lifetime, lead time.Duration) func(*config.Config) {
	return func(k *config.Config) { k.Verify.QRLifetime.Duration, k.Verify.QRLead.Duration = lifetime, lead }
}
