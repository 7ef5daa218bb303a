package ui

import (
	"image"
	"math"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	"github.com/skip2/go-qrcode"

	"ndikiosk/kiosk"
)

// signScreen is the signing step (kiosk.PhaseSign): the agreement's
// title, a QR code of Sign's signing URL as large as the screen allows
// (the phone's camera opens it), the seconds left, and Cancel.
type signScreen struct {
	k       *Kiosk
	title   *canvas.Text // the agreement's title, as the venue named it
	caption *canvas.Text
	detail  *widget.Label
	left    *canvas.Text // "N s left"
	cancel  *widget.Button
	image   *canvas.Image
	bits    [][]bool // the code's modules, without the quiet zone
	url     string   // the URL the code carries
	px      int      // pixels a module as last laid out
	code    *fyne.Container
	root    fyne.CanvasObject
}

func newSignScreen(k *Kiosk) *signScreen {
	s := &signScreen{k: k}
	s.title = bigText("", 40)
	s.caption = bigText("", 32)
	s.caption.Color = colorRed
	s.detail = widget.NewLabel("")
	s.detail.Alignment = fyne.TextAlignCenter
	s.detail.Wrapping = fyne.TextWrapWord
	s.left = bigText("", 26)
	s.left.TextStyle = fyne.TextStyle{}
	s.cancel = widget.NewButtonWithIcon("", theme.CancelIcon(), k.engine.Cancel)
	s.image = canvas.NewImageFromImage(image.NewGray(image.Rect(0, 0, 1, 1)))
	s.image.FillMode = canvas.ImageFillStretch
	s.image.ScaleMode = canvas.ImageScalePixels
	s.code = container.New(signCodeLayout{s}, canvas.NewRectangle(colorPaper), s.image)
	top := container.NewVBox(k.fit(s.title), k.fit(s.caption))
	bottom := container.NewVBox(s.detail, k.fit(s.left), container.New(tallLayout{h: 64}, s.cancel))
	s.root = container.NewStack(canvas.NewRectangle(colorPaper),
		container.NewBorder(container.NewPadded(top), container.NewPadded(bottom), nil, nil, s.code))
	return s
}

func (s *signScreen) translate() {
	t := s.k.tr.T
	s.caption.Text = t("sign.caption")
	s.caption.Refresh()
	s.detail.SetText(t("sign.detail"))
	s.cancel.SetText(t("button.cancel"))
}

// render draws the sign screen for sc.
func (s *signScreen) render(sc kiosk.Screen) {
	s.k.keyboard.Attach(nil)
	s.title.Text = sc.DocName
	s.title.Refresh()
	if sc.SignURL != s.url {
		s.setCode(sc.SignURL)
	}
	s.tick(sc)
	s.k.refit()
	s.k.show(s.root)
	s.code.Refresh()
}

// setCode encodes u; the layout draws it at the size it gets.
func (s *signScreen) setCode(u string) {
	s.url, s.bits = u, nil
	if q, err := qrcode.New(u, qrcode.Medium); err == nil {
		q.DisableBorder = true
		s.bits = q.Bitmap()
	}
	s.image.Image = nil
}

// tick counts down to the screen's timeout.
func (s *signScreen) tick(sc kiosk.Screen) {
	if text := s.k.tr.T("sign.left", "Seconds", secondsLeft(sc.Until, s.k.now())); text != s.left.Text {
		s.left.Text = text
		s.left.Refresh()
		s.k.refit()
	}
}

// signCodeLayout gives the sign screen's code the largest square of its
// space, white, drawn at a whole number of device pixels a module as the
// QR screen's is (see codeLayout).
type signCodeLayout struct{ s *signScreen }

func (l signCodeLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	paper, img := objs[0], objs[1]
	paper.Resize(size)
	paper.Move(fyne.NewPos(0, 0))
	s := l.s
	n := len(s.bits)
	if n == 0 {
		img.Resize(fyne.NewSize(0, 0))
		return
	}
	scale := s.k.canvasScale()
	px := max(modulePixels(min(size.Width, size.Height)*scale, n), 1)
	if px != s.px || s.image.Image == nil {
		s.px = px
		s.image.Image = drawCode(s.bits, px)
		s.image.Refresh()
	}
	units := float32(s.image.Image.Bounds().Dx()) / scale
	img.Resize(fyne.NewSize(units, units))
	x := float32(math.Round(float64((size.Width-units)/2*scale))) / scale
	y := float32(math.Round(float64((size.Height-units)/2*scale))) / scale
	img.Move(fyne.NewPos(x, y))
}

func (signCodeLayout) MinSize([]fyne.CanvasObject) fyne.Size { return fyne.NewSize(100, 100) }
