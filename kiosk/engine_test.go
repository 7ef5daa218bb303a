package kiosk

import (
	"context"
	"image"
	"io"
	"log/slog"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"ndikiosk/internal/testclock"
	"ndikiosk/ndi"
)

// promptly is how long a call that must not wait for the visit log or the
// network may take before the test calls it stuck.
const promptly = 5 * time.Second

// fakeProvider makes codes on the spot (or, remote, when let through) and
// answers exchanges with exchange, or an adult when exchange is nil.
type fakeProvider struct {
	now      func() time.Time
	remote   bool
	codes    chan struct{} // remote: each NewCode waits for one receive
	exchange func(ctx context.Context) (*ndi.Person, error)

	exchanges atomic.Int32
}

func (p *fakeProvider) NewCode(ctx context.Context, state string, lifetime time.Duration) (Code, error) {
	if p.remote {
		select {
		case <-p.codes:
		case <-ctx.Done():
			return Code{}, ctx.Err()
		}
	}
	n := p.now()
	return Code{URL: "https://qr.test/verify?state=" + state, Start: n, Expiry: n.Add(lifetime), AcceptUntil: n.Add(lifetime)}, nil
}

func (p *fakeProvider) Exchange(ctx context.Context, _ ndi.Callback) (*ndi.Person, error) {
	p.exchanges.Add(1)
	if p.exchange != nil {
		return p.exchange(ctx)
	}
	return adult(), nil
}

func (p *fakeProvider) Remote() bool { return p.remote }

func adult() *ndi.Person {
	p := &ndi.Person{UINFIN: ndi.Item{Value: "S1234567D"}, Name: ndi.Item{Value: "TAN AH KOW"}, DOB: ndi.Item{Value: "1980-01-01"}}
	p.SetSubject("S1234567D")
	return p
}

// memStore is a visit log in memory. hook, when set, runs first in every
// call with the call's name: tests block there.
type memStore struct {
	hook func(call string)

	mu     sync.Mutex
	visits []Visit
	denied bool // everyone is on the deny list
}

func (s *memStore) enter(call string) {
	if s.hook != nil {
		s.hook(call)
	}
}

func (s *memStore) PersonKey(uinfin string) []byte { return []byte("key:" + uinfin) }

func (s *memStore) Save(_ context.Context, v Visit) (int64, error) {
	s.enter("Save")
	s.mu.Lock()
	defer s.mu.Unlock()
	v.ID = int64(len(s.visits) + 1)
	s.visits = append(s.visits, v)
	return v.ID, nil
}

func (s *memStore) OpenVisit(_ context.Context, key []byte, since time.Time) (Visit, error) {
	s.enter("OpenVisit")
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.visits) - 1; i >= 0; i-- {
		v := s.visits[i]
		if string(v.PersonKey) == string(key) && v.Outcome == OutcomeCheckedIn && v.CheckedOutAt.IsZero() && !v.StartedAt.Before(since) {
			return v, nil
		}
	}
	return Visit{}, ErrNotFound
}

func (s *memStore) CheckOut(_ context.Context, id int64, at time.Time) error {
	s.enter("CheckOut")
	s.mu.Lock()
	defer s.mu.Unlock()
	s.visits[id-1].CheckedOutAt = at
	return nil
}

func (s *memStore) Denied(context.Context, []byte) (bool, error) {
	s.enter("Denied")
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.denied, nil
}

func (s *memStore) Visits(context.Context, VisitFilter) ([]Visit, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Visit(nil), s.visits...), nil
}

func (s *memStore) Purge(context.Context, time.Time) (int64, error) { return 0, nil }

func (s *memStore) saved() []Visit {
	vs, _ := s.Visits(context.Background(), VisitFilter{})
	return vs
}

// gate blocks one kind of store call until opened, and says when a call
// is waiting in it.
type gate struct {
	call    string
	entered chan struct{}
	open    chan struct{}
	once    sync.Once
}

func newGate(call string) *gate {
	return &gate{call: call, entered: make(chan struct{}, 16), open: make(chan struct{})}
}

func (g *gate) hook(call string) {
	if call != g.call {
		return
	}
	g.entered <- struct{}{}
	<-g.open
}

func (g *gate) release() { g.once.Do(func() { close(g.open) }) }

// waitEntered waits until a call is held at the gate.
func (g *gate) waitEntered(t *testing.T) {
	t.Helper()
	select {
	case <-g.entered:
	case <-time.After(promptly):
		t.Fatalf("no %s call reached the store", g.call)
	}
}

type stillCamera struct{}

func (stillCamera) Frame(context.Context) (image.Image, error) {
	return image.NewGray(image.Rect(0, 0, 8, 8)), nil
}
func (stillCamera) Close() error { return nil }

type faceService struct{ registered bool }

func (f faceService) Registered(context.Context, string) (bool, error) { return f.registered, nil }
func (f faceService) Compare(context.Context, string, []byte) (float64, error) {
	return 0.9, nil
}

// rig is an engine on a test clock with a fake provider and visit log. It
// records every screen its subscriber is given.
type rig struct {
	e        *Engine
	clock    *testclock.Clock
	provider *fakeProvider
	store    *memStore

	mu      sync.Mutex
	seen    []Screen
	ooo     []string // screens delivered out of order
	changed chan struct{}
}

func testConfig() EngineConfig {
	return EngineConfig{KioskID: "k1", Mode: ModeAge, Attributes: []string{"uinfin", "name", "dob"},
		Hosts: []string{"Ms Lee"}, Purposes: []string{"Meeting"}, ConfirmTimeout: time.Minute, MinAge: 18,
		QRLifetime: time.Minute, QRLead: 10 * time.Second, ExchangeTimeout: 5 * time.Second,
		ResultTimeout: 10 * time.Second, ResultMin: 4 * time.Second, MaxOutstanding: 3, Contact: "the front desk", ServiceName: "Verify",
		Alternative: "Please approach the counter."}
}

// newRig builds an engine from testConfig changed by tweak (may be nil);
// the store's hook and the provider's exchange may be set through setup
// before the engine starts. The engine is closed when the test ends, and
// the test fails if that hangs.
func newRig(t *testing.T, tweak func(*EngineConfig), setup func(*fakeProvider, *memStore), onQR ...func(string)) *rig {
	t.Helper()
	clock := testclock.New(time.Date(2026, 12, 2, 10, 0, 0, 0, ndi.SGT))
	r := &rig{clock: clock, provider: &fakeProvider{now: clock.Now}, store: &memStore{}, changed: make(chan struct{}, 1)}
	if setup != nil {
		setup(r.provider, r.store)
	}
	cfg := testConfig()
	if tweak != nil {
		tweak(&cfg)
	}
	d := Deps{Provider: r.provider, Store: r.store, Now: clock.Now, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if len(onQR) > 0 {
		d.OnQR = onQR[0]
	}
	e, err := NewEngine(context.Background(), cfg, d)
	if err != nil {
		t.Fatal(err)
	}
	r.e = e
	t.Cleanup(func() {
		closed := make(chan struct{})
		go func() { e.Close(); close(closed) }()
		select {
		case <-closed:
		case <-time.After(promptly):
			t.Error("Close hangs")
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		for _, o := range r.ooo {
			t.Error(o)
		}
	})
	e.Subscribe(r.record)
	return r
}

func (r *rig) record(s Screen) {
	r.mu.Lock()
	if n := len(r.seen); n > 0 && s.Seq <= r.seen[n-1].Seq {
		r.ooo = append(r.ooo, "screen "+s.Phase.String()+" delivered after a newer one")
	}
	r.seen = append(r.seen, s)
	r.mu.Unlock()
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

// last is the newest screen the subscriber was given.
func (r *rig) last() Screen {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.seen[len(r.seen)-1]
}

// waitFor waits until the subscriber is given a screen that ok accepts.
func (r *rig) waitFor(t *testing.T, what string, ok func(Screen) bool) Screen {
	t.Helper()
	timeout := time.After(promptly)
	for {
		if s := r.last(); ok(s) {
			return s
		}
		select {
		case <-r.changed:
		case <-timeout:
			t.Fatalf("never %s; last screen %+v", what, r.last())
		}
	}
}

func (r *rig) waitPhase(t *testing.T, p Phase) Screen {
	t.Helper()
	return r.waitFor(t, "on "+p.String(), func(s Screen) bool { return s.Phase == p })
}

// qr steps the engine until a code is shown.
func (r *rig) qr(t *testing.T) Screen {
	t.Helper()
	r.e.Step()
	return r.waitPhase(t, PhaseQR)
}

// scan is a phone's callback for the code on screen, with extra query
// parameters (or, without any, an authorisation code).
func (r *rig) scan(t *testing.T, extra ...string) Verdict {
	t.Helper()
	u, err := url.Parse(r.e.Screen().QR)
	if err != nil {
		t.Fatal(err)
	}
	q := url.Values{"state": {u.Query().Get("state")}}
	if len(extra) == 0 {
		q.Set("code", "code-1")
	}
	for i := 0; i+1 < len(extra); i += 2 {
		q.Set(extra[i], extra[i+1])
	}
	return r.e.Callback(q)
}

// within runs fn and fails the test if it does not return promptly.
func within(t *testing.T, what string, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); fn() }()
	select {
	case <-done:
	case <-time.After(promptly):
		t.Fatalf("%s is stuck", what)
	}
}

var forged = url.Values{"code": {"abc"}, "state": {"k1-forged"}}

// A subscriber and OnQR are called without the engine's lock: they may
// read the screen and act on the engine from inside the callback.
func TestSubscriberMayCallTheEngine(t *testing.T) {
	var r *rig
	var qrs atomic.Int32
	r = newRig(t, nil, nil, func(string) {
		qrs.Add(1)
		r.e.Screen()
	})
	var cancelled atomic.Bool
	r.e.Subscribe(func(s Screen) {
		if now := r.e.Screen(); now.Seq < s.Seq {
			t.Errorf("Screen() is %d behind the delivered screen %d", now.Seq, s.Seq)
		}
		if s.Phase == PhaseResult && !cancelled.Swap(true) {
			r.e.Cancel()
			r.e.Outstanding()
		}
	})
	within(t, "a visit with a subscriber that calls the engine", func() {
		r.e.Step()
		r.scan(t)
	})
	s := r.waitFor(t, "back on a code after the subscriber's cancel", func(s Screen) bool { return s.Phase == PhaseQR && cancelled.Load() })
	r.e.Close() // the exchange's goroutine finishes delivering
	if got := r.e.Screen(); got.Seq != s.Seq {
		t.Fatalf("the subscriber's last screen %d is not the current one %d", s.Seq, got.Seq)
	}
	if qrs.Load() != 2 {
		t.Fatalf("OnQR told of %d codes, want 2", qrs.Load())
	}
	if len(r.store.saved()) != 1 {
		t.Fatalf("visit log %+v", r.store.saved())
	}
}

// While a visit's write to the log is held up (a slow disk, fsync), the
// kiosk still answers: its screen, a forged callback, the health check.
func TestStoreWritesDoNotBlockTheEngine(t *testing.T) {
	visitor := func(c *EngineConfig) { c.Mode = ModeVisitor }
	face := func(c *EngineConfig) {
		c.Face = &FaceConfig{Checker: faceService{registered: false}, Camera: stillCamera{}, Threshold: 0.8, Countdown: 3 * time.Second}
	}
	cases := []struct {
		name   string
		call   string // the store call that blocks
		tweak  func(*EngineConfig)
		setup  func(*fakeProvider, *memStore)
		visit  func(t *testing.T, r *rig) // starts the visit; returns with the store call blocked
		screen Screen                     // what shows once the store answers
	}{
		{name: "age decision", call: "Save", screen: Screen{Phase: PhaseResult, Outcome: OutcomeEligible}},
		{name: "exchange error", call: "Save",
			setup: func(p *fakeProvider, _ *memStore) {
				p.exchange = func(context.Context) (*ndi.Person, error) { return nil, ndi.ErrBadResponse }
			},
			screen: Screen{Phase: PhaseResult, Outcome: OutcomeError}},
		{name: "exchange unavailable", call: "Save",
			setup: func(p *fakeProvider, _ *memStore) {
				p.exchange = func(context.Context) (*ndi.Person, error) { return nil, ndi.ErrUnavailable }
			},
			screen: Screen{Phase: PhaseUnavailable, Outcome: OutcomeUnavailable}},
		{name: "declined on the phone", call: "Save",
			visit: func(t *testing.T, r *rig) {
				var v Verdict
				within(t, "the callback of a declined consent", func() { v = r.scan(t, "error", "access_denied") })
				if v.Status != 200 {
					t.Fatalf("declined: %+v", v)
				}
			},
			screen: Screen{Phase: PhaseQR}}, // an unauthenticated report: a fresh code, no verdict
		{name: "Verify down on the phone", call: "Save",
			visit: func(t *testing.T, r *rig) {
				within(t, "the callback of an unavailable Verify", func() { r.scan(t, "error", "temporarily_unavailable") })
			},
			screen: Screen{Phase: PhaseQR}},
		{name: "visitor deny list", call: "Denied", tweak: visitor,
			screen: Screen{Phase: PhaseConfirm}},
		{name: "visitor refused", call: "Save", tweak: visitor,
			setup:  func(_ *fakeProvider, s *memStore) { s.denied = true },
			screen: Screen{Phase: PhaseResult, Outcome: OutcomeRefused}},
		{name: "visitor confirms", call: "Save", tweak: visitor,
			visit: func(t *testing.T, r *rig) {
				r.scan(t)
				r.waitPhase(t, PhaseConfirm)
				go r.e.Confirm("Ms Lee", "Meeting") // the UI's tap handler, held up by the log
			},
			screen: Screen{Phase: PhaseResult, Outcome: OutcomeCheckedIn, Name: "TAN AH KOW"}},
		{name: "face not registered", call: "Save", tweak: face,
			screen: Screen{Phase: PhaseResult, Outcome: OutcomeFaceFailed, Reason: FaceNotRegistered}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := newGate(c.call)
			defer g.release()
			r := newRig(t, c.tweak, func(p *fakeProvider, s *memStore) {
				s.hook = g.hook
				if c.setup != nil {
					c.setup(p, s)
				}
			})
			r.qr(t)
			if c.visit != nil {
				c.visit(t, r)
			} else if v := r.scan(t); v.Status != 200 {
				t.Fatalf("callback %+v", v)
			}
			g.waitEntered(t)
			within(t, "Screen while the log is busy", func() { r.e.Screen() })
			within(t, "a forged callback while the log is busy", func() {
				if v := r.e.Callback(forged); v.Status != 404 {
					t.Errorf("forged callback: %+v", v)
				}
			})
			within(t, "Outstanding while the log is busy", func() { r.e.Outstanding() })
			g.release()
			got := r.waitFor(t, "on "+string(c.screen.Outcome), func(s Screen) bool {
				return s.Phase == c.screen.Phase && s.Outcome == c.screen.Outcome
			})
			if got.Name != c.screen.Name || got.Reason != c.screen.Reason {
				t.Fatalf("screen %+v, want %+v", got, c.screen)
			}
		})
	}
}

// A visit cancelled while its decision is being written is written but
// not shown: the kiosk stays on its new code.
func TestCancelDuringWriteDropsTheScreen(t *testing.T) {
	g := newGate("Save")
	defer g.release()
	r := newRig(t, nil, func(_ *fakeProvider, s *memStore) { s.hook = g.hook })
	r.qr(t)
	r.scan(t)
	g.waitEntered(t)
	within(t, "Cancel while the log is busy", r.e.Cancel)
	qr := r.waitPhase(t, PhaseQR)
	g.release()
	// The write finishing is the last thing the visit does; Close waits
	// for it.
	r.e.Close()
	if s := r.e.Screen(); s.Seq != qr.Seq {
		t.Fatalf("the cancelled visit came back: %+v", s)
	}
	if vs := r.store.saved(); len(vs) != 1 || vs[0].Outcome != OutcomeEligible {
		t.Fatalf("visit log %+v", vs)
	}
}

// A cancel while a remote provider's next code is still on its way leaves
// no code to show: the visit's late result must not come back anyway.
func TestCancelDropsLateResultWhileCodeIsPrepared(t *testing.T) {
	answer := make(chan struct{})
	r := newRig(t, nil, func(p *fakeProvider, _ *memStore) {
		p.remote, p.codes = true, make(chan struct{}, 1)
		p.exchange = func(ctx context.Context) (*ndi.Person, error) {
			select {
			case <-answer:
				return adult(), nil
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
	})
	r.provider.codes <- struct{}{} // the first code
	r.qr(t)
	r.scan(t) // also asks for the next code, which is slow to come
	r.waitPhase(t, PhaseChecking)
	r.e.Cancel()
	starting := r.waitPhase(t, PhaseStarting)
	close(answer)
	r.provider.codes <- struct{}{} // the next code
	s := r.waitPhase(t, PhaseQR)
	r.e.Close()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, seen := range r.seen {
		if seen.Seq > starting.Seq && seen.Phase != PhaseQR {
			t.Fatalf("after cancel: %+v (then %+v)", seen, s)
		}
	}
	if vs := r.store.saved(); len(vs) != 0 {
		t.Fatalf("a cancelled visit was logged: %+v", vs)
	}
}

// Close waits for a write in progress, drops an exchange in flight (the
// stop cut it short, which says nothing about Singpass: no row), and
// nothing of the engine runs once Close has returned.
func TestCloseWaitsForExchangeAndWrite(t *testing.T) {
	t.Run("write in progress", func(t *testing.T) {
		g := newGate("Save")
		defer g.release()
		var closed atomic.Bool
		var late atomic.Int32 // engine work seen after Close returned
		r := newRig(t, nil, func(_ *fakeProvider, s *memStore) {
			s.hook = func(call string) {
				g.hook(call)
				if closed.Load() {
					late.Add(1)
				}
			}
		})
		r.e.Subscribe(func(Screen) {
			if closed.Load() {
				late.Add(1)
			}
		})
		r.qr(t)
		r.scan(t)
		g.waitEntered(t) // the decision is being logged
		done := make(chan struct{})
		go func() {
			r.e.Close()
			closed.Store(true)
			close(done)
		}()
		select {
		case <-done:
			t.Fatal("Close returned while the visit log was being written")
		case <-time.After(50 * time.Millisecond):
		}
		g.release()
		select {
		case <-done:
		case <-time.After(promptly):
			t.Fatal("Close hangs after the write finished")
		}
		if n := late.Load(); n != 0 {
			t.Fatalf("%d calls after Close returned", n)
		}
		if vs := r.store.saved(); len(vs) != 1 || vs[0].Outcome != OutcomeEligible {
			t.Fatalf("visit log %+v", vs)
		}
	})
	t.Run("exchange in flight", func(t *testing.T) {
		exchanging := make(chan struct{}, 1)
		r := newRig(t, nil, func(p *fakeProvider, _ *memStore) {
			p.exchange = func(ctx context.Context) (*ndi.Person, error) {
				exchanging <- struct{}{}
				<-ctx.Done() // Close cancels it
				return nil, ndi.Unreachable(ndi.ServiceVerify, "token", ctx.Err())
			}
		})
		r.qr(t)
		r.scan(t)
		<-exchanging
		within(t, "Close with an exchange in flight", r.e.Close)
		if vs := r.store.saved(); len(vs) != 0 {
			t.Fatalf("a visit cut short by the stop was logged: %+v", vs)
		}
		// A scan after Close starts no exchange.
		r.e.Cancel()
		r.scan(t)
		r.e.Close()
		if n := r.provider.exchanges.Load(); n != 1 {
			t.Fatalf("%d exchanges", n)
		}
	})
}

// Screens reach a subscriber in order, with the newest last, however many
// goroutines change them at once.
func TestScreensArriveInOrder(t *testing.T) {
	r := newRig(t, nil, nil)
	var seqs []uint64
	r.e.Subscribe(func(s Screen) {
		if n := len(seqs); n > 0 && s.Seq <= seqs[n-1] {
			t.Errorf("screen %d after %d", s.Seq, seqs[n-1])
		}
		seqs = append(seqs, s.Seq)
	})
	r.qr(t)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 50 {
				r.e.Cancel()
				r.e.Step()
				r.e.Callback(forged)
			}
		})
	}
	wg.Go(func() {
		for range 20 {
			r.scan(t)
		}
	})
	wg.Wait()
	r.e.Close() // the exchanges end too
	if last, now := seqs[len(seqs)-1], r.e.Screen().Seq; last != now {
		t.Fatalf("the subscriber's last screen is %d, the engine's %d", last, now)
	}
	if len(seqs) < 2 {
		t.Fatalf("only %d screens delivered", len(seqs))
	}
}

// A subscriber gets the current screen at once.
func TestSubscribeGetsTheCurrentScreen(t *testing.T) {
	r := newRig(t, nil, nil)
	r.qr(t)
	var got Screen
	r.e.Subscribe(func(s Screen) { got = s })
	if want := r.e.Screen(); got.Seq != want.Seq || got.Phase != PhaseQR {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}
