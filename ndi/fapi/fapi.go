// Package fapi is a Singpass Myinfo client for the FAPI 2.0 profile:
// discovery, pushed authorisation requests with PKCE, private_key_jwt client
// assertions, DPoP-bound tokens, encrypted and signed ID tokens and
// userinfo, and the mapping of Myinfo's person_info into ndi.Person, so
// that the kiosk treats both Singpass products alike.
package fapi

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"ndikiosk/ndi"
	"ndikiosk/ndi/jose"
)

// Singpass's FAPI issuers.
const (
	StagingIssuer    = "https://stg-id.singpass.gov.sg/fapi"
	ProductionIssuer = "https://id.singpass.gov.sg/fapi"
)

// Config describes one Myinfo client, as onboarded on the Singpass
// Developer Portal.
type Config struct {
	Issuer      string
	ClientID    string
	RedirectURI string
	Scopes      []string // Myinfo data items; "openid" is added
	Keys        Keys
	ACR         string // acr_values; empty unless the client is whitelisted for it
	HTTPClient  *http.Client
	Now         func() time.Time
	// ClockSkew tolerated on tokens' iat and exp; 60 s.
	ClockSkew time.Duration
	// MaxSessions bounds the authorisations waiting for a redirect; 16.
	MaxSessions int
}

// Metadata is the part of the issuer's openid-configuration the kiosk uses.
type Metadata struct {
	Issuer                string   `json:"issuer"`
	PAREndpoint           string   `json:"pushed_authorization_request_endpoint"`
	AuthorizationEndpoint string   `json:"authorization_endpoint"`
	TokenEndpoint         string   `json:"token_endpoint"`
	UserinfoEndpoint      string   `json:"userinfo_endpoint"`
	JWKSURI               string   `json:"jwks_uri"`
	DPoPAlgs              []string `json:"dpop_signing_alg_values_supported"`
}

// Client runs Myinfo authorisations. It is safe for concurrent use.
type Client struct {
	cfg       Config
	loginOnly bool // Singpass Login without Myinfo: the person comes from the ID token's sub_attributes

	mu        sync.Mutex
	meta      *Metadata
	metaAt    time.Time
	issuerKey map[string]*ecdsa.PublicKey // issuer JWKS signing keys by kid
	jwksAt    time.Time
	asNonce   string // the authorisation server's latest DPoP-Nonce
	sessions  map[string]*session
}

// session is what one authorisation needs until its redirect comes back:
// in memory only, used once.
type session struct {
	verifier string
	nonce    string
	dpop     *ecdsa.PrivateKey
	expires  time.Time
}

// How long a redirect may come back after the PAR: the request_uri lives
// about 60 s, the person may then take a while in the Singpass app.
const sessionLifetime = 10 * time.Minute

// New checks the configuration and returns a client. Nothing is fetched
// until the first authorisation.
func New(cfg Config) (*Client, error) {
	switch {
	case cfg.Issuer == "":
		return nil, errors.New("fapi: the issuer is required")
	case cfg.ClientID == "":
		return nil, errors.New("fapi: the client id is required")
	case cfg.RedirectURI == "":
		return nil, errors.New("fapi: the redirect URI is required")
	case cfg.Keys.Signing.Private == nil || cfg.Keys.Encryption.Private == nil:
		return nil, errors.New("fapi: a signing key and an encryption key are required")
	}
	if u, err := url.Parse(cfg.RedirectURI); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("fapi: redirect URI %q is not an absolute http(s) URL", cfg.RedirectURI)
	}
	if err := CheckScopes(cfg.Scopes); err != nil {
		return nil, fmt.Errorf("fapi: %w", err)
	}
	cfg.Issuer = strings.TrimRight(cfg.Issuer, "/")
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 15 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.ClockSkew == 0 {
		cfg.ClockSkew = time.Minute
	}
	if cfg.MaxSessions == 0 {
		cfg.MaxSessions = 16
	}
	return &Client{cfg: cfg, loginOnly: LoginOnly(cfg.Scopes), sessions: map[string]*session{}}, nil
}

// ValidScope reports whether s is a Myinfo data item the kiosk can map
// into a Person, or Singpass Login's user.identity. Verify's partialuinfin
// has no Myinfo equivalent: ask for uinfin, which the kiosk masks on
// arrival.
func ValidScope(s string) bool {
	return s == LoginIdentity || s != "partialuinfin" && s != "openid" && ndi.KnownAttribute(s)
}

// LoginIdentity is Singpass Login's scope for the person's identity
// number and its country of issue, released in the ID token.
const LoginIdentity = "user.identity"

// loginScopes are what a Singpass Login app without Myinfo may ask for:
// each comes back in the ID token's sub_attributes.
var loginScopes = []string{LoginIdentity, "name", "email", "mobileno"}

// LoginOnly reports whether scopes ask Singpass Login alone, without
// Myinfo: they include user.identity. The person is then read from the ID
// token and no userinfo call is made.
func LoginOnly(scopes []string) bool { return slices.Contains(scopes, LoginIdentity) }

// CheckScopes refuses a scope the kiosk cannot read and a mix of Login's
// user.identity with Myinfo data items: an app is one or the other.
func CheckScopes(scopes []string) error {
	for _, s := range scopes {
		if !ValidScope(s) {
			return fmt.Errorf("scope %q is not a Myinfo data item or Singpass Login scope this kiosk can read", s)
		}
		if LoginOnly(scopes) && !slices.Contains(loginScopes, s) {
			return fmt.Errorf("scope %q is a Myinfo data item: with Singpass Login's user.identity only name, email and mobileno "+
				"can be asked (ask Myinfo for uinfin instead of user.identity to read %s)", s, s)
		}
	}
	return nil
}

// Config returns the configuration in use.
func (c *Client) Config() Config { return c.cfg }

// Scope is the scope string sent at PAR.
func (c *Client) Scope() string {
	return strings.Join(append([]string{"openid"}, c.cfg.Scopes...), " ")
}

// Authorization is one pushed authorisation request: the URL the visitor's
// phone opens, valid until Expiry.
type Authorization struct {
	URL    string
	Start  time.Time
	Expiry time.Time
}

// stateAlphabet is Singpass's rule for state and nonce: 30-255 characters.
var stateAlphabet = regexp.MustCompile(`^[A-Za-z0-9/+_\-=.]{30,255}$`)

// ValidState reports whether s may be sent as a state or nonce.
func ValidState(s string) bool { return stateAlphabet.MatchString(s) }

// Authorize pushes an authorisation request for state and returns the
// authorisation URL with its request_uri.
func (c *Client) Authorize(ctx context.Context, state string) (Authorization, error) {
	if !ValidState(state) {
		return Authorization{}, errors.New("fapi: state must be 30-255 characters of A-Z a-z 0-9 and / + _ - = or a dot")
	}
	meta, err := c.metadata(ctx)
	if err != nil {
		return Authorization{}, err
	}
	dpopKey, err := NewKey()
	if err != nil {
		return Authorization{}, err
	}
	s := &session{verifier: random(48), nonce: random(32), dpop: dpopKey.Private}
	challenge := sha256.Sum256([]byte(s.verifier))
	form := url.Values{
		"response_type":         {"code"},
		"client_id":             {c.cfg.ClientID},
		"redirect_uri":          {c.cfg.RedirectURI},
		"scope":                 {c.Scope()},
		"state":                 {state},
		"nonce":                 {s.nonce},
		"code_challenge":        {base64.RawURLEncoding.EncodeToString(challenge[:])},
		"code_challenge_method": {"S256"},
	}
	if c.cfg.ACR != "" {
		form.Set("acr_values", c.cfg.ACR)
	}
	start := c.cfg.Now()
	var par struct {
		RequestURI string `json:"request_uri"`
		ExpiresIn  int    `json:"expires_in"`
	}
	if err := c.postAS(ctx, "par", meta.PAREndpoint, form, s.dpop, &par); err != nil {
		return Authorization{}, err
	}
	if !strings.HasPrefix(par.RequestURI, "urn:ietf:params:oauth:request_uri:") || par.ExpiresIn <= 0 {
		return Authorization{}, fmt.Errorf("%w: the PAR answer has no usable request_uri", ndi.ErrServer)
	}
	expiry := start.Add(time.Duration(par.ExpiresIn) * time.Second)
	s.expires = expiry.Add(sessionLifetime)
	c.mu.Lock()
	c.pruneSessions(start)
	c.sessions[state] = s
	c.mu.Unlock()
	q := url.Values{"client_id": {c.cfg.ClientID}, "request_uri": {par.RequestURI}}
	sep := "?"
	if strings.Contains(meta.AuthorizationEndpoint, "?") {
		sep = "&"
	}
	return Authorization{URL: meta.AuthorizationEndpoint + sep + q.Encode(), Start: start, Expiry: expiry}, nil
}

// pruneSessions drops expired sessions and, past the bound, the oldest.
// c.mu is held.
func (c *Client) pruneSessions(now time.Time) {
	for k, s := range c.sessions {
		if now.After(s.expires) {
			delete(c.sessions, k)
		}
	}
	for len(c.sessions) >= c.cfg.MaxSessions {
		oldest := ""
		for k, s := range c.sessions {
			if oldest == "" || s.expires.Before(c.sessions[oldest].expires) {
				oldest = k
			}
		}
		delete(c.sessions, oldest)
	}
}

// Exchange swaps the redirect's code for the person: token (DPoP-bound,
// private_key_jwt), ID token checks, then userinfo. The state's session is
// used up whatever happens.
func (c *Client) Exchange(ctx context.Context, cb ndi.Callback) (*ndi.Person, error) {
	c.mu.Lock()
	s, ok := c.sessions[cb.State]
	delete(c.sessions, cb.State)
	c.mu.Unlock()
	if !ok || c.cfg.Now().After(s.expires) {
		return nil, fmt.Errorf("%w: no authorisation is waiting for this state (used, expired, or from before a restart)", ndi.ErrCodeRejected)
	}
	meta, err := c.metadata(ctx)
	if err != nil {
		return nil, err
	}
	form := url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {cb.Code},
		"redirect_uri":  {c.cfg.RedirectURI},
		"client_id":     {c.cfg.ClientID},
		"code_verifier": {s.verifier},
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		IDToken     string `json:"id_token"`
	}
	if err := c.postAS(ctx, "token", meta.TokenEndpoint, form, s.dpop, &tok); err != nil {
		return nil, err
	}
	if tok.AccessToken == "" || !strings.EqualFold(tok.TokenType, "DPoP") {
		return nil, fmt.Errorf("%w: the token answer is not a DPoP-bound access token", ndi.ErrBadToken)
	}
	idClaims, err := c.openJWT(ctx, []byte(tok.IDToken))
	if err != nil {
		return nil, fmt.Errorf("%w: ID token: %v", ndi.ErrBadToken, err)
	}
	if err := c.checkClaims(idClaims, s.nonce); err != nil {
		return nil, fmt.Errorf("%w: ID token: %v", ndi.ErrBadToken, err)
	}
	if c.loginOnly {
		return personFromIDToken(idClaims)
	}
	body, err := c.userinfo(ctx, meta.UserinfoEndpoint, tok.AccessToken, s.dpop)
	if err != nil {
		return nil, err
	}
	info, err := c.openJWT(ctx, body)
	if err != nil {
		return nil, fmt.Errorf("%w: userinfo: %v", ndi.ErrBadResponse, err)
	}
	if err := c.checkClaims(info, ""); err != nil {
		return nil, fmt.Errorf("%w: userinfo: %v", ndi.ErrBadResponse, err)
	}
	if info.Sub != idClaims.Sub {
		return nil, fmt.Errorf("%w: userinfo is about another subject than the ID token", ndi.ErrBadResponse)
	}
	if len(info.PersonInfo) == 0 {
		return nil, fmt.Errorf("%w: userinfo has no person_info", ndi.ErrBadResponse)
	}
	p, err := ndi.ParsePerson(info.PersonInfo)
	if err != nil {
		return nil, err
	}
	// The visit log's person key stands for the UIN/FIN when it was
	// released (so the deny list works across providers), else for
	// Singpass's subject identifier.
	if p.UINFIN.Present() {
		p.SetSubject(string(p.UINFIN.Value))
	} else {
		p.SetSubject(idClaims.Sub)
	}
	return p, nil
}

// claims are what the kiosk reads of an ID token or userinfo.
type claims struct {
	Iss        string          `json:"iss"`
	Sub        string          `json:"sub"`
	Aud        audience        `json:"aud"`
	Exp        *float64        `json:"exp"`
	Iat        *float64        `json:"iat"`
	Nonce      string          `json:"nonce"`
	PersonInfo json.RawMessage `json:"person_info"`
	// Singpass Login: what user.identity, name, email and mobileno release.
	SubAttributes *subAttributes `json:"sub_attributes"`
}

// subAttributes is the ID token's sub_attributes. Singpass documents the
// object and the scopes that fill it; the key names other than
// identity_number are as docs/fapi-protocol.md records them, and a few
// spellings are accepted.
type subAttributes struct {
	IdentityNumber string `json:"identity_number"`
	IdentityCOI    string `json:"identity_coi"`
	Name           string `json:"name"`
	Email          string `json:"email"`
	MobileNumber   string `json:"mobile_number"`
	MobileNo       string `json:"mobileno"`
}

// personFromIDToken is the person of a Singpass Login app without Myinfo:
// the ID token's sub_attributes, shaped as Myinfo items so that the kiosk
// masks and keys them the same way. The identity number is required: it is
// what the visit log's person key stands for.
func personFromIDToken(cl *claims) (*ndi.Person, error) {
	a := cl.SubAttributes
	if a == nil || a.IdentityNumber == "" {
		return nil, fmt.Errorf("%w: the ID token has no sub_attributes.identity_number (is user.identity approved for this app?)", ndi.ErrBadResponse)
	}
	if len(a.IdentityNumber) > 20 || len(a.Name) > 300 || len(a.Email) > 320 || len(a.MobileNumber)+len(a.MobileNo) > 40 {
		return nil, fmt.Errorf("%w: an ID token attribute is too long", ndi.ErrBadResponse)
	}
	p := &ndi.Person{}
	p.UINFIN.Value = ndi.Text(strings.ToUpper(a.IdentityNumber))
	p.Name.Value = ndi.Text(a.Name)
	p.Email.Value = ndi.Text(a.Email)
	mobile := a.MobileNumber
	if mobile == "" {
		mobile = a.MobileNo
	}
	if rest, ok := strings.CutPrefix(strings.ReplaceAll(mobile, " ", ""), "+65"); ok && len(rest) == 8 {
		// A Singapore number as Myinfo gives it: +, 65, the eight digits.
		p.MobileNo.Prefix.Value, p.MobileNo.AreaCode.Value, mobile = "+", "65", rest
	}
	p.MobileNo.Number.Value = ndi.Text(mobile)
	p.SetSubject(string(p.UINFIN.Value))
	return p, nil
}

type audience []string

func (a *audience) UnmarshalJSON(b []byte) error {
	var one string
	if json.Unmarshal(b, &one) == nil {
		*a = audience{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return errors.New("aud is neither a string nor a list")
	}
	*a = many
	return nil
}

// checkClaims applies OIDC's rules: our issuer, our client as audience,
// not expired, not issued in the future, a subject, and the nonce when one
// is expected (ID tokens).
func (c *Client) checkClaims(cl *claims, nonce string) error {
	now := c.cfg.Now()
	skew := c.cfg.ClockSkew
	switch {
	case cl.Iss != c.cfg.Issuer:
		return fmt.Errorf("issuer is %q, not %q", ndi.Redact(cl.Iss, 80), c.cfg.Issuer)
	case !slices.Contains(cl.Aud, c.cfg.ClientID):
		return errors.New("it was issued for another client (aud)")
	case cl.Sub == "":
		return errors.New("no subject")
	case cl.Iat != nil && time.Unix(int64(*cl.Iat), 0).After(now.Add(skew)):
		return errors.New("issued in the future; check the kiosk clock")
	}
	if nonce != "" {
		if cl.Exp == nil {
			return errors.New("no expiry")
		}
		if cl.Nonce != nonce {
			return errors.New("nonce does not match the authorisation")
		}
	}
	if cl.Exp != nil && !now.Add(-skew).Before(time.Unix(int64(*cl.Exp), 0)) {
		return errors.New("expired")
	}
	return nil
}

// openJWT decrypts a JWE addressed to our encryption keys and verifies the
// issuer's ES256 signature inside it.
func (c *Client) openJWT(ctx context.Context, compact []byte) (*claims, error) {
	if strings.Count(string(compact), ".") != 4 {
		return nil, errors.New("not encrypted (a JWE was expected)")
	}
	inner, err := jose.DecryptECDH(compact, c.cfg.Keys.decryption())
	if err != nil {
		return nil, err
	}
	if q := strings.TrimSpace(string(inner)); strings.HasPrefix(q, `"`) {
		var s string
		if json.Unmarshal([]byte(q), &s) == nil {
			inner = []byte(s)
		}
	}
	h, err := jose.ParseHeader(inner)
	if err != nil {
		return nil, err
	}
	if h.Alg != jose.ES256 {
		return nil, fmt.Errorf("signed with %q, not ES256", h.Alg)
	}
	key, err := c.issuerSigningKey(ctx, h.Kid)
	if err != nil {
		return nil, err
	}
	payload, err := jose.VerifyES256(inner, key)
	if err != nil {
		return nil, err
	}
	var cl claims
	if err := json.Unmarshal(payload, &cl); err != nil {
		return nil, fmt.Errorf("claims: %v", ndi.Redact(err.Error(), 80))
	}
	return &cl, nil
}

// random is n bytes of crypto randomness, base64url: PKCE verifiers (43-128
// characters) and nonces fit Singpass's alphabets.
func random(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// readBody reads at most 256 KiB of a response.
func readBody(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, 256<<10+1))
	if err == nil && len(b) > 256<<10 {
		err = errors.New("response larger than 256 KiB")
	}
	return b, err
}

func isJSON(h http.Header) bool {
	mt, _, _ := mime.ParseMediaType(h.Get("Content-Type"))
	return mt == "application/json"
}
