package ui

import (
	"context"
	"image"
	"math"
	"strconv"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"ndikiosk/kiosk"
)

// faceScreen is the Face step: a live camera preview with an oval to put
// the face in and a countdown, or, after a failed attempt, a retry offer.
type faceScreen struct {
	k        *Kiosk
	preview  *canvas.Image
	guide    *canvas.Image
	title    *canvas.Text
	detail   *widget.Label
	retry    *widget.Button
	cancel   *widget.Button
	buttons  *fyne.Container
	root     fyne.CanvasObject
	stopLoop chan struct{}
	frames   atomic.Int64 // frames shown, for tests
}

func newFaceScreen(k *Kiosk) *faceScreen {
	f := &faceScreen{k: k}
	f.preview = canvas.NewImageFromImage(image.NewGray(image.Rect(0, 0, 4, 3)))
	f.preview.FillMode = canvas.ImageFillContain
	f.preview.SetMinSize(fyne.NewSize(160, 120))
	f.guide = canvas.NewImageFromImage(ovalRing(360, 500, 10))
	f.guide.FillMode = canvas.ImageFillStretch
	f.title = bigText("", 36)
	f.detail = widget.NewLabel("")
	f.detail.Alignment = fyne.TextAlignCenter
	f.detail.Wrapping = fyne.TextWrapWord
	f.retry = widget.NewButton("", k.engine.FaceRetry)
	f.retry.Importance = widget.HighImportance
	f.cancel = widget.NewButton("", k.engine.Cancel)
	f.buttons = container.NewGridWithColumns(2, f.cancel, f.retry)
	camera := container.NewStack(canvas.NewRectangle(colorInk), f.preview, container.New(ovalLayout{}, f.guide))
	f.root = container.NewBorder(container.NewPadded(k.fit(f.title)), container.NewPadded(container.NewVBox(f.detail, f.buttons)),
		nil, nil, camera)
	return f
}

func (f *faceScreen) translate() {
	f.retry.SetText(f.k.tr.T("button.retry"))
	f.cancel.SetText(f.k.tr.T("button.cancel"))
}

// render shows the countdown with a live preview, or the retry offer.
func (f *faceScreen) render(s kiosk.Screen) {
	if s.FaceRetry {
		f.stop()
		f.title.Text = f.k.tr.T("face.nomatch")
		f.detail.SetText("")
		f.buttons.Show()
	} else {
		f.title.Text = f.k.tr.T("face.title")
		f.buttons.Hide()
		f.tick(s)
		f.start()
	}
	f.title.Refresh()
	f.k.refit()
}

// tick updates the seconds left before the photo.
func (f *faceScreen) tick(s kiosk.Screen) {
	if s.Phase != kiosk.PhaseFace || s.FaceRetry {
		return
	}
	left := int(math.Ceil(s.Until.Sub(f.k.now()).Seconds()))
	f.detail.SetText(f.k.tr.T("face.detail", "Seconds", strconv.Itoa(max(left, 0))))
}

// start pulls camera frames about eight times a second while the preview
// shows; the loop stops with the screen.
func (f *faceScreen) start() {
	cam := f.k.engine.Camera()
	if f.stopLoop != nil || cam == nil {
		return
	}
	stop := make(chan struct{})
	f.stopLoop = stop
	go func() {
		t := time.NewTicker(125 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
				img, err := cam.Frame(ctx)
				cancel()
				if err == nil {
					f.frames.Add(1)
					fyne.Do(func() {
						f.preview.Image = img
						f.preview.Refresh()
					})
				}
			}
		}
	}()
}

func (f *faceScreen) stop() {
	if f.stopLoop != nil {
		close(f.stopLoop)
		f.stopLoop = nil
	}
}

// ovalLayout centres a face-shaped oval (taller than wide) in the preview.
type ovalLayout struct{}

func (ovalLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	h := size.Height * 0.7
	w := h * 0.72
	for _, o := range objs {
		o.Resize(fyne.NewSize(w, h))
		o.Move(fyne.NewPos((size.Width-w)/2, (size.Height-h)/2))
	}
}

func (ovalLayout) MinSize([]fyne.CanvasObject) fyne.Size { return fyne.NewSize(0, 0) }

// ovalRing draws a white elliptical ring of the given thickness on a
// transparent w×h image: the guide the face should fill.
func ovalRing(w, h, thick int) image.Image {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	a, b := float64(w)/2-1, float64(h)/2-1
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			dx, dy := (float64(x)+0.5-float64(w)/2)/a, (float64(y)+0.5-float64(h)/2)/b
			r := math.Sqrt(dx*dx + dy*dy)
			// distance from the ellipse, roughly in pixels
			d := math.Abs(r-1) * math.Min(a, b)
			if r <= 1 && d <= float64(thick) {
				img.Set(x, y, colorPaper)
			}
		}
	}
	return img
}
