// Package sign is a client of Sign with Singpass, Document Signing V3: the
// relying party sends a PDF and gets a signing URL for the visitor's phone;
// Sign calls a webhook (or answers a poll) with a short-lived URL of the
// signed PDF; the client downloads it and verifies it.
//
// The calls, in the order a kiosk makes them:
//
//	c, _ := sign.New(sign.Config{BaseURL: sign.Staging, ClientID: id, Key: key,
//		JWKSURL: signJWKS, Roots: roots})
//	req, _ := c.Request(ctx, pdf, "Visitor agreement", sign.Place{Page: 1, X: 0.1, Y: 0.1})
//	// show req.SigningURL as a QR code; then either
//	mux.Handle("POST /sign/webhook", c.WebhookHandler(deliver)) // deliver gets a Notification
//	// or, without a public webhook, poll:
//	res, _ := c.Result(ctx, req)            // ErrNotSigned until the visitor signs
//	signed, _ := c.Download(ctx, res.SignedDocURL) // or the Notification's SignedDocURL
//	v, _ := c.Verify(signed, pdf)           // the PDF that was sent
//	// the visitor's browser comes back to the redirect URI: Redirect(r.URL.Query())
//	// says which request; c.Cancel(ctx, req.ID) withdraws one not yet started
//
// Every failure is a typed error (see errors.go); nothing here logs a token,
// an exchange code or the signed document's URL.
//
// The relying party's signing key is an ndi/fapi Key: publish Keys.JWKS (or
// JWKS of this package) at the JWKS URL registered with Sign.
package sign

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"ndikiosk/ndi"
	"ndikiosk/ndi/fapi"
	"ndikiosk/ndi/jose"
)

// Base URLs of Sign V3.
const (
	Staging    = "https://staging.sign.singpass.gov.sg/api/v3"
	Production = "https://app.sign.singpass.gov.sg/api/v3"
)

// Service is how errors name Sign.
const Service = "Sign with Singpass"

// Limits Sign documents.
const (
	MaxPDF          = 10 << 20         // "less than 10 MB"
	RequestLifetime = 30 * time.Minute // a sign request's validity
	tokenLifetime   = 2 * time.Minute  // "must be issued within 2 minutes"
	maxJSON         = 64 << 10
)

// Config configures a Client. Zero values take the defaults shown.
type Config struct {
	BaseURL  string   // Staging, Production or a sandbox's SignBaseURL
	ClientID string   // the client ID registered for Sign
	Key      fapi.Key // signs the Authorization JWTs; published in the RP's JWKS
	JWKSURL  string   // Sign's JWKS, which signs webhooks
	// Roots are the certificate authorities a signer's certificate must
	// chain to (Singpass's staging or production signing root, or the
	// sandbox's).
	Roots *x509.CertPool
	// Intermediates may help chain building when the CMS does not carry
	// every intermediate certificate.
	Intermediates *x509.CertPool
	// TSARoots are the time-stamping authorities whose signature
	// timestamps date a signature (optional; see VerifyPDF).
	TSARoots   *x509.CertPool
	HTTPClient *http.Client     // 15 s timeout
	Now        func() time.Time // time.Now
	Leeway     time.Duration    // clock skew accepted on webhook iat/exp; 30 s
	// PlainHTTP accepts http URLs off loopback (the base, signing and
	// document URLs): only for the sandbox serving a phone on a LAN.
	PlainHTTP bool
}

// Client talks to Sign V3 for one registered relying party. It is safe for
// concurrent use.
type Client struct {
	cfg Config

	mu        sync.Mutex
	keys      []jose.PublicJWK // Sign's JWKS
	keysAt    time.Time
	delivered map[string]time.Time // webhook tokens seen, until their exp
}

// New checks cfg and returns a client.
func New(cfg Config) (*Client, error) {
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	u, err := url.Parse(cfg.BaseURL)
	switch {
	case cfg.BaseURL == "" || err != nil || !allowed(u, cfg.PlainHTTP):
		return nil, fmt.Errorf("sign: base URL %q must be https (or http on loopback)", cfg.BaseURL)
	case cfg.ClientID == "":
		return nil, errors.New("sign: client ID is required")
	case cfg.Key.Private == nil || cfg.Key.Kid == "":
		return nil, errors.New("sign: a signing key with its kid is required")
	case cfg.Roots == nil:
		return nil, errors.New("sign: the signing roots are required (Singpass's root, or the sandbox's)")
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 15 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Leeway == 0 {
		cfg.Leeway = 30 * time.Second
	}
	return &Client{cfg: cfg, delivered: map[string]time.Time{}}, nil
}

// allowed reports whether u may be called: https, or http on loopback (or
// anywhere with plainHTTP).
func allowed(u *url.URL, plainHTTP bool) bool {
	h := u.Hostname()
	switch {
	case h == "":
		return false
	case u.Scheme == "https":
		return true
	case u.Scheme != "http":
		return false
	}
	return plainHTTP || h == "127.0.0.1" || h == "::1" || h == "localhost"
}

// JWKS is the public half of the client's signing key as a JWKS document,
// for the JWKS URL registered with Sign.
func (c *Client) JWKS() ([]byte, error) {
	return jose.MarshalJWKS([]jose.PublicJWK{{Key: &c.cfg.Key.Private.PublicKey, Kid: c.cfg.Key.Kid, Use: "sig", Alg: jose.ES256}})
}

// Place is where the signature goes: a page from 1, and the signature's
// position as fractions of the page's width and height from its
// bottom-left corner, each in [0, 1) with at most four decimals.
type Place struct {
	Page int
	X, Y float64
}

func (p Place) check() error {
	four := func(v float64) bool { return math.Abs(v*1e4-math.Round(v*1e4)) < 1e-6 }
	if p.Page < 1 || p.X < 0 || p.X >= 1 || p.Y < 0 || p.Y >= 1 || !four(p.X) || !four(p.Y) {
		return fmt.Errorf("%w: page %d, x %g, y %g (page from 1; x and y in [0, 1), four decimals at most)", ErrBadInput, p.Page, p.X, p.Y)
	}
	return nil
}

// Request is a sign request Sign accepted.
type Request struct {
	ID           string    `json:"request_id"`
	SigningURL   string    `json:"signing_url"`
	ExchangeCode string    `json:"exchange_code"` // secret: never log it
	Expires      time.Time `json:"-"`             // RequestLifetime after it was made
}

// Request sends pdf for signing at place, shown to the visitor as docName.
func (c *Client) Request(ctx context.Context, pdf []byte, docName string, at Place) (Request, error) {
	if err := at.check(); err != nil {
		return Request{}, err
	}
	switch {
	case len(pdf) == 0 || !bytes.HasPrefix(pdf, []byte("%PDF-")):
		return Request{}, fmt.Errorf("%w: the document is not a PDF", ErrBadInput)
	case len(pdf) >= MaxPDF:
		return Request{}, fmt.Errorf("%w: the document is %d bytes; Sign takes less than %d", ErrBadInput, len(pdf), MaxPDF)
	case strings.TrimSpace(docName) == "" || len(docName) > 200:
		return Request{}, fmt.Errorf("%w: the document name must be 1 to 200 characters", ErrBadInput)
	}
	now := c.cfg.Now()
	tok, err := c.token(map[string]any{"client_id": c.cfg.ClientID, "doc_name": docName,
		"page": at.Page, "x": at.X, "y": at.Y}, now)
	if err != nil {
		return Request{}, err
	}
	body, err := c.call(ctx, "sign-requests", http.MethodPost, c.cfg.BaseURL+"/sign-requests", tok, "application/octet-stream", pdf)
	if err != nil {
		return Request{}, err
	}
	var r Request
	if json.Unmarshal(body, &r) != nil || r.ID == "" || r.ExchangeCode == "" || r.SigningURL == "" {
		return Request{}, fmt.Errorf("%w: the sign request's answer lacks request_id, signing_url or exchange_code", ErrBadResponse)
	}
	if u, err := url.Parse(r.SigningURL); err != nil || !allowed(u, c.cfg.PlainHTTP) {
		return Request{}, fmt.Errorf("%w: signing_url is not an https URL", ErrBadResponse)
	}
	r.Expires = now.Add(RequestLifetime)
	return r, nil
}

// Redirect reads the query Sign's redirect brings the visitor's browser
// back with: the request ID and "success" or "cancelled". It is only a
// hint: the outcome is what the webhook or Result says.
func Redirect(q url.Values) (requestID string, success bool, err error) {
	id, status := q.Get("request_id"), q.Get("status")
	if id == "" || len(id) > 100 || len(q["request_id"]) != 1 || len(q["status"]) != 1 || (status != "success" && status != "cancelled") {
		return "", false, fmt.Errorf("%w: the redirect needs one request_id and a status of success or cancelled", ErrBadInput)
	}
	return id, status == "success", nil
}

// Signer is what Get Signing Result says of the signer.
type Signer struct {
	Name          string `json:"signer_name"`
	PartialUINFIN string `json:"signer_partial_uinfin"` // last four characters
	SignedAtMS    int64  `json:"signed_at"`             // Unix milliseconds
}

// Result is a signed document ready for download.
type Result struct {
	SignedDocURL string    // valid for two minutes: download at once, never log it
	Expires      time.Time // of SignedDocURL
	Signer       *Signer   // when Sign says
}

// Result polls Get Signing Result: ErrNotSigned while the visitor has not
// signed, ErrExpired once the request has lapsed, ErrAccessExpired when the
// signed document can no longer be fetched.
func (c *Client) Result(ctx context.Context, req Request) (Result, error) {
	if req.ID == "" || req.ExchangeCode == "" || strings.ContainsAny(req.ID, "/?#%") {
		return Result{}, fmt.Errorf("%w: a request ID and exchange code are needed", ErrBadInput)
	}
	var body []byte
	// The V3 pages name the path signed-doc; their first edition (June
	// 2025) wrote signed_doc. A 404 on the one tries the other.
	for _, path := range []string{"/signed-doc", "/signed_doc"} {
		tok, err := c.token(map[string]any{"exchange_code": req.ExchangeCode}, c.cfg.Now())
		if err != nil {
			return Result{}, err
		}
		body, err = c.call(ctx, "signed-doc", http.MethodGet, c.cfg.BaseURL+"/sign-requests/"+url.PathEscape(req.ID)+path, tok, "application/json", nil)
		var ae *ndi.APIError
		if errors.As(err, &ae) && ae.Status == http.StatusNotFound && path == "/signed-doc" {
			continue
		}
		if err != nil {
			return Result{}, err
		}
		break
	}
	var r struct {
		URL    string  `json:"signed_doc_url"`
		Exp    int64   `json:"exp"`
		Signer *Signer `json:"signer_info"`
	}
	if json.Unmarshal(body, &r) != nil || r.URL == "" {
		return Result{}, fmt.Errorf("%w: no signed_doc_url in the signing result", ErrBadResponse)
	}
	return Result{SignedDocURL: r.URL, Expires: time.Unix(r.Exp, 0), Signer: r.Signer}, nil
}

// Cancel withdraws a request the visitor has not started signing.
func (c *Client) Cancel(ctx context.Context, requestID string) error {
	if requestID == "" {
		return fmt.Errorf("%w: a request ID is needed", ErrBadInput)
	}
	tok, err := c.token(map[string]any{"request_id": requestID, "client_id": c.cfg.ClientID}, c.cfg.Now())
	if err != nil {
		return err
	}
	_, err = c.call(ctx, "cancel", http.MethodPost, c.cfg.BaseURL+"/sign-requests/cancel", tok, "application/json", nil)
	return err
}

// Download fetches the signed PDF from a signed_doc_url (webhook or
// Result). The URL must be https (or loopback http, for the sandbox).
func (c *Client) Download(ctx context.Context, signedDocURL string) ([]byte, error) {
	u, err := url.Parse(signedDocURL)
	if err != nil || !allowed(u, c.cfg.PlainHTTP) {
		return nil, fmt.Errorf("%w: signed_doc_url is not an https URL", ErrBadResponse)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, signedDocURL, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, unreachable("download", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 2*MaxPDF+1))
	if err != nil {
		return nil, unreachable("download", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, apiError("download", resp.StatusCode, body)
	}
	if len(body) > 2*MaxPDF || !bytes.HasPrefix(body, []byte("%PDF-")) {
		return nil, fmt.Errorf("%w: the signed document is not a PDF (or larger than %d bytes)", ErrBadResponse, 2*MaxPDF)
	}
	return body, nil
}

// token signs claims (with jti, iat and exp added) as an ES256 JWT with the
// relying party's key.
func (c *Client) token(claims map[string]any, now time.Time) (string, error) {
	claims["jti"] = uuid4()
	claims["iat"] = now.Unix()
	claims["exp"] = now.Add(tokenLifetime).Unix()
	t, err := jose.SignES256JSON(claims, c.cfg.Key.Private, jose.Header{Typ: "JWT", Kid: c.cfg.Key.Kid})
	return string(t), err
}

// call makes one API call with the JWT in Authorization (bare, as Sign's
// examples send it) and returns a 2xx answer's body.
func (c *Client) call(ctx context.Context, api, method, u, tok, ctype string, body []byte) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", tok)
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("Accept", "application/json")
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, unreachable(api, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, maxJSON))
	if err != nil {
		return nil, unreachable(api, err)
	}
	if resp.StatusCode/100 != 2 {
		return nil, apiError(api, resp.StatusCode, out)
	}
	return out, nil
}

// uuid4 is a random (version 4) UUID, as Sign wants for jti.
func uuid4() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// UUID reports whether s is a UUID in its canonical text form.
func UUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, r := range s {
		switch i {
		case 8, 13, 18, 23:
			if r != '-' {
				return false
			}
		default:
			if !strings.ContainsRune("0123456789abcdefABCDEF", r) {
				return false
			}
		}
	}
	return true
}

func unreachable(api string, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return ndi.Unreachable(Service, api, err)
}
