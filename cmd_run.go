package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"syscall"
	"time"

	"fyne.io/fyne/v2/app"

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
	minAge := fs.Int("min-age", 0, "minimum age in age mode (overrides kiosk.min_age)")
	windowed := fs.Bool("windowed", false, "a normal window instead of full screen (development)")
	if err := parse(fs, args); err != nil {
		return err
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
	if *minAge != 0 {
		cfg.Kiosk.MinAge = *minAge
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	client, sb, err := cfg.VerifyClient(now())
	if err != nil {
		return err
	}
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
	}
	store, err := storage.Open(cfg.Kiosk.DataDir)
	if err != nil {
		ln.Close()
		return err
	}
	defer store.Close()
	v := cfg.EffectiveVerify()
	k := cfg.Kiosk
	engine := kiosk.NewEngine(kiosk.EngineConfig{
		KioskID: k.ID, Mode: k.Mode, Attributes: v.Attributes, MinAge: k.MinAge, QRLifetime: v.QRLifetime.Duration, QRLead: v.QRLead.Duration,
		ExchangeTimeout: v.ExchangeTimeout.Duration, ResultTimeout: k.ResultTimeout.Duration,
		ConfirmTimeout: k.ConfirmTimeout.Duration, Contact: k.Contact, Alternative: k.Alternative,
		Hosts: cfg.Visitor.Hosts, Purposes: cfg.Visitor.Purposes, FreeText: cfg.Visitor.FreeText,
	}, client, store, nil, log, onQR)
	srv := kiosk.NewServer(kiosk.NewHandler(engine, kiosk.ServerConfig{
		CallbackPath: cfg.Kiosk.CallbackPath, Sandbox: sandboxHandler, Version: version}))
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
	log.Info("kiosk started", "listen", ln.Addr().String(), "mode", k.Mode, "sandbox", sb != nil, "data_dir", k.DataDir)

	a := app.NewWithID("sg.ndikiosk.kiosk")
	w := a.NewWindow("ndikiosk")
	venue := cfg.Kiosk.Venue
	if venue == "" && sb != nil {
		venue = "ndikiosk · sandbox"
	}
	ui.New(a, w, engine, ui.Options{Venue: venue, Windowed: *windowed})
	w.ShowAndRun()

	cancel()
	shut, done := context.WithTimeout(context.Background(), 3*time.Second)
	defer done()
	return srv.Shutdown(shut)
}
