package sandbox

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"ndikiosk/ndi/jose"
)

// FAPIClient is a Myinfo client registered with the sandbox's FAPI 2.0
// side, as the Singpass Developer Portal would register it.
type FAPIClient struct {
	ID          string
	RedirectURI string
	JWKSURL     string   // the client's published JWKS, fetched like Singpass does
	Scopes      []string // the data items the client may request
	// LoginOnly plays an issuer for a Singpass Login app without Myinfo:
	// discovery names no userinfo endpoint, and the person comes only in
	// the ID token's sub_attributes.
	LoginOnly bool
}

// FAPI-only faults: Verify's access token audience is undocumented, so
// these make sense only where the client checks it.
const (
	FaultWrongAudience = "wrong-audience" // the ID token is issued for another client
)

// FAPIFaults lists the faults only the FAPI side plays.
var FAPIFaults = []string{FaultWrongAudience}

// FAPI timings, as Singpass documents them.
const (
	requestURILifetime = 60 * time.Second
	fapiSkew           = 60 * time.Second
	assertionMaxAge    = 2 * time.Minute
)

var (
	fapiStateRule = regexp.MustCompile(`^[A-Za-z0-9/+_\-=.]{30,255}$`)
	challengeRule = regexp.MustCompile(`^[A-Za-z0-9_\-]{43,128}$`)
)

// par is a pushed authorisation request, from PAR to the redirect.
type par struct {
	requestURI string
	scope      []string
	state      string
	nonce      string
	challenge  string
	jkt        string // the DPoP key the tokens are bound to
	expires    time.Time
	used       bool
}

// fapiGrant is an authorisation code or an access token of the FAPI side.
type fapiGrant struct {
	par     *par
	persona Persona
	fault   string
	expires time.Time
	used    bool
}

type fapiState struct {
	key, wrongKey *ecdsa.PrivateKey
	kid           string
	pars          map[string]*par // request_uri →
	codes         map[string]*fapiGrant
	tokens        map[string]*fapiGrant
	jtis          map[string]time.Time // client assertion and DPoP jtis seen
	rsNonce       dpopNonce            // the resource server's current DPoP nonce
	asNonce       dpopNonce            // the authorisation server's, with FAPIASNonce
	clientKeys    []jose.PublicJWK
	clientKeysAt  time.Time
}

func (s *Sandbox) issuer() string { return s.opt.PublicURL + "/fapi" }

// FAPIIssuer is the issuer a FAPI client is configured with.
func (s *Sandbox) FAPIIssuer() string { return s.issuer() }

func (s *Sandbox) mountFAPI() error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	wrong, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	kid, err := jose.Thumbprint(&key.PublicKey)
	if err != nil {
		return err
	}
	s.fapi = fapiState{key: key, wrongKey: wrong, kid: kid, pars: map[string]*par{}, codes: map[string]*fapiGrant{},
		tokens: map[string]*fapiGrant{}, jtis: map[string]time.Time{}}
	p := s.opt.Prefix + "/fapi"
	s.mux.HandleFunc("GET "+p+"/.well-known/openid-configuration", s.fapiDiscovery)
	s.mux.HandleFunc("GET "+p+"/.well-known/keys", func(w http.ResponseWriter, r *http.Request) {
		doc, _ := jose.MarshalJWKS([]jose.PublicJWK{{Key: &s.fapi.key.PublicKey, Kid: s.fapi.kid, Use: "sig", Alg: jose.ES256}})
		w.Header().Set("Content-Type", "application/json")
		w.Write(doc)
	})
	s.mux.HandleFunc("POST "+p+"/par", s.fapiPAR)
	s.mux.HandleFunc("GET "+p+"/auth", s.fapiAuth)
	s.mux.HandleFunc("POST "+p+"/token", s.fapiToken)
	s.mux.HandleFunc("GET "+p+"/userinfo", s.fapiUserinfo)
	return nil
}

func (s *Sandbox) fapiDiscovery(w http.ResponseWriter, r *http.Request) {
	iss := s.issuer()
	w.Header().Set("Content-Type", "application/json")
	doc := map[string]any{
		"issuer":                                           iss,
		"pushed_authorization_request_endpoint":            iss + "/par",
		"authorization_endpoint":                           iss + "/auth",
		"token_endpoint":                                   iss + "/token",
		"userinfo_endpoint":                                iss + "/userinfo",
		"jwks_uri":                                         iss + "/.well-known/keys",
		"response_types_supported":                         []string{"code"},
		"grant_types_supported":                            []string{"authorization_code"},
		"code_challenge_methods_supported":                 []string{"S256"},
		"token_endpoint_auth_methods_supported":            []string{"private_key_jwt"},
		"token_endpoint_auth_signing_alg_values_supported": []string{"ES256"},
		"dpop_signing_alg_values_supported":                []string{"ES256"},
		"id_token_signing_alg_values_supported":            []string{"ES256"},
		"id_token_encryption_alg_values_supported":         []string{"ECDH-ES+A256KW", "ECDH-ES+A192KW", "ECDH-ES+A128KW"},
		"id_token_encryption_enc_values_supported":         []string{"A256CBC-HS512"},
		"userinfo_signing_alg_values_supported":            []string{"ES256"},
		"userinfo_encryption_alg_values_supported":         []string{"ECDH-ES+A256KW"},
		"userinfo_encryption_enc_values_supported":         []string{"A256GCM"},
		"scopes_supported":                                 append([]string{"openid"}, s.opt.FAPI.Scopes...),
		"authorization_response_iss_parameter_supported":   false,
	}
	if s.opt.FAPI.LoginOnly {
		for _, k := range []string{"userinfo_endpoint", "userinfo_signing_alg_values_supported",
			"userinfo_encryption_alg_values_supported", "userinfo_encryption_enc_values_supported"} {
			delete(doc, k)
		}
	}
	json.NewEncoder(w).Encode(doc)
}

// oauthError writes an OAuth error body.
func oauthError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}

// fapiForm reads a form body whose parameters each appear once.
func fapiForm(w http.ResponseWriter, r *http.Request) (map[string]string, bool) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		oauthError(w, 400, "invalid_request", "Content-Type must be application/x-www-form-urlencoded")
		return nil, false
	}
	if err := r.ParseForm(); err != nil {
		oauthError(w, 400, "invalid_request", "unreadable form")
		return nil, false
	}
	form, err := singleValues(r.PostForm)
	if err != nil {
		oauthError(w, 400, "invalid_request", err.Error())
		return nil, false
	}
	return form, true
}

// seen records a jti until exp; it reports whether it was already there.
// s.mu is held.
func (s *Sandbox) seen(jti string, exp time.Time) bool {
	prune(s.fapi.jtis, s.opt.Now(), at)
	if _, dup := s.fapi.jtis[jti]; dup {
		return true
	}
	s.fapi.jtis[jti] = exp
	return false
}

// clientKey finds the client's key by kid and use in its JWKS, fetched
// from the client's JWKS URL and refetched on an unknown kid.
func (s *Sandbox) clientKey(ctx context.Context, kid, use string) (*ecdsa.PublicKey, string, error) {
	find := func(keys []jose.PublicJWK) (*ecdsa.PublicKey, string) {
		for _, k := range keys {
			if (kid == "" || k.Kid == kid) && (k.Use == use || k.Use == "") {
				return k.Key, k.Kid
			}
		}
		return nil, ""
	}
	s.mu.Lock()
	keys, fetched := s.fapi.clientKeys, s.fapi.clientKeysAt
	s.mu.Unlock()
	if k, id := find(keys); k != nil && s.opt.Now().Sub(fetched) < 5*time.Minute {
		return k, id, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.opt.FAPI.JWKSURL, nil)
	if err != nil {
		return nil, "", err
	}
	resp, err := s.opt.HTTPClient.Do(req)
	if err != nil {
		return nil, "", fmt.Errorf("cannot fetch the client's JWKS: %v", unwrapURLError(err))
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != 200 {
		return nil, "", fmt.Errorf("the client's JWKS answered HTTP %d", resp.StatusCode)
	}
	if keys, err = jose.ParseJWKS(body); err != nil {
		return nil, "", err
	}
	s.mu.Lock()
	s.fapi.clientKeys, s.fapi.clientKeysAt = keys, s.opt.Now()
	s.mu.Unlock()
	if k, id := find(keys); k != nil {
		return k, id, nil
	}
	return nil, "", fmt.Errorf("the client's JWKS has no %s key %q", use, kid)
}

// checkAssertion applies private_key_jwt: ES256 by a key in the client's
// JWKS, iss and sub the client, aud the issuer, short-lived, jti unused.
func (s *Sandbox) checkAssertion(r *http.Request, form map[string]string) error {
	if form["client_assertion_type"] != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
		return errors.New("client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
	}
	tok := []byte(form["client_assertion"])
	h, err := jose.ParseHeader(tok)
	if err != nil || h.Alg != jose.ES256 {
		return errors.New("client_assertion must be an ES256 JWT")
	}
	key, _, err := s.clientKey(r.Context(), h.Kid, "sig")
	if err != nil {
		return err
	}
	payload, err := jose.VerifyES256(tok, key)
	if err != nil {
		return errors.New("client_assertion signature is invalid")
	}
	var c struct {
		Iss, Sub, Jti string
		Aud           any
		Iat, Exp      int64
	}
	if json.Unmarshal(payload, &c) != nil {
		return errors.New("client_assertion claims are unreadable")
	}
	now := s.opt.Now()
	aud, _ := c.Aud.(string)
	switch {
	case c.Iss != s.opt.FAPI.ID || c.Sub != s.opt.FAPI.ID || form["client_id"] != s.opt.FAPI.ID:
		return errors.New("client_assertion iss and sub must be the registered client_id")
	case aud != s.issuer():
		return errors.New("client_assertion aud must be the issuer identifier")
	case c.Jti == "" || c.Iat == 0 || c.Exp == 0:
		return errors.New("client_assertion needs jti, iat and exp")
	case time.Unix(c.Exp, 0).Before(now.Add(-fapiSkew)):
		return errors.New("client_assertion has expired")
	case time.Unix(c.Iat, 0).After(now.Add(fapiSkew)) || time.Unix(c.Exp, 0).Sub(time.Unix(c.Iat, 0)) > assertionMaxAge:
		return errors.New("client_assertion must be issued now and live at most 2 minutes")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seen("ca:"+c.Jti, now.Add(assertionMaxAge+fapiSkew)) {
		return errors.New("client_assertion jti has been used before")
	}
	return nil
}

// checkDPoP verifies a DPoP proof for method and endpoint and returns the
// key's thumbprint. nonce and accessToken are required when not empty.
func (s *Sandbox) checkDPoP(r *http.Request, method, endpoint, nonce, accessToken string) (string, error) {
	vals := r.Header.Values("DPoP")
	if len(vals) != 1 {
		return "", errors.New("exactly one DPoP header is required")
	}
	tok := []byte(vals[0])
	h, err := jose.ParseHeader(tok)
	switch {
	case err != nil:
		return "", errors.New("DPoP proof is not a JWS")
	case h.Typ != "dpop+jwt" || h.Alg != jose.ES256 || h.JWK == nil:
		return "", errors.New("DPoP proof needs typ dpop+jwt, alg ES256 and a public jwk")
	}
	payload, err := jose.VerifyES256(tok, h.JWK)
	if err != nil {
		return "", errors.New("DPoP proof signature is invalid")
	}
	var c struct {
		Jti, Htm, Htu, Nonce, Ath string
		Iat                       int64
	}
	if json.Unmarshal(payload, &c) != nil {
		return "", errors.New("DPoP proof claims are unreadable")
	}
	now := s.opt.Now()
	iat := time.Unix(c.Iat, 0)
	switch {
	case c.Jti == "" || c.Iat == 0:
		return "", errors.New("DPoP proof needs jti and iat")
	case c.Htm != method:
		return "", fmt.Errorf("DPoP htm must be %s", method)
	case c.Htu != endpoint:
		return "", errors.New("DPoP htu does not match the endpoint")
	case iat.Before(now.Add(-fapiSkew)) || iat.After(now.Add(fapiSkew)):
		return "", errors.New("DPoP proof iat is not recent")
	case nonce != "" && c.Nonce != nonce:
		return "", errNeedNonce
	}
	if accessToken != "" {
		sum := sha256.Sum256([]byte(accessToken))
		if c.Ath != base64.RawURLEncoding.EncodeToString(sum[:]) {
			return "", errors.New("DPoP ath does not match the access token")
		}
	}
	jkt, err := jose.Thumbprint(h.JWK)
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seen("dpop:"+c.Jti, now.Add(2*fapiSkew)) {
		return "", errors.New("DPoP proof jti has been used before")
	}
	return jkt, nil
}

var errNeedNonce = errors.New("use_dpop_nonce")

// dpopNonce is a server's DPoP nonce, renewed every five minutes.
type dpopNonce struct {
	value string
	since time.Time
}

// current is the nonce to demand now; s.mu is held.
func (n *dpopNonce) current(now time.Time) string {
	if n.value == "" || now.Sub(n.since) > 5*time.Minute {
		n.value, n.since = randomB64(24), now
	}
	return n.value
}

// checkASProof checks the DPoP proof of a PAR or token request, demanding
// the authorisation server's nonce when Options.FAPIASNonce is set
// (RFC 9449 §8). It writes the error itself.
func (s *Sandbox) checkASProof(w http.ResponseWriter, r *http.Request, path string) (string, bool) {
	nonce := ""
	if s.opt.FAPIASNonce {
		s.mu.Lock()
		nonce = s.fapi.asNonce.current(s.opt.Now())
		s.mu.Unlock()
	}
	jkt, err := s.checkDPoP(r, http.MethodPost, s.issuer()+path, nonce, "")
	switch {
	case errors.Is(err, errNeedNonce):
		w.Header().Set("DPoP-Nonce", nonce)
		oauthError(w, 400, "use_dpop_nonce", "Authorization server requires nonce in DPoP proof")
		return "", false
	case err != nil:
		oauthError(w, 400, "invalid_dpop_proof", err.Error())
		return "", false
	}
	return jkt, true
}

func (s *Sandbox) fapiPAR(w http.ResponseWriter, r *http.Request) {
	form, ok := fapiForm(w, r)
	if !ok {
		return
	}
	if form["client_id"] != s.opt.FAPI.ID {
		oauthError(w, 401, "invalid_client", "unknown client_id")
		return
	}
	var scope []string
	if sc := form["scope"]; sc != "" {
		scope = strings.Split(sc, " ")
	}
	if problem := s.parProblem(form, scope); problem != "" {
		oauthError(w, 400, "invalid_request", problem)
		return
	}
	if err := s.checkAssertion(r, form); err != nil {
		oauthError(w, 401, "invalid_client", err.Error())
		return
	}
	jkt, ok := s.checkASProof(w, r, "/par")
	if !ok {
		return
	}
	p := &par{requestURI: "urn:ietf:params:oauth:request_uri:" + randomB64(48), scope: scope, state: form["state"],
		nonce: form["nonce"], challenge: form["code_challenge"], jkt: jkt, expires: s.opt.Now().Add(requestURILifetime)}
	s.mu.Lock()
	prune(s.fapi.pars, s.opt.Now(), func(p *par) time.Time { return p.expires })
	s.fapi.pars[p.requestURI] = p
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	json.NewEncoder(w).Encode(map[string]any{"request_uri": p.requestURI, "expires_in": int(requestURILifetime.Seconds())})
}

// parProblem is what is wrong with a pushed authorisation request's
// parameters, or "".
func (s *Sandbox) parProblem(form map[string]string, scope []string) string {
	c := s.opt.FAPI
	switch {
	case form["response_type"] != "code":
		return "response_type must be code"
	case form["redirect_uri"] != c.RedirectURI:
		return "redirect_uri is not registered for this client"
	case !slices.Contains(scope, "openid"):
		return "scope must include openid"
	case !fapiStateRule.MatchString(form["state"]):
		return "state must be 30-255 characters of [A-Za-z0-9/+_-=.]"
	case !fapiStateRule.MatchString(form["nonce"]):
		return "nonce must be 30-255 characters of [A-Za-z0-9/+_-=.]"
	case form["code_challenge_method"] != "S256" || !challengeRule.MatchString(form["code_challenge"]):
		return "code_challenge must be an S256 challenge of 43-128 characters"
	case form["authentication_context_type"] != "" || form["authentication_context_message"] != "":
		return "authentication_context_type and authentication_context_message can only be provided for Login apps"
	case form["request"] != "" || form["request_uri"] != "":
		return "request objects are not supported at PAR"
	}
	for _, sc := range scope {
		if sc != "openid" && !slices.Contains(c.Scopes, sc) {
			return fmt.Sprintf("scope %q is not approved for this client", sc)
		}
	}
	return ""
}

// acceptAuthURL is what Singpass does when a phone opens an authorisation
// URL: the client and a live, unused request_uri. The request_uri is used
// up.
func (s *Sandbox) acceptAuthURL(raw string) (*par, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("not a URL: %v", err)
	}
	q := u.Query()
	if q.Get("client_id") != s.opt.FAPI.ID {
		return nil, errors.New("client_id is not registered")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.fapi.pars[q.Get("request_uri")]
	switch {
	case !ok:
		return nil, errors.New("request_uri is unknown")
	case p.used:
		return nil, errors.New("request_uri was already used")
	case !s.opt.Now().Before(p.expires):
		return nil, errors.New("request_uri has expired")
	}
	p.used = true
	return p, nil
}

func (s *Sandbox) fapiAuth(w http.ResponseWriter, r *http.Request) {
	p, err := s.acceptAuthURL(s.issuer() + "/auth?" + r.URL.RawQuery)
	if err != nil {
		s.render(w, http.StatusBadRequest, pageData{Error: "Singpass cannot continue: " + err.Error() + ". Scan the kiosk's current code."})
		return
	}
	id := randomToken(16)
	s.mu.Lock()
	prune(s.tickets, s.opt.Now(), ticketExpiry)
	s.tickets[id] = ticket{par: p, expires: s.opt.Now().Add(5 * time.Minute)}
	s.mu.Unlock()
	s.consentPage(w, id)
}

// decideFAPI issues a code (allow) or an error for a pushed request and
// returns the redirect URL the phone's browser goes to.
func (s *Sandbox) decideFAPI(p *par, personaID, decision, fault string) (string, error) {
	if fault != FaultNone && !validFault(fault) && !slices.Contains(FAPIFaults, fault) {
		return "", fmt.Errorf("unknown fault %q", fault)
	}
	q := url.Values{"state": {p.state}}
	switch {
	case decision == "deny":
		q.Set("error", "access_denied")
		q.Set("error_description", "The user did not consent")
	case decision != "allow":
		return "", fmt.Errorf("decision must be allow or deny, not %q", decision)
	case fault == FaultUnavailable:
		q.Set("error", "temporarily_unavailable")
		q.Set("error_description", "Myinfo is under maintenance")
	default:
		person, fault, err := s.consenting(personaID, fault)
		if err != nil {
			return "", err
		}
		code := randomB64(32)
		s.mu.Lock()
		prune(s.fapi.codes, s.opt.Now(), fapiGrantExpiry)
		s.fapi.codes[code] = &fapiGrant{par: p, persona: person, fault: fault, expires: s.opt.Now().Add(s.opt.CodeLifetime)}
		s.mu.Unlock()
		q.Set("code", code)
	}
	sep := "?"
	if strings.Contains(s.opt.FAPI.RedirectURI, "?") {
		sep = "&"
	}
	return s.opt.FAPI.RedirectURI + sep + q.Encode(), nil
}

func fapiGrantExpiry(g *fapiGrant) time.Time { return g.expires }

func (s *Sandbox) fapiToken(w http.ResponseWriter, r *http.Request) {
	form, ok := fapiForm(w, r)
	if !ok {
		return
	}
	if form["client_id"] != s.opt.FAPI.ID {
		oauthError(w, 401, "invalid_client", "unknown client_id")
		return
	}
	if err := s.checkAssertion(r, form); err != nil {
		oauthError(w, 401, "invalid_client", err.Error())
		return
	}
	jkt, ok := s.checkASProof(w, r, "/token")
	if !ok {
		return
	}
	now := s.opt.Now()
	s.mu.Lock()
	g, ok := s.fapi.codes[form["code"]]
	problem := ""
	switch {
	case form["grant_type"] != "authorization_code":
		problem = "grant_type must be authorization_code"
	case !ok:
		problem = "invalid authorization code"
	case g.used:
		problem = "authorization code has been used"
	case now.After(g.expires):
		problem = "authorization code has expired"
	case form["redirect_uri"] != s.opt.FAPI.RedirectURI:
		problem = "redirect_uri does not match the authorization request"
	case pkce(form["code_verifier"]) != g.par.challenge:
		problem = "code_verifier does not match the code_challenge"
	case jkt != g.par.jkt:
		problem = "DPoP key is not the one bound at the pushed authorization request"
	default:
		g.used = true
	}
	s.mu.Unlock()
	if problem != "" {
		oauthError(w, 400, "invalid_grant", problem)
		return
	}
	if !s.playFault(w, r, g.fault, FaultToken500) {
		return
	}
	idt, err := s.idToken(r.Context(), g)
	if err != nil {
		oauthError(w, 500, "server_error", err.Error())
		return
	}
	at := randomB64(48)
	s.mu.Lock()
	prune(s.fapi.tokens, now, fapiGrantExpiry)
	s.fapi.tokens[at] = &fapiGrant{par: g.par, persona: g.persona, fault: g.fault, expires: now.Add(s.opt.TokenLifetime)}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"access_token": at, "token_type": "DPoP", "id_token": string(idt),
		"expires_in": int(s.opt.TokenLifetime.Seconds())})
}

func pkce(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// sealFAPI signs claims with the issuer key (or the wrong key for the bad-*
// faults) and encrypts the JWS to the client's encryption key.
func (s *Sandbox) sealFAPI(ctx context.Context, cl map[string]any, wrongKey bool, enc string) ([]byte, error) {
	key := s.fapi.key
	if wrongKey {
		key = s.fapi.wrongKey
	}
	jws, err := jose.SignES256JSON(cl, key, jose.Header{Typ: "JWT", Kid: s.fapi.kid})
	if err != nil {
		return nil, err
	}
	pub, kid, err := s.clientKey(ctx, "", "enc")
	if err != nil {
		return nil, err
	}
	return jose.EncryptECDH(jws, pub, kid, jose.ECDHESA256KW, enc, "JWT")
}

func (s *Sandbox) idToken(ctx context.Context, g *fapiGrant) ([]byte, error) {
	now := s.opt.Now()
	aud := s.opt.FAPI.ID
	if g.fault == FaultWrongAudience {
		aud = "another-client"
	}
	exp := now.Add(30 * time.Minute)
	if g.fault == FaultExpiredToken {
		exp = now.Add(-5 * time.Minute)
	}
	cl := map[string]any{"iss": s.issuer(), "sub": uuidFor(g.persona.ID), "aud": aud,
		"iat": now.Unix(), "exp": exp.Unix(), "nonce": g.par.nonce, "amr": []string{"pwd"},
		"acr": "urn:singpass:authentication:loa:2", "sub_type": "user"}
	if attrs := g.persona.subAttributes(g.par.scope); len(attrs) > 0 {
		cl["sub_attributes"] = attrs
	}
	return s.sealFAPI(ctx, cl, g.fault == FaultBadToken, jose.A256CBCHS512)
}

// subAttributes is what Singpass Login puts in an ID token for the scopes
// asked: the identity number and its country of issue (user.identity),
// name, email and mobile number, each only when asked and on record.
func (p Persona) subAttributes(scope []string) map[string]any {
	out := map[string]any{}
	for _, sc := range scope {
		switch {
		case sc == "user.identity":
			out["identity_number"] = p.ID
			out["identity_coi"] = "SG"
		case sc == "name" && p.Name != "":
			out["name"] = p.Name
		case sc == "email" && p.Email != "":
			out["email"] = p.Email
		case sc == "mobileno" && p.Mobile != "":
			out["mobile_number"] = "+65" + p.Mobile
		}
	}
	return out
}

func (s *Sandbox) fapiUserinfo(w http.ResponseWriter, r *http.Request) {
	auth := r.Header.Get("Authorization")
	at, ok := strings.CutPrefix(auth, "DPoP ")
	if !ok || at == "" {
		w.Header().Set("WWW-Authenticate", `DPoP error="invalid_token", error_description="a DPoP access token is required"`)
		oauthError(w, 401, "invalid_token", "a DPoP access token is required")
		return
	}
	s.mu.Lock()
	now := s.opt.Now()
	nonce := s.fapi.rsNonce.current(now)
	g, known := s.fapi.tokens[at]
	s.mu.Unlock()
	jkt, err := s.checkDPoP(r, http.MethodGet, s.issuer()+"/userinfo", nonce, at)
	switch {
	case errors.Is(err, errNeedNonce):
		w.Header().Set("DPoP-Nonce", nonce)
		w.Header().Set("WWW-Authenticate", `DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof"`)
		oauthError(w, 401, "use_dpop_nonce", "Resource server requires nonce in DPoP proof")
		return
	case err != nil:
		w.Header().Set("WWW-Authenticate", `DPoP error="invalid_dpop_proof"`)
		oauthError(w, 401, "invalid_dpop_proof", err.Error())
		return
	case !known || now.After(g.expires):
		w.Header().Set("WWW-Authenticate", `DPoP error="invalid_token"`)
		oauthError(w, 401, "invalid_token", "the access token is unknown or expired")
		return
	case jkt != g.par.jkt:
		w.Header().Set("WWW-Authenticate", `DPoP error="invalid_token"`)
		oauthError(w, 401, "invalid_token", "the access token is bound to another DPoP key")
		return
	}
	if !s.playFault(w, r, g.fault, FaultPerson500) {
		return
	}
	if slices.Contains(g.par.scope, "user.identity") {
		// A Login app has no Myinfo: the person was in the ID token.
		w.Header().Set("WWW-Authenticate", `DPoP error="insufficient_scope"`)
		oauthError(w, 403, "insufficient_scope", "this app is approved for Singpass Login without Myinfo")
		return
	}
	if g.fault == FaultPerson404 || g.persona.NoProfile {
		oauthError(w, 404, "not_found", "no Myinfo data for this person")
		return
	}
	var items []string
	for _, sc := range g.par.scope {
		if sc != "openid" {
			items = append(items, sc)
		}
	}
	body, err := s.sealFAPI(r.Context(), map[string]any{"iss": s.issuer(), "sub": uuidFor(g.persona.ID),
		"aud": s.opt.FAPI.ID, "iat": now.Unix(), "person_info": g.persona.myinfo(items)},
		g.fault == FaultBadSignature, jose.A256GCM)
	if err != nil {
		oauthError(w, 500, "server_error", err.Error())
		return
	}
	if g.fault == FaultGarbledJWE {
		body = garble(body)
	}
	w.Header().Set("Content-Type", "application/jwt")
	w.Write(body)
}

func randomB64(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// fapiShown reports whether the kiosk screen shows a FAPI authorisation URL.
func (s *Sandbox) fapiShown() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.HasPrefix(s.shown, s.issuer()+"/auth?")
}
