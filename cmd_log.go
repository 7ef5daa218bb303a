package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"
	"time"

	"ndikiosk/kiosk"
	"ndikiosk/ndi"
	"ndikiosk/storage"
)

// dataDirFlags adds --config and --data-dir to a command that reads the
// visit log, and opens the log they point at.
func dataDirFlags(fs *flag.FlagSet) func() (*storage.DB, error) {
	cfgPath := fs.String("config", "", "config file whose kiosk.data_dir to use")
	dataDir := fs.String("data-dir", "", "data folder (default: kiosk.data_dir, or the user's data folder)")
	return func() (*storage.DB, error) {
		dir := *dataDir
		if dir == "" {
			cfg, err := loadConfig(*cfgPath, true)
			if err != nil {
				return nil, err
			}
			dir = cfg.Kiosk.DataDir
		}
		return storage.Open(dir)
	}
}

// runExport writes the visit log to stdout, decrypted, masked ids only.
func runExport(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("export", stderr)
	open := dataDirFlags(fs)
	from := fs.String("from", "", "first day, YYYY-MM-DD (Singapore time)")
	to := fs.String("to", "", "last day, YYYY-MM-DD, included")
	format := fs.String("format", "csv", "csv or json")
	if err := parse(fs, args); err != nil {
		return err
	}
	var f kiosk.VisitFilter
	var err error
	if *from != "" {
		if f.From, err = day(*from); err != nil {
			return err
		}
	}
	if *to != "" {
		if f.To, err = day(*to); err != nil {
			return err
		}
		f.To = f.To.AddDate(0, 0, 1)
	}
	if *format != "csv" && *format != "json" {
		return fmt.Errorf("--format %q: want csv or json", *format)
	}
	db, err := open()
	if err != nil {
		return err
	}
	defer db.Close()
	return db.Export(context.Background(), stdout, f, *format)
}

func day(s string) (time.Time, error) {
	t, err := time.ParseInLocation("2006-01-02", s, ndi.SGT)
	if err != nil {
		return t, fmt.Errorf("%q is not a date like 2026-11-22", s)
	}
	return t, nil
}

// runDenyList adds (deny) or removes (allow) the person of a logged visit on
// the deny list. The list holds keyed hashes only, so a person is named by
// one of their visits.
func runDenyList(deny bool) func(args []string, stdout, stderr io.Writer) error {
	return func(args []string, stdout, stderr io.Writer) error {
		name := map[bool]string{true: "deny", false: "allow"}[deny]
		fs := newFlags(name, stderr)
		open := dataDirFlags(fs)
		id := fs.Int64("visit", 0, "the id of one of the person's visits (see ndikiosk export) (required)")
		note := fs.String("note", "", "why (deny only)")
		if err := parse(fs, args); err != nil {
			return err
		}
		if *id <= 0 {
			fmt.Fprintln(stderr, "--visit ID is required")
			return errUsage
		}
		db, err := open()
		if err != nil {
			return err
		}
		defer db.Close()
		ctx := context.Background()
		v, err := db.Visit(ctx, *id)
		if err != nil {
			return fmt.Errorf("visit %d: %w", *id, err)
		}
		if len(v.PersonKey) == 0 {
			return fmt.Errorf("visit %d has no person key (only visitor-mode visits identify a person)", *id)
		}
		if deny {
			err = db.Deny(ctx, v.PersonKey, *note, time.Now())
		} else {
			err = db.Allow(ctx, v.PersonKey)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: the person of visit %s (%s)\n", map[bool]string{true: "denied", false: "allowed again"}[deny],
			strconv.FormatInt(*id, 10), v.MaskedID)
		return nil
	}
}
