package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"syscall"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"

	"ndikiosk/app"
	"ndikiosk/assets"
	"ndikiosk/config"
	"ndikiosk/kiosk"
	"ndikiosk/ui"
)

// runKiosk starts the kiosk: the callback server, the engine and the
// window. SIGTERM or SIGINT (a service manager stopping it, Ctrl+C) closes
// the window; the visit in flight is finished or dropped, the log closed
// and the data folder freed before it exits.
func runKiosk(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("run", stderr)
	cfgPath := fs.String("config", "", "config file (default: sandbox mode, no config needed)")
	var o config.Overrides
	fs.StringVar(&o.DataDir, "data-dir", "", "data folder (overrides kiosk.data_dir)")
	fs.StringVar(&o.Listen, "listen", "", "callback server address (overrides kiosk.listen)")
	fs.StringVar(&o.Mode, "mode", "", "age or visitor (overrides kiosk.mode)")
	fs.StringVar(&o.Provider, "provider", "", "verify or fapi (overrides kiosk.provider)")
	fs.IntVar(&o.MinAge, "min-age", 0, "minimum age in age mode (overrides kiosk.min_age)")
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
	cfg.Override(o)
	log := slog.New(slog.NewTextHandler(stderr, nil))
	k, err := app.New(cfg, app.Options{Version: version, Log: log})
	if err != nil {
		return err
	}
	defer k.Close()
	// A crash (an unrecovered panic in any goroutine) leaves its report
	// here; the service manager then restarts the kiosk.
	if crash, err := os.OpenFile(filepath.Join(cfg.Kiosk.DataDir, "crash.log"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600); err == nil {
		debug.SetCrashOutput(crash, debug.CrashOptions{})
		crash.Close()
	}
	c, sb := cfg.Kiosk, k.Identity.Sandbox
	if sb != nil {
		fmt.Fprintf(stdout, "Sandbox mode: no real Singpass is involved.\nOpen the phone page to scan and consent: %s\n", sb.PhoneURL())
		if cfg.Admin.PINHash == "" {
			fmt.Fprintf(stdout, "Admin PIN (sandbox mode): %s — hold the top-left corner for 2 s, or press Ctrl+Alt+A\n", config.SandboxPIN)
		}
	}
	log.Info("kiosk started", "listen", k.Addr(), "mode", c.Mode, "provider", c.Provider, "sandbox", sb != nil, "data_dir", c.DataDir)
	if k.Identity.JWKSPath != "" {
		log.Info("publishing this kiosk's FAPI keys", "jwks", k.Identity.JWKSPath, "redirect_uri", k.Identity.CallbackURL)
	}
	if dir, err := assets.FontDir(); err == nil {
		if err := assets.InstallFonts(dir); err != nil {
			log.Warn("fonts for Chinese and Tamil not installed; those scripts may not render", "error", err.Error())
		}
	}
	a := fyneapp.NewWithID("sg.ndikiosk.kiosk")
	w := a.NewWindow("ndikiosk")
	venue := c.Venue
	if venue == "" && sb != nil {
		venue = "ndikiosk · sandbox"
	}
	ui.New(a, w, k.Engine, ui.Options{Venue: venue, PhoneCamera: k.Identity.PhoneCamera, Language: c.Language,
		Windowed: *windowed, HideCursor: c.HideCursor, Admin: k.Admin(a.Quit)})

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	ran := make(chan error, 1)
	go func() {
		err := k.Run(ctx)
		if ctx.Err() != nil {
			log.Info("stopping on a signal")
		}
		ran <- err
		fyne.Do(a.Quit) // a signal, or a server that died: either way the window goes
	}()
	w.ShowAndRun()
	stop()
	if err := k.Close(); err != nil {
		log.Warn("closing", "error", err.Error())
	}
	select {
	case err := <-ran:
		return err
	default:
		return nil
	}
}

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
