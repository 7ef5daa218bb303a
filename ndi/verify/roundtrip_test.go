package verify_test

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"ndikiosk/internal/testclock"
	"ndikiosk/ndi"
	"ndikiosk/ndi/jose"
	"ndikiosk/ndi/pki"
	"ndikiosk/ndi/sandbox"
	"ndikiosk/ndi/verify"
)

var (
	keysOnce              sync.Once
	kioskKey, ndiKey, bad *rsa.PrivateKey
)

func keys() {
	keysOnce.Do(func() {
		for _, k := range []**rsa.PrivateKey{&kioskKey, &ndiKey, &bad} {
			var err error
			if *k, err = pki.NewKey(); err != nil {
				panic(err)
			}
		}
	})
}

type fixture struct {
	sb        *sandbox.Sandbox
	client    *verify.Client
	clock     *testclock.Clock
	callbacks chan url.Values
	base      string
}

const attrs = "partialuinfin,uinfin,name,dob,mobileno"

// newFixture serves the sandbox and a callback endpoint on one loopback
// server, like the kiosk does in sandbox mode.
func newFixture(t testing.TB, tweak func(*sandbox.Options, *verify.Config)) *fixture {
	keys()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	f := &fixture{clock: testclock.New(time.Now()), callbacks: make(chan url.Values, 8), base: base}
	opt := sandbox.Options{
		Prefix:    "/sandbox",
		PublicURL: base + "/sandbox",
		Key:       ndiKey,
		Now:       f.clock.Now,
		SlowDelay: 3 * time.Second,
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		Client: sandbox.Client{ID: "STG2-SGVERIFY-TEST", Secret: "s3cret", CallbackURL: base + "/callback",
			PublicKey: &kioskKey.PublicKey, Attributes: strings.Split(attrs, ",")},
	}
	cfg := verify.Config{
		ClientID: "STG2-SGVERIFY-TEST", ClientSecret: "s3cret", CallbackURL: base + "/callback",
		TokenURL: base + "/sandbox/token", PersonURL: base + "/sandbox/person", QRBaseURL: base + "/sandbox/sgverify",
		Attributes: strings.Split(attrs, ","), Key: kioskKey, NDIKey: &ndiKey.PublicKey, Now: f.clock.Now,
	}
	if tweak != nil {
		tweak(&opt, &cfg)
	}
	if f.sb, err = sandbox.New(opt); err != nil {
		t.Fatal(err)
	}
	if f.client, err = verify.New(cfg); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/sandbox/", f.sb)
	mux.HandleFunc("GET /callback", func(w http.ResponseWriter, r *http.Request) {
		f.callbacks <- r.URL.Query()
		io.WriteString(w, "Thank you - please look at the kiosk screen")
	})
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: mux}}
	srv.Start()
	t.Cleanup(srv.Close)
	return f
}

// scan shows a fresh QR on the "screen" and lets the persona answer it.
func (f *fixture) scan(t testing.TB, persona, decision, fault string) (ndi.Callback, error) {
	t.Helper()
	u, _, err := f.client.NewQR("kiosk1-"+ndi.NewNonce()[:12], 2*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	f.sb.Show(u)
	res, err := f.sb.Scan(context.Background(), persona, decision, fault)
	if err != nil {
		t.Fatalf("scan: %v", err)
	}
	if res.CallbackStatus != 200 {
		t.Fatalf("callback answered %d", res.CallbackStatus)
	}
	q := <-f.callbacks
	return ndi.ParseCallback(q)
}

func persona(t testing.TB, label string) sandbox.Persona {
	p, ok := sandbox.PersonaByLabel(label, time.Now())
	if !ok {
		t.Fatalf("no persona %q", label)
	}
	return p
}

func TestRoundTrip(t *testing.T) {
	variants := map[string]func(*sandbox.Options, *verify.Config){
		"RSA-OAEP A256GCM raw JWS": nil,
		"RSA-OAEP-256 A128CBC-HS256 quoted": func(o *sandbox.Options, _ *verify.Config) {
			o.JWEAlg, o.JWEEnc, o.QuotedJWS = jose.RSAOAEP256, jose.A128CBCHS256, true
		},
	}
	for name, tweak := range variants {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, tweak)
			adult := persona(t, "Comma and percent in name")
			cb, err := f.scan(t, adult.ID, "allow", "")
			if err != nil {
				t.Fatal(err)
			}
			p, err := f.client.Exchange(context.Background(), cb)
			if err != nil {
				t.Fatal(err)
			}
			if p.Name.String() != adult.Name || string(p.DOB.Value) != adult.DOB || string(p.UINFIN.Value) != adult.ID {
				t.Fatalf("person %+v", p)
			}
			if p.MaskedID() != "*****"+adult.ID[5:] || p.MobileNo.Present() {
				t.Fatalf("masked %q mobile %q", p.MaskedID(), p.MobileNo.String())
			}
		})
	}
}

func TestScriptsAndNamesSurvive(t *testing.T) {
	f := newFixture(t, nil)
	for _, label := range []string{"Chinese script name", "Tamil script name", "Very long name"} {
		want := persona(t, label)
		cb, err := f.scan(t, want.ID, "allow", "")
		if err != nil {
			t.Fatal(err)
		}
		p, err := f.client.Exchange(context.Background(), cb)
		if err != nil {
			t.Fatal(err)
		}
		if p.Name.String() != want.Name {
			t.Errorf("%s: name %q, want %q", label, p.Name.String(), want.Name)
		}
	}
}

func TestFaults(t *testing.T) {
	cases := []struct {
		fault string
		want  []error
	}{
		{sandbox.FaultToken500, []error{ndi.ErrServer}},
		{sandbox.FaultPerson500, []error{ndi.ErrServer}},
		{sandbox.FaultPerson404, []error{ndi.ErrNoProfile}},
		{sandbox.FaultBadSignature, []error{ndi.ErrBadResponse, jose.ErrSignature}},
		{sandbox.FaultGarbledJWE, []error{ndi.ErrBadResponse, jose.ErrDecrypt}},
		{sandbox.FaultBadToken, []error{ndi.ErrBadToken, jose.ErrSignature}},
		{sandbox.FaultExpiredToken, []error{ndi.ErrBadToken}},
	}
	f := newFixture(t, nil)
	adult := persona(t, "Adult citizen")
	for _, c := range cases {
		t.Run(c.fault, func(t *testing.T) {
			cb, err := f.scan(t, adult.ID, "allow", c.fault)
			if err != nil {
				t.Fatal(err)
			}
			_, err = f.client.Exchange(context.Background(), cb)
			for _, w := range c.want {
				if !errors.Is(err, w) {
					t.Errorf("want %v in the chain, got %v", w, err)
				}
			}
			assertNoSecrets(t, err, adult.ID, cb.Code)
		})
	}
}

func TestNoProfilePersona(t *testing.T) {
	f := newFixture(t, nil)
	cb, err := f.scan(t, persona(t, "Singpass user without a Myinfo profile").ID, "allow", "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.client.Exchange(context.Background(), cb)
	var apiErr *ndi.APIError
	if !errors.Is(err, ndi.ErrNoProfile) || !errors.As(err, &apiErr) || apiErr.Status != 404 || apiErr.API != "person" {
		t.Fatalf("got %v", err)
	}
}

func TestSlowServerHitsDeadline(t *testing.T) {
	f := newFixture(t, nil)
	cb, err := f.scan(t, persona(t, "Adult citizen").ID, "allow", sandbox.FaultSlow)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err = f.client.Exchange(ctx, cb)
	if !errors.Is(err, ndi.ErrUnavailable) || !ndi.Unavailable(err) {
		t.Fatalf("want ErrUnavailable, got %v", err)
	}
	if strings.Contains(err.Error(), "http://") {
		t.Fatalf("error names a URL: %v", err)
	}
}

func TestDenyAndMaintenance(t *testing.T) {
	f := newFixture(t, nil)
	id := persona(t, "Adult citizen").ID
	_, err := f.scan(t, id, "deny", "")
	var pe *ndi.ProviderError
	if !errors.As(err, &pe) || !pe.Denied() || ndi.Unavailable(err) {
		t.Fatalf("deny: %v", err)
	}
	_, err = f.scan(t, id, "allow", sandbox.FaultUnavailable)
	if !errors.As(err, &pe) || !ndi.Unavailable(err) {
		t.Fatalf("maintenance: %v", err)
	}
}

func TestCodeIsSingleUse(t *testing.T) {
	f := newFixture(t, nil)
	cb, err := f.scan(t, persona(t, "Adult citizen").ID, "allow", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.client.Token(context.Background(), cb.Code, cb.State); err != nil {
		t.Fatal(err)
	}
	_, err = f.client.Token(context.Background(), cb.Code, cb.State)
	if !errors.Is(err, ndi.ErrCodeRejected) {
		t.Fatalf("reused code: want ErrCodeRejected, got %v", err)
	}
	assertNoSecrets(t, err, "", cb.Code)
	// A code that expired before use.
	cb, _ = f.scan(t, persona(t, "Adult citizen").ID, "allow", "")
	f.clock.Add(3 * time.Minute)
	if _, err := f.client.Token(context.Background(), cb.Code, cb.State); !errors.Is(err, ndi.ErrCodeRejected) {
		t.Fatalf("expired code: want ErrCodeRejected, got %v", err)
	}
	// A code for another state.
	cb, _ = f.scan(t, persona(t, "Adult citizen").ID, "allow", "")
	if _, err := f.client.Token(context.Background(), cb.Code, "another-state"); !errors.Is(err, ndi.ErrCodeRejected) {
		t.Fatalf("state mismatch: want ErrCodeRejected, got %v", err)
	}
}

func TestQRIsSingleUseAndExpires(t *testing.T) {
	f := newFixture(t, nil)
	id := persona(t, "Adult citizen").ID
	u, _, _ := f.client.NewQR("kiosk1-a", 2*time.Minute)
	f.sb.Show(u)
	if _, err := f.sb.Scan(context.Background(), id, "allow", ""); err != nil {
		t.Fatal(err)
	}
	<-f.callbacks
	if _, err := f.sb.Scan(context.Background(), id, "allow", ""); !errors.Is(err, verify.ErrBadQR) {
		t.Fatalf("second scan of a dynamic code: want ErrBadQR, got %v", err)
	}
	u, _, _ = f.client.NewQR("kiosk1-b", time.Minute)
	f.sb.Show(u)
	f.clock.Add(61 * time.Second)
	if _, err := f.sb.Scan(context.Background(), id, "allow", ""); !errors.Is(err, verify.ErrBadQR) {
		t.Fatalf("expired code: want ErrBadQR, got %v", err)
	}
	// The phone's landing page refuses a replayed URL too.
	u, _, _ = f.client.NewQR("kiosk1-c", time.Minute)
	landing := f.base + "/sandbox/sgverify?" + strings.SplitN(u, "?", 2)[1]
	for i, want := range []int{200, 400} {
		resp, err := http.Get(landing)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("landing visit %d: status %d, want %d", i+1, resp.StatusCode, want)
		}
	}
}

func TestWrongKeysRejected(t *testing.T) {
	// The kiosk signs with a key the sandbox did not register.
	f := newFixture(t, func(_ *sandbox.Options, c *verify.Config) { c.Key = bad })
	u, _, _ := f.client.NewQR("kiosk1-x", time.Minute)
	f.sb.Show(u)
	if _, err := f.sb.Scan(context.Background(), persona(t, "Adult citizen").ID, "allow", ""); !errors.Is(err, verify.ErrBadQR) {
		t.Fatalf("QR signed by an unregistered key: want ErrBadQR, got %v", err)
	}
	if _, err := f.client.Token(context.Background(), "whatever", "kiosk1-x"); !errors.Is(err, ndi.ErrUnauthorised) {
		t.Fatalf("token signed by an unregistered key: want ErrUnauthorised, got %v", err)
	}
	// The kiosk trusts a certificate that is not the NDI one.
	f = newFixture(t, func(_ *sandbox.Options, c *verify.Config) { c.NDIKey = &bad.PublicKey })
	cb, err := f.scan(t, persona(t, "Adult citizen").ID, "allow", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.client.Exchange(context.Background(), cb); !errors.Is(err, ndi.ErrBadToken) {
		t.Fatalf("token from an untrusted key: want ErrBadToken, got %v", err)
	}
}

func TestWrongSecretAndUnregisteredAttributes(t *testing.T) {
	f := newFixture(t, func(_ *sandbox.Options, c *verify.Config) { c.ClientSecret = "guess" })
	cb, _ := f.scan(t, persona(t, "Adult citizen").ID, "allow", "")
	if _, err := f.client.Exchange(context.Background(), cb); !errors.Is(err, ndi.ErrUnauthorised) {
		t.Fatalf("wrong secret: want ErrUnauthorised, got %v", err)
	}
	f = newFixture(t, func(_ *sandbox.Options, c *verify.Config) { c.Attributes = []string{"dob", "regadd"} })
	cb, _ = f.scan(t, persona(t, "Adult citizen").ID, "allow", "")
	if _, err := f.client.Exchange(context.Background(), cb); !errors.Is(err, ndi.ErrForbidden) {
		t.Fatalf("unregistered attribute: want ErrForbidden, got %v", err)
	}
}

func TestPKINonceReplayAndSkew(t *testing.T) {
	f := newFixture(t, nil)
	cb, _ := f.scan(t, persona(t, "Adult citizen").ID, "allow", "")
	form := map[string]string{"grant_type": "authorization_code", "code": cb.Code, "redirect_uri": f.base + "/callback",
		"client_id": "STG2-SGVERIFY-TEST", "client_secret": "s3cret", "state": cb.State}
	auth, err := verify.SignPKI(kioskKey, "STG2-SGVERIFY-TEST", "POST", f.base+"/sandbox/token", form, f.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	send := func(auth string) int {
		body := url.Values{}
		for k, v := range form {
			body.Set(k, v)
		}
		req, _ := http.NewRequest("POST", f.base+"/sandbox/token", strings.NewReader(body.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", auth)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := send(auth); got != 200 {
		t.Fatalf("first request: %d", got)
	}
	if got := send(auth); got != 401 {
		t.Fatalf("replayed PKI_SIGN nonce: %d, want 401", got)
	}
	skewed, _ := verify.SignPKI(kioskKey, "STG2-SGVERIFY-TEST", "POST", f.base+"/sandbox/token", form, f.clock.Now().Add(-10*time.Minute))
	if got := send(skewed); got != 401 {
		t.Fatalf("skewed timestamp: %d, want 401", got)
	}
	if got := send("Bearer x"); got != 401 {
		t.Fatalf("wrong scheme: %d, want 401", got)
	}
}

func TestPersonOfAnotherSubjectRefused(t *testing.T) {
	f := newFixture(t, nil)
	cb, _ := f.scan(t, persona(t, "Adult citizen").ID, "allow", "")
	tok, err := f.client.Token(context.Background(), cb.Code, cb.State)
	if err != nil {
		t.Fatal(err)
	}
	other := persona(t, "Adult permanent resident").ID
	params := map[string]string{"client_id": "STG2-SGVERIFY-TEST", "attributes": "dob"}
	endpoint := f.base + "/sandbox/person/" + other
	auth, _ := verify.SignPKI(kioskKey, "STG2-SGVERIFY-TEST", "GET", endpoint, params, f.clock.Now())
	req, _ := http.NewRequest("GET", endpoint+"?client_id=STG2-SGVERIFY-TEST&attributes=dob", nil)
	req.Header.Set("Authorization", auth+",Bearer "+accessToken(t, tok))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Fatalf("person of another subject: %d, want 401", resp.StatusCode)
	}
}

// accessToken pulls the raw token out through the only door it has: the
// Authorization header the client would send.
func accessToken(t *testing.T, tok *verify.Token) string {
	var got string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, got, _ = verify.ParseAuthorization(r.Header.Get("Authorization"))
		w.WriteHeader(500)
	}))
	defer srv.Close()
	keys()
	c, err := verify.New(verify.Config{ClientID: "x", ClientSecret: "y", CallbackURL: srv.URL + "/cb", TokenURL: srv.URL + "/t",
		PersonURL: srv.URL + "/p", Attributes: []string{"dob"}, Key: kioskKey, NDIKey: &ndiKey.PublicKey})
	if err != nil {
		t.Fatal(err)
	}
	c.Person(context.Background(), tok, "")
	return got
}

func TestTokenNeverPrints(t *testing.T) {
	f := newFixture(t, nil)
	id := persona(t, "Adult citizen").ID
	cb, _ := f.scan(t, id, "allow", "")
	tok, err := f.client.Token(context.Background(), cb.Code, cb.State)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{fmt.Sprint(tok), fmt.Sprintf("%+v", tok), fmt.Sprintf("%#v", tok)} {
		if strings.Contains(s, id) || strings.Contains(s, "eyJ") {
			t.Fatalf("token printed its contents: %s", s)
		}
	}
}

func assertNoSecrets(t *testing.T, err error, secrets ...string) {
	t.Helper()
	if err == nil {
		t.Fatal("expected an error")
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(err.Error(), s) {
			t.Fatalf("error text contains a secret or personal id: %v", err)
		}
	}
}

// BenchmarkExchange measures one token + person exchange against the
// sandbox on loopback: both sides' signing, encryption and checks.
func BenchmarkExchange(b *testing.B) {
	f := newFixture(b, nil)
	id := persona(b, "Adult citizen").ID
	for b.Loop() {
		b.StopTimer()
		cb, err := f.scan(b, id, "allow", "")
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if _, err := f.client.Exchange(context.Background(), cb); err != nil {
			b.Fatal(err)
		}
	}
}
