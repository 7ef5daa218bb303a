package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"ndikiosk/kiosk"
)

// checkOutScreen asks a visitor who is checked in already whether to check
// out (kiosk.PhaseCheckOut): in the check-out colour, with the name and the
// id's last characters, and two answers.
type checkOutScreen struct {
	root   fyne.CanvasObject
	title  *canvas.Text
	who    *canvas.Text
	detail *widget.Label
	closes *canvas.Text
	yes    *widget.Button
	no     *widget.Button
}

func (k *Kiosk) buildCheckOut() {
	c := &checkOutScreen{}
	band := canvas.NewRectangle(colorTeal)
	icon := canvas.NewImageFromResource(theme.NewColoredResource(theme.LogoutIcon(), theme.ColorNameForegroundOnPrimary))
	icon.FillMode = canvas.ImageFillContain
	icon.SetMinSize(fyne.NewSize(110, 110))
	c.title = bigText("", 64)
	c.title.Color = colorPaper
	c.who = bigText("", 34)
	c.who.Color = colorPaper
	c.detail = widget.NewLabel("")
	c.detail.Alignment = fyne.TextAlignCenter
	c.detail.Wrapping = fyne.TextWrapWord
	c.detail.SizeName = theme.SizeNameSubHeadingText
	c.closes = bigText("", 24)
	c.closes.TextStyle = fyne.TextStyle{}
	c.yes = widget.NewButtonWithIcon("", theme.LogoutIcon(), func() { k.engine.CheckOut(true) })
	c.yes.Importance = widget.HighImportance
	c.no = widget.NewButton("", func() { k.engine.CheckOut(false) })
	answers := container.NewGridWithColumns(2, container.New(tallLayout{h: 72}, c.no), container.New(tallLayout{h: 72}, c.yes))
	panel := container.NewStack(canvas.NewRectangle(colorPaper),
		container.NewPadded(container.NewVBox(c.detail, answers, k.fit(c.closes))))
	c.root = container.NewStack(band, container.NewBorder(nil, container.NewPadded(panel), nil, nil,
		container.NewVBox(layout.NewSpacer(), container.NewCenter(icon), container.NewPadded(k.fit(c.title)), k.fit(c.who),
			layout.NewSpacer())))
	k.checkOut = c
}

// translateCheckOut sets the screen's fixed texts in the current language.
func (k *Kiosk) translateCheckOut() {
	c := k.checkOut
	c.title.Text = k.tr.T("checkout.title")
	c.detail.SetText(k.tr.T("checkout.detail"))
	c.yes.SetText(k.tr.T("checkout.yes"))
	c.no.SetText(k.tr.T("checkout.no"))
	c.title.Refresh()
}

// showCheckOut draws the question for s.
func (k *Kiosk) showCheckOut(s kiosk.Screen) {
	k.keyboard.Attach(nil)
	c := k.checkOut
	c.who.Text = s.Name
	if stamp := k.stamp(kiosk.Screen{MaskedID: s.MaskedID}); stamp != "" {
		c.who.Text += " · " + stamp
	}
	c.who.Refresh()
	k.tickCheckOut(s)
	k.refit()
	k.show(c.root)
}

// tickCheckOut counts down to the question's timeout.
func (k *Kiosk) tickCheckOut(s kiosk.Screen) {
	c := k.checkOut
	if text := k.tr.T("checkout.closes", "Seconds", secondsLeft(s.Until, k.now())); text != c.closes.Text {
		c.closes.Text = text
		c.closes.Refresh()
		k.refit()
	}
}

// tallLayout makes its objects at least h high: buttons a finger finds
// at arm's length.
type tallLayout struct{ h float32 }

func (t tallLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	for _, o := range objs {
		o.Resize(size)
		o.Move(fyne.NewPos(0, 0))
	}
}

func (t tallLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	s := fyne.NewSize(0, t.h)
	for _, o := range objs {
		s = s.Max(o.MinSize())
	}
	return s
}
