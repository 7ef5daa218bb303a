package dashboard_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"ndikiosk/app"
	"ndikiosk/config"
	"ndikiosk/dashboard"
	"ndikiosk/kiosk"
	"ndikiosk/ndi/sandbox"
	"ndikiosk/pgstore"
	"ndikiosk/remote"
)

const chromiumPath = "/usr/bin/chromium"

// needChromium skips without Debian's chromium, except under CI, where
// its absence is a failure (scripts/install-deps installs it).
func needChromium(t testing.TB) {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("chromium is not installed at %s (scripts/install-deps installs it): %v", chromiumPath, err)
		}
		t.Skipf("chromium is not installed at %s: run ./scripts/install-deps to run the browser tests", chromiumPath)
	}
}

// browser starts a headless Chromium with a fresh profile; each call is
// a browser of its own, with its own cookies.
func browser(t testing.TB) context.Context {
	t.Helper()
	needChromium(t)
	opts := []chromedp.ExecAllocatorOption{chromedp.ExecPath(chromiumPath), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.WindowSize(412, 915)}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelB := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelB(); cancelA() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// run runs steps with a deadline.
func run(t testing.TB, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(tctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// get runs one action that returns a value, with a deadline.
func get[T any](t testing.TB, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(tctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// poll waits until expr is truthy in the page.
func poll(t testing.TB, ctx context.Context, what, expr string, within time.Duration) {
	t.Helper()
	get(t, ctx, what, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(within)))
}

// js evaluates expr and drops its value.
func js(expr string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := chromedp.Evaluate[any](expr)(ctx, t)
		return chromedp.Void{}, err
	}
}

// fleet is a sandbox hub in visitor mode with one kiosk connected.
type fleet struct {
	h     *app.Hub
	base  string
	kiosk *remote.Client
	shown chan kiosk.Screen
}

func startFleet(t testing.TB) *fleet {
	t.Helper()
	ctx := context.Background()
	db, err := dashboard.PG().NewDatabase(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.SandboxHub(db)
	cfg.Kiosk.Listen, cfg.Kiosk.DataDir, cfg.Kiosk.Mode = "127.0.0.1:0", t.TempDir(), kiosk.ModeVisitor
	cfg.Kiosk.Venue = "HQ"
	cfg.Hub.KeyFile = filepath.Join(cfg.Kiosk.DataDir, config.HubKeyFile)
	h, err := app.NewHub(cfg, app.Options{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	hctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { h.Run(hctx); close(done) }()
	t.Cleanup(func() { cancel(); h.Close(); <-done })
	f := &fleet{h: h, base: "http://" + h.Addr(), shown: make(chan kiosk.Screen, 256)}
	token, err := h.Registry.Enrol(ctx, "lobby-1")
	if err != nil {
		t.Fatal(err)
	}
	f.kiosk, err = remote.New(remote.Options{URL: f.base, Token: token, DataDir: t.TempDir(), Version: kioskVersion})
	if err != nil {
		t.Fatal(err)
	}
	f.kiosk.Subscribe(func(s kiosk.Screen) { f.shown <- s })
	rctx, rcancel := context.WithCancel(ctx)
	rdone := make(chan struct{})
	go func() { f.kiosk.Run(rctx); close(rdone) }()
	t.Cleanup(func() { rcancel(); <-rdone })
	f.await(t, "a code", func(s kiosk.Screen) bool { return s.Phase == kiosk.PhaseQR && s.QR != "" })
	for name, role := range map[string]dashboard.Role{"ada": dashboard.Admin, "viv": dashboard.Viewer, "lockme": dashboard.Viewer} {
		if err := h.Dashboard.Accounts().Add(ctx, name, role, password); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

const password = "correct horse battery"

// kioskVersion is the version the fleet's kiosk tells the hub it runs.
const kioskVersion = "9.9.9-test"

func (f *fleet) await(t testing.TB, what string, ok func(kiosk.Screen) bool) kiosk.Screen {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case s := <-f.shown:
			if ok(s) {
				return s
			}
		case <-deadline:
			t.Fatalf("no %s on the kiosk in 30 s", what)
		}
	}
}

// visit scans persona p at the kiosk and answers its questions: confirm
// (host Reception) or check out; an invited visitor is asked none. It returns when the kiosk shows the
// result, and the time it did.
func (f *fleet) visit(t testing.TB, p sandbox.Persona) (kiosk.Screen, time.Time) {
	t.Helper()
	if s := f.kiosk.Screen(); s.Phase != kiosk.PhaseQR || s.QR == "" {
		f.await(t, "a code", func(s kiosk.Screen) bool { return s.Phase == kiosk.PhaseQR && s.QR != "" })
	}
	for drained := false; !drained; { // screens of earlier visits are not this one's
		select {
		case <-f.shown:
		default:
			drained = true
		}
	}
	resp, err := http.PostForm(f.base+config.SandboxPrefix+"/scan", url.Values{"kiosk": {"lobby-1"}, "persona": {p.ID}, "decision": {"allow"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	s := f.await(t, "a question", func(s kiosk.Screen) bool {
		return s.Phase == kiosk.PhaseConfirm || s.Phase == kiosk.PhaseCheckOut || s.Phase == kiosk.PhaseResult
	})
	switch s.Phase {
	case kiosk.PhaseConfirm:
		if err := f.kiosk.Confirm("Reception", "Meeting"); err != nil {
			t.Fatal(err)
		}
	case kiosk.PhaseCheckOut:
		f.kiosk.CheckOut(true)
	case kiosk.PhaseResult: // invited: checked in at once
		return s, time.Now()
	}
	res := f.await(t, "a result", func(s kiosk.Screen) bool { return s.Phase == kiosk.PhaseResult })
	return res, time.Now()
}

// signIn signs in at the dashboard in ctx's browser.
func signIn(t testing.TB, ctx context.Context, base, name string) {
	t.Helper()
	run(t, ctx, "sign in as "+name, chromedp.Navigate(base+"/dashboard/onsite"), chromedp.WaitVisible(chromedp.ID("signin")),
		chromedp.SendKeys(chromedp.ID("name"), name), chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Click(chromedp.ID("signin-button")), chromedp.WaitVisible(chromedp.ID("onsite")))
}

func text(t testing.TB, ctx context.Context, sel string) string {
	t.Helper()
	return get(t, ctx, "read "+sel, chromedp.Text(chromedp.CSS(sel)))
}

// TestDashboardInBrowser drives the dashboard in Chromium against a
// sandbox hub with a kiosk: a visit appears live in the on-site list
// (without a reload), an admin puts the visitor on the deny list, the
// roll call prints to a PDF with the name and no identity number, a form
// on another origin is refused, five bad passwords lock a name, and a
// viewer cannot export or deny.
func TestDashboardInBrowser(t *testing.T) {
	f := startFleet(t)
	ctx := browser(t)
	signIn(t, ctx, f.base, "ada")

	// Live: the page is not reloaded (the marker survives), yet the
	// visitor appears once the kiosk has the result.
	run(t, ctx, "mark the page", js(`window.__marker = 42`))
	poll(t, ctx, "the event stream", `document.getElementById('live').dataset.listening`, 10*time.Second)
	p, _ := sandbox.PersonaByLabel("Adult citizen", time.Now())
	f.visit(t, p)
	poll(t, ctx, "the visitor appears live", fmt.Sprintf(`document.getElementById('onsite').textContent.includes(%q)`, p.Name), 10*time.Second)
	if marker := get(t, ctx, "no reload", chromedp.Evaluate[int](`window.__marker || 0`)); marker != 42 {
		t.Fatal("the page was reloaded rather than updated")
	}
	// A "No Singpass?" alert from the kiosk shows up too, and Handled
	// closes it.
	if _, err := f.h.Store.RaiseAlert(context.Background(), "lobby-1", "HQ", time.Now()); err != nil {
		t.Fatal(err)
	}
	poll(t, ctx, "the alert appears live", `document.querySelector('.alerts li') !== null`, 10*time.Second)
	if marker := get(t, ctx, "no reload", chromedp.Evaluate[int](`window.__marker || 0`)); marker != 42 {
		t.Fatal("the page was reloaded for the alert")
	}
	run(t, ctx, "handle the alert", chromedp.Click(chromedp.CSS(".alerts li button")), chromedp.WaitVisible(chromedp.CSS("p.notice")))
	if open, _ := f.h.Store.OpenAlerts(context.Background()); len(open) != 0 {
		t.Fatalf("%d alerts still open", len(open))
	}
	visits, err := f.h.Store.Visits(context.Background(), kiosk.VisitFilter{})
	if err != nil || len(visits) != 1 || visits[0].Site != "HQ" {
		t.Fatalf("visits: %+v %v", visits, err)
	}
	v := visits[0]

	// Kiosks: the one connected, with what its screen shows.
	run(t, ctx, "kiosks", chromedp.Navigate(f.base+"/dashboard/kiosks"), chromedp.WaitVisible(chromedp.ID("kiosks")))
	if got := text(t, ctx, "#k-lobby-1"); !strings.Contains(got, "yes, since") || !strings.Contains(got, "result") && !strings.Contains(got, "qr") ||
		!strings.Contains(got, "kiosk "+kioskVersion+" · hub test") {
		t.Fatalf("kiosk row: %q", got)
	}

	// Deny list, from the visit.
	row := fmt.Sprintf("#v%d", v.ID)
	run(t, ctx, "deny from the visit", chromedp.Navigate(f.base+"/dashboard/visits"), chromedp.WaitVisible(chromedp.CSS(row)),
		chromedp.SendKeys(chromedp.CSS(row+" input[name=note]"), "test note"), chromedp.Click(chromedp.CSS(row+" form.deny button")),
		chromedp.WaitVisible(chromedp.ID("deny")))
	if got := text(t, ctx, "#deny"); !strings.Contains(got, v.MaskedID) || !strings.Contains(got, "test note") {
		t.Fatalf("deny list shows %q", got)
	}
	if denied, _ := f.h.Store.Denied(context.Background(), v.PersonKey); !denied {
		t.Fatal("not denied in PostgreSQL")
	}

	// Roll call, printed.
	run(t, ctx, "open the roll call", chromedp.Navigate(f.base+"/dashboard/rollcall/print?site=HQ"), chromedp.WaitVisible(chromedp.ID("print")))
	pdf := get(t, ctx, "print it", chromedp.PrintToPDF(chromedp.PDFPaper(chromedp.PaperA4)))
	got := pdfText(t, pdf)
	if !strings.Contains(got, p.Name) || !strings.Contains(got, "Reception") {
		t.Fatalf("the roll call PDF lacks the visitor:\n%s", got)
	}
	for _, id := range []string{v.MaskedID, p.ID, p.ID[len(p.ID)-4:], "NRIC"} {
		if strings.Contains(got, id) {
			t.Fatalf("the roll call PDF holds %q", id)
		}
	}
	if strings.Contains(got, "Sign out") {
		t.Error("the navigation is printed")
	}

	// A form on another origin posting to the dashboard.
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<!doctype html><form id=f method=post action="%s/dashboard/walkin">
<input name=csrf value=guess><input name=site value=HQ><input name=name value="FORGED"><input name=host value=X></form>
<script>document.getElementById('f').submit()</script>`, f.base)
	}))
	defer evil.Close()
	run(t, ctx, "forged form", chromedp.Navigate(evil.URL), chromedp.WaitVisible(chromedp.CSS("main")))
	body := text(t, ctx, "main")
	if !strings.Contains(body, "did not come from the dashboard") {
		t.Fatalf("the forged form got %q", body)
	}
	if all, _ := f.h.Store.Visits(context.Background(), kiosk.VisitFilter{}); len(all) != 1 {
		t.Fatalf("the forged form wrote a visit: %d visits", len(all))
	}

	// Lockout, in a browser of its own.
	other := browser(t)
	for i := 1; i <= dashboard.LockAfter; i++ {
		run(t, other, "bad sign-in", chromedp.Navigate(f.base+"/dashboard/signin"), chromedp.WaitVisible(chromedp.ID("signin")),
			chromedp.SendKeys(chromedp.ID("name"), "lockme"), chromedp.SendKeys(chromedp.ID("password"), "not the password"),
			chromedp.Click(chromedp.ID("signin-button")), chromedp.WaitVisible(chromedp.ID("signin-error")))
	}
	if got := text(t, other, "#signin-error"); !strings.Contains(got, "locked") || !strings.Contains(got, "try again in 15 minutes") {
		t.Fatalf("after %d bad passwords: %q", dashboard.LockAfter, got)
	}
	run(t, other, "right password while locked", chromedp.Navigate(f.base+"/dashboard/signin"), chromedp.WaitVisible(chromedp.ID("signin")),
		chromedp.SendKeys(chromedp.ID("name"), "lockme"), chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Click(chromedp.ID("signin-button")), chromedp.WaitVisible(chromedp.ID("signin-error")))
	if got := text(t, other, "#signin-error"); !strings.Contains(got, "locked") {
		t.Fatalf("the right password while locked: %q", got)
	}

	// A viewer: export and deny answer 403, whatever the page offers.
	signIn(t, other, f.base, "viv")
	status := get(t, other, "viewer posts a deny", chromedp.Evaluate[int](fmt.Sprintf(`fetch('/dashboard/deny', {method: 'POST', body: new URLSearchParams({
		csrf: document.querySelector('input[name=csrf]').value, visit: '%d', note: 'x'})}).then(r => r.status)`, v.ID), chromedp.EvalAwaitPromise))
	if status != http.StatusForbidden {
		t.Fatalf("viewer's deny: HTTP %d", status)
	}
	status = get(t, other, "viewer exports", chromedp.Evaluate[int](`fetch('/dashboard/export?format=csv').then(r => r.status)`, chromedp.EvalAwaitPromise))
	if status != http.StatusForbidden {
		t.Fatalf("viewer's export: HTTP %d", status)
	}
}

// TestDashboardWithoutJavaScript: with scripts off, staff sign in, see
// the on-site list (which reloads itself), and tick a roll call with the
// plain form.
func TestDashboardWithoutJavaScript(t *testing.T) {
	f := startFleet(t)
	ctx := browser(t)
	run(t, ctx, "scripts off", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
		return err
	}))
	p, _ := sandbox.PersonaByLabel("Adult citizen", time.Now())
	f.visit(t, p)
	signIn(t, ctx, f.base, "viv")
	if !strings.Contains(text(t, ctx, "#onsite"), p.Name) {
		t.Fatal("the visitor is not on the list")
	}
	time.Sleep(time.Second) // time for the script, were it running, to open its event stream
	if got := get(t, ctx, "script ran?", chromedp.AttributeValue(chromedp.ID("live"), "data-listening")); got.Exists {
		t.Fatal("the page's script ran: the test is not testing pages without JavaScript")
	}
	if got := get(t, ctx, "refresh", chromedp.OuterHTML(chromedp.CSS("head"))); !strings.Contains(got, `http-equiv="refresh"`) {
		t.Fatal("no reload without JavaScript")
	}
	run(t, ctx, "start a roll call", chromedp.Navigate(f.base+"/dashboard/rollcall"),
		chromedp.Click(chromedp.CSS("ul.sites li:first-child button[type=submit]")), chromedp.WaitVisible(chromedp.ID("ticks")),
		chromedp.Click(chromedp.CSS("#ticks li:first-child button")), chromedp.WaitVisible(chromedp.CSS("#ticks li.ticked")))
	if got := text(t, ctx, "p.count"); !strings.Contains(got, "1 of 1 accounted for") {
		t.Fatalf("roll call: %q", got)
	}
}

func pdfText(t testing.TB, pdf []byte) string {
	t.Helper()
	if _, err := exec.LookPath("pdftotext"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("pdftotext (poppler-utils) is not installed")
		}
		t.Skip("pdftotext (poppler-utils) is not installed: run ./scripts/install-deps")
	}
	path := filepath.Join(t.TempDir(), "rollcall.pdf")
	if err := os.WriteFile(path, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-layout", path, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return string(out)
}

// TestLiveLatency measures how long after the kiosk shows its result the
// on-site list in a browser has changed (a visitor in, or out), over
// DASHBOARD_LATENCY_VISITS visits (bench/dashboard; skipped otherwise).
// It reports, it does not assert: speed is a benchmark's business.
func TestLiveLatency(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("DASHBOARD_LATENCY_VISITS"))
	if n <= 0 {
		t.Skip("set DASHBOARD_LATENCY_VISITS (bench/dashboard) to measure")
	}
	f := startFleet(t)
	ctx := browser(t)
	signIn(t, ctx, f.base, "ada")
	poll(t, ctx, "the event stream", `document.getElementById('live').dataset.listening`, 10*time.Second)
	run(t, ctx, "observer", js(`window.__want = null;
		new MutationObserver(() => { const w = window.__want; if (w && !w.t && document.getElementById('live').textContent.includes(w.name) === w.present) { w.t = Date.now(); } })
		.observe(document.getElementById('live'), {childList: true, subtree: true, characterData: true}); true`))
	var people []sandbox.Persona
	for _, p := range sandbox.Personas(time.Now()) {
		if p.Label == "Adult citizen" && p.Name != "" {
			people = append(people, p)
		}
	}
	present := map[string]bool{}
	var lat []time.Duration
	for i := 0; i < n; i++ {
		p := people[i%len(people)]
		want := !present[p.Name]
		run(t, ctx, "want", js(fmt.Sprintf(`window.__want = {name: %q, present: %v, t: 0}; true`, p.Name, want)))
		_, at := f.visit(t, p)
		seen := get(t, ctx, "seen", chromedp.Poll[int64](`window.__want.t`, chromedp.WithPollingTimeout(20*time.Second)))
		present[p.Name] = want
		lat = append(lat, max(0, time.UnixMilli(seen).Sub(at)))
		f.kiosk.Dismiss()
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	p95 := lat[min(len(lat)-1, (len(lat)*95+99)/100-1)]
	t.Logf("on-site list updated after the kiosk's result: %d visits, median %v, p95 %v, max %v", len(lat), lat[len(lat)/2], p95, lat[len(lat)-1])
}

// TestInvitationInBrowser: an admin uploads the site's host list as a
// CSV file, then invites a visitor, choosing the host from that list; that visitor scanning at the
// kiosk is checked in at once with the invitation's host and purpose, and
// the invitations page shows the invitation used by that visit. The
// kiosks page shows the version the kiosk sent.
func TestInvitationInBrowser(t *testing.T) {
	f := startFleet(t)
	bg := context.Background()
	p, ok := sandbox.PersonaByLabel("Adult citizen", time.Now())
	if !ok || p.Name == "" {
		t.Fatal("no adult citizen persona with a name")
	}
	ctx := browser(t)
	signIn(t, ctx, f.base, "ada")
	// The site's host list, uploaded as a CSV file from the browser.
	file := filepath.Join(t.TempDir(), "hosts.csv")
	if err := os.WriteFile(file, []byte("site,name,email\nHQ,Ms Lee,lee@example.sg\nHQ,Mr Tan,\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, ctx, "upload hosts", chromedp.Navigate(f.base+"/dashboard/hosts"), chromedp.WaitVisible(chromedp.ID("import-form")),
		chromedp.SetUploadFiles(chromedp.ID("import-file"), []string{file}), chromedp.Click(chromedp.ID("import-button")),
		chromedp.WaitVisible(chromedp.CSS("p.notice")))
	if got := text(t, ctx, "#hosts tbody"); !strings.Contains(got, "lee@example.sg") || !strings.Contains(got, "Mr Tan") {
		t.Fatalf("hosts after the upload: %q", got)
	}
	run(t, ctx, "invite", chromedp.Navigate(f.base+"/dashboard/invitations?site=HQ"), chromedp.WaitVisible(chromedp.ID("invite-form")),
		chromedp.SendKeys(chromedp.ID("invite-name"), strings.ToLower(p.Name)), chromedp.SetValue(chromedp.ID("invite-host"), "Mr Tan"),
		chromedp.SendKeys(chromedp.ID("invite-purpose"), "Interview"), chromedp.Click(chromedp.ID("invite-button")),
		chromedp.WaitVisible(chromedp.CSS("p.notice")))
	if got := text(t, ctx, "#invitations tbody"); !strings.Contains(got, strings.ToLower(p.Name)) || !strings.Contains(got, "not yet") {
		t.Fatalf("invitations after inviting: %q", got)
	}
	res, _ := f.visit(t, p)
	if res.Outcome != kiosk.OutcomeCheckedIn || res.Host != "Mr Tan" {
		t.Fatalf("the invited visitor: outcome %s host %q", res.Outcome, res.Host)
	}
	visits, err := f.h.Store.Visits(bg, kiosk.VisitFilter{})
	if err != nil || len(visits) != 1 || visits[0].Host != "Mr Tan" || visits[0].Purpose != "Interview" {
		t.Fatalf("visits: %+v %v", visits, err)
	}
	run(t, ctx, "invitations again", chromedp.Navigate(f.base+"/dashboard/invitations?site=HQ"), chromedp.WaitVisible(chromedp.ID("invitations")))
	if got, want := get(t, ctx, "used", chromedp.Evaluate[string](`document.querySelector('#invitations td.used').textContent`)), fmt.Sprintf("yes, visit %d", visits[0].ID); !strings.Contains(got, want) {
		t.Fatalf("the invitation shows %q, want %q", got, want)
	}
	if n := get(t, ctx, "cancel buttons", chromedp.Evaluate[int](`document.querySelectorAll('#invitations form').length`)); n != 0 {
		t.Fatalf("a used invitation offers %d cancel buttons", n)
	}
	run(t, ctx, "kiosks", chromedp.Navigate(f.base+"/dashboard/kiosks"), chromedp.WaitVisible(chromedp.ID("kiosks")))
	if got := text(t, ctx, "#k-lobby-1"); !strings.Contains(got, "kiosk "+kioskVersion) {
		t.Fatalf("kiosk row: %q", got)
	}
}

// TestDashboardScreenshots writes the README's screenshots of the
// dashboard into $DASHBOARD_SCREENSHOTS (scripts/screenshots), phone-sized
// and desktop-sized, from a sandbox hub with two visitors, a walk-in, an
// open alert and a roll call under way. Skipped without the variable.
func TestDashboardScreenshots(t *testing.T) {
	out := os.Getenv("DASHBOARD_SCREENSHOTS")
	if out == "" {
		t.Skip("set DASHBOARD_SCREENSHOTS=DIR (scripts/screenshots)")
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	f := startFleet(t)
	ctx := browser(t)
	shot := func(name string, w, h int64, path, ready string) {
		t.Helper()
		run(t, ctx, "viewport", chromedp.EmulateViewport(w, h), chromedp.Navigate(f.base+path), chromedp.WaitVisible(chromedp.CSS(ready)))
		png := get(t, ctx, "screenshot "+name, chromedp.FullScreenshot(100))
		if err := os.WriteFile(filepath.Join(out, name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s/%s.png", out, name)
	}
	shot("signin-phone", 412, 915, "/dashboard/signin", "#signin")
	signIn(t, ctx, f.base, "ada")
	var people []sandbox.Persona
	for _, p := range sandbox.Personas(time.Now()) {
		if p.Label == "Adult citizen" && p.Name != "" {
			people = append(people, p)
		}
	}
	for _, p := range people[:2] {
		f.visit(t, p)
		f.kiosk.Dismiss()
	}
	bg := context.Background()
	if _, err := f.h.Store.WalkIn(bg, "HQ", "Jane Doe", "Reception", "Delivery", time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := f.h.Store.RaiseAlert(bg, "lobby-1", "HQ", time.Now()); err != nil {
		t.Fatal(err)
	}
	shot("onsite-phone", 412, 915, "/dashboard/onsite", "#onsite")
	shot("onsite", 1280, 800, "/dashboard/onsite", "#onsite")
	shot("visits", 1280, 800, "/dashboard/visits", "#visits")
	shot("kiosks", 1280, 800, "/dashboard/kiosks", "#kiosks")
	shot("walkin-phone", 412, 915, "/dashboard/walkin?site=HQ", "#walkin")
	run(t, ctx, "start a roll call", chromedp.EmulateViewport(412, 915), chromedp.Navigate(f.base+"/dashboard/rollcall"),
		chromedp.Click(chromedp.CSS("ul.sites li:nth-child(2) button[type=submit]")), chromedp.WaitVisible(chromedp.ID("ticks")),
		chromedp.Click(chromedp.CSS("#ticks li:first-child button")))
	poll(t, ctx, "the tick", `document.querySelector('#ticks li.ticked') !== null`, 10*time.Second)
	loc := get(t, ctx, "where", chromedp.Evaluate[string](`location.pathname`))
	shot("rollcall-phone", 412, 915, loc, "#ticks")
	shot("rollcall-print", 1280, 800, "/dashboard/rollcall/print?site=HQ", "#print")
	visits, _ := f.h.Store.Visits(bg, kiosk.VisitFilter{})
	for _, v := range visits {
		if len(v.PersonKey) > 0 {
			f.h.Store.DenyVisitor(bg, v.ID, true, "asked to leave, 3 Dec (by ada)", time.Now())
			break
		}
	}
	shot("deny", 1280, 800, "/dashboard/deny", "#deny")

	// Hosts, invitations (one used, one expected, one made out to a
	// returning visitor) and a dead letter from a webhook that refused it.
	for _, h := range []pgstore.Host{{Site: "HQ", Name: "Ms Lee", Email: "lee@hq.example.sg"}, {Site: "HQ", Name: "Mr Tan", Email: "tan@hq.example.sg"},
		{Site: "HQ", Name: "Reception"}, {Site: "Annex", Name: "Dr Ong", Email: "ong@annex.example.sg"}} {
		f.h.Store.SaveHost(bg, h, time.Now())
	}
	shot("hosts", 1280, 800, "/dashboard/hosts", "#hosts")
	shot("hosts-phone", 412, 915, "/dashboard/hosts?site=HQ", "#hosts")
	now := time.Now()
	guest, _ := sandbox.PersonaByLabel("Foreigner (FIN)", now)
	f.h.Store.Invite(bg, pgstore.Invitation{Site: "HQ", Day: now, Name: guest.Name, Host: "Ms Lee", Purpose: "Interview", Note: "parking bay 4", CreatedBy: "ada"}, now)
	f.h.Store.Invite(bg, pgstore.Invitation{Site: "HQ", Day: now, Name: "Ahmad bin Ismail", Host: "Mr Tan", Purpose: "Delivery", CreatedBy: "ada"}, now)
	for _, v := range visits {
		if len(v.PersonKey) > 0 {
			f.h.Store.Invite(bg, pgstore.Invitation{Day: now, FromVisit: v.ID, Host: "Mr Tan", Purpose: "Follow-up", CreatedBy: "ada"}, now)
			break
		}
	}
	f.visit(t, guest)
	f.kiosk.Dismiss()
	shot("invitations", 1280, 800, "/dashboard/invitations?site=HQ", "#invitations")
	shot("invitations-phone", 412, 915, "/dashboard/invitations?site=HQ", "#invite-form")
	// The sandbox hub's own worker has no channel set up and skips every
	// row at once; two of them are shown as a webhook that answered 410
	// would have left them (TestDeadLetterReplay makes them for real).
	if _, err := f.h.Store.Pool().Exec(bg, `UPDATE notify_outbox SET state = 'dead', attempts = 1, done_at = now(),
		last_error = 'delivery ' || id || ': webhook refused it (410)'
		WHERE id IN (SELECT id FROM notify_outbox WHERE channel = 'webhook' ORDER BY id LIMIT 2)`); err != nil {
		t.Fatal(err)
	}
	shot("notifications", 1280, 800, "/dashboard/notifications", "#dead")
}
