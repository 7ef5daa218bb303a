package fapi

import (
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"ndikiosk/ndi"
	"ndikiosk/ndi/jose"
)

func apiError(api string, resp *http.Response, body []byte) *ndi.APIError {
	e := &ndi.APIError{Service: ndi.ServiceMyinfo, Short: "fapi", API: api, Status: resp.StatusCode}
	var b struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if json.Unmarshal(body, &b) == nil {
		e.Code, e.Detail = ndi.Redact(b.Error, 64), ndi.Redact(b.Description, 200)
	}
	switch s := resp.StatusCode; {
	case s == 400 && api == "token" && (e.Code == "invalid_grant" || e.Code == ""):
		e.Kind = ndi.ErrCodeRejected
	case s == 401 || e.Code == "invalid_client" || e.Code == "invalid_dpop_proof":
		e.Kind = ndi.ErrUnauthorised
	case s == 403 || e.Code == "invalid_scope" || e.Code == "unauthorized_client":
		e.Kind = ndi.ErrForbidden
	case s == 404 && api == "userinfo":
		e.Kind = ndi.ErrNoProfile
	case s == 502 || s == 503 || s == 504:
		e.Kind = ndi.ErrUnavailable
	case s >= 500:
		e.Kind = ndi.ErrServer
	default:
		e.Kind = ndi.ErrUnauthorised
	}
	return e
}

// get fetches a JSON document (discovery, JWKS).
func get(ctx context.Context, hc *http.Client, api, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, unreachable(api, err)
	}
	defer resp.Body.Close()
	body, err := readBody(resp.Body)
	if err != nil {
		return nil, unreachable(api, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, apiError(api, resp, body)
	}
	return body, nil
}

func unreachable(api string, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return ndi.Unreachable(ndi.ServiceMyinfo, api, err)
}

// metadata is the issuer's openid-configuration, fetched once an hour.
func (c *Client) metadata(ctx context.Context) (*Metadata, error) {
	c.mu.Lock()
	m, at := c.meta, c.metaAt
	c.mu.Unlock()
	if m != nil && c.cfg.Now().Sub(at) < time.Hour {
		return m, nil
	}
	fresh, err := Discover(ctx, c.cfg.HTTPClient, c.cfg.Issuer)
	if err == nil && !c.loginOnly {
		err = fresh.check(c.cfg.Issuer, true)
	}
	if err != nil {
		if m != nil {
			return m, nil // keep using what worked; the next call tries again
		}
		return nil, err
	}
	c.mu.Lock()
	c.meta, c.metaAt = fresh, c.cfg.Now()
	c.mu.Unlock()
	return fresh, nil
}

// Discover fetches an issuer's openid-configuration and checks that it is
// the FAPI issuer's, with every endpoint the kiosk uses but userinfo, which
// a Singpass Login app without Myinfo does not need.
func Discover(ctx context.Context, hc *http.Client, issuer string) (*Metadata, error) {
	issuer = strings.TrimRight(issuer, "/")
	body, err := get(ctx, hc, "discovery", issuer+"/.well-known/openid-configuration")
	if err != nil {
		return nil, err
	}
	var m Metadata
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, fmt.Errorf("%w: discovery document: %v", ndi.ErrServer, err)
	}
	if err := m.check(issuer, false); err != nil {
		return nil, err
	}
	return &m, nil
}

// check refuses a discovery document for another issuer or without an
// endpoint the client needs; userinfo is needed only for Myinfo (a
// Singpass Login client reads the ID token alone).
func (m *Metadata) check(issuer string, userinfo bool) error {
	if m.Issuer != issuer {
		return fmt.Errorf("%w: the discovery document names issuer %q, not %q (use the FAPI issuer, e.g. %s)",
			ndi.ErrForbidden, ndi.Redact(m.Issuer, 80), issuer, StagingIssuer)
	}
	endpoints := []struct{ name, v string }{{"pushed_authorization_request_endpoint", m.PAREndpoint},
		{"authorization_endpoint", m.AuthorizationEndpoint}, {"token_endpoint", m.TokenEndpoint}, {"jwks_uri", m.JWKSURI}}
	if userinfo {
		endpoints = append(endpoints, struct{ name, v string }{"userinfo_endpoint (Myinfo scopes need it; a Login-only app asks for user.identity)", m.UserinfoEndpoint})
	}
	for _, e := range endpoints {
		if u, err := url.Parse(e.v); err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
			return fmt.Errorf("%w: the discovery document has no usable %s", ndi.ErrServer, e.name)
		}
	}
	return nil
}

// Metadata fetches (or returns the cached) discovery document.
func (c *Client) Metadata(ctx context.Context) (*Metadata, error) { return c.metadata(ctx) }

// issuerSigningKey finds the issuer's signing key by kid in its JWKS; an
// unknown kid refetches the set, at most every 30 s, so a key rotation at
// Singpass is picked up and a forged kid cannot make the kiosk hammer it.
func (c *Client) issuerSigningKey(ctx context.Context, kid string) (*ecdsa.PublicKey, error) {
	c.mu.Lock()
	key, known := c.issuerKey[kid]
	stale := c.issuerKey == nil || c.cfg.Now().Sub(c.jwksAt) > 30*time.Second
	if known && c.cfg.Now().Sub(c.jwksAt) > 24*time.Hour {
		known = false
	}
	c.mu.Unlock()
	if known {
		return key, nil
	}
	if !stale {
		return nil, fmt.Errorf("signed with key %q, which the issuer does not publish", ndi.Redact(kid, 60))
	}
	meta, err := c.metadata(ctx)
	if err != nil {
		return nil, err
	}
	body, err := get(ctx, c.cfg.HTTPClient, "jwks", meta.JWKSURI)
	if err != nil {
		return nil, err
	}
	keys, err := jose.ParseJWKS(body)
	if err != nil {
		return nil, fmt.Errorf("%w: issuer %v", ndi.ErrServer, err)
	}
	set := map[string]*ecdsa.PublicKey{}
	for _, k := range keys {
		if k.Use == "" || k.Use == "sig" {
			set[k.Kid] = k.Key
		}
	}
	c.mu.Lock()
	c.issuerKey, c.jwksAt = set, c.cfg.Now()
	c.mu.Unlock()
	if key, ok := set[kid]; ok {
		return key, nil
	}
	if kid == "" && len(set) == 1 {
		for _, k := range set {
			return k, nil
		}
	}
	return nil, fmt.Errorf("signed with key %q, which the issuer does not publish", ndi.Redact(kid, 60))
}

// clientAssertion is the private_key_jwt: iss and sub the client id, aud
// the issuer, valid for 60 s.
func (c *Client) clientAssertion() (string, error) {
	now := c.cfg.Now()
	tok, err := jose.SignES256JSON(map[string]any{
		"iss": c.cfg.ClientID, "sub": c.cfg.ClientID, "aud": c.cfg.Issuer,
		"iat": now.Unix(), "exp": now.Add(time.Minute).Unix(), "jti": random(24),
	}, c.cfg.Keys.Signing.Private, jose.Header{Typ: "JWT", Kid: c.cfg.Keys.Signing.Kid})
	return string(tok), err
}

// Proof builds a DPoP proof (RFC 9449) for a request: htm, htu (no query or
// fragment), a fresh jti, iat, and nonce and ath when given.
func Proof(key *ecdsa.PrivateKey, method, target, nonce, accessToken string, now time.Time) (string, error) {
	u, err := url.Parse(target)
	if err != nil {
		return "", err
	}
	u.RawQuery, u.Fragment = "", ""
	cl := map[string]any{"htm": method, "htu": u.String(), "jti": random(18), "iat": now.Unix()}
	if nonce != "" {
		cl["nonce"] = nonce
	}
	if accessToken != "" {
		sum := sha256.Sum256([]byte(accessToken))
		cl["ath"] = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	tok, err := jose.SignES256JSON(cl, key, jose.Header{Typ: "dpop+jwt", JWK: &key.PublicKey})
	return string(tok), err
}

// postAS posts a form to the authorisation server with a client assertion
// and a DPoP proof, retrying once when the server asks for a DPoP nonce.
func (c *Client) postAS(ctx context.Context, api, endpoint string, form url.Values, dpopKey *ecdsa.PrivateKey, out any) error {
	for attempt := 0; ; attempt++ {
		assertion, err := c.clientAssertion()
		if err != nil {
			return err
		}
		form.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
		form.Set("client_assertion", assertion)
		c.mu.Lock()
		nonce := c.asNonce
		c.mu.Unlock()
		proof, err := Proof(dpopKey, http.MethodPost, endpoint, nonce, "", c.cfg.Now())
		if err != nil {
			return err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept", "application/json")
		req.Header.Set("DPoP", proof)
		resp, err := c.cfg.HTTPClient.Do(req)
		if err != nil {
			return unreachable(api, err)
		}
		body, err := readBody(resp.Body)
		resp.Body.Close()
		if err != nil {
			return unreachable(api, err)
		}
		if n := resp.Header.Get("DPoP-Nonce"); n != "" {
			c.mu.Lock()
			c.asNonce = n
			c.mu.Unlock()
		}
		if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusCreated {
			if !isJSON(resp.Header) {
				return fmt.Errorf("%w: %s answered %q, not JSON", ndi.ErrServer, api, resp.Header.Get("Content-Type"))
			}
			if err := json.Unmarshal(body, out); err != nil {
				return fmt.Errorf("%w: %s answer: %v", ndi.ErrServer, api, err)
			}
			return nil
		}
		e := apiError(api, resp, body)
		if e.Code == "use_dpop_nonce" && attempt == 0 && resp.Header.Get("DPoP-Nonce") != "" {
			continue
		}
		return e
	}
}

// userinfo calls the resource server with the DPoP-bound access token; a
// 401 that carries a DPoP-Nonce is retried once with it.
func (c *Client) userinfo(ctx context.Context, endpoint, accessToken string, dpopKey *ecdsa.PrivateKey) ([]byte, error) {
	nonce := ""
	for attempt := 0; ; attempt++ {
		proof, err := Proof(dpopKey, http.MethodGet, endpoint, nonce, accessToken, c.cfg.Now())
		if err != nil {
			return nil, err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint, nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "DPoP "+accessToken)
		req.Header.Set("DPoP", proof)
		resp, err := c.cfg.HTTPClient.Do(req)
		if err != nil {
			return nil, unreachable("userinfo", err)
		}
		body, err := readBody(resp.Body)
		resp.Body.Close()
		if err != nil {
			return nil, unreachable("userinfo", err)
		}
		if resp.StatusCode == http.StatusOK {
			return body, nil
		}
		if n := resp.Header.Get("DPoP-Nonce"); n != "" && resp.StatusCode == http.StatusUnauthorized && attempt == 0 {
			nonce = n
			continue
		}
		e := apiError("userinfo", resp, body)
		if e.Code == "" {
			e.Code = wwwAuthError(resp.Header.Get("WWW-Authenticate"))
		}
		return nil, e
	}
}

// wwwAuthError reads error="..." from a WWW-Authenticate header.
func wwwAuthError(h string) string {
	i := strings.Index(h, `error="`)
	if i < 0 {
		return ""
	}
	rest := h[i+7:]
	if j := strings.IndexByte(rest, '"'); j >= 0 {
		return ndi.Redact(rest[:j], 64)
	}
	return ""
}
