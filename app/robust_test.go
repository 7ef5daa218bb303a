//go:build robust

package app_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"ndikiosk/app"
	. "ndikiosk/kiosk"
	"ndikiosk/ndi/sandbox"
	"ndikiosk/ndi/verify"
)

// TestRobustCallbackFlood sends forged callbacks from 127.0.0.2 as fast as
// 64 connections allow for 10 s, while a real scan (from 127.0.0.1, as the
// sandbox calls back) goes through. It reports the flood's rate and the
// real visit's time, and fails if the flood is under 5,000 requests a
// second or the real visit takes more than a second.
func TestRobustCallbackFlood(t *testing.T) {
	r := newRig(t, nil)
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}
	flood := &http.Client{Transport: &http.Transport{DialContext: dialer.DialContext, MaxIdleConnsPerHost: 64}}
	sent, refused, wait := floodForged(flood, r.base, 64, 10*time.Second)
	time.Sleep(3 * time.Second) // the flood is in full swing
	id := personaID(t, "Adult citizen")
	start := time.Now()
	res, err := r.scan(id, "allow", "")
	if err != nil || res.CallbackStatus != 200 {
		t.Fatalf("real scan during the flood: %+v %v", res, err)
	}
	s := r.settle(t)
	took := time.Since(start)
	wait()
	rate := float64(sent.Load()) / 10
	t.Logf("flood: %.0f forged callbacks/s for 10 s, %d refused of %d; real scan to decision during it: %v", rate, refused.Load(), sent.Load(), took.Round(time.Millisecond))
	if s.Outcome != OutcomeEligible || refused.Load() != sent.Load() {
		t.Fatalf("outcome %v, %d of %d forged callbacks not refused", s.Outcome, sent.Load()-refused.Load(), sent.Load())
	}
	if rate < 5000 || took > time.Second {
		t.Fatalf("below the bar: %.0f/s, real visit %v", rate, took)
	}
}

// TestRobustFaultsEndOnQR: each NDI fault ends with the right message and
// the kiosk back on a fresh QR by itself.
func TestRobustFaultsEndOnQR(t *testing.T) {
	cases := []struct {
		name  string
		fault string
		want  Outcome
	}{
		{"timeout", sandbox.FaultSlow, OutcomeUnavailable},
		{"token 5xx", sandbox.FaultToken500, OutcomeUnavailable},
		{"person 5xx", sandbox.FaultPerson500, OutcomeUnavailable},
		{"truncated JWE", sandbox.FaultGarbledJWE, OutcomeError},
		{"wrong key", sandbox.FaultBadSignature, OutcomeError},
		{"maintenance reported on the callback (unverified: a fresh code)", sandbox.FaultUnavailable, ""},
	}
	forProviders(t, func(t *testing.T, provider string) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				r := newRigWith(t, provider, exchangeTimeout(2*time.Second))
				s := r.visit(t, "Adult citizen", "allow", c.fault)
				if s.Outcome != c.want {
					t.Fatalf("%s: %+v", c.name, s)
				}
				r.clock.Add(9 * time.Second)
				if r.waitQR(t).Phase != PhaseQR {
					t.Fatal("not back on the QR screen")
				}
			})
		}
	})
}

// TestRobustClockSkew: a kiosk clock 10 minutes fast signs codes that
// Singpass refuses at the scan ("not valid yet; check the kiosk clock");
// the kiosk stays on its QR screen and `ndikiosk doctor` names the skew.
func TestRobustClockSkew(t *testing.T) {
	r := newRig(t, nil)
	cfg := r.provider.Provider.(app.VerifyProvider).Config()
	cfg.Now = func() time.Time { return r.clock.Now().Add(10 * time.Minute) }
	fast, err := verify.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r.provider.Provider = app.VerifyProvider{Client: fast}
	r.engine.Cancel() // a code signed with the fast clock
	_, err = r.scan(personaID(t, "Adult citizen"), "allow", "")
	if !errors.Is(err, verify.ErrBadQR) || !strings.Contains(err.Error(), "check the kiosk clock") {
		t.Fatalf("scan of a code from a fast clock: %v", err)
	}
	if r.engine.Screen().Phase != PhaseQR || r.provider.exchanges.Load() != 0 {
		t.Fatal("the kiosk left its QR screen")
	}
}

// TestRobustRelayFlood: behind a relay every request comes from one
// address. Forged callbacks pour in from it for 8 s while five real scans,
// whose callbacks come through the same relay, complete: the box keeps
// the forgeries out and never the live states.
func TestRobustRelayFlood(t *testing.T) {
	r := newRig(t, nil)
	relay := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}
	client := &http.Client{Transport: &http.Transport{DialContext: relay.DialContext, MaxIdleConnsPerHost: 32}}
	sent, refused, wait := floodForged(client, r.base, 32, 8*time.Second)
	time.Sleep(time.Second)
	done := 0
	for i := 0; i < 5; i++ {
		r.engine.Cancel()
		r.waitQR(t)
		// The phone's part is played by the sandbox; its callback goes
		// through the relay, as every request does.
		gone, stop := context.WithCancel(context.Background())
		stop()
		res, err := r.sb.Scan(gone, personaID(t, "Adult citizen"), "allow", "")
		if err != nil || res.CallbackURL == "" {
			t.Fatalf("scan %d: %+v %v", i, res, err)
		}
		resp, err := client.Get(res.CallbackURL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("real callback %d through the relay during the flood: HTTP %d", i, resp.StatusCode)
		}
		if s := r.settle(t); s.Outcome != OutcomeEligible {
			t.Fatalf("real visit %d: %+v", i, s)
		}
		r.clock.Add(5 * time.Second) // past the result's minimum time
		done++
	}
	wait()
	accepted := sent.Load() - refused.Load()
	t.Logf("relay flood: %d forged callbacks in 8 s from the relay's address, %d accepted; real scans through the same relay: %d of 5 completed",
		sent.Load(), accepted, done)
	if accepted != 0 {
		t.Fatalf("%d forged callbacks accepted", accepted)
	}
}

// TestRobustForgedErrorCallback: a bystander reads the state off the
// screen (a Verify QR carries it) and reports an outage or a refusal with
// it. Nothing is shown as either and nothing is logged as either.
func TestRobustForgedErrorCallback(t *testing.T) {
	r := newRig(t, nil)
	for _, e := range []string{"503", "server_error", "temporarily_unavailable", "access_denied"} {
		shown := r.waitQR(t)
		u, _ := url.Parse(shown.QR)
		status, _ := get(t, r.base+"/callback?error="+e+"&state="+u.Query().Get("state"))
		if status != 200 {
			t.Fatalf("error=%s: HTTP %d", e, status)
		}
		if s := r.waitQR(t); s.QR == shown.QR {
			t.Fatalf("after a forged error=%s the reported code is still shown", e)
		}
	}
	vs := visits(t, r)
	for _, v := range vs {
		if v.Outcome != OutcomeUnverified {
			t.Fatalf("a forged error callback was logged as %s (%s)", v.Outcome, v.Reason)
		}
	}
	t.Logf("forged error callbacks with a live state: 0 outages or refusals shown or logged, %d logged as unverified", len(vs))
}

// floodForged sends forged callbacks to base through client on conns
// connections for d. It counts the answers and the refusals; wait returns
// when the flood is over.
func floodForged(client *http.Client, base string, conns int, d time.Duration) (sent, refused *atomic.Int64, wait func()) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	sent, refused = new(atomic.Int64), new(atomic.Int64)
	var wg sync.WaitGroup
	for i := 0; i < conns; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				req, _ := http.NewRequestWithContext(ctx, "GET", base+"/callback?code=forged&state=kiosk1-forged", nil)
				resp, err := client.Do(req)
				if err != nil {
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				sent.Add(1)
				if resp.StatusCode >= 400 {
					refused.Add(1)
				}
			}
		}()
	}
	return sent, refused, func() { wg.Wait(); cancel() }
}
