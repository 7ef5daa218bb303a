package ui

import (
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

// box is a drawn thing on the QR screen and where it is in the window.
type box struct {
	what     string
	pos      fyne.Position
	size     fyne.Size
	overflow string // why it does not hold what it draws, or ""
}

func (b box) overlaps(o box) bool {
	const e = 0.5 // rounding: neighbours may share an edge
	return b.pos.X+b.size.Width > o.pos.X+e && o.pos.X+o.size.Width > b.pos.X+e &&
		b.pos.Y+b.size.Height > o.pos.Y+e && o.pos.Y+o.size.Height > b.pos.Y+e
}

func (b box) inside(s fyne.Size) bool {
	const e = 0.5
	return b.pos.X >= -e && b.pos.Y >= -e && b.pos.X+b.size.Width <= s.Width+e && b.pos.Y+b.size.Height <= s.Height+e
}

// drawnBoxes walks what c draws and returns the rectangles a visitor sees
// as separate things: every line of text (as wide as its letters), every
// button, the code with its quiet zone, the logo and the countdown bar.
func drawnBoxes(c fyne.Canvas, k *Kiosk) []box {
	var out []box
	shadows := map[fyne.CanvasObject]bool{} // a Chinese headline's second drawing, which makes it bold
	for _, e := range k.bolds {
		shadows[e.shadow] = true
	}
	var walk func(o fyne.CanvasObject, at fyne.Position)
	walk = func(o fyne.CanvasObject, at fyne.Position) {
		if o == nil || !o.Visible() || shadows[o] {
			return
		}
		pos := at.Add(o.Position())
		size := o.Size()
		switch x := o.(type) {
		case *canvas.Text:
			if x.Text == "" {
				return
			}
			m := fyne.MeasureText(x.Text, x.TextSize, x.TextStyle)
			b := box{what: fmt.Sprintf("text %q", x.Text), pos: pos, size: fyne.NewSize(m.Width, m.Height)}
			switch x.Alignment {
			case fyne.TextAlignCenter:
				b.pos.X += (size.Width - m.Width) / 2
			case fyne.TextAlignTrailing:
				b.pos.X += size.Width - m.Width
			}
			if m.Width > size.Width+0.5 {
				b.overflow = fmt.Sprintf("%v wide in %v", m.Width, size.Width)
			}
			out = append(out, b)
			return
		case *widget.Button:
			b := box{what: fmt.Sprintf("button %q", x.Text), pos: pos, size: size}
			if m := x.MinSize(); m.Width > size.Width+0.5 || m.Height > size.Height+0.5 {
				b.overflow = fmt.Sprintf("needs %v, has %v", m, size)
			} else if size.Height < 48 {
				b.overflow = fmt.Sprintf("%v px tall, under a 48 px touch target", size.Height)
			}
			out = append(out, b)
			return
		case *countdownBar:
			out = append(out, box{what: "countdown", pos: pos, size: size})
			return
		case *canvas.Image:
			if x == k.qrImage {
				out = append(out, box{what: "code", pos: pos, size: size})
			} else {
				out = append(out, box{what: "logo", pos: pos, size: size})
			}
			return
		case *fyne.Container:
			for _, child := range x.Objects {
				walk(child, pos)
			}
		case fyne.Widget:
			for _, child := range test.WidgetRenderer(x).Objects() {
				walk(child, pos)
			}
		}
	}
	walk(c.Content(), fyne.NewPos(0, 0))
	return out
}

// TestQRScreenFits lays the QR screen out at the four kiosk sizes, in each
// language, in age and visitor mode (with a logo), with and without the
// sandbox bar, and checks that every text, button, the code and the logo
// are inside the window, hold what they draw, and overlap nothing else.
func TestQRScreenFits(t *testing.T) {
	logo := filepath.Join(t.TempDir(), "logo.png")
	f, _ := os.Create(logo)
	png.Encode(f, image.NewGray(image.Rect(0, 0, 300, 100)))
	f.Close()
	sizes := []fyne.Size{{Width: 1920, Height: 1080}, {Width: 1080, Height: 1920}, {Width: 1280, Height: 800}, {Width: 800, Height: 480}}
	for _, visitor := range []bool{false, true} {
		for _, sandbox := range []bool{false, true} {
			opts := Options{Venue: "Woodlands Regional Library", Visitor: visitor, Sandbox: sandbox, RetentionDays: 30}
			if visitor {
				opts.Logo = logo
			}
			r := newRig(t, &fakeEngine{}, opts)
			r.showQR(verifyLength)
			for _, size := range sizes {
				r.w.Resize(size)
				for i, l := range Languages {
					test.Tap(r.k.langs[i])
					name := fmt.Sprintf("visitor=%v sandbox=%v %vx%v %s", visitor, sandbox, size.Width, size.Height, l.Code)
					checkFits(t, name, r.w.Canvas(), r.k)
				}
			}
		}
	}
}

func checkFits(t *testing.T, name string, c fyne.Canvas, k *Kiosk) {
	t.Helper()
	boxes := drawnBoxes(c, k)
	h := c.Size().Height
	notice := float32(0)
	if k.welcome.privacy != nil {
		notice = k.welcome.privacy.textSize()
	}
	t.Logf("%s: %d px a module, code square %.0f; headline %.1f %%, instruction %.1f %% of the height; notice %.1f px",
		name, k.qrPx, k.qrScreen.(*fyne.Container).Objects[0].(*fyne.Container).Objects[0].Size().Width,
		100*k.qrCaption.textSize()/h, 100*k.qrDetail.textSize()/h, notice)
	if len(boxes) < 8 {
		t.Fatalf("%s: only %d things drawn", name, len(boxes))
	}
	for i, b := range boxes {
		if !b.inside(c.Size()) {
			t.Errorf("%s: %s at %v, %v, is not all in the %v window", name, b.what, b.pos, b.size, c.Size())
		}
		if b.overflow != "" {
			t.Errorf("%s: %s does not fit its place: %s", name, b.what, b.overflow)
		}
		for _, o := range boxes[i+1:] {
			if b.overlaps(o) {
				t.Errorf("%s: %s at %v, %v overlaps %s at %v, %v", name, b.what, b.pos, b.size, o.what, o.pos, o.size)
			}
		}
	}
}
