package app_test

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/x509"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"ndikiosk/app"
	"ndikiosk/config"
	"ndikiosk/internal/pdfsigtest"
	"ndikiosk/internal/testclock"
	. "ndikiosk/kiosk"
	"ndikiosk/ndi/fapi"
	"ndikiosk/ndi/pki"
	"ndikiosk/ndi/sandbox"
	"ndikiosk/ndi/sign"
	"ndikiosk/ndi/sign/pdf"
	"ndikiosk/storage"
)

// signCA is one sandbox Sign root for every rig: RSA keys take a while.
var signCA struct {
	once sync.Once
	key  *rsa.PrivateKey
	cert *x509.Certificate
	err  error
}

// lockedBuffer collects a kiosk's log.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

type signRig struct {
	*rig
	doc    []byte
	log    *lockedBuffer
	cancel context.CancelFunc
	closed bool
}

// newSignRig runs a visitor kiosk with [sign] on, against the sandbox's
// Sign side on the kiosk's own server, as app.New builds it. The agreement
// is a PDF of size bytes.
func newSignRig(t testing.TB, size int, tweak func(*config.Config), opts ...func(*app.Options)) *signRig {
	t.Helper()
	rigKeysOnce.Do(func() {
		rigKeysDir, rigKeysErr = os.MkdirTemp("", "ndikiosk-rig-keys")
		if rigKeysErr == nil {
			_, rigKeysErr = sandbox.LoadOrCreateKeys(rigKeysDir, time.Now())
		}
	})
	signCA.once.Do(func() { signCA.key, signCA.cert, signCA.err = sandbox.NewSignCA(time.Now()) })
	if rigKeysErr != nil || signCA.err != nil {
		t.Fatal(rigKeysErr, signCA.err)
	}
	r := &signRig{rig: &rig{clock: testclock.New(time.Now()), dataDir: t.TempDir()}, log: &lockedBuffer{}}
	sbDir := filepath.Join(r.dataDir, "sandbox")
	if err := os.CopyFS(sbDir, os.DirFS(rigKeysDir)); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(sbDir, "sign-ca.key"), pki.KeyPEM(signCA.key), 0o600)
	os.WriteFile(filepath.Join(sbDir, "sign-ca.pem"), pki.CertPEM(signCA.cert), 0o600)
	r.doc = pdf.Sample(2, size)
	docPath := filepath.Join(r.dataDir, "agreement.pdf")
	os.WriteFile(docPath, r.doc, 0o600)
	conf := config.SandboxDefaults()
	conf.Kiosk.Listen, conf.Kiosk.DataDir, conf.Kiosk.Mode = "127.0.0.1:0", r.dataDir, ModeVisitor
	conf.Visitor.Hosts, conf.Visitor.Purposes = []string{"Ms Lee (Finance)"}, []string{"Meeting"}
	conf.Sign.Document, conf.Sign.DocName = docPath, "House rules"
	if tweak != nil {
		tweak(conf)
	}
	o := app.Options{Version: "test", Clock: r.clock.Now, Log: slog.New(slog.NewTextHandler(r.log, nil))}
	for _, f := range opts {
		f(&o)
	}
	k, err := app.New(conf, o)
	if err != nil {
		t.Fatal(err)
	}
	r.kiosk, r.engine, r.store, r.identity, r.sb = k, k.Engine, k.Store, k.Identity, k.Identity.Sandbox
	r.base = "http://" + k.Addr()
	var ctx context.Context
	ctx, r.cancel = context.WithCancel(context.Background())
	t.Cleanup(func() { r.close(t) })
	go k.Serve(ctx)
	r.waitQR(t)
	return r
}

func (r *signRig) close(t testing.TB) {
	if r.closed {
		return
	}
	r.closed = true
	r.cancel()
	if err := r.kiosk.Close(); err != nil {
		t.Error(err)
	}
}

// waitFor steps the engine until the screen is in phase.
func (r *signRig) waitFor(t testing.TB, phase Phase) Screen {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		r.engine.Step()
		if s := r.engine.Screen(); s.Phase == phase {
			return s
		}
	}
	t.Fatalf("never reached %v: %+v", phase, r.engine.Screen())
	return Screen{}
}

// toSign scans, confirms, and waits for the sign screen.
func (r *signRig) toSign(t *testing.T) Screen {
	t.Helper()
	if s := r.visit(t, "Adult citizen", "allow", ""); s.Phase != PhaseConfirm {
		t.Fatalf("confirm screen %+v", s)
	}
	if err := r.engine.Confirm("Ms Lee (Finance)", "Meeting"); err != nil {
		t.Fatal(err)
	}
	s := r.waitFor(t, PhaseSign)
	if s.DocName != "House rules" || !strings.HasPrefix(s.SignURL, r.sb.SignBaseURL()[:len(r.base)]) ||
		!s.Until.Equal(r.clock.Now().Add(3*time.Minute)) {
		t.Fatalf("sign screen %+v", s)
	}
	return s
}

// requestID is the sign request behind the QR on the sign screen.
func requestID(s Screen) string { return s.SignURL[strings.LastIndex(s.SignURL, "/")+1:] }

// result moves the clock to the next poll and waits for the result.
func (r *signRig) result(t *testing.T) Screen {
	t.Helper()
	r.clock.Add(2 * time.Second)
	return r.waitFor(t, PhaseResult)
}

func (r *signRig) documents(t *testing.T) [][]byte {
	var docs [][]byte
	if err := r.store.Documents(context.Background(), VisitFilter{}, func(_ int64, d []byte) error {
		docs = append(docs, d)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return docs
}

// The visitor signs on the phone: the kiosk polls, downloads, verifies,
// and only then checks them in, with the signed PDF stored with the visit.
func TestSignedAgreementChecksIn(t *testing.T) {
	r := newSignRig(t, 30_000, nil)
	s := r.toSign(t)
	// Not signed yet: a poll changes nothing.
	r.clock.Add(2 * time.Second)
	r.engine.Step()
	time.Sleep(50 * time.Millisecond)
	if s := r.engine.Screen(); s.Phase != PhaseSign {
		t.Fatalf("before signing: %+v", s)
	}
	if _, err := r.sb.SignAs(context.Background(), requestID(s), personaID(t, "Adult citizen"), "sign", ""); err != nil {
		t.Fatal(err)
	}
	res := r.result(t)
	if res.Outcome != OutcomeCheckedIn || res.Reason != "" || res.Name == "" {
		t.Fatalf("result %+v", res)
	}
	vs := visits(t, r.rig)
	if len(vs) != 1 || vs[0].Outcome != OutcomeCheckedIn || vs[0].Reason != "" || vs[0].Host != "Ms Lee (Finance)" || vs[0].Document != nil {
		t.Fatalf("visits %+v", vs)
	}
	docs := r.documents(t)
	if len(docs) != 1 {
		t.Fatalf("%d documents", len(docs))
	}
	roots := x509.NewCertPool()
	roots.AddCert(r.sb.SignRoot())
	v, err := sign.VerifyPDF(docs[0], r.doc, sign.VerifyOptions{Roots: roots, Now: r.clock.Now()})
	if err != nil || !bytes.HasPrefix(docs[0], r.doc) {
		t.Fatalf("the stored PDF does not verify: %v", err)
	}
	if v.Signer == nil || v.Signer.Subject.CommonName == "" {
		t.Fatalf("signer %v", v.Signer.Subject)
	}
	// poppler, trusting the sandbox's root alone, agrees.
	path := filepath.Join(t.TempDir(), "signed.pdf")
	os.WriteFile(path, docs[0], 0o600)
	if ok, report := pdfsigtest.New(t, r.sb.SignRoot()).Valid(path); !ok {
		t.Fatalf("pdfsig:\n%s", report)
	}
	if strings.Contains(r.log.String(), s.SignURL) || strings.Contains(r.log.String(), requestID(s)[7:]) {
		t.Fatalf("the log names the request:\n%s", r.log.String())
	}
}

// Declined, expired, and every PDF that fails verification end as not
// signed: refused with nothing kept, or (unsigned = "record") checked in
// with the reason and no document.
func TestNotSignedOutcomes(t *testing.T) {
	cases := []struct {
		decision, fault, why, logged string
		signer                       string // the persona who signs; "" the visitor
	}{
		{"decline", "", SignDeclined, "", ""},
		{"sign", "", SignUnverified, "kind=other-signer", "Adult permanent resident"},
		{"sign", sandbox.SignFaultExpired, SignExpired, "", ""},
		{"sign", sandbox.SignFaultTampered, SignUnverified, "kind=tampered", ""},
		{"sign", sandbox.SignFaultWrongSigner, SignUnverified, "kind=untrusted-signer", ""},
		{"sign", sandbox.SignFaultOtherDocument, SignUnverified, "kind=not-original", ""},
	}
	for _, record := range []bool{false, true} {
		for _, c := range cases {
			name := c.why + "-" + c.fault + c.logged + map[bool]string{true: "-record", false: "-refuse"}[record]
			t.Run(name, func(t *testing.T) {
				r := newSignRig(t, 20_000, func(k *config.Config) {
					if record {
						k.Sign.Unsigned = config.UnsignedRecord
					}
				})
				s := r.toSign(t)
				signer := "Adult citizen"
				if c.signer != "" {
					signer = c.signer
				}
				r.sb.SignAs(context.Background(), requestID(s), personaID(t, signer), c.decision, c.fault)
				res := r.result(t)
				if len(r.documents(t)) != 0 {
					t.Fatal("a document was kept")
				}
				if c.logged != "" && !strings.Contains(r.log.String(), c.logged) {
					t.Errorf("the log does not say %q:\n%s", c.logged, r.log.String())
				}
				vs := visits(t, r.rig)
				if !record {
					if res.Outcome != OutcomeNotSigned || res.Reason != c.why || len(vs) != 0 {
						t.Fatalf("refused: result %+v, visits %+v", res, vs)
					}
					return
				}
				if res.Outcome != OutcomeCheckedIn || res.Reason != c.why || len(vs) != 1 || vs[0].Reason != ReasonNotSigned {
					t.Fatalf("recorded: result %+v, visits %+v", res, vs)
				}
			})
		}
	}
}

// cancelledAtSign waits until the sandbox says the request is cancelled.
func cancelledAtSign(t *testing.T, r *signRig, id string) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		// "look" is no decision: the sandbox says why without changing
		// the request.
		_, err := r.sb.SignAs(context.Background(), id, personaID(t, "Adult citizen"), "look", "")
		if err != nil && strings.Contains(err.Error(), "cancelled") {
			return
		}
	}
	t.Fatal("the request was never cancelled at Sign")
}

// The sign screen's timeout and the visitor's Cancel withdraw the request
// at Sign and keep nothing.
func TestSignTimeoutAndCancel(t *testing.T) {
	r := newSignRig(t, 20_000, nil)
	s := r.toSign(t)
	r.clock.Add(3 * time.Minute)
	res := r.waitFor(t, PhaseResult)
	if res.Outcome != OutcomeNotSigned || res.Reason != SignTimedOut {
		t.Fatalf("after the timeout %+v", res)
	}
	cancelledAtSign(t, r, requestID(s))
	r.clock.Add(time.Minute)
	r.waitQR(t)
	s = r.toSign(t)
	r.engine.Cancel()
	if res := r.engine.Screen(); res.Phase != PhaseResult || res.Outcome != OutcomeNotSigned || res.Reason != SignCancelled {
		t.Fatalf("after Cancel %+v", res)
	}
	cancelledAtSign(t, r, requestID(s))
	if vs := visits(t, r.rig); len(vs) != 0 {
		t.Fatalf("visits %+v", vs)
	}
}

// deadSign is the kiosk's Sign client pointed at a port where nothing
// listens: a real connection refused.
func deadSign(t *testing.T) func(*app.Options) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	key, _ := fapi.NewKey()
	dead, err := sign.New(sign.Config{BaseURL: "http://" + addr + "/sign/api/v3", ClientID: "x", Key: key,
		JWKSURL: "http://" + addr + "/keys", Roots: x509.NewCertPool(), HTTPClient: &http.Client{Timeout: 2 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	return func(o *app.Options) {
		o.WrapSigner = func(s Signer) Signer { return deadRequest{Signer: s, dead: dead} }
	}
}

type deadRequest struct {
	Signer
	dead *sign.Client
}

func (d deadRequest) Request(ctx context.Context, doc []byte, name string, at sign.Place) (sign.Request, error) {
	return d.dead.Request(ctx, doc, name, at)
}

// Sign unreachable when the visitor confirms: not signed, with the
// unavailable reason, under either rule.
func TestSignDownAtRequest(t *testing.T) {
	for _, record := range []bool{false, true} {
		r := newSignRig(t, 20_000, func(k *config.Config) {
			if record {
				k.Sign.Unsigned = config.UnsignedRecord
			}
		}, deadSign(t))
		r.visit(t, "Adult citizen", "allow", "")
		if err := r.engine.Confirm("Ms Lee (Finance)", "Meeting"); err != nil {
			t.Fatal(err)
		}
		res := r.waitFor(t, PhaseResult)
		vs := visits(t, r.rig)
		switch {
		case res.Reason != SignUnavailable:
			t.Fatalf("result %+v", res)
		case !record && (res.Outcome != OutcomeNotSigned || len(vs) != 0):
			t.Fatalf("refuse: %+v %+v", res, vs)
		case record && (res.Outcome != OutcomeCheckedIn || len(vs) != 1 || vs[0].Reason != ReasonNotSigned):
			t.Fatalf("record: %+v %+v", res, vs)
		}
		if !strings.Contains(r.log.String(), "kind=unreachable") {
			t.Fatalf("log:\n%s", r.log.String())
		}
	}
}

// A kiosk that stops while the visitor is signing records nothing and
// logs nothing of Sign, even with the signed document waiting.
func TestSignKioskClosedMidWait(t *testing.T) {
	r := newSignRig(t, 20_000, nil)
	s := r.toSign(t)
	if _, err := r.sb.SignAs(context.Background(), requestID(s), personaID(t, "Adult citizen"), "sign", ""); err != nil {
		t.Fatal(err)
	}
	before := len(r.log.String())
	r.clock.Add(2 * time.Second)
	r.engine.Step() // the poll starts
	r.close(t)
	if after := r.log.String()[before:]; strings.Contains(after, "sign") || strings.Contains(after, "visit") {
		t.Fatalf("logged while stopping:\n%s", after)
	}
	db, err := storage.Open(r.dataDir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	vs, err := db.Visits(context.Background(), VisitFilter{})
	if err != nil || len(vs) != 0 {
		t.Fatalf("visits %+v %v", vs, err)
	}
}

// The return page thanks the visitor and decides nothing; a bad query is
// refused.
func TestSignReturnPage(t *testing.T) {
	r := newSignRig(t, 10_000, nil)
	for q, want := range map[string]int{"?request_id=abc&status=success": 200, "?request_id=abc&status=cancelled": 200,
		"?status=success": 400, "?request_id=abc&status=maybe": 400, "?request_id=a&request_id=b&status=success": 400} {
		resp, err := http.Get(r.base + app.SignReturnPath + q)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want || !bytes.Contains(body, []byte("kiosk screen")) {
			t.Errorf("%s: %d %s", q, resp.StatusCode, body)
		}
	}
	resp, err := http.Get(r.base + "/sign/jwks")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Contains(body, []byte(`"P-256"`)) || bytes.Contains(body, []byte(`"d"`)) {
		t.Fatalf("jwks %d %s", resp.StatusCode, body)
	}
}

// The sandbox's Sign root is kept in the data folder (0600) and reused at
// the next start, so documents signed before a restart still verify.
func TestSandboxSignRootKept(t *testing.T) {
	r := newSignRig(t, 10_000, nil)
	for _, f := range []string{"sign-ca.key", "sign-ca.pem"} {
		st, err := os.Stat(filepath.Join(r.dataDir, "sandbox", f))
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v %v", f, st, err)
		}
	}
	if !r.sb.SignRoot().Equal(signCA.cert) {
		t.Fatal("the sandbox made a new root instead of the one in the data folder")
	}
}

// BenchmarkSignRequestToQR is the time from the visitor's confirmation
// to the sign screen (its QR) with a 200 kB agreement, against the
// sandbox over loopback.
func BenchmarkSignRequestToQR(b *testing.B) {
	r := newSignRig(b, 200_000, nil)
	p, _ := sandbox.PersonaByLabel("Adult citizen", time.Now())
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		r.engine.Cancel()
		r.clock.Add(time.Minute)
		r.waitQR(b)
		if _, err := r.sb.ScanURL(context.Background(), r.engine.Screen().QR, p.ID, "allow", ""); err != nil {
			b.Fatal(err)
		}
		for r.engine.Screen().Phase != PhaseConfirm {
			time.Sleep(time.Millisecond)
		}
		b.StartTimer()
		if err := r.engine.Confirm("Ms Lee (Finance)", "Meeting"); err != nil {
			b.Fatal(err)
		}
		for r.engine.Screen().Phase != PhaseSign {
			time.Sleep(100 * time.Microsecond)
		}
	}
}

// heldRequest holds the kiosk's Request until released, and records the
// id Sign gave it.
type heldRequest struct {
	Signer
	release chan struct{}
	ids     chan string
}

func (h heldRequest) Request(ctx context.Context, doc []byte, name string, at sign.Place) (sign.Request, error) {
	<-h.release
	req, err := h.Signer.Request(ctx, doc, name, at)
	h.ids <- req.ID
	return req, err
}

// A visitor who cancels while the agreement is on its way to Sign leaves
// no open request behind: the one that comes back is withdrawn.
func TestSignCancelledWhileRequesting(t *testing.T) {
	held := heldRequest{release: make(chan struct{}), ids: make(chan string, 1)}
	r := newSignRig(t, 20_000, nil, func(o *app.Options) {
		o.WrapSigner = func(s Signer) Signer { held.Signer = s; return held }
	})
	r.visit(t, "Adult citizen", "allow", "")
	if err := r.engine.Confirm("Ms Lee (Finance)", "Meeting"); err != nil {
		t.Fatal(err)
	}
	if s := r.engine.Screen(); s.Phase != PhaseChecking {
		t.Fatalf("while requesting: %+v", s)
	}
	r.engine.Cancel()
	close(held.release)
	id := <-held.ids
	cancelledAtSign(t, r, id)
	if s := r.waitQR(t); s.Phase != PhaseQR {
		t.Fatalf("after cancel: %+v", s)
	}
	if vs := visits(t, r.rig); len(vs) != 0 {
		t.Fatalf("visits %+v", vs)
	}
}

// A notification that the request was signed (a hub's webhook) has the
// engine fetch the result at once, without waiting for the next poll; one
// for another request changes nothing.
func TestSignNotifiedFetchesAtOnce(t *testing.T) {
	r := newSignRig(t, 20_000, nil)
	s := r.toSign(t)
	if _, err := r.sb.SignAs(context.Background(), requestID(s), personaID(t, "Adult citizen"), "sign", ""); err != nil {
		t.Fatal(err)
	}
	if r.engine.SignNotified("signv3-00000000-0000-4000-8000-000000000000") {
		t.Fatal("the engine took a notification for another request")
	}
	if !r.engine.SignNotified(requestID(s)) {
		t.Fatal("the engine did not take the notification for its request")
	}
	// The test clock has not moved: only the notification can have
	// brought the poll forward.
	if res := r.waitFor(t, PhaseResult); res.Outcome != OutcomeCheckedIn {
		t.Fatalf("result %+v", res)
	}
	if r.engine.SignNotified(requestID(s)) {
		t.Fatal("a notification after the visit ended was taken")
	}
}
