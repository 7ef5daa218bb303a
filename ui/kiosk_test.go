package ui

import (
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	qrcode "github.com/skip2/go-qrcode"

	"ndikiosk/kiosk"
	"ndikiosk/ndi"
	"ndikiosk/ndi/pki"
	"ndikiosk/ndi/verify"
)

func TestQRScreen(t *testing.T) {
	r := newRig(t, &fakeEngine{}, Options{Venue: "Test Venue"})
	k := r.k
	r.showQR(qrURL("1"))
	if !k.qrScreen.Visible() || k.checking.Visible() || k.result.Visible() || k.confirm.Visible() || k.face.root.Visible() {
		t.Fatal("the QR screen is not the only one shown")
	}
	if k.venue.Text != "Test Venue" || k.qrCaption.Text != "Scan with Singpass app" {
		t.Fatalf("venue %q caption %q", k.venue.Text, k.qrCaption.Text)
	}
	b := k.qrImage.Image.Bounds()
	if b.Dx() < 29 || b.Dx() != b.Dy() {
		t.Fatalf("QR image %v is not a QR code", b)
	}
	if k.countdown.Value != 1 || k.qrShown != qrURL("1") {
		t.Fatalf("a fresh code shows %.2f of its time left, image of %q", k.countdown.Value, k.qrShown)
	}
	// The bar follows the clock: halfway through the display time half is left.
	r.clock.Add(55 * time.Second)
	k.tick()
	if v := k.countdown.Value; v < 0.49 || v > 0.51 {
		t.Fatalf("halfway through, the bar shows %.2f", v)
	}
	r.clock.Add(time.Minute)
	k.tick()
	if k.countdown.Value != 0 {
		t.Fatalf("past the end, the bar shows %.2f", k.countdown.Value)
	}
	// The same code published again is not drawn again; a new one is.
	img := k.qrImage.Image
	r.e.publish(kiosk.Screen{Phase: kiosk.PhaseQR, QR: qrURL("1"), QRStart: epoch, NextQR: epoch.Add(110 * time.Second)})
	if k.qrImage.Image != img {
		t.Fatal("the unchanged code was encoded again")
	}
	r.showQR(qrURL("2"))
	if k.qrImage.Image == img || k.qrShown != qrURL("2") || k.countdown.Value != 1 {
		t.Fatalf("the next code: shown %q, bar %.2f", k.qrShown, k.countdown.Value)
	}
}

func TestAgeVisitScreens(t *testing.T) {
	r := newRig(t, &fakeEngine{}, Options{Venue: "Test Venue"})
	k := r.k
	r.showQR(qrURL("1"))
	r.e.publish(kiosk.Screen{Phase: kiosk.PhaseChecking})
	if !k.checking.Visible() || k.qrScreen.Visible() || !k.cancel.Visible() ||
		k.checkingText.Text != "Checking with Singpass…" || k.checkingDetail.Text != "This takes a few seconds." {
		t.Fatalf("while Singpass answers: checking %v %q", k.checking.Visible(), k.checkingText.Text)
	}
	until := r.clock.Now().Add(8 * time.Second)
	r.e.publish(kiosk.Screen{Phase: kiosk.PhaseResult, Outcome: kiosk.OutcomeEligible, MinAge: 21, Until: until})
	if !k.result.Visible() || k.checking.Visible() || k.resultTitle.Text != "21+ verified" || k.resultBand.FillColor != colorGreen ||
		k.resultDetail.Text != "Thank you." {
		t.Fatalf("result %q / %q", k.resultTitle.Text, k.resultDetail.Text)
	}
	r.showQR(qrURL("2"))
	r.e.publish(kiosk.Screen{Phase: kiosk.PhaseResult, Outcome: kiosk.OutcomeNotEligible, MinAge: 21, Until: until})
	if k.resultTitle.Text != "Not eligible" || k.resultBand.FillColor != colorRed || k.resultDetail.Text != "You must be 21 or older." {
		t.Fatalf("refusal %q %q", k.resultTitle.Text, k.resultDetail.Text)
	}
}

// unavailable is the screen the engine shows when the provider cannot serve.
func unavailable(until time.Time) kiosk.Screen {
	return kiosk.Screen{Phase: kiosk.PhaseUnavailable, Outcome: kiosk.OutcomeUnavailable, Until: until,
		Message: "We are unable to validate your identity through Verify. Please contact the front desk if you require additional assistance.",
		Contact: "the front desk", Alternative: "Please approach the counter."}
}

func TestUnavailableScreen(t *testing.T) {
	r := newRig(t, &fakeEngine{}, Options{Venue: "Test Venue"})
	k := r.k
	r.showQR(qrURL("1"))
	r.e.publish(unavailable(r.clock.Now().Add(8 * time.Second)))
	if !k.result.Visible() || k.resultTitle.Text != "Singpass unavailable" || k.resultBand.FillColor != colorPurple ||
		!strings.Contains(k.resultDetail.Text, "Please contact the front desk") ||
		!strings.Contains(k.resultDetail.Text, "Please approach the counter.") {
		t.Fatalf("unavailable: %q / %q", k.resultTitle.Text, k.resultDetail.Text)
	}
}

// TestMyinfoProviderWording: with FAPI the code is opened with the phone's
// camera, and an outage names Singpass, not Verify.
func TestMyinfoProviderWording(t *testing.T) {
	r := newRig(t, &fakeEngine{}, Options{Venue: "Test Venue", PhoneCamera: true})
	k := r.k
	r.showQR(qrURL("1"))
	if k.qrCaption.Text != "Scan with your phone camera" {
		t.Fatalf("caption %q", k.qrCaption.Text)
	}
	r.e.publish(unavailable(r.clock.Now().Add(8 * time.Second)))
	if k.resultTitle.Text != "Singpass unavailable" || !strings.Contains(k.resultDetail.Text, "through Singpass") ||
		!strings.Contains(k.resultDetail.Text, "Please approach the counter.") {
		t.Fatalf("unavailable: %q / %q", k.resultTitle.Text, k.resultDetail.Text)
	}
}

// TestPreparingScreen: while a remote provider's first code is on its way
// the kiosk says so, with nothing to tap; the code replaces it.
func TestPreparingScreen(t *testing.T) {
	r := newRig(t, &fakeEngine{}, Options{Venue: "Test Venue", PhoneCamera: true})
	k := r.k
	// The engine's first screen, handed over on Subscribe, is Starting.
	if !k.checking.Visible() || k.checkingText.Text != "Preparing a new code…" || k.checkingDetail.Text != "" || k.cancel.Visible() {
		t.Fatalf("while preparing: checking %v %q cancel %v", k.checking.Visible(), k.checkingText.Text, k.cancel.Visible())
	}
	r.showQR(qrURL("1"))
	if !k.qrScreen.Visible() || k.checking.Visible() {
		t.Fatal("the code did not replace the preparing screen")
	}
	r.e.publish(kiosk.Screen{Phase: kiosk.PhaseChecking})
	if !k.cancel.Visible() || k.checkingText.Text != "Checking with Singpass…" {
		t.Fatalf("checking after preparing: cancel %v, %q", k.cancel.Visible(), k.checkingText.Text)
	}
}

func TestCancelWhileChecking(t *testing.T) {
	r := newRig(t, &fakeEngine{}, Options{Venue: "Test Venue"})
	k := r.k
	r.showQR(qrURL("1"))
	r.e.publish(kiosk.Screen{Phase: kiosk.PhaseChecking})
	test.Tap(k.cancel)
	if cancels, _, _ := r.e.taps(); cancels != 1 {
		t.Fatalf("Cancel reached the engine %d times", cancels)
	}
	r.showQR(qrURL("2")) // the engine answers a cancel with a fresh code
	if !k.qrScreen.Visible() || k.checking.Visible() || k.qrShown != qrURL("2") {
		t.Fatal("the fresh code is not shown")
	}
}

func TestHiddenCursorLetsTapsThrough(t *testing.T) {
	r := newRig(t, &fakeEngine{}, Options{HideCursor: true})
	r.showQR(qrURL("1"))
	tamil := r.k.langs[3]
	pos := fyne.CurrentApp().Driver().AbsolutePositionForObject(tamil).Add(fyne.NewPos(10, 10))
	test.TapCanvas(r.w.Canvas(), pos)
	if r.k.tr.lang != "ta" {
		t.Fatalf("a tap on the Tamil button at %v did not reach it under the hidden-cursor overlay", pos)
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
