package app_test

import (
	"path/filepath"
	"testing"
	"time"

	"ndikiosk/config"
	. "ndikiosk/kiosk"
)

// faceVisit scans, waits for the Face step, and lets the countdown run out.
func (r *rig) faceVisit(t *testing.T, label string) Screen {
	t.Helper()
	s := r.visit(t, label, "allow", "")
	if s.Phase != PhaseFace {
		return s
	}
	return r.captureNow(t)
}

func (r *rig) captureNow(t *testing.T) Screen {
	t.Helper()
	r.clock.Add(3 * time.Second)
	r.engine.Step()
	return r.settle(t)
}

func faceOn(retries int) func(*config.Config) {
	return func(k *config.Config) {
		k.Face.Enabled, k.Face.Retries = true, &retries
		k.Face.Camera, k.Face.Width, k.Face.Height = "synthetic", 320, 240
	}
}

func TestFaceMatchPasses(t *testing.T) { forProviders(t, testFaceMatchPasses) }

func testFaceMatchPasses(t *testing.T, provider string) {
	r := newRigWith(t, provider, faceOn(2))
	s := r.visit(t, "Adult citizen", "allow", "")
	if s.Phase != PhaseFace || s.FaceAttempt != 1 || s.FaceRetry {
		t.Fatalf("after the exchange: %+v", s)
	}
	r.clock.Add(2 * time.Second)
	r.engine.Step()
	if r.engine.Screen().Phase != PhaseFace {
		t.Fatal("captured before the countdown ended")
	}
	if s := r.captureNow(t); s.Outcome != OutcomeEligible {
		t.Fatalf("matching face: %+v", s)
	}
	v := visits(t, r)
	if len(v) != 1 || v[0].FaceResult != FacePass || v[0].FaceScore != 0.93 || v[0].Outcome != OutcomeEligible {
		t.Fatalf("logged %+v", v)
	}
}

func TestFaceNoMatchRetriesThenRefuses(t *testing.T) {
	forProviders(t, testFaceNoMatchRetriesThenRefuses)
}

func testFaceNoMatchRetriesThenRefuses(t *testing.T, provider string) {
	r := newRigWith(t, provider, faceOn(1))
	s := r.faceVisit(t, "Adult permanent resident")
	if s.Phase != PhaseFace || !s.FaceRetry || s.FaceAttempt != 1 {
		t.Fatalf("after a failed attempt: %+v", s)
	}
	r.engine.FaceRetry()
	if s := r.engine.Screen(); s.Phase != PhaseFace || s.FaceRetry || s.FaceAttempt != 2 {
		t.Fatalf("retry: %+v", s)
	}
	if s := r.captureNow(t); s.Outcome != OutcomeFaceFailed || s.Reason != FaceFail {
		t.Fatalf("second failure: %+v", s)
	}
	v := visits(t, r)
	if len(v) != 1 || v[0].FaceResult != FaceFail || v[0].FaceScore != 0.12 || v[0].Outcome != OutcomeFaceFailed {
		t.Fatalf("logged %+v", v)
	}
}

func TestFaceRetryOfferTimesOut(t *testing.T) {
	r := newRig(t, faceOn(2))
	r.faceVisit(t, "Adult permanent resident")
	r.clock.Add(61 * time.Second)
	r.engine.Step()
	if s := r.engine.Screen(); s.Phase != PhaseQR {
		t.Fatalf("an unanswered retry offer: %+v", s)
	}
	if v := visits(t, r); len(v) != 0 {
		t.Fatalf("an abandoned face check was logged: %+v", v)
	}
}

func TestFaceNotRegisteredAndDown(t *testing.T) {
	r := newRig(t, faceOn(2))
	if s := r.visit(t, "Foreigner (FIN)", "allow", ""); s.Outcome != OutcomeFaceFailed || s.Reason != FaceNotRegistered {
		t.Fatalf("not registered: %+v", s)
	}
	r.engine.Cancel()
	if s := r.visit(t, "Very long name", "allow", ""); s.Outcome != OutcomeFaceUnavailable || s.Contact != "the front desk" {
		t.Fatalf("Face service down: %+v", s)
	}
	got := map[string]Outcome{}
	for _, v := range visits(t, r) {
		got[v.FaceResult] = v.Outcome
	}
	if got[FaceNotRegistered] != OutcomeFaceFailed || got[FaceUnavailable] != OutcomeFaceUnavailable {
		t.Fatalf("logged %v", got)
	}
}

func TestFaceWithoutCamera(t *testing.T) {
	r := newRig(t, func(k *config.Config) {
		faceOn(2)(k)
		k.Face.Camera = "still:" + filepath.Join(t.TempDir(), "no-such-camera")
	})
	if s := r.faceVisit(t, "Adult citizen"); s.Outcome != OutcomeFaceUnavailable || s.Reason != FaceNoCamera {
		t.Fatalf("broken camera: %+v", s)
	}
	r.clock.Add(10 * time.Second)
	r.waitQR(t) // back on a code by itself
}

func TestFaceInVisitorModeAndOneOAuthCall(t *testing.T) {
	forProviders(t, testFaceInVisitorModeAndOneOAuthCall)
}

func testFaceInVisitorModeAndOneOAuthCall(t *testing.T, provider string) {
	r := newRigWith(t, provider, func(k *config.Config) {
		faceOn(2)(k)
		k.Kiosk.Mode = ModeVisitor
		k.Visitor.Hosts, k.Visitor.Purposes = []string{"Reception"}, []string{"Meeting"}
	})
	for _, label := range []string{"Adult citizen", "Chinese script name", "Tamil script name"} {
		r.engine.Cancel()
		if s := r.faceVisit(t, label); s.Phase != PhaseConfirm {
			t.Fatalf("%s: %+v", label, s)
		}
		if err := r.engine.Confirm("Reception", "Meeting"); err != nil {
			t.Fatal(err)
		}
	}
	for _, v := range visits(t, r) {
		if v.FaceResult != FacePass || v.Outcome != OutcomeCheckedIn {
			t.Fatalf("logged %+v", v)
		}
	}
	if n := r.sb.FaceOAuthCalls(); n != 1 {
		t.Fatalf("%d OAuth calls for three visits", n)
	}
}
