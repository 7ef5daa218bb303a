package kiosk

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"ndikiosk/ndi"
	"ndikiosk/ndi/fapi"
	"ndikiosk/ndi/sandbox"
)

// Identity is the configured identity provider with what the rest of the
// kiosk needs to know about it.
type Identity struct {
	Provider        Provider
	Name            string           // "Verify" or "Singpass", for the unavailable message
	Sandbox         *sandbox.Sandbox // in sandbox mode, to mount at SandboxPrefix
	HTTPClient      *http.Client     // for other calls to the same places (Face, probes)
	Attributes      []string         // what is asked for, for the visit log
	CallbackPath    string           // where the callback or redirect arrives
	CallbackURL     string
	JWKSPath        string // FAPI: where the kiosk's public keys are served
	JWKS            []byte
	QRLifetime      time.Duration
	QRLead          time.Duration
	ExchangeTimeout time.Duration
	MaxOutstanding  int        // codes whose callback is awaited at once
	Endpoints       []Endpoint // what the admin status screen probes
	PhoneCamera     bool       // the QR is scanned with the phone's camera, not the Singpass app
}

var kioskIDRule = regexp.MustCompile(`^[A-Za-z0-9_-]{1,40}$`)

func validKioskID(id string) bool { return kioskIDRule.MatchString(id) }

// DefaultScopes is what a mode asks Myinfo for when [fapi] is silent.
// Myinfo has no partial UIN/FIN: uinfin is asked for and masked on arrival.
func DefaultScopes(mode string) []string {
	if mode == ModeVisitor {
		return []string{"name", "uinfin", "mobileno"}
	}
	return []string{"uinfin", "dob"}
}

// EffectiveFAPI is the [fapi] table as used: scopes by mode (plus uinfin
// for Face), key files under the data folder by default, and in sandbox
// mode the local sandbox as issuer on the kiosk's own server.
func (c *Config) EffectiveFAPI() FAPIConfig {
	f := c.FAPI
	f.Scopes = c.requested(f.Scopes, DefaultScopes)
	dir := filepath.Join(c.Kiosk.DataDir, "fapi")
	if f.SigningKey == "" {
		f.SigningKey = filepath.Join(dir, "signing.pem")
	}
	if f.EncryptionKey == "" {
		f.EncryptionKey = filepath.Join(dir, "encryption.pem")
	}
	if c.Sandbox {
		base := c.BaseURL()
		f.Issuer = base + SandboxPrefix + "/fapi"
		f.ClientID = SandboxFAPIClientID
		f.RedirectURI = base + c.Kiosk.CallbackPath
	}
	return f
}

// CallbackPath is the path the kiosk's server answers callbacks on: the
// redirect URI's path with FAPI, kiosk.callback_path with Verify.
func (c *Config) CallbackPath() string {
	if c.Kiosk.Provider == ProviderFAPI && !c.Sandbox {
		if u, err := url.Parse(c.FAPI.RedirectURI); err == nil && u.Path != "" {
			return u.Path
		}
	}
	return c.Kiosk.CallbackPath
}

func (c *Config) checkFAPI() []string {
	var p []string
	f := c.EffectiveFAPI()
	for _, s := range f.Scopes {
		if !fapi.ValidScope(s) {
			hint := ""
			if s == "partialuinfin" {
				hint = " (Myinfo has no partial UIN/FIN: ask for uinfin, which the kiosk masks on arrival)"
			}
			p = append(p, fmt.Sprintf("fapi.scopes: %q is not a Myinfo data item the kiosk reads%s", s, hint))
		}
	}
	if c.Kiosk.Mode == ModeAge && !slices.Contains(f.Scopes, "dob") {
		p = append(p, "fapi.scopes must include \"dob\" in age mode")
	}
	if !strings.HasPrefix(f.JWKSPath, "/") {
		p = append(p, "fapi.jwks_path must start with /")
	}
	if f.JWKSPath == c.CallbackPath() || strings.HasPrefix(f.JWKSPath, SandboxPrefix+"/") {
		p = append(p, "fapi.jwks_path must differ from the callback path and the sandbox")
	}
	if f.QRLead.Duration < time.Second || f.QRLead.Duration > 25*time.Second {
		p = append(p, "fapi.qr_lead must be between 1s and 25s (a request_uri lives about 60 s)")
	}
	if f.Environment != "" && f.Environment != "staging" && f.Environment != "production" {
		p = append(p, fmt.Sprintf("fapi.environment is %q; want \"staging\" or \"production\"", f.Environment))
	}
	if c.Sandbox {
		return p
	}
	for _, r := range []struct{ name, v string }{{"fapi.client_id", f.ClientID},
		{"fapi.issuer (or fapi.environment)", f.Issuer}, {"fapi.redirect_uri", f.RedirectURI}} {
		if r.v == "" {
			p = append(p, "missing "+r.name)
		}
	}
	if f.RedirectURI != "" {
		u, err := url.Parse(f.RedirectURI)
		switch {
		case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
			p = append(p, "fapi.redirect_uri must be an absolute https URL")
		case containsProductName(f.RedirectURI):
			p = append(p, "fapi.redirect_uri must not contain \"singpass\", \"corppass\" or \"myinfo\" (the Developer Portal refuses it)")
		}
	}
	return p
}

func containsProductName(s string) bool {
	s = strings.ToLower(s)
	return strings.Contains(s, "singpass") || strings.Contains(s, "corppass") || strings.Contains(s, "myinfo")
}

// FAPIKeys loads the kiosk's FAPI keys, making the signing and encryption
// keys on first start when their files do not exist.
func (c *Config) FAPIKeys() (fapi.Keys, error) {
	f := c.EffectiveFAPI()
	var k fapi.Keys
	var err error
	if k.Signing, err = fapi.LoadOrCreateKey(f.SigningKey); err != nil {
		return k, fmt.Errorf("fapi.signing_key: %w", err)
	}
	if k.Encryption, err = fapi.LoadOrCreateKey(f.EncryptionKey); err != nil {
		return k, fmt.Errorf("fapi.encryption_key: %w", err)
	}
	if k.Signing.Kid == k.Encryption.Kid {
		return k, fmt.Errorf("fapi.signing_key and fapi.encryption_key must be different keys")
	}
	for _, path := range f.PreviousKeys {
		old, err := fapi.LoadKey(path)
		if err != nil {
			return k, fmt.Errorf("fapi.previous_keys: %w", err)
		}
		k.Previous = append(k.Previous, old)
	}
	return k, nil
}

// Identity builds the configured provider. clock is the time source of
// the provider (and of the sandbox in sandbox mode); nil means time.Now.
// log receives the sandbox's log; nil means slog.Default().
func (c *Config) Identity(clock func() time.Time, log *slog.Logger) (*Identity, error) {
	if clock == nil {
		clock = time.Now
	}
	if c.Kiosk.Provider != ProviderFAPI {
		client, sb, err := c.verifyClient(clock, log)
		if err != nil {
			return nil, err
		}
		v := c.EffectiveVerify()
		return &Identity{Provider: VerifyProvider{client}, Name: "Verify", Sandbox: sb, HTTPClient: client.Config().HTTPClient,
			Attributes: v.Attributes, CallbackPath: c.Kiosk.CallbackPath, CallbackURL: v.CallbackURL,
			QRLifetime: v.QRLifetime.Duration, QRLead: v.QRLead.Duration, ExchangeTimeout: v.ExchangeTimeout.Duration, MaxOutstanding: 4,
			Endpoints: []Endpoint{{Name: "Token API", URL: v.TokenURL}, {Name: "Person API", URL: v.PersonURL}}}, nil
	}
	f := c.EffectiveFAPI()
	keys, err := c.FAPIKeys()
	if err != nil {
		return nil, err
	}
	jwks, err := keys.JWKS()
	if err != nil {
		return nil, err
	}
	id := &Identity{Name: "Singpass", Attributes: f.Scopes, CallbackPath: c.CallbackPath(), CallbackURL: f.RedirectURI,
		JWKSPath: f.JWKSPath, JWKS: jwks, QRLifetime: time.Minute, QRLead: f.QRLead.Duration,
		ExchangeTimeout: f.ExchangeTimeout.Duration, PhoneCamera: true,
		// A code rotates every 50 s and its redirect may come up to
		// FAPIRedirectWindow after it expired: eight cover that.
		MaxOutstanding: 8,
		Endpoints:      []Endpoint{{Name: "Singpass discovery", URL: f.Issuer + "/.well-known/openid-configuration"}}}
	httpClient := &http.Client{Timeout: 15 * time.Second}
	if c.Sandbox {
		// The sandbox also registers the Verify client (harmless), and the
		// Myinfo client whose JWKS it fetches from this kiosk, as Singpass
		// would.
		if id.Sandbox, _, httpClient, err = c.newSandbox(clock, log, &sandbox.FAPIClient{ID: f.ClientID,
			RedirectURI: f.RedirectURI, JWKSURL: c.BaseURL() + f.JWKSPath, Scopes: SandboxScopes()}); err != nil {
			return nil, err
		}
	}
	client, err := fapi.New(fapi.Config{Issuer: f.Issuer, ClientID: f.ClientID, RedirectURI: f.RedirectURI,
		Scopes: f.Scopes, Keys: keys, ACR: f.ACRValues, HTTPClient: httpClient, Now: clock})
	if err != nil {
		return nil, err
	}
	id.Provider, id.HTTPClient = FAPIProvider{client}, httpClient
	return id, nil
}

// SandboxScopes are the Myinfo items the sandbox approves for its client:
// every one the kiosk can read.
func SandboxScopes() []string {
	var out []string
	for _, a := range ndi.Attributes {
		if fapi.ValidScope(a) {
			out = append(out, a)
		}
	}
	return out
}
