package kiosk_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"testing"
	"time"

	"ndikiosk/kiosk"
)

// testEngine is an engine with a code on screen whose exchanges all fail.
func testEngine(t testing.TB) *kiosk.Engine {
	t.Helper()
	e, err := kiosk.NewEngine(context.Background(), kiosk.EngineConfig{KioskID: "k1", Mode: kiosk.ModeAge, MinAge: 18,
		QRLifetime: time.Minute, QRLead: 5 * time.Second, ExchangeTimeout: time.Second, ResultTimeout: time.Second, ResultMin: time.Second,
		ConfirmTimeout: time.Second, MaxOutstanding: 4, ServiceName: "Singpass", Contact: "staff"},
		kiosk.Deps{Provider: fuzzProvider{}, Store: fuzzStore{}, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	e.Step()
	return e
}

// from is a request's TCP peer and the X-Forwarded-For lines it carries.
type from struct {
	peer string
	xff  []string
}

func serve(h http.Handler, f from, path string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.RemoteAddr = f.peer
	for _, v := range f.xff {
		req.Header.Add("X-Forwarded-For", v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

func shownState(t *testing.T, e *kiosk.Engine) string {
	u, err := url.Parse(e.Screen().QR)
	if err != nil || u.Query().Get("state") == "" {
		t.Fatalf("no state in the QR %q", e.Screen().QR)
	}
	return u.Query().Get("state")
}

// TestPenaltyBoxKeys shows which requests the penalty box counts as one
// client: after 20 forged callbacks from a, is b refused too?
func TestPenaltyBoxKeys(t *testing.T) {
	proxies, err := kiosk.ParseTrustedProxies([]string{"10.0.0.0/8", "2001:db8::1"})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		a, b from
		same bool
	}{
		{"an untrusted peer cannot pick its address", from{"192.0.2.7:4000", []string{"203.0.113.1"}}, from{"192.0.2.7:4001", []string{"203.0.113.2"}}, true},
		{"an untrusted peer's forwarded address is not believed", from{"192.0.2.7:4000", []string{"203.0.113.9"}}, from{"192.0.2.8:4000", []string{"203.0.113.9"}}, false},
		{"a trusted proxy's clients are told apart", from{"10.0.0.1:4000", []string{"203.0.113.9"}}, from{"10.0.0.1:4000", []string{"203.0.113.10"}}, false},
		{"a trusted proxy's forwarded address is the client's", from{"10.0.0.1:4000", []string{"203.0.113.9"}}, from{"203.0.113.9:5000", nil}, true},
		{"entries left of the proxy's are the client's own claims", from{"10.0.0.1:4000", []string{"198.51.100.1, 203.0.113.9"}}, from{"10.0.0.1:4000", []string{"198.51.100.2,203.0.113.9"}}, true},
		{"a chain of trusted proxies is walked", from{"10.0.0.1:4000", []string{"203.0.113.9, 10.0.0.2"}}, from{"10.0.0.3:4000", []string{"203.0.113.9"}}, true},
		{"header lines are one list", from{"10.0.0.1:4000", []string{"198.51.100.1", "203.0.113.9"}}, from{"10.0.0.1:4000", []string{"203.0.113.9"}}, true},
		{"a trusted proxy with no header is the client", from{"10.0.0.1:4000", nil}, from{"10.0.0.1:4001", nil}, true},
		{"a trusted proxy is not its clients", from{"10.0.0.1:4000", nil}, from{"10.0.0.1:4000", []string{"203.0.113.9"}}, false},
		{"an entry that is no address stops at the proxy", from{"10.0.0.1:4000", []string{"unknown"}}, from{"10.0.0.1:4000", nil}, true},
		{"forwarded entries may carry a port", from{"10.0.0.1:4000", []string{"203.0.113.9:1234"}}, from{"10.0.0.1:4000", []string{"203.0.113.9"}}, true},
		{"IPv4-mapped peers match IPv4 ranges", from{"[::ffff:10.0.0.1]:4000", []string{"203.0.113.9"}}, from{"10.0.0.1:4000", []string{"203.0.113.9"}}, true},
		{"IPv6 proxies and clients", from{"[2001:db8::1]:4000", []string{"2001:db8:1::9"}}, from{"[2001:db8:1::9]:4000", nil}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := kiosk.NewHandler(testEngine(t), kiosk.ServerConfig{CallbackPath: "/callback", TrustedProxies: proxies})
			for i := 0; i < 20; i++ {
				if w := serve(h, c.a, "/callback?code=x&state=k1-forged"); w.Code != http.StatusNotFound {
					t.Fatalf("forged callback %d: %d", i, w.Code)
				}
			}
			if w := serve(h, c.a, "/callback?code=x&state=k1-forged"); w.Code != http.StatusTooManyRequests {
				t.Fatalf("a itself is not refused: %d", w.Code)
			}
			w := serve(h, c.b, "/callback?code=x&state=k1-forged")
			if same := w.Code == http.StatusTooManyRequests; same != c.same {
				t.Fatalf("b got %d; same client %v, want %v", w.Code, same, c.same)
			}
		})
	}
}

// TestLiveStateIsNeverThrottled: behind a proxy every callback comes from
// one address, so forgeries must not lock out the real one.
func TestLiveStateIsNeverThrottled(t *testing.T) {
	e := testEngine(t)
	h := kiosk.NewHandler(e, kiosk.ServerConfig{CallbackPath: "/callback"})
	relay := from{peer: "192.0.2.7:4000"}
	for i := 0; i < 30; i++ {
		serve(h, relay, "/callback?code=x&state=k1-forged")
	}
	if w := serve(h, relay, "/callback?code=x&state=k1-forged"); w.Code != http.StatusTooManyRequests {
		t.Fatalf("forgeries are not throttled: %d", w.Code)
	}
	state := shownState(t, e)
	// Knowing the live state does not open the box to malformed requests.
	if w := serve(h, relay, "/callback?code=x&state="+state+"&state="+state); w.Code != http.StatusTooManyRequests {
		t.Fatalf("a malformed request with a live state: %d", w.Code)
	}
	if w := serve(h, relay, "/callback?code=x&state="+state); w.Code != http.StatusOK {
		t.Fatalf("the real callback: %d %s", w.Code, w.Body)
	}
	if w := serve(h, relay, "/callback?code=x&state="+state); w.Code != http.StatusTooManyRequests {
		t.Fatalf("the used state replayed: %d", w.Code)
	}
}

func TestParseTrustedProxies(t *testing.T) {
	got, err := kiosk.ParseTrustedProxies([]string{"127.0.0.1", "10.1.2.3/16", "::1", "::ffff:192.0.2.0/120"})
	want := []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("10.1.0.0/16"),
		netip.MustParsePrefix("::1/128"), netip.MustParsePrefix("192.0.2.0/24")}
	if err != nil || len(got) != len(want) {
		t.Fatalf("%v %v", got, err)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("%d: %v, want %v", i, got[i], want[i])
		}
	}
	for _, bad := range []string{"proxy.lan", "10.0.0.1/33", "fe80::1%eth0", ""} {
		if _, err := kiosk.ParseTrustedProxies([]string{bad}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestHealthzDetailOnlyFromThisMachine: the phase says whether a visitor is
// at the screen, so only a request from this machine's loopback, not
// forwarded by a proxy, sees it.
func TestHealthzDetailOnlyFromThisMachine(t *testing.T) {
	loopbackProxy, _ := kiosk.ParseTrustedProxies([]string{"127.0.0.2"})
	cases := []struct {
		name   string
		f      from
		header string
		detail bool
	}{
		{"loopback", from{"127.0.0.1:5000", nil}, "", true},
		{"IPv6 loopback", from{"[::1]:5000", nil}, "", true},
		{"remote", from{"203.0.113.5:5000", nil}, "", false},
		{"remote claiming loopback", from{"203.0.113.5:5000", []string{"127.0.0.1"}}, "", false},
		{"through a proxy on this machine", from{"127.0.0.1:5000", []string{"203.0.113.5"}}, "", false},
		{"through a proxy that says Forwarded", from{"127.0.0.1:5000", nil}, "Forwarded", false},
		{"through a proxy that says X-Real-IP", from{"127.0.0.1:5000", nil}, "X-Real-IP", false},
		{"from a trusted proxy on loopback", from{"127.0.0.2:5000", nil}, "", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := kiosk.NewHandler(testEngine(t), kiosk.ServerConfig{CallbackPath: "/callback", Version: "v9", TrustedProxies: loopbackProxy})
			req := httptest.NewRequest(http.MethodGet, "/healthz", nil)
			req.RemoteAddr = c.f.peer
			for _, v := range c.f.xff {
				req.Header.Add("X-Forwarded-For", v)
			}
			if c.header != "" {
				req.Header.Set(c.header, "for=203.0.113.5")
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			var got map[string]any
			if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &got) != nil || got["status"] != "ok" || got["version"] != "v9" {
				t.Fatalf("%d %s", w.Code, w.Body)
			}
			_, phase := got["phase"]
			_, codes := got["outstanding_codes"]
			if phase != c.detail || codes != c.detail || (c.detail && got["phase"] != "qr") || (!c.detail && len(got) != 2) {
				t.Fatalf("detail %v: %s", c.detail, w.Body)
			}
		})
	}
}

// client is one raw keep-alive connection to a test server.
type client struct {
	net.Conn
	r *bufio.Reader
}

func dial(t *testing.T, addr string) *client {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &client{c, bufio.NewReader(c)}
}

// send writes a request without waiting for the answer.
func (c *client) send(t *testing.T) {
	t.Helper()
	if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: kiosk\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
}

// answered waits up to d for the answer to a request sent.
func (c *client) answered(d time.Duration) error {
	c.SetReadDeadline(time.Now().Add(d))
	resp, err := http.ReadResponse(c.r, nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return err
}

// closed reports whether the server has closed the connection, waiting up
// to d for it.
func (c *client) closed(d time.Duration) bool {
	c.SetReadDeadline(time.Now().Add(d))
	_, err := c.r.ReadByte()
	var ne net.Error
	return err != nil && !(errors.As(err, &ne) && ne.Timeout())
}

// limitedServer serves a trivial handler through kiosk.NewServer and
// kiosk.LimitConns on loopback; tweak shortens its timeouts.
func limitedServer(t *testing.T, max int, tweak func(*http.Server)) (string, *http.Server, chan error) {
	t.Helper()
	srv := kiosk.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	tweak(srv)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(kiosk.LimitConns(ln, srv, max)) }()
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String(), srv, served
}

// TestIdleConnectionsAreClosed: an idle keep-alive connection is closed
// after the server's idle timeout, 30 s in the kiosk.
func TestIdleConnectionsAreClosed(t *testing.T) {
	if s := kiosk.NewServer(http.NotFoundHandler()); s.IdleTimeout != 30*time.Second || s.ReadHeaderTimeout > 10*time.Second {
		t.Fatalf("idle timeout %v, header timeout %v", s.IdleTimeout, s.ReadHeaderTimeout)
	}
	addr, _, _ := limitedServer(t, 4, func(s *http.Server) { s.IdleTimeout = 200 * time.Millisecond })
	c := dial(t, addr)
	c.send(t)
	if err := c.answered(2 * time.Second); err != nil {
		t.Fatal(err)
	}
	if !c.closed(3 * time.Second) {
		t.Fatal("an idle connection stayed open past the idle timeout")
	}
}

// TestConnectionCapWaits: past the cap a new connection waits (its
// request is not read) until one closes, here a silent one cut off by the
// header timeout.
func TestConnectionCapWaits(t *testing.T) {
	addr, _, _ := limitedServer(t, 3, func(s *http.Server) { s.ReadHeaderTimeout = time.Second })
	var silent []*client
	for i := 0; i < 3; i++ {
		silent = append(silent, dial(t, addr))
	}
	time.Sleep(50 * time.Millisecond) // accepted
	extra := dial(t, addr)
	extra.send(t)
	if err := extra.answered(300 * time.Millisecond); err == nil {
		t.Fatal("a fourth connection was served past a cap of three")
	}
	if err := extra.answered(5 * time.Second); err != nil {
		t.Fatalf("capacity never came back: %v", err)
	}
	for i, c := range silent {
		if !c.closed(time.Second) {
			t.Errorf("silent connection %d still open", i)
		}
	}
}

// TestConnectionCapClosesIdle: when the cap is reached, idle keep-alive
// connections are closed at once instead of holding their slots for the
// idle timeout, and keep-alives come back when the crowd has gone.
func TestConnectionCapClosesIdle(t *testing.T) {
	addr, _, _ := limitedServer(t, 3, func(s *http.Server) { s.IdleTimeout = time.Minute })
	var idle []*client
	for i := 0; i < 3; i++ {
		c := dial(t, addr)
		c.send(t)
		if err := c.answered(2 * time.Second); err != nil {
			t.Fatal(err)
		}
		idle = append(idle, c)
	}
	time.Sleep(50 * time.Millisecond) // the server marks the last one idle
	late := dial(t, addr)
	late.send(t)
	if err := late.answered(3 * time.Second); err != nil {
		t.Fatalf("idle connections starved a new one: %v", err)
	}
	for i, c := range idle {
		if !c.closed(time.Second) {
			t.Errorf("idle connection %d still open", i)
		}
	}
	late.send(t)
	if err := late.answered(2 * time.Second); err != nil {
		t.Fatalf("keep-alive did not come back: %v", err)
	}
	if late.closed(100 * time.Millisecond) {
		t.Fatal("keep-alive did not come back: the connection was closed")
	}
}

// TestConnectionCapClose: closing the server ends a wait for a slot.
func TestConnectionCapClose(t *testing.T) {
	addr, srv, served := limitedServer(t, 1, func(*http.Server) {})
	dial(t, addr)
	time.Sleep(50 * time.Millisecond)
	dial(t, addr).send(t)
	time.Sleep(50 * time.Millisecond)
	srv.Close()
	select {
	case err := <-served:
		if !errors.Is(err, http.ErrServerClosed) {
			t.Fatalf("serve: %v", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("Serve still waits for a slot after Close")
	}
}
