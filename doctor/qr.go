package doctor

import (
	"fmt"
	"net/url"
	"os"
	"strings"

	qrcode "github.com/skip2/go-qrcode"

	"ndikiosk/app"
	"ndikiosk/config"
	"ndikiosk/internal/xscreen"
)

// minModulePixels is the least a QR module should be on screen: below 4
// pixels a phone at arm's length misreads a 89-module Verify code.
const minModulePixels = 4

// qr works out how large the code's modules will be on the kiosk's
// screen: the provider's real URL (a signed Verify URL is made here; a
// FAPI authorisation URL is estimated, as making one is a request to
// Singpass) gives the code's modules, the screen (--screen, else the X
// display's) the room the QR screen gives it.
func (d *doctor) qr(cfg *config.Config, screen [2]int) {
	u, how := qrURL(cfg)
	q, err := qrcode.New(u, qrcode.Low)
	if err != nil {
		d.fail("qr", fmt.Errorf("a %d-byte URL does not fit a QR code: %w", len(u), err))
		return
	}
	q.DisableBorder = true
	n := len(q.Bitmap())
	code := fmt.Sprintf("%s is %d bytes: a version-%d code of %d modules, %d with its quiet zone", how, len(u), (n-17)/4, n, n+8)
	w, h := screen[0], screen[1]
	source := "--screen"
	if w <= 0 || h <= 0 {
		var err error
		source = "X display " + os.Getenv("DISPLAY")
		if w, h, err = xscreen.Size(os.Getenv("DISPLAY")); err != nil {
			d.ok("qr", fmt.Sprintf("%s; the screen's size is unknown (%v): give it with --screen WxH; "+
				"%d px a module needs a landscape screen %d px high", code, err, minModulePixels, minModulePixels*(n+8)*100/95))
			return
		}
	}
	px := ModulePixels(w, h, n, cfg.Sandbox)
	detail := fmt.Sprintf("%s; on the %dx%d screen (%s) a module is %d px", code, w, h, source, px)
	if px < minModulePixels {
		d.warn("qr", fmt.Sprintf("%s, under %d: phones may not read it from where people stand; use a larger screen or a shorter callback URL", detail, minModulePixels))
		return
	}
	d.ok("qr", detail)
}

// ModulePixels is the whole pixels a module of a code of n modules gets on
// the QR screen of a w by h full-screen kiosk, as ui lays it out: the full
// height in landscape (beside a text column 32 % of the height wide), at
// least 90 % of the width in portrait; the sandbox marker takes 5 % of the
// height; 4 modules of quiet zone on each side.
func ModulePixels(w, h, n int, sandbox bool) int {
	fw, fh := float64(w), float64(h)
	if sandbox {
		fh *= 0.95
	}
	side := 0.9 * fw
	if w >= h {
		side = min(fh, fw-0.32*fh)
	}
	return int(side) / (n + 8)
}

// qrURL is a URL as long as the kiosk's codes will be, and what it is.
func qrURL(cfg *config.Config) (string, string) {
	if cfg.Kiosk.Provider == config.ProviderFAPI {
		f := cfg.EffectiveFAPI()
		return f.Issuer + "/fapi/auth?client_id=" + f.ClientID + "&request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3A" +
			"0123456789abcdefghijklmnopqrstuvwxyzABCDEFG", "a FAPI authorisation URL (estimated)"
	}
	if u, err := app.NewQR(cfg, "", ""); err == nil {
		return u, "a signed Verify URL"
	}
	// Unsigned (the key check above says why): as long as a signed one.
	v := cfg.EffectiveVerify()
	return "https://app.singpass.gov.sg/sgverify?callback=" + url.QueryEscape(v.CallbackURL) + strings.Repeat("x", 600), "a Verify URL (estimated)"
}
