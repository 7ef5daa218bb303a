package verify

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"ndikiosk/ndi"
	"ndikiosk/ndi/jose"
)

// Endpoint presets (protocol notes §3.1).
const (
	TestTokenURL  = "https://test.api.myinfo.gov.sg/sgverify/v2/token"
	TestPersonURL = "https://test.api.myinfo.gov.sg/sgverify/v2/person"
	ProdTokenURL  = "https://api.myinfo.gov.sg/sgverify/v2/token"
	ProdPersonURL = "https://api.myinfo.gov.sg/sgverify/v2/person"
)

const (
	maxBody      = 1 << 20 // person JWEs are a few kB
	maxErrorBody = 4 << 10
)

// Config is what a relying party needs to talk to Verify.
type Config struct {
	ClientID     string
	ClientSecret string
	CallbackURL  string   // the registered callback; also the token call's redirect_uri
	TokenURL     string   // TestTokenURL, ProdTokenURL, or any Myinfo v3 compatible token endpoint
	PersonURL    string   // the person endpoint without the trailing /{sub}
	QRBaseURL    string   // QRBaseURL unless a sandbox stands in
	Attributes   []string // what the person call asks for; must match the registration
	Key          *rsa.PrivateKey
	NDIKey       *rsa.PublicKey
	HTTPClient   *http.Client     // default: a client with a 30 s timeout
	Now          func() time.Time // default time.Now
	ClockSkew    time.Duration    // leeway on token times; default 60 s
}

// Client calls Verify's token and person APIs. It is safe for concurrent use.
type Client struct {
	cfg Config
}

// New checks cfg and returns a client.
func New(cfg Config) (*Client, error) {
	var missing []string
	for name, v := range map[string]string{"client_id": cfg.ClientID, "client_secret": cfg.ClientSecret,
		"callback_url": cfg.CallbackURL, "token_url": cfg.TokenURL, "person_url": cfg.PersonURL} {
		if v == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return nil, fmt.Errorf("verify client: missing %s", strings.Join(missing, ", "))
	}
	if cfg.Key == nil || cfg.NDIKey == nil {
		return nil, errors.New("verify client: both the private key and the NDI public key are needed")
	}
	if len(cfg.Attributes) == 0 {
		return nil, errors.New("verify client: no attributes to request")
	}
	for _, a := range cfg.Attributes {
		if !ndi.KnownAttribute(a) {
			return nil, fmt.Errorf("verify client: %q is not a Verify attribute", a)
		}
	}
	for name, u := range map[string]string{"token_url": cfg.TokenURL, "person_url": cfg.PersonURL, "callback_url": cfg.CallbackURL} {
		p, err := url.Parse(u)
		if err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" || p.RawQuery != "" {
			return nil, fmt.Errorf("verify client: %s %q is not an absolute http(s) URL without a query", name, u)
		}
	}
	cfg.PersonURL = strings.TrimRight(cfg.PersonURL, "/")
	if cfg.QRBaseURL == "" {
		cfg.QRBaseURL = QRBaseURL
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.ClockSkew == 0 {
		cfg.ClockSkew = time.Minute
	}
	return &Client{cfg: cfg}, nil
}

// Config returns the client's configuration.
func (c *Client) Config() Config { return c.cfg }

// NewQR signs a dynamic QR for state, valid from now for lifetime.
func (c *Client) NewQR(state string, lifetime time.Duration) (string, QR, error) {
	now := c.cfg.Now()
	q := QR{
		BaseURL:  c.cfg.QRBaseURL,
		Callback: c.cfg.CallbackURL,
		ClientID: c.cfg.ClientID,
		Nonce:    ndi.NewNonce(),
		Type:     Dynamic,
		State:    state,
		Start:    now,
		Expiry:   now.Add(lifetime),
	}
	u, err := SignQR(q, c.cfg.Key)
	return u, q, err
}

// Token is a verified access token. It never prints its contents.
type Token struct {
	access  string
	subject string
	Scope   []string
	Expiry  time.Time
}

// Subject is the person's UIN/FIN (or uuid): personal data, keep it in memory only.
func (t *Token) Subject() string { return t.subject }

func (t *Token) String() string             { return "verify.Token(redacted)" }
func (t *Token) GoString() string           { return t.String() }
func (t *Token) LogValue() slog.Value       { return slog.StringValue(t.String()) }
func (t *Token) Format(f fmt.State, _ rune) { io.WriteString(f, t.String()) }

// Token swaps an authorisation code for an access token. It is never retried:
// codes are single-use.
func (c *Client) Token(ctx context.Context, code, state string) (*Token, error) {
	form := map[string]string{
		"grant_type":    "authorization_code",
		"code":          code,
		"redirect_uri":  c.cfg.CallbackURL,
		"client_id":     c.cfg.ClientID,
		"client_secret": c.cfg.ClientSecret,
	}
	if state != "" {
		form["state"] = state
	}
	auth, err := SignPKI(c.cfg.Key, c.cfg.ClientID, http.MethodPost, c.cfg.TokenURL, form, c.cfg.Now())
	if err != nil {
		return nil, fmt.Errorf("sign token request: %w", err)
	}
	body := url.Values{}
	for k, v := range form {
		body.Set(k, v)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.TokenURL, strings.NewReader(body.Encode()))
	if err != nil {
		return nil, fmt.Errorf("token request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Cache-Control", "no-cache")
	req.Header.Set("Authorization", auth)
	raw, err := c.do(req, "token")
	if err != nil {
		return nil, err
	}
	var resp struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
	}
	if err := json.Unmarshal(raw, &resp); err != nil || resp.AccessToken == "" {
		return nil, fmt.Errorf("%w: token response has no access_token", ndi.ErrBadToken)
	}
	if resp.TokenType != "" && !strings.EqualFold(resp.TokenType, "Bearer") {
		return nil, fmt.Errorf("%w: token_type %q, want Bearer", ndi.ErrBadToken, ndi.Redact(resp.TokenType, 20))
	}
	return c.verifyToken(resp.AccessToken)
}

func (c *Client) verifyToken(access string) (*Token, error) {
	payload, err := jose.VerifyRS256([]byte(access), c.cfg.NDIKey)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ndi.ErrBadToken, err)
	}
	var claims struct {
		Sub   string          `json:"sub"`
		Exp   *float64        `json:"exp"`
		Nbf   *float64        `json:"nbf"`
		Scope json.RawMessage `json:"scope"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		return nil, fmt.Errorf("%w: claims are not JSON", ndi.ErrBadToken)
	}
	now := c.cfg.Now()
	if claims.Exp == nil {
		return nil, fmt.Errorf("%w: no exp claim", ndi.ErrBadToken)
	}
	exp := time.Unix(int64(*claims.Exp), 0)
	if now.After(exp.Add(c.cfg.ClockSkew)) {
		return nil, fmt.Errorf("%w: expired at %s", ndi.ErrBadToken, exp.UTC().Format(time.RFC3339))
	}
	if claims.Nbf != nil && now.Add(c.cfg.ClockSkew).Before(time.Unix(int64(*claims.Nbf), 0)) {
		return nil, fmt.Errorf("%w: not valid yet; check the kiosk clock", ndi.ErrBadToken)
	}
	if claims.Sub == "" || strings.ContainsAny(claims.Sub, "/?#%\\ ") || len(claims.Sub) > 128 {
		return nil, fmt.Errorf("%w: missing or malformed sub", ndi.ErrBadToken)
	}
	t := &Token{access: access, subject: claims.Sub, Expiry: exp}
	// Myinfo v3 sends scope as an array; OAuth servers as a space-separated string.
	if err := json.Unmarshal(claims.Scope, &t.Scope); err != nil {
		var s string
		if json.Unmarshal(claims.Scope, &s) == nil {
			t.Scope = strings.Fields(s)
		}
	}
	return t, nil
}

// Person fetches, decrypts and verifies the person data the token allows.
// txnNo is an optional transaction reference echoed in Singpass's logs.
func (c *Client) Person(ctx context.Context, tok *Token, txnNo string) (*ndi.Person, error) {
	endpoint := c.cfg.PersonURL + "/" + url.PathEscape(tok.subject)
	params := map[string]string{
		"client_id":  c.cfg.ClientID,
		"attributes": strings.Join(c.cfg.Attributes, ","),
	}
	if txnNo != "" {
		params["txnNo"] = txnNo
	}
	auth, err := SignPKI(c.cfg.Key, c.cfg.ClientID, http.MethodGet, endpoint, params, c.cfg.Now())
	if err != nil {
		return nil, fmt.Errorf("sign person request: %w", err)
	}
	query := "client_id=" + url.QueryEscape(c.cfg.ClientID) + "&attributes=" + params["attributes"]
	if txnNo != "" {
		query += "&txnNo=" + url.QueryEscape(txnNo)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint+"?"+query, nil)
	if err != nil {
		return nil, fmt.Errorf("person request: could not build the URL")
	}
	req.Header.Set("Cache-Control", "no-cache")
	req.Header.Set("Authorization", auth+",Bearer "+tok.access)
	raw, err := c.do(req, "person")
	if err != nil {
		return nil, err
	}
	p, err := c.openPerson(raw)
	if err != nil {
		return nil, err
	}
	if p.UINFIN.Value != "" && string(p.UINFIN.Value) != tok.subject {
		return nil, fmt.Errorf("%w: person data is for someone other than the token's subject", ndi.ErrBadResponse)
	}
	p.SetSubject(tok.subject)
	return p, nil
}

// openPerson decrypts the JWE, accepts the inner JWS raw or as a JSON
// string, verifies it with the NDI key and decodes the person JSON.
func (c *Client) openPerson(body []byte) (*ndi.Person, error) {
	body = bytes.TrimSpace(body)
	if bytes.Count(body, []byte(".")) != 4 {
		return nil, fmt.Errorf("%w: not an encrypted (JWE) response", ndi.ErrBadResponse)
	}
	plain, err := jose.Decrypt(body, c.cfg.Key)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ndi.ErrBadResponse, err)
	}
	plain = bytes.TrimSpace(plain)
	if len(plain) > 0 && plain[0] == '"' {
		var s string
		if err := json.Unmarshal(plain, &s); err != nil {
			return nil, fmt.Errorf("%w: quoted JWS is not a JSON string", ndi.ErrBadResponse)
		}
		plain = []byte(s)
	}
	payload, err := jose.VerifyRS256(plain, c.cfg.NDIKey)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ndi.ErrBadResponse, err)
	}
	return ndi.ParsePerson(payload)
}

// Exchange runs token then person for a callback.
func (c *Client) Exchange(ctx context.Context, cb ndi.Callback) (*ndi.Person, error) {
	tok, err := c.Token(ctx, cb.Code, cb.State)
	if err != nil {
		return nil, err
	}
	return c.Person(ctx, tok, ndi.RandomHex(10))
}

// do sends req and returns a 200 body, or a typed error. Transport errors
// are reworded so that no URL (the person URL holds the UIN/FIN) reaches
// the error text.
func (c *Client) do(req *http.Request, api string) ([]byte, error) {
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		var cause error = err
		var ue *url.Error
		if errors.As(err, &ue) {
			cause = ue.Err
		}
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			cause = errors.New("no answer before the deadline")
		}
		return nil, ndi.Unreachable(ndi.ServiceVerify, api, cause)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		return nil, &ndi.APIError{Service: ndi.ServiceVerify, Short: "verify", API: api, Status: resp.StatusCode, Detail: errorMessage(b), Kind: statusKind(api, resp.StatusCode)}
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, ndi.Unreachable(ndi.ServiceVerify, api, fmt.Errorf("reading the answer: %w", err))
	}
	if len(b) > maxBody {
		return nil, fmt.Errorf("%w: %s answer larger than %d bytes", ndi.ErrBadResponse, api, maxBody)
	}
	return b, nil
}

// errorMessage pulls the message out of the JSON error bodies Myinfo-style
// servers send ({"code","message"} or {"error","error_description"}).
func errorMessage(b []byte) string {
	var e struct {
		Message          string `json:"message"`
		Error            string `json:"error"`
		ErrorDescription string `json:"error_description"`
	}
	if json.Unmarshal(b, &e) != nil {
		return ""
	}
	msg := e.Message
	if msg == "" {
		msg = strings.TrimSpace(e.Error + " " + e.ErrorDescription)
	}
	return ndi.Redact(msg, 160)
}

// statusKind maps a status of the Verify error table to a kind of failure.
func statusKind(api string, status int) error {
	switch {
	case status == 400 && api == "token":
		return ndi.ErrCodeRejected
	case status == 401:
		return ndi.ErrUnauthorised
	case status == 403:
		return ndi.ErrForbidden
	case status == 404 && api == "person":
		return ndi.ErrNoProfile
	case status == 502 || status == 503 || status == 504:
		return ndi.ErrUnavailable
	default:
		return ndi.ErrServer
	}
}
