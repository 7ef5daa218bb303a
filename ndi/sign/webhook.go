package sign

import (
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"ndikiosk/ndi/jose"
)

// jwksLifetime is how long Sign's JWKS is cached; an unknown kid refetches
// it (at most once a minute).
const (
	jwksLifetime = time.Hour
	jwksRetry    = time.Minute
)

// Notification is a verified success-signing webhook.
type Notification struct {
	RequestID    string
	SignedDocURL string // valid for two minutes: download at once, never log it
	Expires      time.Time
}

// Webhook verifies the body of Sign's webhook POST ({"token": JWT}): an
// ES256 JWT by a key in Sign's JWKS (fetched and cached), within its
// iat/exp, request_type "signed_doc_url", and delivered once (a replayed
// token is refused with ErrWebhookReplayed; answer it 2xx anyway, since
// Sign retries).
func (c *Client) Webhook(ctx context.Context, body []byte) (Notification, error) {
	var b struct {
		Token string `json:"token"`
	}
	if len(body) > maxJSON || json.Unmarshal(body, &b) != nil || b.Token == "" {
		return Notification{}, fmt.Errorf("%w: the body is not {\"token\": …}", ErrWebhookClaims)
	}
	tok := []byte(b.Token)
	h, err := jose.ParseHeader(tok)
	if err != nil || h.Alg != jose.ES256 {
		return Notification{}, ErrWebhookAlg
	}
	key, err := c.signKey(ctx, h.Kid)
	if err != nil {
		return Notification{}, err
	}
	payload, err := jose.VerifyES256(tok, key)
	if err != nil {
		return Notification{}, ErrWebhookKey
	}
	var cl struct {
		RequestType  string `json:"request_type"`
		SignedDocURL string `json:"signed_doc_url"`
		RequestID    string `json:"request_id"`
		Iat          int64  `json:"iat"`
		Exp          int64  `json:"exp"`
	}
	if json.Unmarshal(payload, &cl) != nil || cl.RequestType != "signed_doc_url" || cl.RequestID == "" || cl.SignedDocURL == "" {
		return Notification{}, ErrWebhookClaims
	}
	now := c.cfg.Now()
	exp, iat := time.Unix(cl.Exp, 0), time.Unix(cl.Iat, 0)
	if cl.Exp == 0 || cl.Iat == 0 || now.After(exp.Add(c.cfg.Leeway)) || iat.After(now.Add(c.cfg.Leeway)) || exp.Sub(iat) > 10*time.Minute {
		return Notification{}, ErrWebhookExpired
	}
	if err := c.once(tok, cl.RequestID, exp, now); err != nil {
		return Notification{}, err
	}
	return Notification{RequestID: cl.RequestID, SignedDocURL: cl.SignedDocURL, Expires: exp}, nil
}

// once records a delivery: the same token again (Sign's retries), or
// another token for a request already delivered, is a replay.
func (c *Client) once(tok []byte, requestID string, exp, now time.Time) error {
	sum := sha256.Sum256(tok)
	keys := []string{hex.EncodeToString(sum[:]), "request " + requestID}
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, until := range c.delivered {
		if now.After(until) {
			delete(c.delivered, k)
		}
	}
	for _, k := range keys {
		if _, dup := c.delivered[k]; dup {
			return ErrWebhookReplayed
		}
	}
	for _, k := range keys {
		c.delivered[k] = exp.Add(c.cfg.Leeway)
	}
	return nil
}

// WebhookHandler answers Sign's webhook: 200 for a verified (or replayed)
// notification, after passing it to deliver; 400 for a refused one; 503
// when Sign's JWKS cannot be fetched, so that Sign retries. Sign gives the
// relying party two seconds, so deliver should hand the download to
// another goroutine.
func (c *Client) WebhookHandler(deliver func(Notification)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "POST only", http.StatusMethodNotAllowed)
			return
		}
		body, _ := io.ReadAll(io.LimitReader(r.Body, maxJSON+1))
		n, err := c.Webhook(r.Context(), body)
		switch {
		case errors.Is(err, ErrWebhookReplayed):
			w.WriteHeader(http.StatusOK)
		case errors.Is(err, ErrWebhook):
			http.Error(w, "webhook refused", http.StatusBadRequest)
		case err != nil:
			// Sign's JWKS could not be fetched: ask Sign to retry.
			http.Error(w, "cannot check the webhook now", http.StatusServiceUnavailable)
		default:
			deliver(n)
			w.WriteHeader(http.StatusOK)
		}
	})
}

// signKey finds kid in Sign's JWKS, fetching it when not cached, stale, or
// missing the kid.
func (c *Client) signKey(ctx context.Context, kid string) (*ecdsa.PublicKey, error) {
	find := func(keys []jose.PublicJWK) *ecdsa.PublicKey {
		for _, k := range keys {
			if k.Kid == kid && kid != "" && (k.Use == "sig" || k.Use == "") && (k.Alg == jose.ES256 || k.Alg == "") {
				return k.Key
			}
		}
		return nil
	}
	now := c.cfg.Now()
	c.mu.Lock()
	keys, at := c.keys, c.keysAt
	c.mu.Unlock()
	if k := find(keys); k != nil && now.Sub(at) < jwksLifetime {
		return k, nil
	}
	if keys != nil && now.Sub(at) < jwksRetry {
		return nil, ErrWebhookKey
	}
	if c.cfg.JWKSURL == "" {
		return nil, fmt.Errorf("%w: no JWKS URL configured for Sign", ErrWebhookKey)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.cfg.JWKSURL, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, unreachable("jwks", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxJSON))
	if resp.StatusCode != http.StatusOK {
		return nil, apiError("jwks", resp.StatusCode, body)
	}
	if keys, err = jose.ParseJWKS(body); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadResponse, err)
	}
	c.mu.Lock()
	c.keys, c.keysAt = keys, now
	c.mu.Unlock()
	if k := find(keys); k != nil {
		return k, nil
	}
	return nil, ErrWebhookKey
}
