package ui

import (
	"image"
	"ndikiosk/kiosk"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"
	"github.com/skip2/go-qrcode"
)

// buildQR builds the screen with the code to scan.
func (k *Kiosk) buildQR() {
	k.qrImage = canvas.NewImageFromImage(image.NewGray(image.Rect(0, 0, 1, 1)))
	k.qrImage.FillMode = canvas.ImageFillContain
	k.qrImage.ScaleMode = canvas.ImageScalePixels
	k.qrImage.SetMinSize(fyne.NewSize(150, 150))
	frame := canvas.NewRectangle(colorPaper)
	frame.StrokeColor = colorRed
	frame.StrokeWidth = 8
	frame.CornerRadius = 18
	k.qrCaption = bigText("", 30)
	k.qrCaption.Color = colorRed
	k.countdown = newCountdownBar()
	langRow := container.NewGridWithColumns(len(Languages))
	for _, l := range Languages {
		b := widget.NewButton(l.Name, func() { k.setLanguage(l.Code) })
		k.langs = append(k.langs, b)
		langRow.Add(b)
	}
	qrBox := container.NewStack(frame, container.NewPadded(container.NewPadded(k.qrImage)))
	k.corner = newHoldArea(2*time.Second, k.now, func() {
		if k.admin != nil {
			k.admin.askPIN(pinAdmin)
		}
	})
	top := container.NewStack(container.NewPadded(k.fit(k.venue)), container.NewHBox(k.corner, layout.NewSpacer()))
	k.qrScreen = container.NewBorder(top,
		container.NewPadded(container.NewVBox(k.fit(k.qrCaption), k.countdown, langRow)),
		nil, nil,
		container.New(squareLayout{margin: 8}, qrBox))

}

// setQR draws the code for u. It runs on the UI goroutine: encoding takes
// about 9 ms (go-qrcode tries all eight masks on a ~97-module symbol), less
// than one frame, once per rotation.
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

// tick moves the countdown bar (the share of the code's display time left,
// in countdownSteps steps) and the Face countdown, closes idle admin
// screens, and sets the timer for the next of these.
func (k *Kiosk) tick() {
	defer k.arm()
	if k.admin != nil {
		k.admin.tick()
	}
	s := k.screen
	k.face.tick(s)
	if s.Phase != kiosk.PhaseQR {
		return
	}
	if v, ok := countdownShare(s, k.now()); ok && v != k.countdown.Value {
		k.countdown.SetValue(v)
	}
}
