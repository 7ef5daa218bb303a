package ui

import (
	"image/color"
	"strings"
	"unicode"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"
)

// wrapText is a headline or an instruction that keeps its size (given for
// refHeight, scaled with the window's height) and wraps to the width it
// gets instead of shrinking: "Scan with Singpass app" at 6 % of a portrait
// panel's height is wider than the panel. A column that still overflows
// lowers shrink (see columnLayout).
type wrapText struct {
	widget.BaseWidget
	Text   string
	Color  color.Color
	base   float32 // size at refHeight
	style  fyne.TextStyle
	scale  *scaler
	shrink float32 // 1, or less where the column must fit a small window
	minor  bool    // shrinks first (see minorShrink): a notice, not a headline
	lines  []*canvas.Text
}

func newWrapText(s string, base float32, bold bool, c color.Color, sc *scaler) *wrapText {
	w := &wrapText{Text: s, Color: c, base: base, style: fyne.TextStyle{Bold: bold}, scale: sc, shrink: 1}
	w.ExtendBaseWidget(w)
	return w
}

// SetText changes the text; the lines are broken again at the next layout.
func (w *wrapText) SetText(s string) {
	w.Text = s
	w.Refresh()
}

// setShrink shrinks the text by f of its size (a column that does not fit).
func (w *wrapText) setShrink(f float32) {
	if w.shrink != f {
		w.shrink = f
		w.Refresh()
	}
}

// textSize is the type size at the window's height.
func (w *wrapText) textSize() float32 { return w.sizeAt(w.shrink) }

func (w *wrapText) sizeAt(shrink float32) float32 {
	full := w.scale.size(w.base)
	if w.minor {
		return max(full*minorShrink(shrink), min(full*shrink, minorPx))
	}
	return full * shrink
}

func (w *wrapText) lineHeight() float32 {
	return fyne.MeasureText("Mg", w.textSize(), w.style).Height
}

// heightFor is the height the text takes at width, at its full size.
func (w *wrapText) heightFor(width float32) float32 { return w.heightShrunk(width, 1) }

// heightShrunk is the height the text takes at width, shrunk by f.
func (w *wrapText) heightShrunk(width, f float32) float32 {
	if w.Text == "" || !w.Visible() {
		return 0
	}
	size := w.sizeAt(f)
	return float32(len(wrapLines(w.Text, size, w.style, width))) * fyne.MeasureText("Mg", size, w.style).Height
}

func (w *wrapText) MinSize() fyne.Size {
	if w.Text == "" {
		return fyne.Size{}
	}
	return fyne.NewSize(w.textSize(), w.lineHeight())
}

func (w *wrapText) CreateRenderer() fyne.WidgetRenderer { return &wrapRenderer{w: w} }

type wrapRenderer struct{ w *wrapText }

func (r *wrapRenderer) Layout(size fyne.Size) {
	w := r.w
	lines := wrapLines(w.Text, w.textSize(), w.style, size.Width)
	for len(w.lines) < len(lines) {
		t := canvas.NewText("", w.Color)
		t.Alignment = fyne.TextAlignCenter
		w.lines = append(w.lines, t)
	}
	w.lines = w.lines[:len(lines)]
	h := w.lineHeight()
	for i, s := range lines {
		t := w.lines[i]
		t.Text, t.TextSize, t.TextStyle, t.Color = s, w.textSize(), w.style, w.Color
		t.Resize(fyne.NewSize(size.Width, h))
		t.Move(fyne.NewPos(0, float32(i)*h))
		t.Refresh()
	}
}

func (r *wrapRenderer) MinSize() fyne.Size { return r.w.MinSize() }
func (r *wrapRenderer) Refresh()           { r.Layout(r.w.Size()) }
func (r *wrapRenderer) Destroy()           {}
func (r *wrapRenderer) Objects() []fyne.CanvasObject {
	objs := make([]fyne.CanvasObject, len(r.w.lines))
	for i, t := range r.w.lines {
		objs[i] = t
	}
	return objs
}

// wrapLines breaks s into lines no wider than width at size: at spaces,
// and between Chinese characters, which have none; a word wider than the
// line is broken where it must be. "\n" starts a new line.
func wrapLines(s string, size float32, style fyne.TextStyle, width float32) []string {
	if width < 4*size {
		// Not laid out yet, or no room at all: breaking a paragraph into
		// single letters would cost thousands of measurements for nothing.
		return strings.Split(s, "\n")
	}
	var out []string
	for _, para := range strings.Split(s, "\n") {
		line := ""
		for _, seg := range segments(para) {
			next := line + seg
			if line == "" || fyne.MeasureText(strings.TrimRight(next, " "), size, style).Width <= width {
				line = next
				continue
			}
			out = append(out, strings.TrimRight(line, " "))
			line = strings.TrimLeft(seg, " ")
		}
		out = append(out, breakLong(strings.TrimRight(line, " "), size, style, width)...)
	}
	// A long first word may have been kept whole above; break it too.
	var lines []string
	for _, l := range out {
		lines = append(lines, breakLong(l, size, style, width)...)
	}
	return lines
}

// segments cuts a paragraph where a line may break: after a space, and
// around every CJK character.
func segments(s string) []string {
	var segs []string
	start := 0
	for i, r := range s {
		switch {
		case unicode.Is(unicode.Han, r) || unicode.In(r, unicode.Hiragana, unicode.Katakana) || (r >= 0x3000 && r <= 0x303F) || (r >= 0xFF00 && r <= 0xFFEF):
			if i > start {
				segs = append(segs, s[start:i])
			}
			end := i + len(string(r))
			segs = append(segs, s[i:end])
			start = end
		case r == ' ':
			segs = append(segs, s[start:i+1])
			start = i + 1
		}
	}
	if start < len(s) {
		segs = append(segs, s[start:])
	}
	return segs
}

// breakLong breaks a line wider than width between characters.
func breakLong(l string, size float32, style fyne.TextStyle, width float32) []string {
	if l == "" || fyne.MeasureText(l, size, style).Width <= width {
		return []string{l}
	}
	var out []string
	cur := ""
	for _, r := range l {
		if cur != "" && fyne.MeasureText(cur+string(r), size, style).Width > width {
			out = append(out, cur)
			cur = ""
		}
		cur += string(r)
	}
	return append(out, cur)
}

// heightForer is an object whose height depends on its width.
type heightForer interface {
	heightFor(width float32) float32
}

// layoutHeightFor is a layout whose height depends on its width.
type layoutHeightFor interface {
	heightFor(objs []fyne.CanvasObject, width float32) float32
}

// heightAt is o's height at width: wrapped text as it wraps, anything else
// its minimum; nothing for a hidden object.
func heightAt(o fyne.CanvasObject, width float32) float32 {
	if !o.Visible() {
		return 0
	}
	if h, ok := o.(heightForer); ok {
		return h.heightFor(width)
	}
	if c, ok := o.(*fyne.Container); ok {
		if l, ok := c.Layout.(layoutHeightFor); ok {
			return l.heightFor(c.Objects, width)
		}
	}
	return o.MinSize().Height
}

// minShrink is the least a text shrinks to, of its size.
const minShrink = 0.4

// minorShrink is what a column's shrink f makes of a minor object's size
// (the privacy notice, the logo): it shrinks twice as fast as the
// headlines, down to minShrink, so that they keep their size longest.
func minorShrink(f float32) float32 { return max(minShrink, 2*f-1) }

// minorPx is the least size a minor text shrinks to faster than the
// headlines: the notice on a 800x480 panel is small already, and must stay
// readable.
const minorPx = 11

// columnLayout stacks its objects, each at its height for the column's
// width, with gap between them, centred vertically. When they do not fit,
// the wrapped texts in it shrink together (never below minShrink), so that a
// small window cuts nothing off.
type columnLayout struct {
	gap float32
}

// heightFor is the column's height at width, its texts at full size.
func (c columnLayout) heightFor(objs []fyne.CanvasObject, width float32) float32 {
	return c.heightShrunk(objs, width, 1)
}

// heightShrunk is the column's height at width with its texts shrunk by f.
func (c columnLayout) heightShrunk(objs []fyne.CanvasObject, width, f float32) float32 {
	var h float32
	n := 0
	for _, o := range objs {
		if !o.Visible() {
			continue
		}
		h += shrunkHeight(o, width, f)
		n++
	}
	if n > 1 {
		h += float32(n-1) * c.gap
	}
	return h
}

func (c columnLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	f := fitShrink(func(f float32) float32 { return c.heightShrunk(objs, size.Width, f) }, size.Height)
	setShrink(objs, f)
	y := max(0, (size.Height-c.heightShrunk(objs, size.Width, f))/2)
	for _, o := range objs {
		if !o.Visible() {
			continue
		}
		// Each at its shrunk height: at its full height the texts under
		// a shrunk one would be pushed down past the column's end.
		h := shrunkHeight(o, size.Width, f)
		o.Resize(fyne.NewSize(size.Width, h))
		o.Move(fyne.NewPos(0, y))
		y += h + c.gap
	}
}

// fitShrink is the largest shrink, in steps of 0.05 from 1 down to
// minShrink, at which height(f) is at most h. Every layout that shrinks
// finds it the same way, so that a column given the height its parent
// worked out shrinks by the same factor.
func fitShrink(height func(f float32) float32, h float32) float32 {
	f := float32(1)
	for f > minShrink && height(f) > h+0.5 {
		f -= 0.05
	}
	return f
}

// shrinker is what shrinks with a column that does not fit: wrapped texts
// and the logo.
type shrinker interface {
	heightShrunk(width, f float32) float32
	setShrink(f float32)
}

// shrunkHeight is o's height at width with the texts in it shrunk by f.
func shrunkHeight(o fyne.CanvasObject, width, f float32) float32 {
	if !o.Visible() {
		return 0
	}
	if s, ok := o.(shrinker); ok {
		return s.heightShrunk(width, f)
	}
	if c, ok := o.(*fyne.Container); ok {
		switch l := c.Layout.(type) {
		case columnLayout:
			return l.heightShrunk(c.Objects, width, f)
		case shrinker:
			return l.heightShrunk(width, f)
		}
	}
	return heightAt(o, width)
}

func setShrink(objs []fyne.CanvasObject, f float32) {
	for _, o := range objs {
		if s, ok := o.(shrinker); ok {
			s.setShrink(f)
		} else if c, ok := o.(*fyne.Container); ok {
			if s, ok := c.Layout.(shrinker); ok {
				s.setShrink(f)
			}
		}
	}
}

func (c columnLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var m fyne.Size
	for _, o := range objs {
		if o.Visible() {
			m.Width = max(m.Width, o.MinSize().Width)
		}
	}
	return m
}

// newColumn stacks objs in a columnLayout.
func newColumn(gap float32, objs ...fyne.CanvasObject) *fyne.Container {
	return container.New(columnLayout{gap: gap}, objs...)
}
