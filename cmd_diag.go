package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	qrcode "github.com/skip2/go-qrcode"

	"ndikiosk/app"
	"ndikiosk/config"
	"ndikiosk/ndi"
)

// runQR prints one fresh QR URL: the quickest check that the keys, client
// id and callback (or redirect) URL in a config are what Singpass expects.
func runQR(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("qr", stderr)
	cfgPath := fs.String("config", "", "config file (required)")
	state := fs.String("state", "", "state to put in the QR (default: a random one)")
	png := fs.String("png", "", "also write the QR code as a PNG image to this file")
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(*cfgPath, false)
	if err != nil {
		return err
	}
	if *state == "" {
		*state = cfg.Kiosk.ID + "-" + ndi.NewNonce()[:32]
	}
	// With Verify the QR is signed here; with FAPI this is a real pushed
	// authorisation request (client assertion, DPoP), so a URL printed
	// means Singpass accepted the kiosk's keys and registration.
	id, err := app.NewIdentity(cfg, nil, nil)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), id.ExchangeTimeout)
	defer cancel()
	code, err := id.Provider.NewCode(ctx, *state, id.QRLifetime)
	if err != nil {
		return err
	}
	u := code.URL
	if *png != "" {
		if err := qrcode.WriteFile(u, qrcode.Medium, 512, *png); err != nil {
			return fmt.Errorf("write %s: %w", *png, err)
		}
	}
	_, err = fmt.Fprintln(stdout, u)
	return err
}

// runExchange swaps an authorisation code for the person and prints the
// verified data with the UIN/FIN masked.
func runExchange(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("exchange", stderr)
	cfgPath := fs.String("config", "", "config file (required)")
	code := fs.String("code", "", "the authorisation code from the callback (required)")
	state := fs.String("state", "", "the state from the callback")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *code == "" {
		fmt.Fprintln(stderr, "--code is required")
		return errUsage
	}
	cfg, err := loadConfig(*cfgPath, false)
	if err != nil {
		return err
	}
	if cfg.Kiosk.Provider == config.ProviderFAPI {
		return errors.New("exchange is a Verify tool: with FAPI the PKCE verifier and the DPoP key of an authorisation live only " +
			"in the kiosk that pushed it, so a code can be redeemed only there (use `ndikiosk qr` to test the FAPI registration)")
	}
	client, _, err := app.VerifyClient(cfg)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.Verify.ExchangeTimeout.Duration)
	defer cancel()
	p, err := client.Exchange(ctx, ndi.Callback{Code: *code, State: *state})
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(p.Redacted())
}

func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, mode); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
