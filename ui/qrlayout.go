package ui

import (
	"image"
	"math"

	"fyne.io/fyne/v2"
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
type qrScreenLayout struct{}

// textShare is the least width the text column keeps beside the code, as
// a share of the screen's height.
const textShare = 0.32

func (qrScreenLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	code, above, below := objs[0], objs[1], objs[2]
	gap := min(size.Width, size.Height) * 0.02
	if size.Width >= size.Height {
		side := min(size.Height, size.Width-size.Height*textShare)
		code.Resize(fyne.NewSize(side, side))
		code.Move(fyne.NewPos(size.Width-side, (size.Height-side)/2))
		w := size.Width - side - 2*gap
		stack(above, below, fyne.NewPos(gap, gap), w, size.Height-2*gap, gap)
		return
	}
	w := size.Width - 2*gap
	hA, hB := heightAt(above, w), heightAt(below, w)
	side := min(size.Width, max(size.Height-hA-hB-4*gap, min(size.Width*0.9, size.Height*0.6)))
	rest := size.Height - side - 4*gap
	aH, bH := hA, hB
	if hA+hB > rest && hA+hB > 0 {
		aH = rest * hA / (hA + hB)
		bH = rest - aH
	}
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

// stack lays a over b in a column w wide and h high from pos, centred
// vertically; when they do not fit, the texts in both shrink alike until
// they do (see columnLayout).
func stack(a, b fyne.CanvasObject, pos fyne.Position, w, h, gap float32) {
	f := float32(1)
	for f > minShrink && shrunkHeight(a, w, f)+shrunkHeight(b, w, f)+gap > h {
		f -= 0.05
	}
	hA, hB := shrunkHeight(a, w, f), shrunkHeight(b, w, f)
	y := pos.Y + max(0, (h-hA-hB-gap)/2)
	a.Resize(fyne.NewSize(w, hA))
	a.Move(fyne.NewPos(pos.X, y))
	b.Resize(fyne.NewSize(w, hB))
	b.Move(fyne.NewPos(pos.X, y+hA+gap))
}

// shrunkHeight is o's height at width with the texts of a column shrunk by f.
func shrunkHeight(o fyne.CanvasObject, width, f float32) float32 {
	if c, ok := o.(*fyne.Container); ok && c.Visible() {
		if l, ok := c.Layout.(columnLayout); ok {
			return l.heightShrunk(c.Objects, width, f)
		}
	}
	return heightAt(o, width)
}

func (qrScreenLayout) MinSize(objs []fyne.CanvasObject) fyne.Size { return fyne.NewSize(200, 200) }

// langGrid lays the language buttons out in one row where they fit, else
// in two.
type langGrid struct{}

func (g langGrid) cols(objs []fyne.CanvasObject, width float32) int {
	var sum, widest float32
	for _, o := range objs {
		m := o.MinSize().Width
		sum += m
		widest = max(widest, m)
	}
	if widest*float32(len(objs)) <= width || len(objs) < 3 {
		return len(objs)
	}
	return (len(objs) + 1) / 2
}

func (g langGrid) heightFor(objs []fyne.CanvasObject, width float32) float32 {
	if len(objs) == 0 {
		return 0
	}
	c := g.cols(objs, width)
	rows := (len(objs) + c - 1) / c
	return float32(rows)*objs[0].MinSize().Height + float32(rows-1)*4
}

func (g langGrid) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	if len(objs) == 0 {
		return
	}
	c := g.cols(objs, size.Width)
	rows := (len(objs) + c - 1) / c
	w := (size.Width - float32(c-1)*4) / float32(c)
	h := (size.Height - float32(rows-1)*4) / float32(rows)
	for i, o := range objs {
		o.Resize(fyne.NewSize(w, h))
		o.Move(fyne.NewPos(float32(i%c)*(w+4), float32(i/c)*(h+4)))
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
// the window's (a logo).
type scaledHeight struct {
	s    *scaler
	base float32
}

func (l scaledHeight) heightFor([]fyne.CanvasObject, float32) float32 { return l.s.size(l.base) }

func (l scaledHeight) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	for _, o := range objs {
		o.Resize(size)
		o.Move(fyne.NewPos(0, 0))
	}
}

func (l scaledHeight) MinSize([]fyne.CanvasObject) fyne.Size {
	return fyne.NewSize(0, l.s.size(l.base))
}
