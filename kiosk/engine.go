package kiosk

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"ndikiosk/ndi"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

// Modes of the kiosk.
const (
	ModeAge     = "age"
	ModeVisitor = "visitor"
)

// Phase is what the screen shows.
type Phase int

// The phases of one visit.
const (
	PhaseStarting    Phase = iota // no QR yet
	PhaseQR                       // a code to scan
	PhaseChecking                 // callback received, fetching the person's data
	PhaseResult                   // the decision
	PhaseUnavailable              // Verify could not serve: message and the alternative
	PhaseConfirm                  // visitor mode: confirm particulars, pick host and purpose
	PhaseFace                     // Face step: camera preview and countdown, or a retry offer
	PhasePaused                   // staff at the admin screens, or out of service: no code shown or honoured
	PhaseCheckOut                 // visitor mode: a visitor checked in today is asked whether to check out
	PhaseSign                     // visitor mode: the agreement's signing QR, waiting for Sign with Singpass
)

func (p Phase) String() string {
	return [...]string{"starting", "qr", "checking", "result", "unavailable", "confirm", "face", "paused", "checkout", "sign"}[p]
}

// Outcome is the decision of a visit.
type Outcome string

// Outcomes.
const (
	OutcomeEligible        Outcome = "eligible"         // age check passed
	OutcomeNotEligible     Outcome = "not-eligible"     // below the minimum age
	OutcomeCannotDecide    Outcome = "cannot-decide"    // no usable date of birth
	OutcomeDenied          Outcome = "denied"           // the person declined on the phone
	OutcomeError           Outcome = "error"            // data rejected (tampered, wrong key…); scan again
	OutcomeUnavailable     Outcome = "unavailable"      // Verify down or unreachable
	OutcomeCheckedIn       Outcome = "checked-in"       // visitor registered
	OutcomeCheckedOut      Outcome = "checked-out"      // visitor left (scanned again, or by staff)
	OutcomeRefused         Outcome = "refused"          // on the deny list
	OutcomeNotRecorded     Outcome = "not-recorded"     // the visit log could not be written
	OutcomeFaceFailed      Outcome = "face-failed"      // no match after the retries, or not registered for Face
	OutcomeFaceUnavailable Outcome = "face-unavailable" // Face service or camera not working
	OutcomeWalkIn          Outcome = "walk-in"          // registered by staff on the hub's dashboard: not verified with Singpass
	OutcomeTimedOut        Outcome = "timed-out"        // visitor mode: not confirmed in time; nothing kept (screen only, never logged)
	OutcomeNotSigned       Outcome = "not-signed"       // visitor mode: the agreement was not signed and the venue refuses; nothing kept (screen only)
	// OutcomeUnverified is an error the phone's browser or Singpass reported
	// on the callback without proof (anyone who read the state off the
	// screen could send it): logged apart from what a verified exchange
	// showed, never as an outage or a refusal.
	OutcomeUnverified Outcome = "unverified"
)

// Screen is an immutable snapshot of what the kiosk shows. Observers get a
// fresh value on every change.
type Screen struct {
	Phase     Phase
	QR        string    // the signed QR URL, PhaseQR only
	QRStart   time.Time // when the shown code became valid
	NextQR    time.Time // when the next code replaces it
	Outcome   Outcome   // PhaseResult and PhaseUnavailable
	MinAge    int       // age mode threshold
	MaskedID  string    // results of a verified person: the masked id, whose last characters tell visitors apart
	DecidedAt time.Time // results: when it was decided, shown with it
	Name      string    // visitor mode: "Welcome, NAME" / "Goodbye, NAME"
	Host      string    // visitor mode: checked in by invitation, the host it named
	Message   string    // PhaseUnavailable: Verify's prescribed text; not-recorded: the reason (English, for the log)
	// The operator's contact and non-Singpass alternative as configured
	// (results and PhaseUnavailable): Contact and Alternative for any
	// language, Local by language code where the venue gave its own. Empty
	// when the venue named none: the screen then uses its own wording.
	Contact     string
	Alternative string
	Local       map[string]Wording // read only: shared by every screen
	Reason      string             // not-recorded: why, when the store said ("the disk is full"); not-signed, and checked-in without a signature: why not (Sign* constants)
	Until       time.Time          // when a result, message or confirmation clears itself
	Seq         uint64             // increases with every change

	// PhaseConfirm (visitor mode): the particulars exactly as Singpass sent
	// them, and the choices the visitor makes before submitting.
	Particulars []Particular
	Hosts       []string
	Purposes    []string
	FreeText    bool // hosts and purposes may be typed in

	// The Face step: which attempt, and whether a failed attempt offers a
	// retry (PhaseFace); during PhaseChecking a non-zero attempt means the
	// photo is being compared.
	FaceAttempt int
	FaceRetry   bool

	// PhaseSign: the agreement's title and the URL its QR code carries
	// (the visitor's phone camera opens it); Until is when the kiosk
	// gives up waiting.
	SignURL string
	DocName string
}

// Wording is the operator's contact and alternative in one language.
type Wording struct {
	Contact     string // whom to ask for help: "the front desk"
	Alternative string // the non-Singpass way: "Please approach the counter."
}

// DefaultContact and DefaultAlternative are the English wording of the
// unavailable and not-recorded messages the engine keeps (Screen.Message)
// when the venue named none; the screens translate their own.
const (
	DefaultContact     = "the venue staff"
	DefaultAlternative = "Please approach the counter."
)

// Particular is one line of a visitor's particulars.
type Particular struct {
	Attribute string // Verify attribute id, e.g. "mobileno"
	Label     string
	Value     string
}

// EngineConfig tunes the engine. app builds it from config.Config, where
// the defaults live; only MaxInFlight may be left zero.
type EngineConfig struct {
	KioskID         string
	Site            string             // the kiosk's venue on a hub, stamped on its visits
	Mode            string             // ModeAge or ModeVisitor
	Attributes      []string           // what is requested from Singpass, for the transaction log
	Hosts           []string           // visitor mode: whom a visitor may see
	Purposes        []string           // visitor mode: why
	FreeText        bool               // visitor mode: hosts and purposes may be typed in
	ConfirmTimeout  time.Duration      // time to confirm particulars, then everything is purged
	Face            *FaceConfig        // nil: no Face step
	Sign            *SignConfig        // visitor mode: the agreement signed with Singpass after confirming; nil: none
	MinAge          int                // age mode threshold
	QRLifetime      time.Duration      // how long a code may be scanned
	QRLead          time.Duration      // the next code is shown this long before the current expires
	ExchangeTimeout time.Duration      // deadline of one exchange (and of one code request)
	ResultTimeout   time.Duration      // how long a result stays on screen
	ResultMin       time.Duration      // no other result replaces one before this; another scan is told to wait
	MaxOutstanding  int                // codes awaited at once: the shown one and a few just replaced
	MaxInFlight     int                // exchanges at once, counting cancelled ones still finishing; 0: 4
	Contact         string             // the operator's contact, for the unavailable message; "": DefaultContact in the log, the screen's own wording
	Alternative     string             // the operator's non-Singpass alternative; "" likewise
	Local           map[string]Wording // the contact and alternative by language code (en, zh, ms, ta), where the venue gave them
	ServiceName     string             // named when it cannot serve: "Verify" or "Singpass"
	Sandbox         bool               // every visit is marked as the sandbox's
}

// Engine runs the kiosk: it rotates the QR, guards the callback, runs the
// exchange and decides. It has no widgets; observers render its Screen.
type Engine struct {
	cfg      EngineConfig
	provider Provider
	store    VisitStore
	now      func() time.Time
	log      *slog.Logger
	onQR     func(string) // told of new codes (the sandbox's "camera"), like a subscriber
	venue    Venue        // nil on a standalone kiosk

	mu       sync.Mutex
	screen   Screen
	states   map[string]outstanding
	subs     []*subscriber
	wake     chan struct{}
	ctx      context.Context // set once by NewEngine; cancelled by Close
	cancel   context.CancelFunc
	running  int       // goroutines the engine started that have not returned
	idle     sync.Cond // on e.mu: running fell to zero
	closed   bool      // Close has begun
	visit    uint64    // changes when a visit is abandoned (every rotation) and with every accepted callback
	pending  *pendingVisit
	leaving  *leavingVisit // PhaseCheckOut: the open visit the visitor is asked to end
	inFlight int           // exchanges running
	paused   string        // why no code is shown or honoured ("admin", "out of service"); "" when serving

	// A remote provider's codes are prepared ahead, off the lock.
	ready      *readyCode // the next code, prepared
	fetching   bool       // a code is being prepared
	wantCode   bool       // show the prepared code as soon as it arrives
	fetchAfter time.Time  // after a failed attempt, the next waits until then

	// Screens are handed out after e.mu is released, by one goroutine at
	// a time (see unlock).
	delivering bool
	qrNext     uint64 // onQR has been told of every code before this Seq
}

// subscriber is a Subscribe callback and the first Seq it has not been
// given.
type subscriber struct {
	fn   func(Screen)
	next uint64
}

type readyCode struct {
	state string
	code  Code
}

// prefetchLead is how long before a remote provider's code is due the next
// one is requested: enough for a slow round trip, little enough of its
// life spent waiting.
const prefetchLead = 5 * time.Second

// fetchBackoff spaces attempts after a failed one, so an issuer that
// refuses at once is not hammered.
const fetchBackoff = 3 * time.Second

// pendingVisit is a visitor's data while they confirm it: in memory only,
// dropped on submit, cancel or timeout.
type pendingVisit struct {
	visit  Visit
	person *ndi.Person
	hosts  []string  // the hosts offered: the venue's list when it has one, else the configured list
	sign   *signWait // the agreement's sign request, once Sign accepted it
}

// leavingVisit is the open visit of a visitor asked whether to check out.
type leavingVisit struct {
	id       int64
	name     string
	maskedID string
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

// Deps are what the engine works with.
type Deps struct {
	Provider Provider
	Store    VisitStore
	Now      func() time.Time // nil: time.Now
	Log      *slog.Logger     // nil: slog.Default()
	OnQR     func(string)     // told of the code on screen (the sandbox's "camera") the way subscribers are; may be nil
	Venue    Venue            // a hub's host list, invitations and staff alerts; nil on a standalone kiosk
}

// maxInFlight bounds the exchanges running at once, counting cancelled
// ones still finishing.
const maxInFlight = 4

// NewEngine returns an engine that works until ctx ends or Close is
// called. cfg comes complete from the config package, where every default
// lives; a missing value is an error, not a silent default.
func NewEngine(ctx context.Context, cfg EngineConfig, d Deps) (*Engine, error) {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if d.Provider == nil || d.Store == nil {
		return nil, errors.New("engine: a provider and a visit store are required")
	}
	if err := cfg.check(); err != nil {
		return nil, err
	}
	if cfg.MaxInFlight == 0 {
		cfg.MaxInFlight = maxInFlight
	}
	cfg.Local = maps.Clone(cfg.Local) // handed out with every result: nobody may change it
	ctx, cancel := context.WithCancel(ctx)
	e := &Engine{cfg: cfg, provider: d.Provider, store: d.Store, now: d.Now, log: d.Log, onQR: d.OnQR, venue: d.Venue,
		states: map[string]outstanding{}, wake: make(chan struct{}, 1), ctx: ctx, cancel: cancel,
		screen: Screen{Phase: PhaseStarting, MinAge: cfg.MinAge}}
	e.idle.L = &e.mu
	return e, nil
}

// check refuses an incomplete config.
func (cfg EngineConfig) check() error {
	switch {
	case cfg.KioskID == "" || (cfg.Mode != ModeAge && cfg.Mode != ModeVisitor):
		return errors.New("engine: kiosk id and mode are required")
	case cfg.ServiceName == "":
		return errors.New("engine: the service name is required")
	case cfg.QRLifetime <= 0 || cfg.QRLead <= 0 || cfg.QRLead >= cfg.QRLifetime:
		return errors.New("engine: the QR lead must be positive and shorter than the QR lifetime")
	case cfg.ExchangeTimeout <= 0 || cfg.ConfirmTimeout <= 0 || cfg.ResultMin <= 0 || cfg.ResultMin > cfg.ResultTimeout:
		return errors.New("engine: exchange and confirm timeouts, and a result's minimum time within its timeout, are required")
	case cfg.MinAge <= 0 || cfg.MaxOutstanding <= 0:
		return errors.New("engine: minimum age and outstanding codes are required")
	}
	if err := cfg.Face.check(); err != nil {
		return err
	}
	if cfg.Sign != nil && cfg.Mode != ModeVisitor {
		return errors.New("engine: signing an agreement is for visitor mode")
	}
	return cfg.Sign.check()
}

// check refuses an incomplete Face step; nil is no Face step.
func (f *FaceConfig) check() error {
	if f != nil && (f.Checker == nil || f.Camera == nil || f.Threshold <= 0 || f.Countdown <= 0 || f.Retries < 0) {
		return errors.New("engine: the Face step needs its service, a camera, a threshold and a countdown")
	}
	return nil
}

// Subscribe registers fn for every new Screen, starting with the current
// one. fn is called without the engine's lock, one screen at a time and in
// order, on whichever goroutine changed the screen (usually at once, on
// this one), so it may call the engine. A screen that is replaced before
// fn returns may be skipped; the newest never is. A UI hands the screen to
// its own goroutine.
func (e *Engine) Subscribe(fn func(Screen)) {
	e.mu.Lock()
	e.subs = append(e.subs, &subscriber{fn: fn})
	e.unlock()
}

// Screen returns the current snapshot.
func (e *Engine) Screen() Screen {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.screen
}

// Run drives the timers until the engine's context ends or Close is
// called.
func (e *Engine) Run() {
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
		case <-e.ctx.Done():
			return
		case <-timer.C:
		case <-e.wake:
		}
	}
}

// Close cancels what the engine is doing (exchanges, code requests, Face
// calls) and waits until every goroutine it started has returned, writes
// to the visit log included, so the log can be closed after it. Nothing
// the engine starts runs after Close returns. A subscriber must not call
// it: Close would wait for the goroutine delivering to that subscriber.
func (e *Engine) Close() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.closed = true
	e.cancel()
	for e.running > 0 {
		e.idle.Wait()
	}
}

// spawn runs fn on a goroutine that Close waits for. While Close waits,
// the work it waits for may still start what it leads to (a cancelled
// exchange's row is still written); once it is all done, nothing more is
// started. e.mu is held.
func (e *Engine) spawn(fn func()) {
	if e.closed && e.running == 0 {
		return
	}
	e.running++
	go func() {
		defer func() {
			e.mu.Lock()
			if e.running--; e.running == 0 {
				e.idle.Broadcast()
			}
			e.mu.Unlock()
		}()
		fn()
	}()
}

// Step does what is due at the engine's clock and returns when it next has
// something to do. Run calls it; tests call it after moving their clock.
func (e *Engine) Step() time.Time {
	e.mu.Lock()
	defer e.unlock()
	now := e.now()
	for st, o := range e.states {
		if !now.Before(o.expires) {
			delete(e.states, st)
		}
	}
	switch {
	case e.paused != "":
		return now.Add(time.Minute)
	case e.screen.Phase == PhaseChecking:
		return now.Add(time.Second)
	}
	e.advance(now)
	return e.nextDue(now)
}

// advance does what the screen on show has due at now. e.mu is held.
func (e *Engine) advance(now time.Time) {
	shown := e.shownExpiry()
	switch e.screen.Phase {
	case PhaseStarting:
		if !e.fetching {
			e.rotate(now)
		}
	case PhaseQR:
		switch {
		case !now.Before(shown) && e.ready == nil && (e.fetching || now.Before(e.fetchAfter)):
			// The next code is late: a dead code must not stay on screen.
			e.wantCode = true
			e.set(Screen{Phase: PhaseStarting})
		case !now.Before(e.screen.NextQR) && !e.fetching:
			e.rotate(now)
		case e.provider.Remote() && !now.Before(e.screen.NextQR.Add(-prefetchLead)):
			e.prefetch()
		}
	case PhaseFace:
		switch {
		case now.Before(e.screen.Until):
		case e.screen.FaceRetry:
			e.log.Info("visitor did not retry the face check; their data was dropped")
			e.rotate(now)
		default:
			e.capture(now)
		}
	case PhaseSign:
		e.advanceSign(now)
	case PhaseResult, PhaseUnavailable, PhaseConfirm, PhaseCheckOut:
		switch {
		case now.Before(e.screen.Until):
		case e.screen.Phase == PhaseConfirm:
			// Say so: a screen that silently turns back into a code
			// leaves the visitor wondering whether they were registered.
			e.log.Info("visitor did not confirm in time; their data was dropped")
			e.pending = nil
			e.visit++
			e.set(Screen{Phase: PhaseResult, Outcome: OutcomeTimedOut, Until: now.Add(e.cfg.ResultTimeout)})
		default:
			if e.leaving != nil {
				e.log.Info("visitor did not answer whether to check out; the visit stays open")
			}
			e.rotate(now)
		}
	}
}

// nextDue is when the screen on show next needs the engine. e.mu is held.
func (e *Engine) nextDue(now time.Time) time.Time {
	shown := e.shownExpiry()
	switch e.screen.Phase {
	case PhaseQR:
		switch {
		case e.fetching:
			if next := now.Add(time.Second); next.Before(shown) {
				return next
			}
			return shown
		case e.provider.Remote() && e.ready == nil:
			next := e.screen.NextQR.Add(-prefetchLead)
			if next.Before(e.fetchAfter) {
				next = e.fetchAfter
			}
			if shown.Before(next) && now.Before(shown) {
				next = shown
			}
			return next
		}
		return e.screen.NextQR
	case PhaseSign:
		return e.signDue(now)
	case PhaseResult, PhaseUnavailable, PhaseConfirm, PhaseFace, PhaseCheckOut:
		return e.screen.Until
	}
	return now.Add(time.Second) // a failed rotation is retried
}

// rotate shows a new code. The one it replaces stays valid until it
// expires, in case a phone scanned it just before. A remote provider's
// code comes from prefetch; until it is there the screen says so (or keeps
// a code that is still good). Whatever visit was under way is abandoned:
// its late results are dropped. e.mu is held.
func (e *Engine) rotate(now time.Time) {
	e.withdraw()
	e.pending, e.leaving = nil, nil
	e.visit++
	if !e.provider.Remote() {
		state := e.newState()
		c, err := e.provider.NewCode(e.ctx, state, e.cfg.QRLifetime)
		if err != nil {
			e.log.Error("cannot sign a QR code", "error", err)
			e.showUnavailable(now)
			return
		}
		e.show(now, state, c)
		return
	}
	if r := e.ready; r != nil {
		e.ready = nil
		if now.Before(r.code.Expiry.Add(-e.cfg.QRLead)) {
			e.show(now, r.state, r.code)
			return
		}
	}
	e.wantCode = true
	if e.screen.Phase != PhaseStarting && (e.screen.Phase != PhaseQR || !now.Before(e.shownExpiry())) {
		e.set(Screen{Phase: PhaseStarting})
	}
	e.prefetch()
}

// shownExpiry is when the code on screen stops being scannable (PhaseQR).
func (e *Engine) shownExpiry() time.Time { return e.screen.NextQR.Add(e.cfg.QRLead) }

func (e *Engine) newState() string { return e.cfg.KioskID + "-" + ndi.NewNonce()[:32] }

// show puts a code on screen and starts awaiting its callback. e.mu is held.
func (e *Engine) show(now time.Time, state string, c Code) {
	e.wantCode = false
	for len(e.states) >= e.cfg.MaxOutstanding {
		oldest := ""
		for st, o := range e.states {
			if oldest == "" || o.issued.Before(e.states[oldest].issued) {
				oldest = st
			}
		}
		delete(e.states, oldest)
	}
	accept := c.AcceptUntil
	if accept.Before(c.Expiry) {
		accept = c.Expiry
	}
	e.states[state] = outstanding{expires: accept, issued: now}
	e.set(Screen{Phase: PhaseQR, QR: c.URL, QRStart: c.Start, NextQR: c.Expiry.Add(-e.cfg.QRLead)})
}

// prefetch asks a remote provider for the next code in the background; a
// code that is wanted meanwhile is shown when it arrives. A failure shows
// the unavailable screen if the kiosk has no code left to show, and is
// retried when that clears. e.mu is held.
func (e *Engine) prefetch() {
	if !e.provider.Remote() || e.fetching || e.ready != nil || e.now().Before(e.fetchAfter) {
		return
	}
	e.fetching = true
	state := e.newState()
	e.spawn(func() {
		ctx, cancel := context.WithTimeout(e.ctx, e.cfg.ExchangeTimeout)
		c, err := e.provider.NewCode(ctx, state, e.cfg.QRLifetime)
		cancel()
		e.mu.Lock()
		defer e.unlock()
		defer e.poke()
		e.fetching = false
		now := e.now()
		if err != nil {
			e.fetchAfter = now.Add(fetchBackoff)
			e.log.Error("cannot prepare a code", "error", err.Error())
			if e.screen.Phase == PhaseStarting || (e.screen.Phase == PhaseQR && !now.Before(e.shownExpiry())) {
				e.wantCode = false
				e.showUnavailable(now)
			}
			return
		}
		e.ready = &readyCode{state: state, code: c}
		if e.wantCode && (e.screen.Phase == PhaseStarting || e.screen.Phase == PhaseQR) {
			e.rotate(now)
		}
	})
}

// set makes s the current screen; unlock hands it out. e.mu is held.
func (e *Engine) set(s Screen) {
	s.Seq = e.screen.Seq + 1
	s.MinAge = e.cfg.MinAge
	if s.Phase == PhaseResult || s.Phase == PhaseUnavailable {
		if s.DecidedAt.IsZero() {
			s.DecidedAt = e.now()
		}
		s.Contact, s.Alternative, s.Local = e.cfg.Contact, e.cfg.Alternative, e.cfg.Local
	}
	e.screen = s
}

// busy reports whether a callback now would interrupt a visitor: one is in
// the flow, or a result has not stood for its minimum time (door staff
// must be able to read it before another replaces it), or staff paused
// the kiosk. e.mu is held.
func (e *Engine) busy(now time.Time) bool {
	switch e.screen.Phase {
	case PhaseChecking, PhaseConfirm, PhaseFace, PhasePaused, PhaseCheckOut, PhaseSign:
		return true
	case PhaseResult, PhaseUnavailable:
		return now.Before(e.screen.DecidedAt.Add(e.cfg.ResultMin))
	}
	return false
}

// unlock releases e.mu, then gives the current screen to every subscriber
// that has not had it and tells onQR of a new code, without the lock, so
// that they may call the engine. One goroutine delivers at a time and
// checks again after each round: a screen set meanwhile, by another
// goroutine or by a subscriber, is delivered by it, after the older one.
// Every method that may change the screen releases e.mu through unlock.
func (e *Engine) unlock() {
	if e.delivering {
		e.mu.Unlock()
		return
	}
	e.delivering = true
	for {
		s := e.screen
		var due []func(Screen)
		for _, sub := range e.subs {
			if sub.next <= s.Seq {
				sub.next = s.Seq + 1
				due = append(due, sub.fn)
			}
		}
		qr := e.onQR != nil && s.Phase == PhaseQR && e.qrNext <= s.Seq
		if qr {
			e.qrNext = s.Seq + 1
		}
		if len(due) == 0 && !qr {
			break
		}
		e.mu.Unlock()
		for _, fn := range due {
			fn(s)
		}
		if qr {
			e.onQR(s.QR)
		}
		e.mu.Lock()
	}
	e.delivering = false
	e.mu.Unlock()
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
	cb, err := ndi.ParseCallback(q)
	var perr *ndi.ProviderError
	state := cb.State
	switch {
	case errors.As(err, &perr):
		state = perr.State
	case err != nil:
		e.log.Warn("callback refused", "reason", err.Error())
		return Verdict{400, "This link is not valid."}
	}
	e.mu.Lock()
	defer e.unlock()
	now := e.now()
	o, known := e.states[state]
	switch {
	case !known:
		e.log.Warn("callback refused", "reason", "unknown, used or expired state")
		return Verdict{404, "This code is no longer valid. Please scan the code on the kiosk screen again."}
	case !now.Before(o.expires):
		delete(e.states, state)
		return Verdict{410, "This code has expired. Please scan the code on the kiosk screen again."}
	case e.busy(now):
		// Not logged: nobody was refused, the visitor is asked to wait.
		delete(e.states, state)
		return Verdict{409, "The kiosk is busy with another visitor. Please try again in a few seconds."}
	case e.inFlight >= e.cfg.MaxInFlight:
		delete(e.states, state)
		return Verdict{503, "The kiosk is busy. Please scan the new code in a moment."}
	}
	delete(e.states, state) // single use, whatever happens next
	rec := Visit{KioskID: e.cfg.KioskID, Site: e.cfg.Site, Mode: e.cfg.Mode, TxnRef: state, Attributes: e.cfg.Attributes, StartedAt: now,
		Sandbox: e.cfg.Sandbox}
	if perr != nil {
		// The state is public (it is on the screen), so an error callback
		// proves nothing: the code is retired and a fresh one shown, and
		// the report is logged as unverified, never as an outage or a
		// refusal. A real outage shows itself at the next exchange.
		e.log.Info("callback reported an error; the code is retired", "error", perr.Code)
		rec.DecidedAt = now
		rec.Outcome, rec.Reason = OutcomeUnverified, "reported-"+perr.Code
		e.set(Screen{Phase: PhaseStarting}) // the code on screen is used up
		e.rotate(now)
		// Logged in the background: the phone is answered at once.
		e.spawn(func() { e.write(rec) })
		e.poke()
		return Verdict{200, "Done — please look at the kiosk screen."}
	}
	e.set(Screen{Phase: PhaseChecking})
	e.prefetch() // the next visitor's code, ready when this result clears
	e.visit++
	visit := e.visit
	e.inFlight++
	e.spawn(func() {
		ctx, cancel := context.WithTimeout(e.ctx, e.cfg.ExchangeTimeout)
		defer cancel()
		p, err := e.provider.Exchange(ctx, cb)
		e.finish(visit, rec, p, err)
	})
	return Verdict{200, "Done — please look at the kiosk screen."}
}

// storeTimeout bounds the visit log's calls for one visit.
const storeTimeout = 5 * time.Second

// unlocked runs work without the engine's lock: the visit log's reads and
// writes, which wait for the disk (SQLite with fsync). Then, with the lock
// back, it runs the step work returns, unless the visit was abandoned
// meanwhile (cancelled, timed out). e.mu is held, and released during
// work: the caller must not rely on what it read before. Callers are the
// engine's own goroutines, which Close waits for, and Confirm.
func (e *Engine) unlocked(work func() (then func(now time.Time))) {
	visit := e.visit
	e.unlock()
	then := work()
	e.mu.Lock()
	if visit == e.visit && then != nil {
		then(e.now())
	}
}

// save logs a visit that ends here (refusals, errors, decisions) without
// the engine's lock, then calls then with the log's answer, unless the
// visit was abandoned meanwhile; see unlocked. e.mu is held.
func (e *Engine) save(v Visit, out Outcome, reason string, then func(now time.Time, err error)) {
	v.Outcome, v.Reason, v.DecidedAt = out, reason, e.now()
	e.unlocked(func() func(time.Time) {
		err := e.write(v)
		return func(now time.Time) { then(now, err) }
	})
}

// write saves a visit to the log and reports whether the log took it.
// e.mu is not held.
func (e *Engine) write(v Visit) error {
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	_, err := e.store.Save(ctx, v)
	if err != nil {
		e.log.Error("visit not recorded", "outcome", string(v.Outcome), "error", err.Error())
	}
	return err
}

// notRecorded is the screen for a visit the log refused: the kiosk cannot
// admit anyone it cannot record. The reason is shown when the store gives
// one; the details go to the operator's log.
func (e *Engine) notRecorded(now time.Time, err error) {
	msg := "This visit could not be recorded."
	var se *StoreError
	reason := ""
	if errors.As(err, &se) {
		reason = se.Reason
		msg = "This visit could not be recorded: " + se.Reason + "."
	}
	e.set(Screen{Phase: PhaseResult, Outcome: OutcomeNotRecorded, Until: now.Add(e.cfg.ResultTimeout),
		Message: msg + " " + e.alternativeEN(), Reason: reason})
}

// finish turns the exchange's answer into the decision screen.
// A visit cancelled meanwhile is dropped.
func (e *Engine) finish(visit uint64, rec Visit, p *ndi.Person, err error) {
	e.mu.Lock()
	defer e.unlock()
	defer e.poke()
	e.inFlight--
	switch {
	case visit != e.visit:
		return
	case e.ctx.Err() != nil:
		// The kiosk is stopping: whatever cut the exchange short, it says
		// nothing about Singpass or the visitor, so nothing is logged.
		e.log.Info("visit dropped: the kiosk is stopping")
		return
	}
	if err != nil {
		e.log.Warn("exchange failed", "error", err.Error())
		if ndi.Unavailable(err) {
			e.save(rec, OutcomeUnavailable, reasonFor(err), func(now time.Time, _ error) { e.showUnavailable(now) })
			return
		}
		e.save(rec, OutcomeError, reasonFor(err), func(now time.Time, _ error) {
			e.set(Screen{Phase: PhaseResult, Outcome: OutcomeError, Until: now.Add(e.cfg.ResultTimeout)})
		})
		return
	}
	rec.MaskedID = p.MaskedID()
	if e.cfg.Face != nil {
		e.startFace(rec, p)
		return
	}
	e.decide(e.now(), rec, p)
}

// decide applies the mode's policy to a verified (and, with Face, matched)
// person at now. e.mu is held, and released while the log is written.
func (e *Engine) decide(now time.Time, rec Visit, p *ndi.Person) {
	if e.cfg.Mode == ModeVisitor {
		e.unlocked(func() func(time.Time) { return e.visitor(now, rec, p) })
		return
	}
	out := OutcomeCannotDecide
	switch p.CheckAge(e.cfg.MinAge, now) {
	case ndi.AtLeast:
		out = OutcomeEligible
	case ndi.Below:
		out = OutcomeNotEligible
	}
	e.save(rec, out, "", func(now time.Time, err error) {
		if err != nil {
			e.notRecorded(now, err)
			return
		}
		e.log.Info("visit decided", "outcome", string(out))
		e.set(Screen{Phase: PhaseResult, Outcome: out, MaskedID: rec.MaskedID, Until: now.Add(e.cfg.ResultTimeout)})
	})
}

// visitor handles a verified visitor, decided at now: refused if on the
// deny list, asked whether to check out if already checked in today,
// otherwise asked to confirm their particulars. It reads and writes the log without the engine's lock and
// returns what to show, to be run with the lock (see unlocked).
func (e *Engine) visitor(now time.Time, rec Visit, p *ndi.Person) func(time.Time) {
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	rec.PersonKey = e.store.PersonKey(p.Subject())
	rec.Name = p.Name.String()
	denied, err := e.store.Denied(ctx, rec.PersonKey)
	if err != nil {
		e.log.Error("deny list unreadable", "error", err.Error())
		return func(now time.Time) { e.notRecorded(now, err) }
	}
	if denied {
		rec.Name = "" // not needed for a refusal
		rec.Outcome, rec.Reason, rec.DecidedAt = OutcomeRefused, "deny-list", e.now()
		e.write(rec)
		return func(now time.Time) {
			e.set(Screen{Phase: PhaseResult, Outcome: OutcomeRefused, MaskedID: rec.MaskedID, Until: now.Add(e.cfg.ResultTimeout)})
		}
	}
	open, err := e.store.OpenVisit(ctx, rec.PersonKey, startOfDay(now))
	switch {
	case err == nil:
		// A second scan may be a mistake, or a visitor coming back in: it
		// asks, and nothing changes until the answer.
		return func(now time.Time) {
			e.leaving = &leavingVisit{id: open.ID, name: rec.Name, maskedID: rec.MaskedID}
			e.set(Screen{Phase: PhaseCheckOut, Name: rec.Name, MaskedID: rec.MaskedID, Until: now.Add(e.cfg.ConfirmTimeout)})
		}
	case errors.Is(err, ErrNotFound):
		return e.arriving(ctx, rec, p)
	default:
		e.log.Error("visit log unreadable", "error", err.Error())
		return func(now time.Time) { e.notRecorded(now, err) }
	}
}

// arriving handles a visitor who is not checked in: one expected by an
// invitation is checked in with its host and purpose at once; anyone else
// confirms their particulars and chooses. Without the engine's lock.
func (e *Engine) arriving(ctx context.Context, rec Visit, p *ndi.Person) func(time.Time) {
	hosts := e.cfg.Hosts
	if e.venue != nil {
		inv, err := e.venue.Invited(ctx, e.cfg.Site, rec.PersonKey, rec.Name, e.now())
		switch {
		case err == nil:
			return e.invited(ctx, rec, inv)
		case !errors.Is(err, ErrNotFound):
			// The visitor can still check in by choosing: an unreadable
			// invitation list only loses the shortcut.
			e.log.Warn("invitations unreadable", "error", err.Error())
		}
		if names, err := e.venue.HostNames(ctx, e.cfg.Site); err != nil {
			e.log.Warn("host list unreadable; the configured hosts are offered", "error", err.Error())
		} else if len(names) > 0 {
			hosts = names
		}
	}
	return func(now time.Time) {
		e.pending = &pendingVisit{visit: rec, person: p, hosts: hosts}
		e.set(Screen{Phase: PhaseConfirm, Particulars: Particulars(p, e.cfg.Attributes), Hosts: hosts,
			Purposes: e.cfg.Purposes, FreeText: e.cfg.FreeText, Until: now.Add(e.cfg.ConfirmTimeout)})
	}
}

// invited checks in a visitor expected by an invitation: its host and
// purpose, no choosing. Without the engine's lock.
func (e *Engine) invited(ctx context.Context, rec Visit, inv Invitation) func(time.Time) {
	rec.Host, rec.Purpose = inv.Host, inv.Purpose
	rec.Outcome, rec.DecidedAt = OutcomeCheckedIn, e.now()
	id, err := e.store.Save(ctx, rec)
	if err != nil {
		e.log.Error("visit not recorded", "outcome", string(rec.Outcome), "error", err.Error())
		return func(now time.Time) { e.notRecorded(now, err) }
	}
	if err := e.venue.Arrived(ctx, inv.ID, id); err != nil {
		// The visit stands; the invitation may be offered again today.
		e.log.Warn("invitation not marked used", "error", err.Error())
	}
	e.log.Info("visit decided", "outcome", string(rec.Outcome), "invited", true)
	return func(now time.Time) {
		e.set(Screen{Phase: PhaseResult, Outcome: OutcomeCheckedIn, Name: rec.Name, MaskedID: rec.MaskedID, Host: rec.Host,
			Until: now.Add(e.cfg.ResultTimeout)})
	}
}

// NoSingpass calls staff to the kiosk for a visitor without Singpass,
// where the venue has staff to call (a hub's dashboard), and reports
// whether it did; the screen tells the visitor whom to see either way.
func (e *Engine) NoSingpass() bool {
	if e.venue == nil {
		return false
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.spawn(func() {
		ctx, cancel := context.WithTimeout(e.ctx, storeTimeout)
		defer cancel()
		if err := e.venue.Alert(ctx, e.cfg.KioskID, e.cfg.Site, e.now()); err != nil {
			e.log.Warn("staff alert not raised", "error", err.Error())
		}
	})
	return true
}

// ErrChoice is returned by Confirm for a host or purpose that is not offered.
var ErrChoice = errors.New("choose a host and a purpose from the list")

// Confirm submits the visitor's confirmed particulars with a host and a
// purpose; the visit is stored and the visitor welcomed. It returns once
// the visit log has answered, without holding the engine's lock meanwhile.
// With the signing step (EngineConfig.Sign) it returns at once instead:
// the agreement goes to Sign in the background and the visit is stored
// when it is signed (see sign.go).
func (e *Engine) Confirm(host, purpose string) error {
	e.mu.Lock()
	defer e.unlock()
	defer e.poke()
	if e.screen.Phase != PhaseConfirm || e.pending == nil {
		return errors.New("nothing to confirm")
	}
	host, purpose = CleanText(host), CleanText(purpose)
	if utf8.RuneCountInString(host) > MaxChoice || utf8.RuneCountInString(purpose) > MaxChoice {
		return ErrTooLong
	}
	if !e.allowed(host, e.pending.hosts) || !e.allowed(purpose, e.cfg.Purposes) {
		return ErrChoice
	}
	rec := e.pending.visit
	e.pending = nil // a second tap finds nothing to confirm
	rec.Host, rec.Purpose = host, purpose
	if e.cfg.Sign != nil {
		e.startSign(rec)
		return nil
	}
	e.save(rec, OutcomeCheckedIn, "", func(now time.Time, err error) {
		if err != nil {
			e.notRecorded(now, err)
			return
		}
		e.set(Screen{Phase: PhaseResult, Outcome: OutcomeCheckedIn, Name: rec.Name, MaskedID: rec.MaskedID,
			Until: now.Add(e.cfg.ResultTimeout)})
	})
	return nil
}

// CheckOut answers the check-out question (PhaseCheckOut): yes ends the
// visit in the log and says goodbye; no shows a fresh code and changes
// nothing. It returns once the log has answered, without holding the
// engine's lock meanwhile.
func (e *Engine) CheckOut(yes bool) {
	e.mu.Lock()
	defer e.unlock()
	defer e.poke()
	v := e.leaving
	if e.screen.Phase != PhaseCheckOut || v == nil {
		return
	}
	e.leaving = nil // a second tap finds nothing to answer
	if !yes {
		e.rotate(e.now())
		return
	}
	e.unlocked(func() func(time.Time) {
		ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
		defer cancel()
		if err := e.store.CheckOut(ctx, v.id, e.now()); err != nil {
			e.log.Error("check-out not recorded", "error", err.Error())
			return func(now time.Time) { e.notRecorded(now, err) }
		}
		return func(now time.Time) {
			e.set(Screen{Phase: PhaseResult, Outcome: OutcomeCheckedOut, Name: v.name, MaskedID: v.maskedID,
				Until: now.Add(e.cfg.ResultTimeout)})
		}
	})
}

func (e *Engine) allowed(choice string, list []string) bool {
	return choice != "" && (e.cfg.FreeText || slices.Contains(list, choice))
}

// MaxChoice is the longest host or purpose a visitor may type, in
// characters.
const MaxChoice = 120

// ErrTooLong is returned by Confirm for a typed host or purpose longer than
// MaxChoice characters.
var ErrTooLong = fmt.Errorf("a host or purpose is at most %d characters", MaxChoice)

// CleanText is typed text as the log keeps it: control characters and the
// invisible marks that reorder text (bidi overrides, isolates, direction
// marks) removed, runs of space folded, the ends trimmed.
func CleanText(s string) string {
	var b strings.Builder
	space := false
	for _, r := range s {
		switch {
		case unicode.IsControl(r) && !unicode.IsSpace(r), bidiControl(r):
			continue
		case unicode.IsSpace(r):
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	return b.String()
}

func bidiControl(r rune) bool {
	return r >= 0x202A && r <= 0x202E || r >= 0x2066 && r <= 0x2069 || r == 0x200E || r == 0x200F || r == 0x061C
}

// StaffCheckOut ends a visit from the admin list.
func (e *Engine) StaffCheckOut(ctx context.Context, id int64) error {
	return e.store.CheckOut(ctx, id, e.now())
}

// startOfDay is midnight in Singapore on t's Singapore date.
func startOfDay(t time.Time) time.Time {
	y, m, d := t.In(ndi.SGT).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, ndi.SGT)
}

// reasonFor is a short code for the log; never the error text, which could
// carry something from outside.
func reasonFor(err error) string {
	var coded interface{ LogReason() string }
	switch {
	case errors.As(err, &coded):
		return coded.LogReason()
	case errors.Is(err, ndi.ErrUnavailable):
		return "unreachable"
	case errors.Is(err, ndi.ErrBadToken):
		return "bad-token"
	case errors.Is(err, ndi.ErrBadResponse):
		return "bad-response"
	}
	return "exchange-failed"
}

func (e *Engine) showUnavailable(now time.Time) { e.set(e.unavailableScreen(now)) }

func (e *Engine) unavailableScreen(now time.Time) Screen {
	return Screen{Phase: PhaseUnavailable, Outcome: OutcomeUnavailable, Message: e.unavailableMessage(), Until: now.Add(e.cfg.ResultTimeout)}
}

// unavailableMessage is the wording the Verify documentation prescribes,
// followed by the operator's alternative, in English: the engine keeps it
// (Screen.Message); the screens say it in the visitor's language.
func (e *Engine) unavailableMessage() string {
	contact := strings.TrimSpace(e.cfg.Contact)
	if contact == "" {
		contact = DefaultContact
	}
	return "We are unable to validate your identity through " + e.cfg.ServiceName + ". Please contact " + contact +
		" if you require additional assistance.\n" + e.alternativeEN()
}

// alternativeEN is the operator's alternative as configured, or the
// English default.
func (e *Engine) alternativeEN() string {
	if alt := strings.TrimSpace(e.cfg.Alternative); alt != "" {
		return alt
	}
	return DefaultAlternative
}

// Cancel abandons the current visit and returns to a fresh QR.
func (e *Engine) Cancel() {
	e.mu.Lock()
	defer e.unlock()
	if e.paused != "" {
		return
	}
	if e.screen.Phase == PhaseSign && e.pending != nil && e.pending.sign != nil {
		defer e.poke()
		e.log.Info("visitor cancelled signing")
		e.signEnds(e.now(), SignCancelled)
		return
	}
	e.rotate(e.now())
}

// Dismiss closes a result at the visitor's tap: at once when it has stood
// for its minimum time (kiosk.result_min, so that door staff can read it),
// otherwise as soon as it has. The screen out of service stays.
func (e *Engine) Dismiss() {
	e.mu.Lock()
	defer e.unlock()
	defer e.poke()
	s := e.screen
	if e.paused != "" || (s.Phase != PhaseResult && s.Phase != PhaseUnavailable) || s.Until.IsZero() {
		return
	}
	now := e.now()
	earliest := s.DecidedAt.Add(e.cfg.ResultMin)
	switch {
	case !now.Before(earliest):
		e.rotate(now)
	case earliest.Before(s.Until):
		s.Until = earliest
		e.set(s)
	}
}

// Pause stops the kiosk while staff use the admin screens: the visit under
// way is dropped, every code awaiting a callback is retired, and no code
// is shown until Resume. A scan of a code seen before is refused.
func (e *Engine) Pause() {
	e.mu.Lock()
	defer e.unlock()
	if e.paused == "" {
		e.halt("admin", Screen{Phase: PhasePaused})
	}
}

// Resume ends a Pause with a fresh code. It does not undo OutOfService.
func (e *Engine) Resume() {
	e.mu.Lock()
	defer e.unlock()
	if e.paused == "admin" {
		e.paused = ""
		e.rotate(e.now())
	}
}

// OutOfService stops the kiosk for good (its callback server died): the
// screen says the check is unavailable, with the operator's alternative,
// until the process is restarted.
func (e *Engine) OutOfService() {
	e.mu.Lock()
	defer e.unlock()
	s := e.unavailableScreen(e.now())
	s.Until = time.Time{}
	e.halt("out of service", s)
}

// halt drops the visit under way and every awaited code, and shows s.
// e.mu is held.
func (e *Engine) halt(why string, s Screen) {
	e.withdraw()
	e.paused = why
	e.pending, e.leaving = nil, nil
	e.visit++
	clear(e.states)
	e.wantCode = false
	e.set(s)
}

// Outstanding is the number of codes that a callback could still use.
func (e *Engine) Outstanding() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.states)
}
