package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"image"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"ndikiosk/camera"
	"ndikiosk/config"
	"ndikiosk/kiosk"
	"ndikiosk/storage"
)

// PINStateFile keeps the admin PIN pad's wrong tries and lock across
// restarts, in the data folder.
const PINStateFile = "admin-pin.json"

// Options are what a kiosk takes from its surroundings rather than from
// its config.
type Options struct {
	Version string
	Clock   func() time.Time // the engine's, the providers' and the sandbox's; nil: time.Now
	Log     *slog.Logger     // nil: slog.Default()

	// Instrumentation: wrap the provider or the visit log the engine uses
	// (the end-to-end tests count exchanges and make the log fail).
	WrapProvider func(kiosk.Provider) kiosk.Provider
	WrapStore    func(kiosk.VisitStore) kiosk.VisitStore
	WrapSigner   func(kiosk.Signer) kiosk.Signer // the signing step's Sign client (a test points it at a dead port)

	// Process sets up the whole process for this kiosk: the report of a
	// crash (an unrecovered panic in any goroutine) goes to crash.log in
	// the data folder. (The heap's soft limit is ui.Run's: it applies
	// once the first frame is drawn.)
	Process bool
}

// Kiosk is a kiosk ready to run: the data folder locked, the visit log
// open, the callback server's port bound, the engine built. The window is
// not part of it; it subscribes to Engine.
type Kiosk struct {
	Config   *config.Config
	Identity *Identity
	Store    *storage.DB
	Engine   *kiosk.Engine
	PINLock  *kiosk.PINLock

	version string
	clock   func() time.Time
	log     *slog.Logger
	ln      net.Listener
	server  *http.Server
	camera  kiosk.Camera
	signing *Signing // nil without [sign]
	release func()

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once
}

// New builds a kiosk from cfg, which it validates first. kiosk.listen may
// name port 0: the port the system picks is written back into cfg before
// any URL is derived from it.
func New(cfg *config.Config, opts Options) (_ *Kiosk, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	k := &Kiosk{Config: cfg, version: opts.Version, clock: opts.Clock, log: opts.Log}
	if k.clock == nil {
		k.clock = time.Now
	}
	if k.log == nil {
		k.log = slog.Default()
	}
	k.ctx, k.cancel = context.WithCancel(context.Background())
	defer func() {
		if err != nil {
			k.Close()
		}
	}()
	if k.PINLock, err = pinLock(cfg); err != nil {
		return nil, err
	}
	if k.release, err = storage.Lock(cfg.Kiosk.DataDir); err != nil {
		return nil, err
	}
	if err := k.PINLock.PersistTo(filepath.Join(cfg.Kiosk.DataDir, PINStateFile)); err != nil {
		k.log.Warn("admin PIN", "error", err.Error())
	}
	if opts.Process {
		crashLog(cfg.Kiosk.DataDir)
	}
	if k.ln, err = listen(cfg.Kiosk.Listen); err != nil {
		return nil, err
	}
	cfg.Kiosk.Listen = k.ln.Addr().String()
	if k.Identity, err = NewIdentity(cfg, k.clock, k.log); err != nil {
		return nil, err
	}
	if k.Store, err = storage.Open(cfg.Kiosk.DataDir); err != nil {
		return nil, err
	}
	if err = k.newEngine(opts); err != nil {
		return nil, err
	}
	if err = k.newServer(); err != nil {
		return nil, err
	}
	return k, nil
}

// newEngine builds the engine on the provider and the visit log, wrapped
// as the options say.
func (k *Kiosk) newEngine(opts Options) error {
	face, err := k.faceStep()
	if err != nil {
		return err
	}
	id := k.Identity
	if k.signing, err = SignStep(k.Config, k.clock, id.Sandbox, id.HTTPClient); err != nil {
		return err
	}
	if k.signing != nil && opts.WrapSigner != nil {
		k.signing.Step.Signer = opts.WrapSigner(k.signing.Step.Signer)
	}
	var store kiosk.VisitStore = k.Store
	if opts.WrapStore != nil {
		store = opts.WrapStore(store)
	}
	provider := id.Provider
	if opts.WrapProvider != nil {
		provider = opts.WrapProvider(provider)
	}
	deps := kiosk.Deps{Provider: provider, Store: store, Now: k.clock, Log: k.log}
	if id.Sandbox != nil {
		deps.OnQR = id.Sandbox.Show
	}
	ec := engineConfig(k.Config, id, face)
	if k.signing != nil {
		ec.Sign = k.signing.Step
	}
	k.Engine, err = kiosk.NewEngine(k.ctx, ec, deps)
	return err
}

// newServer builds the callback server on the bound port: the engine's
// routes, the sandbox in sandbox mode, TLS when configured, and the
// connection cap.
func (k *Kiosk) newServer() error {
	cfg, id := k.Config, k.Identity
	proxies, err := kiosk.ParseTrustedProxies(cfg.Kiosk.TrustedProxies)
	if err != nil {
		return fmt.Errorf("kiosk.trusted_proxies: %w", err)
	}
	sc := kiosk.ServerConfig{CallbackPath: id.CallbackPath, Version: k.version, JWKSPath: id.JWKSPath, JWKS: id.JWKS,
		TrustedProxies: proxies, Routes: k.signing.Routes()}
	var uploads []string
	if id.Sandbox != nil {
		sc.Sandbox, sc.SandboxPrefix = id.Sandbox, config.SandboxPrefix
		uploads = append(uploads, SandboxSignUpload)
	}
	k.server = kiosk.NewServer(kiosk.NewHandler(k.Engine, sc), uploads...)
	if c := cfg.Kiosk; c.TLSCert != "" {
		// Loaded now, so that a missing or mismatched file stops the kiosk
		// at start instead of killing the server behind a working screen.
		cert, err := tls.LoadX509KeyPair(c.TLSCert, c.TLSKey)
		if err != nil {
			return fmt.Errorf("kiosk.tls_cert and kiosk.tls_key: %w", err)
		}
		k.server.TLSConfig = kiosk.TLSConfig()
		k.server.TLSConfig.Certificates = []tls.Certificate{cert}
	}
	k.ln = kiosk.LimitConns(k.ln, k.server, kiosk.MaxConns)
	return nil
}

// engineConfig is what the engine needs of the config and the provider.
func engineConfig(cfg *config.Config, id *Identity, face *kiosk.FaceConfig) kiosk.EngineConfig {
	c := cfg.Kiosk
	return kiosk.EngineConfig{
		KioskID: c.ID, Mode: c.Mode, MinAge: c.MinAge, Attributes: id.Attributes, Face: face,
		QRLifetime: id.QRLifetime, QRLead: id.QRLead, MaxOutstanding: id.MaxOutstanding,
		ExchangeTimeout: id.ExchangeTimeout, ResultTimeout: c.ResultTimeout.Duration, ResultMin: c.ResultMin.Duration,
		ConfirmTimeout: c.ConfirmTimeout.Duration, Sandbox: cfg.Sandbox,
		ServiceName: id.Name, Contact: c.Contact, Alternative: c.Alternative, Local: LocalWording(c.Local),
		Hosts: cfg.Visitor.Hosts, Purposes: cfg.Visitor.Purposes, FreeText: cfg.Visitor.FreeText,
	}
}

// LocalWording is the [kiosk.local.LANG] tables as the engine takes them;
// nil when there are none.
func LocalWording(local map[string]config.Local) map[string]kiosk.Wording {
	if len(local) == 0 {
		return nil
	}
	m := make(map[string]kiosk.Wording, len(local))
	for code, l := range local {
		m[code] = kiosk.Wording{Contact: strings.TrimSpace(l.Contact), Alternative: strings.TrimSpace(l.Alternative)}
	}
	return m
}

// pinLock is the admin PIN pad: the configured hash, or the sandbox PIN.
func pinLock(cfg *config.Config) (*kiosk.PINLock, error) {
	hash := cfg.Admin.PINHash
	if hash == "" {
		if !cfg.Sandbox {
			return nil, errors.New("admin.pin_hash is missing: make one with `ndikiosk hash-pin` and add it to the config's [admin] table")
		}
		var err error
		if hash, err = kiosk.HashPIN(config.SandboxPIN); err != nil {
			return nil, err
		}
	}
	return kiosk.NewPINLock(hash, cfg.Admin.MaxTries, time.Duration(cfg.Admin.LockMinutes)*time.Minute, nil)
}

// crashLog appends the report of a crash to dir/crash.log; the service
// manager then restarts the kiosk.
func crashLog(dir string) {
	if f, err := os.OpenFile(filepath.Join(dir, "crash.log"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600); err == nil {
		debug.SetCrashOutput(f, debug.CrashOptions{})
		f.Close()
	}
}

func listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return nil, fmt.Errorf("%s is in use: is another ndikiosk running? Choose another address with --listen", addr)
	}
	return ln, err
}

// faceStep is the Face step with its camera, or nil when Face is off. A
// camera that cannot be opened does not stop the kiosk: each visit then
// ends on the "face check unavailable" screen with the operator's
// alternative, and the log says why.
func (k *Kiosk) faceStep() (*kiosk.FaceConfig, error) {
	step, err := FaceStep(k.Config, k.clock, k.Identity.Sandbox, k.Identity.HTTPClient)
	if err != nil || step == nil {
		return nil, err
	}
	cam, err := camera.Open(k.Config.CameraSetting(), k.Config.Face.Width, k.Config.Face.Height)
	if err != nil {
		k.log.Error("camera", "error", err.Error())
		cam = failedCamera{err}
	}
	k.camera, step.Camera = cam, cam
	return step, nil
}

// failedCamera stands in for a camera that could not be opened.
type failedCamera struct{ err error }

func (f failedCamera) Frame(context.Context) (image.Image, error) { return nil, f.err }
func (f failedCamera) Close() error                               { return nil }

// Addr is the callback server's address.
func (k *Kiosk) Addr() string { return k.ln.Addr().String() }

// Run serves callbacks, drives the engine and applies the retention rule
// until ctx ends or Close is called. It returns the callback server's
// error if the server stops by itself: the kiosk then cannot be reached,
// and whoever supervises it should restart it.
func (k *Kiosk) Run(ctx context.Context) error {
	c := k.Config.Kiosk
	k.log.Info("kiosk started", "listen", k.Addr(), "mode", c.Mode, "provider", c.Provider, "sandbox", k.Identity.Sandbox != nil,
		"data_dir", c.DataDir)
	if k.Identity.JWKSPath != "" {
		k.log.Info("publishing this kiosk's FAPI keys", "jwks", k.Identity.JWKSPath, "redirect_uri", k.Identity.CallbackURL)
	}
	k.wg.Add(2)
	go func() { defer k.wg.Done(); k.Engine.Run() }()
	go func() {
		defer k.wg.Done()
		kiosk.KeepFor(k.ctx, k.Store, k.Config.Kiosk.RetentionDays, k.clock, k.log)
	}()
	return k.Serve(ctx)
}

// Serve is Run without the engine's timers and the retention rule: for
// tests that step the engine on their own clock.
func (k *Kiosk) Serve(ctx context.Context) error {
	served := make(chan error, 1)
	go func() {
		if k.server.TLSConfig != nil {
			served <- k.server.ServeTLS(k.ln, "", "")
			return
		}
		served <- k.server.Serve(k.ln)
	}()
	select {
	case err := <-served:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		k.log.Error("callback server stopped", "error", err.Error())
		return fmt.Errorf("the callback server stopped: %w", err)
	case <-ctx.Done():
		return nil
	case <-k.ctx.Done():
		return nil
	}
}

// Close stops the server (letting requests in progress finish for up to 3 s,
// then cutting them off),
// the engine and its exchanges, then closes the camera and the visit log
// and frees the data folder. It may be called more than once.
func (k *Kiosk) Close() error {
	var err error
	k.once.Do(func() {
		// The engine stops first: a visit in flight is dropped, not logged
		// as an outage because the server below went away.
		k.cancel()
		if k.server != nil {
			shut, done := context.WithTimeout(context.Background(), 3*time.Second)
			if k.server.Shutdown(shut) != nil {
				// A request still hanging after 3 s (a slow client, a
				// relay that keeps it open) is cut off: stopping wins.
				k.log.Warn("requests still open after 3 s were cut off")
				k.server.Close()
			}
			done()
		}
		if k.ln != nil {
			k.ln.Close() // Shutdown closes it only if Serve ran
		}
		if k.Engine != nil {
			k.Engine.Close()
		}
		k.wg.Wait()
		if k.camera != nil {
			k.camera.Close()
		}
		if k.Store != nil {
			err = errors.Join(err, k.Store.Close())
		}
		if k.release != nil {
			k.release()
		}
	})
	return err
}

// Admin is what the admin screens need; quit ends the kiosk.
func (k *Kiosk) Admin(quit func()) *kiosk.Admin {
	return &kiosk.Admin{Mode: k.Config.Kiosk.Mode, Store: k.Store, Now: k.clock, CheckOut: k.Engine.StaffCheckOut, Lock: k.PINLock, Quit: quit,
		Export: func(ctx context.Context, out io.Writer, f kiosk.VisitFilter) error {
			return k.Store.Export(ctx, out, f, "csv")
		},
		Status: k.Status}
}

// Status is the admin status page: settings, log size and whether the
// provider's endpoints and the kiosk's own server answer.
func (k *Kiosk) Status(ctx context.Context) kiosk.Status {
	c := k.Config.Kiosk
	s := kiosk.Status{Version: k.version, Mode: c.Mode, Sandbox: k.Identity.Sandbox != nil, Listen: k.Addr(),
		CallbackURL: k.Identity.CallbackURL, DataDir: c.DataDir}
	for _, f := range []string{k.Store.Path(), k.Store.Path() + "-wal"} {
		if st, err := os.Stat(f); err == nil {
			s.DatabaseBytes += st.Size()
		}
	}
	s.Endpoints = kiosk.Probe(ctx, k.Identity.HTTPClient, append(slices.Clone(k.Identity.Endpoints),
		kiosk.Endpoint{Name: "This kiosk's server", URL: k.Config.BaseURL() + "/healthz", Want: http.StatusOK}))
	return s
}

// OpenLog opens the visit log of dataDir, or else of the config at
// cfgPath's kiosk.data_dir, or else of sandbox mode's folder (the kiosk
// that runs with no config): for the commands that work on the log while no
// kiosk runs. readOnly opens it without writing anything (export); a log
// that cannot be written is opened read-only in any case.
func OpenLog(cfgPath, dataDir string, readOnly bool) (*storage.DB, error) {
	if dataDir == "" {
		cfg := config.SandboxDefaults()
		if cfgPath != "" {
			var err error
			if cfg, err = config.Load(cfgPath); err != nil {
				return nil, err
			}
		}
		dataDir = cfg.Kiosk.DataDir
	}
	if readOnly {
		return storage.OpenReadOnly(dataDir)
	}
	db, err := storage.Open(dataDir)
	if errors.Is(err, storage.ErrReadOnly) {
		return storage.OpenReadOnly(dataDir)
	}
	return db, err
}
