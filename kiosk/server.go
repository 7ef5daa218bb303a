package kiosk

import (
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"ndikiosk/ndi"
)

// ServerConfig sets up the kiosk's embedded HTTP server.
type ServerConfig struct {
	CallbackPath  string
	Sandbox       http.Handler // mounted at SandboxPrefix when not nil
	SandboxPrefix string
	Version       string
	JWKSPath      string // FAPI: the kiosk's public keys, fetched by Singpass
	JWKS          []byte
	// TrustedProxies are the reverse proxies and relays whose
	// X-Forwarded-For is believed; nobody else's is.
	TrustedProxies []netip.Prefix
	// Routes are further routes by pattern ("GET /sign/jwks"): the
	// signing step's JWKS and the page the phone returns to after signing.
	Routes map[string]http.Handler
}

// ParseTrustedProxies reads kiosk.trusted_proxies: IP addresses and CIDR
// ranges.
func ParseTrustedProxies(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range list {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil || a.Zone() != "" {
				return nil, fmt.Errorf("%q is not an IP address or CIDR range (e.g. 10.0.0.5 or 10.0.0.0/24)", s)
			}
			p = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			// Peers are compared unmapped: ::ffff:10.0.0.0/104 is 10.0.0.0/8.
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

var phonePage = template.Must(template.New("cb").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>ndikiosk</title><style>body{font-family:system-ui,sans-serif;margin:0;display:flex;min-height:100vh;
align-items:center;justify-content:center;background:#f4f4f6}p{font-size:1.4rem;max-width:28rem;padding:1.5rem;
text-align:center;background:#fff;border-radius:12px;box-shadow:0 1px 4px #0002}</style></head>
<body><p>{{.}}</p></body></html>`))

// Callbacks is where the callback route hands a callback: an engine, or
// the hub's router in front of many.
type Callbacks interface {
	// Callback handles one callback or redirect and says what the phone's
	// browser is told.
	Callback(q url.Values) Verdict
	// Awaits reports whether state names a code still awaited, so that a
	// real callback is never slowed by the penalty box.
	Awaits(state string) bool
}

// NewHandler returns the server's routes: the callback (Verify's callback or
// the FAPI redirect the phone's browser follows), /healthz, the kiosk's
// JWKS for FAPI, and the sandbox when one is given.
func NewHandler(e *Engine, cfg ServerConfig) http.Handler {
	return NewRoutes(e, func(local bool) map[string]any {
		h := map[string]any{"status": "ok", "version": cfg.Version}
		// The phase tells whether a visitor is at the screen: only for this
		// machine.
		if local {
			h["phase"], h["outstanding_codes"] = e.Screen().Phase.String(), e.Outstanding()
		}
		return h
	}, cfg)
}

// NewRoutes is NewHandler for any Callbacks; health makes /healthz's
// answer, told whether the request comes from this machine.
func NewRoutes(cb Callbacks, health func(local bool) map[string]any, cfg ServerConfig) http.Handler {
	mux := http.NewServeMux()
	limiter := newPenaltyBox(20, 10*time.Second)
	mux.HandleFunc("GET "+cfg.CallbackPath, func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		client := clientAddr(r, cfg.TrustedProxies)
		// A callback for a code the engine awaits may be the real one: behind
		// a relay it shares its address with any forger, so the penalty box
		// neither stops nor counts it. A live state is single use, so this
		// lets no flood through.
		live := cb.Awaits(CallbackState(q))
		if !live && limiter.blocked(client) {
			http.Error(w, "Too many invalid requests; try again shortly.", http.StatusTooManyRequests)
			return
		}
		v := cb.Callback(q)
		if v.Status >= 400 && !live {
			limiter.fail(client)
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Referrer-Policy", "no-referrer")
		w.WriteHeader(v.Status)
		phonePage.Execute(w, v.Message)
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		json.NewEncoder(w).Encode(health(fromThisMachine(r, cfg.TrustedProxies)))
	})
	if cfg.JWKSPath != "" {
		mux.HandleFunc("GET "+cfg.JWKSPath, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			// Short enough that a key rotation reaches Singpass quickly.
			w.Header().Set("Cache-Control", "public, max-age=300")
			w.Write(cfg.JWKS)
		})
	}
	for pattern, h := range cfg.Routes {
		mux.Handle(pattern, h)
	}
	if cfg.Sandbox != nil {
		mux.Handle(cfg.SandboxPrefix+"/", cfg.Sandbox)
	}
	return mux
}

// MaxBody is the largest request body the server reads, but for the
// paths given to NewServer as uploads.
const MaxBody = 64 << 10

// MaxUpload is the largest body of an upload path: a PDF sent to the
// sandbox's Sign side (Sign takes less than 10 MB).
const MaxUpload = 11 << 20

// NewServer wraps the handler with timeouts and header limits fit for a
// server that faces the internet through a relay. Serve it through
// LimitConns.
// uploads are exact POST paths whose bodies may reach MaxUpload (the
// sandbox's sign-request endpoint); every other body stops at MaxBody.
func NewServer(h http.Handler, uploads ...string) *http.Server {
	small, big := http.MaxBytesHandler(h, MaxBody), http.MaxBytesHandler(h, MaxUpload)
	handler := small
	if len(uploads) > 0 {
		handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost && slices.Contains(uploads, r.URL.Path) {
				big.ServeHTTP(w, r)
				return
			}
			small.ServeHTTP(w, r)
		})
	}
	return &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		// Singpass makes one call per visit: a connection idle this long
		// is not coming back soon, and each one costs memory.
		IdleTimeout:    30 * time.Second,
		MaxHeaderBytes: 16 << 10,
	}
}

// MaxConns is how many connections the kiosk's server holds at once: far
// more than callbacks, redirects and JWKS fetches need, few enough that a
// flood of connections cannot grow the kiosk's memory without bound.
const MaxConns = 256

// LimitConns lets srv hold at most max connections from ln. Past that a
// new connection waits (the next ones in the listen backlog), and srv
// stops keeping connections alive: the idle ones are closed at once and
// the others after their answer, so a flood of idle connections cannot
// hold the slots a callback needs. Keep-alive comes back once no more
// than half the slots are in use.
func LimitConns(ln net.Listener, srv *http.Server, max int) net.Listener {
	return &connLimit{Listener: ln, srv: srv, slots: make(chan struct{}, max), done: make(chan struct{})}
}

type connLimit struct {
	net.Listener
	srv   *http.Server
	slots chan struct{} // one per open connection
	done  chan struct{} // closed by Close
	once  sync.Once
}

// crowdedRecheck is how often a wait for a slot closes the connections
// that went idle meanwhile.
const crowdedRecheck = time.Second

// Accept takes the connection before its slot, so that the idle ones are
// closed only when someone is actually waiting; at most this one
// connection is held unserved.
func (l *connLimit) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	if err := l.acquire(); err != nil {
		c.Close()
		return nil, err
	}
	return &limitedConn{Conn: c, release: l.release}, nil
}

func (l *connLimit) acquire() error {
	for {
		select {
		case l.slots <- struct{}{}:
			return nil
		case <-l.done:
			return net.ErrClosed
		default:
		}
		// This also closes the idle connections, at once: their slots
		// come back through release. A release racing with it may leave
		// keep-alive on while full; the next round turns it off again.
		l.srv.SetKeepAlivesEnabled(false)
		t := time.NewTimer(crowdedRecheck)
		select {
		case l.slots <- struct{}{}:
			t.Stop()
			return nil
		case <-l.done:
			t.Stop()
			return net.ErrClosed
		case <-t.C:
		}
	}
}

func (l *connLimit) release() {
	<-l.slots
	if len(l.slots) <= cap(l.slots)/2 {
		l.srv.SetKeepAlivesEnabled(true) // an atomic store, cheap to repeat
	}
}

func (l *connLimit) Close() error {
	l.once.Do(func() { close(l.done) })
	return l.Listener.Close()
}

// limitedConn gives its slot back when closed, once.
type limitedConn struct {
	net.Conn
	release func()
	once    sync.Once
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

// callbackState is the state of a well-formed callback query, or "".
// CallbackState is the state a callback or redirect names, or "".
func CallbackState(q url.Values) string {
	cb, err := ndi.ParseCallback(q)
	var perr *ndi.ProviderError
	switch {
	case errors.As(err, &perr):
		return perr.State
	case err != nil:
		return ""
	}
	return cb.State
}

// Awaits reports whether state names a code the engine still awaits:
// issued, unused and unexpired.
func (e *Engine) Awaits(state string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	o, ok := e.states[state]
	return ok && e.now().Before(o.expires)
}

// peerAddr is the address of the request's TCP peer.
func peerAddr(r *http.Request) (netip.Addr, bool) {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}, false
	}
	return ap.Addr().Unmap(), true
}

// fromThisMachine reports whether r came from loopback, judged by the TCP
// peer alone, and was not forwarded: a reverse proxy or relay on this
// machine connects from loopback too, so a forwarding header, or a peer
// that is a trusted proxy, means the request came from elsewhere. Headers
// can only take access away here, never grant it.
func fromThisMachine(r *http.Request, trusted []netip.Prefix) bool {
	addr, ok := peerAddr(r)
	if !ok || !addr.IsLoopback() || isTrusted(addr, trusted) {
		return false
	}
	for _, h := range []string{"X-Forwarded-For", "Forwarded", "X-Real-Ip"} {
		if _, fwd := r.Header[h]; fwd {
			return false
		}
	}
	return true
}

// clientAddr is the address the penalty box counts: the TCP peer, or, when
// the peer is a trusted proxy, the right-most X-Forwarded-For entry that is
// not itself a trusted proxy. Entries further left were written by the
// client and prove nothing. An entry that is not an address (a proxy that
// does not append, or writes "unknown") ends the walk at the last proxy.
func clientAddr(r *http.Request, trusted []netip.Prefix) string {
	addr, ok := peerAddr(r)
	if !ok {
		return r.RemoteAddr
	}
	if !isTrusted(addr, trusted) {
		return addr.String()
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop, ok := parseHop(hops[i])
		if !ok {
			break
		}
		addr = hop
		if !isTrusted(hop, trusted) {
			break
		}
	}
	return addr.String()
}

// parseHop reads one X-Forwarded-For entry: an address, perhaps with a
// port or in brackets.
func parseHop(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if a, err := netip.ParseAddr(strings.Trim(s, "[]")); err == nil && a.Zone() == "" {
		return a.Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil && ap.Addr().Zone() == "" {
		return ap.Addr().Unmap(), true
	}
	return netip.Addr{}, false
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// penaltyBox refuses a client for a while after too many rejected
// callbacks. Good callbacks are never counted, so a burst of forgeries from
// one address does not lock out Singpass on another; callbacks with a live
// state are never refused, so it does not lock out Singpass on the same one.
type penaltyBox struct {
	mu     sync.Mutex
	limit  int
	window time.Duration
	hits   map[string]*strikes
}

type strikes struct {
	n     int
	since time.Time
}

func newPenaltyBox(limit int, window time.Duration) *penaltyBox {
	return &penaltyBox{limit: limit, window: window, hits: map[string]*strikes{}}
}

func (p *penaltyBox) fail(ip string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	s := p.hits[ip]
	if s == nil || now.Sub(s.since) > p.window {
		if len(p.hits) > 10000 {
			for k, v := range p.hits {
				if now.Sub(v.since) > p.window {
					delete(p.hits, k)
				}
			}
		}
		s = &strikes{since: now}
		p.hits[ip] = s
	}
	s.n++
}

func (p *penaltyBox) blocked(ip string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.hits[ip]
	return s != nil && s.n >= p.limit && time.Since(s.since) <= p.window
}

// TLSConfig is the server side of kiosk.tls_cert: TLS 1.2 or newer with the
// ECDHE AES-GCM suites Singpass asks for.
func TLSConfig() *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, CipherSuites: []uint16{
		tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
		tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	}}
}

// ClientAddr is the address a request came from: the peer, or behind a
// trusted proxy the address it forwarded for (the hub's dashboard counts
// failed sign-ins by it).
func ClientAddr(r *http.Request, trusted []netip.Prefix) string { return clientAddr(r, trusted) }
