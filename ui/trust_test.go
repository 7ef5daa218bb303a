package ui

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"ndikiosk/kiosk"
)

// walkDrawn calls fn for every object drawn on c: visible, with every
// container and widget above it visible, in the content or an overlay.
func walkDrawn(c fyne.Canvas, fn func(fyne.CanvasObject)) {
	var walk func(o fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		if o == nil || !o.Visible() {
			return
		}
		fn(o)
		switch x := o.(type) {
		case *fyne.Container:
			for _, child := range x.Objects {
				walk(child)
			}
		case fyne.Widget:
			for _, child := range test.WidgetRenderer(x).Objects() {
				walk(child)
			}
		}
	}
	walk(c.Content())
	for _, o := range c.Overlays().List() {
		walk(o)
	}
}

// drawnTexts are the texts drawn on c, from canvas texts, labels and buttons alike.
func drawnTexts(c fyne.Canvas) []string {
	var texts []string
	walkDrawn(c, func(o fyne.CanvasObject) {
		if t, ok := o.(*canvas.Text); ok && t.Text != "" {
			texts = append(texts, t.Text)
		}
	})
	return texts
}

// drawnWith is the first text drawn on c that contains sub, or "".
func drawnWith(c fyne.Canvas, sub string) string {
	for _, t := range drawnTexts(c) {
		if strings.Contains(t, sub) {
			return t
		}
	}
	return ""
}

// drawn reports whether obj is drawn on c.
func drawn(c fyne.Canvas, obj fyne.CanvasObject) bool {
	found := false
	walkDrawn(c, func(o fyne.CanvasObject) { found = found || o == obj })
	return found
}

// TestResultsTellVisitorsApart: a result carries the masked id's last four
// characters and the time it was decided (Singapore time), so that the
// person at the door can tell whose result is on screen; without an id,
// the time alone.
func TestResultsTellVisitorsApart(t *testing.T) {
	r := newRig(t, &fakeEngine{}, Options{Venue: "Test Venue"})
	k := r.k
	r.showQR(qrURL("1"))
	decided := time.Date(2026, 12, 2, 6, 2, 31, 0, time.UTC) // 14:02:31 in Singapore
	r.e.publish(kiosk.Screen{Phase: kiosk.PhaseChecking})
	r.e.publish(kiosk.Screen{Phase: kiosk.PhaseResult, Outcome: kiosk.OutcomeEligible, MinAge: 18, MaskedID: "*****567D",
		DecidedAt: decided, Until: r.clock.Now().Add(8 * time.Second)})
	c := r.w.Canvas()
	if want := "NRIC/FIN …567D · 14:02:31"; !slices.Contains(drawnTexts(c), want) {
		t.Fatalf("the eligible result shows %q, not %q", drawnTexts(c), want)
	}
	for i, l := range Languages {
		test.Tap(k.langs[i])
		tr := newTranslator()
		tr.set(l.Code)
		got := drawnWith(c, "…567D")
		if !strings.HasSuffix(got, " · 14:02:31") || !strings.HasPrefix(got, tr.T("attr.partialuinfin")) {
			t.Errorf("%s: the result shows %q", l.Code, got)
		}
	}
	r.showQR(qrURL("2"))
	r.e.publish(kiosk.Screen{Phase: kiosk.PhaseResult, Outcome: kiosk.OutcomeCheckedIn, Name: "TAN AH KOW", MaskedID: "*****123A",
		DecidedAt: decided.Add(5 * time.Second), Until: r.clock.Now().Add(8 * time.Second)})
	if want := "NRIC/FIN …123A · 14:02:36"; !slices.Contains(drawnTexts(c), want) || drawnWith(c, "567D") != "" {
		t.Fatalf("the next visitor's welcome shows %q, not %q", drawnTexts(c), want)
	}
	s := unavailable(r.clock.Now().Add(8 * time.Second))
	s.DecidedAt = decided
	r.e.publish(s)
	if !slices.Contains(drawnTexts(c), "14:02:31") || drawnWith(c, "…") != "" {
		t.Fatalf("a result without an id shows %q", drawnTexts(c))
	}
}

// TestTrustMarksFitCommonDisplays: the sandbox marker, and a result's id
// and time, fit every display the kiosk supports, in all four languages.
func TestTrustMarksFitCommonDisplays(t *testing.T) {
	r := newRig(t, &fakeEngine{}, Options{Venue: "Test Venue", Sandbox: true})
	k, w := r.k, r.w
	check := func(name string) {
		t.Helper()
		for _, s := range displays {
			w.Resize(s)
			if m := w.Content().MinSize(); m.Width > s.Width || m.Height > s.Height {
				t.Errorf("%s needs %v, more than a %v display", name, m, s)
			}
		}
	}
	for i, l := range Languages {
		r.showQR(qrURL(l.Code))
		test.Tap(k.langs[i])
		check(l.Code + " QR screen with the sandbox marker")
		r.e.publish(kiosk.Screen{Phase: kiosk.PhaseResult, Outcome: kiosk.OutcomeCheckedIn, Name: "TAN AH KOW BIN ABDULLAH",
			MaskedID: "*****567D", DecidedAt: epoch, Until: r.clock.Now().Add(8 * time.Second)})
		check(l.Code + " result with id, time and the sandbox marker")
	}
}

// TestSandboxMarker: in sandbox mode every visitor screen says so, venue
// name or not; outside it, none does.
func TestSandboxMarker(t *testing.T) {
	r := newRig(t, &fakeEngine{}, Options{Venue: "Test Venue", Sandbox: true})
	k, c := r.k, r.w.Canvas()
	marker := "SANDBOX — not a real Singpass check"
	until := r.clock.Now().Add(time.Minute)
	screens := []kiosk.Screen{
		{Phase: kiosk.PhaseQR, QR: qrURL("1"), QRStart: r.clock.Now(), NextQR: until},
		{Phase: kiosk.PhaseChecking},
		visitorConfirm(until, false),
		{Phase: kiosk.PhaseFace, Until: until},
		{Phase: kiosk.PhaseResult, Outcome: kiosk.OutcomeCheckedIn, Name: "TAN AH KOW", MaskedID: "*****567D", DecidedAt: epoch, Until: until},
		{Phase: kiosk.PhaseResult, Outcome: kiosk.OutcomeNotEligible, MinAge: 18, MaskedID: "*****567D", DecidedAt: epoch, Until: until},
		unavailable(until),
		{Phase: kiosk.PhasePaused},
	}
	for _, s := range screens {
		r.e.publish(s)
		if !slices.Contains(drawnTexts(c), marker) {
			t.Errorf("%v %v: no sandbox marker on %q", s.Phase, s.Outcome, drawnTexts(c))
		}
		if s.Phase == kiosk.PhaseQR && !slices.Contains(drawnTexts(c), "Test Venue") {
			t.Errorf("the venue name is not beside the sandbox marker: %q", drawnTexts(c))
		}
	}
	// The marker leaves the code and the result their room.
	r.e.publish(screens[0])
	if !drawn(c, k.qrImage) || k.qrImage.Size().Width < 400 {
		t.Fatalf("with the marker, the code is %v", k.qrImage.Size())
	}
	r.e.publish(screens[4])
	if !slices.Contains(drawnTexts(c), "Welcome, TAN AH KOW") || !slices.Contains(drawnTexts(c), "NRIC/FIN …567D · 09:30:00") {
		t.Fatalf("the result under the marker: %q", drawnTexts(c))
	}
	test.Tap(k.langs[1])
	tr := newTranslator()
	tr.set("zh")
	if zh := tr.T("sandbox.marker"); zh == marker || !slices.Contains(drawnTexts(c), zh) {
		t.Fatalf("the marker in Chinese: %q", drawnTexts(c))
	}

	plain := newRig(t, &fakeEngine{}, Options{Venue: "Test Venue"})
	for _, s := range screens {
		plain.e.publish(s)
		if drawnWith(plain.w.Canvas(), "SANDBOX") != "" {
			t.Errorf("%v: a sandbox marker outside sandbox mode", s.Phase)
		}
	}
}

// TestPINPadPausesTheKiosk: with the PIN pad open no code is drawn, not
// even dimmed behind it (a scan of it was accepted, its result hidden
// behind the admin screens), and the engine is paused; dismissing the pad
// resumes it.
func TestPINPadPausesTheKiosk(t *testing.T) {
	r := setupAdmin(t, &memStore{})
	k, c := r.k, r.w.Canvas()
	if !drawn(c, k.qrImage) {
		t.Fatal("the code is not drawn before the PIN pad opens")
	}
	k.corner.MouseDown(nil)
	r.clock.Add(2 * time.Second)
	k.corner.MouseUp(nil)
	if p, res, _ := r.e.halts(); p != 1 || res != 0 || !k.admin.pinPad.Visible() {
		t.Fatalf("opening the PIN pad: %d pauses, %d resumes, pad %v", p, res, k.admin.pinPad.Visible())
	}
	if drawn(c, k.qrImage) || k.qrShown != "" {
		t.Fatal("the code is still drawn behind the PIN pad")
	}
	r.e.publish(kiosk.Screen{Phase: kiosk.PhasePaused}) // what the engine shows on Pause
	if drawn(c, k.qrImage) || !slices.Contains(drawnTexts(c), "Staff only — one moment") || !drawn(c, k.admin.pinPad) {
		t.Fatalf("paused behind the PIN pad: %q", drawnTexts(c))
	}
	// A remote engine's code sent before it heard of the pause is not drawn either.
	r.showQR(qrURL("late"))
	if drawn(c, k.qrImage) {
		t.Fatal("a code that came late is drawn behind the PIN pad")
	}
	k.admin.askPIN(pinAdmin) // Ctrl+Alt+A again: still one pause
	typePIN(k, "1111")
	test.Tap(k.admin.pinCancel)
	if p, res, _ := r.e.halts(); p != 1 || res != 1 || k.admin.root.Visible() {
		t.Fatalf("dismissing the PIN pad: %d pauses, %d resumes", p, res)
	}
	r.showQR(qrURL("2")) // the engine resumes with a fresh code
	if !drawn(c, k.qrImage) || k.qrShown != qrURL("2") {
		t.Fatal("the fresh code is not drawn after the PIN pad closed")
	}
	// Escape on a keyboard dismisses the pad too.
	k.admin.askPIN(pinAdmin)
	c.OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyEscape})
	if p, res, _ := r.e.halts(); p != 2 || res != 2 || k.admin.root.Visible() {
		t.Fatalf("Escape on the PIN pad: %d pauses, %d resumes", p, res)
	}
}

// TestAdminScreensKeepTheKioskPaused: the kiosk stays paused while the
// admin screens are open, and resumes when they close; quitting with the
// PIN does not resume it.
func TestAdminScreensKeepTheKioskPaused(t *testing.T) {
	r := setupAdmin(t, &memStore{})
	k, c := r.k, r.w.Canvas()
	k.admin.askPIN(pinAdmin)
	r.e.publish(kiosk.Screen{Phase: kiosk.PhasePaused})
	typePIN(k, "2468")
	r.jobs.settle(t)
	if p, res, _ := r.e.halts(); p != 1 || res != 0 || !drawn(c, k.admin.panel) || drawn(c, k.qrImage) {
		t.Fatalf("admin open: %d pauses, %d resumes, code drawn %v", p, res, drawn(c, k.qrImage))
	}
	test.Tap(k.admin.closeBtn)
	if p, res, _ := r.e.halts(); p != 1 || res != 1 {
		t.Fatalf("closing admin: %d pauses, %d resumes", p, res)
	}
	// Closing the window asks for the PIN with the kiosk paused; the right
	// PIN quits without a fresh code.
	k.admin.askPIN(pinQuit)
	if p, _, _ := r.e.halts(); p != 2 || drawn(c, k.qrImage) {
		t.Fatalf("the quit PIN pad: %d pauses, code drawn %v", p, drawn(c, k.qrImage))
	}
	typePIN(k, "2468")
	if p, res, _ := r.e.halts(); p != 2 || res != 1 || r.quit.count() != 1 {
		t.Fatalf("quitting: %d pauses, %d resumes, %d quits", p, res, r.quit.count())
	}
}

// drawnButton is the button labelled text drawn on c, or nil.
func drawnButton(c fyne.Canvas, text string) *widget.Button {
	var b *widget.Button
	walkDrawn(c, func(o fyne.CanvasObject) {
		if x, ok := o.(*widget.Button); ok && x.Text == text && b == nil {
			b = x
		}
	})
	return b
}

// openAdmin opens the admin screens with the right PIN.
func openAdmin(t *testing.T, r *adminRig) {
	t.Helper()
	r.k.admin.askPIN(pinAdmin)
	typePIN(r.k, "2468")
	r.jobs.settle(t)
	if !r.k.admin.panel.Visible() {
		t.Fatal("the admin screens did not open")
	}
}

// TestQuitAsksFirst: "Quit the kiosk" quits only when confirmed, and it
// stands apart from Close.
func TestQuitAsksFirst(t *testing.T) {
	r := setupAdmin(t, &memStore{})
	k, c := r.k, r.w.Canvas()
	openAdmin(t, r)
	test.Tap(k.admin.quitBtn)
	msg := "Visitors cannot check in until it is started again."
	if r.quit.count() != 0 || !slices.Contains(drawnTexts(c), "Quit the kiosk?") || drawnWith(c, msg) == "" {
		t.Fatalf("Quit without confirming: %d quits, screen %q", r.quit.count(), drawnTexts(c))
	}
	cancel := drawnButton(c, "Cancel")
	if cancel == nil || drawnButton(c, "Quit") == nil {
		t.Fatalf("the confirmation has no Cancel or Quit button: %q", drawnTexts(c))
	}
	test.Tap(cancel)
	if r.quit.count() != 0 || drawnWith(c, msg) != "" || !drawn(c, k.admin.panel) {
		t.Fatalf("Cancel: %d quits, admin shown %v", r.quit.count(), drawn(c, k.admin.panel))
	}
	test.Tap(k.admin.quitBtn)
	test.Tap(drawnButton(c, "Quit"))
	if _, res, _ := r.e.halts(); r.quit.count() != 1 || res != 0 || k.admin.root.Visible() || drawnWith(c, msg) != "" {
		t.Fatalf("confirmed Quit: %d quits, %d resumes, admin shown %v", r.quit.count(), res, k.admin.root.Visible())
	}

	// Quit and Close are not side by side: one is at the top, the other at the bottom.
	openAdmin(t, r)
	d := fyne.CurrentApp().Driver()
	quitAt, closeAt := d.AbsolutePositionForObject(k.admin.quitBtn), d.AbsolutePositionForObject(k.admin.closeBtn)
	if closeAt.Y-quitAt.Y < r.w.Canvas().Size().Height/2 {
		t.Fatalf("Quit at %v is next to Close at %v", quitAt, closeAt)
	}
}

// TestQuitConfirmationClosesWithAdmin: a confirmation left open closes
// with the admin screens when they close themselves, so that no visitor
// finds it.
func TestQuitConfirmationClosesWithAdmin(t *testing.T) {
	r := setupAdmin(t, &memStore{})
	k, c := r.k, r.w.Canvas()
	openAdmin(t, r)
	test.Tap(k.admin.quitBtn)
	r.clock.Add(adminIdle)
	k.tick()
	if k.admin.root.Visible() || drawnButton(c, "Quit") != nil || r.quit.count() != 0 {
		t.Fatalf("after the idle timeout: admin %v, screen %q, %d quits", k.admin.root.Visible(), drawnTexts(c), r.quit.count())
	}
}

// TestDeadServerPutsKioskOutOfService: when the callback server dies the
// screen says the check is unavailable, with the operator's alternative,
// for five seconds before the kiosk quits (the service manager restarts
// it); a signal quits at once. (Run itself opens a real app; this is its
// decision.)
func TestDeadServerPutsKioskOutOfService(t *testing.T) {
	e := &fakeEngine{}
	quits := 0
	var waited time.Duration
	var later func()
	afterServe(errors.New("callback server: accept tcp 127.0.0.1:8080: use of closed network connection"), e,
		func() { quits++ }, func(d time.Duration, f func()) { waited, later = d, f })
	if _, _, out := e.halts(); out != 1 || quits != 0 || waited != 5*time.Second || later == nil {
		t.Fatalf("a dead server: %d out-of-service calls, %d quits, quitting after %v", out, quits, waited)
	}
	later()
	if quits != 1 {
		t.Fatalf("%d quits after the wait", quits)
	}

	e = &fakeEngine{}
	quits, later = 0, nil
	afterServe(nil, e, func() { quits++ }, func(d time.Duration, f func()) { later = f })
	if _, _, out := e.halts(); out != 0 || quits != 1 || later != nil {
		t.Fatalf("a signal: %d out-of-service calls, %d quits, waited %v", out, quits, later != nil)
	}
}
