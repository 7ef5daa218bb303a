package ui

import (
	"context"
	"errors"
	"image"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"ndikiosk/kiosk"
)

// stepCamera hands the preview exactly the frames a test gives it, so that
// the test knows which frame is on screen.
type stepCamera struct {
	frames chan image.Image
	synced chan struct{}
}

func newStepCamera() *stepCamera {
	return &stepCamera{frames: make(chan image.Image), synced: make(chan struct{})}
}

var errNoFrame = errors.New("no frame this time")

func (c *stepCamera) Frame(ctx context.Context) (image.Image, error) {
	select {
	case img := <-c.frames:
		return img, nil
	case <-c.synced:
		return nil, errNoFrame
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (c *stepCamera) Close() error { return nil }

// show hands img to the preview loop and returns once the loop has come
// back for another frame: by then img is drawn, and the loop draws nothing
// more until the next show. The deadline only turns a stopped loop into a
// failure instead of a hang.
func (c *stepCamera) show(t *testing.T, img image.Image) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	select {
	case c.frames <- img:
	case <-deadline:
		t.Fatal("the preview asked the camera for no frame")
	}
	select {
	case c.synced <- struct{}{}:
	case <-deadline:
		t.Fatal("the preview did not come back for the next frame")
	}
}

func TestFaceScreens(t *testing.T) {
	for _, tc := range []struct {
		name  string
		match bool
	}{{"match", true}, {"no match", false}} {
		t.Run(tc.name, func(t *testing.T) {
			cam := newStepCamera()
			r := newRig(t, &fakeEngine{camera: cam}, Options{})
			k := r.k
			r.showQR(qrURL("1"))
			r.e.publish(kiosk.Screen{Phase: kiosk.PhaseChecking})
			r.e.publish(kiosk.Screen{Phase: kiosk.PhaseFace, FaceAttempt: 1, Until: r.clock.Now().Add(3 * time.Second)})
			if !k.face.root.Visible() || k.checking.Visible() || k.face.title.Text != "Look at the camera" || k.face.buttons.Visible() {
				t.Fatalf("face screen: %q", k.face.title.Text)
			}
			if want := "Keep your face inside the oval. The photo is taken in 3 s."; k.face.detail.Text != want {
				t.Fatalf("countdown %q, want %q", k.face.detail.Text, want)
			}
			// The live preview shows the camera's frames as they come.
			for range 2 {
				img := image.NewGray(image.Rect(0, 0, 160, 120))
				cam.show(t, img)
				if k.face.preview.Image != img {
					t.Fatal("the preview does not show the camera's frame")
				}
			}
			// The countdown follows the clock, in whole seconds, down to zero.
			r.clock.Add(1500 * time.Millisecond)
			k.tick()
			if want := "Keep your face inside the oval. The photo is taken in 2 s."; k.face.detail.Text != want {
				t.Fatalf("countdown %q, want %q", k.face.detail.Text, want)
			}
			r.clock.Add(2 * time.Second)
			k.tick()
			if want := "Keep your face inside the oval. The photo is taken in 0 s."; k.face.detail.Text != want {
				t.Fatalf("countdown %q, want %q", k.face.detail.Text, want)
			}
			r.e.publish(kiosk.Screen{Phase: kiosk.PhaseChecking, FaceAttempt: 1})
			if !k.checking.Visible() || k.checkingText.Text != "Checking your face…" || k.face.stopLoop != nil {
				t.Fatalf("comparing: %q, preview running %v", k.checkingText.Text, k.face.stopLoop != nil)
			}
			until := r.clock.Now().Add(8 * time.Second)
			if tc.match {
				r.e.publish(kiosk.Screen{Phase: kiosk.PhaseResult, Outcome: kiosk.OutcomeEligible, MinAge: 18, Until: until})
				if k.resultTitle.Text != "18+ verified" {
					t.Fatalf("after a match: %q", k.resultTitle.Text)
				}
				return
			}
			r.e.publish(kiosk.Screen{Phase: kiosk.PhaseFace, FaceAttempt: 1, FaceRetry: true})
			if !k.face.buttons.Visible() || k.face.title.Text != "Your face did not match. Try again?" || k.face.stopLoop != nil {
				t.Fatalf("retry offer: %q, buttons %v", k.face.title.Text, k.face.buttons.Visible())
			}
			test.Tap(k.face.retry)
			if _, retries, _ := r.e.taps(); retries != 1 {
				t.Fatalf("Retry reached the engine %d times", retries)
			}
			r.e.publish(kiosk.Screen{Phase: kiosk.PhaseFace, FaceAttempt: 2, Until: r.clock.Now().Add(3 * time.Second)})
			if k.face.buttons.Visible() || k.face.stopLoop == nil {
				t.Fatal("the second attempt has no live preview")
			}
			img := image.NewGray(image.Rect(0, 0, 160, 120))
			cam.show(t, img)
			if k.face.preview.Image != img {
				t.Fatal("the second attempt's preview does not show the camera's frame")
			}
			r.e.publish(kiosk.Screen{Phase: kiosk.PhaseFace, FaceAttempt: 2, FaceRetry: true})
			test.Tap(k.face.cancel)
			if cancels, _, _ := r.e.taps(); cancels != 1 {
				t.Fatalf("Cancel reached the engine %d times", cancels)
			}
			r.e.publish(kiosk.Screen{Phase: kiosk.PhaseResult, Outcome: kiosk.OutcomeFaceFailed, Until: until})
			if k.resultTitle.Text != "Face check failed" || k.face.stopLoop != nil ||
				k.resultDetail.Text != "We could not match your face with your Singpass record. Please approach the counter." {
				t.Fatalf("after the retries: %q / %q", k.resultTitle.Text, k.resultDetail.Text)
			}
			r.e.publish(kiosk.Screen{Phase: kiosk.PhaseResult, Outcome: kiosk.OutcomeFaceFailed, Reason: kiosk.FaceNotRegistered, Until: until})
			if k.resultDetail.Text != "Your SingPass Face is not set up. Please approach the counter." {
				t.Fatalf("not registered: %q", k.resultDetail.Text)
			}
		})
	}
}
