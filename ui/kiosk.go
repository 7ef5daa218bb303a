package ui

import (
	"image"
	"strings"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/widget"

	"ndikiosk/kiosk"
)

// Options are the UI's settings from the config.
type Options struct {
	Venue      string
	Language   string // default screen language; a visitor's choice lasts one visit
	Windowed   bool   // development: a normal window instead of full screen
	HideCursor bool   // hide the mouse pointer over the kiosk (touchscreens)
	// PhoneCamera: the QR is a Singpass authorisation URL (FAPI), opened
	// with the phone's camera rather than scanned in the Singpass app.
	PhoneCamera bool
	Admin       *kiosk.Admin // nil: no admin screens
	// Sandbox: the kiosk plays Singpass itself. Every visitor screen says
	// so, whatever the venue is called, so that no sandbox result is taken
	// for a real check.
	Sandbox bool
	// Visitor: visitor mode. The QR screen is the venue's welcome screen:
	// Logo (a PNG or JPEG file; "" for none) over the venue's name, what
	// is kept for RetentionDays days, and a "No Singpass?" button.
	Visitor       bool
	Logo          string
	RetentionDays int
	// OnHub: the kiosk is a hub's screen, and the visit log is kept on the
	// venue's server, not here; the privacy notice says so.
	OnHub bool
	// Now is the clock for the countdowns, the admin corner's hold and the
	// admin screens' idle timeout; nil: time.Now.
	Now func() time.Time
}

// Kiosk is the kiosk window's content. Widgets live in fields so that tests
// can read and tap them.
type Kiosk struct {
	app    fyne.App
	win    fyne.Window
	engine Engine
	opts   Options
	tr     *translator
	now    func() time.Time

	sandbox   *canvas.Text // the sandbox marker; nil outside sandbox mode
	venue     *canvas.Text
	qrImage   *canvas.Image
	qrCaption *wrapText
	qrDetail  *wrapText
	qrBits    [][]bool // the shown code's modules, without the quiet zone
	welcome   welcome  // visitor mode's welcome and No-Singpass screen
	countdown *countdownBar
	langs     []*widget.Button
	corner    *holdArea
	qrScreen  fyne.CanvasObject

	checkingText   *canvas.Text
	checkingDetail *canvas.Text
	busy           *busyBar // moves while the kiosk waits for Singpass or a code
	cancel         *widget.Button
	checking       fyne.CanvasObject

	confirmTitle   *canvas.Text
	confirmLeft    *canvas.Text // the seconds left to confirm
	confirmTimer   *time.Timer  // moves confirmLeft while the confirm screen shows
	particulars    *widget.Form
	host           *choiceField
	purpose        *choiceField
	keyboard       *Keyboard
	confirmButton  *widget.Button
	confirmCancel  *widget.Button
	confirmProblem *widget.Label // what the engine refused, not about one field
	confirm        fyne.CanvasObject

	resultIcon   *canvas.Image
	resultTitle  *canvas.Text
	resultStamp  *canvas.Text // the id's last characters and the time: whose result this is
	resultDetail *widget.Label
	resultBand   *canvas.Rectangle
	resultClose  *canvas.Text // "Tap to close · 6 s"
	resultTap    *tapArea     // the whole result screen: a tap closes it
	result       fyne.CanvasObject

	checkOut *checkOutScreen
	sign     *signScreen

	face  *faceScreen
	admin *adminUI
	fits  []*fyne.Container // headlines that shrink to fit; re-laid out when their text changes
	bolds []*emboldened     // the bold ones' shadows, for scripts without a bold font
	scale *scaler           // the window's height, which the headlines' sizes follow
	text  float32           // the theme's text size, which follows the window's size (themeText)
	// qrPx is the QR code's pixels per module as last laid out, 0 before
	// the first code; under 4 a phone may not read it (admin status warns).
	qrPx int

	screen  kiosk.Screen
	shown   fyne.CanvasObject // the screen on show
	qrShown string
	wake    *time.Timer   // wakes the UI goroutine for the next visible change (see arm)
	stopped atomic.Bool   // Stop was called: the timer stays off
	gone    chan struct{} // closed when the app has stopped
}

// New builds the kiosk UI in win and subscribes it to the engine.
func New(app fyne.App, win fyne.Window, e Engine, opts Options) *Kiosk {
	app.Settings().SetTheme(newTheme(themeText(0, 0)))
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	k := &Kiosk{app: app, win: win, engine: e, opts: opts, tr: newTranslator(), now: now, scale: &scaler{}, gone: make(chan struct{})}
	k.wake = time.AfterFunc(time.Hour, func() { fyne.Do(k.everyTick) })
	k.wake.Stop() // arm sets it
	k.tr.set(defaultLanguage(opts.Language))
	k.build()
	var content fyne.CanvasObject = container.NewStack(k.screens()...)
	if k.sandbox != nil {
		content = container.New(barLayout{}, container.NewStack(canvas.NewRectangle(colorMarker), container.NewPadded(k.fit(k.sandbox))),
			content)
	}
	if opts.HideCursor {
		content = container.NewStack(content, &noCursor{})
	}
	if opts.Admin != nil {
		k.admin = newAdminUI(k, opts.Admin)
		content = container.NewStack(content, k.admin.root)
		// Ctrl+Alt+A opens the PIN pad too, for a kiosk with a keyboard.
		win.Canvas().AddShortcut(&desktop.CustomShortcut{KeyName: fyne.KeyA, Modifier: fyne.KeyModifierControl | fyne.KeyModifierAlt},
			func(fyne.Shortcut) { k.admin.askPIN(pinAdmin) })
		win.SetCloseIntercept(func() { k.admin.askPIN(pinQuit) })
	}
	win.SetContent(container.New(heightLayout{s: k.scale, onChange: k.resized}, content))
	win.SetPadded(false)
	if !opts.Windowed {
		win.SetFullScreen(true)
	}
	e.Subscribe(func(s kiosk.Screen) {
		select {
		case <-k.gone: // the app has stopped: nothing left to draw on
		default:
			fyne.Do(func() { k.render(s) })
		}
	})
	k.arm()
	app.Lifecycle().SetOnStopped(func() {
		k.Stop()
		select {
		case <-k.gone:
		default:
			close(k.gone)
		}
	})
	return k
}

// everyTick is what the wake timer does: the code's countdown and the
// admin screens' (tick), and the seconds a result or the check-out question
// has left.
func (k *Kiosk) everyTick() {
	k.tick()
	switch s := k.screen; s.Phase {
	case kiosk.PhaseResult, kiosk.PhaseUnavailable:
		k.tickResult(s)
	case kiosk.PhaseCheckOut:
		k.tickCheckOut(s)
	case kiosk.PhaseSign:
		k.sign.tick(s)
	}
}

// Stop ends the countdown timer for good.
func (k *Kiosk) Stop() {
	k.stopped.Store(true)
	k.wake.Stop()
}

// arm sets the one timer that wakes the UI goroutine to the next change a
// visitor or staff member can see (wakeAfter), or stops it when nothing on
// screen changes with time. Every wake-up of an idle kiosk costs a full
// window redraw or at least a trip through Fyne's event queue, so there is
// no fixed ticker. It runs on the UI goroutine.
func (k *Kiosk) arm() {
	if k.stopped.Load() {
		return
	}
	var closeAt time.Time
	if k.admin != nil && k.admin.root.Visible() {
		closeAt = k.admin.closeAt
	}
	if d, ok := wakeAfter(k.screen, k.now(), closeAt); ok {
		k.wake.Reset(d)
	} else {
		k.wake.Stop()
	}
}

func bigText(s string, size float32) *canvas.Text {
	t := canvas.NewText(s, colorInk)
	t.TextSize = size
	t.TextStyle = fyne.TextStyle{Bold: true}
	t.Alignment = fyne.TextAlignCenter
	return t
}

func (k *Kiosk) build() {
	k.venue = bigText(k.opts.Venue, 28)
	if k.opts.Sandbox {
		k.sandbox = bigText("", 24)
	}
	k.buildQR()
	k.buildChecking()
	k.buildConfirm()
	k.buildResult()
	k.buildCheckOut()
	k.face = newFaceScreen(k)
	k.sign = newSignScreen(k)
	k.translate()
	k.show(nil)
}

// fit wraps a headline so that it shrinks to fit its width; a bold one is
// emboldened when its script has no bold font (see embolden).
func (k *Kiosk) fit(t *canvas.Text) *fyne.Container {
	c := fitted(t, k.scale)
	k.fits = append(k.fits, c)
	if !t.TextStyle.Bold {
		return c
	}
	box, e := embolden(c, t)
	k.bolds = append(k.bolds, e)
	return box
}

// refit lays the headlines out again after their texts changed, or the
// window's size.
func (k *Kiosk) refit() {
	for _, c := range k.fits {
		c.Refresh()
	}
	for _, e := range k.bolds {
		e.sync()
	}
	k.qrScreen.Refresh()
}

// screens are the kiosk's screens, one shown at a time.
func (k *Kiosk) screens() []fyne.CanvasObject {
	s := []fyne.CanvasObject{k.qrScreen, k.checking, k.confirm, k.face.root, k.result, k.checkOut.root, k.sign.root}
	if k.welcome.screen != nil {
		s = append(s, k.welcome.screen)
	}
	return s
}

// setLanguage switches the screens' language; it lasts until the visit ends.
func (k *Kiosk) setLanguage(code string) {
	k.tr.set(code)
	k.translate()
	k.render(k.screen)
}

// translate sets every fixed text in the current language.
func (k *Kiosk) translate() {
	k.translateQR()
	if k.sandbox != nil {
		k.sandbox.Text = k.tr.T("sandbox.marker")
		k.sandbox.Refresh()
	}
	k.checkingText.Text = k.tr.T("checking.title")
	k.checkingDetail.Text = k.tr.T("checking.detail")
	k.cancel.SetText(k.tr.T("button.cancel"))
	k.translateConfirm()
	k.face.translate()
	k.translateCheckOut()
	k.sign.translate()
	for i, b := range k.langs {
		if Languages[i].Code == k.tr.lang {
			b.Importance = widget.HighImportance
		} else {
			b.Importance = widget.MediumImportance
		}
		b.Refresh()
	}
	for _, t := range []*canvas.Text{k.checkingText, k.checkingDetail} {
		t.Refresh()
	}
	k.refit()
}

// show makes one of the screens visible.
func (k *Kiosk) show(which fyne.CanvasObject) {
	if which != k.face.root {
		k.face.stop()
	}
	if which != k.welcome.screen {
		k.welcome.open = false
	}
	if which != k.checking {
		k.busy.Stop() // the bar moves only on the checking screen
	}
	if which != k.shown {
		// A button the last visitor (or staff) left focused keeps no
		// focus ring on the next screen, and Space presses nothing there.
		k.win.Canvas().Unfocus()
		k.shown = which
	}
	for _, o := range k.screens() {
		if o == which {
			o.Show()
		} else {
			o.Hide()
		}
	}
}

// render draws a Screen; it runs on the UI goroutine.
func (k *Kiosk) render(s kiosk.Screen) {
	prev := k.screen.Phase
	k.screen = s
	defer k.arm()
	switch s.Phase {
	case kiosk.PhaseStarting:
		k.checkingText.Text, k.checkingDetail.Text = k.tr.T("starting.title"), ""
		k.cancel.Hide() // nothing to cancel yet
		k.refit()
		k.show(k.checking)
		k.busy.Start()
	case kiosk.PhasePaused:
		k.showPaused()
	case kiosk.PhaseQR:
		if k.admin != nil && k.admin.root.Visible() {
			// The engine is paused while staff are here. An engine
			// elsewhere (a hub) may send a code before it hears of the
			// pause; drawn behind the PIN pad, it would still scan.
			k.showPaused()
			return
		}
		if prev != kiosk.PhaseQR && prev != kiosk.PhaseStarting && k.tr.lang != defaultLanguage(k.opts.Language) {
			// A visit ended: the next visitor starts in the venue's language.
			k.tr.set(defaultLanguage(k.opts.Language))
			k.translate()
		}
		if s.QR != k.qrShown {
			k.setQR(s.QR)
		}
		k.tick()
		k.showQRScreen()
	case kiosk.PhaseChecking:
		k.cancel.Show()
		k.checkingText.Text, k.checkingDetail.Text = k.tr.T("checking.title"), k.tr.T("checking.detail")
		if s.FaceAttempt > 0 {
			k.checkingText.Text, k.checkingDetail.Text = k.tr.T("checking.face"), ""
		}
		k.refit()
		k.show(k.checking)
		k.busy.Start()
	case kiosk.PhaseFace:
		k.show(k.face.root)
		k.face.render(s)
	case kiosk.PhaseConfirm:
		if prev != kiosk.PhaseConfirm {
			k.showConfirm(s)
		} else {
			k.fillParticulars(s)
		}
	case kiosk.PhaseResult, kiosk.PhaseUnavailable:
		k.showResult(s)
	case kiosk.PhaseCheckOut:
		k.showCheckOut(s)
	case kiosk.PhaseSign:
		k.sign.render(s)
	}
}

// showPaused draws the kiosk paused for staff: no code (the one shown
// before is wiped, so that it can never reappear), nothing of a visit.
func (k *Kiosk) showPaused() {
	k.keyboard.Attach(nil)
	k.qrImage.Image = image.NewGray(image.Rect(0, 0, 1, 1))
	k.qrImage.Refresh()
	k.qrShown = ""
	k.checkingText.Text, k.checkingDetail.Text = k.tr.T("paused.title"), ""
	k.cancel.Hide()
	k.busy.Stop() // staff may be a while: nothing moves
	k.refit()
	k.show(k.checking)
}

// contact is the operator's contact for s in the screen's language: the
// venue's for that language, else the venue's one for all, else the
// kiosk's own wording, translated.
func (k *Kiosk) contact(s kiosk.Screen) string {
	return k.wording(s.Local[k.tr.lang].Contact, s.Contact, "local.contact")
}

// alternative is the operator's non-Singpass alternative for s in the
// screen's language, chosen as contact is.
func (k *Kiosk) alternative(s kiosk.Screen) string {
	return k.wording(s.Local[k.tr.lang].Alternative, s.Alternative, "local.alternative")
}

func (k *Kiosk) wording(local, any, key string) string {
	for _, w := range []string{local, any} {
		if w = strings.TrimSpace(w); w != "" {
			return w
		}
	}
	return k.tr.T(key)
}
