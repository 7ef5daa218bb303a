package app_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"ndikiosk/config"
	. "ndikiosk/kiosk"
)

// getFrom is get with an X-Forwarded-For header, as a proxy would send.
func getFrom(t *testing.T, u, forwardedFor string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	if forwardedFor != "" {
		req.Header.Set("X-Forwarded-For", forwardedFor)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestForgeryFloodDoesNotLockOutSingpass: forged callbacks from the address
// Singpass's callback also comes from (a relay, a reverse proxy, here
// loopback) fill the penalty box; the real callback still gets through.
func TestForgeryFloodDoesNotLockOutSingpass(t *testing.T) {
	forProviders(t, func(t *testing.T, provider string) {
		r := newRigWith(t, provider, nil)
		codes := map[int]int{}
		for i := 0; i < 30; i++ {
			codes[getFrom(t, r.base+r.identity.CallbackPath+"?code=x&state=kiosk1-forged", "")]++
		}
		if codes[http.StatusTooManyRequests] == 0 {
			t.Fatalf("the forgeries were not throttled: %v", codes)
		}
		if s := r.visit(t, "Adult citizen", "allow", ""); s.Phase != PhaseResult || s.Outcome != OutcomeEligible {
			t.Fatalf("the real scan: %+v", s)
		}
	})
}

// TestTrustedProxyForwardedAddress: behind a trusted proxy the penalty box
// counts the forwarded address, a flood from one forwarded address leaves
// the others alone, and Singpass's callback through the same proxy from
// the same forwarded address still gets through.
func TestTrustedProxyForwardedAddress(t *testing.T) {
	r := newRig(t, func(c *config.Config) { c.Kiosk.TrustedProxies = []string{"127.0.0.1", "::1"} })
	forged := r.base + "/callback?code=x&state=kiosk1-forged"
	codes := map[int]int{}
	for i := 0; i < 30; i++ {
		// The left entry is the sender's own claim; the proxy appends what it saw.
		codes[getFrom(t, forged, "198.51.100.1, 203.0.113.9")]++
	}
	if codes[http.StatusNotFound] != 20 || codes[http.StatusTooManyRequests] != 10 {
		t.Fatalf("forgeries through the proxy: %v", codes)
	}
	if status := getFrom(t, forged, "192.0.2.44"); status != http.StatusNotFound {
		t.Fatalf("another client behind the proxy: %d", status)
	}
	// The sandbox plays the phone but cannot send the header: the scan's
	// own call is cut off, and its callback URL goes through the "proxy".
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res, err := r.sb.Scan(ctx, personaID(t, "Adult citizen"), "allow", "")
	if err != nil || res.CallbackURL == "" || res.CallbackStatus != 0 {
		t.Fatalf("scan: %+v %v", res, err)
	}
	if status := getFrom(t, res.CallbackURL, "203.0.113.9"); status != http.StatusOK {
		t.Fatalf("the real callback through the proxy: %d", status)
	}
	if s := r.settle(t); s.Phase != PhaseResult || s.Outcome != OutcomeEligible {
		t.Fatalf("the real scan: %+v", s)
	}
}

// TestUntrustedForwardedForIgnored: with no trusted proxy, a sender that
// varies X-Forwarded-For is still one client.
func TestUntrustedForwardedForIgnored(t *testing.T) {
	r := newRig(t, nil)
	codes := map[int]int{}
	for i := 0; i < 30; i++ {
		codes[getFrom(t, r.base+"/callback?code=x&state=kiosk1-forged", "203.0.113."+string(rune('0'+i%10)))]++
	}
	if codes[http.StatusNotFound] != 20 || codes[http.StatusTooManyRequests] != 10 {
		t.Fatalf("statuses %v", codes)
	}
}

// TestHealthzPhaseOnlyFromThisMachine: over the real server, loopback sees
// the phase (the Xvfb test and local monitoring read it); a request a local
// proxy forwarded does not.
func TestHealthzPhaseOnlyFromThisMachine(t *testing.T) {
	r := newRig(t, nil)
	read := func(forwardedFor string) map[string]any {
		req, _ := http.NewRequest(http.MethodGet, r.base+"/healthz", nil)
		if forwardedFor != "" {
			req.Header.Set("X-Forwarded-For", forwardedFor)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var h map[string]any
		if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&h) != nil {
			t.Fatalf("healthz %d", resp.StatusCode)
		}
		return h
	}
	if h := read(""); h["phase"] != "qr" || h["version"] != "test" {
		t.Fatalf("from loopback: %v", h)
	}
	if h := read("203.0.113.5"); len(h) != 2 || h["status"] != "ok" || h["version"] != "test" {
		t.Fatalf("forwarded: %v", h)
	}
}

// TestIdleFloodDoesNotStarveCallbacks: more idle keep-alive connections
// than the cap neither stay open nor keep Singpass's callback out.
func TestIdleFloodDoesNotStarveCallbacks(t *testing.T) {
	r := newRig(t, nil)
	addr := strings.TrimPrefix(r.base, "http://")
	flood := make([]net.Conn, 0, MaxConns+44)
	t.Cleanup(func() {
		for _, c := range flood {
			c.Close()
		}
	})
	for i := 0; i < cap(flood); i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		flood = append(flood, c)
		// One request each, so that each is an idle keep-alive connection.
		c.SetDeadline(time.Now().Add(10 * time.Second))
		io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: kiosk\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	if s := r.visit(t, "Adult citizen", "allow", ""); s.Phase != PhaseResult || s.Outcome != OutcomeEligible {
		t.Fatalf("the real scan: %+v", s)
	}
	open := 0
	for _, c := range flood {
		c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
		var ne net.Error
		if _, err := c.Read(make([]byte, 1)); errors.As(err, &ne) && ne.Timeout() {
			open++
		}
	}
	if open > MaxConns {
		t.Fatalf("%d of %d idle connections still open; the cap is %d", open, len(flood), MaxConns)
	}
}
