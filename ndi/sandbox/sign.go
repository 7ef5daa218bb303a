package sandbox

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"net/http"
	"net/url"
	"time"

	"github.com/smallstep/pkcs7"

	"ndikiosk/ndi/jose"
	"ndikiosk/ndi/pki"
	"ndikiosk/ndi/sign/pdf"
)

// SignClient is a relying party registered with the sandbox's Sign V3 side
// (mounted under Prefix+"/sign"), as Sign's onboarding registers one.
type SignClient struct {
	ID          string
	JWKSURL     string // the RP's JWKS: checks its Authorization JWTs
	RedirectURI string // where the visitor's browser goes after signing
	WebhookURL  string // where Sign POSTs the success webhook; none when empty
	// RequestLifetime is how long a sign request stays signable; 30 min.
	RequestLifetime time.Duration
	// CAKey and CACert are the root that issues signers' certificates
	// (see NewSignCA); made afresh when nil. Keep them across restarts so
	// that PDFs signed earlier still verify.
	CAKey  *rsa.PrivateKey
	CACert *x509.Certificate
}

func (g *SignClient) check() error {
	if g != nil && (g.ID == "" || g.JWKSURL == "" || g.RedirectURI == "") {
		return errors.New("sandbox: the Sign client needs an id, a JWKS URL and a redirect URI")
	}
	if g != nil && (g.CAKey == nil) != (g.CACert == nil) {
		return errors.New("sandbox: the Sign CA needs both its key and its certificate")
	}
	return nil
}

// Sign faults, chosen on the signing page or by SignAs.
const (
	SignFaultExpired       = "expired"        // the request lapses before the visitor signs
	SignFaultNoWebhook     = "no-webhook"     // signed, but the webhook is never sent
	SignFaultTampered      = "tampered"       // the signed PDF served has a byte changed after signing
	SignFaultWrongSigner   = "wrong-signer"   // signed by a certificate from a CA the RP does not trust
	SignFaultOtherDocument = "other-document" // a valid signature, on a document other than the one sent
	// SignFaultValidationData is no failure: a revision with a /DSS
	// (validation data) follows the signature, as PAdES B-LT appends one;
	// the relying party must accept it.
	SignFaultValidationData = "validation-data"
	SignFaultBadTimestamp   = "bad-timestamp" // the signature timestamp is for other bytes
)

// SignFaults lists the Sign faults (declining is a decision, not a fault).
var SignFaults = []string{SignFaultExpired, SignFaultNoWebhook, SignFaultTampered, SignFaultWrongSigner, SignFaultOtherDocument,
	SignFaultValidationData, SignFaultBadTimestamp}

// signPlace is where a request's signature goes.
type signPlace struct {
	Page int
	X, Y float64
}

const (
	signMaxPDF          = 10 << 20 // "less than 10 MB"
	signRequestLifetime = 30 * time.Minute
	signTokenMaxAge     = 2 * time.Minute
	signDocLifetime     = 2 * time.Minute
	signAccess          = time.Hour
)

type signState struct {
	key         *ecdsa.PrivateKey // signs webhooks
	kid         string
	ca, rogue   *x509.Certificate
	caKey       *rsa.PrivateKey
	rogueKey    *rsa.PrivateKey
	signerKey   *rsa.PrivateKey
	tsaKey      *ecdsa.PrivateKey
	tsa         *x509.Certificate
	requests    map[string]*signRequest
	docs        map[string]*signDoc // download token →
	jtis        map[string]time.Time
	clientKeys  []jose.PublicJWK
	clientKeyAt time.Time
}

type signRequest struct {
	id, exchange string
	doc          []byte
	docName      string
	place        signPlace
	expires      time.Time
	started      bool   // the visitor opened the signing page
	state        string // "", "signed", "declined", "cancelled"
	signed       []byte
	signer       Persona
	signedAt     time.Time
}

type signDoc struct {
	pdf     []byte
	expires time.Time
}

func (s *Sandbox) mountSign() error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	kid, err := jose.Thumbprint(&key.PublicKey)
	if err != nil {
		return err
	}
	st := signState{key: key, kid: kid, requests: map[string]*signRequest{}, docs: map[string]*signDoc{}, jtis: map[string]time.Time{}}
	now := s.opt.Now()
	st.caKey, st.ca = s.opt.Sign.CAKey, s.opt.Sign.CACert
	if st.caKey == nil || st.ca == nil {
		if st.caKey, st.ca, err = NewSignCA(now); err != nil {
			return err
		}
	}
	if st.rogueKey, st.rogue, err = NewSignCA(now); err != nil {
		return err
	}
	if st.signerKey, err = pki.NewKey(); err != nil {
		return err
	}
	if st.tsaKey, st.tsa, err = newTSA(st.caKey, st.ca, now); err != nil {
		return err
	}
	s.sign = st
	client := *s.opt.Sign
	s.opt.Sign = &client
	if s.opt.Sign.RequestLifetime == 0 {
		s.opt.Sign.RequestLifetime = signRequestLifetime
	}
	p := s.opt.Prefix + "/sign"
	s.mux.HandleFunc("POST "+p+"/api/v3/sign-requests", s.signCreate)
	s.mux.HandleFunc("GET "+p+"/api/v3/sign-requests/{id}/signed-doc", s.signResult)
	s.mux.HandleFunc("POST "+p+"/api/v3/sign-requests/cancel", s.signCancel)
	s.mux.HandleFunc("GET "+p+"/.well-known/keys", func(w http.ResponseWriter, r *http.Request) {
		doc, _ := jose.MarshalJWKS([]jose.PublicJWK{{Key: &s.sign.key.PublicKey, Kid: s.sign.kid, Use: "sig", Alg: jose.ES256}})
		w.Header().Set("Content-Type", "application/json")
		w.Write(doc)
	})
	s.mux.HandleFunc("GET "+p+"/root.pem", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-pem-file")
		w.Write(pki.CertPEM(s.sign.ca))
	})
	s.mux.HandleFunc("GET "+p+"/portal/{id}", s.signPortal)
	s.mux.HandleFunc("POST "+p+"/portal/{id}", s.signPortalPost)
	s.mux.HandleFunc("GET "+p+"/doc/{token}", s.signDownload)
	return nil
}

// NewSignCA makes a root for the sandbox's signer certificates, valid ten
// years from now.
func NewSignCA(now time.Time) (*rsa.PrivateKey, *x509.Certificate, error) {
	const name = "ndikiosk sandbox Sign root CA"
	key, err := pki.NewKey()
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{SerialNumber: serial(), Subject: pkix.Name{CommonName: name, Organization: []string{"ndikiosk sandbox"}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(10 * 365 * 24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	return key, cert, err
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	return n
}

// SignBaseURL is the Sign V3 base URL a client is configured with.
func (s *Sandbox) SignBaseURL() string { return s.opt.PublicURL + "/sign/api/v3" }

// SignJWKSURL is the sandbox Sign's JWKS, which signs webhooks.
func (s *Sandbox) SignJWKSURL() string { return s.opt.PublicURL + "/sign/.well-known/keys" }

// SignRoot is the root certificate of the sandbox's signers: configure it
// as the trusted signing root of a client of the sandbox.
func (s *Sandbox) SignRoot() *x509.Certificate { return s.sign.ca }

// signError writes Sign's error body.
func signError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}

// rpToken checks the Authorization JWT of an RP call: ES256 by a key in the
// RP's JWKS, issued within the last two minutes for at most two, with an
// unused UUID jti. It returns the claims.
func (s *Sandbox) rpToken(r *http.Request) (map[string]any, error) {
	tok := []byte(r.Header.Get("Authorization"))
	h, err := jose.ParseHeader(tok)
	if err != nil || h.Alg != jose.ES256 {
		return nil, errors.New("the Authorization header must be an ES256 JWT")
	}
	key, err := s.signClientKey(r.Context(), h.Kid)
	if err != nil {
		return nil, err
	}
	payload, err := jose.VerifyES256(tok, key)
	if err != nil {
		return nil, errors.New("the Authorization JWT's signature is invalid")
	}
	var cl map[string]any
	d := json.NewDecoder(bytes.NewReader(payload))
	d.UseNumber()
	if d.Decode(&cl) != nil {
		return nil, errors.New("the Authorization JWT's claims are unreadable")
	}
	iat, _ := claimInt(cl, "iat")
	exp, _ := claimInt(cl, "exp")
	jti, _ := cl["jti"].(string)
	now := s.opt.Now()
	switch {
	case !isUUID(jti):
		return nil, errors.New("jti must be a UUID")
	case iat == 0 || exp == 0 || exp <= iat || time.Duration(exp-iat)*time.Second > signTokenMaxAge:
		return nil, errors.New("iat and exp must be set, exp at most 2 minutes after iat")
	case time.Unix(iat, 0).After(now.Add(30*time.Second)) || now.Sub(time.Unix(iat, 0)) > signTokenMaxAge:
		return nil, errors.New("the JWT was not issued within the last 2 minutes; check the clock")
	case !now.Before(time.Unix(exp, 0)):
		return nil, errors.New("the JWT has expired")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	prune(s.sign.jtis, now, at)
	if _, dup := s.sign.jtis[jti]; dup {
		return nil, errors.New("jti already used")
	}
	s.sign.jtis[jti] = time.Unix(exp, 0)
	return cl, nil
}

func claimInt(cl map[string]any, k string) (int64, bool) {
	n, ok := cl[k].(json.Number)
	if !ok {
		return 0, false
	}
	v, err := n.Int64()
	return v, err == nil
}

func claimFloat(cl map[string]any, k string) (float64, bool) {
	n, ok := cl[k].(json.Number)
	if !ok {
		return 0, false
	}
	v, err := n.Float64()
	return v, err == nil
}

// signClientKey finds the RP's key by kid in its JWKS (cached an hour, as
// Sign does; refetched for an unknown kid).
func (s *Sandbox) signClientKey(ctx context.Context, kid string) (*ecdsa.PublicKey, error) {
	find := func(keys []jose.PublicJWK) *ecdsa.PublicKey {
		for _, k := range keys {
			if k.Kid == kid && kid != "" && (k.Use == "sig" || k.Use == "") {
				return k.Key
			}
		}
		return nil
	}
	s.mu.Lock()
	keys, fetched := s.sign.clientKeys, s.sign.clientKeyAt
	s.mu.Unlock()
	if k := find(keys); k != nil && s.opt.Now().Sub(fetched) < time.Hour {
		return k, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.opt.Sign.JWKSURL, nil)
	if err != nil {
		return nil, err
	}
	resp, err := s.opt.HTTPClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("cannot fetch the client's JWKS: %v", unwrapURLError(err))
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("the client's JWKS answered HTTP %d", resp.StatusCode)
	}
	if keys, err = jose.ParseJWKS(body); err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.sign.clientKeys, s.sign.clientKeyAt = keys, s.opt.Now()
	s.mu.Unlock()
	if k := find(keys); k != nil {
		return k, nil
	}
	return nil, fmt.Errorf("the client's JWKS has no signing key %q", kid)
}

// signCreate is Initiate Sign Request.
func (s *Sandbox) signCreate(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Content-Type") != "application/octet-stream" {
		signError(w, http.StatusUnsupportedMediaType, "INVALID_CONTENT_TYPE", "Content-Type must be application/octet-stream")
		return
	}
	cl, err := s.rpToken(r)
	if err != nil {
		signError(w, http.StatusUnauthorized, "UNAUTHORIZED", err.Error())
		return
	}
	place, name, err := s.signParams(cl)
	if err != nil {
		signError(w, http.StatusBadRequest, "INVALID_PARAMETERS", err.Error())
		return
	}
	doc, err := io.ReadAll(http.MaxBytesReader(w, r.Body, signMaxPDF))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		signError(w, http.StatusRequestEntityTooLarge, "DOCUMENT_TOO_LARGE", "the PDF must be less than 10 MB")
		return
	case err != nil:
		signError(w, http.StatusBadRequest, "INVALID_DOCUMENT", "unreadable body")
		return
	}
	if err := pdf.Check(doc, place.Page); err != nil {
		signError(w, http.StatusBadRequest, "INVALID_DOCUMENT", err.Error())
		return
	}
	req := &signRequest{id: "signv3-" + uuidv4(), exchange: uuidv4(), doc: doc, docName: name, place: place,
		expires: s.opt.Now().Add(s.opt.Sign.RequestLifetime)}
	s.mu.Lock()
	// Requests are kept while they can be signed, then for the hour their
	// signed document can be fetched.
	prune(s.sign.requests, s.opt.Now(), func(q *signRequest) time.Time { return q.expires.Add(signAccess) })
	s.sign.requests[req.id] = req
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]string{"request_id": req.id, "exchange_code": req.exchange,
		"signing_url": s.opt.PublicURL + "/sign/portal/" + req.id})
}

// signParams checks the create call's claims: client_id, doc_name, page, x, y.
func (s *Sandbox) signParams(cl map[string]any) (signPlace, string, error) {
	if id, _ := cl["client_id"].(string); id != s.opt.Sign.ID {
		return signPlace{}, "", errors.New("client_id is not registered")
	}
	name, _ := cl["doc_name"].(string)
	if name == "" || len(name) > 200 {
		return signPlace{}, "", errors.New("doc_name must be 1 to 200 characters")
	}
	page, ok1 := claimInt(cl, "page")
	x, ok2 := claimFloat(cl, "x")
	y, ok3 := claimFloat(cl, "y")
	four := func(v float64) bool { return v >= 0 && v < 1 && math.Abs(v*1e4-math.Round(v*1e4)) < 1e-6 }
	if !ok1 || !ok2 || !ok3 || page < 1 || page > 10000 || !four(x) || !four(y) {
		return signPlace{}, "", errors.New("page must be from 1; x and y in [0, 1) with at most four decimals")
	}
	return signPlace{Page: int(page), X: x, Y: y}, name, nil
}

// signResult is Get Signing Result.
func (s *Sandbox) signResult(w http.ResponseWriter, r *http.Request) {
	cl, err := s.rpToken(r)
	if err != nil {
		signError(w, http.StatusUnauthorized, "UNAUTHORIZED", err.Error())
		return
	}
	code, _ := cl["exchange_code"].(string)
	now := s.opt.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	req, ok := s.sign.requests[r.PathValue("id")]
	switch {
	case !ok || code == "" || code != req.exchange:
		signError(w, http.StatusUnauthorized, "UNAUTHORIZED", "unknown request or wrong exchange_code")
	case req.state == "cancelled" || req.state == "declined":
		signError(w, http.StatusBadRequest, "REQUEST_CANCELLED", "the sign request was cancelled")
	case req.state == "signed" && now.Sub(req.signedAt) > signAccess:
		signError(w, http.StatusBadRequest, "SIGNED_ACCESS_EXPIRED", "signed more than an hour ago")
	case req.state == "signed":
		u, exp := s.publishDoc(req.signed, now)
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"signed_doc_url": u, "exp": exp.Unix(),
			"signer_info": map[string]any{"signer_name": req.signer.Name, "signer_partial_uinfin": last4(req.signer.ID),
				"signed_at": req.signedAt.UnixMilli()}})
	case !now.Before(req.expires):
		signError(w, http.StatusBadRequest, "REQUEST_EXPIRED", "the sign request expired unsigned")
	default:
		signError(w, http.StatusBadRequest, "DOCUMENT_NOT_SIGNED", "the user has not signed the document yet")
	}
}

func last4(id string) string {
	if len(id) < 4 {
		return id
	}
	return id[len(id)-4:]
}

// publishDoc makes a two-minute download URL for doc. s.mu is held.
func (s *Sandbox) publishDoc(doc []byte, now time.Time) (string, time.Time) {
	prune(s.sign.docs, now, func(d *signDoc) time.Time { return d.expires })
	tok := randomToken(24)
	exp := now.Add(signDocLifetime)
	s.sign.docs[tok] = &signDoc{pdf: doc, expires: exp}
	return s.opt.PublicURL + "/sign/doc/" + tok, exp
}

func (s *Sandbox) signDownload(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	d, ok := s.sign.docs[r.PathValue("token")]
	s.mu.Unlock()
	if !ok || !s.opt.Now().Before(d.expires) {
		http.Error(w, "expired or unknown document link", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Write(d.pdf)
}

// signCancel is Cancel Sign Request.
func (s *Sandbox) signCancel(w http.ResponseWriter, r *http.Request) {
	cl, err := s.rpToken(r)
	if err != nil {
		signError(w, http.StatusUnauthorized, "UNAUTHORIZED", err.Error())
		return
	}
	id, _ := cl["request_id"].(string)
	client, _ := cl["client_id"].(string)
	s.mu.Lock()
	defer s.mu.Unlock()
	req, ok := s.sign.requests[id]
	switch {
	case !ok || client != s.opt.Sign.ID:
		signError(w, http.StatusBadRequest, "INVALID_REQUEST", "unknown request_id for this client")
	case req.state == "signed":
		signError(w, http.StatusBadRequest, "DOCUMENT_ALREADY_SIGNED", "the document has been signed")
	case req.state == "cancelled":
		signError(w, http.StatusBadRequest, "REQUEST_ALREADY_CANCELLED", "the request was already cancelled")
	case req.started || req.state != "":
		signError(w, http.StatusBadRequest, "ACTIVE_SESSION_ONGOING", "Request cannot be cancelled due to an active sign session")
	default:
		req.state = "cancelled"
		w.WriteHeader(http.StatusOK)
	}
}

// SignOutcome is what the signing page led to.
type SignOutcome struct {
	RedirectURL   string // where the visitor's browser is sent
	Webhook       bool   // a webhook was sent
	WebhookStatus int
	WebhookError  string
}

// SignAs plays the visitor on the signing page of requestID: decision
// "sign" or "decline", as personaID, with one of SignFaults or none.
func (s *Sandbox) SignAs(ctx context.Context, requestID, personaID, decision, fault string) (SignOutcome, error) {
	if s.opt.Sign == nil {
		return SignOutcome{}, errors.New("the sandbox has no Sign client registered")
	}
	if fault != "" && !contains(SignFaults, fault) {
		return SignOutcome{}, fmt.Errorf("unknown Sign fault %q", fault)
	}
	p, ok := s.Persona(personaID)
	if !ok {
		return SignOutcome{}, fmt.Errorf("no persona %q", personaID)
	}
	now := s.opt.Now()
	s.mu.Lock()
	req, ok := s.sign.requests[requestID]
	var err error
	switch {
	case !ok:
		err = errors.New("no such sign request")
	case req.state != "":
		err = fmt.Errorf("this sign request is %s already", req.state)
	case !now.Before(req.expires):
		err = errors.New("this sign request has expired")
	case fault == SignFaultExpired:
		req.expires = now
		err = errors.New("this sign request has expired")
	case decision == "decline":
		req.state = "declined"
	case decision != "sign":
		err = fmt.Errorf("decision must be sign or decline, not %q", decision)
	default:
		// Taken while the PDF is signed: a second tap, or a cancel, waits
		// its turn and finds it taken.
		req.state, req.started = "being signed", true
	}
	s.mu.Unlock()
	if err != nil {
		return SignOutcome{}, err
	}
	if decision == "decline" {
		return SignOutcome{RedirectURL: s.redirect(requestID, "cancelled")}, nil
	}
	signed, err := s.signPDF(req, p, fault, now)
	if err != nil {
		s.mu.Lock()
		req.state = ""
		s.mu.Unlock()
		return SignOutcome{}, err
	}
	s.mu.Lock()
	req.state, req.signed, req.signer, req.signedAt = "signed", signed, p, now
	u, exp := s.publishDoc(signed, now)
	s.mu.Unlock()
	out := SignOutcome{RedirectURL: s.redirect(requestID, "success")}
	if fault != SignFaultNoWebhook && s.opt.Sign.WebhookURL != "" {
		out.Webhook = true
		out.WebhookStatus, out.WebhookError = s.sendWebhook(ctx, requestID, u, now, exp)
	}
	return out, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (s *Sandbox) redirect(id, status string) string {
	u := s.opt.Sign.RedirectURI
	sep := "?"
	if bytes.ContainsRune([]byte(u), '?') {
		sep = "&"
	}
	return u + sep + url.Values{"request_id": {id}, "status": {status}}.Encode()
}

// signPDF signs the request's document as p would with Singpass: a PAdES
// (ETSI.CAdES.detached) signature by a certificate in p's name from the
// sandbox CA, appended as an incremental update. Faults change it.
func (s *Sandbox) signPDF(req *signRequest, p Persona, fault string, now time.Time) ([]byte, error) {
	doc, caKey, ca := req.doc, s.sign.caKey, s.sign.ca
	if fault == SignFaultWrongSigner {
		caKey, ca = s.sign.rogueKey, s.sign.rogue
	}
	if fault == SignFaultOtherDocument {
		doc = pdf.Sample(req.place.Page, 0)
	}
	prep, err := pdf.Prepare(doc, pdf.Field{Page: req.place.Page, X: req.place.X, Y: req.place.Y,
		Signer: p.Name, Reason: "Signed with Singpass (sandbox): " + req.docName, Time: now})
	if err != nil {
		return nil, err
	}
	der, err := s.cms(prep.Covered(), p.Name, caKey, ca, now, fault == SignFaultBadTimestamp)
	if err != nil {
		return nil, err
	}
	out, err := prep.Embed(der)
	if err != nil {
		return nil, err
	}
	if fault == SignFaultValidationData {
		return pdf.AppendDSS(out, [][]byte{ca.Raw})
	}
	if fault == SignFaultTampered {
		// Change one character of the original page content, as an edit
		// after signing would.
		if i := bytes.Index(out, []byte("agreement")); i >= 0 {
			out[i] = 'A'
		} else {
			out[len(req.doc)/2] ^= 1
		}
	}
	return out, nil
}

// cms is a detached CMS SignedData over content with SHA-256, by a
// certificate issued now in signer's name, with the ESS
// signing-certificate-v2 attribute PAdES asks for and a signature
// timestamp from the sandbox TSA.
func (s *Sandbox) cms(content []byte, signer string, caKey *rsa.PrivateKey, ca *x509.Certificate, now time.Time, badStamp bool) ([]byte, error) {
	tmpl := &x509.Certificate{SerialNumber: serial(), Subject: pkix.Name{CommonName: signer, Country: []string{"SG"}},
		NotBefore: now.Add(-time.Minute), NotAfter: now.Add(2 * 365 * 24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &s.sign.signerKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	sd, err := pkcs7.NewSignedData(content)
	if err != nil {
		return nil, err
	}
	sd.SetDigestAlgorithm(pkcs7.OIDDigestAlgorithmSHA256)
	sum := sha256.Sum256(cert.Raw)
	essV2 := pkcs7.Attribute{Type: oidSigningCertificateV2, Value: signingCertificateV2{Certs: []essCertIDv2{{Hash: sum[:]}}}}
	if err := sd.AddSignerChain(cert, s.sign.signerKey, []*x509.Certificate{ca}, pkcs7.SignerInfoConfig{ExtraSignedAttributes: []pkcs7.Attribute{essV2}}); err != nil {
		return nil, err
	}
	if err := s.stamp(sd, now, badStamp); err != nil {
		return nil, err
	}
	sd.Detach()
	return sd.Finish()
}

var oidSigningCertificateV2 = []int{1, 2, 840, 113549, 1, 9, 16, 2, 47}

// ESS signing-certificate-v2 (RFC 5035) with the default SHA-256 hash.
type essCertIDv2 struct{ Hash []byte }
type signingCertificateV2 struct{ Certs []essCertIDv2 }

// sendWebhook POSTs the success webhook, up to three tries of two seconds
// each as Sign does, and reports the last answer.
func (s *Sandbox) sendWebhook(ctx context.Context, id, docURL string, now, exp time.Time) (int, string) {
	tok, err := jose.SignES256JSON(map[string]any{"request_type": "signed_doc_url", "signed_doc_url": docURL,
		"request_id": id, "iat": now.Unix(), "exp": exp.Unix()}, s.sign.key, jose.Header{Typ: "JWT", Kid: s.sign.kid})
	if err != nil {
		return 0, err.Error()
	}
	body, _ := json.Marshal(map[string]string{"token": string(tok)})
	var status int
	var last string
	for try := 0; try < 3; try++ {
		status, last = s.postWebhook(ctx, body)
		if status/100 == 2 || (status >= 400 && status < 500) {
			break
		}
	}
	s.opt.Logger.Info("sandbox sign webhook", "status", status, "error", last)
	return status, last
}

func (s *Sandbox) postWebhook(ctx context.Context, body []byte) (int, string) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.opt.Sign.WebhookURL, bytes.NewReader(body))
	if err != nil {
		return 0, err.Error()
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.opt.HTTPClient.Do(req)
	if err != nil {
		return 0, unwrapURLError(err).Error()
	}
	resp.Body.Close()
	return resp.StatusCode, ""
}

// isUUID reports whether s is a UUID in its canonical text form.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, r := range s {
		dash := i == 8 || i == 13 || i == 18 || i == 23
		hex := (r >= '0' && r <= '9') || (r >= 'a' && r <= 'f') || (r >= 'A' && r <= 'F')
		if dash != (r == '-') || (!dash && !hex) {
			return false
		}
	}
	return true
}

func uuidv4() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
