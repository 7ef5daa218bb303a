package ui

import (
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"
)

// buildChecking builds the screen shown while Singpass is asked (and while
// a code is prepared, or staff are at the admin screens).
func (k *Kiosk) buildChecking() {
	k.checkingText = bigText("", 48)
	k.checkingDetail = bigText("", 26)
	k.checkingDetail.TextStyle = fyne.TextStyle{}
	k.busy = newBusyBar()
	k.cancel = widget.NewButton("", func() { k.engine.Cancel() })
	// Neutral: cancelling is no alarm, and red is kept for refusals.
	k.cancel.Importance = widget.MediumImportance
	bar := container.New(&fractionLayout{w: 0.5}, k.busy)
	k.checking = container.NewVBox(layout.NewSpacer(), k.fit(k.checkingText), k.fit(k.checkingDetail),
		container.NewPadded(bar), layout.NewSpacer(), container.NewCenter(container.New(minWidth{w: 240}, k.cancel)), layout.NewSpacer())
}

// busyBar is a block sliding to and fro on a track: something is
// happening. It moves only while started (the checking screens); the code
// screen, where the kiosk idles, has no animation.
type busyBar struct {
	widget.BaseWidget
	track, block *canvas.Rectangle
	anim         *fyne.Animation
	running      bool
	at           float32 // the block's position, 0 to 1
}

func newBusyBar() *busyBar {
	b := &busyBar{track: canvas.NewRectangle(colorRedLight), block: canvas.NewRectangle(colorRed)}
	b.track.CornerRadius, b.block.CornerRadius = 6, 6
	b.anim = fyne.NewAnimation(1200*time.Millisecond, func(f float32) {
		b.at = f
		b.place()
		canvas.Refresh(b.block)
	})
	b.anim.Curve = fyne.AnimationEaseInOut
	b.anim.AutoReverse = true
	b.anim.RepeatCount = fyne.AnimationRepeatForever
	b.ExtendBaseWidget(b)
	return b
}

// Start shows the bar moving.
func (b *busyBar) Start() {
	if !b.running {
		b.running = true
		b.Show()
		b.anim.Start()
	}
}

// Stop stops and hides it.
func (b *busyBar) Stop() {
	if b.running {
		b.running = false
		b.anim.Stop()
	}
	b.Hide()
}

// Running reports whether the bar is moving.
func (b *busyBar) Running() bool { return b.running }

// place puts the block, a third of the track wide, at its position.
func (b *busyBar) place() {
	size := b.Size()
	w := size.Width / 3
	b.block.Resize(fyne.NewSize(w, size.Height))
	b.block.Move(fyne.NewPos((size.Width-w)*b.at, 0))
}

func (b *busyBar) CreateRenderer() fyne.WidgetRenderer { return &busyRenderer{b} }

type busyRenderer struct{ b *busyBar }

func (r *busyRenderer) Layout(size fyne.Size) {
	r.b.track.Resize(size)
	r.b.place()
}
func (r *busyRenderer) MinSize() fyne.Size { return fyne.NewSize(120, 14) }
func (r *busyRenderer) Refresh() {
	r.Layout(r.b.Size())
	canvas.Refresh(r.b.track)
}
func (r *busyRenderer) Objects() []fyne.CanvasObject {
	return []fyne.CanvasObject{r.b.track, r.b.block}
}
func (r *busyRenderer) Destroy() { r.b.anim.Stop() }

// fractionLayout gives its objects a share w of the width it gets, centred,
// at their own height.
type fractionLayout struct{ w float32 }

func (f *fractionLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	for _, o := range objs {
		w := max(o.MinSize().Width, size.Width*f.w)
		o.Resize(fyne.NewSize(w, o.MinSize().Height))
		o.Move(fyne.NewPos((size.Width-w)/2, (size.Height-o.MinSize().Height)/2))
	}
}

func (f *fractionLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var m fyne.Size
	for _, o := range objs {
		m = m.Max(o.MinSize())
	}
	return m
}
