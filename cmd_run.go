package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"

	"ndikiosk/app"
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
	fs.BoolVar(&o.SignDemo, "sign-demo", false, "sandbox mode, visitor mode: visitors sign a sample agreement with the sandbox's Sign")
	windowed := fs.Bool("windowed", false, "a normal window instead of full screen (development)")
	cfg, err := parseConfig(fs, args, cfgPath, true)
	if err != nil {
		return err
	}
	cfg.Override(o)
	if cfg.Remote() {
		return runRemoteKiosk(cfg, *windowed, stdout, stderr)
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	k, err := app.New(cfg, app.Options{Version: version, Log: log, Process: true})
	if err != nil {
		return err
	}
	defer k.Close()
	c, sb := cfg.Kiosk, k.Identity.Sandbox
	if sb != nil {
		fmt.Fprintf(stdout, "Sandbox mode: no real Singpass is involved.\nOpen the phone page to scan and consent: %s\n", sb.PhoneURL())
		if host, _, _ := net.SplitHostPort(k.Addr()); net.ParseIP(host).IsUnspecified() {
			fmt.Fprintln(stdout, "(from a phone, put this machine's network address in place of the host)")
		}
		if cfg.Admin.PINHash == "" {
			fmt.Fprintf(stdout, "Admin PIN (sandbox mode): %s — hold the top-left corner for 2 s, or press Ctrl+Alt+A\n", config.SandboxPIN)
		}
	}
	ctx, stop := stopContext()
	defer stop()
	err = ui.Run(k.Engine, ui.Options{Venue: c.Venue, PhoneCamera: k.Identity.PhoneCamera, Language: c.Language,
		Windowed: *windowed, HideCursor: c.HideCursor, Sandbox: sb != nil,
		Visitor: c.Mode == kiosk.ModeVisitor, Logo: c.Logo, RetentionDays: c.RetentionDays}, k.Admin, func() error { return k.Run(ctx) }, log)
	if ctx.Err() != nil {
		log.Info("stopping on a signal")
	}
	return errors.Join(err, k.Close())
}
