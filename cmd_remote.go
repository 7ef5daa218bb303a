package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"ndikiosk/app"
	"ndikiosk/camera"
	"ndikiosk/config"
	"ndikiosk/hub"
	"ndikiosk/kiosk"
	"ndikiosk/remote"
	"ndikiosk/storage"
	"ndikiosk/ui"
)

// runRemoteKiosk runs a kiosk that is a hub's screen ([hub] url): it holds
// no Singpass key and no visit log; its engine runs on the hub.
func runRemoteKiosk(cfg *config.Config, windowed bool, stdout, stderr io.Writer) error {
	log := slog.New(slog.NewTextHandler(stderr, nil))
	c := cfg.Kiosk
	release, err := storage.Lock(c.DataDir)
	if err != nil {
		return err
	}
	defer release()
	client, err := remote.New(remote.Options{URL: cfg.Hub.URL, Token: cfg.Hub.Token, DataDir: c.DataDir, Log: log,
		Fallback: remoteFallback(cfg)})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", c.Listen)
	if err != nil {
		return fmt.Errorf("kiosk.listen %s (the kiosk's /healthz): %w", c.Listen, err)
	}
	health := &http.Server{Handler: client.Health(version), ReadHeaderTimeout: 5 * time.Second}
	go health.Serve(ln)
	defer health.Close()
	ctx, stop := stopContext()
	defer stop()
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan struct{})
	go func() { client.Run(runCtx); close(done) }()
	if !client.WaitHello(5 * time.Second) {
		log.Warn("the hub has not answered yet: starting with the last settings it sent", "hub", cfg.Hub.URL)
	}
	st := client.Settings()
	var cam kiosk.Camera
	if st.Face {
		setting := cfg.CameraSetting()
		if st.Sandbox && cfg.Face.Camera == "" {
			setting = "synthetic"
		}
		if cam, err = camera.Open(setting, cfg.Face.Width, cfg.Face.Height); err != nil {
			log.Error("camera", "error", err.Error())
			cam = nil
		} else {
			defer cam.Close()
		}
	}
	client.SetCamera(cam)
	fmt.Fprintf(stdout, "Kiosk %s, a screen of the hub at %s\n", st.KioskID, cfg.Hub.URL)
	language := st.Language
	if c.Language != "" {
		language = c.Language
	}
	err = ui.Run(client, ui.Options{Venue: st.Venue, PhoneCamera: st.PhoneCamera, Language: language, Windowed: windowed,
		HideCursor: c.HideCursor, Sandbox: st.Sandbox, Visitor: st.Mode == kiosk.ModeVisitor, Logo: c.Logo,
		RetentionDays: st.RetentionDays}, nil, func() error { <-ctx.Done(); return nil }, log)
	if ctx.Err() != nil {
		log.Info("stopping on a signal")
	}
	cancel()
	<-done
	return err
}

// remoteFallback are the settings a remote kiosk starts with before it has
// ever heard from its hub: its own config's words for the unavailable
// screen.
func remoteFallback(cfg *config.Config) hub.Settings {
	c := cfg.Kiosk
	return hub.Settings{KioskID: c.ID, Mode: c.Mode, Venue: c.Venue, Language: c.Language, Contact: c.Contact, Alternative: c.Alternative,
		RetentionDays: c.RetentionDays, Local: app.LocalWording(c.Local)}
}
