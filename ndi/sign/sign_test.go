package sign_test

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smallstep/pkcs7"

	"ndikiosk/ndi"
	"ndikiosk/ndi/fapi"
	"ndikiosk/ndi/jose"
	"ndikiosk/ndi/pki"
	"ndikiosk/ndi/sandbox"
	"ndikiosk/ndi/sign"
	"ndikiosk/ndi/sign/pdf"
)

// rig is a relying party (JWKS, webhook, redirect page) and the sandbox's
// Sign side on one loopback server.
type rig struct {
	sb       *sandbox.Sandbox
	srv      *httptest.Server
	c        *sign.Client
	key      fapi.Key
	notes    chan sign.Notification
	mu       sync.Mutex
	webhooks [][]byte // raw webhook bodies, as delivered
}

// shared is key material every rig reuses: RSA keys take a while to make.
var shared struct {
	once   sync.Once
	ndiKey *rsa.PrivateKey
	caKey  *rsa.PrivateKey
	ca     *x509.Certificate
}

// persona signs: a name in Chinese script, through the PDF and the
// certificate.
var persona = func() string {
	p, _ := sandbox.PersonaByLabel("Chinese script name", time.Now())
	return p.ID
}()

func newRig(t testing.TB, webhook bool, opts ...func(*sandbox.SignClient)) *rig {
	t.Helper()
	r := &rig{notes: make(chan sign.Notification, 4)}
	mux := http.NewServeMux()
	r.srv = httptest.NewServer(mux)
	t.Cleanup(r.srv.Close)
	var err error
	if r.key, err = fapi.NewKey(); err != nil {
		t.Fatal(err)
	}
	shared.once.Do(func() {
		var err error
		if shared.ndiKey, err = pki.NewKey(); err == nil {
			shared.caKey, shared.ca, err = sandbox.NewSignCA(time.Now())
		}
		if err != nil {
			panic(err)
		}
	})
	client := &sandbox.SignClient{ID: "kiosk-sign", JWKSURL: r.srv.URL + "/rp/jwks", RedirectURI: r.srv.URL + "/rp/return",
		CAKey: shared.caKey, CACert: shared.ca}
	if webhook {
		client.WebhookURL = r.srv.URL + "/rp/webhook"
	}
	for _, o := range opts {
		o(client)
	}
	r.sb, err = sandbox.New(sandbox.Options{Prefix: "/sandbox", PublicURL: r.srv.URL + "/sandbox", Sign: client, Key: shared.ndiKey,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	r.c = r.client(t, time.Now)
	mux.Handle("/sandbox/", r.sb)
	mux.HandleFunc("GET /rp/jwks", func(w http.ResponseWriter, _ *http.Request) {
		b, _ := r.c.JWKS()
		w.Write(b)
	})
	mux.HandleFunc("POST /rp/webhook", func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.webhooks = append(r.webhooks, body)
		r.mu.Unlock()
		req.Body = io.NopCloser(bytes.NewReader(body))
		r.c.WebhookHandler(func(n sign.Notification) { r.notes <- n }).ServeHTTP(w, req)
	})
	return r
}

func (r *rig) client(t testing.TB, now func() time.Time) *sign.Client {
	roots := x509.NewCertPool()
	roots.AddCert(r.sb.SignRoot())
	c, err := sign.New(sign.Config{BaseURL: r.sb.SignBaseURL(), ClientID: "kiosk-sign", Key: r.key,
		JWKSURL: r.sb.SignJWKSURL(), Roots: roots, TSARoots: roots, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var ctx = context.Background()

func agreement() []byte { return pdf.Sample(2, 30_000) }

func (r *rig) request(t testing.TB, doc []byte) sign.Request {
	t.Helper()
	req, err := r.c.Request(ctx, doc, "Visitor agreement", sign.Place{Page: 2, X: 0.1, Y: 0.2})
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func TestSignWithWebhookEndToEnd(t *testing.T) {
	r := newRig(t, true)
	doc := agreement()
	req := r.request(t, doc)
	if !strings.HasPrefix(req.ID, "signv3-") || !sign.UUID(req.ExchangeCode) || !strings.HasPrefix(req.SigningURL, r.srv.URL) {
		t.Fatalf("request %+v", req)
	}
	out, err := r.sb.SignAs(ctx, req.ID, persona, "sign", "")
	if err != nil {
		t.Fatal(err)
	}
	if out.WebhookStatus != 200 {
		t.Fatalf("webhook answered %d (%s)", out.WebhookStatus, out.WebhookError)
	}
	u, _ := url.Parse(out.RedirectURL)
	if id, ok, err := sign.Redirect(u.Query()); id != req.ID || !ok || err != nil {
		t.Fatalf("redirect %s: %q %v %v", out.RedirectURL, id, ok, err)
	}
	for _, q := range []string{"", "request_id=a", "request_id=a&status=done", "request_id=a&request_id=b&status=success",
		"status=success"} {
		v, _ := url.ParseQuery(q)
		if _, _, err := sign.Redirect(v); !errors.Is(err, sign.ErrBadInput) {
			t.Errorf("redirect ?%s: %v", q, err)
		}
	}
	n := <-r.notes
	if n.RequestID != req.ID {
		t.Fatalf("webhook for %q, want %q", n.RequestID, req.ID)
	}
	signed, err := r.c.Download(ctx, n.SignedDocURL)
	if err != nil {
		t.Fatal(err)
	}
	v, err := r.c.Verify(signed, doc)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := r.sb.Persona(persona)
	if v.Signer.Subject.CommonName != p.Name || len(v.Chain) != 2 || !v.Chain[1].Equal(r.sb.SignRoot()) {
		t.Fatalf("signer %q, chain of %d", v.Signer.Subject.CommonName, len(v.Chain))
	}
	if !v.TimestampTrusted || time.Since(v.Timestamp) > time.Minute || time.Since(v.Timestamp) < -time.Second {
		t.Fatalf("signature timestamp %v, trusted %v", v.Timestamp, v.TimestampTrusted)
	}
	// The poll answers too, with the signer.
	res, err := r.c.Result(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if res.Signer == nil || res.Signer.PartialUINFIN != persona[5:] || res.Signer.Name != p.Name {
		t.Fatalf("signer info %+v", res.Signer)
	}
	// A request is signed once.
	if _, err := r.sb.SignAs(ctx, req.ID, persona, "sign", ""); err == nil {
		t.Fatal("signed the same request twice")
	}
	// Sign retries a webhook; the second delivery is refused as a replay
	// but answered 200 so that Sign stops.
	r.mu.Lock()
	body := r.webhooks[0]
	r.mu.Unlock()
	if _, err := r.c.Webhook(ctx, body); !errors.Is(err, sign.ErrWebhookReplayed) {
		t.Fatalf("replayed webhook: %v", err)
	}
	resp, err := http.Post(r.srv.URL+"/rp/webhook", "application/json", bytes.NewReader(body))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("replayed webhook POST: %v %v", resp.StatusCode, err)
	}
	if len(r.notes) != 0 {
		t.Fatal("a replayed webhook was delivered again")
	}
}

func TestPollingWithoutWebhook(t *testing.T) {
	r := newRig(t, true)
	doc := agreement()
	req := r.request(t, doc)
	if _, err := r.c.Result(ctx, req); !errors.Is(err, sign.ErrNotSigned) {
		t.Fatalf("before signing: %v", err)
	}
	out, err := r.sb.SignAs(ctx, req.ID, persona, "sign", sandbox.SignFaultNoWebhook)
	if err != nil || out.Webhook {
		t.Fatalf("no-webhook fault: %+v, %v", out, err)
	}
	res, err := r.c.Result(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	signed, err := r.c.Download(ctx, res.SignedDocURL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.c.Verify(signed, doc); err != nil {
		t.Fatal(err)
	}
	if len(r.notes) != 0 {
		t.Fatal("a webhook came with the no-webhook fault")
	}
	// The exchange code is what proves the caller; another request's is refused.
	other := r.request(t, doc)
	if _, err := r.c.Result(ctx, sign.Request{ID: req.ID, ExchangeCode: other.ExchangeCode}); !errors.Is(err, ndi.ErrUnauthorised) {
		t.Fatalf("wrong exchange code: %v", err)
	}
}

func TestDeclinedAndExpired(t *testing.T) {
	r := newRig(t, true)
	req := r.request(t, agreement())
	out, err := r.sb.SignAs(ctx, req.ID, persona, "decline", "")
	if err != nil {
		t.Fatal(err)
	}
	if u, _ := url.Parse(out.RedirectURL); u.Query().Get("status") != "cancelled" || out.Webhook {
		t.Fatalf("decline: %+v", out)
	}
	if _, err := r.c.Result(ctx, req); !errors.Is(err, sign.ErrCancelled) {
		t.Fatalf("declined: %v", err)
	}
	req = r.request(t, agreement())
	if _, err := r.sb.SignAs(ctx, req.ID, persona, "sign", sandbox.SignFaultExpired); err == nil {
		t.Fatal("signed an expired request")
	}
	if _, err := r.c.Result(ctx, req); !errors.Is(err, sign.ErrExpired) {
		t.Fatalf("expired: %v", err)
	}
}

func TestSignedPDFFaultsAreRejected(t *testing.T) {
	r := newRig(t, false)
	doc := agreement()
	for fault, want := range map[string]error{
		sandbox.SignFaultTampered:      sign.ErrTampered,
		sandbox.SignFaultWrongSigner:   sign.ErrUntrustedSigner,
		sandbox.SignFaultOtherDocument: sign.ErrNotOriginal,
		sandbox.SignFaultBadTimestamp:  sign.ErrTampered,
	} {
		req := r.request(t, doc)
		if _, err := r.sb.SignAs(ctx, req.ID, persona, "sign", fault); err != nil {
			t.Fatal(err)
		}
		res, err := r.c.Result(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		signed, err := r.c.Download(ctx, res.SignedDocURL)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.c.Verify(signed, doc); !errors.Is(err, want) || !errors.Is(err, sign.ErrVerify) {
			t.Errorf("%s: %v, want %v", fault, err, want)
		}
	}
}

func TestVerifyRefusesEditedFiles(t *testing.T) {
	r := newRig(t, false)
	doc := agreement()
	signed := r.signed(t, doc)
	changed := bytes.Replace(doc, []byte("page 1 of 2"), []byte("page 1 of 3"), 1)
	s, err := pdf.LastSignature(signed)
	if err != nil {
		t.Fatal(err)
	}
	flipped := append([]byte(nil), signed...)
	p7, err := pkcs7.Parse(s.Contents)
	if err != nil {
		t.Fatal(err)
	}
	value := bytes.Index(s.Contents, p7.Signers[0].EncryptedDigest) // the signer's RSA signature value
	at := s.ByteRange[1] + 1 + 2*int64(value+10)
	flipped[at] = map[bool]byte{true: '1', false: '0'}[flipped[at] == '0']
	cases := map[string]struct {
		signed, original []byte
		want             error
	}{
		"appended after signing":  {append(append([]byte(nil), signed...), "\n% more\n"...), doc, sign.ErrCoverage},
		"unsigned":                {doc, doc, sign.ErrNoSignature},
		"another original":        {signed, changed, sign.ErrNotOriginal},
		"a truncated original":    {signed, doc[:len(doc)-200], sign.ErrNotOriginal},
		"a longer original":       {signed, append(append([]byte(nil), doc...), "% x\n"...), sign.ErrNotOriginal},
		"empty original":          {signed, nil, sign.ErrNotOriginal},
		"signature value flipped": {flipped, doc, sign.ErrTampered},
		"not a PDF":               {[]byte("hello"), doc, sign.ErrNoSignature},
	}
	for name, c := range cases {
		if _, err := r.c.Verify(c.signed, c.original); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", name, err, c.want)
		}
	}
	// The same file verifies against the sandbox root only.
	if _, err := sign.VerifyPDF(signed, doc, sign.VerifyOptions{Roots: x509.NewCertPool()}); !errors.Is(err, sign.ErrUntrustedSigner) {
		t.Errorf("empty root pool: %v", err)
	}
}

func (r *rig) signed(t testing.TB, doc []byte) []byte {
	t.Helper()
	req := r.request(t, doc)
	if _, err := r.sb.SignAs(ctx, req.ID, persona, "sign", ""); err != nil {
		t.Fatal(err)
	}
	res, err := r.c.Result(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	signed, err := r.c.Download(ctx, res.SignedDocURL)
	if err != nil {
		t.Fatal(err)
	}
	return signed
}

func TestCancel(t *testing.T) {
	r := newRig(t, false)
	req := r.request(t, agreement())
	if err := r.c.Cancel(ctx, req.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := r.c.Result(ctx, req); !errors.Is(err, sign.ErrCancelled) {
		t.Fatalf("after cancel: %v", err)
	}
	if err := r.c.Cancel(ctx, req.ID); !errors.Is(err, sign.ErrCannotCancel) {
		t.Fatalf("cancelled twice: %v", err)
	}
	if _, err := r.sb.SignAs(ctx, req.ID, persona, "sign", ""); err == nil {
		t.Fatal("signed a cancelled request")
	}
	// Once the visitor has opened the signing page, the request stays.
	req = r.request(t, agreement())
	resp, err := http.Get(req.SigningURL)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("signing page: %v", err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Contains(page, []byte("Visitor agreement")) {
		t.Fatalf("the signing page does not name the document:\n%s", page)
	}
	if err := r.c.Cancel(ctx, req.ID); !errors.Is(err, sign.ErrCannotCancel) {
		t.Fatalf("cancel during a session: %v", err)
	}
}

func TestSigningPageSignsLikeAPhone(t *testing.T) {
	r := newRig(t, true)
	doc := agreement()
	req := r.request(t, doc)
	resp, err := http.PostForm(req.SigningURL, url.Values{"persona": {persona}, "decision": {"sign"}})
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Contains(page, []byte("status=success")) {
		t.Fatalf("HTTP %d:\n%s", resp.StatusCode, page)
	}
	n := <-r.notes
	signed, err := r.c.Download(ctx, n.SignedDocURL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.c.Verify(signed, doc); err != nil {
		t.Fatal(err)
	}
	// The link is gone after two minutes.
	late := r.client(t, func() time.Time { return time.Now().Add(3 * time.Minute) })
	r.mu.Lock()
	body := r.webhooks[0]
	r.mu.Unlock()
	if _, err := late.Webhook(ctx, body); !errors.Is(err, sign.ErrWebhookExpired) {
		t.Fatalf("a webhook three minutes late: %v", err)
	}
}

func TestWebhookRefusesForgeries(t *testing.T) {
	r := newRig(t, true)
	stranger, _ := fapi.NewKey()
	claims := func(exp time.Duration) map[string]any {
		now := time.Now()
		return map[string]any{"request_type": "signed_doc_url", "signed_doc_url": r.srv.URL + "/x", "request_id": "signv3-1",
			"iat": now.Unix(), "exp": now.Add(exp).Unix()}
	}
	es := func(cl map[string]any, k fapi.Key, kid string) string {
		b, err := jose.SignES256JSON(cl, k.Private, jose.Header{Typ: "JWT", Kid: kid})
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	b64 := base64.RawURLEncoding.EncodeToString
	none := b64([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + b64([]byte(`{"request_type":"signed_doc_url"}`)) + "."
	hs := b64([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + b64([]byte(`{"request_type":"signed_doc_url"}`)) + ".c2ln"
	cases := map[string]struct {
		body string
		want error
	}{
		"alg none":      {`{"token":"` + none + `"}`, sign.ErrWebhookAlg},
		"alg HS256":     {`{"token":"` + hs + `"}`, sign.ErrWebhookAlg},
		"unknown kid":   {`{"token":"` + es(claims(time.Minute), stranger, stranger.Kid) + `"}`, sign.ErrWebhookKey},
		"no body":       {``, sign.ErrWebhookClaims},
		"not JSON":      {`token=abc`, sign.ErrWebhookClaims},
		"garbage token": {`{"token":"a.b.c"}`, sign.ErrWebhookAlg},
	}
	for name, c := range cases {
		if _, err := r.c.Webhook(ctx, []byte(c.body)); !errors.Is(err, c.want) || !errors.Is(err, sign.ErrWebhook) {
			t.Errorf("%s: %v, want %v", name, err, c.want)
		}
	}
	// A stranger's key under the sandbox's kid fails the signature.
	keys, _ := http.Get(r.sb.SignJWKSURL())
	set, _ := io.ReadAll(keys.Body)
	keys.Body.Close()
	jwks, _ := jose.ParseJWKS(set)
	forged := es(claims(time.Minute), stranger, jwks[0].Kid)
	if _, err := r.c.Webhook(ctx, []byte(`{"token":"`+forged+`"}`)); !errors.Is(err, sign.ErrWebhookKey) {
		t.Errorf("forged under Sign's kid: %v", err)
	}
	// The handler answers 400 to all of them.
	resp, err := http.Post(r.srv.URL+"/rp/webhook", "application/json", strings.NewReader(`{"token":"`+forged+`"}`))
	if err != nil || resp.StatusCode != 400 {
		t.Errorf("handler: %v, %v", resp.StatusCode, err)
	}
}

func TestClientRefusesBadInput(t *testing.T) {
	r := newRig(t, false)
	doc := agreement()
	bad := []struct {
		name string
		doc  []byte
		doc_ string
		at   sign.Place
	}{
		{"page 0", doc, "A", sign.Place{Page: 0}},
		{"x 1", doc, "A", sign.Place{Page: 1, X: 1}},
		{"y negative", doc, "A", sign.Place{Page: 1, Y: -0.5}},
		{"five decimals", doc, "A", sign.Place{Page: 1, X: 0.12345}},
		{"not a PDF", []byte("hello"), "A", sign.Place{Page: 1}},
		{"empty name", doc, " ", sign.Place{Page: 1}},
		{"10 MB", append([]byte("%PDF-"), make([]byte, sign.MaxPDF)...), "A", sign.Place{Page: 1}},
	}
	for _, c := range bad {
		if _, err := r.c.Request(ctx, c.doc, c.doc_, c.at); !errors.Is(err, sign.ErrBadInput) {
			t.Errorf("%s: %v", c.name, err)
		}
	}
	// The sandbox refuses what the client cannot catch: a page the
	// document does not have, a PDF it cannot read.
	if _, err := r.c.Request(ctx, doc, "A", sign.Place{Page: 3}); !errors.Is(err, sign.ErrBadInput) {
		t.Errorf("page 3 of 2: %v", err)
	}
	if _, err := r.c.Request(ctx, []byte("%PDF-1.7 but nothing else"), "A", sign.Place{Page: 1}); !errors.Is(err, sign.ErrBadInput) {
		t.Errorf("broken PDF: %v", err)
	}
	for _, cfg := range []sign.Config{
		{BaseURL: "http://sign.example/api/v3", ClientID: "a", Key: r.key, Roots: x509.NewCertPool()},
		{BaseURL: sign.Staging, Key: r.key, Roots: x509.NewCertPool()},
		{BaseURL: sign.Staging, ClientID: "a", Roots: x509.NewCertPool()},
		{BaseURL: sign.Staging, ClientID: "a", Key: r.key},
	} {
		if _, err := sign.New(cfg); err == nil {
			t.Errorf("config %+v accepted", cfg.BaseURL)
		}
	}
	lan := sign.Config{BaseURL: "http://192.168.1.20:8080/sandbox/sign/api/v3", ClientID: "a", Key: r.key, Roots: x509.NewCertPool(), PlainHTTP: true}
	if _, err := sign.New(lan); err != nil {
		t.Errorf("a LAN sandbox with PlainHTTP: %v", err)
	}
	lan.BaseURL = "ftp://192.168.1.20/x"
	if _, err := sign.New(lan); err == nil {
		t.Error("ftp accepted")
	}
}

// The signing page refuses what a phone should not be able to do.
func TestSigningPageRefusesBadForms(t *testing.T) {
	r := newRig(t, true)
	req := r.request(t, agreement())
	for name, form := range map[string]url.Values{
		"unknown persona":  {"persona": {"S0000000A"}, "decision": {"sign"}},
		"unknown fault":    {"persona": {persona}, "decision": {"sign"}, "fault": {"explode"}},
		"unknown decision": {"persona": {persona}, "decision": {"maybe"}},
	} {
		resp, err := http.PostForm(req.SigningURL, form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Errorf("%s: HTTP %d", name, resp.StatusCode)
		}
	}
	if resp, err := http.Get(strings.TrimSuffix(r.sb.SignBaseURL(), "/api/v3") + "/portal/signv3-nope"); err != nil || resp.StatusCode != 400 {
		t.Errorf("unknown request's page: %v", resp.StatusCode)
	}
	// None of that used the request up: it still signs.
	if _, err := r.sb.SignAs(ctx, req.ID, persona, "sign", ""); err != nil {
		t.Fatal(err)
	}
	if len(r.notes) != 1 {
		t.Fatalf("%d webhooks", len(r.notes))
	}
}

// The sandbox checks every call as Sign does: content type, the RP's
// JWT (key, lifetime, single-use jti), size.
func TestSandboxChecksCalls(t *testing.T) {
	r := newRig(t, false)
	doc := agreement()
	tok := func(k fapi.Key, iat time.Time, jti string) string {
		b, _ := jose.SignES256JSON(map[string]any{"client_id": "kiosk-sign", "doc_name": "A", "page": 1, "x": 0.1, "y": 0.1,
			"jti": jti, "iat": iat.Unix(), "exp": iat.Add(2 * time.Minute).Unix()}, k.Private, jose.Header{Kid: k.Kid})
		return string(b)
	}
	post := func(auth, ctype string, body []byte) int {
		req, _ := http.NewRequest("POST", r.sb.SignBaseURL()+"/sign-requests", bytes.NewReader(body))
		req.Header.Set("Authorization", auth)
		req.Header.Set("Content-Type", ctype)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	stranger, _ := fapi.NewKey()
	now := time.Now()
	jti := "6f1c3b0e-2a4d-4c6e-8f00-112233445566"
	if s := post(tok(r.key, now, jti), "application/octet-stream", doc); s != 200 {
		t.Fatalf("a good call: HTTP %d", s)
	}
	cases := map[string]struct {
		auth, ctype string
		body        []byte
		want        int
	}{
		"jti replayed":   {tok(r.key, now, jti), "application/octet-stream", doc, 401},
		"jti not a UUID": {tok(r.key, now, "abc"), "application/octet-stream", doc, 401},
		"stale":          {tok(r.key, now.Add(-3*time.Minute), "6f1c3b0e-2a4d-4c6e-8f00-000000000001"), "application/octet-stream", doc, 401},
		"stranger's key": {tok(stranger, now, "6f1c3b0e-2a4d-4c6e-8f00-000000000002"), "application/octet-stream", doc, 401},
		"no token":       {"", "application/octet-stream", doc, 401},
		"multipart":      {tok(r.key, now, "6f1c3b0e-2a4d-4c6e-8f00-000000000003"), "multipart/form-data", doc, 415},
		"10 MB":          {tok(r.key, now, "6f1c3b0e-2a4d-4c6e-8f00-000000000004"), "application/octet-stream", append(doc, make([]byte, sign.MaxPDF)...), 413},
	}
	for name, c := range cases {
		if s := post(c.auth, c.ctype, c.body); s != c.want {
			t.Errorf("%s: HTTP %d, want %d", name, s, c.want)
		}
	}
}

// A sandbox given the same CA again still vouches for what it signed
// before; another sandbox's root does not.
func TestSandboxCAAcrossRestarts(t *testing.T) {
	key, cert, err := sandbox.NewSignCA(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	withCA := func(c *sandbox.SignClient) { c.CAKey, c.CACert = key, cert }
	doc := agreement()
	signed := newRig(t, false, withCA).signed(t, doc)
	if _, err := newRig(t, false, withCA).c.Verify(signed, doc); err != nil {
		t.Fatalf("same CA after a restart: %v", err)
	}
	otherKey, other, err := sandbox.NewSignCA(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	withOther := func(c *sandbox.SignClient) { c.CAKey, c.CACert = otherKey, other }
	if _, err := newRig(t, false, withOther).c.Verify(signed, doc); !errors.Is(err, sign.ErrUntrustedSigner) {
		t.Fatalf("a fresh CA: %v", err)
	}
	for _, c := range []sandbox.SignClient{
		{ID: "a", JWKSURL: "x", RedirectURI: "y", CAKey: key},
		{JWKSURL: "x", RedirectURI: "y"},
		{ID: "a", RedirectURI: "y"},
		{ID: "a", JWKSURL: "x"},
	} {
		if _, err := sandbox.New(sandbox.Options{PublicURL: "http://127.0.0.1:1", Sign: &c}); err == nil {
			t.Errorf("Sign client %+v accepted", c)
		}
	}
}

// While Sign's JWKS cannot be fetched, the handler asks Sign to retry
// (503) instead of refusing the webhook for good.
func TestWebhookWhileSignJWKSIsDown(t *testing.T) {
	r := newRig(t, false)
	roots := x509.NewCertPool()
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	c, err := sign.New(sign.Config{BaseURL: r.sb.SignBaseURL(), ClientID: "kiosk-sign", Key: r.key, JWKSURL: down.URL, Roots: roots})
	if err != nil {
		t.Fatal(err)
	}
	tok, _ := jose.SignES256JSON(map[string]any{"request_type": "signed_doc_url", "signed_doc_url": "https://x", "request_id": "signv3-1",
		"iat": time.Now().Unix(), "exp": time.Now().Add(time.Minute).Unix()}, r.key.Private, jose.Header{Kid: "k"})
	rec := httptest.NewRecorder()
	c.WebhookHandler(func(sign.Notification) { t.Error("delivered") }).ServeHTTP(rec,
		httptest.NewRequest("POST", "/webhook", strings.NewReader(`{"token":"`+string(tok)+`"}`)))
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("HTTP %d, want 503", rec.Code)
	}
}

// Validation data appended after the signature (a /DSS revision, as PAdES
// B-LT adds) is accepted; the same revision changing a page is not.
func TestValidationDataAfterTheSignature(t *testing.T) {
	r := newRig(t, false)
	doc := agreement()
	req := r.request(t, doc)
	if _, err := r.sb.SignAs(ctx, req.ID, persona, "sign", sandbox.SignFaultValidationData); err != nil {
		t.Fatal(err)
	}
	res, err := r.c.Result(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	signed, err := r.c.Download(ctx, res.SignedDocURL)
	if err != nil {
		t.Fatal(err)
	}
	v, err := r.c.Verify(signed, doc)
	if err != nil || v.LaterRevisions != 1 || v.ByteRange[2]+v.ByteRange[3] >= int64(len(signed)) {
		t.Fatalf("%+v, %v", v.ByteRange, err)
	}
	// The DSS revision's catalog, with one more entry, is refused.
	i := bytes.LastIndex(signed, []byte("/DSS "))
	forged := append(append(append([]byte(nil), signed[:i]...), "/OpenAction [4 0 R /Fit]\n"...), signed[i:]...)
	if _, err := r.c.Verify(forged, doc); !errors.Is(err, sign.ErrCoverage) {
		t.Fatalf("a catalog changed after signing: %v", err)
	}
}

// Taps that race on one request sign it once; a cancel racing them loses
// or wins cleanly.
func TestOneSignatureAtATime(t *testing.T) {
	r := newRig(t, true)
	req := r.request(t, agreement())
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := 0
	for i := 0; i < 6; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := r.sb.SignAs(ctx, req.ID, persona, "sign", ""); err == nil {
				mu.Lock()
				won++
				mu.Unlock()
			}
		}()
	}
	cancelErr := r.c.Cancel(ctx, req.ID)
	wg.Wait()
	if cancelErr == nil && won != 0 || cancelErr != nil && won != 1 {
		t.Fatalf("%d signatures, cancel: %v", won, cancelErr)
	}
	if won == 1 && len(r.notes) != 1 {
		t.Fatalf("%d webhooks for one signature", len(r.notes))
	}
}

// The signature timestamp counts only from a configured TSA; from another
// it is refused; without TSA roots it is read but not relied on.
func TestSignatureTimestampTrust(t *testing.T) {
	r := newRig(t, false)
	doc := agreement()
	signed := r.signed(t, doc)
	roots := x509.NewCertPool()
	roots.AddCert(r.sb.SignRoot())
	v, err := sign.VerifyPDF(signed, doc, sign.VerifyOptions{Roots: roots})
	if err != nil || v.TimestampTrusted || v.Timestamp.IsZero() {
		t.Fatalf("no TSA roots: %v, trusted %v at %v", err, v.TimestampTrusted, v.Timestamp)
	}
	if _, err := sign.VerifyPDF(signed, doc, sign.VerifyOptions{Roots: roots, TSARoots: x509.NewCertPool()}); !errors.Is(err, sign.ErrUntrustedSigner) {
		t.Fatalf("a TSA outside the TSA roots: %v", err)
	}
	v, err = sign.VerifyPDF(signed, doc, sign.VerifyOptions{Roots: roots, TSARoots: roots, Now: time.Now().Add(5 * 365 * 24 * time.Hour)})
	if err != nil || !v.TimestampTrusted {
		t.Fatalf("five years on, dated by the timestamp: %v", err)
	}
}
