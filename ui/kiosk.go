package ui

import (
	"fmt"
	"image"
	"image/color"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	qrcode "github.com/skip2/go-qrcode"

	"ndikiosk/kiosk"
)

// Options are the UI's settings from the config.
type Options struct {
	Venue    string
	Windowed bool // development: a normal window instead of full screen
}

// Kiosk is the kiosk window's content. Widgets live in fields so that tests
// can read and tap them.
type Kiosk struct {
	win    fyne.Window
	engine *kiosk.Engine
	opts   Options

	venue     *canvas.Text
	qrImage   *canvas.Image
	qrCaption *canvas.Text
	countdown *widget.ProgressBar
	qrScreen  fyne.CanvasObject

	checkingText *canvas.Text
	cancel       *widget.Button
	checking     fyne.CanvasObject

	confirmTitle   *canvas.Text
	particulars    *widget.Form
	host           *widget.SelectEntry
	purpose        *widget.SelectEntry
	confirmButton  *widget.Button
	confirmCancel  *widget.Button
	confirmProblem *widget.Label
	confirm        fyne.CanvasObject

	resultIcon   *canvas.Image
	resultTitle  *canvas.Text
	resultDetail *widget.Label
	resultBand   *canvas.Rectangle
	result       fyne.CanvasObject

	screen   kiosk.Screen
	qrShown  string
	ticker   *time.Ticker
	stopTick chan struct{}
}

// New builds the kiosk UI in win and subscribes it to the engine.
func New(app fyne.App, win fyne.Window, e *kiosk.Engine, opts Options) *Kiosk {
	app.Settings().SetTheme(newTheme())
	k := &Kiosk{win: win, engine: e, opts: opts, stopTick: make(chan struct{})}
	k.build()
	win.SetContent(container.NewStack(k.qrScreen, k.checking, k.confirm, k.result))
	win.SetPadded(false)
	if !opts.Windowed {
		win.SetFullScreen(true)
	}
	e.Subscribe(func(s kiosk.Screen) { fyne.Do(func() { k.render(s) }) })
	k.ticker = time.NewTicker(time.Second)
	go func() {
		for {
			select {
			case <-k.ticker.C:
				fyne.Do(k.tick)
			case <-k.stopTick:
				return
			}
		}
	}()
	app.Lifecycle().SetOnStopped(k.Stop)
	return k
}

// Stop ends the countdown ticker.
func (k *Kiosk) Stop() {
	select {
	case <-k.stopTick:
	default:
		k.ticker.Stop()
		close(k.stopTick)
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
	k.qrImage = canvas.NewImageFromImage(image.NewGray(image.Rect(0, 0, 1, 1)))
	k.qrImage.FillMode = canvas.ImageFillContain
	k.qrImage.ScaleMode = canvas.ImageScalePixels
	k.qrImage.SetMinSize(fyne.NewSize(240, 240))
	frame := canvas.NewRectangle(colorPaper)
	frame.StrokeColor = colorRed
	frame.StrokeWidth = 8
	frame.CornerRadius = 18
	k.qrCaption = bigText("Scan with Singpass app", 30)
	k.qrCaption.Color = colorRed
	k.countdown = widget.NewProgressBar()
	k.countdown.TextFormatter = func() string { return "" }
	qrBox := container.NewStack(frame, container.NewPadded(container.NewPadded(k.qrImage)))
	k.qrScreen = container.NewBorder(
		container.NewPadded(k.venue),
		container.NewPadded(container.NewVBox(k.qrCaption, k.countdown)),
		nil, nil,
		container.New(squareLayout{margin: 24}, qrBox))

	k.checkingText = bigText("Continue on your phone…", 40)
	k.cancel = widget.NewButton("Cancel", func() { k.engine.Cancel() })
	k.cancel.Importance = widget.HighImportance
	k.checking = container.NewCenter(container.NewVBox(k.checkingText,
		bigText("Checking your details with Singpass", 24), layout.NewSpacer(), container.NewCenter(k.cancel)))

	k.confirmTitle = bigText("Please confirm your particulars", 34)
	k.particulars = widget.NewForm()
	k.host = widget.NewSelectEntry(nil)
	k.host.PlaceHolder = "Whom are you visiting?"
	k.purpose = widget.NewSelectEntry(nil)
	k.purpose.PlaceHolder = "Purpose of visit"
	k.confirmProblem = widget.NewLabel("")
	k.confirmProblem.Importance = widget.DangerImportance
	k.confirmButton = widget.NewButton("Confirm", func() {
		if err := k.engine.Confirm(k.host.Text, k.purpose.Text); err != nil {
			k.confirmProblem.SetText("Please choose whom you are visiting and why.")
		}
	})
	k.confirmButton.Importance = widget.HighImportance
	k.confirmCancel = widget.NewButton("Cancel", func() { k.engine.Cancel() })
	k.confirm = container.NewPadded(container.NewBorder(
		container.NewPadded(k.confirmTitle),
		container.NewVBox(k.confirmProblem, container.NewGridWithColumns(2, k.confirmCancel, k.confirmButton)),
		nil, nil,
		container.NewVScroll(k.particulars)))

	k.resultBand = canvas.NewRectangle(colorGreen)
	k.resultIcon = canvas.NewImageFromResource(nil)
	k.resultIcon.FillMode = canvas.ImageFillContain
	k.resultIcon.SetMinSize(fyne.NewSize(180, 180))
	k.resultTitle = bigText("", 64)
	k.resultTitle.Color = colorPaper
	k.resultDetail = widget.NewLabel("")
	k.resultDetail.Alignment = fyne.TextAlignCenter
	k.resultDetail.Wrapping = fyne.TextWrapWord
	k.resultDetail.SizeName = theme.SizeNameSubHeadingText
	detailBox := container.NewStack(canvas.NewRectangle(colorPaper), container.NewPadded(k.resultDetail))
	k.result = container.NewStack(k.resultBand, container.NewBorder(nil, container.NewPadded(detailBox), nil, nil,
		container.NewCenter(container.NewVBox(k.resultIcon, k.resultTitle))))
	k.show(nil)
}

// show makes one of the three screens visible.
func (k *Kiosk) show(which fyne.CanvasObject) {
	for _, o := range []fyne.CanvasObject{k.qrScreen, k.checking, k.confirm, k.result} {
		if o == which {
			o.Show()
		} else {
			o.Hide()
		}
	}
}

// render draws a Screen; it runs on the UI goroutine.
func (k *Kiosk) render(s kiosk.Screen) {
	k.screen = s
	switch s.Phase {
	case kiosk.PhaseStarting:
		k.show(nil)
	case kiosk.PhaseQR:
		if s.QR != k.qrShown {
			k.setQR(s.QR)
		}
		k.tick()
		k.show(k.qrScreen)
	case kiosk.PhaseChecking:
		k.show(k.checking)
	case kiosk.PhaseConfirm:
		k.showConfirm(s)
	case kiosk.PhaseResult, kiosk.PhaseUnavailable:
		icon, title, detail, band := resultText(s)
		k.resultIcon.Resource = theme.NewColoredResource(icon, theme.ColorNameForegroundOnPrimary)
		k.resultTitle.Text, k.resultBand.FillColor = title, band
		k.resultDetail.SetText(detail)
		k.resultIcon.Refresh()
		k.resultTitle.Refresh()
		k.resultBand.Refresh()
		k.show(k.result)
	}
}

func (k *Kiosk) setQR(u string) {
	// Level L keeps the modules as large as possible: nothing covers the
	// code, and a signed Verify URL is long (about 700 characters).
	q, err := qrcode.New(u, qrcode.Low)
	if err != nil {
		return // the engine only hands out URLs that fit a QR code
	}
	k.qrImage.Image = q.Image(-1) // one pixel a module, quiet zone included; scaled without blur
	k.qrImage.Refresh()
	k.qrShown = u
}

// tick moves the countdown bar: the share of the code's display time left.
func (k *Kiosk) tick() {
	s := k.screen
	if s.Phase != kiosk.PhaseQR {
		return
	}
	total := s.NextQR.Sub(s.QRStart).Seconds()
	left := time.Until(s.NextQR).Seconds()
	if total <= 0 {
		return
	}
	v := max(0, min(1, left/total))
	if v != k.countdown.Value {
		k.countdown.SetValue(v)
	}
}

// showConfirm fills the confirm screen with the visitor's particulars,
// exactly as Singpass sent them, and fresh host and purpose pickers.
func (k *Kiosk) showConfirm(s kiosk.Screen) {
	k.particulars.Items = nil
	for _, p := range s.Particulars {
		v := widget.NewLabel(p.Value)
		v.TextStyle = fyne.TextStyle{Bold: true}
		v.Wrapping = fyne.TextWrapWord
		k.particulars.Append(p.Label, v)
	}
	k.particulars.Append("Host", k.host)
	k.particulars.Append("Purpose", k.purpose)
	k.particulars.Refresh()
	for _, pick := range []struct {
		e       *widget.SelectEntry
		options []string
	}{{k.host, s.Hosts}, {k.purpose, s.Purposes}} {
		pick.e.SetOptions(pick.options)
		pick.e.SetText("")
		if s.FreeText {
			pick.e.Enable()
		} else {
			// Without free text the entry only takes a choice from its list.
			pick.e.Disable()
			pick.e.ActionItem.(fyne.Disableable).Enable()
		}
	}
	k.confirmProblem.SetText("")
	k.show(k.confirm)
}

// resultText is what a result screen says.
func resultText(s kiosk.Screen) (icon fyne.Resource, title, detail string, band color.Color) {
	switch s.Outcome {
	case kiosk.OutcomeEligible:
		return theme.ConfirmIcon(), fmt.Sprintf("%d+ verified", s.MinAge), "Thank you.", colorGreen
	case kiosk.OutcomeNotEligible:
		return theme.CancelIcon(), "Not eligible", fmt.Sprintf("You must be %d or older.", s.MinAge), colorRed
	case kiosk.OutcomeCannotDecide:
		return theme.QuestionIcon(), "Age not confirmed", "Singpass did not share a date of birth. Please approach the counter.", colorAmber
	case kiosk.OutcomeDenied:
		return theme.CancelIcon(), "Not shared", "You chose not to share your details. Scan again to retry.", colorAmber
	case kiosk.OutcomeUnavailable:
		return theme.WarningIcon(), "Verify unavailable", s.Message, colorAmber
	case kiosk.OutcomeCheckedIn:
		return theme.ConfirmIcon(), "Welcome, " + s.Name, "You are checked in. Scan the code again when you leave.", colorGreen
	case kiosk.OutcomeCheckedOut:
		return theme.ConfirmIcon(), "Goodbye, " + s.Name, "You are checked out. Thank you for visiting.", colorGreen
	case kiosk.OutcomeRefused:
		return theme.WarningIcon(), "Please see the reception", "This visit cannot be registered at the kiosk.", colorAmber
	case kiosk.OutcomeNotRecorded:
		return theme.WarningIcon(), "Not recorded", s.Message, colorAmber
	}
	return theme.WarningIcon(), "Please try again", "We could not read your details from Singpass. Please scan the new code.", colorAmber
}

// squareLayout gives its objects the largest centred square that fits,
// less a margin: the QR code grows with the screen.
type squareLayout struct{ margin float32 }

func (l squareLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	side := min(size.Width, size.Height) - 2*l.margin
	for _, o := range objs {
		side = max(side, o.MinSize().Width)
		o.Resize(fyne.NewSize(side, side))
		o.Move(fyne.NewPos((size.Width-side)/2, (size.Height-side)/2))
	}
}

func (l squareLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var m fyne.Size
	for _, o := range objs {
		m = m.Max(o.MinSize())
	}
	return m.AddWidthHeight(2*l.margin, 2*l.margin)
}
