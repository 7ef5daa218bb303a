package sandbox

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"ndikiosk/ndi/jose"
	"ndikiosk/ndi/verify"
)

// apiError writes the Myinfo-style JSON error body.
func apiError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"code": status, "message": msg})
}

// endpointURL is the URL the caller signed: scheme, host and path as the
// request arrived, without the query.
func endpointURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := r.Header.Get("X-Forwarded-Proto"); p == "http" || p == "https" {
		scheme = p
	}
	return scheme + "://" + r.Host + r.URL.EscapedPath()
}

// checkPKI applies the token and person APIs' 401 rules: the header is there
// with the PKI_SIGN scheme, the app id is registered, the timestamp is near
// the server clock, the nonce is fresh, and the signature verifies.
func (s *Sandbox) checkPKI(r *http.Request, params map[string]string) (bearer string, err error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "", errors.New("missing Authorization header")
	}
	auth, bearer, err := verify.ParseAuthorization(h)
	if err != nil {
		return "", err
	}
	if auth.AppID != s.opt.Client.ID {
		return "", errors.New("unknown app_id")
	}
	ts, err := auth.Time()
	if err != nil {
		return "", err
	}
	now := s.opt.Now()
	if d := now.Sub(ts); d > s.opt.ClockSkew || d < -s.opt.ClockSkew {
		return "", errors.New("timestamp is not synchronised with the server clock")
	}
	if err := auth.Verify(s.opt.Client.PublicKey, r.Method, endpointURL(r), params); err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	prune(s.pkiSeen, now, at)
	if _, dup := s.pkiSeen[auth.Nonce]; dup {
		return "", errors.New("nonce has been used before")
	}
	s.pkiSeen[auth.Nonce] = now.Add(2 * s.opt.ClockSkew)
	return bearer, nil
}

func singleValues(v url.Values) (map[string]string, error) {
	out := make(map[string]string, len(v))
	for k, vs := range v {
		if len(vs) != 1 {
			return nil, fmt.Errorf("parameter %s given %d times", k, len(vs))
		}
		out[k] = vs[0]
	}
	return out, nil
}

func (s *Sandbox) token(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		apiError(w, http.StatusBadRequest, "Content-Type must be application/x-www-form-urlencoded")
		return
	}
	if err := r.ParseForm(); err != nil {
		apiError(w, http.StatusBadRequest, "unreadable form")
		return
	}
	form, err := singleValues(r.PostForm)
	if err != nil {
		apiError(w, http.StatusBadRequest, err.Error())
		return
	}
	if _, err := s.checkPKI(r, form); err != nil {
		apiError(w, http.StatusUnauthorized, err.Error())
		return
	}
	c := s.opt.Client
	switch {
	case form["client_id"] != c.ID:
		apiError(w, http.StatusUnauthorized, "unknown client_id")
		return
	case subtle.ConstantTimeCompare([]byte(form["client_secret"]), []byte(c.Secret)) != 1:
		apiError(w, http.StatusUnauthorized, "invalid client_secret")
		return
	case form["grant_type"] != "authorization_code":
		apiError(w, http.StatusBadRequest, "grant_type must be authorization_code")
		return
	case form["redirect_uri"] != c.CallbackURL:
		apiError(w, http.StatusBadRequest, "redirect_uri does not match the registered callback")
		return
	}
	now := s.opt.Now()
	s.mu.Lock()
	g, ok := s.codes[form["code"]]
	var problem string
	switch {
	case !ok:
		problem = "invalid authorisation code"
	case g.used:
		problem = "authorisation code has been used"
	case now.After(g.expires):
		problem = "authorisation code has expired"
	case form["state"] != "" && form["state"] != g.state:
		problem = "state does not match the authorisation"
	default:
		g.used = true
	}
	s.mu.Unlock()
	if problem != "" {
		apiError(w, http.StatusBadRequest, problem)
		return
	}
	if !s.playFault(w, r, g.fault, FaultToken500) {
		return
	}
	jti := randomToken(16)
	exp := now.Add(s.opt.TokenLifetime)
	if g.fault == FaultExpiredToken {
		exp = now.Add(-5 * time.Minute)
	}
	key := s.opt.Key
	if g.fault == FaultBadToken {
		key = s.wrongKey
	}
	tok, err := jose.SignJSON(map[string]any{
		"sub": g.persona.ID, "scope": g.scope, "aud": c.ID, "iss": s.opt.PublicURL, "jti": jti,
		"iat": now.Unix(), "exp": exp.Unix(), "auth_level": 2, "auth_time": now.UnixMilli(),
	}, key)
	if err != nil {
		apiError(w, http.StatusInternalServerError, "cannot sign the token")
		return
	}
	s.mu.Lock()
	prune(s.tokens, now, grantExpiry)
	s.tokens[jti] = &grant{persona: g.persona, scope: g.scope, fault: g.fault, expires: now.Add(s.opt.TokenLifetime)}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"access_token": string(tok), "token_type": "Bearer",
		"expires_in": int(s.opt.TokenLifetime.Seconds()) - 1})
}

func (s *Sandbox) person(w http.ResponseWriter, r *http.Request) {
	query, err := singleValues(r.URL.Query())
	if err != nil {
		apiError(w, http.StatusBadRequest, err.Error())
		return
	}
	bearer, err := s.checkPKI(r, query)
	if err != nil {
		apiError(w, http.StatusUnauthorized, err.Error())
		return
	}
	if bearer == "" {
		apiError(w, http.StatusUnauthorized, "missing Bearer access token")
		return
	}
	payload, err := jose.VerifyRS256([]byte(bearer), &s.opt.Key.PublicKey)
	if err != nil {
		apiError(w, http.StatusUnauthorized, "access token signature is invalid")
		return
	}
	var claims struct {
		Sub string `json:"sub"`
		JTI string `json:"jti"`
		Exp int64  `json:"exp"`
	}
	if json.Unmarshal(payload, &claims) != nil || s.opt.Now().Unix() >= claims.Exp {
		apiError(w, http.StatusUnauthorized, "access token has expired")
		return
	}
	s.mu.Lock()
	g, ok := s.tokens[claims.JTI]
	s.mu.Unlock()
	switch {
	case !ok:
		apiError(w, http.StatusUnauthorized, "access token is not known")
		return
	case r.PathValue("sub") != claims.Sub:
		apiError(w, http.StatusUnauthorized, "UIN/FIN requested does not match the logged-in user")
		return
	case query["client_id"] != s.opt.Client.ID:
		apiError(w, http.StatusForbidden, "client_id is not registered for this service")
		return
	}
	attrs := strings.Split(query["attributes"], ",")
	for _, a := range attrs {
		if !slices.Contains(s.opt.Client.Attributes, a) {
			apiError(w, http.StatusForbidden, fmt.Sprintf("attribute %q is not allowed for this service", a))
			return
		}
		if !slices.Contains(g.scope, a) {
			apiError(w, http.StatusUnauthorized, "requested attributes do not match the consented attributes")
			return
		}
	}
	if !s.playFault(w, r, g.fault, FaultPerson500) {
		return
	}
	if g.fault == FaultPerson404 || g.persona.NoProfile {
		apiError(w, http.StatusNotFound, "UIN/FIN does not exist in MyInfo.")
		return
	}
	body, err := s.sealPerson(g.persona.myinfo(attrs), g.fault)
	if err != nil {
		apiError(w, http.StatusInternalServerError, "cannot seal the person data")
		return
	}
	w.Header().Set("Content-Type", "application/jose")
	w.Write(body)
}

// sealPerson signs the person JSON (JWS, RS256) and encrypts the result to
// the client's key (JWE), the way Verify answers the person call.
func (s *Sandbox) sealPerson(data map[string]any, fault string) ([]byte, error) {
	key := s.opt.Key
	if fault == FaultBadSignature {
		key = s.wrongKey
	}
	jws, err := jose.SignJSON(data, key)
	if err != nil {
		return nil, err
	}
	plain := jws
	if s.opt.QuotedJWS {
		plain, _ = json.Marshal(string(jws))
	}
	jwe, err := jose.Encrypt(plain, s.opt.Client.PublicKey, s.opt.JWEAlg, s.opt.JWEEnc)
	if err != nil {
		return nil, err
	}
	if fault == FaultGarbledJWE {
		jwe = garble(jwe)
	}
	return jwe, nil
}

// garble damages a compact JWE's ciphertext, as a broken relay might.
func garble(jwe []byte) []byte {
	parts := strings.Split(string(jwe), ".")
	b := []byte(parts[3])
	if i := len(b) / 2; b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	parts[3] = string(b)
	return []byte(strings.Join(parts, "."))
}

// playFault answers with the fault if it applies here; it reports whether
// the handler should go on.
func (s *Sandbox) playFault(w http.ResponseWriter, r *http.Request, fault, serverError string) bool {
	switch fault {
	case serverError:
		apiError(w, http.StatusInternalServerError, "unexpected error (sandbox fault)")
		return false
	case FaultSlow:
		select {
		case <-time.After(s.opt.SlowDelay):
		case <-r.Context().Done():
			return false
		}
	}
	return true
}

func randomToken(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
