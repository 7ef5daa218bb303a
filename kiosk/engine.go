package kiosk

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"ndikiosk/ndi/verify"
)

// Provider is the identity service behind the QR: Singpass Verify (or the
// sandbox, which speaks the same protocol).
type Provider interface {
	NewQR(state string, lifetime time.Duration) (string, verify.QR, error)
	Exchange(ctx context.Context, cb verify.Callback) (*verify.Person, error)
}

// Phase is what the screen shows.
type Phase int

// The phases of one visit.
const (
	PhaseStarting    Phase = iota // no QR yet
	PhaseQR                       // a code to scan
	PhaseChecking                 // callback received, fetching the person's data
	PhaseResult                   // the decision
	PhaseUnavailable              // Verify could not serve: message and the alternative
)

func (p Phase) String() string {
	return [...]string{"starting", "qr", "checking", "result", "unavailable"}[p]
}

// Outcome is the decision of a visit.
type Outcome string

// Outcomes.
const (
	OutcomeEligible     Outcome = "eligible"      // age check passed
	OutcomeNotEligible  Outcome = "not-eligible"  // below the minimum age
	OutcomeCannotDecide Outcome = "cannot-decide" // no usable date of birth
	OutcomeDenied       Outcome = "denied"        // the person declined on the phone
	OutcomeError        Outcome = "error"         // data rejected (tampered, wrong key…); scan again
	OutcomeUnavailable  Outcome = "unavailable"   // Verify down or unreachable
)

// Screen is an immutable snapshot of what the kiosk shows. Observers get a
// fresh value on every change.
type Screen struct {
	Phase    Phase
	QR       string    // the signed QR URL, PhaseQR only
	QRStart  time.Time // when the shown code became valid
	NextQR   time.Time // when the next code replaces it
	Outcome  Outcome   // PhaseResult and PhaseUnavailable
	MinAge   int       // age mode threshold
	MaskedID string    // shown with the result only when released
	Message  string    // PhaseUnavailable: Verify's prescribed text
	Until    time.Time // when a result or message clears itself
	Seq      uint64    // increases with every change
}

// EngineConfig tunes the engine; zero values take the defaults shown.
type EngineConfig struct {
	KioskID         string
	MinAge          int           // 18
	QRLifetime      time.Duration // 120 s
	QRLead          time.Duration // 10 s: the next code is shown this long before the current expires
	ExchangeTimeout time.Duration // 15 s
	ResultTimeout   time.Duration // 8 s
	MaxOutstanding  int           // 4 codes at once: the shown one and a few just replaced
	Contact         string
	Alternative     string
}

// Engine runs the kiosk: it rotates the QR, guards the callback, runs the
// exchange and decides. It has no widgets; observers render its Screen.
type Engine struct {
	cfg      EngineConfig
	provider Provider
	now      func() time.Time
	log      *slog.Logger
	onQR     func(string) // told of every new QR (the sandbox's "camera")

	mu     sync.Mutex
	screen Screen
	states map[string]outstanding
	subs   []func(Screen)
	wake   chan struct{}
	ctx    context.Context
	visit  uint64 // changes with every new code and every accepted callback
}

type outstanding struct {
	expires time.Time
	issued  time.Time
}

// Callback verdicts: HTTP status and a short page for the phone.
type Verdict struct {
	Status  int
	Message string
}

// NewEngine returns an engine. now may be nil (time.Now); onQR may be nil.
func NewEngine(cfg EngineConfig, p Provider, now func() time.Time, log *slog.Logger, onQR func(string)) *Engine {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.Default()
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&cfg.QRLifetime, 120*time.Second)
	def(&cfg.QRLead, 10*time.Second)
	def(&cfg.ExchangeTimeout, 15*time.Second)
	def(&cfg.ResultTimeout, 8*time.Second)
	if cfg.MinAge == 0 {
		cfg.MinAge = 18
	}
	if cfg.MaxOutstanding == 0 {
		cfg.MaxOutstanding = 4
	}
	if cfg.QRLead >= cfg.QRLifetime {
		cfg.QRLead = cfg.QRLifetime / 10
	}
	if cfg.KioskID == "" {
		cfg.KioskID = "kiosk"
	}
	return &Engine{cfg: cfg, provider: p, now: now, log: log, onQR: onQR,
		states: map[string]outstanding{}, wake: make(chan struct{}, 1), ctx: context.Background(),
		screen: Screen{Phase: PhaseStarting, MinAge: cfg.MinAge}}
}

// Subscribe registers fn for every new Screen; it gets the current one at
// once. fn runs on the engine's goroutines: a UI must hand it to its own.
func (e *Engine) Subscribe(fn func(Screen)) {
	e.mu.Lock()
	e.subs = append(e.subs, fn)
	s := e.screen
	e.mu.Unlock()
	fn(s)
}

// Screen returns the current snapshot.
func (e *Engine) Screen() Screen {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.screen
}

// Run drives the timers until ctx ends.
func (e *Engine) Run(ctx context.Context) {
	e.mu.Lock()
	e.ctx = ctx
	e.mu.Unlock()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		next := e.Step()
		d := time.Until(next)
		if next.IsZero() || d > time.Minute {
			d = time.Minute
		}
		timer.Reset(max(d, 10*time.Millisecond))
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-e.wake:
		}
	}
}

// Step does what is due at the engine's clock and returns when it next has
// something to do. Run calls it; tests call it after moving their clock.
func (e *Engine) Step() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.now()
	for st, o := range e.states {
		if !now.Before(o.expires) {
			delete(e.states, st)
		}
	}
	switch e.screen.Phase {
	case PhaseStarting:
		e.rotate(now)
	case PhaseQR:
		if !now.Before(e.screen.NextQR) {
			e.rotate(now)
		}
	case PhaseResult, PhaseUnavailable:
		if !now.Before(e.screen.Until) {
			e.rotate(now)
		}
	case PhaseChecking:
		return now.Add(time.Second)
	}
	switch e.screen.Phase {
	case PhaseQR:
		return e.screen.NextQR
	case PhaseResult, PhaseUnavailable:
		return e.screen.Until
	}
	return now.Add(time.Second) // a failed rotation is retried
}

// rotate shows a new code. The one it replaces stays valid until it
// expires, in case a phone scanned it just before.
func (e *Engine) rotate(now time.Time) {
	state := e.cfg.KioskID + "-" + verify.NewNonce()[:32]
	u, q, err := e.provider.NewQR(state, e.cfg.QRLifetime)
	if err != nil {
		e.log.Error("cannot sign a QR code", "error", err)
		e.set(Screen{Phase: PhaseUnavailable, Outcome: OutcomeUnavailable, Message: e.unavailableMessage(), Until: now.Add(5 * time.Second)})
		return
	}
	for len(e.states) >= e.cfg.MaxOutstanding {
		oldest := ""
		for st, o := range e.states {
			if oldest == "" || o.issued.Before(e.states[oldest].issued) {
				oldest = st
			}
		}
		delete(e.states, oldest)
	}
	e.states[state] = outstanding{expires: q.Expiry, issued: now}
	e.visit++
	e.set(Screen{Phase: PhaseQR, QR: u, QRStart: q.Start, NextQR: q.Expiry.Add(-e.cfg.QRLead)})
	if e.onQR != nil {
		e.onQR(u)
	}
}

// set publishes a new screen; e.mu is held.
func (e *Engine) set(s Screen) {
	s.Seq = e.screen.Seq + 1
	s.MinAge = e.cfg.MinAge
	e.screen = s
	for _, fn := range e.subs {
		fn(s)
	}
}

func (e *Engine) poke() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// Callback handles the query of a callback request. Unknown, expired or
// reused states are refused before anything else happens; a good one is
// consumed, answered at once, and exchanged in the background.
func (e *Engine) Callback(q url.Values) Verdict {
	cb, err := verify.ParseCallback(q)
	var perr *verify.ProviderError
	state := cb.State
	switch {
	case errors.As(err, &perr):
		state = perr.State
	case err != nil:
		e.log.Warn("callback refused", "reason", err.Error())
		return Verdict{400, "This link is not valid."}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.now()
	o, known := e.states[state]
	switch {
	case !known:
		e.log.Warn("callback refused", "reason", "unknown, used or expired state")
		return Verdict{404, "This code is no longer valid. Please scan the code on the kiosk screen again."}
	case !now.Before(o.expires):
		delete(e.states, state)
		return Verdict{410, "This code has expired. Please scan the code on the kiosk screen again."}
	case e.screen.Phase == PhaseChecking:
		delete(e.states, state)
		return Verdict{409, "The kiosk is busy with another visitor. Please scan the new code in a moment."}
	}
	delete(e.states, state) // single use, whatever happens next
	if perr != nil {
		if perr.Unavailable() {
			e.showUnavailable(now)
		} else {
			e.set(Screen{Phase: PhaseResult, Outcome: OutcomeDenied, Until: now.Add(e.cfg.ResultTimeout)})
		}
		e.log.Info("visit ended on the phone", "error", perr.Code)
		e.poke()
		return Verdict{200, "Thank you. Please look at the kiosk screen."}
	}
	e.set(Screen{Phase: PhaseChecking})
	e.visit++
	visit := e.visit
	ctx, cancel := context.WithTimeout(e.ctx, e.cfg.ExchangeTimeout)
	go func() {
		defer cancel()
		p, err := e.provider.Exchange(ctx, cb)
		e.finish(visit, p, err)
	}()
	return Verdict{200, "Thank you. Please look at the kiosk screen."}
}

// finish turns the exchange's answer into the decision screen.
// A visit cancelled meanwhile is dropped.
func (e *Engine) finish(visit uint64, p *verify.Person, err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	defer e.poke()
	if visit != e.visit {
		return
	}
	now := e.now()
	if err != nil {
		e.log.Warn("exchange failed", "error", err.Error())
		if verify.Unavailable(err) {
			e.showUnavailable(now)
			return
		}
		e.set(Screen{Phase: PhaseResult, Outcome: OutcomeError, Until: now.Add(e.cfg.ResultTimeout)})
		return
	}
	out := OutcomeCannotDecide
	switch p.CheckAge(e.cfg.MinAge, now) {
	case verify.AtLeast:
		out = OutcomeEligible
	case verify.Below:
		out = OutcomeNotEligible
	}
	e.log.Info("visit decided", "outcome", string(out))
	e.set(Screen{Phase: PhaseResult, Outcome: out, MaskedID: p.MaskedID(), Until: now.Add(e.cfg.ResultTimeout)})
}

func (e *Engine) showUnavailable(now time.Time) {
	e.set(Screen{Phase: PhaseUnavailable, Outcome: OutcomeUnavailable, Message: e.unavailableMessage(), Until: now.Add(e.cfg.ResultTimeout)})
}

// unavailableMessage is the wording the Verify documentation prescribes,
// followed by the operator's alternative.
func (e *Engine) unavailableMessage() string {
	contact := e.cfg.Contact
	if contact == "" {
		contact = "the venue staff"
	}
	msg := "We are unable to validate your identity through Verify. Please contact " + contact + " if you require additional assistance."
	if alt := strings.TrimSpace(e.cfg.Alternative); alt != "" {
		msg += "\n" + alt
	}
	return msg
}

// Cancel abandons the current visit and returns to a fresh QR.
func (e *Engine) Cancel() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.rotate(e.now())
}

// Outstanding is the number of codes that a callback could still use.
func (e *Engine) Outstanding() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.states)
}
