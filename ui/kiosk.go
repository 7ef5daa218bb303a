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

	resultBadge  *canvas.Text
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
	win.SetContent(container.NewStack(k.qrScreen, k.checking, k.result))
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
	k.qrImage.SetMinSize(fyne.NewSize(340, 340))
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
		container.NewCenter(qrBox))

	k.checkingText = bigText("Continue on your phone…", 40)
	k.cancel = widget.NewButton("Cancel", func() { k.engine.Cancel() })
	k.cancel.Importance = widget.HighImportance
	k.checking = container.NewCenter(container.NewVBox(k.checkingText,
		bigText("Checking your details with Singpass", 24), layout.NewSpacer(), container.NewCenter(k.cancel)))

	k.resultBand = canvas.NewRectangle(colorGreen)
	k.resultBadge = bigText("", 160)
	k.resultBadge.Color = colorPaper
	k.resultTitle = bigText("", 64)
	k.resultTitle.Color = colorPaper
	k.resultDetail = widget.NewLabel("")
	k.resultDetail.Alignment = fyne.TextAlignCenter
	k.resultDetail.Wrapping = fyne.TextWrapWord
	k.resultDetail.Importance = widget.HighImportance
	detailBox := container.NewStack(canvas.NewRectangle(colorPaper), container.NewPadded(k.resultDetail))
	k.result = container.NewStack(k.resultBand, container.NewBorder(nil, container.NewPadded(detailBox), nil, nil,
		container.NewCenter(container.NewVBox(k.resultBadge, k.resultTitle))))
	k.show(nil)
}

// show makes one of the three screens visible.
func (k *Kiosk) show(which fyne.CanvasObject) {
	for _, o := range []fyne.CanvasObject{k.qrScreen, k.checking, k.result} {
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
	case kiosk.PhaseResult, kiosk.PhaseUnavailable:
		badge, title, detail, band := resultText(s)
		k.resultBadge.Text, k.resultTitle.Text, k.resultBand.FillColor = badge, title, band
		k.resultDetail.SetText(detail)
		k.resultBadge.Refresh()
		k.resultTitle.Refresh()
		k.resultBand.Refresh()
		k.show(k.result)
	}
}

func (k *Kiosk) setQR(u string) {
	q, err := qrcode.New(u, qrcode.Medium)
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

// resultText is what a result screen says.
func resultText(s kiosk.Screen) (badge, title, detail string, band color.Color) {
	switch s.Outcome {
	case kiosk.OutcomeEligible:
		return "✔", fmt.Sprintf("%d+ verified", s.MinAge), "Thank you. " + s.MaskedID, colorGreen
	case kiosk.OutcomeNotEligible:
		return "✘", "Not eligible", fmt.Sprintf("You must be %d or older.", s.MinAge), colorRed
	case kiosk.OutcomeCannotDecide:
		return "?", "Age not confirmed", "Singpass did not share a date of birth. Please approach the counter.", colorAmber
	case kiosk.OutcomeDenied:
		return "✘", "Not shared", "You chose not to share your details. Scan again to retry.", colorAmber
	case kiosk.OutcomeUnavailable:
		return "!", "Verify unavailable", s.Message, colorAmber
	}
	return "!", "Please try again", "We could not read your details from Singpass. Please scan the new code.", colorAmber
}
