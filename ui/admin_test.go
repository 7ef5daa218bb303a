package ui

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/url"
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
	k, e, _ := setup(t, &fakeProvider{})
	tr := newTranslator()
	tr.set("zh")
	test.Tap(k.langs[1])
	if k.qrCaption.Text != tr.T("qr.caption") || k.qrCaption.Text == "Scan with Singpass app" {
		t.Fatalf("caption after 中文: %q", k.qrCaption.Text)
	}
	e.Callback(url.Values{"code": {"minor"}, "state": {state(t, e)}})
	waitFor(t, func() bool { return e.Screen().Phase == kiosk.PhaseResult })
	if k.resultTitle.Text != "不符合资格" || k.resultDetail.Text != "您必须年满 21 岁。" {
		t.Fatalf("Chinese result: %q %q", k.resultTitle.Text, k.resultDetail.Text)
	}
	test.Tap(k.langs[3]) // Tamil, on the result screen itself
	if k.resultTitle.Text != "தகுதியில்லை" {
		t.Fatalf("Tamil result: %q", k.resultTitle.Text)
	}
	e.Cancel() // the visit ends: back to the venue's language
	if k.qrCaption.Text != "Scan with Singpass app" {
		t.Fatalf("language did not reset: %q", k.qrCaption.Text)
	}
}

func TestUnavailableInMalay(t *testing.T) {
	k, e, _ := setup(t, &fakeProvider{})
	test.Tap(k.langs[2])
	e.Callback(url.Values{"code": {"down"}, "state": {state(t, e)}})
	waitFor(t, func() bool { return e.Screen().Phase == kiosk.PhaseUnavailable })
	want := "Kami tidak dapat mengesahkan identiti anda melalui Verify. Sila hubungi the front desk jika anda memerlukan bantuan lanjut.\nPlease approach the counter."
	if k.resultDetail.Text != want {
		t.Fatalf("Malay unavailable:\n%q\nwant\n%q", k.resultDetail.Text, want)
	}
}

type quitter struct {
	mu sync.Mutex
	n  int
}

func (q *quitter) quit() { q.mu.Lock(); q.n++; q.mu.Unlock() }

func setupAdmin(t *testing.T, now func() time.Time) (*Kiosk, *kiosk.Engine, *memStore, *quitter) {
	hash, err := kiosk.HashPIN("2468")
	if err != nil {
		t.Fatal(err)
	}
	lock, _ := kiosk.NewPINLock(hash, 5, 5*time.Minute, now)
	store := &memStore{}
	q := &quitter{}
	a := test.NewTempApp(t)
	w := test.NewTempWindow(t, nil)
	w.Resize(fyne.NewSize(1280, 800))
	e := kiosk.NewEngine(kiosk.EngineConfig{KioskID: "k1", Mode: kiosk.ModeVisitor, Attributes: []string{"name", "partialuinfin"},
		FreeText: true}, &fakeProvider{}, store, nil, quiet(), nil)
	admin := &kiosk.Admin{Store: store, Engine: e, Lock: lock, Quit: q.quit,
		Export: func(_ context.Context, w io.Writer, _ kiosk.VisitFilter) error {
			_, err := io.WriteString(w, "id,name\n1,TAN AH KOW\n")
			return err
		},
		Status: func(context.Context) kiosk.Status {
			return kiosk.Status{Version: "test", Mode: "visitor", Listen: "127.0.0.1:8080",
				Endpoints: []kiosk.Endpoint{{Name: "Token API", URL: "https://x/token", Reachable: true, Detail: "HTTP 405"}}}
		}}
	k := New(a, w, e, Options{Windowed: true, Admin: admin, Now: now})
	t.Cleanup(k.Stop)
	e.Step()
	return k, e, store, q
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
	clock := &struct {
		sync.Mutex
		t time.Time
	}{t: time.Now()}
	now := func() time.Time { clock.Lock(); defer clock.Unlock(); return clock.t }
	k, _, _, _ := setupAdmin(t, now)
	// Holding the corner for less than two seconds does nothing; two seconds opens the pad.
	k.corner.MouseDown(nil)
	clock.t = clock.t.Add(time.Second)
	k.corner.MouseUp(nil)
	if k.admin.root.Visible() {
		t.Fatal("a short touch opened the PIN pad")
	}
	k.corner.MouseDown(nil)
	clock.t = clock.t.Add(2 * time.Second)
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
	if !strings.HasPrefix(k.admin.pinMessage.Text, "Too many wrong PINs") {
		t.Fatalf("fifth wrong PIN: %q", k.admin.pinMessage.Text)
	}
	typePIN(k, "2468")
	if k.admin.panel.Visible() {
		t.Fatal("the right PIN opened a locked pad")
	}
	clock.t = clock.t.Add(5*time.Minute + time.Second)
	c := k.win.Canvas()
	for _, r := range "2468" {
		c.OnTypedRune()(r)
	}
	c.OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyReturn})
	if !k.admin.panel.Visible() {
		t.Fatalf("the right PIN after the lock: %q", k.admin.pinMessage.Text)
	}
}

func TestAdminVisitsExportAndQuit(t *testing.T) {
	k, e, store, q := setupAdmin(t, nil)
	// A visitor checks in through the screens, typing the host on the on-screen keyboard.
	e.Callback(url.Values{"code": {"visitor"}, "state": {state(t, e)}})
	waitFor(t, func() bool { return e.Screen().Phase == kiosk.PhaseConfirm })
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
	if len(store.visits) != 1 || store.visits[0].Host != "MS O" {
		t.Fatalf("stored %+v", store.visits)
	}
	e.Cancel()

	k.admin.askPIN(pinAdmin)
	typePIN(k, "2468")
	if len(k.admin.rows) != 1 || !strings.Contains(visitLine(k.admin.rows[0]), "TAN AH KOW · *****567D · MS O · TEA") {
		t.Fatalf("admin list %+v", k.admin.rows)
	}
	k.admin.list.Select(0)
	test.Tap(k.admin.checkOut)
	if store.visits[0].CheckedOutAt.IsZero() || k.admin.message.Text != "Checked out." {
		t.Fatalf("staff check-out: %q", k.admin.message.Text)
	}
	dir := t.TempDir()
	k.admin.exportTo(dir)
	files, _ := filepath.Glob(filepath.Join(dir, "ndikiosk-visits-*.csv"))
	if len(files) != 1 || !strings.HasPrefix(k.admin.message.Text, "Exported to ") {
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
	if q.n != 1 {
		t.Fatal("the PIN did not quit the kiosk")
	}
}

func TestScreensFitCommonDisplays(t *testing.T) {
	k, e, w := setup(t, &fakeProvider{})
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
	e.Callback(url.Values{"code": {"adult"}, "state": {state(t, e)}})
	waitFor(t, func() bool { return e.Screen().Phase == kiosk.PhaseResult })
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
