package app

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"ndikiosk/config"
	"ndikiosk/kiosk"
	"ndikiosk/ndi/fapi"
	"ndikiosk/ndi/pki"
	"ndikiosk/ndi/sandbox"
	"ndikiosk/ndi/sign"
	"ndikiosk/ndi/sign/pdf"
)

// SignReturnPath is where the kiosk's server sends the visitor's phone
// back after the signing page (the redirect URI registered with Sign): a
// thank-you that decides nothing.
const SignReturnPath = "/sign/done"

// SandboxSignUpload is the sandbox's sign-request endpoint on the kiosk's
// server: the one path whose body (the PDF) may exceed the server's limit.
const SandboxSignUpload = config.SandboxPrefix + "/sign/api/v3/sign-requests"

// SandboxSignClientID is the Sign client the sandbox registers for the
// kiosk.
const SandboxSignClientID = "ndikiosk-sandbox-sign"

// signPoll is how often the kiosk asks Sign whether the visitor signed.
const signPoll = 2 * time.Second

// Signing is the signing step as built from [sign]: the engine's part and
// what the kiosk's server publishes.
type Signing struct {
	Step     *kiosk.SignConfig
	Client   *sign.Client
	JWKSPath string
	JWKS     []byte
	// Webhook, when set (a hub), answers Sign's success webhook at
	// SignWebhookPath.
	Webhook http.Handler
}

// SignWebhookPath is where a hub takes Sign's success webhook.
const SignWebhookPath = "/sign/webhook"

// Routes are the signing step's routes on the kiosk's (or hub's) server:
// the JWKS Sign fetches, and the page the phone returns to.
func (s *Signing) Routes() map[string]http.Handler {
	if s == nil {
		return nil
	}
	routes := map[string]http.Handler{
		"GET " + s.JWKSPath: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Cache-Control", "public, max-age=300")
			w.Write(s.JWKS)
		}),
		"GET " + SignReturnPath: http.HandlerFunc(signReturn),
	}
	if s.Webhook != nil {
		routes["POST "+SignWebhookPath] = s.Webhook
	}
	return routes
}

var signDonePage = template.Must(template.New("done").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.}}</title><style>body{font:1.3rem/1.5 system-ui,sans-serif;margin:2rem;text-align:center}</style></head>
<body><p>{{.}}</p></body></html>`))

// signReturn thanks the visitor whose browser Sign sent back; the outcome
// is what the kiosk learns from Sign itself.
func signReturn(w http.ResponseWriter, r *http.Request) {
	msg := "Please look at the kiosk screen."
	status := http.StatusOK
	switch _, ok, err := sign.Redirect(r.URL.Query()); {
	case err != nil:
		status, msg = http.StatusBadRequest, "This link is not valid. Please look at the kiosk screen."
	case ok:
		msg = "Thank you for signing. Please look at the kiosk screen."
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	signDonePage.Execute(w, msg)
}

// SignStep builds the signing step from [sign], or returns nil when it is
// off. In sandbox mode Sign is the sandbox's (sb), reached with
// httpClient.
func SignStep(c *config.Config, clock func() time.Time, sb *sandbox.Sandbox, httpClient *http.Client) (*Signing, error) {
	if !c.SignEnabled() {
		return nil, nil
	}
	s := c.EffectiveSign()
	doc, err := agreement(c)
	if err != nil {
		return nil, err
	}
	key, err := fapi.LoadOrCreateKey(s.SigningKey)
	if err != nil {
		return nil, fmt.Errorf("sign.signing_key: %w", err)
	}
	cfg := sign.Config{BaseURL: s.BaseURL, ClientID: s.ClientID, Key: key, JWKSURL: s.SignJWKSURL, HTTPClient: httpClient, Now: clock}
	if sb != nil {
		roots := x509.NewCertPool()
		roots.AddCert(sb.SignRoot())
		cfg.BaseURL, cfg.ClientID, cfg.JWKSURL, cfg.Roots, cfg.TSARoots = sb.SignBaseURL(), SandboxSignClientID, sb.SignJWKSURL(), roots, roots
	} else {
		if cfg.Roots, err = config.LoadRoots(s.Roots); err != nil {
			return nil, fmt.Errorf("sign.roots: %w", err)
		}
		if s.TSARoots != "" {
			if cfg.TSARoots, err = config.LoadRoots(s.TSARoots); err != nil {
				return nil, fmt.Errorf("sign.tsa_roots: %w", err)
			}
		}
	}
	client, err := sign.New(cfg)
	if err != nil {
		return nil, err
	}
	jwks, err := client.JWKS()
	if err != nil {
		return nil, err
	}
	step := &kiosk.SignConfig{Signer: client, Document: doc, DocName: s.DocName, Place: s.Place(), Timeout: s.Timeout.Duration,
		Poll: signPoll, Record: s.Unsigned == config.UnsignedRecord}
	return &Signing{Step: step, Client: client, JWKSPath: s.JWKSPath, JWKS: jwks}, nil
}

// agreement is the PDF visitors sign: [sign] document, or with --sign-demo
// a built-in sample.
func agreement(c *config.Config) ([]byte, error) {
	s := c.Sign
	if s.Document == "" {
		return pdf.Sample(1, 4000), nil
	}
	if err := config.CheckAgreement(s.Document, s.Page); err != nil {
		return nil, fmt.Errorf("sign.document: %w", err)
	}
	return config.ReadAgreement(s.Document)
}

// sandboxSignClient registers the kiosk with the sandbox's Sign side: its
// JWKS on the kiosk's server, the return page, and the sandbox's signing
// root kept in the sandbox folder across restarts, so that documents
// signed earlier still verify. nil when signing is off.
func sandboxSignClient(c *config.Config, now time.Time) (*sandbox.SignClient, error) {
	if !c.SignEnabled() {
		return nil, nil
	}
	key, cert, err := loadOrCreateSignCA(c.SandboxDir(), now)
	if err != nil {
		return nil, fmt.Errorf("sandbox Sign root: %w", err)
	}
	base := c.BaseURL()
	sc := &sandbox.SignClient{ID: SandboxSignClientID, JWKSURL: base + c.Sign.JWKSPath, RedirectURI: base + SignReturnPath,
		CAKey: key, CACert: cert}
	if c.IsHub() {
		// A hub has a public server: Sign's webhook wakes the waiting
		// engine (a standalone kiosk polls).
		sc.WebhookURL = base + SignWebhookPath
	}
	return sc, nil
}

// Files of the sandbox's Sign root in the sandbox folder.
const (
	signCAKeyFile  = "sign-ca.key"
	signCACertFile = "sign-ca.pem"
)

func loadOrCreateSignCA(dir string, now time.Time) (*rsa.PrivateKey, *x509.Certificate, error) {
	keyPath, certPath := filepath.Join(dir, signCAKeyFile), filepath.Join(dir, signCACertFile)
	keyPEM, kerr := os.ReadFile(keyPath)
	certPEM, cerr := os.ReadFile(certPath)
	if errors.Is(kerr, os.ErrNotExist) && errors.Is(cerr, os.ErrNotExist) {
		key, cert, err := sandbox.NewSignCA(now)
		if err != nil {
			return nil, nil, err
		}
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, nil, err
		}
		if err := writeFileAtomic(keyPath, pki.KeyPEM(key), 0o600); err != nil {
			return nil, nil, err
		}
		if err := writeFileAtomic(certPath, pki.CertPEM(cert), 0o600); err != nil {
			return nil, nil, err
		}
		return key, cert, nil
	}
	if kerr != nil || cerr != nil {
		return nil, nil, fmt.Errorf("%s and %s go together: %w", keyPath, certPath, errors.Join(kerr, cerr))
	}
	kb, _ := pem.Decode(keyPEM)
	cb, _ := pem.Decode(certPEM)
	if kb == nil || cb == nil {
		return nil, nil, fmt.Errorf("%s or %s is not PEM", keyPath, certPath)
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", certPath, err)
	}
	parsed, err := x509.ParsePKCS1PrivateKey(kb.Bytes)
	if err != nil {
		k8, err8 := x509.ParsePKCS8PrivateKey(kb.Bytes)
		rk, ok := k8.(*rsa.PrivateKey)
		if err8 != nil || !ok {
			return nil, nil, fmt.Errorf("%s: not an RSA key", keyPath)
		}
		parsed = rk
	}
	if !parsed.PublicKey.Equal(cert.PublicKey) {
		return nil, nil, fmt.Errorf("%s does not belong to %s", keyPath, certPath)
	}
	return parsed, cert, nil
}
