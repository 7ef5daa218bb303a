// Package app assembles a runnable kiosk from a config.Config: the
// identity provider (Verify or Myinfo under FAPI, or the embedded sandbox),
// the visit log, the engine, the callback server and the camera. ndikiosk's
// commands and the end-to-end tests build kiosks only through it.
package app

import (
	"context"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"ndikiosk/config"
	"ndikiosk/kiosk"
	"ndikiosk/ndi"
	"ndikiosk/ndi/face"
	"ndikiosk/ndi/fapi"
	"ndikiosk/ndi/pki"
	"ndikiosk/ndi/sandbox"
	"ndikiosk/ndi/verify"

	"github.com/skip2/go-qrcode"
)

// Identity is the configured identity provider with what the rest of the
// kiosk needs to know about it.
type Identity struct {
	Provider        kiosk.Provider
	Name            string           // "Verify" or "Singpass", for the unavailable message
	Sandbox         *sandbox.Sandbox // in sandbox mode, to mount at config.SandboxPrefix
	HTTPClient      *http.Client     // for other calls to the same places (Face, probes)
	Attributes      []string         // what is asked for, for the visit log
	CallbackPath    string           // where the callback or redirect arrives
	CallbackURL     string
	JWKSPath        string // FAPI: where the kiosk's public keys are served
	JWKS            []byte
	QRLifetime      time.Duration
	QRLead          time.Duration
	ExchangeTimeout time.Duration
	MaxOutstanding  int              // codes whose callback is awaited at once
	Endpoints       []kiosk.Endpoint // what the admin status screen probes
	PhoneCamera     bool             // the QR is scanned with the phone's camera, not the Singpass app
}

// FAPIKeys loads the kiosk's FAPI keys, making the signing and encryption
// keys on first start when their files do not exist.
func FAPIKeys(c *config.Config) (fapi.Keys, error) {
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
func NewIdentity(c *config.Config, clock func() time.Time, log *slog.Logger) (*Identity, error) {
	if clock == nil {
		clock = time.Now
	}
	if c.Kiosk.Provider != config.ProviderFAPI {
		client, sb, err := verifyClient(c, clock, log)
		if err != nil {
			return nil, err
		}
		v := c.EffectiveVerify()
		return &Identity{Provider: VerifyProvider{Client: client}, Name: "Verify", Sandbox: sb, HTTPClient: client.Config().HTTPClient,
			Attributes: v.Attributes, CallbackPath: c.Kiosk.CallbackPath, CallbackURL: v.CallbackURL,
			QRLifetime: v.QRLifetime.Duration, QRLead: v.QRLead.Duration, ExchangeTimeout: v.ExchangeTimeout.Duration, MaxOutstanding: 4,
			Endpoints: []kiosk.Endpoint{{Name: "Token API", URL: v.TokenURL}, {Name: "Person API", URL: v.PersonURL}}}, nil
	}
	f := c.EffectiveFAPI()
	keys, err := FAPIKeys(c)
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
		Endpoints:      []kiosk.Endpoint{{Name: "Singpass discovery", URL: f.Issuer + "/.well-known/openid-configuration"}}}
	httpClient := &http.Client{Timeout: 15 * time.Second}
	if c.Sandbox {
		// The sandbox also registers the Verify client (harmless), and the
		// Myinfo client whose JWKS it fetches from this kiosk, as Singpass
		// would.
		if id.Sandbox, _, httpClient, err = newSandbox(c, clock, log, &sandbox.FAPIClient{ID: f.ClientID,
			RedirectURI: f.RedirectURI, JWKSURL: c.BaseURL() + f.JWKSPath, Scopes: config.SandboxScopes(),
			LoginOnly: fapi.LoginOnly(f.Scopes)}); err != nil {
			return nil, err
		}
	}
	client, err := fapi.New(fapi.Config{Issuer: f.Issuer, ClientID: f.ClientID, RedirectURI: f.RedirectURI,
		Scopes: f.Scopes, Keys: keys, ACR: f.ACRValues, HTTPClient: httpClient, Now: clock})
	if err != nil {
		return nil, err
	}
	id.Provider, id.HTTPClient = FAPIProvider{Client: client}, httpClient
	return id, nil
}

// VerifyClient loads the keys and returns a Verify client. In sandbox mode
// it also returns the sandbox to mount at config.SandboxPrefix.
func VerifyClient(c *config.Config) (*verify.Client, *sandbox.Sandbox, error) {
	return verifyClient(c, time.Now, nil)
}

// verifyClient is VerifyClient with a clock for the client and the
// sandbox, and a log for the sandbox.
func verifyClient(c *config.Config, clock func() time.Time, log *slog.Logger) (*verify.Client, *sandbox.Sandbox, error) {
	v := c.EffectiveVerify()
	cfg := verify.Config{
		ClientID: v.ClientID, ClientSecret: v.ClientSecret, CallbackURL: v.CallbackURL,
		TokenURL: v.TokenURL, PersonURL: v.PersonURL, QRBaseURL: v.QRBaseURL, Attributes: v.Attributes, Now: clock,
	}
	var sb *sandbox.Sandbox
	if c.Sandbox {
		var keys *sandbox.Keys
		var err error
		if sb, keys, cfg.HTTPClient, err = newSandbox(c, clock, log, nil); err != nil {
			return nil, nil, err
		}
		cfg.Key, cfg.NDIKey = keys.Kiosk, &keys.NDI.PublicKey
	} else {
		key, err := pki.LoadPrivateKey(v.PrivateKey, v.PrivateKeyPassword)
		if err != nil {
			return nil, nil, err
		}
		ndi, _, err := pki.LoadPublicKey(v.NDICert, clock())
		if err != nil {
			return nil, nil, err
		}
		cfg.Key, cfg.NDIKey = key.Key, ndi
	}
	client, err := verify.New(cfg)
	return client, sb, err
}

// newSandbox is the embedded sandbox of sandbox mode, on the kiosk's own
// server: its keys, the Verify client registered with it (and the Myinfo
// client when fc is given), and the HTTP client for calls to that server.
func newSandbox(c *config.Config, clock func() time.Time, log *slog.Logger, fc *sandbox.FAPIClient) (*sandbox.Sandbox, *sandbox.Keys, *http.Client, error) {
	v := c.EffectiveVerify()
	keys, err := sandbox.LoadOrCreateKeys(c.SandboxDir(), clock())
	if err != nil {
		return nil, nil, nil, err
	}
	httpClient, err := selfClient(c)
	if err != nil {
		return nil, nil, nil, err
	}
	sc, err := sandboxSignClient(c, clock())
	if err != nil {
		return nil, nil, nil, err
	}
	sb, err := sandbox.New(sandbox.Options{
		Prefix: config.SandboxPrefix, PublicURL: c.BaseURL() + config.SandboxPrefix, HTTPClient: httpClient,
		Key: keys.NDI, Cert: keys.NDICert, FAPI: fc, Sign: sc, Now: clock, Logger: log,
		Client: sandbox.Client{ID: v.ClientID, Secret: v.ClientSecret, CallbackURL: v.CallbackURL,
			PublicKey: &keys.Kiosk.PublicKey, Attributes: v.Attributes},
	})
	return sb, keys, httpClient, err
}

// FaceStep builds the engine's Face step from [face]: the service client
// (the embedded sandbox's in sandbox mode) and the camera opener's setting.
// It returns nil when Face is off.
func FaceStep(c *config.Config, clock func() time.Time, sb *sandbox.Sandbox, httpClient *http.Client) (*kiosk.FaceConfig, error) {
	f := c.Face
	if !f.Enabled {
		return nil, nil
	}
	cfg := face.Config{BaseURL: f.BaseURL, ClientID: f.ClientID, ClientSecret: f.ClientSecret, ServiceID: f.ServiceID,
		TransactionType: f.TransactionType, HTTPClient: httpClient, Now: clock}
	switch f.Environment {
	case "staging":
		cfg.BaseURL = face.StagingBaseURL
	case "production":
		cfg.BaseURL = face.ProductionBaseURL
	}
	if sb != nil {
		fc := sandbox.DefaultFaceClient
		cfg.BaseURL, cfg.ClientID, cfg.ClientSecret, cfg.ServiceID = sb.FaceURL(), fc.ID, fc.Secret, fc.ServiceID
		pub, _ := sb.Certificate().PublicKey.(*rsa.PublicKey)
		cfg.ServiceKey = pub
	} else {
		pub, _, err := pki.LoadPublicKey(f.Cert, clock())
		if err != nil {
			return nil, fmt.Errorf("face.cert: %w", err)
		}
		cfg.ServiceKey = pub
	}
	if f.UserPath != "" {
		cfg.Paths = face.DefaultPaths
		cfg.Paths.User = f.UserPath
	}
	client, err := face.New(cfg)
	if err != nil {
		return nil, err
	}
	return &kiosk.FaceConfig{Checker: client, Threshold: f.Threshold, Countdown: f.Countdown.Duration, Retries: *f.Retries}, nil
}

// selfClient is an HTTP client for calls the sandbox and the kiosk make to
// the kiosk's own server; with TLS on, it trusts the kiosk's certificate.
func selfClient(c *config.Config) (*http.Client, error) {
	client := &http.Client{Timeout: 30 * time.Second}
	if c.Kiosk.TLSCert == "" {
		return client, nil
	}
	pem, err := os.ReadFile(c.Kiosk.TLSCert)
	if err != nil {
		return nil, fmt.Errorf("kiosk.tls_cert: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("kiosk.tls_cert %s holds no PEM certificate", c.Kiosk.TLSCert)
	}
	client.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}
	return client, nil
}

// NewQR makes one code for state with the configured provider: with Verify
// it is signed here; with FAPI it is a real pushed authorisation request
// (client assertion, DPoP), so a URL means Singpass accepted the kiosk's
// keys and registration. An empty state gets a random one. With png set,
// the code is also written there as an image.
func NewQR(c *config.Config, state, png string) (string, error) {
	if state == "" {
		state = c.Kiosk.ID + "-" + ndi.NewNonce()[:32]
	}
	id, err := NewIdentity(c, nil, nil)
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), id.ExchangeTimeout)
	defer cancel()
	code, err := id.Provider.NewCode(ctx, state, id.QRLifetime)
	if err == nil && png != "" {
		if err = qrcode.WriteFile(code.URL, qrcode.Medium, 512, png); err != nil {
			err = fmt.Errorf("write %s: %w", png, err)
		}
	}
	return code.URL, err
}

// Exchange swaps a Verify authorisation code for the verified person.
func Exchange(c *config.Config, code, state string) (*ndi.Person, error) {
	if c.Kiosk.Provider == config.ProviderFAPI {
		return nil, errors.New("exchange is a Verify tool: with FAPI the PKCE verifier and the DPoP key of an authorisation live only " +
			"in the kiosk that pushed it, so a code can be redeemed only there (use `ndikiosk qr` to test the FAPI registration)")
	}
	client, _, err := VerifyClient(c)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.Verify.ExchangeTimeout.Duration)
	defer cancel()
	return client.Exchange(ctx, ndi.Callback{Code: code, State: state})
}
