// Package ui draws the kiosk's screens with Fyne. It renders the engine's
// Screen snapshots and sends taps back; it holds no business logic.
package ui

import (
	"image/color"

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
)

// kioskTheme is light, high-contrast and sized for a touchscreen at arm's
// length.
type kioskTheme struct{ fyne.Theme }

func newTheme() fyne.Theme { return kioskTheme{theme.DefaultTheme()} }

func (t kioskTheme) Color(n fyne.ThemeColorName, _ fyne.ThemeVariant) color.Color {
	switch n {
	case theme.ColorNameBackground, theme.ColorNameInputBackground:
		return colorPaper
	case theme.ColorNameForeground:
		return colorInk
	case theme.ColorNamePrimary, theme.ColorNameFocus:
		return colorRed
	case theme.ColorNameForegroundOnPrimary:
		return colorPaper
	}
	return t.Theme.Color(n, theme.VariantLight)
}

func (t kioskTheme) Size(n fyne.ThemeSizeName) float32 {
	switch n {
	case theme.SizeNameText:
		return 20
	case theme.SizeNameInnerPadding:
		return 14
	}
	return t.Theme.Size(n)
}

var color0 = color.NRGBA{}

var colorShade = color.NRGBA{R: 0x14, G: 0x14, B: 0x18, A: 0xCC}
