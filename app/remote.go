package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"ndikiosk/camera"
	"ndikiosk/config"
	"ndikiosk/hub"
	"ndikiosk/kiosk"
	"ndikiosk/remote"
	"ndikiosk/storage"
)

// RemoteKiosk is a kiosk that is a hub's screen ([hub] url): the data
// folder locked, the client to the hub, the loopback /healthz, and the
// camera when the hub uses Face. It holds no Singpass key and no visit
// log; its engine runs on the hub.
type RemoteKiosk struct {
	Config *config.Config
	Client *remote.Client

	log     *slog.Logger
	release func()
	health  *http.Server
	camera  kiosk.Camera
	cancel  context.CancelFunc
	done    chan struct{}
	once    sync.Once
}

// NewRemoteKiosk connects the kiosk to its hub and waits up to wait for
// the hub's settings (the last ones it sent are used otherwise).
func NewRemoteKiosk(cfg *config.Config, opts Options, wait time.Duration) (_ *RemoteKiosk, err error) {
	if !cfg.Remote() {
		return nil, errors.New("not a hub's kiosk: [hub] url is missing")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r := &RemoteKiosk{Config: cfg, log: opts.Log, done: make(chan struct{})}
	if r.log == nil {
		r.log = slog.Default()
	}
	defer func() {
		if err != nil {
			r.Close()
		}
	}()
	c := cfg.Kiosk
	if r.release, err = storage.Lock(c.DataDir); err != nil {
		return nil, err
	}
	if r.Client, err = remote.New(remote.Options{URL: cfg.Hub.URL, Token: cfg.Hub.Token, DataDir: c.DataDir, Log: r.log, Version: opts.Version,
		Fallback: remoteFallback(cfg)}); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", c.Listen)
	if err != nil {
		return nil, fmt.Errorf("kiosk.listen %s (the kiosk's /healthz): %w", c.Listen, err)
	}
	r.health = &http.Server{Handler: r.Client.Health(opts.Version), ReadHeaderTimeout: 5 * time.Second}
	go r.health.Serve(ln)
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() { r.Client.Run(ctx); close(r.done) }()
	if !r.Client.WaitHello(wait) {
		r.log.Warn("the hub has not answered yet: starting with the last settings it sent", "hub", cfg.Hub.URL)
	}
	if st := r.Client.Settings(); st.Face {
		setting := cfg.CameraSetting()
		if st.Sandbox && cfg.Face.Camera == "" {
			setting = "synthetic"
		}
		if r.camera, err = camera.Open(setting, cfg.Face.Width, cfg.Face.Height); err != nil {
			r.log.Error("camera", "error", err.Error())
			r.camera, err = nil, nil
		}
	}
	r.Client.SetCamera(r.camera)
	return r, nil
}

// remoteFallback are the settings a kiosk starts with before it has ever
// heard from its hub: its own config's words for the unavailable screen.
func remoteFallback(cfg *config.Config) hub.Settings {
	c := cfg.Kiosk
	return hub.Settings{KioskID: c.ID, Mode: c.Mode, Venue: c.Venue, Language: c.Language, Contact: c.Contact,
		Alternative: c.Alternative, RetentionDays: c.RetentionDays, Local: LocalWording(c.Local)}
}

// Close disconnects from the hub, stops /healthz, closes the camera and
// frees the data folder. It may be called more than once.
func (r *RemoteKiosk) Close() error {
	r.once.Do(func() {
		if r.cancel != nil {
			r.cancel()
			<-r.done
		}
		if r.health != nil {
			r.health.Close()
		}
		if r.camera != nil {
			r.camera.Close()
		}
		if r.release != nil {
			r.release()
		}
	})
	return nil
}
