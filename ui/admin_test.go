package ui

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"ndikiosk/assets"
	"ndikiosk/internal/testclock"
	"ndikiosk/kiosk"
)

func TestTranslationsComplete(t *testing.T) {
	tables := map[string]map[string]string{}
	files, _ := fs.Glob(assets.Translations, "translations/*.json")
	for _, f := range files {
		b, _ := assets.Translations.ReadFile(f)
		m := map[string]string{}
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		tables[strings.TrimSuffix(filepath.Base(f), ".json")] = m
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
	want := "Kami tidak dapat mengesahkan identiti anda melalui Verify. Sila hubungi the front desk jika anda memerlukan bantuan lanjut.\nPlease approach the counter."
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

// adminRig is a kiosk with admin screens over a visit log in memory.
type adminRig struct {
	*rig
	store *memStore
	quit  *quitter
}

// fakeStaff stands in for the engine behind kiosk.Admin: its clock, and
// check-outs straight into the store.
type fakeStaff struct {
	store *memStore
	now   func() time.Time
}

func (f fakeStaff) Today() time.Time {
	y, m, d := f.now().In(kiosk.SGT).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, kiosk.SGT)
}

func (f fakeStaff) StaffCheckOut(ctx context.Context, id int64) error {
	return f.store.CheckOut(ctx, id, f.now())
}

func (f fakeStaff) DeleteAll(ctx context.Context) (int64, error) {
	return f.store.Purge(ctx, f.now().Add(time.Millisecond))
}

func setupAdmin(t *testing.T, store *memStore) *adminRig {
	hash, err := kiosk.HashPIN("2468")
	if err != nil {
		t.Fatal(err)
	}
	clock := testclock.New(epoch)
	lock, _ := kiosk.NewPINLock(hash, 5, 5*time.Minute, clock.Now)
	q := &quitter{}
	admin := &kiosk.Admin{Store: store, Lock: lock, Quit: q.quit,
		Export: func(_ context.Context, w io.Writer, _ kiosk.VisitFilter) error {
			_, err := io.WriteString(w, "id,name\n1,TAN AH KOW\n")
			return err
		},
		Status: func(context.Context) kiosk.Status {
			return kiosk.Status{Version: "test", Mode: "visitor", Listen: "127.0.0.1:8080",
				Endpoints: []kiosk.Endpoint{{Name: "Token API", URL: "https://x/token", Reachable: true, Detail: "HTTP 405"}}}
		}}
	r := newRigWith(t, &fakeEngine{}, Options{Admin: admin}, clock, fakeStaff{store: store, now: clock.Now})
	r.showQR(qrURL("1"))
	return &adminRig{rig: r, store: store, quit: q}
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
	k.host.FocusGained()
	if !k.keyboard.Visible() || k.keyboard.Target() != &k.host.Entry {
		t.Fatal("focusing the host field did not bring up the keyboard")
	}
	for _, key := range []string{"M", "S"} {
		test.Tap(k.keyboard.keys[key])
	}
	test.Tap(k.keyboard.space)
	test.Tap(k.keyboard.keys["L"])
	test.Tap(k.keyboard.back)
	test.Tap(k.keyboard.keys["O"])
	k.purpose.FocusGained()
	for _, key := range []string{"T", "E", "A"} {
		test.Tap(k.keyboard.keys[key])
	}
	test.Tap(k.keyboard.done)
	if k.host.Text != "MS O" || k.purpose.Text != "TEA" || k.keyboard.Visible() {
		t.Fatalf("typed host %q purpose %q", k.host.Text, k.purpose.Text)
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
	if len(k.admin.rows) != 1 || visitLine(k.admin.rows[0]) != "09:30 · in · TAN AH KOW · *****567D · MS O · TEA" {
		t.Fatalf("admin list %+v", k.admin.rows)
	}
	k.admin.list.Select(0)
	test.Tap(k.admin.checkOut)
	if out := r.store.visit(2).CheckedOutAt; !out.Equal(r.clock.Now()) || k.admin.message.Text != "Checked out." {
		t.Fatalf("staff check-out at %v: %q", out, k.admin.message.Text)
	}
	if visitLine(k.admin.rows[0]) != "09:30 · out 09:30 · TAN AH KOW · *****567D · MS O · TEA" || !k.admin.checkOut.Disabled() {
		t.Fatalf("after the check-out: %q", visitLine(k.admin.rows[0]))
	}
	dir := t.TempDir()
	k.admin.exportTo(dir)
	files, _ := filepath.Glob(filepath.Join(dir, "ndikiosk-visits-*.csv"))
	if len(files) != 1 || filepath.Base(files[0]) != "ndikiosk-visits-20261202-0930.csv" || k.admin.message.Text != "Exported to "+files[0] {
		t.Fatalf("export: %v %q", files, k.admin.message.Text)
	}
	if b, _ := os.ReadFile(files[0]); !strings.Contains(string(b), "TAN AH KOW") {
		t.Fatal("export file is empty")
	}
	if lines := statusLines(k.admin.admin.Status(context.Background())); !strings.Contains(lines, "Token API: reachable (HTTP 405)") ||
		!strings.Contains(lines, "Visit log: 0 kB") || byteSize(45_300) != "46 kB" || byteSize(2_500_000) != "2.5 MB" {
		t.Fatalf("status: %s", lines)
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

func TestScreensFitCommonDisplays(t *testing.T) {
	r := newRig(t, &fakeEngine{}, Options{Venue: "Test Venue"})
	k, w := r.k, r.w
	r.showQR(qrURL("1"))
	sizes := []fyne.Size{{Width: 1920, Height: 1080}, {Width: 1080, Height: 1920}, {Width: 1280, Height: 800}, {Width: 800, Height: 480}}
	check := func(name string) {
		for _, s := range sizes {
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
