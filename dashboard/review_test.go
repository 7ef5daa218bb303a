package dashboard

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestSignInChecksBounded: each password check holds argon2id's 19 MiB, so
// a flood of sign-ins (all let past the lockout before any failure is
// counted) must not run them all at once. With every slot taken, a sign-in
// waits and then answers busy, counting no failure (a flood cannot lock
// out a name); once a slot frees, it goes through.
func TestSignInChecksBounded(t *testing.T) {
	r := newRig(t)
	r.operator("alice", Admin)
	a := r.d.Accounts()
	for range cap(a.checks) {
		a.checks <- struct{}{}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := a.SignIn(ctx, "alice", "wrong password!", "192.0.2.1"); !errors.Is(err, ErrBusy) {
		t.Fatalf("sign-in with every check slot taken: %v, want ErrBusy", err)
	}
	if n := r.count(`SELECT count(*) FROM signin_failures`); n != 0 {
		t.Fatalf("a refused-as-busy sign-in counted %d failures", n)
	}
	// A sign-in waiting for a slot goes through once one frees.
	go func() {
		time.Sleep(50 * time.Millisecond)
		for range cap(a.checks) {
			<-a.checks
		}
	}()
	if resp, _ := r.client().signIn("alice", password); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in once a slot freed: HTTP %d", resp.StatusCode)
	}
}

// openStream opens the event stream for c; the caller closes the body.
func (c *client) openStream(ctx context.Context) *http.Response {
	c.r.t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, c.r.srv.URL+"/dashboard/events", nil)
	resp, err := c.http.Do(req)
	if err != nil {
		c.r.t.Fatal(err)
	}
	return resp
}

// TestEventStreamsCapped: each stream holds a connection of the hub's,
// which the kiosks share; one operator (a malicious viewer with a script)
// may hold only MaxStreams of them, and is answered 429 past that while
// another operator still gets theirs. A stream closed frees its place.
func TestEventStreamsCapped(t *testing.T) {
	r := newRig(t)
	r.operator("viv", Viewer)
	r.operator("ann", Admin)
	c := r.client()
	c.mustSignIn("viv")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var open []*http.Response
	for i := range MaxStreams {
		resp := c.openStream(ctx)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("stream %d: HTTP %d", i+1, resp.StatusCode)
		}
		open = append(open, resp)
	}
	defer func() {
		for _, o := range open {
			o.Body.Close()
		}
	}()
	resp := c.openStream(ctx)
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("stream %d of one operator: HTTP %d, want 429", MaxStreams+1, resp.StatusCode)
	}
	other := r.client()
	other.mustSignIn("ann")
	if resp := other.openStream(ctx); resp.StatusCode != http.StatusOK {
		t.Fatalf("another operator's stream: HTTP %d", resp.StatusCode)
	} else {
		resp.Body.Close()
	}
	open[0].Body.Close()
	open = open[1:]
	for try := 0; ; try++ {
		resp := c.openStream(ctx)
		if resp.StatusCode == http.StatusOK {
			open = append(open, resp)
			break
		}
		resp.Body.Close()
		if try == 100 {
			t.Fatalf("a closed stream's place is not freed: HTTP %d", resp.StatusCode)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestClientLockoutIPv6: a client on IPv6 has a /64 of addresses to take
// from; the lockout by address counts the /64, so rotating addresses in
// it does not escape the lock, while another /64 is not locked.
func TestClientLockoutIPv6(t *testing.T) {
	r := newRig(t)
	r.operator("alice", Admin)
	a := r.d.Accounts()
	ctx := context.Background()
	for i := range ClientLockAfter {
		a.SignIn(ctx, fmt.Sprintf("guess%d", i), "wrong password!", fmt.Sprintf("2001:db8:1:2::%x", i+1))
	}
	var locked *LockedError
	if _, err := a.SignIn(ctx, "alice", password, "2001:db8:1:2:ffff::9"); !errors.As(err, &locked) {
		t.Fatalf("another address of the /64 after %d failures: %v, want locked", ClientLockAfter, err)
	}
	if _, err := a.SignIn(ctx, "alice", password, "2001:db8:1:3::1"); err != nil {
		t.Fatalf("another /64: %v", err)
	}
	if _, err := a.SignIn(ctx, "alice", password, "192.0.2.7"); err != nil {
		t.Fatalf("an IPv4 client: %v", err)
	}
}

var metaRefresh = regexp.MustCompile(`<meta http-equiv="refresh" content="(\d+);\s*url=([^"]+)">`)

// TestNoScriptRefreshIsNotActivity: with JavaScript off a live page
// reloads itself; those reloads, like the script's, must not count as the
// operator's activity, or a page left open never signs out.
func TestNoScriptRefreshIsNotActivity(t *testing.T) {
	r := newRig(t)
	r.operator("alice", Viewer)
	c := r.client()
	c.mustSignIn("alice")
	_, body := c.get("/dashboard/onsite?site=HQ")
	m := metaRefresh.FindStringSubmatch(body)
	if m == nil {
		t.Fatal("the on-site page's reload names no URL to mark it automatic")
	}
	next := html.UnescapeString(m[2])
	if !strings.HasPrefix(next, "/dashboard/onsite?") || !strings.Contains(next, "site=HQ") {
		t.Fatalf("the reload goes to %q", next)
	}
	// A hostile site cannot point the reload elsewhere.
	_, hostile := c.get("/dashboard/onsite?site=" + url.QueryEscape(`x"; url=https://evil.example/`))
	if m := metaRefresh.FindStringSubmatch(hostile); m == nil || !strings.HasPrefix(html.UnescapeString(m[2]), "/dashboard/onsite?") ||
		strings.Contains(m[2], "evil.example/") {
		t.Fatalf("reload of a hostile site: %q", m)
	}
	for i := range 3 { // 45 minutes of reloads alone
		r.clock.Add(15 * time.Minute)
		resp, body := c.get(next)
		if i < 1 && resp.StatusCode != http.StatusOK {
			t.Fatalf("reload %d: HTTP %d", i+1, resp.StatusCode)
		}
		if i == 2 {
			if resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("after 45 minutes of reloads only: HTTP %d, want signed out", resp.StatusCode)
			}
			return
		}
		if m := metaRefresh.FindStringSubmatch(body); m != nil {
			next = html.UnescapeString(m[2])
		}
	}
}

// TestHostEmailTooLong: an address no mail server takes (a path is at
// most 256 octets, an address 254) is refused when typed, not kept to
// fail at every visitor's arrival.
func TestHostEmailTooLong(t *testing.T) {
	r := newRig(t)
	r.operator("ada", Admin)
	c := r.client()
	c.mustSignIn("ada")
	c.get("/dashboard/hosts")
	long := strings.Repeat("a", 64) + "@" + strings.Repeat("b", 250) + ".example"
	resp, body := c.post("/dashboard/hosts", url.Values{"csrf": {c.csrf}, "site": {"HQ"}, "name": {"Mr Tan"}, "email": {long}})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `id="hosts-error"`) {
		t.Fatalf("a %d-character email: HTTP %d", len(long), resp.StatusCode)
	}
	if got := r.hostsByName(); len(got) != 0 {
		t.Fatalf("hosts: %v", got)
	}
}

// TestEventStreamEndsWithTheSession: an operator removed (or signed out
// elsewhere, or whose password was changed) stops getting the live
// stream at its next keep-alive, not minutes later.
func TestEventStreamEndsWithTheSession(t *testing.T) {
	defer func(p time.Duration) { streamPing = p }(streamPing)
	streamPing = 50 * time.Millisecond
	r := newRig(t)
	r.operator("viv", Viewer)
	c := r.client()
	c.mustSignIn("viv")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp := c.openStream(ctx)
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("stream: HTTP %d", resp.StatusCode)
	}
	buf := make([]byte, 64)
	if _, err := resp.Body.Read(buf); err != nil {
		t.Fatal(err)
	}
	if err := r.d.Accounts().Remove(context.Background(), "viv"); err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(io.Discard, resp.Body); err != nil || ctx.Err() != nil {
		t.Fatalf("the stream of a removed operator did not end: %v %v", err, ctx.Err())
	}
}

// smallBuffers gives each accepted connection a small send buffer, so
// that a page larger than it blocks the server when the client does not
// read.
type smallBuffers struct{ net.Listener }

func (l smallBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetWriteBuffer(4096)
	}
	return c, err
}

// TestStalledReaderLetGo: the hub serves the dashboard with no write
// timeout (the kiosks' channels stay open), so a signed-in client that
// stops reading a large answer (an export) would hold its connection,
// and its handler, for good; each answer has a deadline instead.
func TestStalledReaderLetGo(t *testing.T) {
	r := newRig(t)
	r.d.o.WriteTimeout = 300 * time.Millisecond
	srv := httptest.NewUnstartedServer(r.d.Handler())
	srv.Listener = smallBuffers{srv.Listener}
	srv.Start()
	defer srv.Close()
	r.seedToday(600)
	r.operator("ada", Admin)
	c := r.client()
	c.mustSignIn("ada")
	if _, body := c.get("/dashboard/export"); len(body) < 64<<10 {
		t.Fatalf("the export is only %d bytes: too small to stall", len(body))
	}
	u, _ := url.Parse(r.srv.URL)
	var cookie string
	for _, k := range c.http.Jar.Cookies(u) {
		if k.Name == r.d.cookieName() {
			cookie = k.Name + "=" + k.Value
		}
	}
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	conn.(*net.TCPConn).SetReadBuffer(4096)
	defer conn.Close()
	fmt.Fprintf(conn, "GET /dashboard/export HTTP/1.1\r\nHost: %s\r\nCookie: %s\r\nConnection: close\r\n\r\n", srv.Listener.Addr(), cookie)
	time.Sleep(1500 * time.Millisecond) // reading nothing, well past the deadline
	conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	got, err := io.ReadAll(conn)
	if !bytes.HasPrefix(got, []byte("HTTP/1.1 200")) {
		t.Fatalf("export: %.80q %v", got, err)
	}
	if bytes.HasSuffix(got, []byte("\r\n0\r\n\r\n")) {
		t.Fatalf("a reader stalled past the write deadline still got the whole export (%d bytes)", len(got))
	}
}

// TestLockoutIgnoresForwardedFor: with no trusted proxy, a client that
// sends a new X-Forwarded-For (or X-Real-IP) with each guess is still
// counted by its own address; and a name's case or surrounding spaces do
// not make a new count.
func TestLockoutIgnoresForwardedFor(t *testing.T) {
	r := newRig(t)
	r.operator("alice", Admin)
	c := r.client()
	for i := range ClientLockAfter {
		c.get("/dashboard/signin")
		ip := fmt.Sprintf("198.51.100.%d", i+1)
		c.post("/dashboard/signin", url.Values{"csrf": {c.csrf}, "name": {fmt.Sprintf("guess%d", i)}, "password": {"wrong password!"}},
			"X-Forwarded-For", ip, "X-Real-IP", ip, "Forwarded", "for="+ip)
	}
	c.get("/dashboard/signin")
	resp, _ := c.post("/dashboard/signin", url.Values{"csrf": {c.csrf}, "name": {"alice"}, "password": {password}}, "X-Forwarded-For", "203.0.113.9")
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("after %d failures under forged addresses: HTTP %d", ClientLockAfter, resp.StatusCode)
	}
	a := r.d.Accounts()
	ctx := context.Background()
	for i, name := range []string{"bob", "BOB", " Bob ", "bOb\u00a0", "\tbob"} {
		_, err := a.SignIn(ctx, name, "wrong password!", fmt.Sprintf("192.0.2.%d", i+1))
		var locked *LockedError
		if i < LockAfter-1 && !errors.Is(err, ErrSignIn) || i == LockAfter-1 && !errors.As(err, &locked) {
			t.Fatalf("try %d as %q: %v", i+1, name, err)
		}
	}
}
