// Package ui draws the kiosk's screens with Fyne. It renders the engine's
// Screen snapshots and sends taps back; it holds no business logic.
package ui

import (
	"image/color"
	"math"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
)

// Singpass red, and the result colours: high contrast on white.
var (
	colorRed      = color.NRGBA{R: 0xC8, G: 0x10, B: 0x2E, A: 0xFF}
	colorRedLight = color.NRGBA{R: 0xF3, G: 0xC4, B: 0xCC, A: 0xFF}
	colorGreen    = color.NRGBA{R: 0x0B, G: 0x7A, B: 0x33, A: 0xFF}
	colorAmber    = color.NRGBA{R: 0x8A, G: 0x4B, B: 0x00, A: 0xFF}
	colorInk      = color.NRGBA{R: 0x14, G: 0x14, B: 0x18, A: 0xFF}
	colorPaper    = color.NRGBA{R: 0xFF, G: 0xFF, B: 0xFF, A: 0xFF}
	colorMarker   = color.NRGBA{R: 0xFF, G: 0xD4, B: 0x00, A: 0xFF} // the sandbox marker's yellow, under ink
	// colorFocusShade darkens what it lies over: a focused red button gets
	// deeper red under white text, a grey one darker grey under ink.
	colorFocusShade = color.NRGBA{R: 0x00, G: 0x00, B: 0x00, A: 0x40}
)

// kioskTheme is light, high-contrast and sized for a touchscreen at arm's
// length: its text (buttons, forms, lists) grows with the window.
type kioskTheme struct {
	fyne.Theme
	text float32
}

func newTheme(text float32) fyne.Theme { return kioskTheme{theme.DefaultTheme(), text} }

// themeText is the widgets' text size for a window of w by h: 3 % of the
// short side (24 at 800 px), never under 20 (a 800x480 panel is read from
// close by) nor over 40; 20 before the window has a size. The short side,
// not the height: four language buttons must fit across a portrait
// panel.
func themeText(w, h float32) float32 {
	if w <= 0 || h <= 0 {
		return 20
	}
	return float32(math.Round(float64(max(20, min(40, 0.03*min(w, h))))))
}

// resized follows a new window size: the headlines, the QR screen, and the
// theme's text size, which re-lays every widget when it changes.
func (k *Kiosk) resized() {
	if t := themeText(k.scale.w, k.scale.h); t != k.text {
		k.text = t
		k.app.Settings().SetTheme(newTheme(t))
	}
	k.refit()
}

func (t kioskTheme) Color(n fyne.ThemeColorName, _ fyne.ThemeVariant) color.Color {
	switch n {
	case theme.ColorNameBackground, theme.ColorNameInputBackground:
		return colorPaper
	case theme.ColorNameForeground:
		return colorInk
	case theme.ColorNamePrimary:
		return colorRed
	case theme.ColorNameFocus:
		// Fyne lays the focus colour over a focused button and a hovered
		// menu item whatever their text: an opaque red made ink on red
		// (2.9:1). A shade keeps every button's own text readable.
		return colorFocusShade
	case theme.ColorNameError:
		return colorRed // Fyne's #f44336 is 3.7:1 under white text and as text on white
	case theme.ColorNameForegroundOnPrimary, theme.ColorNameForegroundOnError:
		return colorPaper
	}
	return t.Theme.Color(n, theme.VariantLight)
}

func (t kioskTheme) Size(n fyne.ThemeSizeName) float32 {
	switch n {
	case theme.SizeNameText:
		return t.text
	case theme.SizeNameInnerPadding:
		return float32(math.Round(float64(t.text * 0.7)))
	}
	return t.Theme.Size(n)
}

var color0 = color.NRGBA{}

var colorShade = color.NRGBA{R: 0x14, G: 0x14, B: 0x18, A: 0xCC}
