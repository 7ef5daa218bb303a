package main

import (
	"fmt"
	"io"
	"log/slog"
	"time"

	"ndikiosk/app"
	"ndikiosk/config"
	"ndikiosk/kiosk"
	"ndikiosk/ui"
)

// runRemoteKiosk runs a kiosk that is a hub's screen ([hub] url).
func runRemoteKiosk(cfg *config.Config, windowed bool, stdout, stderr io.Writer) error {
	log := slog.New(slog.NewTextHandler(stderr, nil))
	r, err := app.NewRemoteKiosk(cfg, app.Options{Version: version, Log: log}, 5*time.Second)
	if err != nil {
		return err
	}
	defer r.Close()
	st, c := r.Client.Settings(), cfg.Kiosk
	fmt.Fprintf(stdout, "Kiosk %s, a screen of the hub at %s\n", st.KioskID, cfg.Hub.URL)
	language := st.Language
	if c.Language != "" {
		language = c.Language
	}
	ctx, stop := stopContext()
	defer stop()
	err = ui.Run(r.Client, ui.Options{Venue: st.Venue, PhoneCamera: st.PhoneCamera, Language: language, Windowed: windowed,
		HideCursor: c.HideCursor, Sandbox: st.Sandbox, Visitor: st.Mode == kiosk.ModeVisitor, Logo: c.Logo,
		RetentionDays: st.RetentionDays, OnHub: true}, nil, func() error { <-ctx.Done(); return nil }, log)
	if ctx.Err() != nil {
		log.Info("stopping on a signal")
	}
	return err
}
