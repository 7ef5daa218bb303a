// Package doctor checks a kiosk's deployment: keys, certificates, the
// callback or redirect URL, the data folder and visit log, the clock, the
// provider's endpoints and the camera. A new check goes here.
package doctor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"ndikiosk/app"
	"ndikiosk/camera"
	"ndikiosk/config"
	"ndikiosk/ndi/fapi"
	"ndikiosk/ndi/pki"
	"ndikiosk/storage"
)

// Check runs every check on cfg, writes one line per check to out, and
// returns the number that failed.
func Check(cfg *config.Config, out io.Writer, now time.Time) int {
	return CheckScreen(cfg, out, now, 0, 0)
}

// CheckScreen is Check for a kiosk whose screen is w by h pixels (0: the X
// display's, if there is one).
func CheckScreen(cfg *config.Config, out io.Writer, now time.Time, w, h int) int {
	d := &doctor{out: out, now: now, screen: [2]int{w, h}}
	if cfg.Remote() {
		d.ok("config", "loaded "+cfg.Path()+": a screen of the hub at "+cfg.Hub.URL)
		d.remoteKiosk(cfg)
		return d.failed
	}
	d.ok("config", "loaded "+map[bool]string{true: "(sandbox mode)", false: cfg.Path()}[cfg.Sandbox])
	d.check(cfg)
	return d.failed
}

type doctor struct {
	out    io.Writer
	now    time.Time
	screen [2]int // the kiosk's screen in pixels; zero: the X display's
	failed int
}

func (d *doctor) ok(what, detail string) { fmt.Fprintf(d.out, "ok   %s: %s\n", what, detail) }
func (d *doctor) warn(what, detail string) {
	fmt.Fprintf(d.out, "WARN %s: %s\n", what, detail)
}
func (d *doctor) fail(what string, err any) {
	d.failed++
	fmt.Fprintf(d.out, "FAIL %s: %v\n", what, err)
}

func (d *doctor) check(cfg *config.Config) {
	v := cfg.EffectiveVerify()
	fapi := cfg.Kiosk.Provider == config.ProviderFAPI
	switch {
	case fapi:
		d.fapiKeys(cfg)
		if !cfg.Sandbox {
			d.callbackURL("fapi.redirect_uri", cfg.FAPI.RedirectURI)
		}
	case !cfg.Sandbox:
		d.keys(v)
		d.callbackURL("verify.callback_url", v.CallbackURL)
	default:
		d.ok("keys", "sandbox test keys (made on first start)")
	}
	if !cfg.Sandbox {
		if cfg.Admin.PINHash == "" {
			d.fail("admin.pin_hash", "missing: make one with `ndikiosk hash-pin`")
		} else {
			d.ok("admin.pin_hash", "set")
		}
	}
	d.dataDir(cfg.Kiosk.DataDir)
	client := &http.Client{Timeout: 10 * time.Second}
	switch {
	case cfg.Sandbox:
		d.ok("endpoints", "served by this kiosk's own sandbox at "+cfg.BaseURL()+"/sandbox/")
	case fapi:
		d.fapiIssuer(cfg, client)
	default:
		d.endpoint("token_url", v.TokenURL, client, true)
		d.endpoint("person_url", v.PersonURL, client, false)
	}
	if cfg.Face.Enabled {
		d.face(cfg, client)
	}
	d.qr(cfg, d.screen)
}

// fapiKeys loads the FAPI keys without making any: a missing file is made
// on the kiosk's first start, after which its JWKS must be registered.
func (d *doctor) fapiKeys(cfg *config.Config) {
	f := cfg.EffectiveFAPI()
	seen := map[string]string{}
	check := func(name, path string, required bool) {
		k, err := fapi.LoadKey(path)
		switch {
		case errors.Is(err, os.ErrNotExist) && !required && cfg.Sandbox:
			d.ok(name, "made on first start at "+path)
		case errors.Is(err, os.ErrNotExist) && !required:
			d.warn(name, path+" does not exist yet: the kiosk makes it on first start; then register its JWKS URL with Singpass")
		case err != nil:
			d.fail(name, err)
		case seen[k.Kid] != "":
			d.fail(name, "the same key as "+seen[k.Kid]+": use separate signing and encryption keys")
		default:
			seen[k.Kid] = name
			d.ok(name, "P-256, kid "+k.Kid)
			if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o077 != 0 {
				d.warn(name, fmt.Sprintf("%s is readable by other users (%v): chmod 600 it", path, st.Mode().Perm()))
			}
		}
	}
	check("fapi.signing_key", f.SigningKey, false)
	check("fapi.encryption_key", f.EncryptionKey, false)
	for _, p := range f.PreviousKeys {
		check("fapi.previous_keys", p, true)
	}
	d.ok("fapi.scopes", strings.Join(f.Scopes, " "))
}

// fapiIssuer checks discovery (the FAPI issuer, every endpoint), the clock
// against the issuer's, and says which JWKS URL Singpass must be given.
func (d *doctor) fapiIssuer(cfg *config.Config, client *http.Client) {
	f := cfg.EffectiveFAPI()
	discovery := f.Issuer + "/.well-known/openid-configuration"
	d.endpoint("fapi.issuer", discovery, client, true)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m, err := fapi.Discover(ctx, client, f.Issuer)
	switch {
	case err != nil:
		d.fail("fapi.issuer", err)
	case fapi.LoginOnly(f.Scopes):
		d.ok("fapi.discovery", "issuer "+m.Issuer+" with PAR, token and JWKS endpoints (Singpass Login: the person comes in the ID token)")
	case m.UserinfoEndpoint == "":
		d.fail("fapi.discovery", errors.New("the issuer publishes no userinfo_endpoint, which Myinfo scopes need: "+
			"a Singpass Login app without Myinfo asks for user.identity (see README, Choosing a provider)"))
	default:
		d.ok("fapi.discovery", "issuer "+m.Issuer+" with PAR, token, userinfo and JWKS endpoints")
	}
	if u, err := url.Parse(f.RedirectURI); err == nil && u.Host != "" {
		d.ok("fapi.jwks_path", "register this JWKS URL with Singpass: "+u.Scheme+"://"+u.Host+f.JWKSPath+
			" (then `ndikiosk qr --config FILE` tries a real pushed authorisation request)")
	}
}

func (d *doctor) keys(v config.VerifyConfig) {
	key, err := pki.LoadPrivateKey(v.PrivateKey, v.PrivateKeyPassword)
	if err != nil {
		d.fail("verify.private_key", err)
	} else {
		detail := fmt.Sprintf("RSA-%d", key.Key.N.BitLen())
		if key.Cert != nil {
			detail += fmt.Sprintf(", certificate %q matches, valid until %s", key.Cert.Subject.CommonName, key.Cert.NotAfter.Format("2006-01-02"))
			if d.now.After(key.Cert.NotAfter) {
				d.fail("verify.private_key", "its certificate expired on "+key.Cert.NotAfter.Format("2006-01-02"))
			}
		}
		d.ok("verify.private_key", detail)
	}
	_, cert, err := pki.LoadPublicKey(v.NDICert, d.now)
	switch {
	case err != nil:
		d.fail("verify.ndi_cert", err)
	case cert != nil && cert.NotAfter.Before(d.now.AddDate(0, 0, 30)):
		d.warn("verify.ndi_cert", "expires on "+cert.NotAfter.Format("2006-01-02")+": ask Singpass for the next one")
	case cert != nil:
		d.ok("verify.ndi_cert", fmt.Sprintf("%q valid %s to %s", cert.Subject.CommonName, cert.NotBefore.Format("2006-01-02"), cert.NotAfter.Format("2006-01-02")))
	default:
		d.ok("verify.ndi_cert", "public key (no validity dates to check)")
	}
}

// callbackURL must be reachable by Singpass (Verify) or the visitor's
// phone (FAPI): https, a public host name.
func (d *doctor) callbackURL(name, raw string) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		d.fail(name, "not an absolute URL")
		return
	}
	if u.Scheme != "https" {
		d.fail(name, "must be https (Singpass requires TLS 1.2 or newer)")
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); ip != nil {
		if ip.IsPrivate() || ip.IsLoopback() || ip.IsLinkLocalUnicast() || ip.IsUnspecified() {
			d.fail(name, host+" is a private address: Singpass cannot reach it; use the public name of your relay or proxy")
		} else {
			d.warn(name, "an IP address; Singpass expects a registered host name")
		}
		return
	}
	if host == "localhost" || strings.HasSuffix(host, ".local") || strings.HasSuffix(host, ".internal") {
		d.fail(name, host+" is not a public name: Singpass cannot reach it")
		return
	}
	if u.Scheme == "https" {
		d.ok(name, raw)
	}
}

// writable checks that the data folder exists or can be made, and takes
// a file; why says what the kiosk keeps there.
func (d *doctor) writable(dir, why string) bool {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		d.fail("kiosk.data_dir", err)
		return false
	}
	probe := filepath.Join(dir, ".doctor-probe")
	if err := os.WriteFile(probe, []byte("ok"), 0o600); err != nil {
		d.fail("kiosk.data_dir", fmt.Errorf("not writable%s: %w", why, err))
		return false
	}
	os.Remove(probe)
	d.ok("kiosk.data_dir", dir+" is writable")
	return true
}

func (d *doctor) dataDir(dir string) {
	if !d.writable(dir, "") {
		return
	}
	d.modes(dir) // before the open below tightens what this user owns
	db, err := storage.Open(dir)
	if err != nil {
		d.fail("visit log", err)
		return
	}
	defer db.Close()
	ctx := context.Background()
	res, err := db.IntegrityCheck(ctx)
	if err != nil || res != "ok" {
		d.fail("visit log", fmt.Sprintf("integrity_check says %q %v", res, err))
		return
	}
	n, err := db.ReadAll(ctx)
	if err != nil {
		d.fail("visit log", err)
		return
	}
	d.ok("visit log", fmt.Sprintf("%s: integrity_check ok, %d visits read with %s", db.Path(), n, storage.KeyFile))
}

// modes checks that only the kiosk's user can reach the visit log and its
// key. On Windows the folder's ACL decides, not modes.
func (d *doctor) modes(dir string) {
	if runtime.GOOS == "windows" {
		return
	}
	if st, err := os.Stat(dir); err == nil {
		switch p := st.Mode().Perm(); {
		case p&0o022 != 0:
			d.fail("kiosk.data_dir", fmt.Sprintf("%s is writable by other users (%04o): chmod 700 %s", dir, p, dir))
		case p&0o077 != 0:
			d.warn("kiosk.data_dir", fmt.Sprintf("%s is open to other users (%04o): chmod 700 %s", dir, p, dir))
		}
	}
	for _, f := range []string{storage.DBFile, storage.DBFile + "-wal", storage.DBFile + "-shm", storage.KeyFile} {
		path := filepath.Join(dir, f)
		if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o077 != 0 {
			d.fail("visit log", fmt.Sprintf("%s is open to other users (%04o): chmod 600 %s", path, st.Mode().Perm(), path))
		}
	}
}

// endpoint checks that a server answers at all (any HTTP status will do:
// token and person refuse a bare request), and compares clocks with its
// Date header: PKI_SIGN timestamps must agree with Singpass's.
func (d *doctor) endpoint(name, u string, client *http.Client, clock bool) {
	if u == "" {
		d.fail(name, "not set")
		return
	}
	start := time.Now()
	resp, err := client.Get(u)
	if err != nil {
		d.fail(name, fmt.Errorf("%s does not answer: %w", u, unwrapURL(err)))
		return
	}
	resp.Body.Close()
	d.ok(name, fmt.Sprintf("%s answers (HTTP %d)", u, resp.StatusCode))
	if !clock {
		return
	}
	date, err := http.ParseTime(resp.Header.Get("Date"))
	if err != nil {
		d.warn("clock", "the server sent no Date header to compare with")
		return
	}
	skew := start.Add(time.Since(start) / 2).Sub(date)
	switch {
	case skew > time.Minute || skew < -time.Minute:
		d.fail("clock", fmt.Sprintf("this machine is %s off the server's clock; sync it with NTP (signed requests carry timestamps)", skew.Round(time.Second)))
	default:
		d.ok("clock", fmt.Sprintf("within %s of the server", skew.Abs().Round(time.Second)+time.Second))
	}
}

func (d *doctor) face(cfg *config.Config, client *http.Client) {
	_, err := app.FaceStep(cfg, func() time.Time { return d.now }, nil, client)
	if cfg.Sandbox {
		d.ok("face", "served by this kiosk's own sandbox")
	} else if err != nil {
		d.fail("face", err)
	} else {
		d.ok("face.cert", "loaded")
		base := cfg.Face.BaseURL
		if base == "" {
			base = map[string]string{"staging": "https://stg-bio-api.singpass.gov.sg/api/v2/face", "production": "https://bio-api.singpass.gov.sg/api/v2/face"}[cfg.Face.Environment]
		}
		d.endpoint("face.base_url", base+"/oauth/token/", client, false)
	}
	d.camera(cfg, cfg.CameraSetting(), "", "")
}

// camera opens the camera at setting and takes one frame; why prefixes a
// failure to open it, what follows the frame size when it works.
func (d *doctor) camera(cfg *config.Config, setting, why, what string) {
	cam, err := camera.Open(setting, cfg.Face.Width, cfg.Face.Height)
	if err != nil {
		d.fail("face.camera", fmt.Errorf("%s%w", why, err))
		return
	}
	defer cam.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	img, err := cam.Frame(ctx)
	if err != nil {
		d.fail("face.camera", err)
		return
	}
	d.ok("face.camera", fmt.Sprintf("%s gives %dx%d frames%s", setting, img.Bounds().Dx(), img.Bounds().Dy(), what))
}

func unwrapURL(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}
