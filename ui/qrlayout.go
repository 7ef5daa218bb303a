package ui

import (
	"image"
	"image/color"
	"math"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
)

// quietZone is the white border a QR code needs around it, in modules
// (ISO/IEC 18004): anything dark closer than that, a frame, say, is read
// as part of the code.
const quietZone = 4

// codeLayout gives the QR code the whole square it gets, white, with the
// code drawn in its middle at a whole number of device pixels a module:
// a phone's decoder, and the eye, cope far better with 5 px modules than
// with modules of 5 and 6 px side by side. Whatever is left of the square
// beyond the code is quiet zone too. It sets k.qrPx.
type codeLayout struct{ k *Kiosk }

func (l codeLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	paper, img := objs[0], objs[1]
	side := min(size.Width, size.Height)
	paper.Resize(size)
	paper.Move(fyne.NewPos(0, 0))
	k := l.k
	n := len(k.qrBits)
	if n == 0 {
		img.Resize(fyne.NewSize(0, 0))
		return
	}
	scale := k.canvasScale()
	px := modulePixels(side*scale, n)
	if px != k.qrPx || k.qrImage.Image == nil || k.qrImage.Image.Bounds().Dx() != max(px, 1)*(n+2*quietZone) {
		k.qrPx = px
		k.qrImage.Image = drawCode(k.qrBits, max(px, 1))
		k.qrImage.Refresh()
	}
	dev := float32(k.qrImage.Image.Bounds().Dx())
	units := dev / scale
	img.Resize(fyne.NewSize(units, units))
	// Start on a whole device pixel, so that every module's edge is one.
	x := float32(math.Round(float64((size.Width-units)/2*scale))) / scale
	y := float32(math.Round(float64((size.Height-units)/2*scale))) / scale
	img.Move(fyne.NewPos(x, y))
}

func (l codeLayout) MinSize([]fyne.CanvasObject) fyne.Size { return fyne.NewSize(100, 100) }

// modulePixels is the whole number of pixels a module a code of n modules
// (without its quiet zone) gets in side pixels, quiet zone included.
func modulePixels(side float32, n int) int {
	return int(side) / (n + 2*quietZone)
}

// drawCode draws bits (true: dark) px pixels a module, with the quiet zone,
// in white and ink-black.
func drawCode(bits [][]bool, px int) *image.Gray {
	n := len(bits)
	side := (n + 2*quietZone) * px
	img := image.NewGray(image.Rect(0, 0, side, side))
	for i := range img.Pix {
		img.Pix[i] = 0xFF
	}
	for r, row := range bits {
		for c, dark := range row {
			if !dark {
				continue
			}
			x0, y0 := (c+quietZone)*px, (r+quietZone)*px
			for y := y0; y < y0+px; y++ {
				line := img.Pix[y*img.Stride+x0 : y*img.Stride+x0+px]
				for i := range line {
					line[i] = 0
				}
			}
		}
	}
	return img
}

// canvasScale is the window's device pixels a Fyne unit (1 on a plain X
// display; 2 on a HiDPI panel).
func (k *Kiosk) canvasScale() float32 {
	if k.win == nil || k.win.Canvas() == nil {
		return 1
	}
	if s := k.win.Canvas().Scale(); s > 0 {
		return s
	}
	return 1
}

// qrScreenLayout arranges the QR screen: the code as large as the screen
// allows, the text above and below it on a portrait screen, and beside it
// (a column to its left) on a landscape one, so that on a 800x480 panel
// the code keeps the full height. objs: the code, the text above, below.
type qrScreenLayout struct{ k *Kiosk }

// textShare is the least width the text column keeps beside the code, as
// a share of the screen's height.
const textShare = 0.32

// The code's square is at least codeShare of the screen's short side; in
// visitor mode on a portrait screen, where the welcome's texts take much
// of the height, at least visitorCodeShare of the width.
const (
	codeShare        = 0.9
	visitorCodeShare = 0.6
)

func (l qrScreenLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	code, above, below := objs[0], objs[1], objs[2]
	gap := min(size.Width, size.Height) * 0.02
	if size.Width >= size.Height {
		// The column keeps room for the language buttons, two a row, even
		// if the code's square, beyond the code, must give some up.
		col := max(size.Height*textShare, langWidth(below)+2*gap)
		side := max(min(size.Height, size.Width-col), size.Height*codeShare)
		// What of the square the code's whole pixels leave over goes to
		// the text, down to codeShare of the height.
		side = max(l.sideFor(side), size.Height*codeShare)
		code.Resize(fyne.NewSize(side, side))
		code.Move(fyne.NewPos(size.Width-side, (size.Height-side)/2))
		w := size.Width - side - 2*gap
		stack(above, below, fyne.NewPos(gap, gap), w, size.Height-2*gap, gap)
		return
	}
	l.portrait(code, above, below, size, gap)
}

// portrait lays the texts above and below the code at their full size,
// the code taking what height is left, up to the width. When that leaves
// the code under its least share of the width, the texts shrink alike until
// it has it (or they are at minShrink: then the code shrinks, to no less
// than 4 px a module, the least a phone reads well).
func (l qrScreenLayout) portrait(code, above, below fyne.CanvasObject, size fyne.Size, gap float32) {
	w := size.Width - 2*gap
	least := size.Width * codeShare
	if l.k != nil && l.k.opts.Visitor {
		least = size.Width * visitorCodeShare
	}
	room := func(f float32) float32 {
		return size.Height - shrunkHeight(above, w, f) - shrunkHeight(below, w, f) - 4*gap
	}
	f := fitShrink(func(f float32) float32 { return size.Height - room(f) }, size.Height-least)
	side := min(size.Width, max(room(f), l.leastPixels()))
	aH, bH := shrunkHeight(above, w, f), shrunkHeight(below, w, f)
	y := max(gap, (size.Height-aH-bH-side-2*gap)/2)
	above.Resize(fyne.NewSize(w, aH))
	above.Move(fyne.NewPos(gap, y))
	y += aH + gap
	code.Resize(fyne.NewSize(side, side))
	code.Move(fyne.NewPos((size.Width-side)/2, y))
	y += side + gap
	below.Resize(fyne.NewSize(w, bH))
	below.Move(fyne.NewPos(gap, y))
}

// sideFor is the least side that draws the shown code at as many pixels a
// module as side does.
func (l qrScreenLayout) sideFor(side float32) float32 {
	if l.k == nil || len(l.k.qrBits) == 0 {
		return side
	}
	scale := l.k.canvasScale()
	n := len(l.k.qrBits) + 2*quietZone
	return float32(modulePixels(side*scale, len(l.k.qrBits))*n) / scale
}

// leastPixels is the side, in Fyne units, of the shown code at 4 device
// pixels a module with its quiet zone.
func (l qrScreenLayout) leastPixels() float32 {
	if l.k == nil || len(l.k.qrBits) == 0 {
		return 0
	}
	return float32(4*(len(l.k.qrBits)+2*quietZone)) / l.k.canvasScale()
}

// stack lays a over b in a column w wide and h high from pos, centred
// vertically; when they do not fit, the texts in both shrink alike until
// they do (see columnLayout).
func stack(a, b fyne.CanvasObject, pos fyne.Position, w, h, gap float32) {
	f := fitShrink(func(f float32) float32 { return shrunkHeight(a, w, f) + shrunkHeight(b, w, f) + gap }, h)
	hA, hB := shrunkHeight(a, w, f), shrunkHeight(b, w, f)
	y := pos.Y + max(0, (h-hA-hB-gap)/2)
	a.Resize(fyne.NewSize(w, hA))
	a.Move(fyne.NewPos(pos.X, y))
	b.Resize(fyne.NewSize(w, hB))
	b.Move(fyne.NewPos(pos.X, y+hA+gap))
}

func (qrScreenLayout) MinSize(objs []fyne.CanvasObject) fyne.Size { return fyne.NewSize(200, 200) }

// langGrid lays the language buttons out in one row where they fit, else
// in two; all alike wide where they fit so, else each as wide as its name
// needs (on a narrow column "Bahasa Melayu" takes more of its row than
// "中文").
type langGrid struct{}

// langGap is the gap between language buttons.
const langGap = 4

// cols is how many buttons a row holds at width: all of them, or half.
func (g langGrid) cols(objs []fyne.CanvasObject, width float32) int {
	if len(objs) < 3 || rowsFit(objs, len(objs), width) {
		return len(objs)
	}
	return (len(objs) + 1) / 2
}

// rowsFit reports whether the buttons, c a row, fit width at their
// minimum widths.
func rowsFit(objs []fyne.CanvasObject, c int, width float32) bool {
	for i := 0; i < len(objs); i += c {
		if rowWidth(objs[i:min(i+c, len(objs))]) > width {
			return false
		}
	}
	return true
}

func rowWidth(row []fyne.CanvasObject) float32 {
	w := float32(len(row)-1) * langGap
	for _, o := range row {
		w += o.MinSize().Width
	}
	return w
}

// langWidth is the least width the language buttons in below (a column
// holding a langGrid) take, two a row.
func langWidth(below fyne.CanvasObject) float32 {
	c, ok := below.(*fyne.Container)
	if !ok {
		return 0
	}
	var w float32
	for _, o := range c.Objects {
		if g, ok := o.(*fyne.Container); ok {
			if _, ok := g.Layout.(langGrid); ok {
				for i := 0; i < len(g.Objects); i += 2 {
					w = max(w, rowWidth(g.Objects[i:min(i+2, len(g.Objects))]))
				}
			}
		}
	}
	return w
}

func (g langGrid) heightFor(objs []fyne.CanvasObject, width float32) float32 {
	if len(objs) == 0 {
		return 0
	}
	c := g.cols(objs, width)
	rows := (len(objs) + c - 1) / c
	return float32(rows)*objs[0].MinSize().Height + float32(rows-1)*langGap
}

func (g langGrid) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	if len(objs) == 0 {
		return
	}
	c := g.cols(objs, size.Width)
	rows := (len(objs) + c - 1) / c
	h := (size.Height - float32(rows-1)*langGap) / float32(rows)
	for r := range rows {
		row := objs[r*c : min((r+1)*c, len(objs))]
		g.layoutRow(row, c, size.Width, float32(r)*(h+langGap), h)
	}
}

// layoutRow lays one row of buttons (of c a row) across width at y.
func (g langGrid) layoutRow(row []fyne.CanvasObject, c int, width, y, h float32) {
	equal := (width - float32(c-1)*langGap) / float32(c)
	widest := float32(0)
	for _, o := range row {
		widest = max(widest, o.MinSize().Width)
	}
	// Alike wide where the widest fits so; else each its minimum and a
	// share of what is left.
	extra := float32(0)
	if widest > equal {
		extra = (width - rowWidth(row)) / float32(len(row))
	}
	x := float32(0)
	for _, o := range row {
		w := equal
		if widest > equal {
			w = o.MinSize().Width + extra
		}
		o.Resize(fyne.NewSize(w, h))
		o.Move(fyne.NewPos(x, y))
		x += w + langGap
	}
}

func (g langGrid) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var m fyne.Size
	for _, o := range objs {
		m = m.Max(o.MinSize())
	}
	return m
}

// scaledHeight gives its objects a height given for refHeight, scaled with
// the window's (a logo), and shrunk with the column it is in, as a minor
// object (see minorShrink).
type scaledHeight struct {
	s      *scaler
	base   float32
	shrink float32 // 0: not shrunk
}

func (l *scaledHeight) heightFor([]fyne.CanvasObject, float32) float32 { return l.s.size(l.base) }

func (l *scaledHeight) heightShrunk(_, f float32) float32 { return l.s.size(l.base) * minorShrink(f) }

func (l *scaledHeight) setShrink(f float32) { l.shrink = f }

func (l *scaledHeight) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	for _, o := range objs {
		o.Resize(size)
		o.Move(fyne.NewPos(0, 0))
	}
}

func (l *scaledHeight) MinSize([]fyne.CanvasObject) fyne.Size {
	f := l.shrink
	if f == 0 {
		f = 1
	}
	return fyne.NewSize(0, l.s.size(l.base)*minorShrink(f))
}

// compactTheme is the kiosk's theme with tighter padding inside buttons on
// a short window (under compactBelow high), so that the visitor welcome's
// buttons leave its texts room on a 800x480 panel; their text keeps its
// size.
type compactTheme struct{ k *Kiosk }

// compactBelow is the window height under which buttons are compact.
const compactBelow = 600

func (c compactTheme) base() fyne.Theme { return c.k.app.Settings().Theme() }

func (c compactTheme) Color(n fyne.ThemeColorName, v fyne.ThemeVariant) color.Color {
	return c.base().Color(n, v)
}

func (c compactTheme) Font(s fyne.TextStyle) fyne.Resource { return c.base().Font(s) }

func (c compactTheme) Icon(n fyne.ThemeIconName) fyne.Resource { return c.base().Icon(n) }

func (c compactTheme) Size(n fyne.ThemeSizeName) float32 {
	b := c.base()
	if n == theme.SizeNameInnerPadding && c.k.scale.h > 0 && c.k.scale.h < compactBelow {
		// 0.6 of the text keeps a 20 px button at least 48 px tall, a
		// touch target, whichever font draws its label.
		return float32(math.Round(float64(b.Size(theme.SizeNameText) * 0.6)))
	}
	return b.Size(n)
}
