package kiosk

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"ndikiosk/ndi"
	"ndikiosk/ndi/sign"
)

// Signer is Sign with Singpass as the engine needs it (*sign.Client
// implements it).
type Signer interface {
	Request(ctx context.Context, pdf []byte, docName string, at sign.Place) (sign.Request, error)
	Result(ctx context.Context, req sign.Request) (sign.Result, error)
	Download(ctx context.Context, signedDocURL string) ([]byte, error)
	Verify(signed, original []byte) (sign.Verified, error)
	Cancel(ctx context.Context, requestID string) error
}

// SignConfig turns on the signing step of visitor mode: after confirming
// host and purpose, the visitor signs Document on their phone, and the
// visit is checked in only with the verified signed PDF (or, with Record,
// without it and the reason ReasonNotSigned).
type SignConfig struct {
	Signer   Signer
	Document []byte        // the agreement as sent for signing
	DocName  string        // its title, on the phone and the kiosk's screen
	Place    sign.Place    // where the signature goes
	Timeout  time.Duration // how long the sign screen waits; then the request is cancelled
	Poll     time.Duration // between Get Signing Result calls (a standalone kiosk has no webhook)
	// Record checks a visitor who did not sign in anyway, with the
	// reason ReasonNotSigned and no document; false refuses them and
	// keeps nothing.
	Record bool
}

func (s *SignConfig) check() error {
	if s != nil && (s.Signer == nil || len(s.Document) == 0 || s.DocName == "" || s.Timeout <= 0 || s.Poll <= 0) {
		return errors.New("engine: the signing step needs Sign, a document, its title, a timeout and a poll interval")
	}
	return nil
}

// ReasonNotSigned is the logged reason of a visitor checked in without
// signing the agreement (SignConfig.Record).
const ReasonNotSigned = "agreement-not-signed"

// Why an agreement was not signed: Screen.Reason of the not-signed result
// (and of a checked-in one under SignConfig.Record).
const (
	SignDeclined    = "declined"    // the visitor declined on the phone
	SignExpired     = "expired"     // Sign let the request lapse
	SignTimedOut    = "timeout"     // the sign screen's time ran out
	SignCancelled   = "cancelled"   // the visitor tapped Cancel
	SignUnavailable = "unavailable" // Sign could not take the request, or the signed PDF could not be fetched
	SignUnverified  = "unverified"  // the PDF that came back failed verification: never kept
)

// signWait is an accepted sign request the kiosk is waiting on.
type signWait struct {
	req     sign.Request
	pollAt  time.Time // the next Get Signing Result
	polling bool      // one is under way
}

// startSign sends the agreement for signing, off the engine's lock, and
// shows its QR code. The visit stays pending meanwhile; a request that
// comes back after the visit was abandoned (Cancel, a pause) is withdrawn
// at once. e.mu is held.
func (e *Engine) startSign(rec Visit) {
	e.pending = &pendingVisit{visit: rec}
	e.set(Screen{Phase: PhaseChecking})
	s := e.cfg.Sign
	visit := e.visit
	e.spawn(func() {
		ctx, cancel := context.WithTimeout(e.ctx, e.cfg.ExchangeTimeout)
		req, err := s.Signer.Request(ctx, s.Document, s.DocName, s.Place)
		cancel()
		e.mu.Lock()
		defer e.unlock()
		defer e.poke()
		now := e.now()
		switch {
		case visit != e.visit || e.pending == nil:
			if err == nil {
				e.withdrawID(req.ID)
			}
		case e.ctx.Err() != nil:
			// The kiosk is stopping: nothing is said of Sign or the visitor.
		case err != nil:
			e.log.Warn("sign request failed", "kind", signKind(err))
			e.signEnds(now, SignUnavailable)
		default:
			e.pending.sign = &signWait{req: req, pollAt: now.Add(s.Poll)}
			e.set(Screen{Phase: PhaseSign, SignURL: req.SigningURL, DocName: s.DocName, Until: now.Add(s.Timeout)})
		}
	})
}

// advanceSign gives up at the sign screen's timeout, or polls when due.
// e.mu is held.
func (e *Engine) advanceSign(now time.Time) {
	if e.pending == nil || e.pending.sign == nil {
		e.rotate(now)
		return
	}
	w := e.pending.sign
	switch {
	case !now.Before(e.screen.Until):
		e.log.Info("visitor did not sign in time")
		e.signEnds(now, SignTimedOut)
	case !w.polling && !now.Before(w.pollAt):
		e.poll(w)
	}
}

// SignNotified tells the engine that Sign reported request id signed (its
// webhook, on a hub): the result is fetched now instead of at the next
// poll. It reports whether this engine is waiting on that request; it
// only takes the engine's lock briefly, so a webhook answers in time.
func (e *Engine) SignNotified(id string) bool {
	e.mu.Lock()
	defer e.unlock()
	if e.pending == nil || e.pending.sign == nil || e.pending.sign.req.ID != id || e.screen.Phase != PhaseSign {
		return false
	}
	if now := e.now(); e.pending.sign.pollAt.After(now) {
		e.pending.sign.pollAt = now
	}
	e.poke()
	return true
}

// signDue is when the sign screen next needs the engine. e.mu is held.
func (e *Engine) signDue(now time.Time) time.Time {
	if e.pending == nil || e.pending.sign == nil {
		return now
	}
	if w := e.pending.sign; !w.polling && w.pollAt.Before(e.screen.Until) {
		return w.pollAt
	}
	return e.screen.Until
}

// poll asks Sign for the result off the engine's lock; a signed document
// is downloaded and verified there too. e.mu is held.
func (e *Engine) poll(w *signWait) {
	w.polling = true
	s := e.cfg.Sign
	var signed []byte
	var err error
	masked := e.pending.visit.MaskedID
	e.offLock(func(ctx context.Context) { signed, err = fetchSigned(ctx, s, w.req, masked) }, func(now time.Time) {
		w.polling = false
		if e.ctx.Err() != nil || e.screen.Phase != PhaseSign || e.pending.sign != w {
			return
		}
		switch {
		case err == nil:
			e.signedIn(signed)
		case errors.Is(err, sign.ErrNotSigned):
			w.pollAt = now.Add(s.Poll)
		case errors.Is(err, sign.ErrCancelled):
			e.log.Info("visitor declined to sign")
			e.pending.sign = nil // nothing left to cancel
			e.signEnds(now, SignDeclined)
		case errors.Is(err, sign.ErrExpired):
			e.log.Info("sign request expired")
			e.pending.sign = nil
			e.signEnds(now, SignExpired)
		case errors.Is(err, sign.ErrVerify):
			// Never kept, never counted as signed; the kind says what failed.
			e.log.Warn("signed document refused", "kind", signKind(err))
			e.pending.sign = nil
			e.signEnds(now, SignUnverified)
		case errors.Is(err, sign.ErrAccessExpired):
			e.log.Warn("signed document could not be fetched", "kind", signKind(err))
			e.pending.sign = nil
			e.signEnds(now, SignUnavailable)
		default:
			// A passing failure (Sign unreachable): asked again until the
			// screen's timeout.
			e.log.Warn("sign result not fetched", "kind", signKind(err))
			w.pollAt = now.Add(s.Poll)
		}
	})
}

// ErrOtherSigner: Sign says the agreement was signed by someone whose
// UIN/FIN does not end as the visitor's who scanned. It wraps
// sign.ErrVerify: such a PDF is never kept.
var ErrOtherSigner = fmt.Errorf("%w: signed by someone other than the visitor", sign.ErrVerify)

// fetchSigned is the signed agreement of req, downloaded and verified
// against the document sent, or why not; when Sign names the signer's
// UIN/FIN's last four characters they must be those of maskedID, the
// visitor's. Without the engine's lock.
func fetchSigned(ctx context.Context, s *SignConfig, req sign.Request, maskedID string) ([]byte, error) {
	res, err := s.Signer.Result(ctx, req)
	if err != nil {
		return nil, err
	}
	if res.Signer != nil && res.Signer.PartialUINFIN != "" && !sameTail(res.Signer.PartialUINFIN, maskedID) {
		return nil, ErrOtherSigner
	}
	signed, err := s.Signer.Download(ctx, res.SignedDocURL)
	if err != nil {
		return nil, err
	}
	if _, err := s.Signer.Verify(signed, s.Document); err != nil {
		return nil, err
	}
	return signed, nil
}

// sameTail reports whether partial (Sign's last four characters of the
// signer's UIN/FIN) ends maskedID, the visitor's masked UIN/FIN.
func sameTail(partial, maskedID string) bool {
	partial, maskedID = strings.ToUpper(strings.TrimSpace(partial)), strings.ToUpper(maskedID)
	return len(partial) == 4 && len(maskedID) >= 4 && strings.HasSuffix(maskedID, partial) && !strings.Contains(partial, "*")
}

// signedIn checks the visitor in with the verified signed PDF, stored
// with the visit in one transaction. e.mu is held.
func (e *Engine) signedIn(pdf []byte) {
	rec := e.pending.visit
	e.pending = nil
	rec.Document = pdf
	e.log.Info("agreement signed")
	e.set(Screen{Phase: PhaseChecking})
	e.save(rec, OutcomeCheckedIn, "", func(now time.Time, err error) {
		if err != nil {
			e.notRecorded(now, err)
			return
		}
		e.set(Screen{Phase: PhaseResult, Outcome: OutcomeCheckedIn, Name: rec.Name, MaskedID: rec.MaskedID,
			Until: now.Add(e.cfg.ResultTimeout)})
	})
}

// signEnds ends a signing step without a signature, for why (a Sign*
// constant): the open request is withdrawn, then the venue's rule applies.
// Refused: nothing is kept, like a confirmation that timed out. Recorded:
// checked in with ReasonNotSigned and no document. e.mu is held.
func (e *Engine) signEnds(now time.Time, why string) {
	e.withdraw()
	rec := e.pending.visit
	e.pending = nil
	if !e.cfg.Sign.Record {
		e.visit++
		e.set(Screen{Phase: PhaseResult, Outcome: OutcomeNotSigned, Reason: why, MaskedID: rec.MaskedID,
			Until: now.Add(e.cfg.ResultTimeout)})
		return
	}
	e.set(Screen{Phase: PhaseChecking})
	e.save(rec, OutcomeCheckedIn, ReasonNotSigned, func(now time.Time, err error) {
		if err != nil {
			e.notRecorded(now, err)
			return
		}
		e.set(Screen{Phase: PhaseResult, Outcome: OutcomeCheckedIn, Reason: why, Name: rec.Name, MaskedID: rec.MaskedID,
			Until: now.Add(e.cfg.ResultTimeout)})
	})
}

// withdraw cancels the pending visit's open sign request with Sign, in the
// background; it is forgotten here at once. A request the visitor has
// started signing cannot be cancelled: it lapses unsigned. e.mu is held.
func (e *Engine) withdraw() {
	if e.pending == nil || e.pending.sign == nil {
		return
	}
	id := e.pending.sign.req.ID
	e.pending.sign = nil
	e.withdrawID(id)
}

// withdrawID cancels the sign request id at Sign, in the background.
// e.mu is held.
func (e *Engine) withdrawID(id string) {
	signer := e.cfg.Sign.Signer
	e.spawn(func() {
		ctx, cancel := context.WithTimeout(e.ctx, e.cfg.ExchangeTimeout)
		defer cancel()
		err := signer.Cancel(ctx, id)
		if err != nil && e.ctx.Err() == nil && !errors.Is(err, sign.ErrCannotCancel) && !errors.Is(err, sign.ErrCancelled) &&
			!errors.Is(err, sign.ErrExpired) {
			e.log.Warn("sign request not cancelled", "kind", signKind(err))
		}
	})
}

// signKind is a short name of a Sign failure for the log: never the
// error's text, which may carry what Sign sent.
func signKind(err error) string {
	for _, k := range []struct {
		err  error
		kind string
	}{
		{ErrOtherSigner, "other-signer"}, {sign.ErrTampered, "tampered"}, {sign.ErrUntrustedSigner, "untrusted-signer"}, {sign.ErrNotOriginal, "not-original"},
		{sign.ErrCoverage, "coverage"}, {sign.ErrNoSignature, "no-signature"}, {sign.ErrVerify, "verify"},
		{sign.ErrAccessExpired, "access-expired"}, {sign.ErrBadInput, "bad-input"}, {sign.ErrBadResponse, "bad-response"},
		{ndi.ErrUnavailable, "unreachable"}, {ndi.ErrUnauthorised, "unauthorised"}, {ndi.ErrServer, "server-error"},
		{context.DeadlineExceeded, "timeout"},
	} {
		if errors.Is(err, k.err) {
			return k.kind
		}
	}
	return "failed"
}
