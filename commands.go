package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"ndikiosk/app"
	"ndikiosk/config"
	"ndikiosk/doctor"
	"ndikiosk/kiosk"
	"ndikiosk/ndi"
)

// runQR prints one fresh QR URL: the quickest check that the keys, client
// id and callback (or redirect) URL in a config are what Singpass expects.
func runQR(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("qr", stderr)
	cfgPath := fs.String("config", "", "config file (required)")
	state := fs.String("state", "", "state to put in the QR (default: a random one)")
	png := fs.String("png", "", "also write the QR code as a PNG image to this file")
	cfg, err := parseConfig(fs, args, cfgPath, false)
	if err != nil {
		return err
	}
	u, err := app.NewQR(cfg, *state, *png)
	if err == nil {
		_, err = fmt.Fprintln(stdout, u)
	}
	return err
}

// runExchange swaps an authorisation code for the person and prints the
// verified data with the UIN/FIN masked.
func runExchange(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("exchange", stderr)
	cfgPath := fs.String("config", "", "config file (required)")
	code := fs.String("code", "", "the authorisation code from the callback (required)")
	state := fs.String("state", "", "the state from the callback")
	cfg, err := parseConfig(fs, args, cfgPath, false)
	if err == nil && *code == "" {
		fmt.Fprintln(stderr, "--code is required")
		return errUsage
	}
	if err != nil {
		return err
	}
	p, err := app.Exchange(cfg, *code, *state)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(p.Redacted())
}

// runSandbox serves the Singpass sandbox on its own.
func runSandbox(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("sandbox", stderr)
	o := app.StandaloneOptions{Log: slog.New(slog.NewTextHandler(stderr, nil))}
	fs.StringVar(&o.Listen, "listen", "127.0.0.1:5156", "address to serve on")
	fs.StringVar(&o.Dir, "dir", filepath.Join(config.DefaultDataDir(), "sandbox"), "where the sandbox keeps its keys and the kiosk config it writes")
	fs.StringVar(&o.Callback, "callback", "http://127.0.0.1:8080/callback", "the relying party's registered callback URL")
	fs.StringVar(&o.RPCert, "rp-cert", "", "the relying party's certificate or public key (default: the sandbox's test kiosk key)")
	attrs := fs.String("attributes", strings.Join(ndi.Attributes, ","), "attributes registered for the client")
	fs.StringVar(&o.JWKS, "jwks", "", "the Myinfo (FAPI) client's JWKS URL (default: /.well-known/jwks.json on the callback's host)")
	if err := parse(fs, args); err != nil {
		return err
	}
	o.Attributes = strings.Split(*attrs, ",")
	s, err := app.NewStandalone(o)
	if err != nil {
		return err
	}
	fmt.Fprint(stdout, s.Summary())
	ctx, stop := stopContext()
	defer stop()
	return s.Serve(ctx)
}

// logFlags adds --config and --data-dir to a command that works on the
// visit log; the function it returns parses args, opens the log they name
// and runs fn on it.
func logFlags(fs *flag.FlagSet, readOnly bool) func(args []string, fn func(visitLog) error) error {
	cfgPath := fs.String("config", "", "config file whose kiosk.data_dir to use, or a hub's config (its PostgreSQL log)")
	dataDir := fs.String("data-dir", "", "data folder (default: kiosk.data_dir, or the sandbox mode's)")
	return func(args []string, fn func(visitLog) error) error {
		if err := parse(fs, args); err != nil {
			return err
		}
		var db visitLog
		var err error
		if *cfgPath != "" && *dataDir == "" && config.IsHubFile(*cfgPath) {
			var cfg *config.Config
			if cfg, err = config.LoadHub(*cfgPath); err == nil {
				db, err = app.OpenHubLog(cfg)
			}
		} else {
			db, err = app.OpenLog(*cfgPath, *dataDir, readOnly)
		}
		if err != nil {
			return err
		}
		defer db.Close()
		return fn(db)
	}
}

// visitLog is a kiosk's SQLite log or a hub's PostgreSQL log, as the
// operator commands use them.
type visitLog interface {
	Export(ctx context.Context, w io.Writer, f kiosk.VisitFilter, format string) error
	DenyVisitor(ctx context.Context, id int64, deny bool, note string, at time.Time) (string, error)
	Documents(ctx context.Context, f kiosk.VisitFilter, fn func(visitID int64, pdf []byte) error) error
	Close() error
}

// runExport writes the visit log to stdout, decrypted, masked ids only.
func runExport(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("export", stderr)
	withLog := logFlags(fs, true)
	from := fs.String("from", "", "first day, YYYY-MM-DD (Singapore time)")
	to := fs.String("to", "", "last day, YYYY-MM-DD, included")
	format := fs.String("format", "csv", "csv or json")
	documents := fs.String("documents", "", "instead of the visit list, write the period's signed agreements to this folder as visit-ID.pdf")
	return withLog(args, func(db visitLog) error {
		f, err := kiosk.Days(*from, *to)
		if err != nil {
			return err
		}
		if *documents != "" {
			n, err := writeDocuments(context.Background(), db, *documents, f)
			fmt.Fprintf(stdout, "%d signed documents written to %s\n", n, *documents)
			return err
		}
		return db.Export(context.Background(), stdout, f, *format)
	})
}

// writeDocuments writes the signed agreements of the visits in f to dir
// (made 0700) as visit-ID.pdf, each 0600, and returns how many. Each file
// is written beside its name and renamed over it: a link planted there is
// replaced, never followed.
func writeDocuments(ctx context.Context, db visitLog, dir string, f kiosk.VisitFilter) (int, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return 0, err
	}
	n := 0
	err := db.Documents(ctx, f, func(id int64, pdf []byte) error {
		tmp, err := os.CreateTemp(dir, ".visit-*.pdf")
		if err != nil {
			return err
		}
		_, err = tmp.Write(pdf)
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Rename(tmp.Name(), filepath.Join(dir, fmt.Sprintf("visit-%d.pdf", id)))
		}
		if err != nil {
			os.Remove(tmp.Name())
			return err
		}
		n++
		return nil
	})
	return n, err
}

// runDenyList adds (deny) or removes (allow) the person of a logged visit on
// the deny list.
func runDenyList(deny bool) func(args []string, stdout, stderr io.Writer) error {
	return func(args []string, stdout, stderr io.Writer) error {
		fs := newFlags(map[bool]string{true: "deny", false: "allow"}[deny], stderr)
		withLog := logFlags(fs, false)
		id := fs.Int64("visit", 0, "the id of one of the person's visits (see ndikiosk export) (required)")
		note := fs.String("note", "", "why (deny only)")
		return withLog(args, func(db visitLog) error {
			if *id <= 0 {
				fmt.Fprintln(stderr, "--visit ID is required")
				return errUsage
			}
			masked, err := db.DenyVisitor(context.Background(), *id, deny, *note, time.Now())
			if err == nil {
				fmt.Fprintf(stdout, "%s: the person of visit %d (%s)\n", map[bool]string{true: "denied", false: "allowed again"}[deny], *id, masked)
			}
			return err
		})
	}
}

// runDoctor checks a kiosk's configuration and surroundings and lists every
// problem at once; it exits non-zero when any check fails.
func runDoctor(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("doctor", stderr)
	cfgPath := fs.String("config", "", "config file (default: the sandbox defaults)")
	screen := fs.String("screen", "", "the kiosk's screen in pixels, WxH, for the QR code's module size (default: the X display's)")
	cfg, err := parseConfig(fs, args, cfgPath, true)
	if err == errUsage || err == flag.ErrHelp {
		return err
	}
	hubFile := *cfgPath != "" && config.IsHubFile(*cfgPath)
	if hubFile {
		cfg, err = config.LoadHub(*cfgPath)
	}
	if err != nil {
		fmt.Fprintf(stdout, "FAIL config: %v\n", err)
		return fmt.Errorf("1 problem")
	}
	var w, h int
	if *screen != "" {
		if _, err := fmt.Sscanf(*screen, "%dx%d", &w, &h); err != nil || w <= 0 || h <= 0 {
			fmt.Fprintf(stderr, "--screen %q: want WIDTHxHEIGHT in pixels, e.g. 1920x1080\n", *screen)
			return errUsage
		}
	}
	check := func() int { return doctor.CheckScreen(cfg, stdout, time.Now(), w, h) }
	if hubFile {
		check = func() int { return doctor.CheckHub(cfg, stdout, time.Now()) }
	}
	if n := check(); n > 0 {
		return fmt.Errorf("%d problem(s) found", n)
	}
	fmt.Fprintln(stdout, "All checks passed.")
	return nil
}

// runHashPIN prints the admin.pin_hash line for a PIN read from stdin (or
// --pin, which leaves the PIN in the shell history).
func runHashPIN(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("hash-pin", stderr)
	pin := fs.String("pin", "", "the PIN (default: read one line from standard input)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *pin == "" {
		fmt.Fprint(stderr, "New admin PIN (4-12 digits): ")
		fmt.Fscanln(stdin, pin)
	}
	h, err := kiosk.HashPIN(*pin)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "[admin]\npin_hash = %q\n", h)
	return nil
}
