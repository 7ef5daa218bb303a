package ui

import (
	"image"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
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
	qrCaption *canvas.Text
	countdown *countdownBar
	langs     []*widget.Button
	corner    *holdArea
	qrScreen  fyne.CanvasObject

	checkingText   *canvas.Text
	checkingDetail *canvas.Text
	cancel         *widget.Button
	checking       fyne.CanvasObject

	confirmTitle   *canvas.Text
	particulars    *widget.Form
	host           *pickEntry // free text allowed: type or pick
	purpose        *pickEntry
	hostList       *widget.Select // otherwise: pick from the list only
	purposeList    *widget.Select
	freeText       bool
	keyboard       *Keyboard
	confirmButton  *widget.Button
	confirmCancel  *widget.Button
	confirmProblem *widget.Label
	confirm        fyne.CanvasObject

	resultIcon   *canvas.Image
	resultTitle  *canvas.Text
	resultStamp  *canvas.Text // the id's last characters and the time: whose result this is
	resultDetail *widget.Label
	resultBand   *canvas.Rectangle
	result       fyne.CanvasObject

	face  *faceScreen
	admin *adminUI
	fits  []*fyne.Container // headlines that shrink to fit; re-laid out when their text changes
	scale *scaler           // the window's height, which the headlines' sizes follow
	// qrPx is the QR code's pixels per module as last laid out, 0 before
	// the first code; under 4 a phone may not read it (admin status warns).
	qrPx int

	screen  kiosk.Screen
	qrShown string
	wake    *time.Timer   // wakes the UI goroutine for the next visible change (see arm)
	stopped atomic.Bool   // Stop was called: the timer stays off
	gone    chan struct{} // closed when the app has stopped
}

// New builds the kiosk UI in win and subscribes it to the engine.
func New(app fyne.App, win fyne.Window, e Engine, opts Options) *Kiosk {
	app.Settings().SetTheme(newTheme())
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	k := &Kiosk{app: app, win: win, engine: e, opts: opts, tr: newTranslator(), now: now, scale: &scaler{}, gone: make(chan struct{})}
	k.wake = time.AfterFunc(time.Hour, func() { fyne.Do(k.tick) })
	k.wake.Stop() // arm sets it
	k.tr.set(defaultLanguage(opts.Language))
	k.build()
	var content fyne.CanvasObject = container.NewStack(k.qrScreen, k.checking, k.confirm, k.face.root, k.result)
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
	win.SetContent(container.New(heightLayout{s: k.scale, onChange: k.refit}, content))
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
	k.face = newFaceScreen(k)
	k.translate()
	k.show(nil)
}

// fit wraps a headline so that it shrinks to fit its width.
func (k *Kiosk) fit(t *canvas.Text) *fyne.Container {
	c := fitted(t, k.scale)
	k.fits = append(k.fits, c)
	return c
}

// refit lays the headlines out again after their texts changed.
func (k *Kiosk) refit() {
	for _, c := range k.fits {
		c.Refresh()
	}
}

// setLanguage switches the screens' language; it lasts until the visit ends.
func (k *Kiosk) setLanguage(code string) {
	k.tr.set(code)
	k.translate()
	k.render(k.screen)
}

// translate sets every fixed text in the current language.
func (k *Kiosk) translate() {
	k.qrCaption.Text = k.tr.T("qr.caption")
	if k.opts.PhoneCamera {
		// A FAPI code is a web address: the phone's camera opens it, and
		// Singpass then hands over to its app.
		k.qrCaption.Text = k.tr.T("qr.caption.camera")
	}
	if k.sandbox != nil {
		k.sandbox.Text = k.tr.T("sandbox.marker")
		k.sandbox.Refresh()
	}
	k.checkingText.Text = k.tr.T("checking.title")
	k.checkingDetail.Text = k.tr.T("checking.detail")
	k.confirmTitle.Text = k.tr.T("confirm.title")
	k.host.PlaceHolder = k.tr.T("confirm.host.placeholder")
	k.purpose.PlaceHolder = k.tr.T("confirm.purpose.placeholder")
	k.hostList.PlaceHolder = k.host.PlaceHolder
	k.purposeList.PlaceHolder = k.purpose.PlaceHolder
	k.hostList.Refresh()
	k.purposeList.Refresh()
	k.cancel.SetText(k.tr.T("button.cancel"))
	k.confirmCancel.SetText(k.tr.T("button.cancel"))
	k.confirmButton.SetText(k.tr.T("button.confirm"))
	k.keyboard.translate()
	k.face.translate()
	for i, b := range k.langs {
		if Languages[i].Code == k.tr.lang {
			b.Importance = widget.HighImportance
		} else {
			b.Importance = widget.MediumImportance
		}
		b.Refresh()
	}
	for _, t := range []*canvas.Text{k.qrCaption, k.checkingText, k.checkingDetail, k.confirmTitle} {
		t.Refresh()
	}
	k.host.Refresh()
	k.purpose.Refresh()
	k.refit()
}

// show makes one of the screens visible.
func (k *Kiosk) show(which fyne.CanvasObject) {
	if which != k.face.root {
		k.face.stop()
	}
	for _, o := range []fyne.CanvasObject{k.qrScreen, k.checking, k.confirm, k.face.root, k.result} {
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
		k.show(k.qrScreen)
	case kiosk.PhaseChecking:
		k.cancel.Show()
		k.checkingText.Text, k.checkingDetail.Text = k.tr.T("checking.title"), k.tr.T("checking.detail")
		if s.FaceAttempt > 0 {
			k.checkingText.Text, k.checkingDetail.Text = k.tr.T("checking.face"), ""
		}
		k.refit()
		k.show(k.checking)
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
		k.keyboard.Attach(nil)
		icon, title, detail, band := k.resultText(s)
		k.resultIcon.Resource = theme.NewColoredResource(icon, theme.ColorNameForegroundOnPrimary)
		k.resultTitle.Text, k.resultBand.FillColor = title, band
		k.resultStamp.Text = k.stamp(s)
		k.resultDetail.SetText(detail)
		k.resultIcon.Refresh()
		k.resultBand.Refresh()
		k.refit()
		k.show(k.result)
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
	k.refit()
	k.show(k.checking)
}

// contact is the operator's contact for s in the screen's language.
func (k *Kiosk) contact(s kiosk.Screen) string { return s.Contact }

// alternative is the operator's non-Singpass alternative for s in the
// screen's language.
func (k *Kiosk) alternative(s kiosk.Screen) string { return s.Alternative }
