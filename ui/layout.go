package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"
)

// refHeight is the screen height the kiosk's type sizes are given for:
// every headline grows and shrinks with the window's height from there, so
// that "Age verified" is as tall a share of a 32" 1080p panel as of a
// 1280x800 laptop.
const refHeight = 800

// scaler holds the window's height, for the headlines' sizes. The root
// layout (heightLayout) sets it; it is read and written on the UI
// goroutine only.
type scaler struct{ w, h float32 }

// factor is the window's height over refHeight, 1 before the first layout.
func (s *scaler) factor() float32 {
	if s == nil || s.h <= 0 {
		return 1
	}
	return s.h / refHeight
}

// size is a type size given for refHeight, at the window's height.
func (s *scaler) size(atRef float32) float32 { return atRef * s.factor() }

// heightLayout fills the window with its objects and tells the scaler the
// window's size; when it changes, onChange re-lays the headlines.
type heightLayout struct {
	s        *scaler
	onChange func()
}

func (l heightLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	if size.Height != l.s.h || size.Width != l.s.w {
		l.s.w, l.s.h = size.Width, size.Height
		l.onChange()
	}
	for _, o := range objs {
		o.Resize(size)
		o.Move(fyne.NewPos(0, 0))
	}
}

func (l heightLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var m fyne.Size
	for _, o := range objs {
		m = m.Max(o.MinSize())
	}
	return m
}

// fitted shows a headline at its size for the window's height (its
// TextSize when fitted is called is the size at refHeight) when it fits the
// width it gets, and smaller when it does not (a Tamil title on an 800 px
// panel), down to a third of it (see least).
func fitted(t *canvas.Text, s *scaler) *fyne.Container {
	return container.New(&fitLayout{text: t, base: t.TextSize, scale: s}, t)
}

type fitLayout struct {
	text  *canvas.Text
	base  float32 // the size at refHeight
	scale *scaler
}

func (f *fitLayout) full() float32 { return f.scale.size(f.base) }

// least is the smallest size a headline shrinks to for its width: a third
// of its size at refHeight or at the window's height, whichever is less,
// so that a tall portrait screen does not make it wider than the screen.
func (f *fitLayout) least() float32 { return min(f.full(), f.base) / 3 }

func (f *fitLayout) size(width float32) float32 {
	full := f.full()
	w := fyne.MeasureText(f.text.Text, full, f.text.TextStyle).Width
	if w <= width || w == 0 {
		return full
	}
	// Widths are not quite proportional to the size (hinting, a line in
	// two fonts): check the smaller size and shrink again if need be.
	s := full * width / w * 0.98
	for range 3 {
		if w = fyne.MeasureText(f.text.Text, s, f.text.TextStyle).Width; w <= width || s <= f.least() {
			break
		}
		s *= width / w * 0.98
	}
	return max(f.least(), s)
}

func (f *fitLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	if s := f.size(size.Width); s != f.text.TextSize {
		f.text.TextSize = s
		f.text.Refresh()
	}
	for _, o := range objs {
		o.Resize(size)
		o.Move(fyne.NewPos(0, 0))
	}
}

func (f *fitLayout) MinSize([]fyne.CanvasObject) fyne.Size {
	full := f.full()
	m := fyne.MeasureText(f.text.Text, f.least(), f.text.TextStyle)
	h := fyne.MeasureText(f.text.Text, full, f.text.TextStyle).Height
	return fyne.NewSize(m.Width, h)
}

// barLayout lays a bar across the top at its own height and the screens
// under it, filling the rest: no gap between, so that a result's colour
// meets the bar.
type barLayout struct{}

func (barLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	bar, rest := objs[0], objs[1]
	h := bar.MinSize().Height
	bar.Resize(fyne.NewSize(size.Width, h))
	bar.Move(fyne.NewPos(0, 0))
	rest.Resize(fyne.NewSize(size.Width, size.Height-h))
	rest.Move(fyne.NewPos(0, h))
}

func (barLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	bar, rest := objs[0].MinSize(), objs[1].MinSize()
	return fyne.NewSize(max(bar.Width, rest.Width), bar.Height+rest.Height)
}

// minWidth keeps its objects at least w wide.
type minWidth struct{ w float32 }

func (m minWidth) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	for _, o := range objs {
		o.Resize(size)
		o.Move(fyne.NewPos(0, 0))
	}
}

func (m minWidth) MinSize(objs []fyne.CanvasObject) fyne.Size {
	s := fyne.NewSize(m.w, 0)
	for _, o := range objs {
		s = s.Max(o.MinSize())
	}
	return s
}

// countdownBar is a thin bar showing the share of the code's time left. It
// redraws only when its value changes: once a step (countdownSteps a code).
type countdownBar struct {
	widget.BaseWidget
	Value float64
	track *canvas.Rectangle
	fill  *canvas.Rectangle
}

func newCountdownBar() *countdownBar {
	b := &countdownBar{Value: 1, track: canvas.NewRectangle(colorRedLight), fill: canvas.NewRectangle(colorRed)}
	b.ExtendBaseWidget(b)
	return b
}

// SetValue sets the share left, 0 to 1.
func (b *countdownBar) SetValue(v float64) {
	b.Value = v
	b.Refresh()
}

func (b *countdownBar) CreateRenderer() fyne.WidgetRenderer { return &countdownRenderer{b} }

type countdownRenderer struct{ b *countdownBar }

func (r *countdownRenderer) Layout(size fyne.Size) {
	r.b.track.Resize(size)
	r.b.fill.Resize(fyne.NewSize(size.Width*float32(r.b.Value), size.Height))
}
func (r *countdownRenderer) MinSize() fyne.Size { return fyne.NewSize(40, 10) }
func (r *countdownRenderer) Refresh() {
	r.Layout(r.b.Size())
	canvas.Refresh(r.b.fill)
}
func (r *countdownRenderer) Objects() []fyne.CanvasObject {
	return []fyne.CanvasObject{r.b.track, r.b.fill}
}
func (r *countdownRenderer) Destroy() {}
