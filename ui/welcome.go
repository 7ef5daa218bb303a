package ui

import (
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"
)

// noSingpassFor is how long the "No Singpass?" screen stays before the
// code comes back by itself.
const noSingpassFor = 30 * time.Second

// welcome is visitor mode's part of the QR screen, and the screen for
// visitors without Singpass.
type welcome struct {
	logo       fyne.CanvasObject // the venue's logo, or nothing
	privacy    *wrapText         // what is kept, and for how long
	noSingpass *widget.Button    // opens the screen below

	screen  fyne.CanvasObject // "No Singpass? Please see our staff"
	title   *wrapText
	detail  *wrapText
	back    *widget.Button
	open    bool   // the screen is up (over the codes, which keep rotating)
	called  bool   // staff were alerted (a hub's kiosk)
	opened  uint64 // counts openings, so that an old timer does not close a newer one
	closeIn func(time.Duration, func())
}

// buildWelcome builds visitor mode's parts of the QR screen and the
// No-Singpass screen.
func (k *Kiosk) buildWelcome() {
	w := &k.welcome
	w.logo = layout.NewSpacer()
	w.logo.Hide()
	if k.opts.Logo != "" {
		img := canvas.NewImageFromFile(k.opts.Logo)
		img.FillMode = canvas.ImageFillContain
		img.ScaleMode = canvas.ImageScaleSmooth
		w.logo = container.New(&scaledHeight{s: k.scale, base: sizeLogo}, img)
	}
	w.privacy = newWrapText("", sizeNotice, false, colorInk, k.scale)
	w.privacy.minor = true
	w.noSingpass = widget.NewButton("", k.openNoSingpass)
	w.noSingpass.Importance = widget.MediumImportance

	w.title = newWrapText("", sizeHeadline, true, colorInk, k.scale)
	w.detail = newWrapText("", sizeDetail+4, false, colorInk, k.scale)
	w.back = widget.NewButton("", k.closeNoSingpass)
	w.back.Importance = widget.HighImportance
	w.screen = container.New(&marginLayout{s: k.scale}, newColumn(24, w.title, w.detail, container.NewCenter(w.back)))
	w.screen.Hide()
	if w.closeIn == nil {
		w.closeIn = func(d time.Duration, f func()) { time.AfterFunc(d, func() { fyne.Do(f) }) }
	}
}

// translateWelcome sets visitor mode's texts in the current language.
func (k *Kiosk) translateWelcome() {
	w := &k.welcome
	notice := "qr.visitor.privacy"
	if k.opts.OnHub {
		notice = "qr.visitor.privacy.hub"
	}
	w.privacy.SetText(k.tr.T(notice, "Days", days(k.opts.RetentionDays)))
	w.noSingpass.SetText(k.tr.T("qr.visitor.nosingpass"))
	w.title.SetText(k.tr.T("nosingpass.title"))
	detail := k.tr.T("nosingpass.detail", "Contact", k.contact(k.screen)) + "\n" + k.alternative(k.screen)
	if w.called {
		detail = k.tr.T("nosingpass.called") + "\n" + detail
	}
	w.detail.SetText(detail)
	w.back.SetText(k.tr.T("nosingpass.back"))
}

// openNoSingpass shows the visitor without Singpass whom to see. The
// codes rotate behind it; a scan's result replaces it, and it closes by
// itself after noSingpassFor.
func (k *Kiosk) openNoSingpass() {
	w := &k.welcome
	w.open = true
	w.opened++
	w.called = k.engine.NoSingpass()
	n := w.opened
	k.translateWelcome()
	k.show(w.screen)
	w.closeIn(noSingpassFor, func() {
		if w.open && w.opened == n {
			k.closeNoSingpass()
		}
	})
}

// closeNoSingpass goes back to the code, if the screen is still up.
func (k *Kiosk) closeNoSingpass() {
	if !k.welcome.open {
		return
	}
	k.welcome.open = false
	k.show(k.qrScreen)
}

// showQRScreen shows the code, or the No-Singpass screen while it is up.
func (k *Kiosk) showQRScreen() {
	if k.welcome.open {
		k.show(k.welcome.screen)
		return
	}
	k.show(k.qrScreen)
}

// marginLayout keeps a margin around its objects, a share of the window's
// height.
type marginLayout struct{ s *scaler }

func (m *marginLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	p := m.s.size(40)
	for _, o := range objs {
		o.Resize(fyne.NewSize(max(0, size.Width-2*p), max(0, size.Height-2*p)))
		o.Move(fyne.NewPos(p, p))
	}
}

func (m *marginLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var s fyne.Size
	for _, o := range objs {
		s = s.Max(o.MinSize())
	}
	return s
}
