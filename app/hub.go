package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"ndikiosk/config"
	"ndikiosk/dashboard"
	"ndikiosk/hub"
	"ndikiosk/internal/seal"
	"ndikiosk/kiosk"
	"ndikiosk/ndi"
	"ndikiosk/ndi/sign"
	"ndikiosk/notify"
	"ndikiosk/pgstore"
)

// Hub is a hub ready to run: its Singpass identity, its PostgreSQL log,
// the kiosk registry, the relay to the other replicas, and its server's
// port bound.
type Hub struct {
	Config   *config.Config
	Identity *Identity
	Store    *pgstore.DB
	Registry *hub.Registry
	Hub      *hub.Hub
	Notifier *notify.Worker // tells hosts of their visitors; started by Run
	// Dashboard is the operators' dashboard, served under /dashboard/.
	Dashboard *dashboard.Dashboard

	clock  func() time.Time
	log    *slog.Logger
	ln     net.Listener
	server *http.Server
	face   *kiosk.FaceConfig
	sign   *Signing // [sign]: every kiosk's visitors sign the agreement; nil without
	// exchanges is the provider the kiosks' engines share, with at most
	// hubExchanges exchanges at once.
	exchanges kiosk.Provider

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once
	runMu  sync.Mutex // Run's start against Close: no wg.Add once Close waits
	closed bool
}

// NewHub builds a hub from cfg (config.LoadHub or config.SandboxHub),
// which it validates first.
func NewHub(cfg *config.Config, opts Options) (_ *Hub, err error) {
	if !cfg.IsHub() {
		return nil, errors.New("not a hub's config")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	h := &Hub{Config: cfg, clock: opts.Clock, log: opts.Log}
	if h.clock == nil {
		h.clock = time.Now
	}
	if h.log == nil {
		h.log = slog.Default()
	}
	h.ctx, h.cancel = context.WithCancel(context.Background())
	defer func() {
		if err != nil {
			h.Close()
		}
	}()
	if err := os.MkdirAll(cfg.Kiosk.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data directory %s: %w", cfg.Kiosk.DataDir, err)
	}
	if h.ln, err = listen(cfg.Kiosk.Listen); err != nil {
		return nil, err
	}
	cfg.Kiosk.Listen, cfg.Hub.Listen = h.ln.Addr().String(), h.ln.Addr().String()
	if h.Identity, err = NewIdentity(cfg, h.clock, h.log); err != nil {
		return nil, err
	}
	keepConns(h.Identity.HTTPClient)
	h.exchanges = limitExchanges(h.Identity.Provider, hubExchanges)
	if h.Store, err = openHubLog(h.ctx, cfg); err != nil {
		return nil, err
	}
	if h.face, err = FaceStep(cfg, h.clock, h.Identity.Sandbox, h.Identity.HTTPClient); err != nil {
		return nil, err
	}
	if h.sign, err = SignStep(cfg, h.clock, h.Identity.Sandbox, h.Identity.HTTPClient); err != nil {
		return nil, err
	}
	if h.sign != nil {
		h.sign.Webhook = h.sign.Client.WebhookHandler(h.signed)
	}
	if h.Notifier, err = newNotifier(cfg, h.Store, h.ln.Addr().String(), h.log); err != nil {
		return nil, err
	}
	h.Registry = hub.NewRegistry(h.Store.Pool(), h.clock)
	relay := hub.NewRelay(h.Store.Pool(), h.log)
	h.Hub = hub.New(h.hubConfig(opts.Version), h.Registry, h.newEngine, relay, h.log)
	select {
	case <-relay.Ready():
	case <-time.After(10 * time.Second):
		return nil, errors.New("the hub cannot LISTEN on its database")
	}
	h.Dashboard = h.newDashboard()
	mux := http.NewServeMux()
	mux.Handle("/", h.Hub.Handler())
	mux.Handle(dashboard.Prefix+"/", h.Dashboard.Handler())
	var uploads []string
	if h.Identity.Sandbox != nil {
		uploads = append(uploads, SandboxSignUpload)
	}
	h.server = kiosk.NewServer(mux, uploads...)
	// The dashboard limits each body itself (forms, sign-in, the hosts
	// CSV up to dashboard.MaxUpload): the server's 64 KiB, fit for the
	// kiosks' requests, would refuse a hosts CSV past it.
	limited, dash := h.server.Handler, h.Dashboard.Handler()
	h.server.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, dashboard.Prefix+"/") {
			dash.ServeHTTP(w, r)
			return
		}
		limited.ServeHTTP(w, r)
	})
	h.server.WriteTimeout = 0 // the kiosks' channels stay open; each write has its own deadline
	h.ln = kiosk.LimitConns(h.ln, h.server, hubMaxConns)
	return h, nil
}

// newDashboard is the operators' dashboard on the hub's log and kiosks,
// listening for live updates.
func (h *Hub) newDashboard() *dashboard.Dashboard {
	base := h.Config.BaseURL()
	trusted, _ := kiosk.ParseTrustedProxies(h.Config.Kiosk.TrustedProxies) // checked by Validate
	d := dashboard.New(dashboard.Options{DB: h.Store, Registry: h.Registry, Hub: h.Hub, Secure: strings.HasPrefix(base, "https://"),
		Origins: []string{base}, Now: h.clock, Log: h.log, RetentionDays: h.Config.Kiosk.RetentionDays,
		ClientIP: func(r *http.Request) string { return kiosk.ClientAddr(r, trusted) }})
	d.Start()
	return d
}

// hubIdleConns is how many idle connections the hub keeps to each
// Singpass host. One kiosk has a visit or two in flight; a hub has one a
// kiosk at peak, and Go's default (2 a host) closed the rest after each
// call, so most token and person calls paid a new connection (TCP, and
// with a real Singpass a TLS handshake).
const hubIdleConns = 64

// keepConns lets the client (the provider's, shared by its calls) keep
// hubIdleConns idle connections a host.
func keepConns(c *http.Client) {
	if c == nil {
		return
	}
	switch t := c.Transport.(type) {
	case nil:
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = hubIdleConns
		c.Transport = tr
	case *http.Transport:
		t.MaxIdleConnsPerHost = hubIdleConns
	}
}

// hubExchanges bounds the exchanges (token and person calls, their
// signatures and decryption) the hub runs at once for all its kiosks.
// Unbounded, a burst beyond what the CPU can do slowed every visit in
// flight alike until their visit log writes timed out: the work was done
// and the visitors were told "not recorded". Bounded, the visits admitted
// finish and are recorded; the rest wait their turn within the exchange
// timeout. 64 leaves room for Singpass's network round trips.
const hubExchanges = 64

// limitedProvider is a provider whose Exchange waits for one of its slots.
type limitedProvider struct {
	kiosk.Provider
	slots chan struct{}
}

func limitExchanges(p kiosk.Provider, n int) kiosk.Provider {
	return limitedProvider{Provider: p, slots: make(chan struct{}, n)}
}

func (p limitedProvider) Exchange(ctx context.Context, cb ndi.Callback) (*ndi.Person, error) {
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("the hub is busy: %w", ctx.Err())
	}
	defer func() { <-p.slots }()
	return p.Provider.Exchange(ctx, cb)
}

// hubMaxConns bounds the hub's connections: every kiosk holds one, and
// callbacks, redirects and JWKS fetches come on top.
const hubMaxConns = 4096

func (h *Hub) hubConfig(version string) hub.Config {
	cfg, id := h.Config, h.Identity
	c := cfg.Kiosk
	hc := hub.Config{CallbackPath: id.CallbackPath, JWKSPath: id.JWKSPath, JWKS: id.JWKS, Version: version, Routes: h.sign.Routes(),
		Defaults: hub.Settings{Mode: c.Mode, MinAge: c.MinAge, Venue: c.Venue, Language: c.Language, PhoneCamera: id.PhoneCamera,
			Sandbox: cfg.Sandbox, Face: h.face != nil, RetentionDays: c.RetentionDays, Contact: c.Contact, Alternative: c.Alternative,
			Local: LocalWording(c.Local)}}
	if id.Sandbox != nil {
		hc.Sandbox, hc.SandboxPrefix = id.Sandbox, config.SandboxPrefix
	}
	hc.TrustedProxies, _ = kiosk.ParseTrustedProxies(c.TrustedProxies) // checked by Validate
	return hc
}

// signed hands Sign's webhook to the engine on this replica waiting on its
// request, which fetches the result at once; an engine on another replica
// finds it at its next poll.
func (h *Hub) signed(n sign.Notification) {
	for _, id := range h.Hub.Connected() {
		if e := h.Hub.Engine(id); e != nil && e.SignNotified(n.RequestID) {
			return
		}
	}
}

// newEngine is the engine for a kiosk that connected: the hub's settings
// with the kiosk's overrides, on the hub's provider and log.
func (h *Hub) newEngine(ctx context.Context, id string, o hub.Overrides, cam kiosk.Camera, onQR func(string)) (*kiosk.Engine, error) {
	var face *kiosk.FaceConfig
	if h.face != nil {
		f := *h.face
		f.Camera = cam
		face = &f
	}
	ec := engineConfig(h.Config, h.Identity, face)
	if h.sign != nil {
		ec.Sign = h.sign.Step // one Sign client for the fleet: it is safe for concurrent use
	}
	ec.KioskID = id
	ec.Site = h.Config.Kiosk.Venue // the site its visits are at: the kiosk's venue
	if o.Venue != "" {
		ec.Site = o.Venue
	}
	if o.MinAge != 0 {
		ec.MinAge = o.MinAge
	}
	if len(o.Hosts) > 0 {
		ec.Hosts = o.Hosts
	}
	if len(o.Purposes) > 0 {
		ec.Purposes = o.Purposes
	}
	return kiosk.NewEngine(ctx, ec, kiosk.Deps{Provider: h.exchanges, Store: h.Store, Venue: h.Store, Now: h.clock,
		Log: h.log.With("kiosk", id), OnQR: onQR})
}

// openHubLog opens the PostgreSQL log with the hub's key. A first start
// makes the key and keeps it only once the database has taken it.
func openHubLog(ctx context.Context, cfg *config.Config) (*pgstore.DB, error) {
	path := cfg.Hub.KeyFile
	key, err := os.ReadFile(path)
	fresh := errors.Is(err, fs.ErrNotExist)
	switch {
	case fresh:
		key = seal.NewKey()
	case err != nil:
		return nil, fmt.Errorf("hub.key_file: %w", err)
	case len(key) != seal.KeySize:
		return nil, fmt.Errorf("%s is damaged (%d bytes, want %d): restore it from the backup made with the database", path, len(key), seal.KeySize)
	}
	octx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	db, err := pgstore.Open(octx, cfg.Hub.Database, key)
	if err != nil {
		if fresh {
			return nil, fmt.Errorf("%w (no key file at %s)", err, path)
		}
		return nil, err
	}
	if fresh {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			db.Close()
			return nil, err
		}
		if err := writeFileAtomic(path, key, 0o600); err != nil {
			db.Close()
			return nil, fmt.Errorf("keep the hub's key: %w", err)
		}
	}
	return db, nil
}

// Addr is the hub's address.
func (h *Hub) Addr() string { return h.ln.Addr().String() }

// Run serves until ctx ends or Close is called, applying the retention
// rule to the fleet's log.
func (h *Hub) Run(ctx context.Context) error {
	c := h.Config
	h.log.Info("hub started", "listen", h.Addr(), "public_url", c.BaseURL(), "mode", c.Kiosk.Mode, "provider", c.Kiosk.Provider,
		"sandbox", h.Identity.Sandbox != nil)
	h.runMu.Lock()
	if h.closed {
		h.runMu.Unlock()
		return nil
	}
	h.wg.Add(2)
	h.runMu.Unlock()
	go func() {
		defer h.wg.Done()
		kiosk.KeepFor(h.ctx, h.Store, c.Kiosk.RetentionDays, h.clock, h.log)
	}()
	go func() {
		defer h.wg.Done()
		h.Notifier.Run(h.ctx) // stopped by Close, which cancels h.ctx and waits
	}()
	served := make(chan error, 1)
	go func() { served <- h.server.Serve(h.ln) }()
	select {
	case err := <-served:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return fmt.Errorf("the hub's server stopped: %w", err)
	case <-ctx.Done():
	case <-h.ctx.Done():
	}
	return nil
}

// Close disconnects the kiosks, stops the server and closes the log.
func (h *Hub) Close() error {
	h.once.Do(func() {
		h.runMu.Lock()
		h.closed = true
		h.runMu.Unlock()
		h.cancel()
		if h.Dashboard != nil {
			h.Dashboard.Close() // ends its event streams, which Shutdown would wait for
		}
		if h.Hub != nil {
			h.Hub.Close()
		}
		if h.server != nil {
			shut, done := context.WithTimeout(context.Background(), 3*time.Second)
			if h.server.Shutdown(shut) != nil {
				h.server.Close()
			}
			done()
		}
		if h.ln != nil {
			h.ln.Close()
		}
		h.wg.Wait()
		if h.Store != nil {
			h.Store.Close()
		}
	})
	return nil
}

// HubLog is the hub's visit log and registry for the operator commands
// (export, deny, allow, hub enrol, hub revoke), with no hub running.
type HubLog struct {
	*pgstore.DB
	Registry *hub.Registry
}

// Close closes the database.
func (l *HubLog) Close() error {
	l.DB.Close()
	return nil
}

// OpenHubLog opens the log of the hub whose config is cfg.
func OpenHubLog(cfg *config.Config) (*HubLog, error) {
	if _, err := os.Stat(cfg.Hub.KeyFile); err != nil {
		return nil, fmt.Errorf("hub.key_file %s: %w (it is made when the hub first starts; a copy must be here for the operator commands)", cfg.Hub.KeyFile, err)
	}
	db, err := openHubLog(context.Background(), cfg)
	if err != nil {
		return nil, err
	}
	return &HubLog{DB: db, Registry: hub.NewRegistry(db.Pool(), nil)}, nil
}
