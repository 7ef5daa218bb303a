package ui

import (
	"testing"

	"fyne.io/fyne/v2"
)

func TestWindowSize(t *testing.T) {
	for _, c := range []struct{ sw, sh, w, h int }{
		{1920, 1080, 1536, 864}, // 80 %
		{1366, 768, 1280, 768},  // at least 1280x800, where the screen has room
		{800, 480, 800, 480},
		{0, 0, 1280, 800}, // unknown
	} {
		if got := windowSize(c.sw, c.sh); got != fyne.NewSize(float32(c.w), float32(c.h)) {
			t.Errorf("screen %dx%d: window %v, want %dx%d", c.sw, c.sh, got, c.w, c.h)
		}
	}
}

// TestQRCodeFillsTheScreen lays the QR screen out at the kiosk sizes the
// issue names and checks the code's square (at least 90 % of the screen's
// short side), its whole pixels a module, and the quiet zone.
func TestQRCodeFillsTheScreen(t *testing.T) {
	for _, c := range []struct {
		w, h  float32
		minPx int
	}{{1920, 1080, 11}, {1080, 1920, 10}, {1280, 800, 8}, {800, 480, 4}} {
		r := newRig(t, &fakeEngine{}, Options{Venue: "Test Venue"})
		r.w.Resize(fyne.NewSize(c.w, c.h))
		r.showQR(verifyLength)
		k := r.k
		short := min(c.w, c.h)
		n := len(k.qrBits)
		square := k.qrImage.Size().Width // the code and its quiet zone
		if n != 89 {
			t.Fatalf("a 683-byte URL is %d modules, want 89 (version 18)", n)
		}
		if k.qrPx < c.minPx || k.qrImage.Image.Bounds().Dx() != k.qrPx*(n+2*quietZone) {
			t.Errorf("%vx%v: %d px a module, image %v; want at least %d a module, the quiet zone drawn with it",
				c.w, c.h, k.qrPx, k.qrImage.Image.Bounds(), c.minPx)
		}
		if code := k.qrImage.Position(); code.X < 0 || code.Y < 0 || square > short {
			t.Errorf("%vx%v: the code at %v, %v wide, is not all on the screen", c.w, c.h, code, square)
		}
		// The square it was given, white beyond the quiet zone.
		box := k.qrScreen.(*fyne.Container).Objects[0].(*fyne.Container).Objects[0].Size()
		if box.Width != box.Height || box.Width < 0.9*short {
			t.Errorf("%vx%v: the code's square is %v, under 90 %% of the short side %v", c.w, c.h, box, short)
		}
	}
}

// verifyLength is a URL as long as a signed Verify URL: 683 bytes.
var verifyLength = func() string {
	u := "https://app.singpass.gov.sg/sgverify?state=k1-1&v=2&signature="
	for len(u) < 683 {
		u += "x-7_q"
	}
	return u[:683]
}()
