package fapi

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"ndikiosk/internal/testclock"
	"ndikiosk/ndi"
	"ndikiosk/ndi/jose"
	"ndikiosk/ndi/sandbox"
)

const testClient = "ndikiosk-fapi-test"

type env struct {
	sb        *sandbox.Sandbox
	client    *Client
	clock     *testclock.Clock
	srv       *httptest.Server
	keys      Keys
	jwksFetch atomic.Int32
}

func newEnv(t testing.TB, scopes ...string) *env { return newEnvWith(t, nil, scopes...) }

// newEnvWith is newEnv with the sandbox's options adjusted by opts.
func newEnvWith(t testing.TB, opts func(*sandbox.Options), scopes ...string) *env {
	t.Helper()
	e := &env{clock: testclock.New(time.Now())}
	var err error
	if e.keys.Signing, err = NewKey(); err != nil {
		t.Fatal(err)
	}
	if e.keys.Encryption, err = NewKey(); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		doc, _ := e.keys.JWKS()
		w.Header().Set("Content-Type", "application/json")
		w.Write(doc)
	})
	mux.HandleFunc("GET /redirect", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "Done") })
	o := sandbox.Options{Prefix: "/sandbox", PublicURL: e.srv.URL + "/sandbox", Now: e.clock.Now,
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		SlowDelay: 300 * time.Millisecond,
		FAPI: &sandbox.FAPIClient{ID: testClient, RedirectURI: e.srv.URL + "/redirect", JWKSURL: e.srv.URL + "/jwks",
			Scopes: []string{"uinfin", "name", "dob", "mobileno"}}}
	if opts != nil {
		opts(&o)
	}
	e.sb, err = sandbox.New(o)
	if err != nil {
		t.Fatal(err)
	}
	countJWKS := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "/.well-known/keys") {
				e.jwksFetch.Add(1)
			}
			h.ServeHTTP(w, r)
		})
	}
	mux.Handle("/sandbox/", countJWKS(e.sb))
	if len(scopes) == 0 {
		scopes = []string{"uinfin", "dob"}
	}
	e.client, err = New(Config{Issuer: e.sb.FAPIIssuer(), ClientID: testClient, RedirectURI: e.srv.URL + "/redirect",
		Scopes: scopes, Keys: e.keys, HTTPClient: e.srv.Client(), Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func persona(t *testing.T, label string) string {
	p, ok := sandbox.PersonaByLabel(label, time.Now())
	if !ok {
		t.Fatalf("no persona %q", label)
	}
	return p.ID
}

var stateN atomic.Int32

func newState() string {
	return "kiosk1-" + strings.Repeat("s", 30) + string(rune('a'+stateN.Add(1)%26))
}

// authorize pushes a request and plays the phone; it returns the redirect's
// query.
func (e *env) authorize(t *testing.T, label, decision, fault string) url.Values {
	t.Helper()
	a, err := e.client.Authorize(context.Background(), newState())
	if err != nil {
		t.Fatalf("authorize: %v", err)
	}
	res, err := e.sb.ScanURL(context.Background(), a.URL, persona(t, label), decision, fault)
	if err != nil {
		t.Fatalf("scan: %v", err)
	}
	if res.CallbackStatus != 200 {
		t.Fatalf("redirect answered %d %s", res.CallbackStatus, res.CallbackError)
	}
	u, _ := url.Parse(res.CallbackURL)
	return u.Query()
}

func (e *env) visit(t *testing.T, label, fault string) (*ndi.Person, error) {
	t.Helper()
	q := e.authorize(t, label, "allow", fault)
	return e.client.Exchange(context.Background(), ndi.Callback{Code: q.Get("code"), State: q.Get("state")})
}

func TestFullFlow(t *testing.T) {
	e := newEnv(t, "uinfin", "name", "dob", "mobileno")
	a, err := e.client.Authorize(context.Background(), newState())
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(a.URL)
	if u.Path != "/sandbox/fapi/auth" || u.Query().Get("client_id") != testClient ||
		!strings.HasPrefix(u.Query().Get("request_uri"), "urn:ietf:params:oauth:request_uri:") || len(u.Query()) != 2 {
		t.Fatalf("authorisation URL %s", a.URL)
	}
	if got := a.Expiry.Sub(a.Start); got != 60*time.Second {
		t.Fatalf("request_uri lives %v, want 60s", got)
	}
	id := persona(t, "Adult citizen")
	res, err := e.sb.ScanURL(context.Background(), a.URL, id, "allow", "")
	if err != nil || res.CallbackStatus != 200 {
		t.Fatalf("scan %+v %v", res, err)
	}
	cb, _ := url.Parse(res.CallbackURL)
	p, err := e.client.Exchange(context.Background(), ndi.Callback{Code: cb.Query().Get("code"), State: cb.Query().Get("state")})
	if err != nil {
		t.Fatal(err)
	}
	if string(p.UINFIN.Value) != id || p.Subject() != id || p.MaskedID() != ndi.MaskID(id) ||
		p.Name.String() != "TAN WEI MING" || string(p.DOB.Value) != "1985-03-14" || !p.MobileNo.Present() {
		t.Fatalf("person %+v", p.Redacted())
	}
	if age := p.CheckAge(18, e.clock.Now()); age != ndi.AtLeast {
		t.Fatalf("age %v", age)
	}
	// The same redirect again: the session is used up.
	_, err = e.client.Exchange(context.Background(), ndi.Callback{Code: cb.Query().Get("code"), State: cb.Query().Get("state")})
	if !errors.Is(err, ndi.ErrCodeRejected) {
		t.Fatalf("replayed redirect: %v", err)
	}
	// A second visit reuses the cached issuer keys.
	if _, err := e.visit(t, "Turns 18 today", ""); err != nil {
		t.Fatal(err)
	}
	if n := e.jwksFetch.Load(); n != 1 {
		t.Fatalf("issuer JWKS fetched %d times for two visits", n)
	}
}

func TestNoUINFINScopeKeysOnSubject(t *testing.T) {
	e := newEnv(t, "dob")
	p, err := e.visit(t, "Adult citizen", "")
	if err != nil {
		t.Fatal(err)
	}
	if p.UINFIN.Present() || p.MaskedID() != "" || p.Subject() == "" || strings.Contains(p.Subject(), persona(t, "Adult citizen")) {
		t.Fatalf("subject %q masked %q", p.Subject(), p.MaskedID())
	}
}

func TestDeniedAndUnavailableRedirects(t *testing.T) {
	e := newEnv(t)
	q := e.authorize(t, "Adult citizen", "deny", "")
	_, err := ndi.ParseCallback(q)
	var pe *ndi.ProviderError
	if !errors.As(err, &pe) || !pe.Denied() {
		t.Fatalf("deny: %v", err)
	}
	q = e.authorize(t, "Adult citizen", "allow", sandbox.FaultUnavailable)
	_, err = ndi.ParseCallback(q)
	if !errors.As(err, &pe) || !pe.Unavailable() {
		t.Fatalf("unavailable: %v", err)
	}
}

func TestRejections(t *testing.T) {
	cases := []struct {
		fault string
		kind  error
		text  string
	}{
		{sandbox.FaultWrongAudience, ndi.ErrBadToken, "another client"},
		{sandbox.FaultBadToken, ndi.ErrBadToken, "signature"},
		{sandbox.FaultExpiredToken, ndi.ErrBadToken, "expired"},
		{sandbox.FaultGarbledJWE, ndi.ErrBadResponse, "decrypt"},
		{sandbox.FaultBadSignature, ndi.ErrBadResponse, "signature"},
		{sandbox.FaultToken500, ndi.ErrServer, "Singpass Myinfo token API: HTTP 500"},
		{sandbox.FaultPerson500, ndi.ErrServer, "Singpass Myinfo userinfo API: HTTP 500"},
		{sandbox.FaultPerson404, ndi.ErrNoProfile, "Singpass Myinfo userinfo API: HTTP 404"},
	}
	e := newEnv(t)
	for _, c := range cases {
		t.Run(c.fault, func(t *testing.T) {
			p, err := e.visit(t, "Adult citizen", c.fault)
			if p != nil || !errors.Is(err, c.kind) || !strings.Contains(err.Error(), c.text) {
				t.Fatalf("got %v, want %v with %q", err, c.kind, c.text)
			}
			if strings.Contains(err.Error(), persona(t, "Adult citizen")) {
				t.Fatalf("error text carries the NRIC: %v", err)
			}
		})
	}
}

func TestWrongDPoPKeyAtToken(t *testing.T) {
	e := newEnv(t)
	state := newState()
	a, err := e.client.Authorize(context.Background(), state)
	if err != nil {
		t.Fatal(err)
	}
	// Another key than the one bound at PAR, as a thief holding the code
	// but not the kiosk's DPoP key would have.
	other, _ := NewKey()
	e.client.mu.Lock()
	e.client.sessions[state].dpop = other.Private
	e.client.mu.Unlock()
	res, err := e.sb.ScanURL(context.Background(), a.URL, persona(t, "Adult citizen"), "allow", "")
	if err != nil {
		t.Fatal(err)
	}
	cb, _ := url.Parse(res.CallbackURL)
	_, err = e.client.Exchange(context.Background(), ndi.Callback{Code: cb.Query().Get("code"), State: state})
	if !errors.Is(err, ndi.ErrCodeRejected) || !strings.Contains(err.Error(), "DPoP key is not the one bound") {
		t.Fatalf("wrong DPoP key: %v", err)
	}
}

// parRequest is a hand-made PAR with the client's real assertion.
func (e *env) parRequest(t *testing.T, dpop, assertion string) (int, string) {
	t.Helper()
	challenge := strings.Repeat("A", 43)
	form := url.Values{"response_type": {"code"}, "client_id": {testClient}, "redirect_uri": {e.client.cfg.RedirectURI},
		"scope": {"openid dob"}, "state": {newState()}, "nonce": {strings.Repeat("n", 32)}, "code_challenge": {challenge},
		"code_challenge_method": {"S256"}, "client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
		"client_assertion": {assertion}}
	req, _ := http.NewRequest(http.MethodPost, e.sb.FAPIIssuer()+"/par", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("DPoP", dpop)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestReplayedDPoPProof(t *testing.T) {
	e := newEnv(t)
	key, _ := NewKey()
	proof, err := Proof(key.Private, http.MethodPost, e.sb.FAPIIssuer()+"/par", "", "", e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	a1, _ := e.client.clientAssertion()
	if status, body := e.parRequest(t, proof, a1); status != 201 {
		t.Fatalf("first PAR: %d %s", status, body)
	}
	a2, _ := e.client.clientAssertion()
	status, body := e.parRequest(t, proof, a2)
	if status != 400 || !strings.Contains(body, "invalid_dpop_proof") || !strings.Contains(body, "jti has been used") {
		t.Fatalf("replayed DPoP proof: %d %s", status, body)
	}
	// A proof for another endpoint, and one signed by a key that is not the
	// one in its header, are refused too.
	wrongHTU, _ := Proof(key.Private, http.MethodPost, e.sb.FAPIIssuer()+"/token", "", "", e.clock.Now())
	a3, _ := e.client.clientAssertion()
	if status, body := e.parRequest(t, wrongHTU, a3); status != 400 || !strings.Contains(body, "htu") {
		t.Fatalf("wrong htu: %d %s", status, body)
	}
	other, _ := NewKey()
	forged, _ := jose.SignES256JSON(map[string]any{"htm": "POST", "htu": e.sb.FAPIIssuer() + "/par", "jti": "x1", "iat": e.clock.Now().Unix()},
		other.Private, jose.Header{Typ: "dpop+jwt", JWK: &key.Private.PublicKey})
	a4, _ := e.client.clientAssertion()
	if status, body := e.parRequest(t, string(forged), a4); status != 400 || !strings.Contains(body, "signature") {
		t.Fatalf("forged proof: %d %s", status, body)
	}
}

func TestBadClientAssertion(t *testing.T) {
	e := newEnv(t)
	// A signing key Singpass does not know (not in the kiosk's JWKS).
	stranger, _ := NewKey()
	cfg := e.client.cfg
	cfg.Keys.Signing = stranger
	bad, _ := New(cfg)
	_, err := bad.Authorize(context.Background(), newState())
	if !errors.Is(err, ndi.ErrUnauthorised) || !strings.Contains(err.Error(), "invalid_client") {
		t.Fatalf("unknown signing key: %v", err)
	}
	// The published key's kid, but signed by another key.
	stranger.Kid = e.keys.Signing.Kid
	cfg.Keys.Signing = stranger
	bad, _ = New(cfg)
	if _, err := bad.Authorize(context.Background(), newState()); !errors.Is(err, ndi.ErrUnauthorised) ||
		!strings.Contains(err.Error(), "signature") {
		t.Fatalf("forged assertion: %v", err)
	}
	// The right key, the wrong audience, and a replayed assertion.
	key, _ := NewKey()
	now := e.clock.Now()
	wrongAud, _ := jose.SignES256JSON(map[string]any{"iss": testClient, "sub": testClient, "aud": "https://elsewhere.example",
		"iat": now.Unix(), "exp": now.Add(time.Minute).Unix(), "jti": "j1"}, e.keys.Signing.Private, jose.Header{Typ: "JWT", Kid: e.keys.Signing.Kid})
	p1, _ := Proof(key.Private, http.MethodPost, e.sb.FAPIIssuer()+"/par", "", "", now)
	if status, body := e.parRequest(t, p1, string(wrongAud)); status != 401 || !strings.Contains(body, "aud") {
		t.Fatalf("wrong aud: %d %s", status, body)
	}
	good, _ := e.client.clientAssertion()
	p2, _ := Proof(key.Private, http.MethodPost, e.sb.FAPIIssuer()+"/par", "", "", now)
	p3, _ := Proof(key.Private, http.MethodPost, e.sb.FAPIIssuer()+"/par", "", "", now)
	e.parRequest(t, p2, good)
	if status, body := e.parRequest(t, p3, good); status != 401 || !strings.Contains(body, "jti has been used") {
		t.Fatalf("replayed assertion: %d %s", status, body)
	}
}

func TestExpiredRequestURI(t *testing.T) {
	e := newEnv(t)
	a, err := e.client.Authorize(context.Background(), newState())
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Add(61 * time.Second)
	if _, err := e.sb.ScanURL(context.Background(), a.URL, persona(t, "Adult citizen"), "allow", ""); err == nil ||
		!strings.Contains(err.Error(), "request_uri has expired") {
		t.Fatalf("expired request_uri: %v", err)
	}
	// A request_uri is good for one scan.
	b, _ := e.client.Authorize(context.Background(), newState())
	e.sb.ScanURL(context.Background(), b.URL, persona(t, "Adult citizen"), "allow", "")
	if _, err := e.sb.ScanURL(context.Background(), b.URL, persona(t, "Adult citizen"), "allow", ""); err == nil ||
		!strings.Contains(err.Error(), "already used") {
		t.Fatalf("reused request_uri: %v", err)
	}
}

func TestDiscoveryAndNetworkFailures(t *testing.T) {
	e := newEnv(t)
	cfg := e.client.cfg
	cfg.Issuer = e.srv.URL + "/sandbox/fapi/" // a trailing slash is tolerated
	if c, _ := New(cfg); c == nil {
		t.Fatal("trailing slash refused")
	} else if _, err := c.Metadata(context.Background()); err != nil {
		t.Fatalf("discovery: %v", err)
	}
	cfg.Issuer = e.srv.URL + "/sandbox"
	c, _ := New(cfg)
	if _, err := c.Authorize(context.Background(), newState()); err == nil {
		t.Fatal("a non-FAPI issuer was accepted")
	}
	// Nothing listening.
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	cfg.Issuer = dead.URL + "/fapi"
	c, _ = New(cfg)
	if _, err := c.Authorize(context.Background(), newState()); !errors.Is(err, ndi.ErrUnavailable) || !ndi.Unavailable(err) {
		t.Fatalf("dead issuer: %v", err)
	}
	// A network that hangs: the caller's deadline ends it.
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	e2 := newEnv(t)
	q := e2.authorize(t, "Adult citizen", "allow", sandbox.FaultSlow)
	if _, err := e2.client.Exchange(ctx, ndi.Callback{Code: q.Get("code"), State: q.Get("state")}); !errors.Is(err, ndi.ErrUnavailable) {
		t.Fatalf("hanging token call: %v", err)
	}
}

func TestConfigChecks(t *testing.T) {
	k, _ := NewKey()
	good := Config{Issuer: StagingIssuer, ClientID: "c", RedirectURI: "https://kiosk.example/cb", Keys: Keys{Signing: k, Encryption: k}, Scopes: []string{"dob"}}
	if _, err := New(good); err != nil {
		t.Fatal(err)
	}
	for name, mut := range map[string]func(*Config){
		"partialuinfin": func(c *Config) { c.Scopes = []string{"partialuinfin"} },
		"unknown scope": func(c *Config) { c.Scopes = []string{"shoe-size"} },
		"relative uri":  func(c *Config) { c.RedirectURI = "/cb" },
		"no keys":       func(c *Config) { c.Keys = Keys{} },
		"no client":     func(c *Config) { c.ClientID = "" },
	} {
		c := good
		mut(&c)
		if _, err := New(c); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
	if ValidState(strings.Repeat("a", 29)) || !ValidState(strings.Repeat("a", 30)) || ValidState(strings.Repeat("a", 29)+"!") {
		t.Fatal("state rule")
	}
}

func TestPreviousEncryptionKeyStillOpens(t *testing.T) {
	e := newEnv(t)
	// The kiosk rotated its encryption key, but Singpass still encrypts to
	// the old one it cached.
	old := e.keys.Encryption
	fresh, _ := NewKey()
	e.client.cfg.Keys.Encryption, e.client.cfg.Keys.Previous = fresh, []Key{old}
	if _, err := e.visit(t, "Adult citizen", ""); err != nil {
		t.Fatalf("old key no longer opens: %v", err)
	}
	// Without it, the same answer cannot be read.
	e.client.cfg.Keys.Previous = nil
	if _, err := e.visit(t, "Adult citizen", ""); !errors.Is(err, ndi.ErrBadToken) {
		t.Fatalf("dropped key still opens: %v", err)
	}
}

// BenchmarkAuthorize is one pushed authorisation request against the
// sandbox on loopback, both sides: client assertion and DPoP proof signed,
// both verified, the request stored.
func BenchmarkAuthorize(b *testing.B) {
	e := newEnv(b)
	for b.Loop() {
		if _, err := e.client.Authorize(context.Background(), newState()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkExchange is the redirect's code to a Person, both sides: token
// (assertion, DPoP, PKCE), ID token sealed and opened, userinfo with its
// DPoP nonce round trip, sealed and opened.
func BenchmarkExchange(b *testing.B) {
	e := newEnv(b)
	id, _ := sandbox.PersonaByLabel("Adult citizen", time.Now())
	for b.Loop() {
		b.StopTimer()
		a, err := e.client.Authorize(context.Background(), newState())
		if err != nil {
			b.Fatal(err)
		}
		res, err := e.sb.ScanURL(context.Background(), a.URL, id.ID, "allow", "")
		if err != nil {
			b.Fatal(err)
		}
		u, _ := url.Parse(res.CallbackURL)
		b.StartTimer()
		if _, err := e.client.Exchange(context.Background(), ndi.Callback{Code: u.Query().Get("code"), State: u.Query().Get("state")}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestIssuerKeysRefreshOnUnknownKid: keys cached from before a rotation at
// Singpass do not hold the new kid; the set is fetched again, but at most
// every 30 s, so a stream of forged kids cannot make the kiosk hammer it.
func TestIssuerKeysRefreshOnUnknownKid(t *testing.T) {
	e := newEnv(t)
	if _, err := e.visit(t, "Adult citizen", ""); err != nil {
		t.Fatal(err)
	}
	stale, _ := NewKey()
	e.client.mu.Lock()
	e.client.issuerKey = map[string]*ecdsa.PublicKey{stale.Kid: &stale.Private.PublicKey}
	e.client.jwksAt = e.clock.Now()
	e.client.mu.Unlock()
	// Fetched a moment ago: an unknown kid is refused without a fetch.
	if _, err := e.visit(t, "Adult citizen", ""); !errors.Is(err, ndi.ErrBadToken) || !strings.Contains(err.Error(), "does not publish") {
		t.Fatalf("unknown kid right after a fetch: %v", err)
	}
	if n := e.jwksFetch.Load(); n != 1 {
		t.Fatalf("JWKS fetched %d times", n)
	}
	// Half a minute later the set is fetched again and the new kid found.
	e.clock.Add(31 * time.Second)
	if _, err := e.visit(t, "Adult citizen", ""); err != nil {
		t.Fatalf("after the refresh: %v", err)
	}
	if n := e.jwksFetch.Load(); n != 2 {
		t.Fatalf("JWKS fetched %d times, want 2", n)
	}
}

// TestAuthorisationServerNonce: when PAR and token demand a DPoP nonce, the
// client retries once with the one the server hands out, and keeps using it.
func TestAuthorisationServerNonce(t *testing.T) {
	e := newEnvWith(t, func(o *sandbox.Options) { o.FAPIASNonce = true })
	if _, err := e.visit(t, "Adult citizen", ""); err != nil {
		t.Fatal(err)
	}
	e.client.mu.Lock()
	nonce := e.client.asNonce
	e.client.mu.Unlock()
	if nonce == "" {
		t.Fatal("the server's nonce was not kept")
	}
	// A proof without it is refused with use_dpop_nonce.
	key, _ := NewKey()
	proof, _ := Proof(key.Private, http.MethodPost, e.sb.FAPIIssuer()+"/par", "", "", e.clock.Now())
	a, _ := e.client.clientAssertion()
	if status, body := e.parRequest(t, proof, a); status != 400 || !strings.Contains(body, "use_dpop_nonce") {
		t.Fatalf("proof without the nonce: %d %s", status, body)
	}
}
