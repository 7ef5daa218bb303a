package ui

import (
	"image/color"
	"math"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
)

// luminance is WCAG 2's relative luminance of an opaque colour.
func luminance(c color.Color) float64 {
	r, g, b, _ := c.RGBA()
	lin := func(v uint32) float64 {
		s := float64(v) / 0xffff
		if s <= 0.04045 {
			return s / 12.92
		}
		return math.Pow((s+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(r) + 0.7152*lin(g) + 0.0722*lin(b)
}

// contrast is WCAG 2's contrast ratio of two opaque colours.
func contrast(a, b color.Color) float64 {
	la, lb := luminance(a), luminance(b)
	return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)
}

// over lays top (maybe translucent) over an opaque bottom, as a renderer does.
func over(bottom, top color.Color) color.Color {
	br, bg, bb, _ := bottom.RGBA()
	tr, tg, tb, ta := top.RGBA() // premultiplied
	mix := func(b, t uint32) uint8 { return uint8((t + b*(0xffff-ta)/0xffff) >> 8) }
	return color.NRGBA{R: mix(br, tr), G: mix(bg, tg), B: mix(bb, tb), A: 0xff}
}

// Every button the kiosk uses keeps its text at 4.5:1 or more against its
// background in every state Fyne draws: at rest, hovered, focused (Fyne
// lays the hover or focus colour over the button's own), and with the
// press animation's colour over either; and the danger colour as text on
// the page (a field's problem) and a hovered menu item (a drop-down) too.
func TestThemeContrast(t *testing.T) {
	th := newTheme(20)
	c := func(n fyne.ThemeColorName) color.Color { return th.Color(n, theme.VariantLight) }
	buttons := map[string][2]fyne.ThemeColorName{ // text, background: Fyne's buttonColorNames
		"high (Confirm, OK)":        {theme.ColorNameForegroundOnPrimary, theme.ColorNamePrimary},
		"danger (Delete, Quit)":     {theme.ColorNameForegroundOnError, theme.ColorNameError},
		"medium (Cancel, the keys)": {theme.ColorNameForeground, theme.ColorNameButton},
	}
	for name, b := range buttons {
		fg, bg := c(b[0]), c(b[1])
		for state, overlays := range map[string][]fyne.ThemeColorName{
			"at rest": nil, "hovered": {theme.ColorNameHover}, "focused": {theme.ColorNameFocus},
			"pressed": {theme.ColorNamePressed}, "focused and pressed": {theme.ColorNameFocus, theme.ColorNamePressed},
			"hovered and pressed": {theme.ColorNameHover, theme.ColorNamePressed},
		} {
			drawn := bg
			for _, o := range overlays {
				drawn = over(drawn, c(o))
			}
			if r := contrast(fg, drawn); r < 4.5 {
				t.Errorf("%s button %s: text %v on %v is %.2f:1", name, state, fg, drawn, r)
			}
		}
	}
	page := c(theme.ColorNameBackground)
	if r := contrast(c(theme.ColorNameError), page); r < 4.5 {
		t.Errorf("danger text on the page: %.2f:1", r)
	}
	if r := contrast(c(theme.ColorNameForeground), over(c(theme.ColorNameOverlayBackground), c(theme.ColorNameFocus))); r < 4.5 {
		t.Errorf("a hovered menu item: %.2f:1", r)
	}
}
