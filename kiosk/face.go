package kiosk

import (
	"context"
	"errors"
	"ndikiosk/ndi"
	"strconv"
	"time"
)

// FaceChecker is the SingPass Face service as the engine needs it
// (face.Client implements it).
type FaceChecker interface {
	Registered(ctx context.Context, userID string) (bool, error)
	Compare(ctx context.Context, userID string, image []byte) (float64, error)
}

// FaceConfig turns the Face step on.
type FaceConfig struct {
	Checker   FaceChecker
	Camera    Camera
	Threshold float64       // pass at a score ≥ this
	Retries   int           // further attempts after a failed one
	Countdown time.Duration // from "look at the camera" to the capture
}

// Face results as logged with the visit.
const (
	FacePass          = "pass"
	FaceFail          = "fail"
	FaceNotRegistered = "not-registered"
	FaceUnavailable   = "unavailable"
	FaceNoCamera      = "no-camera"
)

// maxImageBytes bounds the still sent to the Face service.
const maxImageBytes = 2_000_000

// Camera is the Face step's camera, for the preview; nil without Face.
func (e *Engine) Camera() Camera {
	if e.cfg.Face == nil {
		return nil
	}
	return e.cfg.Face.Camera
}

// startFace begins the Face step for a verified person: eligibility first,
// off the engine's lock. e.mu is held.
func (e *Engine) startFace(rec Visit, p *ndi.Person) {
	e.pending = &pendingVisit{visit: rec, person: p}
	var ok bool
	var err error
	e.offLock(func(ctx context.Context) { ok, err = e.cfg.Face.Checker.Registered(ctx, faceUserID(p)) }, func(now time.Time) {
		switch {
		case err != nil:
			e.log.Warn("face eligibility failed", "error", err.Error())
			e.faceEnds(FaceUnavailable, 0, OutcomeFaceUnavailable)
		case !ok:
			e.faceEnds(FaceNotRegistered, 0, OutcomeFaceFailed)
		default:
			e.set(Screen{Phase: PhaseFace, FaceAttempt: 1, Until: now.Add(e.cfg.Face.Countdown)})
		}
	})
}

// offLock runs work (a network call) without the engine's lock, then
// result with the lock held, unless the visit was cancelled or replaced
// meanwhile. e.mu is held by the caller.
func (e *Engine) offLock(work func(ctx context.Context), result func(now time.Time)) {
	visit := e.visit
	e.spawn(func() {
		ctx, cancel := context.WithTimeout(e.ctx, e.cfg.ExchangeTimeout)
		defer cancel()
		work(ctx)
		e.mu.Lock()
		defer e.unlock()
		defer e.poke()
		if visit != e.visit || e.pending == nil {
			return
		}
		result(e.now())
	})
}

// faceEnds logs a visit that the Face step refused and shows why. e.mu is
// held, and released while the log is written.
func (e *Engine) faceEnds(result string, score float64, out Outcome) {
	rec := e.pending.visit
	e.pending = nil
	rec.FaceResult, rec.FaceScore = result, score
	e.save(rec, out, "face-"+result, func(now time.Time, err error) {
		if err != nil {
			e.notRecorded(now, err)
			return
		}
		e.set(Screen{Phase: PhaseResult, Outcome: out, Reason: result, MaskedID: rec.MaskedID,
			Until: now.Add(e.cfg.ResultTimeout)})
	})
}

// capture takes the still at the end of the countdown and compares it, off
// the engine's lock. The photo lives only in this goroutine. e.mu is held.
func (e *Engine) capture(now time.Time) {
	attempt := e.screen.FaceAttempt
	p := e.pending.person
	e.set(Screen{Phase: PhaseChecking, FaceAttempt: attempt})
	var score float64
	var err error
	e.offLock(func(ctx context.Context) { score, err = e.compare(ctx, faceUserID(p)) }, func(now time.Time) {
		switch {
		case errors.Is(err, ErrNoCamera):
			e.log.Error("camera failed", "error", err.Error())
			e.faceEnds(FaceNoCamera, 0, OutcomeFaceUnavailable)
		case err != nil:
			e.log.Warn("face compare failed", "error", err.Error())
			e.faceEnds(FaceUnavailable, 0, OutcomeFaceUnavailable)
		case score >= e.cfg.Face.Threshold:
			e.log.Info("face check passed", "attempt", attempt, "score", strconv.FormatFloat(score, 'f', 2, 64))
			rec := e.pending.visit
			rec.FaceResult, rec.FaceScore = FacePass, score
			e.pending = nil
			e.decide(now, rec, p)
		case attempt <= e.cfg.Face.Retries:
			e.set(Screen{Phase: PhaseFace, FaceAttempt: attempt, FaceRetry: true, Until: now.Add(e.cfg.ConfirmTimeout)})
		default:
			e.faceEnds(FaceFail, score, OutcomeFaceFailed)
		}
	})
}

func (e *Engine) compare(ctx context.Context, userID string) (float64, error) {
	frameCtx, cancel := context.WithTimeout(ctx, 3*time.Second)
	img, err := e.cfg.Face.Camera.Frame(frameCtx)
	cancel()
	if err != nil {
		if !errors.Is(err, ErrNoCamera) {
			err = errors.Join(ErrNoCamera, err)
		}
		return 0, err
	}
	if s, ok := e.cfg.Face.Camera.(interface{ Advance() }); ok {
		defer s.Advance()
	}
	jpg, err := EncodeStill(img, maxImageBytes)
	if err != nil {
		return 0, errors.Join(ErrNoCamera, err)
	}
	return e.cfg.Face.Checker.Compare(ctx, userID, jpg)
}

// faceUserID is the UIN/FIN the Face service knows the person by: the
// released uinfin, or the access token's subject.
func faceUserID(p *ndi.Person) string {
	if p.UINFIN.Present() {
		return string(p.UINFIN.Value)
	}
	return p.Subject()
}

// FaceRetry starts another attempt after a failed one.
func (e *Engine) FaceRetry() {
	e.mu.Lock()
	defer e.unlock()
	defer e.poke()
	if e.screen.Phase != PhaseFace || !e.screen.FaceRetry || e.pending == nil {
		return
	}
	e.set(Screen{Phase: PhaseFace, FaceAttempt: e.screen.FaceAttempt + 1, Until: e.now().Add(e.cfg.Face.Countdown)})
}
