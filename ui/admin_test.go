package ui

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"ndikiosk/internal/testclock"
	"ndikiosk/kiosk"
)

func TestTranslationsComplete(t *testing.T) {
	tables, err := loadTranslations()
	if err != nil {
		t.Fatal(err)
	}
	if len(tables) != len(Languages) {
		t.Fatalf("%d translation files for %d languages", len(tables), len(Languages))
	}
	placeholder := regexp.MustCompile(`\{\{\.[A-Za-z]+\}\}`)
	for _, l := range Languages {
		for key, en := range tables["en"] {
			tr, ok := tables[l.Code][key]
			if !ok || tr == "" {
				t.Errorf("%s: no translation for %q", l.Code, key)
				continue
			}
			if strings.Join(placeholder.FindAllString(en, -1), ",") != strings.Join(placeholder.FindAllString(tr, -1), ",") {
				t.Errorf("%s %q: placeholders differ from English", l.Code, key)
			}
		}
		if len(tables[l.Code]) != len(tables["en"]) {
			t.Errorf("%s has keys English has not", l.Code)
		}
	}
}

func TestLanguageSwitchLastsOneVisit(t *testing.T) {
	r := newRig(t, &fakeEngine{}, Options{Venue: "Test Venue"})
	k := r.k
	r.showQR(qrURL("1"))
	tr := newTranslator()
	tr.set("zh")
	test.Tap(k.langs[1])
	if k.qrCaption.Text != tr.T("qr.caption") || k.qrCaption.Text == "Scan with Singpass app" {
		t.Fatalf("caption after 中文: %q", k.qrCaption.Text)
	}
	r.e.publish(kiosk.Screen{Phase: kiosk.PhaseChecking})
	r.e.publish(kiosk.Screen{Phase: kiosk.PhaseResult, Outcome: kiosk.OutcomeNotEligible, MinAge: 21, Until: r.clock.Now().Add(8 * time.Second)})
	if k.resultTitle.Text != "不符合资格" || k.resultDetail.Text != "您必须年满 21 岁。" {
		t.Fatalf("Chinese result: %q %q", k.resultTitle.Text, k.resultDetail.Text)
	}
	test.Tap(k.langs[3]) // Tamil, on the result screen itself
	if k.resultTitle.Text != "தகுதியில்லை" {
		t.Fatalf("Tamil result: %q", k.resultTitle.Text)
	}
	r.showQR(qrURL("2")) // the visit ends: back to the venue's language
	if k.qrCaption.Text != "Scan with Singpass app" {
		t.Fatalf("language did not reset: %q", k.qrCaption.Text)
	}
}

func TestUnavailableInMalay(t *testing.T) {
	r := newRig(t, &fakeEngine{}, Options{Venue: "Test Venue"})
	r.showQR(qrURL("1"))
	test.Tap(r.k.langs[2])
	r.e.publish(unavailable(r.clock.Now().Add(8 * time.Second)))
	want := "Kami tidak dapat mengesahkan identiti anda melalui Singpass. Sila hubungi the front desk jika anda memerlukan bantuan lanjut.\nPlease approach the counter."
	if r.k.resultDetail.Text != want {
		t.Fatalf("Malay unavailable:\n%q\nwant\n%q", r.k.resultDetail.Text, want)
	}
}

type quitter struct {
	mu sync.Mutex
	n  int
}

func (q *quitter) quit() { q.mu.Lock(); q.n++; q.mu.Unlock() }

func (q *quitter) count() int { q.mu.Lock(); defer q.mu.Unlock(); return q.n }

// testStore is a visit log in memory (memStore, slowStore).
type testStore interface {
	kiosk.VisitStore
	visit(id int64) kiosk.Visit
}

// adminRig is a kiosk with admin screens over a visit log in memory.
type adminRig struct {
	*rig
	store testStore
	quit  *quitter
	jobs  *jobs
}

// jobs follows the admin screens' background jobs one by one.
type jobs struct {
	mu   sync.Mutex
	done []chan struct{}
}

func (j *jobs) start(job func()) {
	done := make(chan struct{})
	j.mu.Lock()
	j.done = append(j.done, done)
	j.mu.Unlock()
	go func() {
		defer close(done)
		job()
	}()
}

// started is how many jobs have started so far.
func (j *jobs) started() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return len(j.done)
}

// wait waits for job n (counting from 0) to end. The test driver runs
// fyne.Do on the job's goroutine, so by then its answer is on screen, or
// dropped. The deadline only turns a hang into a failure.
func (j *jobs) wait(t *testing.T, n int) {
	t.Helper()
	j.mu.Lock()
	done := j.done[n]
	j.mu.Unlock()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatalf("background job %d did not end", n)
	}
}

// settle waits for every job, including those started meanwhile.
func (j *jobs) settle(t *testing.T) {
	t.Helper()
	for n := 0; n < j.started(); n++ {
		j.wait(t, n)
	}
}

func setupAdmin(t *testing.T, store testStore) *adminRig {
	hash, err := kiosk.HashPIN("2468")
	if err != nil {
		t.Fatal(err)
	}
	clock := testclock.New(epoch)
	lock, _ := kiosk.NewPINLock(hash, 5, 5*time.Minute, clock.Now)
	q := &quitter{}
	// The engine's part of the admin screens: its clock, and check-outs
	// straight into the store.
	admin := &kiosk.Admin{Mode: kiosk.ModeVisitor, Store: store, Now: clock.Now, Lock: lock, Quit: q.quit,
		CheckOut: func(ctx context.Context, id int64) error { return store.CheckOut(ctx, id, clock.Now()) },
		Export: func(_ context.Context, w io.Writer, _ kiosk.VisitFilter) error {
			_, err := io.WriteString(w, "id,name\n1,TAN AH KOW\n")
			return err
		},
		Status: func(context.Context) kiosk.Status {
			return kiosk.Status{Version: "test", Mode: "visitor", Listen: "127.0.0.1:8080",
				Endpoints: []kiosk.Endpoint{{Name: "Token API", URL: "https://x/token", Reachable: true, Healthy: true, Code: 405, Detail: "OK: the server answers"}}}
		}}
	r := newRigWith(t, &fakeEngine{}, Options{Admin: admin}, clock)
	j := &jobs{}
	r.k.admin.start = j.start
	r.showQR(qrURL("1"))
	// Nothing the admin screens started may outlive the test's window.
	t.Cleanup(func() { j.settle(t) })
	return &adminRig{rig: r, store: store, quit: q, jobs: j}
}

func typePIN(k *Kiosk, pin string) {
	for _, d := range pin {
		for _, b := range k.admin.pinDigits {
			if b.Text == string(d) {
				test.Tap(b)
			}
		}
	}
	test.Tap(k.admin.pinOK)
}

func TestAdminPINAndLockout(t *testing.T) {
	r := setupAdmin(t, &memStore{})
	k := r.k
	// Holding the corner for less than two seconds does nothing; two seconds opens the pad.
	k.corner.MouseDown(nil)
	r.clock.Add(time.Second)
	k.corner.MouseUp(nil)
	if k.admin.root.Visible() {
		t.Fatal("a short touch opened the PIN pad")
	}
	k.corner.MouseDown(nil)
	r.clock.Add(2 * time.Second)
	k.corner.MouseUp(nil)
	if !k.admin.root.Visible() || !k.admin.pinPad.Visible() {
		t.Fatal("holding the corner did not open the PIN pad")
	}
	for i := 4; i >= 1; i-- {
		typePIN(k, "1111")
		if want := fmt.Sprintf("Wrong PIN. %d tries left.", i); k.admin.pinMessage.Text != want {
			t.Fatalf("after a wrong PIN: %q, want %q", k.admin.pinMessage.Text, want)
		}
	}
	typePIN(k, "1111")
	if want := "Too many wrong PINs. Try again after 09:35."; k.admin.pinMessage.Text != want {
		t.Fatalf("fifth wrong PIN: %q, want %q", k.admin.pinMessage.Text, want)
	}
	typePIN(k, "2468")
	if k.admin.panel.Visible() {
		t.Fatal("the right PIN opened a locked pad")
	}
	// Reopened while locked, the pad says so before anyone types.
	test.Tap(k.admin.pinCancel)
	k.corner.MouseDown(nil)
	r.clock.Add(2 * time.Second)
	k.corner.MouseUp(nil)
	if want := "Too many wrong PINs. Try again after 09:35."; k.admin.pinMessage.Text != want {
		t.Fatalf("the locked pad reopened says %q", k.admin.pinMessage.Text)
	}
	r.clock.Add(5*time.Minute + time.Second)
	c := k.win.Canvas()
	for _, r := range "2468" {
		c.OnTypedRune()(r)
	}
	c.OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyReturn})
	if !k.admin.panel.Visible() {
		t.Fatalf("the right PIN after the lock: %q", k.admin.pinMessage.Text)
	}
}

// checkedIn is a visitor's stored visit, as the engine saves it on Confirm.
func checkedIn(at time.Time, name, masked, host, purpose string) kiosk.Visit {
	return kiosk.Visit{KioskID: "k1", Mode: kiosk.ModeVisitor, StartedAt: at, DecidedAt: at, Outcome: kiosk.OutcomeCheckedIn,
		Name: name, MaskedID: masked, Host: host, Purpose: purpose}
}

func TestAdminVisitsExportAndQuit(t *testing.T) {
	r := setupAdmin(t, &memStore{})
	k := r.k
	// A visitor checks in through the screens, typing the host on the on-screen keyboard.
	r.e.publish(kiosk.Screen{Phase: kiosk.PhaseConfirm, FreeText: true, Until: r.clock.Now().Add(time.Minute),
		Particulars: []kiosk.Particular{{Attribute: "name", Label: "Name", Value: "TAN AH KOW"},
			{Attribute: "partialuinfin", Label: "NRIC/FIN", Value: "*****567D"}}})
	k.host.entry.FocusGained()
	if !k.keyboard.Visible() || k.keyboard.Target() != &k.host.entry.Entry {
		t.Fatal("focusing the host field did not bring up the keyboard")
	}
	for _, key := range []string{"M", "S"} {
		test.Tap(k.keyboard.keys[key])
	}
	test.Tap(k.keyboard.space)
	test.Tap(k.keyboard.keys["L"])
	test.Tap(k.keyboard.back)
	test.Tap(k.keyboard.keys["O"])
	k.purpose.entry.FocusGained()
	for _, key := range []string{"T", "E", "A"} {
		test.Tap(k.keyboard.keys[key])
	}
	test.Tap(k.keyboard.done)
	if k.host.entry.Text != "MS O" || k.purpose.entry.Text != "TEA" || k.keyboard.Visible() {
		t.Fatalf("typed host %q purpose %q", k.host.entry.Text, k.purpose.entry.Text)
	}
	test.Tap(k.confirmButton)
	if _, _, confirms := r.e.taps(); len(confirms) != 1 || confirms[0] != "MS O|TEA" {
		t.Fatalf("confirmed %q", confirms)
	}
	// The engine stores the visit and welcomes the visitor. Yesterday's
	// visitor is not on today's list.
	r.store.Save(context.Background(), checkedIn(r.clock.Now().Add(-10*time.Hour), "LIM BEE LENG", "*****123A", "Reception", "Delivery"))
	r.store.Save(context.Background(), checkedIn(r.clock.Now(), "TAN AH KOW", "*****567D", "MS O", "TEA"))
	r.e.publish(kiosk.Screen{Phase: kiosk.PhaseResult, Outcome: kiosk.OutcomeCheckedIn, Name: "TAN AH KOW", Until: r.clock.Now().Add(8 * time.Second)})
	r.clock.Add(8 * time.Second)
	r.showQR(qrURL("2"))

	k.admin.askPIN(pinAdmin)
	typePIN(k, "2468")
	r.jobs.settle(t)
	if len(k.admin.rows) != 1 || visitLine(k.admin.rows[0], visitorColumns) != "09:30 · in · TAN AH KOW · *****567D · MS O · TEA" {
		t.Fatalf("admin list %+v", k.admin.rows)
	}
	k.admin.list.Select(0)
	test.Tap(k.admin.checkOut)
	if !k.admin.checkOut.Disabled() {
		t.Fatal("check-out can be tapped again while the first one runs")
	}
	r.jobs.settle(t)
	if out := r.store.visit(2).CheckedOutAt; !out.Equal(r.clock.Now()) || k.admin.message.Text != "Checked out." {
		t.Fatalf("staff check-out at %v: %q", out, k.admin.message.Text)
	}
	if visitLine(k.admin.rows[0], visitorColumns) != "09:30 · out 09:30 · TAN AH KOW · *****567D · MS O · TEA" || !k.admin.checkOut.Disabled() {
		t.Fatalf("after the check-out: %q", visitLine(k.admin.rows[0], visitorColumns))
	}
	dir := t.TempDir()
	k.admin.exportTo(dir)
	r.jobs.settle(t)
	files, _ := filepath.Glob(filepath.Join(dir, "ndikiosk-visits-*.csv"))
	if len(files) != 1 || filepath.Base(files[0]) != "ndikiosk-visits-20261202-0930.csv" || k.admin.message.Text != "Exported to "+files[0] {
		t.Fatalf("export: %v %q", files, k.admin.message.Text)
	}
	if b, _ := os.ReadFile(files[0]); !strings.Contains(string(b), "TAN AH KOW") {
		t.Fatal("export file is empty")
	}
	k.admin.tabs.Select(k.admin.statusTab)
	r.jobs.settle(t)
	if lines := k.admin.statusText.Text; !strings.Contains(lines, "Token API — OK: the server answers") ||
		!strings.Contains(lines, "Visit log: 0 kB") || byteSize(45_300) != "46 kB" || byteSize(2_500_000) != "2.5 MB" {
		t.Fatalf("status: %s", lines)
	}
	k.admin.deleteEverything()
	r.jobs.settle(t)
	if k.admin.message.Text != "Deleted 2 visits." || len(k.admin.rows) != 0 || r.store.visit(2).ID != 0 {
		t.Fatalf("delete all: %q, %d rows", k.admin.message.Text, len(k.admin.rows))
	}
	test.Tap(k.admin.closeBtn)
	if k.admin.root.Visible() || k.admin.rows != nil {
		t.Fatal("closing the admin screens left them (or their rows) behind")
	}
	// Closing the window asks for the PIN; the right one quits.
	k.admin.askPIN(pinQuit)
	typePIN(k, "2468")
	if r.quit.count() != 1 || k.admin.root.Visible() {
		t.Fatal("the PIN did not quit the kiosk")
	}
}

// displays are the screen sizes the kiosk supports: landscape and portrait
// Full HD, a 1280×800 tablet and an 800×480 panel.
var displays = []fyne.Size{{Width: 1920, Height: 1080}, {Width: 1080, Height: 1920}, {Width: 1280, Height: 800}, {Width: 800, Height: 480}}

func TestScreensFitCommonDisplays(t *testing.T) {
	r := newRig(t, &fakeEngine{}, Options{Venue: "Test Venue"})
	k, w := r.k, r.w
	r.showQR(qrURL("1"))
	check := func(name string) {
		for _, s := range displays {
			w.Resize(s)
			if m := w.Content().MinSize(); m.Width > s.Width || m.Height > s.Height {
				t.Errorf("%s needs %v, more than a %v display", name, m, s)
			}
		}
	}
	check("QR screen")
	test.Tap(k.langs[3])
	check("QR screen in Tamil")
	r.e.publish(kiosk.Screen{Phase: kiosk.PhaseChecking})
	r.e.publish(kiosk.Screen{Phase: kiosk.PhaseResult, Outcome: kiosk.OutcomeEligible, MinAge: 21, Until: r.clock.Now().Add(8 * time.Second)})
	check("result screen")
	w.Resize(fyne.NewSize(800, 480))
	k.refit()
	if k.resultTitle.TextSize >= 64 || k.resultTitle.TextSize < 64.0/3 {
		t.Errorf("the Tamil title is %v px on an 800 px panel; it should shrink to fit", k.resultTitle.TextSize)
	}
	for _, b := range append(k.langs, k.cancel, k.confirmButton) {
		if h := b.MinSize().Height; h < 48 {
			t.Errorf("button %q is %v px tall; touch targets need 48", b.Text, h)
		}
	}
}

// slowStore is a visit log whose list queries, while it is held, wait
// until the test answers each one, as on a slow or busy disk; like one, it
// does not notice a cancelled context while it waits.
type slowStore struct {
	*memStore
	mu      sync.Mutex
	held    bool
	queries chan *heldQuery
	all     []*heldQuery
}

// heldQuery is a list query waiting for its answer.
type heldQuery struct {
	filter kiosk.VisitFilter
	ctx    context.Context
	answer chan struct{}
	once   sync.Once
}

// release lets the query read the log and answer.
func (q *heldQuery) release() { q.once.Do(func() { close(q.answer) }) }

func newSlowStore() *slowStore {
	return &slowStore{memStore: &memStore{}, queries: make(chan *heldQuery, 16)}
}

// hold makes the list queries from now on wait, or not.
func (s *slowStore) hold(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.held = on
}

// releaseAll answers every query still waiting.
func (s *slowStore) releaseAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, q := range s.all {
		q.release()
	}
}

func (s *slowStore) Visits(ctx context.Context, f kiosk.VisitFilter) ([]kiosk.Visit, error) {
	s.mu.Lock()
	var q *heldQuery
	if s.held {
		q = &heldQuery{filter: f, ctx: ctx, answer: make(chan struct{})}
		s.all = append(s.all, q)
	}
	s.mu.Unlock()
	if q != nil {
		s.queries <- q
		<-q.answer
	}
	return s.memStore.Visits(ctx, f)
}

// next is the next query that waits.
func (s *slowStore) next(t *testing.T) *heldQuery {
	t.Helper()
	select {
	case q := <-s.queries:
		return q
	case <-time.After(10 * time.Second):
		t.Fatal("the visit log was not asked")
	}
	return nil
}

// promptly runs fn, UI actions, and fails the test when they have not
// returned within 10 s: UI code that waited on the visit log would hang.
func promptly(t *testing.T, what string, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s waited for the visit log", what)
	}
}

// TestAdminSlowVisitLog: the visit log is read off the UI goroutine. The
// list shows when the answer comes; meanwhile the screens answer taps, and
// an answer nobody waits for any more (the screens closed, or a newer
// search came) is dropped.
func TestAdminSlowVisitLog(t *testing.T) {
	store := newSlowStore()
	r := setupAdmin(t, store)
	t.Cleanup(store.releaseAll) // runs before setupAdmin's wait for the jobs
	k, u := r.k, r.k.admin
	store.Save(context.Background(), checkedIn(r.clock.Now().Add(-time.Hour), "TAN AH KOW", "*****567D", "Ms Lee", "Meeting"))
	store.Save(context.Background(), checkedIn(r.clock.Now().Add(-time.Minute), "LIM BEE LENG", "*****123A", "Reception", "Delivery"))

	store.hold(true)
	promptly(t, "opening the admin screens", func() {
		u.askPIN(pinAdmin)
		typePIN(k, "2468")
	})
	q := store.next(t)
	if !q.filter.From.Equal(time.Date(2026, 12, 2, 0, 0, 0, 0, kiosk.SGT)) || q.filter.Limit != maxDay {
		t.Fatalf("asked for %+v, not today's first page", q.filter)
	}
	if !u.panel.Visible() || len(u.rows) != 0 || u.pageLabel.Text != "Loading…" || !u.next.Disabled() {
		t.Fatalf("while the log is read: panel %v, %d rows, %q", u.panel.Visible(), len(u.rows), u.pageLabel.Text)
	}
	q.release()
	r.jobs.settle(t)
	if len(u.rows) != 2 || u.rows[0].Name != "LIM BEE LENG" || u.pageLabel.Text != "Page 1 of 1" {
		t.Fatalf("after the answer: %d rows, %q", len(u.rows), u.pageLabel.Text)
	}

	// The screens close while a search waits; its answer does not bring
	// the list back, and the query is cancelled.
	u.nameSearch.SetText("TAN")
	promptly(t, "searching", func() { test.Tap(u.searchBtn) })
	q = store.next(t)
	promptly(t, "closing", func() { test.Tap(u.closeBtn) })
	if u.root.Visible() || u.rows != nil || q.ctx.Err() == nil {
		t.Fatalf("Close while the log was read: screens %v, query %v", u.root.Visible(), q.ctx.Err())
	}
	q.release()
	r.jobs.settle(t)
	if u.root.Visible() || u.rows != nil {
		t.Fatalf("the late answer: screens %v, %d rows", u.root.Visible(), len(u.rows))
	}

	// A second search while the first waits: the first is cancelled, and
	// its answer, coming last, does not replace the second's.
	store.hold(false)
	u.askPIN(pinAdmin)
	typePIN(k, "2468")
	r.jobs.settle(t)
	store.hold(true)
	u.nameSearch.SetText("TAN")
	first := r.jobs.started()
	test.Tap(u.searchBtn)
	qTAN := store.next(t)
	u.nameSearch.SetText("LIM")
	test.Tap(u.searchBtn)
	qLIM := store.next(t)
	if qTAN.filter.Name != "TAN" || qLIM.filter.Name != "LIM" || qTAN.ctx.Err() == nil || qLIM.ctx.Err() != nil {
		t.Fatalf("two searches asked %q then %q; first cancelled: %v", qTAN.filter.Name, qLIM.filter.Name, qTAN.ctx.Err())
	}
	qLIM.release()
	r.jobs.wait(t, first+1)
	if len(u.rows) != 1 || u.rows[0].Name != "LIM BEE LENG" || u.pageLabel.Text != "Page 1 of 1" {
		t.Fatalf("the second search's answer: %+v", u.rows)
	}
	qTAN.release()
	r.jobs.settle(t)
	if len(u.rows) != 1 || u.rows[0].Name != "LIM BEE LENG" || u.message.Text != "" {
		t.Fatalf("after the first search's late answer: %+v, %q", u.rows, u.message.Text)
	}
}

// TestAdminClosesWhenLeftAlone: two minutes unused, on the kiosk's clock,
// and the admin screens close with their list.
func TestAdminClosesWhenLeftAlone(t *testing.T) {
	r := setupAdmin(t, &memStore{})
	k, u := r.k, r.k.admin
	r.store.Save(context.Background(), checkedIn(r.clock.Now(), "TAN AH KOW", "*****567D", "MS O", "TEA"))
	u.askPIN(pinAdmin)
	r.clock.Add(adminIdle - time.Second)
	k.tick()
	if !u.root.Visible() || !u.pinPad.Visible() {
		t.Fatal("the PIN pad closed before its time")
	}
	typePIN(k, "2468") // opening the list counts as use
	r.jobs.settle(t)
	r.clock.Add(time.Minute)
	k.tick()
	u.tabs.Select(u.statusTab) // so does choosing a tab
	r.jobs.settle(t)
	r.clock.Add(adminIdle - time.Second)
	k.tick()
	if !u.panel.Visible() || len(u.rows) != 1 {
		t.Fatalf("the admin screens closed early: %v, %d rows", u.panel.Visible(), len(u.rows))
	}
	if p, res, _ := r.e.halts(); p != 1 || res != 0 {
		t.Fatalf("while the admin screens are open: %d pauses, %d resumes", p, res)
	}
	r.clock.Add(time.Second)
	k.tick()
	if u.root.Visible() || u.rows != nil {
		t.Fatal("two idle minutes did not close the admin screens")
	}
	if p, res, _ := r.e.halts(); p != 1 || res != 1 {
		t.Fatalf("closing when left alone: %d pauses, %d resumes", p, res)
	}
}
