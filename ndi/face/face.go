// Package face is a client for the SingPass Face Verification Service: OAuth2
// client credentials, the eligibility ("user") check, session tokens, the
// one-shot validate call and compare. Every answer is a JWS whose `payload`
// claim is a JSON string; it is verified with the service's certificate
// before it is read (protocol notes §6).
package face

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"ndikiosk/ndi"
	"ndikiosk/ndi/jose"
)

// StagingBaseURL is the staging service; production is ProductionBaseURL
// (by analogy: not published).
const (
	StagingBaseURL    = "https://stg-bio-api.singpass.gov.sg/api/v2/face"
	ProductionBaseURL = "https://bio-api.singpass.gov.sg/api/v2/face"
)

// MaxImageBytes is the largest image compare accepts (the service answers
// 413 above it; the official limit is not published, the samples use 2 MB).
const MaxImageBytes = 2_000_000

// Paths under the base URL. The user (eligibility) path is not in any
// readable public document, so it is configurable.
type Paths struct {
	Token, User, Session, Validate, Compare string
}

// DefaultPaths are the paths the official sample backend uses.
var DefaultPaths = Paths{Token: "/oauth/token/", User: "/user", Session: "/verify/token", Validate: "/verify/validate", Compare: "/compare/"}

// Config is what the client needs.
type Config struct {
	BaseURL         string
	Paths           Paths
	ClientID        string
	ClientSecret    string
	ServiceID       string
	TransactionType string         // optional, sent with user, session and compare calls
	ServiceKey      *rsa.PublicKey // verifies the service's JWS answers
	HTTPClient      *http.Client
	Now             func() time.Time
}

// Typed failures, for errors.Is.
var (
	ErrUnauthorised  = errors.New("face service refused the client credentials or token")
	ErrTokenUsed     = errors.New("face session token already validated or invalid")
	ErrImageTooLarge = errors.New("image too large for the face service")
	ErrNotRegistered = errors.New("person is not registered for SingPass Face")
	ErrUnavailable   = errors.New("face service unavailable")
	ErrBadResponse   = errors.New("face service answer rejected")
	ErrRequest       = errors.New("face service rejected the request")
)

// Client talks to the Face service. It caches its OAuth token and is safe
// for concurrent use.
type Client struct {
	cfg Config

	mu     sync.Mutex
	token  string
	expiry time.Time
}

// New checks cfg and returns a client.
func New(cfg Config) (*Client, error) {
	if cfg.BaseURL == "" || cfg.ClientID == "" || cfg.ClientSecret == "" || cfg.ServiceID == "" || cfg.ServiceKey == nil {
		return nil, errors.New("face client: base_url, client_id, client_secret, service_id and the service certificate are needed")
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	if cfg.Paths == (Paths{}) {
		cfg.Paths = DefaultPaths
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 20 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Client{cfg: cfg}, nil
}

// accessToken returns the cached OAuth token, fetching a new one a minute
// before the old one expires.
func (c *Client) accessToken(ctx context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token != "" && c.cfg.Now().Before(c.expiry.Add(-time.Minute)) {
		return c.token, nil
	}
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {c.cfg.ClientID}, "client_secret": {c.cfg.ClientSecret}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.BaseURL+c.cfg.Paths.Token, strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.SetBasicAuth(c.cfg.ClientID, c.cfg.ClientSecret)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return "", transportError("oauth", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var t struct {
		AccessToken      string  `json:"access_token"`
		ExpiresIn        float64 `json:"expires_in"`
		ErrorDescription string  `json:"error_description"`
	}
	json.Unmarshal(body, &t)
	if resp.StatusCode != http.StatusOK {
		return "", apiError("oauth", resp.StatusCode, ndi.Redact(t.ErrorDescription, 160), kindFor(resp.StatusCode))
	}
	if t.AccessToken == "" {
		return "", fmt.Errorf("%w: oauth answer has no access_token", ErrBadResponse)
	}
	if t.ExpiresIn <= 0 {
		t.ExpiresIn = 1800
	}
	c.token, c.expiry = t.AccessToken, c.cfg.Now().Add(time.Duration(t.ExpiresIn)*time.Second)
	return c.token, nil
}

// apiError is a non-200 answer of one of the service's calls.
func apiError(call string, status int, detail string, kind error) *ndi.APIError {
	return &ndi.APIError{Service: ndi.ServiceFace, Short: "face", API: call, Status: status, Detail: detail, Kind: kind}
}

func kindFor(status int) error {
	switch {
	case status == 401 || status == 403:
		return ErrUnauthorised
	case status == 413:
		return ErrImageTooLarge
	case status >= 500:
		return ErrUnavailable
	}
	return ErrRequest
}

func transportError(call string, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if errors.Is(err, context.DeadlineExceeded) {
		err = errors.New("no answer before the deadline")
	}
	return fmt.Errorf("%w: %s: %v", ErrUnavailable, call, err)
}

// call posts a JSON body with the bearer token and returns the verified
// payload of the JWS answer.
func (c *Client) call(ctx context.Context, name, path string, body any, out any) error {
	tok, err := c.accessToken(ctx)
	if err != nil {
		return err
	}
	b, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.BaseURL+path, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return transportError(name, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return transportError(name, err)
	}
	if resp.StatusCode == http.StatusUnauthorized {
		c.mu.Lock()
		c.token = "" // fetch a fresh one next time
		c.mu.Unlock()
	}
	payload, perr := c.open(raw)
	if resp.StatusCode != http.StatusOK {
		kind := kindFor(resp.StatusCode)
		if name == "validate" && resp.StatusCode == http.StatusBadRequest {
			kind = ErrTokenUsed
		}
		detail := ""
		if perr == nil {
			detail = errorDetail(payload)
		}
		return apiError(name, resp.StatusCode, detail, kind)
	}
	if perr != nil {
		return perr
	}
	if err := json.Unmarshal(payload, out); err != nil {
		return fmt.Errorf("%w: %s payload is not the expected JSON", ErrBadResponse, name)
	}
	return nil
}

// open verifies a JWS answer and returns the JSON inside its payload claim.
func (c *Client) open(raw []byte) ([]byte, error) {
	claimsJSON, err := jose.VerifyRS256(bytes.TrimSpace(raw), c.cfg.ServiceKey)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadResponse, err)
	}
	var claims struct {
		Payload string   `json:"payload"`
		Exp     *float64 `json:"exp"`
	}
	if err := json.Unmarshal(claimsJSON, &claims); err != nil {
		return nil, fmt.Errorf("%w: claims are not JSON", ErrBadResponse)
	}
	if claims.Exp != nil && c.cfg.Now().After(time.Unix(int64(*claims.Exp), 0).Add(time.Minute)) {
		return nil, fmt.Errorf("%w: the answer has expired", ErrBadResponse)
	}
	return []byte(claims.Payload), nil
}

// errorDetail reads the service's message: detail[0].msg, detail as text,
// or error_description.
func errorDetail(payload []byte) string {
	var e struct {
		Detail           json.RawMessage `json:"detail"`
		ErrorDescription string          `json:"error_description"`
	}
	if json.Unmarshal(payload, &e) != nil {
		return ""
	}
	var list []struct {
		Msg string `json:"msg"`
	}
	var text string
	switch {
	case json.Unmarshal(e.Detail, &list) == nil && len(list) > 0:
		text = list[0].Msg
	case json.Unmarshal(e.Detail, &text) == nil:
	default:
		text = e.ErrorDescription
	}
	return ndi.Redact(text, 160)
}

func (c *Client) request(userID string) map[string]any {
	m := map[string]any{"service_id": c.cfg.ServiceID, "user_id": userID}
	if c.cfg.TransactionType != "" {
		m["transaction_type"] = c.cfg.TransactionType
	}
	return m
}

// Registered asks whether the person can use SingPass Face.
func (c *Client) Registered(ctx context.Context, userID string) (bool, error) {
	var out struct {
		Registered bool `json:"registered"`
	}
	err := c.call(ctx, "user", c.cfg.Paths.User, c.request(userID), &out)
	return out.Registered, err
}

// SessionToken starts a liveness session for the web SDK.
func (c *Client) SessionToken(ctx context.Context, userID string) (string, error) {
	var out struct {
		Token string `json:"token"`
	}
	if err := c.call(ctx, "token", c.cfg.Paths.Session, c.request(userID), &out); err != nil {
		return "", err
	}
	if out.Token == "" {
		return "", fmt.Errorf("%w: no session token", ErrBadResponse)
	}
	return out.Token, nil
}

// Result is a face check's outcome.
type Result struct {
	Passed bool
	Reason string
	Score  float64
}

// Validate reads the result of a liveness session. The service answers it
// once per session token; a second call is ErrTokenUsed.
func (c *Client) Validate(ctx context.Context, userID, sessionToken, ip, userAgent string) (Result, error) {
	var out struct {
		Passed    bool   `json:"passed"`
		Reason    string `json:"reason"`
		ExtraData struct {
			FaceMatcher struct {
				Score float64 `json:"score"`
			} `json:"face_matcher"`
		} `json:"extra_data"`
	}
	body := map[string]any{"service_id": c.cfg.ServiceID, "user_id": userID, "token": sessionToken, "ip": ip, "client": userAgent}
	err := c.call(ctx, "validate", c.cfg.Paths.Validate, body, &out)
	return Result{Passed: out.Passed, Reason: out.Reason, Score: out.ExtraData.FaceMatcher.Score}, err
}

// Compare matches a still photo (JPEG or PNG) with the person's record and
// returns the score, 0 to 1.
func (c *Client) Compare(ctx context.Context, userID string, image []byte) (float64, error) {
	if len(image) > MaxImageBytes {
		return 0, fmt.Errorf("%w: %d bytes, the limit is %d", ErrImageTooLarge, len(image), MaxImageBytes)
	}
	body := c.request(userID)
	body["image"] = base64.StdEncoding.EncodeToString(image)
	var out struct {
		Score *float64 `json:"score"`
	}
	if err := c.call(ctx, "compare", c.cfg.Paths.Compare, body, &out); err != nil {
		return 0, err
	}
	if out.Score == nil || *out.Score < 0 || *out.Score > 1 {
		return 0, fmt.Errorf("%w: compare gave no score between 0 and 1", ErrBadResponse)
	}
	return *out.Score, nil
}
