package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"ndikiosk/app"
	"ndikiosk/config"
	"ndikiosk/hub"
)

// runHub is `ndikiosk hub [run|enrol|revoke]`: the fleet's hub, and the
// commands that enrol and revoke its kiosks.
func runHub(args []string, stdout, stderr io.Writer) error {
	sub := "run"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		sub, args = args[0], args[1:]
	}
	switch sub {
	case "run":
		return runHubServer(args, stdout, stderr)
	case "enrol", "enroll":
		return runHubEnrol(args, stdout, stderr)
	case "revoke":
		return runHubRevoke(args, stdout, stderr)
	case "notify":
		return runHubNotify(args, stdout, stderr)
	case "operator":
		return runHubOperator(args, os.Stdin, stdout, stderr)
	}
	fmt.Fprintf(stderr, "ndikiosk hub: unknown command %q (run, enrol, revoke, notify or operator)\n", sub)
	return errUsage
}

// hubConfig loads the hub's config: the file, or with none the sandbox
// hub on the database --database (or NDIKIOSK_HUB_DATABASE) names.
func hubConfig(path, database string) (*config.Config, error) {
	if path != "" {
		return config.LoadHub(path)
	}
	db := database
	if db == "" {
		db = os.Getenv(config.EnvPrefix + "HUB_DATABASE")
	}
	if db == "" {
		return nil, errors.New("--config FILE is required (or, for a sandbox hub, --database postgres://…)")
	}
	return config.SandboxHub(db), nil
}

func runHubServer(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("hub", stderr)
	path := fs.String("config", "", "the hub's config file (default: a sandbox hub on --database)")
	database := fs.String("database", "", "sandbox hub only: its PostgreSQL, postgres://…")
	var o config.Overrides
	fs.StringVar(&o.DataDir, "data-dir", "", "data folder (overrides kiosk.data_dir)")
	fs.StringVar(&o.Listen, "listen", "", "address to listen on (overrides hub.listen)")
	fs.StringVar(&o.Mode, "mode", "", "age or visitor (overrides kiosk.mode)")
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := hubConfig(*path, *database)
	if err != nil {
		return err
	}
	cfg.Override(o)
	cfg.Hub.Listen = cfg.Kiosk.Listen
	if *path == "" && o.DataDir != "" {
		cfg.Hub.KeyFile = filepath.Join(cfg.Kiosk.DataDir, config.HubKeyFile)
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	h, err := app.NewHub(cfg, app.Options{Version: version, Log: log})
	if err != nil {
		return err
	}
	defer h.Close()
	fmt.Fprintf(stdout, "Hub listening on %s, reached at %s\n", h.Addr(), cfg.BaseURL())
	if sb := h.Identity.Sandbox; sb != nil {
		fmt.Fprintf(stdout, "Sandbox mode: no real Singpass is involved. Phone page: %s\n", sb.PhoneURL())
	}
	fmt.Fprintf(stdout, "Enrol a kiosk: ndikiosk hub enrol %s--kiosk ID\n", configArg(*path, *database))
	ctx, stop := stopContext()
	defer stop()
	err = h.Run(ctx)
	if ctx.Err() != nil {
		log.Info("stopping on a signal")
	}
	return errors.Join(err, h.Close())
}

func configArg(path, database string) string {
	if path != "" {
		return "--config " + path + " "
	}
	return "--database " + database + " "
}

func runHubEnrol(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("hub enrol", stderr)
	open := hubLogFlags(fs)
	id := fs.String("kiosk", "", "the kiosk's id, e.g. lobby-1 (required)")
	venue := fs.String("venue", "", "this kiosk's venue name, if not the hub's")
	minAge := fs.Int("min-age", 0, "age mode: this kiosk's minimum age, if not the hub's")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *id == "" {
		fmt.Fprintln(stderr, "--kiosk ID is required")
		return errUsage
	}
	if err := hub.CheckKioskID(*id); err != nil {
		return err
	}
	l, err := open()
	if err != nil {
		return err
	}
	defer l.Close()
	ctx := context.Background()
	token, err := l.Registry.Enrol(ctx, *id)
	if err != nil {
		return err
	}
	if *venue != "" || *minAge != 0 {
		if err := l.Registry.SetOverrides(ctx, *id, hub.Overrides{Venue: *venue, MinAge: *minAge}); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "Kiosk %s enrolled. Put this one-time token in its config ([hub] token) or NDIKIOSK_HUB_TOKEN;\n"+
		"it can be used once, within %s:\n%s\n", *id, hub.EnrolmentLifetime, token)
	return nil
}

func runHubRevoke(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("hub revoke", stderr)
	open := hubLogFlags(fs)
	id := fs.String("kiosk", "", "the kiosk's id (required)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *id == "" {
		fmt.Fprintln(stderr, "--kiosk ID is required")
		return errUsage
	}
	l, err := open()
	if err != nil {
		return err
	}
	defer l.Close()
	if err := l.Registry.Revoke(context.Background(), *id); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Kiosk %s revoked: its credential no longer works and a hub holding it has dropped it.\n", *id)
	return nil
}

// hubLogFlags adds --config and --database to fs; the function it returns
// opens that hub's log once the flags are parsed.
func hubLogFlags(fs *flag.FlagSet) func() (*app.HubLog, error) {
	path := fs.String("config", "", "the hub's config file")
	database := fs.String("database", "", "a sandbox hub with no config file: its PostgreSQL, postgres://…")
	dataDir := fs.String("data-dir", "", "a sandbox hub with no config file: its data folder (where hub.key is)")
	return func() (*app.HubLog, error) {
		cfg, err := hubConfig(*path, *database)
		if err != nil {
			return nil, err
		}
		if *path == "" && *dataDir != "" {
			cfg.Override(config.Overrides{DataDir: *dataDir})
			cfg.Hub.KeyFile = filepath.Join(cfg.Kiosk.DataDir, config.HubKeyFile)
		}
		return app.OpenHubLog(cfg)
	}
}
