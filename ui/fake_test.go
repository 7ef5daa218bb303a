package ui

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"ndikiosk/internal/testclock"
	"ndikiosk/kiosk"
)

// fakeEngine stands in for the engine: a test publishes the screens the
// engine would show, and reads back the taps the screens sent. It answers
// taps with nothing; the test publishes what the engine would show next.
type fakeEngine struct {
	mu         sync.Mutex
	screen     kiosk.Screen // starts as the engine does: PhaseStarting
	subs       []func(kiosk.Screen)
	cancels    int
	retries    int
	confirms   []string // "host|purpose"
	confirmErr error    // what Confirm answers
	camera     kiosk.Camera
	pauses     int
	resumes    int
	outOfServ  int
	dismisses  int
	checkOuts  []bool // the answers to the check-out question
	staffCalls int    // "No Singpass?" taps
	callsStaff bool   // what NoSingpass answers: a hub's kiosk calls staff
}

func (f *fakeEngine) NoSingpass() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.staffCalls++
	return f.callsStaff
}

func (f *fakeEngine) Subscribe(fn func(kiosk.Screen)) {
	f.mu.Lock()
	f.subs = append(f.subs, fn)
	s := f.screen
	f.mu.Unlock()
	fn(s)
}

func (f *fakeEngine) Cancel() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cancels++
}

func (f *fakeEngine) Confirm(host, purpose string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.confirms = append(f.confirms, host+"|"+purpose)
	return f.confirmErr
}

func (f *fakeEngine) Dismiss() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.dismisses++
}

func (f *fakeEngine) CheckOut(yes bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.checkOuts = append(f.checkOuts, yes)
}

// answers are the Dismiss taps and check-out answers so far.
func (f *fakeEngine) answers() (dismisses int, checkOuts []bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.dismisses, slices.Clone(f.checkOuts)
}

func (f *fakeEngine) FaceRetry() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.retries++
}

func (f *fakeEngine) Camera() kiosk.Camera { return f.camera }

func (f *fakeEngine) Pause() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pauses++
}

func (f *fakeEngine) Resume() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.resumes++
}

func (f *fakeEngine) OutOfService() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.outOfServ++
}

// halts are the Pause, Resume and OutOfService calls so far.
func (f *fakeEngine) halts() (pauses, resumes, outOfService int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.pauses, f.resumes, f.outOfServ
}

// publish shows s to every subscriber, as the engine does on a change. The
// test driver runs fyne.Do at once on the caller's goroutine, so the screen
// is drawn when publish returns.
func (f *fakeEngine) publish(s kiosk.Screen) {
	f.mu.Lock()
	s.Seq = f.screen.Seq + 1
	f.screen = s
	subs := slices.Clone(f.subs)
	f.mu.Unlock()
	for _, fn := range subs {
		fn(s)
	}
}

// taps are the taps the screens sent so far.
func (f *fakeEngine) taps() (cancels, retries int, confirms []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cancels, f.retries, slices.Clone(f.confirms)
}

// epoch is when every test's clock starts: a weekday morning in Singapore.
var epoch = time.Date(2026, 12, 2, 9, 30, 0, 0, kiosk.SGT)

// rig is a kiosk window on a fake engine and a test clock.
type rig struct {
	k     *Kiosk
	e     *fakeEngine
	w     fyne.Window
	clock *testclock.Clock
}

// newRig builds the UI at 1280×800 in a headless test window. The UI's
// timer is stopped at once: it would call k.tick on the wall clock from
// its own goroutine (the test driver runs fyne.Do on the caller's
// goroutine), so the tests move the test clock and call k.tick themselves.
func newRig(t *testing.T, e *fakeEngine, opts Options) *rig {
	return newRigWith(t, e, opts, testclock.New(epoch))
}

// newRigWith builds the UI on clock.
func newRigWith(t *testing.T, e *fakeEngine, opts Options, clock *testclock.Clock) *rig {
	t.Helper()
	a := test.NewTempApp(t)
	w := test.NewTempWindow(t, nil)
	w.Resize(fyne.NewSize(1280, 800))
	opts.Windowed = true
	opts.Now = clock.Now
	k := New(a, w, e, opts)
	k.Stop()
	return &rig{k: k, e: e, w: w, clock: clock}
}

// qrURL is a signed-looking Verify QR URL; the screens only encode it.
func qrURL(n string) string {
	return "https://app.singpass.gov.sg/sgverify?state=k1-" + n + "&v=2&nonce=0123456789abcdef"
}

// showQR publishes a fresh code, valid from now, replaced in 110 s (a 120 s
// code shown until 10 s before it expires, as the engine does by default).
func (r *rig) showQR(u string) {
	now := r.clock.Now()
	r.e.publish(kiosk.Screen{Phase: kiosk.PhaseQR, QR: u, QRStart: now, NextQR: now.Add(110 * time.Second)})
}

// memStore is a visit log in memory: ui tests are about screens; the real
// store is tested in storage and with the engine in kiosk. Visits filters
// by name, host, time and page as the SQLite store does.
type memStore struct {
	mu     sync.Mutex
	visits []kiosk.Visit
	lastID int64
}

func (m *memStore) Save(_ context.Context, v kiosk.Visit) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.lastID++
	v.ID = m.lastID
	m.visits = append(m.visits, v)
	return v.ID, nil
}

// visit is the stored visit with this id.
func (m *memStore) visit(id int64) kiosk.Visit {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, v := range m.visits {
		if v.ID == id {
			return v
		}
	}
	return kiosk.Visit{}
}

func (m *memStore) PersonKey(uinfin string) []byte { return []byte("key:" + uinfin) }

func (m *memStore) OpenVisit(context.Context, []byte, time.Time) (kiosk.Visit, error) {
	return kiosk.Visit{}, kiosk.ErrNotFound
}

func (m *memStore) CheckOut(_ context.Context, id int64, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range m.visits {
		if m.visits[i].ID == id {
			m.visits[i].CheckedOutAt = at
			return nil
		}
	}
	return kiosk.ErrNotFound
}

func (m *memStore) Denied(context.Context, []byte) (bool, error) { return false, nil }

// Visits lists the newest first.
func (m *memStore) Visits(_ context.Context, f kiosk.VisitFilter) ([]kiosk.Visit, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	has := func(s, sub string) bool { return strings.Contains(strings.ToLower(s), strings.ToLower(sub)) }
	var out []kiosk.Visit
	for _, v := range slices.Backward(m.visits) {
		if (f.From.IsZero() || !v.StartedAt.Before(f.From)) && (f.To.IsZero() || v.StartedAt.Before(f.To)) &&
			has(v.Name, f.Name) && has(v.Host, f.Host) {
			out = append(out, v)
		}
	}
	out = out[min(f.Offset, len(out)):]
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out, nil
}

func (m *memStore) Purge(_ context.Context, before time.Time) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	kept := m.visits[:0]
	for _, v := range m.visits {
		if !v.StartedAt.Before(before) {
			kept = append(kept, v)
		}
	}
	n := int64(len(m.visits) - len(kept))
	m.visits = kept
	return n, nil
}
