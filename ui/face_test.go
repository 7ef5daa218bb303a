package ui

import (
	"context"
	"net/url"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"ndikiosk/kiosk"
)

// fakeChecker gives every compare the same score.
type fakeChecker struct{ score float64 }

func (f fakeChecker) Registered(context.Context, string) (bool, error) { return true, nil }
func (f fakeChecker) Compare(context.Context, string, []byte) (float64, error) {
	return f.score, nil
}

func TestFaceScreens(t *testing.T) {
	for _, tc := range []struct {
		name  string
		score float64
	}{{"match", 0.91}, {"no match", 0.2}} {
		t.Run(tc.name, func(t *testing.T) {
			k, e, _ := setupWith(t, &fakeProvider{}, kiosk.EngineConfig{KioskID: "k1", MinAge: 18,
				Face: &kiosk.FaceConfig{Checker: fakeChecker{tc.score}, Camera: kiosk.NewSyntheticCamera(160, 120),
					Countdown: 50 * time.Millisecond, Retries: 1}})
			e.Callback(url.Values{"code": {"adult"}, "state": {state(t, e)}})
			waitFor(t, func() bool { return e.Screen().Phase == kiosk.PhaseFace })
			if !k.face.root.Visible() || k.face.title.Text != "Look at the camera" || k.face.buttons.Visible() {
				t.Fatalf("face screen: %q", k.face.title.Text)
			}
			waitFor(t, func() bool { return k.face.frames.Load() >= 2 }) // the live preview runs
			time.Sleep(60 * time.Millisecond)
			e.Step()
			waitFor(t, func() bool { p := e.Screen().Phase; return p == kiosk.PhaseResult || p == kiosk.PhaseFace })
			if tc.score > 0.7 {
				if k.resultTitle.Text != "18+ verified" {
					t.Fatalf("after a match: %q", k.resultTitle.Text)
				}
				return
			}
			if !k.face.buttons.Visible() || k.face.title.Text != "Your face did not match. Try again?" || k.face.stopLoop != nil {
				t.Fatalf("retry offer: %q, buttons %v", k.face.title.Text, k.face.buttons.Visible())
			}
			test.Tap(k.face.retry)
			time.Sleep(60 * time.Millisecond)
			e.Step()
			waitFor(t, func() bool { return e.Screen().Phase == kiosk.PhaseResult })
			if k.resultTitle.Text != "Face check failed" || k.face.stopLoop != nil {
				t.Fatalf("after the retries: %q", k.resultTitle.Text)
			}
		})
	}
}
