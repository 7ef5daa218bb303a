package main

import (
	"context"
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
	"syscall"
	"time"

	"fyne.io/fyne/v2/app"

	"ndikiosk/assets"
	"ndikiosk/camera"
	"ndikiosk/kiosk"
	"ndikiosk/storage"
	"ndikiosk/ui"
)

// runKiosk starts the kiosk: the callback server, the engine and the window.
func runKiosk(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("run", stderr)
	cfgPath := fs.String("config", "", "config file (default: sandbox mode, no config needed)")
	dataDir := fs.String("data-dir", "", "data folder (overrides kiosk.data_dir)")
	listen := fs.String("listen", "", "callback server address (overrides kiosk.listen)")
	mode := fs.String("mode", "", "age or visitor (overrides kiosk.mode)")
	provider := fs.String("provider", "", "verify or fapi (overrides kiosk.provider)")
	minAge := fs.Int("min-age", 0, "minimum age in age mode (overrides kiosk.min_age)")
	windowed := fs.Bool("windowed", false, "a normal window instead of full screen (development)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		// A soft limit: the heap is collected harder as it nears 48 MiB, which
		// keeps the kiosk's resident memory ~10 MB lower at idle (bench/idle).
		// It never fails an allocation; GOMEMLIMIT overrides it.
		debug.SetMemoryLimit(48 << 20)
	}
	cfg, err := loadConfig(*cfgPath, true)
	if err != nil {
		return err
	}
	override := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	override(&cfg.Kiosk.DataDir, *dataDir)
	override(&cfg.Kiosk.Listen, *listen)
	override(&cfg.Kiosk.Mode, *mode)
	override(&cfg.Kiosk.Provider, *provider)
	if *minAge != 0 {
		cfg.Kiosk.MinAge = *minAge
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	pinHash := cfg.Admin.PINHash
	if pinHash == "" {
		if !cfg.Sandbox {
			return errors.New("admin.pin_hash is missing: make one with `ndikiosk hash-pin` and add it to the config's [admin] table")
		}
		if pinHash, err = kiosk.HashPIN(kiosk.SandboxPIN); err != nil {
			return err
		}
	}
	lock, err := kiosk.NewPINLock(pinHash, cfg.Admin.MaxTries, time.Duration(cfg.Admin.LockMinutes)*time.Minute, nil)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	id, err := cfg.Identity(nil, log)
	if err != nil {
		return err
	}
	sb := id.Sandbox
	release, err := storage.Lock(cfg.Kiosk.DataDir)
	if err != nil {
		return err
	}
	defer release()
	// A crash (an unrecovered panic in any goroutine) leaves its report
	// here; the service manager then restarts the kiosk.
	if crash, err := os.OpenFile(filepath.Join(cfg.Kiosk.DataDir, "crash.log"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600); err == nil {
		debug.SetCrashOutput(crash, debug.CrashOptions{})
		crash.Close()
	}
	store, err := storage.Open(cfg.Kiosk.DataDir)
	if err != nil {
		return err
	}
	defer store.Close()
	ln, err := net.Listen("tcp", cfg.Kiosk.Listen)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return fmt.Errorf("%s is in use: is another ndikiosk running? Choose another address with --listen", cfg.Kiosk.Listen)
		}
		return err
	}
	var onQR func(string)
	var sandboxHandler http.Handler
	if sb != nil {
		onQR, sandboxHandler = sb.Show, sb
		fmt.Fprintf(stdout, "Sandbox mode: no real Singpass is involved.\nOpen the phone page to scan and consent: %s\n", sb.PhoneURL())
		if cfg.Admin.PINHash == "" {
			fmt.Fprintf(stdout, "Admin PIN (sandbox mode): %s — hold the top-left corner for 2 s, or press Ctrl+Alt+A\n", kiosk.SandboxPIN)
		}
	}
	faceStep, err := cfg.FaceStep(now(), sb, id.HTTPClient)
	if err != nil {
		ln.Close()
		return err
	}
	if faceStep != nil {
		// A camera that cannot be opened does not stop the kiosk: each visit
		// then ends on the "face check unavailable" screen with the
		// operator's alternative, and the log says why.
		cam, err := camera.Open(cfg.CameraSetting(), cfg.Face.Width, cfg.Face.Height)
		if err != nil {
			log.Error("camera", "error", err.Error())
			cam = failedCamera{err}
		}
		defer cam.Close()
		faceStep.Camera = cam
	}
	k := cfg.Kiosk
	engine := kiosk.NewEngine(kiosk.EngineConfig{
		Face:    faceStep,
		KioskID: k.ID, Mode: k.Mode, Attributes: id.Attributes, MinAge: k.MinAge, QRLifetime: id.QRLifetime, QRLead: id.QRLead,
		ExchangeTimeout: id.ExchangeTimeout, ResultTimeout: k.ResultTimeout.Duration, ServiceName: id.Name,
		MaxOutstanding: id.MaxOutstanding,
		ConfirmTimeout: k.ConfirmTimeout.Duration, Contact: k.Contact, Alternative: k.Alternative,
		Hosts: cfg.Visitor.Hosts, Purposes: cfg.Visitor.Purposes, FreeText: cfg.Visitor.FreeText,
	}, id.Provider, store, nil, log, onQR)
	srv := kiosk.NewServer(kiosk.NewHandler(engine, kiosk.ServerConfig{
		CallbackPath: id.CallbackPath, Sandbox: sandboxHandler, Version: version, JWKSPath: id.JWKSPath, JWKS: id.JWKS}))
	go func() {
		var err error
		if k.TLSCert != "" {
			srv.TLSConfig = kiosk.TLSConfig()
			err = srv.ServeTLS(ln, k.TLSCert, k.TLSKey)
		} else {
			err = srv.Serve(ln)
		}
		if !errors.Is(err, http.ErrServerClosed) {
			log.Error("callback server stopped", "error", err)
		}
	}()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go engine.Run(ctx)
	go kiosk.KeepFor(ctx, store, k.RetentionDays, time.Now, log)
	log.Info("kiosk started", "listen", ln.Addr().String(), "mode", k.Mode, "provider", k.Provider, "sandbox", sb != nil, "data_dir", k.DataDir)
	if id.JWKSPath != "" {
		log.Info("publishing this kiosk's FAPI keys", "jwks", id.JWKSPath, "redirect_uri", id.CallbackURL)
	}

	if dir, err := assets.FontDir(); err == nil {
		if err := assets.InstallFonts(dir); err != nil {
			log.Warn("fonts for Chinese and Tamil not installed; those scripts may not render", "error", err.Error())
		}
	}
	a := app.NewWithID("sg.ndikiosk.kiosk")
	w := a.NewWindow("ndikiosk")
	venue := k.Venue
	if venue == "" && sb != nil {
		venue = "ndikiosk · sandbox"
	}
	admin := &kiosk.Admin{Store: store, Engine: engine, Lock: lock, Quit: a.Quit,
		Export: func(ctx context.Context, out io.Writer, f kiosk.VisitFilter) error {
			return store.Export(ctx, out, f, "csv")
		},
		Status: func(ctx context.Context) kiosk.Status {
			s := kiosk.Status{Version: version, Mode: k.Mode, Sandbox: sb != nil, Listen: ln.Addr().String(),
				CallbackURL: id.CallbackURL, DataDir: k.DataDir}
			for _, f := range []string{store.Path(), store.Path() + "-wal"} {
				if st, err := os.Stat(f); err == nil {
					s.DatabaseBytes += st.Size()
				}
			}
			s.Endpoints = kiosk.Probe(ctx, id.HTTPClient, append(slices.Clone(id.Endpoints),
				kiosk.Endpoint{Name: "This kiosk's server", URL: cfg.BaseURL() + "/healthz"}))
			return s
		}}
	ui.New(a, w, engine, ui.Options{Venue: venue, PhoneCamera: id.PhoneCamera, Language: k.Language, Windowed: *windowed, HideCursor: k.HideCursor, Admin: admin})
	w.ShowAndRun()

	cancel()
	shut, done := context.WithTimeout(context.Background(), 3*time.Second)
	defer done()
	return srv.Shutdown(shut)
}

// failedCamera stands in for a camera that could not be opened.
type failedCamera struct{ err error }

func (f failedCamera) Frame(context.Context) (image.Image, error) { return nil, f.err }
func (f failedCamera) Close() error                               { return nil }

// runHashPIN prints the admin.pin_hash line for a PIN read from stdin (or
// --pin, which leaves the PIN in the shell history).
func runHashPIN(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("hash-pin", stderr)
	pin := fs.String("pin", "", "the PIN (default: read one line from standard input)")
	if err := parse(fs, args); err != nil {
		return err
	}
	p := *pin
	if p == "" {
		fmt.Fprint(stderr, "New admin PIN (4-12 digits): ")
		var line string
		fmt.Fscanln(stdin, &line)
		p = line
	}
	h, err := kiosk.HashPIN(p)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "[admin]\npin_hash = %q\n", h)
	return nil
}
