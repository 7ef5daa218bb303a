// Package sandbox stands in for the Singpass side of Verify v2, in process:
// the QR landing the Singpass app opens, a phone page to pick a test persona
// and consent, the callback to the relying party, and the token and person
// APIs with the same checks, signatures and encryption as the real service.
// Faults can be switched on per persona or per scan, for tests and demos.
package sandbox

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"ndikiosk/ndi"
	"ndikiosk/ndi/jose"
	"ndikiosk/ndi/pki"
	"ndikiosk/ndi/verify"
)

// Faults the sandbox can play, chosen per scan or fixed on a persona.
const (
	FaultNone         = ""
	FaultUnavailable  = "unavailable"   // the callback carries error=503
	FaultToken500     = "token-500"     // token API answers 500
	FaultPerson500    = "person-500"    // person API answers 500
	FaultPerson404    = "person-404"    // person API: no Myinfo profile
	FaultSlow         = "slow"          // token and person answer after SlowDelay
	FaultBadSignature = "bad-signature" // person JWS signed with a key that is not the NDI key
	FaultBadToken     = "bad-token"     // access token signed with a key that is not the NDI key
	FaultExpiredToken = "expired-token" // access token already expired
	FaultGarbledJWE   = "garbled-jwe"   // person JWE with a damaged ciphertext
)

// Faults lists every fault, for pages and validation.
var Faults = []string{FaultUnavailable, FaultToken500, FaultPerson500, FaultPerson404, FaultSlow,
	FaultBadSignature, FaultBadToken, FaultExpiredToken, FaultGarbledJWE}

// Client is the relying party registered with the sandbox, as onboarding
// would register it.
type Client struct {
	ID          string
	Secret      string
	CallbackURL string
	PublicKey   *rsa.PublicKey // checks QR and PKI_SIGN signatures, encrypts person data
	Attributes  []string       // what the consent releases; the person call may ask for a subset
}

// Options configure a Sandbox. Zero values take the defaults shown.
type Options struct {
	Prefix        string // path prefix it is mounted under, e.g. "/sandbox"
	PublicURL     string // absolute URL of the prefix, as the kiosk and a phone reach it
	Client        Client
	Key           *rsa.PrivateKey   // the NDI signing key; generated when nil
	Cert          *x509.Certificate // its certificate; made when nil
	Now           func() time.Time  // time.Now
	HTTPClient    *http.Client      // for callbacks; 10 s timeout
	Logger        *slog.Logger      // slog.Default()
	JWEAlg        string            // RSA-OAEP
	JWEEnc        string            // A256GCM
	QuotedJWS     bool              // wrap the inner JWS in a JSON string, as production is thought to
	SlowDelay     time.Duration     // 20 s
	CodeLifetime  time.Duration     // 2 min
	TokenLifetime time.Duration     // 30 min
	ClockSkew     time.Duration     // accepted PKI_SIGN timestamp drift; 2 min
	Face          FaceClient        // the Face service's registered client; DefaultFaceClient
	// FAPI registers a Myinfo client with the FAPI 2.0 side (under
	// Prefix+"/fapi"); Client may then be left empty.
	FAPI *FAPIClient
	// FAPIASNonce makes PAR and token demand an authorisation-server DPoP
	// nonce (RFC 9449 §8), as Singpass may; the resource server always
	// demands one.
	FAPIASNonce bool
	// Sign registers a relying party with the Sign V3 side (under
	// Prefix+"/sign"); Client may then be left empty.
	Sign *SignClient
}

// Sandbox is the Singpass side. Mount it with mux.Handle(prefix+"/", sb).
type Sandbox struct {
	opt      Options
	mux      *http.ServeMux
	wrongKey *rsa.PrivateKey // signs what the bad-* faults send

	mu      sync.Mutex
	shown   string               // newest QR URL on the kiosk screen
	nonces  map[string]time.Time // QR nonces already scanned, until their expiry
	pkiSeen map[string]time.Time // PKI_SIGN nonces already used
	tickets map[string]ticket    // scanned QRs awaiting consent
	codes   map[string]*grant    // authorisation codes
	tokens  map[string]*grant    // access token jti → grant
	face    faceState
	fapi    fapiState
	sign    signState
}

// ticket is a scanned code awaiting the phone's consent: a Verify QR, or a
// FAPI pushed authorisation request.
type ticket struct {
	qr      verify.QR
	par     *par
	expires time.Time
}

type grant struct {
	persona Persona
	scope   []string
	state   string
	fault   string
	expires time.Time
	used    bool
}

// New returns a sandbox for one registered client.
func New(opt Options) (*Sandbox, error) {
	if err := opt.check(); err != nil {
		return nil, err
	}
	opt.defaults()
	var err error
	if opt.Key == nil {
		if opt.Key, err = pki.NewKey(); err != nil {
			return nil, err
		}
	}
	if opt.Cert == nil {
		if opt.Cert, err = pki.SelfSigned(opt.Key, "ndikiosk sandbox NDI", opt.Now(), 365*24*time.Hour); err != nil {
			return nil, err
		}
	}
	wrong, err := pki.NewKey()
	if err != nil {
		return nil, err
	}
	s := &Sandbox{opt: opt, mux: http.NewServeMux(), wrongKey: wrong,
		nonces: map[string]time.Time{}, pkiSeen: map[string]time.Time{}, tickets: map[string]ticket{},
		codes: map[string]*grant{}, tokens: map[string]*grant{},
		face: faceState{tokens: map[string]time.Time{}, sessions: map[string]*faceSession{}}}
	p := opt.Prefix
	s.mux.HandleFunc("GET "+p+"/{$}", s.phonePage)
	s.mux.HandleFunc("GET "+p+"/sgverify", s.landing)
	s.mux.HandleFunc("POST "+p+"/consent", s.consent)
	s.mux.HandleFunc("POST "+p+"/scan", s.scanAPI)
	s.mux.HandleFunc("POST "+p+"/token", s.token)
	s.mux.HandleFunc("GET "+p+"/person/{sub}", s.person)
	s.mountFace()
	if opt.FAPI != nil {
		if err := s.mountFAPI(); err != nil {
			return nil, err
		}
	}
	if opt.Sign != nil {
		if err := s.mountSign(); err != nil {
			return nil, err
		}
	}
	s.mux.HandleFunc("GET "+p+"/cert.pem", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-pem-file")
		w.Write(pki.CertPEM(s.opt.Cert))
	})
	return s, nil
}

func (s *Sandbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if r.Method == http.MethodPost && !sameOrigin(r) {
		// A page elsewhere must not make a visitor's browser scan or
		// consent on this kiosk.
		http.Error(w, "cross-origin request refused", http.StatusForbidden)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// sameOrigin reports whether a browser's request came from a page of this
// server: its Origin (sent with every cross-site POST) names the host the
// request was sent to, and that host is an address or localhost, not a
// name that someone's DNS could point at this machine (DNS rebinding).
// Requests without an Origin are not a browser's cross-site form.
func sameOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host != r.Host {
		return false
	}
	host := u.Hostname()
	return host == "localhost" || net.ParseIP(host) != nil
}

// Certificate is the NDI certificate relying parties verify with.
func (s *Sandbox) Certificate() *x509.Certificate { return s.opt.Cert }

// QRBaseURL is what the kiosk's QR codes must point at instead of Singpass.
func (s *Sandbox) QRBaseURL() string { return s.opt.PublicURL + "/sgverify" }

// TokenURL is the token endpoint.
func (s *Sandbox) TokenURL() string { return s.opt.PublicURL + "/token" }

// PersonURL is the person endpoint, without the /{sub}.
func (s *Sandbox) PersonURL() string { return s.opt.PublicURL + "/person" }

// PhoneURL is the phone page.
func (s *Sandbox) PhoneURL() string { return s.opt.PublicURL + "/" }

// Show tells the sandbox which QR the kiosk screen displays now, so that
// Scan and the phone page can "point the camera" at it.
func (s *Sandbox) Show(qrURL string) {
	s.mu.Lock()
	s.shown = qrURL
	s.mu.Unlock()
}

// Persona finds a persona by id on today's list.
func (s *Sandbox) Persona(id string) (Persona, bool) {
	for _, p := range Personas(s.opt.Now()) {
		if p.ID == id {
			return p, true
		}
	}
	return Persona{}, false
}

// PersonaByLabel finds the first persona with the label the phone page
// shows (e.g. "Turns 18 today") on the list for now.
func PersonaByLabel(label string, now time.Time) (Persona, bool) {
	for _, p := range Personas(now) {
		if p.Label == label {
			return p, true
		}
	}
	return Persona{}, false
}

// ScanResult says what a scan led to.
type ScanResult struct {
	State    string `json:"state"`
	Decision string `json:"decision"`
	// CallbackURL is the URL the sandbox called, code included: test data,
	// shown so that integrators can replay it with `ndikiosk exchange`.
	CallbackURL    string `json:"callback_url"`
	CallbackStatus int    `json:"callback_status,omitempty"`
	CallbackBody   string `json:"callback_body,omitempty"`
	CallbackError  string `json:"callback_error,omitempty"`
}

// Scan plays the phone: it scans the QR on the kiosk screen (the newest one
// passed to Show), takes the persona's consent decision ("allow" or "deny")
// and calls the kiosk back. fault may name one of Faults.
func (s *Sandbox) Scan(ctx context.Context, personaID, decision, fault string) (ScanResult, error) {
	s.mu.Lock()
	shown := s.shown
	s.mu.Unlock()
	if shown == "" {
		return ScanResult{}, errors.New("no QR code is on the kiosk screen yet")
	}
	return s.ScanURL(ctx, shown, personaID, decision, fault)
}

// ScanURL is Scan for a given QR URL, for a kiosk whose screen the sandbox
// cannot see (the standalone sandbox).
func (s *Sandbox) ScanURL(ctx context.Context, qrURL, personaID, decision, fault string) (ScanResult, error) {
	if s.opt.FAPI != nil && strings.HasPrefix(qrURL, s.issuer()+"/auth?") {
		p, err := s.acceptAuthURL(qrURL)
		if err != nil {
			return ScanResult{}, err
		}
		redirect, err := s.decideFAPI(p, personaID, decision, fault)
		if err != nil {
			return ScanResult{}, err
		}
		res := ScanResult{State: p.state, Decision: decision, CallbackURL: redirect}
		s.call(ctx, &res, fault)
		return res, nil
	}
	if s.opt.Client.ID == "" {
		return ScanResult{}, fmt.Errorf("%w: it is not a Singpass authorisation URL of this sandbox (%s/auth)", verify.ErrBadQR, s.issuer())
	}
	q, err := s.acceptQR(qrURL)
	if err != nil {
		return ScanResult{}, err
	}
	return s.decide(ctx, q, personaID, decision, fault)
}

// acceptQR is what Singpass does when the app scans a code: the signature
// with the registered certificate, the client and callback registration, the
// validity window and, for dynamic codes, the nonce's single use.
func (s *Sandbox) acceptQR(qrURL string) (verify.QR, error) {
	base, _, err := verify.SignatureBase(qrURL)
	if err != nil {
		return verify.QR{}, err
	}
	if !strings.HasPrefix(base, s.QRBaseURL()+"?") {
		return verify.QR{}, fmt.Errorf("%w: it does not point at this sandbox (%s)", verify.ErrBadQR, s.QRBaseURL())
	}
	q, err := verify.ParseQR(qrURL, s.opt.Client.PublicKey)
	if err != nil {
		return verify.QR{}, err
	}
	now := s.opt.Now()
	switch {
	case q.ClientID != s.opt.Client.ID:
		return verify.QR{}, fmt.Errorf("%w: client_id is not registered", verify.ErrBadQR)
	case q.Callback != s.opt.Client.CallbackURL:
		return verify.QR{}, fmt.Errorf("%w: callback is not the registered callback URL", verify.ErrBadQR)
	case now.Add(s.opt.ClockSkew).Before(q.Start):
		return verify.QR{}, fmt.Errorf("%w: not valid yet; check the kiosk clock", verify.ErrBadQR)
	case !now.Before(q.Expiry):
		return verify.QR{}, fmt.Errorf("%w: expired", verify.ErrBadQR)
	}
	if q.Type == verify.Dynamic {
		s.mu.Lock()
		defer s.mu.Unlock()
		prune(s.nonces, now, at)
		if _, used := s.nonces[q.Nonce]; used {
			return verify.QR{}, fmt.Errorf("%w: this dynamic code was already scanned", verify.ErrBadQR)
		}
		s.nonces[q.Nonce] = q.Expiry
	}
	return q, nil
}

// decide issues a code (allow) or an error (deny, unavailable) and calls the
// relying party's callback URL with it, as Singpass does after consent.
func (s *Sandbox) decide(ctx context.Context, q verify.QR, personaID, decision, fault string) (ScanResult, error) {
	if fault != FaultNone && !validFault(fault) {
		return ScanResult{}, fmt.Errorf("unknown fault %q", fault)
	}
	res := ScanResult{State: q.State, Decision: decision}
	var query string
	switch {
	case decision == "deny":
		query = "error=access_denied&error_description=Resource+owner+did+not+consent&state=" + q.State
	case decision != "allow":
		return ScanResult{}, fmt.Errorf("decision must be allow or deny, not %q", decision)
	case fault == FaultUnavailable:
		query = "error=503&error_description=Service+under+maintenance&state=" + q.State
	default:
		p, fault, err := s.consenting(personaID, fault)
		if err != nil {
			return ScanResult{}, err
		}
		code := randomToken(24)
		s.mu.Lock()
		prune(s.codes, s.opt.Now(), grantExpiry)
		s.codes[code] = &grant{persona: p, scope: s.opt.Client.Attributes, state: q.State, fault: fault,
			expires: s.opt.Now().Add(s.opt.CodeLifetime)}
		s.mu.Unlock()
		query = "code=" + code + "&state=" + q.State
	}
	sep := "?"
	if strings.Contains(s.opt.Client.CallbackURL, "?") {
		sep = "&"
	}
	res.CallbackURL = s.opt.Client.CallbackURL + sep + query
	s.call(ctx, &res, fault)
	return res, nil
}

// call requests res.CallbackURL (Verify's callback, or the redirect a
// phone's browser follows after FAPI consent) and notes the answer.
func (s *Sandbox) call(ctx context.Context, res *ScanResult, fault string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, res.CallbackURL, nil)
	if err != nil {
		res.CallbackError = err.Error()
		return
	}
	resp, err := s.opt.HTTPClient.Do(req)
	if err != nil {
		res.CallbackError = unwrapURLError(err).Error()
		s.opt.Logger.Warn("sandbox callback failed", "error", res.CallbackError)
		return
	}
	defer resp.Body.Close()
	body := make([]byte, 4096)
	n, _ := io.ReadFull(resp.Body, body)
	res.CallbackStatus, res.CallbackBody = resp.StatusCode, pageText(string(body[:n]))
	s.opt.Logger.Info("sandbox callback", "decision", res.Decision, "fault", fault, "status", resp.StatusCode)
}

// consenting is the persona who allowed, with the fault the grant plays:
// the scan's, else the persona's own, else a 404 for a person without a
// Myinfo profile.
func (s *Sandbox) consenting(personaID, fault string) (Persona, string, error) {
	p, ok := s.Persona(personaID)
	if !ok {
		return Persona{}, "", fmt.Errorf("no persona %q", personaID)
	}
	if fault == FaultNone {
		fault = p.Fault
	}
	if p.NoProfile && fault == FaultNone {
		fault = FaultPerson404
	}
	return p, fault, nil
}

func validFault(f string) bool {
	for _, x := range Faults {
		if x == f {
			return true
		}
	}
	return false
}

// prune drops entries that expired before now, so the maps stay as small as
// the live traffic.
func prune[T any](m map[string]T, now time.Time, expiry func(T) time.Time) {
	for k, v := range m {
		if now.After(expiry(v)) {
			delete(m, k)
		}
	}
}

func at(t time.Time) time.Time        { return t }
func grantExpiry(g *grant) time.Time  { return g.expires }
func ticketExpiry(t ticket) time.Time { return t.expires }

var (
	styleOrScript = regexp.MustCompile(`(?is)<(style|script|title)\b.*?</(style|script|title)>`)
	htmlTag       = regexp.MustCompile(`<[^>]*>`)
)

// pageText is what a phone shows of the kiosk's answer: its text, without
// markup, as one line.
func pageText(s string) string {
	s = styleOrScript.ReplaceAllString(s, " ")
	s = html.UnescapeString(htmlTag.ReplaceAllString(s, " "))
	return strings.Join(strings.Fields(s), " ")
}

// SetSlowDelay changes how long the "slow" fault holds its answers, for
// demonstrations and tests of a Singpass that hangs. Call it before the
// sandbox serves.
func (s *Sandbox) SetSlowDelay(d time.Duration) { s.opt.SlowDelay = d }

// check refuses options a sandbox cannot serve with.
func (opt *Options) check() error {
	c := opt.Client
	if (c.ID == "" || c.Secret == "" || c.CallbackURL == "" || c.PublicKey == nil) && (opt.onlyVerify() || c.ID != "" || c.CallbackURL != "") {
		return errors.New("sandbox: the client needs an id, a secret, a callback URL and a public key")
	}
	if f := opt.FAPI; f != nil {
		if f.ID == "" || f.RedirectURI == "" || f.JWKSURL == "" {
			return errors.New("sandbox: the FAPI client needs an id, a redirect URI and a JWKS URL")
		}
		for _, sc := range f.Scopes {
			if sc != "user.identity" && (!ndi.KnownAttribute(sc) || sc == "partialuinfin") {
				return fmt.Errorf("sandbox: %q is not a Myinfo data item or Singpass Login scope", sc)
			}
		}
	}
	if err := opt.Sign.check(); err != nil {
		return err
	}
	if opt.PublicURL == "" {
		return errors.New("sandbox: PublicURL is required")
	}
	for _, a := range c.Attributes {
		if !ndi.KnownAttribute(a) {
			return fmt.Errorf("sandbox: %q is not a Verify attribute", a)
		}
	}
	return nil
}

// onlyVerify reports whether Verify is the only side registered.
func (opt *Options) onlyVerify() bool { return opt.FAPI == nil && opt.Sign == nil }

// defaults fills what the options left out.
func (opt *Options) defaults() {
	opt.PublicURL = strings.TrimRight(opt.PublicURL, "/")
	opt.Prefix = strings.TrimRight(opt.Prefix, "/")
	if len(opt.Client.Attributes) == 0 && opt.Client.ID != "" {
		opt.Client.Attributes = ndi.Attributes
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.HTTPClient == nil {
		opt.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	for _, x := range []struct {
		d *time.Duration
		v time.Duration
	}{{&opt.SlowDelay, 20 * time.Second}, {&opt.CodeLifetime, 2 * time.Minute},
		{&opt.TokenLifetime, 30 * time.Minute}, {&opt.ClockSkew, 2 * time.Minute}} {
		if *x.d == 0 {
			*x.d = x.v
		}
	}
	if opt.Face == (FaceClient{}) {
		opt.Face = DefaultFaceClient
	}
	if opt.JWEAlg == "" {
		opt.JWEAlg = jose.RSAOAEP
	}
	if opt.JWEEnc == "" {
		opt.JWEEnc = jose.A256GCM
	}
}
