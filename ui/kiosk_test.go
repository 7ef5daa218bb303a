package ui

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
	qrcode "github.com/skip2/go-qrcode"

	"ndikiosk/kiosk"
	"ndikiosk/ndi"
	"ndikiosk/ndi/pki"
	"ndikiosk/ndi/verify"
)

// fakeProvider answers at once from a table keyed by code; the protocol
// itself is tested in ndi and kiosk, this test is about the screens.
type fakeProvider struct {
	mu      sync.Mutex
	release chan struct{}
}

func (f *fakeProvider) NewCode(_ context.Context, state string, lifetime time.Duration) (kiosk.Code, error) {
	now := time.Now()
	return kiosk.Code{URL: "https://app.singpass.gov.sg/sgverify?state=" + state + "&v=2", Start: now,
		Expiry: now.Add(lifetime), AcceptUntil: now.Add(lifetime)}, nil
}

func (f *fakeProvider) Remote() bool { return false }

func (f *fakeProvider) Exchange(ctx context.Context, cb ndi.Callback) (*ndi.Person, error) {
	if f.release != nil {
		select {
		case <-f.release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	switch cb.Code {
	case "adult":
		return &ndi.Person{DOB: ndi.Item{Value: "1980-01-01"}, PartialUINFIN: ndi.Item{Value: "*****123A"}}, nil
	case "minor":
		return &ndi.Person{DOB: ndi.Item{Value: ndi.Text(time.Now().AddDate(-16, 0, 0).Format("2006-01-02"))}}, nil
	case "down":
		return nil, ndi.ErrUnavailable
	case "visitor":
		p := &ndi.Person{Name: ndi.Item{Value: "TAN AH KOW"}, PartialUINFIN: ndi.Item{Value: "*****567D"},
			MobileNo: ndi.Phone{AreaCode: ndi.Item{Value: "65"}, Number: ndi.Item{Value: "91234567"}}}
		p.SetSubject("S1234567D")
		return p, nil
	}
	return nil, errors.New("unexpected code")
}

func setup(t *testing.T, p *fakeProvider) (*Kiosk, *kiosk.Engine, fyne.Window) {
	return setupWith(t, p, kiosk.EngineConfig{KioskID: "k1", MinAge: 21, Contact: "the front desk", Alternative: "Please approach the counter."})
}

func setupWith(t *testing.T, p *fakeProvider, cfg kiosk.EngineConfig) (*Kiosk, *kiosk.Engine, fyne.Window) {
	a := test.NewTempApp(t)
	w := test.NewTempWindow(t, nil)
	w.Resize(fyne.NewSize(1280, 800))
	e := kiosk.NewEngine(cfg,
		p, &memStore{}, nil, quiet(), nil)
	k := New(a, w, e, Options{Venue: "Test Venue", Windowed: true})
	t.Cleanup(k.Stop)
	e.Step()
	return k, e, w
}

func state(t *testing.T, e *kiosk.Engine) string {
	u, err := url.Parse(e.Screen().QR)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("state")
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatal("condition never met")
}

func TestQRScreen(t *testing.T) {
	k, e, _ := setup(t, &fakeProvider{})
	if !k.qrScreen.Visible() || k.checking.Visible() || k.result.Visible() {
		t.Fatal("the QR screen is not the only one shown")
	}
	if k.venue.Text != "Test Venue" || k.qrCaption.Text != "Scan with Singpass app" {
		t.Fatalf("venue %q caption %q", k.venue.Text, k.qrCaption.Text)
	}
	b := k.qrImage.Image.Bounds()
	if b.Dx() < 29 || b.Dx() != b.Dy() {
		t.Fatalf("QR image %v is not a QR code", b)
	}
	if k.countdown.Value < 0.9 {
		t.Fatalf("a fresh code shows %.2f of its time left", k.countdown.Value)
	}
	if k.qrShown != e.Screen().QR {
		t.Fatal("the image is not of the current code")
	}
}

func TestAgeVisitScreens(t *testing.T) {
	p := &fakeProvider{release: make(chan struct{})}
	k, e, _ := setup(t, p)
	if v := e.Callback(url.Values{"code": {"adult"}, "state": {state(t, e)}}); v.Status != 200 {
		t.Fatalf("callback: %+v", v)
	}
	if !k.checking.Visible() || k.qrScreen.Visible() {
		t.Fatal("the checking screen is not shown while Singpass answers")
	}
	close(p.release)
	waitFor(t, func() bool { return e.Screen().Phase == kiosk.PhaseResult })
	if !k.result.Visible() || k.resultTitle.Text != "21+ verified" || k.resultBand.FillColor != colorGreen {
		t.Fatalf("result %q", k.resultTitle.Text)
	}
	if strings.Contains(k.resultDetail.Text, "1980") {
		t.Fatal("the date of birth is on screen")
	}
	e.Cancel()
	if e.Callback(url.Values{"code": {"minor"}, "state": {state(t, e)}}).Status != 200 {
		t.Fatal("second callback refused")
	}
	waitFor(t, func() bool { return e.Screen().Phase == kiosk.PhaseResult })
	if k.resultTitle.Text != "Not eligible" || k.resultBand.FillColor != colorRed || k.resultDetail.Text != "You must be 21 or older." {
		t.Fatalf("refusal %q %q", k.resultTitle.Text, k.resultDetail.Text)
	}
}

func TestUnavailableScreen(t *testing.T) {
	k, e, _ := setup(t, &fakeProvider{})
	e.Callback(url.Values{"code": {"down"}, "state": {state(t, e)}})
	waitFor(t, func() bool { return e.Screen().Phase == kiosk.PhaseUnavailable })
	if k.resultTitle.Text != "Verify unavailable" || !strings.Contains(k.resultDetail.Text, "Please contact the front desk") ||
		!strings.Contains(k.resultDetail.Text, "Please approach the counter.") {
		t.Fatalf("unavailable: %q / %q", k.resultTitle.Text, k.resultDetail.Text)
	}
}

// TestMyinfoProviderWording: with FAPI the code is opened with the phone's
// camera, and an outage names Singpass, not Verify.
func TestMyinfoProviderWording(t *testing.T) {
	a := test.NewTempApp(t)
	w := test.NewTempWindow(t, nil)
	e := kiosk.NewEngine(kiosk.EngineConfig{KioskID: "k1", Contact: "the front desk", ServiceName: "Singpass"},
		&fakeProvider{}, &memStore{}, nil, quiet(), nil)
	k := New(a, w, e, Options{Venue: "Test Venue", Windowed: true, PhoneCamera: true})
	t.Cleanup(k.Stop)
	e.Step()
	if k.qrCaption.Text != "Scan with your phone camera" {
		t.Fatalf("caption %q", k.qrCaption.Text)
	}
	e.Callback(url.Values{"code": {"down"}, "state": {state(t, e)}})
	waitFor(t, func() bool { return e.Screen().Phase == kiosk.PhaseUnavailable })
	if k.resultTitle.Text != "Singpass unavailable" || !strings.Contains(k.resultDetail.Text, "through Singpass") ||
		!strings.Contains(e.Screen().Message, "through Singpass") {
		t.Fatalf("unavailable: %q / %q", k.resultTitle.Text, k.resultDetail.Text)
	}
}

// slowRemote is a FAPI-like provider whose codes take a network round trip
// that does not end until released.
type slowRemote struct {
	fakeProvider
	release chan struct{}
}

func (s *slowRemote) NewCode(ctx context.Context, state string, lifetime time.Duration) (kiosk.Code, error) {
	select {
	case <-s.release:
	case <-ctx.Done():
		return kiosk.Code{}, ctx.Err()
	}
	return s.fakeProvider.NewCode(ctx, state, lifetime)
}

func (s *slowRemote) Remote() bool { return true }

// TestPreparingScreen: while a remote provider's first code is on its way
// the kiosk says so, with nothing to tap; the code replaces it.
func TestPreparingScreen(t *testing.T) {
	a := test.NewTempApp(t)
	w := test.NewTempWindow(t, nil)
	p := &slowRemote{release: make(chan struct{})}
	e := kiosk.NewEngine(kiosk.EngineConfig{KioskID: "k1"}, p, &memStore{}, nil, quiet(), nil)
	k := New(a, w, e, Options{Venue: "Test Venue", Windowed: true, PhoneCamera: true})
	t.Cleanup(k.Stop)
	e.Step()
	e.Subscribe(func(kiosk.Screen) {}) // the engine has published Starting
	if !k.checking.Visible() || k.checkingText.Text != "Preparing a new code…" || k.cancel.Visible() {
		t.Fatalf("while preparing: checking %v %q cancel %v", k.checking.Visible(), k.checkingText.Text, k.cancel.Visible())
	}
	close(p.release)
	waitFor(t, func() bool { return e.Screen().Phase == kiosk.PhaseQR })
	waitFor(t, func() bool { return k.qrScreen.Visible() })
}

func TestCancelWhileChecking(t *testing.T) {
	p := &fakeProvider{release: make(chan struct{})}
	defer close(p.release)
	k, e, _ := setup(t, p)
	first := e.Screen().QR
	e.Callback(url.Values{"code": {"adult"}, "state": {state(t, e)}})
	test.Tap(k.cancel)
	if !k.qrScreen.Visible() || e.Screen().QR == first {
		t.Fatal("cancel did not bring a fresh code")
	}
}

// memStore is a visit log in memory: ui tests are about screens; the real
// store is tested in storage and with the engine in kiosk.
type memStore struct {
	mu     sync.Mutex
	visits []kiosk.Visit
}

func (m *memStore) PersonKey(uinfin string) []byte { return []byte("key:" + uinfin) }
func (m *memStore) Save(_ context.Context, v kiosk.Visit) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v.ID = int64(len(m.visits) + 1)
	m.visits = append(m.visits, v)
	return v.ID, nil
}
func (m *memStore) OpenVisit(_ context.Context, key []byte, _ time.Time) (kiosk.Visit, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, v := range m.visits {
		if string(v.PersonKey) == string(key) && v.CheckedOutAt.IsZero() && v.Outcome == kiosk.OutcomeCheckedIn {
			return v, nil
		}
	}
	return kiosk.Visit{}, kiosk.ErrNotFound
}
func (m *memStore) CheckOut(_ context.Context, id int64, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.visits[id-1].CheckedOutAt = at
	return nil
}
func (m *memStore) Denied(context.Context, []byte) (bool, error) { return false, nil }
func (m *memStore) Visits(context.Context, kiosk.VisitFilter) ([]kiosk.Visit, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]kiosk.Visit(nil), m.visits...), nil
}
func (m *memStore) Purge(context.Context, time.Time) (int64, error) { return 0, nil }

func TestVisitorScreens(t *testing.T) {
	k, e, _ := setupWith(t, &fakeProvider{}, kiosk.EngineConfig{KioskID: "k1", Mode: kiosk.ModeVisitor,
		Attributes: []string{"name", "partialuinfin", "mobileno"}, Hosts: []string{"Reception", "Ms Lee"}, Purposes: []string{"Meeting"}})
	e.Callback(url.Values{"code": {"visitor"}, "state": {state(t, e)}})
	waitFor(t, func() bool { return e.Screen().Phase == kiosk.PhaseConfirm })
	if !k.confirm.Visible() || len(k.particulars.Items) != 5 || k.particulars.Items[3].Widget != k.hostList {
		t.Fatalf("confirm screen: visible %v, %d particulars", k.confirm.Visible(), len(k.particulars.Items))
	}
	if got := k.particulars.Items[2].Widget.(*widget.Label).Text; got != "+65 91234567" || k.particulars.Items[1].Text != "NRIC/FIN" {
		t.Fatalf("particulars: %q %q", k.particulars.Items[1].Text, got)
	}
	if len(k.hostList.Options) != 2 || k.hostList.Disabled() {
		t.Fatal("without free text the host is picked from the list")
	}
	test.Tap(k.confirmButton)
	if k.confirmProblem.Text == "" || e.Screen().Phase != kiosk.PhaseConfirm {
		t.Fatal("confirming without a host went through")
	}
	k.hostList.SetSelected("Ms Lee")
	k.purposeList.SetSelected("Meeting")
	test.Tap(k.confirmButton)
	if !k.result.Visible() || k.resultTitle.Text != "Welcome, TAN AH KOW" {
		t.Fatalf("welcome %q", k.resultTitle.Text)
	}
	e.Cancel()
	e.Callback(url.Values{"code": {"visitor"}, "state": {state(t, e)}})
	waitFor(t, func() bool { return e.Screen().Phase == kiosk.PhaseResult })
	if k.resultTitle.Text != "Goodbye, TAN AH KOW" {
		t.Fatalf("check-out %q", k.resultTitle.Text)
	}
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestResultAndConfirmTimeOut(t *testing.T) {
	k, e, _ := setupWith(t, &fakeProvider{}, kiosk.EngineConfig{KioskID: "k1", Mode: kiosk.ModeVisitor,
		Attributes: []string{"name"}, Hosts: []string{"Reception"}, Purposes: []string{"Meeting"},
		ConfirmTimeout: 50 * time.Millisecond, ResultTimeout: 50 * time.Millisecond})
	first := e.Screen().QR
	e.Callback(url.Values{"code": {"visitor"}, "state": {state(t, e)}})
	waitFor(t, func() bool { return e.Screen().Phase == kiosk.PhaseConfirm })
	time.Sleep(80 * time.Millisecond)
	e.Step()
	if !k.qrScreen.Visible() || k.confirm.Visible() || e.Screen().QR == first {
		t.Fatal("an unconfirmed visitor's particulars stayed on screen")
	}
	k.keyboard.Attach(nil)
	if e.Screen().Particulars != nil {
		t.Fatal("the engine still holds the particulars")
	}
}

// BenchmarkQRBuildSignEncode is what a rotation costs before drawing:
// signing the Verify URL and encoding it as a QR image.
func BenchmarkQRBuildSignEncode(b *testing.B) {
	key, err := pki.NewKey()
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	for b.Loop() {
		u, err := verify.SignQR(verify.QR{Callback: "https://kiosk.example.sg/callback", ClientID: "STG2-SGVERIFY-KIOSK",
			Nonce: ndi.NewNonce(), Type: verify.Dynamic, State: "kiosk1-0123456789abcdef0123456789abcdef",
			Start: now, Expiry: now.Add(2 * time.Minute)}, key)
		if err != nil {
			b.Fatal(err)
		}
		q, err := qrcode.New(u, qrcode.Low)
		if err != nil {
			b.Fatal(err)
		}
		_ = q.Image(-1)
	}
}

func TestHiddenCursorLetsTapsThrough(t *testing.T) {
	a := test.NewTempApp(t)
	w := test.NewTempWindow(t, nil)
	w.Resize(fyne.NewSize(1280, 800))
	e := kiosk.NewEngine(kiosk.EngineConfig{KioskID: "k1"}, &fakeProvider{}, &memStore{}, nil, quiet(), nil)
	k := New(a, w, e, Options{Windowed: true, HideCursor: true})
	t.Cleanup(k.Stop)
	e.Step()
	tamil := k.langs[3]
	pos := fyne.CurrentApp().Driver().AbsolutePositionForObject(tamil).Add(fyne.NewPos(10, 10))
	test.TapCanvas(w.Canvas(), pos)
	if k.tr.lang != "ta" {
		t.Fatalf("a tap on the Tamil button at %v did not reach it under the hidden-cursor overlay", pos)
	}
}
