// Package ui draws the kiosk's screens with Fyne. It renders the engine's
// Screen snapshots and sends taps back; it holds no business logic.
package ui

import (
	"image/color"
	"math"
	"unicode"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"

	"ndikiosk/assets"
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

// Bold text in Tamil and Chinese. Fyne draws each character in the first
// font that has it: the theme's font for the style, then Fyne's own, then
// a font found on the machine for that character alone, and that last
// search always asks for the regular weight (painter.dynamicFontMap in
// Fyne 2.8). So a bold Tamil or Chinese headline came out regular beside
// bold Latin. Tamil: the theme's bold font is the bundled Noto Sans Tamil
// Bold, which has Tamil, digits and punctuation (drawn as Noto Sans, Fyne's
// own face, draws them) and no Latin letters, so Latin falls through to
// Fyne's Noto Sans Bold. Chinese: no bold font is bundled (Droid Sans
// Fallback has one weight), so a headline with Chinese characters is
// drawn twice, the second a little to the right (emboldened).

var tamilBold = func() fyne.Resource {
	b, err := assets.Fonts.ReadFile("fonts/NotoSansTamil-Bold.ttf")
	if err != nil {
		return nil // embedded at build time
	}
	return fyne.NewStaticResource("NotoSansTamil-Bold.ttf", b)
}()

// Font is Noto Sans Tamil Bold first for bold upright text, then Fyne's
// fonts.
func (t kioskTheme) Font(s fyne.TextStyle) fyne.Resource {
	if s.Bold && !s.Italic && !s.Monospace && !s.Symbol && tamilBold != nil {
		return tamilBold
	}
	return t.Theme.Font(s)
}

// noBoldFont reports whether s has characters that no bold font covers:
// Chinese, Japanese and Korean script and their punctuation.
func noBoldFont(s string) bool {
	for _, r := range s {
		if unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul, unicode.Bopomofo) ||
			(r >= 0x3000 && r <= 0x303F) || (r >= 0xFF00 && r <= 0xFFEF) {
			return true
		}
	}
	return false
}

// emboldened is a headline drawn a second time, shifted right by a
// twenty-fourth of its size, while its text needs it (noBoldFont).
type emboldened struct {
	text, shadow *canvas.Text
}

// embolden puts a shadow behind the fitted headline t in box.
func embolden(box *fyne.Container, t *canvas.Text) (*fyne.Container, *emboldened) {
	e := &emboldened{text: t, shadow: canvas.NewText("", t.Color)}
	e.shadow.Hide()
	return container.New(&emboldenLayout{e}, box, e.shadow), e
}

// sync copies the headline to its shadow and places it; run after the
// headline is laid out.
func (e *emboldened) sync() {
	t, sh := e.text, e.shadow
	if !noBoldFont(t.Text) || !t.Visible() {
		if sh.Visible() {
			sh.Hide()
		}
		return
	}
	sh.Text, sh.TextSize, sh.Color, sh.TextStyle, sh.Alignment = t.Text, t.TextSize, t.Color, t.TextStyle, t.Alignment
	sh.Resize(t.Size())
	sh.Move(t.Position().AddXY(max(1, t.TextSize/24), 0))
	sh.Show()
	sh.Refresh()
}

type emboldenLayout struct{ e *emboldened }

func (l *emboldenLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	objs[0].Resize(size)
	objs[0].Move(fyne.NewPos(0, 0))
	l.e.sync()
}

func (l *emboldenLayout) MinSize(objs []fyne.CanvasObject) fyne.Size { return objs[0].MinSize() }
