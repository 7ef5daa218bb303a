package ui

import (
	"image"
	"strconv"
	"time"

	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"
	"github.com/skip2/go-qrcode"

	"ndikiosk/kiosk"
)

// Type sizes on the QR screen at refHeight (800 px): the headline is 6.5 %
// of the height, the instruction under it 3.25 %, the privacy notice 2.5 %.
const (
	sizeVenue    = 34
	sizeHeadline = 52
	sizeDetail   = 26
	sizeNotice   = 20
	sizeLogo     = 96 // the logo's height
)

// buildQR builds the screen with the code to scan. In visitor mode it is
// the venue's welcome screen too: logo and name, "check in or check out",
// what is kept and for how long, and a way for those without Singpass.
func (k *Kiosk) buildQR() {
	k.qrImage = canvas.NewImageFromImage(image.NewGray(image.Rect(0, 0, 1, 1)))
	k.qrImage.FillMode = canvas.ImageFillStretch
	k.qrImage.ScaleMode = canvas.ImageScalePixels
	code := container.New(codeLayout{k}, canvas.NewRectangle(colorPaper), k.qrImage)

	k.qrCaption = newWrapText("", sizeHeadline, true, colorRed, k.scale)
	k.qrDetail = newWrapText("", sizeDetail, false, colorInk, k.scale)
	k.countdown = newCountdownBar()
	langRow := container.New(langGrid{})
	for _, l := range Languages {
		b := widget.NewButton(l.Name, func() { k.setLanguage(l.Code) })
		k.langs = append(k.langs, b)
		langRow.Add(container.NewThemeOverride(b, compactTheme{k}))
	}
	k.corner = newHoldArea(2*time.Second, k.now, func() {
		if k.admin != nil {
			k.admin.askPIN(pinAdmin)
		}
	})
	venue := k.fit(k.venue)
	above := newColumn(8, venue, k.qrCaption, k.qrDetail)
	below := newColumn(8, k.countdown, langRow)
	if k.opts.Visitor {
		k.buildWelcome()
		above = newColumn(8, k.welcome.logo, venue, k.qrCaption, k.qrDetail)
		below = newColumn(8, k.welcome.privacy, container.NewThemeOverride(k.welcome.noSingpass, compactTheme{k}), k.countdown, langRow)
	}
	k.qrScreen = container.NewStack(container.New(qrScreenLayout{k}, code, above, below),
		container.NewVBox(container.NewHBox(k.corner)))
}

// translateQR sets the QR screen's texts in the current language.
func (k *Kiosk) translateQR() {
	caption, detail := "qr.caption", "qr.detail"
	if k.opts.Visitor {
		caption = "qr.visitor.caption"
	}
	if k.opts.PhoneCamera {
		// A FAPI code is a web address: the phone's camera opens it, and
		// Singpass then hands over to its app.
		caption, detail = "qr.caption.camera", "qr.detail.camera"
		if k.opts.Visitor {
			caption = "qr.visitor.caption.camera"
		}
	}
	k.qrCaption.SetText(k.tr.T(caption))
	k.qrDetail.SetText(k.tr.T(detail))
	if k.opts.Visitor {
		k.translateWelcome()
	}
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
	q.DisableBorder = true // codeLayout draws the quiet zone, and more
	k.qrBits = q.Bitmap()
	k.qrImage.Image = nil // drawn at the size codeLayout picks
	k.qrShown = u
	k.qrScreen.Refresh() // codeLayout draws it
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

// days is n in the visitor's numerals (all four languages use 0-9).
func days(n int) string { return strconv.Itoa(n) }
