package dashboard

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"ndikiosk/internal/pgtest"
	"ndikiosk/internal/seal"
	"ndikiosk/internal/testclock"
	"ndikiosk/kiosk"
	"ndikiosk/pgstore"
)

var server *pgtest.Server

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m, &server)) }

// rig is a dashboard on a fresh database, served on loopback.
type rig struct {
	t     testing.TB
	db    *pgstore.DB
	d     *Dashboard
	srv   *httptest.Server
	clock *testclock.Clock
	log   *bytes.Buffer
}

func newRig(t testing.TB) *rig {
	t.Helper()
	ctx := context.Background()
	dbURL, err := server.NewDatabase(ctx)
	if err != nil {
		t.Fatal(err)
	}
	db, err := pgstore.Open(ctx, dbURL, seal.NewKey())
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{t: t, db: db, clock: testclock.New(time.Now()), log: &bytes.Buffer{}}
	r.d = New(Options{DB: db, Now: r.clock.Now, Log: slog.New(slog.NewTextHandler(&lockedWriter{w: r.log}, nil))})
	r.d.Start()
	r.srv = httptest.NewServer(r.d.Handler())
	t.Cleanup(func() { r.srv.Close(); r.d.Close(); db.Close() })
	return r
}

type lockedWriter struct {
	w  io.Writer
	mu sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

const password = "correct horse battery"

func (r *rig) operator(name string, role Role) {
	r.t.Helper()
	if err := r.d.Accounts().Add(context.Background(), name, role, password); err != nil {
		r.t.Fatal(err)
	}
}

// visit saves a checked-in visitor at site, now.
func (r *rig) visit(name, uin, site string) int64 {
	r.t.Helper()
	now := r.clock.Now()
	id, err := r.db.Save(context.Background(), kiosk.Visit{KioskID: "lobby-1", Site: site, Mode: kiosk.ModeVisitor,
		TxnRef: fmt.Sprintf("txn-%s-%d", uin, now.UnixNano()), StartedAt: now, DecidedAt: now, Outcome: kiosk.OutcomeCheckedIn,
		MaskedID: "*****" + uin[5:], Name: name, Host: "Tan Ah Kow", Purpose: "Meeting", PersonKey: r.db.PersonKey(uin)})
	if err != nil {
		r.t.Fatal(err)
	}
	return id
}

// client is one browser's cookies against the rig.
type client struct {
	r    *rig
	http *http.Client
	csrf string
}

func (r *rig) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{r: r, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (c *client) get(path string) (*http.Response, string) {
	c.r.t.Helper()
	resp, err := c.http.Get(c.r.srv.URL + path)
	if err != nil {
		c.r.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if m := csrfField.FindSubmatch(b); m != nil {
		c.csrf = string(m[1])
	}
	return resp, string(b)
}

func (c *client) post(path string, form url.Values, header ...string) (*http.Response, string) {
	c.r.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, c.r.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.r.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func (c *client) signIn(name, pw string) (*http.Response, string) {
	c.r.t.Helper()
	c.get("/dashboard/signin")
	return c.post("/dashboard/signin", url.Values{"csrf": {c.csrf}, "name": {name}, "password": {pw}})
}

func (c *client) mustSignIn(name string) {
	c.r.t.Helper()
	if resp, body := c.signIn(name, password); resp.StatusCode != http.StatusSeeOther {
		c.r.t.Fatalf("sign-in: HTTP %d\n%s", resp.StatusCode, body)
	}
	c.get("/dashboard/onsite") // picks up the session's CSRF token
}

func (r *rig) count(q string, args ...any) int {
	r.t.Helper()
	var n int
	if err := r.db.Pool().QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		r.t.Fatal(err)
	}
	return n
}

// TestSignInSessionAndHeaders: a page needs a session; signing in gives
// an HttpOnly SameSite=Strict cookie whose token is stored only hashed;
// every page carries the security headers; signing out deletes the row.
func TestSignInSessionAndHeaders(t *testing.T) {
	r := newRig(t)
	r.operator("alice", Viewer)
	c := r.client()
	resp, _ := c.get("/dashboard/onsite")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/dashboard/signin") {
		t.Fatalf("without a session: HTTP %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, _ = c.signIn("alice", password)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in: HTTP %d", resp.StatusCode)
	}
	var cookie *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == "ndikiosk_session" {
			cookie = ck
		}
	}
	if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode || cookie.Path != "/" {
		t.Fatalf("session cookie: %+v", cookie)
	}
	if n := r.count(`SELECT count(*) FROM operator_sessions WHERE token_hash = $1`, tokenHash(cookie.Value)); n != 1 {
		t.Fatalf("session rows by hash: %d", n)
	}
	if n := r.count(`SELECT count(*) FROM operator_sessions WHERE position(convert_to($1, 'UTF8') in token_hash) > 0`, cookie.Value); n != 0 {
		t.Fatal("the session token is stored in clear")
	}
	resp, body := c.get("/dashboard/onsite")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "alice") {
		t.Fatalf("on-site page: HTTP %d", resp.StatusCode)
	}
	for h, want := range map[string]string{"Content-Security-Policy": "default-src 'self'", "X-Frame-Options": "DENY",
		"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"} {
		if got := resp.Header.Get(h); !strings.Contains(got, want) {
			t.Errorf("%s: %q", h, got)
		}
	}
	if strings.Contains(body, "<script>") || strings.Contains(body, " onclick=") || strings.Contains(body, "style=") {
		t.Error("inline script or style on the page")
	}
	resp, _ = c.post("/dashboard/signout", url.Values{"csrf": {c.csrf}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-out: HTTP %d", resp.StatusCode)
	}
	if n := r.count(`SELECT count(*) FROM operator_sessions`); n != 0 {
		t.Fatalf("%d sessions after sign-out", n)
	}
	if resp, _ := c.get("/dashboard/onsite"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("after sign-out: HTTP %d", resp.StatusCode)
	}
}

// TestSessionTimeouts: 30 idle minutes or 12 hours end a session; the
// page's own refreshes do not keep it alive.
func TestSessionTimeouts(t *testing.T) {
	r := newRig(t)
	r.operator("alice", Viewer)
	c := r.client()
	c.mustSignIn("alice")
	r.clock.Add(20 * time.Minute)
	req, _ := http.NewRequest(http.MethodGet, r.srv.URL+"/dashboard/fragment/onsite", nil)
	req.Header.Set(automatic, "1")
	resp, err := c.http.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("refresh: %v %v", resp.StatusCode, err)
	}
	resp.Body.Close()
	r.clock.Add(11 * time.Minute)
	if resp, _ := c.get("/dashboard/onsite"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("after 31 idle minutes (refreshes only): HTTP %d", resp.StatusCode)
	}
	c.mustSignIn("alice")
	for i := 0; i < 25; i++ { // active all along
		r.clock.Add(29 * time.Minute)
		if resp, _ := c.get("/dashboard/visits"); resp.StatusCode != http.StatusOK {
			if i < 24 {
				t.Fatalf("active session ended after %v", time.Duration(i+1)*29*time.Minute)
			}
			return
		}
	}
	t.Fatal("a session outlived its 12 hours")
}

// TestCSRFRefused: a POST without the session's token, with another
// session's token, or from another origin is refused with 403 and
// changes nothing.
func TestCSRFRefused(t *testing.T) {
	r := newRig(t)
	r.operator("admin", Admin)
	a, b := r.client(), r.client()
	a.mustSignIn("admin")
	b.mustSignIn("admin")
	form := func(token string) url.Values {
		return url.Values{"csrf": {token}, "site": {"HQ"}, "name": {"Forged Person"}, "host": {"Mallory"}}
	}
	cases := []struct {
		name   string
		form   url.Values
		header []string
	}{
		{"no token", form(""), nil},
		{"another session's token", form(b.csrf), nil},
		{"a token with one character changed", form(a.csrf[:len(a.csrf)-1] + "x"), nil},
		{"cross-site", form(a.csrf), []string{"Sec-Fetch-Site", "cross-site"}},
		{"another origin", form(a.csrf), []string{"Origin", "http://evil.example"}},
		{"a null origin, not same-origin", form(a.csrf), []string{"Origin", "null"}},
		{"a null origin, same-site", form(a.csrf), []string{"Origin", "null", "Sec-Fetch-Site", "same-site"}},
	}
	for _, tc := range cases {
		resp, _ := a.post("/dashboard/walkin", tc.form, tc.header...)
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s: HTTP %d", tc.name, resp.StatusCode)
		}
	}
	if n := r.count(`SELECT count(*) FROM visits`); n != 0 {
		t.Fatalf("%d visits written by forged forms", n)
	}
	resp, _ := a.post("/dashboard/walkin", form(a.csrf), "Origin", r.srv.URL, "Sec-Fetch-Site", "same-origin")
	if resp.StatusCode != http.StatusSeeOther || r.count(`SELECT count(*) FROM visits WHERE outcome = 'walk-in'`) != 1 {
		t.Fatalf("the real form: HTTP %d", resp.StatusCode)
	}
	// The sign-in form has its own token.
	c := r.client()
	c.get("/dashboard/signin")
	if resp, _ := c.post("/dashboard/signin", url.Values{"name": {"admin"}, "password": {password}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("sign-in without its token: HTTP %d", resp.StatusCode)
	}
}

// TestLockout: five wrong passwords for a name lock it for 15 minutes,
// the right password included, with the same words whether or not the
// name exists; then it opens again. One address failing on many names is
// locked too.
func TestLockout(t *testing.T) {
	r := newRig(t)
	r.operator("alice", Viewer)
	c := r.client()
	var bodies [2]string
	for i, name := range []string{"alice", "nobody"} {
		for try := 1; try <= LockAfter; try++ {
			resp, body := c.signIn(name, "wrong password!")
			if try < LockAfter && resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("%s try %d: HTTP %d", name, try, resp.StatusCode)
			}
			if try == LockAfter {
				if resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(body, "try again in 15 minutes") {
					t.Fatalf("%s after %d failures: HTTP %d", name, try, resp.StatusCode)
				}
				bodies[i] = body
			}
		}
	}
	// A password typed into the name field is not kept in clear.
	before := r.count(`SELECT count(*) FROM signin_failures`)
	c.signIn(password, password)
	if n := r.count(`SELECT count(*) FROM signin_failures WHERE position(convert_to($1, 'UTF8') in name) > 0`, password); n != 0 ||
		r.count(`SELECT count(*) FROM signin_failures`) != before+1 {
		t.Fatal("a name typed at sign-in is stored in clear")
	}
	// Nor as a plain hash that guessing passwords would find: it is keyed
	// with the hub's log key.
	plain := sha256.Sum256([]byte(strings.ToLower(password)))
	if n := r.count(`SELECT count(*) FROM signin_failures WHERE name = $1`, plain[:]); n != 0 {
		t.Fatal("a name typed at sign-in is kept as its plain SHA-256")
	}
	strip := regexp.MustCompile(`value="[^"]*"`)
	if strip.ReplaceAllString(bodies[0], "") != strip.ReplaceAllString(bodies[1], "") {
		t.Error("the locked page tells an existing name from an unknown one")
	}
	if resp, _ := c.signIn("alice", password); resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("the right password while locked: HTTP %d", resp.StatusCode)
	}
	r.clock.Add(10 * time.Minute)
	if _, body := c.signIn("alice", password); !strings.Contains(body, "try again in 5 minutes") {
		t.Fatal("the lock does not count down")
	}
	r.clock.Add(5*time.Minute + time.Second)
	if resp, _ := c.signIn("alice", password); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("after the lock: HTTP %d", resp.StatusCode)
	}
	// One address, many names.
	r.clock.Add(LockWindow)
	c = r.client()
	for i := 0; i < ClientLockAfter; i++ {
		c.signIn(fmt.Sprintf("guess%d", i), "wrong password!")
	}
	if resp, _ := c.signIn("alice", password); resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("an address that failed %d times: HTTP %d", ClientLockAfter, resp.StatusCode)
	}
	if strings.Contains(r.log.String(), password) || strings.Contains(r.log.String(), "wrong password") {
		t.Fatal("a password is in the log")
	}
}

// TestViewerCannotChange: a viewer sees, but export, deny, allow, walk-in
// and check-out answer 403 and change nothing, whatever the page shows.
func TestViewerCannotChange(t *testing.T) {
	r := newRig(t)
	r.operator("viv", Viewer)
	id := r.visit("TAN MEI LING", "S1234567D", "HQ")
	c := r.client()
	c.mustSignIn("viv")
	if resp, _ := c.get("/dashboard/export?format=csv"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("export: HTTP %d", resp.StatusCode)
	}
	for path, form := range map[string]url.Values{
		"/dashboard/deny":     {"visit": {fmt.Sprint(id)}, "note": {"x"}},
		"/dashboard/walkin":   {"site": {"HQ"}, "name": {"X"}, "host": {"Y"}},
		"/dashboard/checkout": {"visit": {fmt.Sprint(id)}},
	} {
		form.Set("csrf", c.csrf)
		if resp, _ := c.post(path, form); resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s: HTTP %d", path, resp.StatusCode)
		}
	}
	if r.count(`SELECT count(*) FROM deny_list`) != 0 || r.count(`SELECT count(*) FROM visits`) != 1 ||
		r.count(`SELECT count(*) FROM visits WHERE checked_out_at IS NOT NULL`) != 0 {
		t.Fatal("a viewer changed the log")
	}
	_, body := c.get("/dashboard/visits")
	if strings.Contains(body, `action="/dashboard/deny"`) || strings.Contains(body, "Export CSV") {
		t.Error("a viewer is offered admin buttons")
	}
}

// TestDenyFromVisitAndRemove: an admin adds a visitor to the deny list
// from their visit; the list shows the masked id, never the keyed hash;
// removing takes them off.
func TestDenyFromVisitAndRemove(t *testing.T) {
	r := newRig(t)
	r.operator("ada", Admin)
	id := r.visit("TAN MEI LING", "S1234567D", "HQ")
	c := r.client()
	c.mustSignIn("ada")
	_, body := c.get("/dashboard/visits")
	if !strings.Contains(body, "TAN MEI LING") || !strings.Contains(body, "*****567D") {
		t.Fatal("the visit is not listed with name and masked id")
	}
	for _, bad := range []url.Values{{"visit": {"abc"}}, {"visit": {"-1"}}, {"visit": {"999999"}}, {"visit": {fmt.Sprint(id)}, "note": {strings.Repeat("n", MaxNote+1)}}} {
		bad.Set("csrf", c.csrf)
		if resp, _ := c.post("/dashboard/deny", bad); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("deny %v: HTTP %d", bad.Get("visit"), resp.StatusCode)
		}
	}
	if r.count(`SELECT count(*) FROM deny_list`) != 0 {
		t.Fatal("a bad deny form changed the list")
	}
	resp, _ := c.post("/dashboard/deny", url.Values{"csrf": {c.csrf}, "visit": {fmt.Sprint(id)}, "note": {"shouted at staff"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("deny: HTTP %d", resp.StatusCode)
	}
	if denied, _ := r.db.Denied(context.Background(), r.db.PersonKey("S1234567D")); !denied {
		t.Fatal("not on the deny list")
	}
	if _, body := c.get("/dashboard/deny?done=Call+555+now"); strings.Contains(body, "555") {
		t.Fatal("a link makes the dashboard say its words")
	}
	_, body = c.get("/dashboard/deny?done=denied")
	if !strings.Contains(body, "Added to the deny list.") || !strings.Contains(body, "*****567D") || !strings.Contains(body, "shouted at staff (by ada)") {
		t.Fatalf("deny list page:\n%s", body)
	}
	key := r.db.PersonKey("S1234567D")
	for _, enc := range []string{fmt.Sprintf("%x", key), fmt.Sprintf("%X", key)} {
		if strings.Contains(body, enc) {
			t.Fatal("the page shows the person key")
		}
	}
	ref := regexp.MustCompile(`name="ref" value="([0-9a-f]{64})"`).FindStringSubmatch(body)
	if ref == nil {
		t.Fatal("no remove button")
	}
	if resp, _ := c.post("/dashboard/allow", url.Values{"csrf": {c.csrf}, "ref": {"zz"}}); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("allow with a bad ref: HTTP %d", resp.StatusCode)
	}
	if resp, _ := c.post("/dashboard/allow", url.Values{"csrf": {c.csrf}, "ref": {ref[1]}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("allow: HTTP %d", resp.StatusCode)
	}
	if denied, _ := r.db.Denied(context.Background(), key); denied {
		t.Fatal("still on the deny list")
	}
	if resp, _ := c.post("/dashboard/allow", url.Values{"csrf": {c.csrf}, "ref": {ref[1]}}); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("allow twice: HTTP %d", resp.StatusCode)
	}
}

// TestExportNeutralised: an admin's CSV export is the CLI's, formulas
// neutralised; a bad format or day is refused.
func TestExportNeutralised(t *testing.T) {
	r := newRig(t)
	r.operator("ada", Admin)
	r.visit("=HYPERLINK(\"http://x\")", "S1234567D", "HQ")
	c := r.client()
	c.mustSignIn("ada")
	resp, body := c.get("/dashboard/export?format=csv")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") ||
		!strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("export: HTTP %d %v", resp.StatusCode, resp.Header)
	}
	var want bytes.Buffer
	from, to := r.d.today()
	if err := r.db.Export(context.Background(), &want, kiosk.VisitFilter{From: from, To: to}, "csv"); err != nil {
		t.Fatal(err)
	}
	if body != want.String() || strings.Contains(body, ",=HYPERLINK") {
		t.Fatalf("export differs from the CLI's or is not neutralised:\n%s", body)
	}
	if resp, _ := c.get("/dashboard/export?format=json"); resp.StatusCode != http.StatusOK {
		t.Fatalf("json: HTTP %d", resp.StatusCode)
	}
	for _, q := range []string{"format=xlsx", "format=csv&day=yesterday", "format=csv&day=2026-13-01"} {
		if resp, _ := c.get("/dashboard/export?" + q); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: HTTP %d", q, resp.StatusCode)
		}
	}
}

// TestWalkInHostileInput: a walk-in without a name or host, or with a
// field too long, is refused (the site may be empty: a hub whose kiosks
// name no venue has one site) with the reason and nothing is saved; control and
// bidi characters are stripped; the walk-in shows as not verified.
func TestWalkInHostileInput(t *testing.T) {
	r := newRig(t)
	r.operator("ada", Admin)
	c := r.client()
	c.mustSignIn("ada")
	long := strings.Repeat("x", pgstore.MaxField+1)
	for _, f := range []url.Values{{"site": {"HQ"}, "host": {"Tan"}}, {"site": {"HQ"}, "name": {"A"}}, {"site": {long}, "name": {"A"}, "host": {"B"}},
		{"site": {"HQ"}, "name": {long}, "host": {"B"}}, {"site": {"HQ"}, "name": {"\u202e\u0007"}, "host": {"B"}}} {
		f.Set("csrf", c.csrf)
		resp, body := c.post("/dashboard/walkin", f)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "at most") {
			t.Errorf("walk-in %v: HTTP %d", f, resp.StatusCode)
		}
	}
	if n := r.count(`SELECT count(*) FROM visits`); n != 0 {
		t.Fatalf("%d visits saved from bad forms", n)
	}
	resp, _ := c.post("/dashboard/walkin", url.Values{"csrf": {c.csrf}, "site": {"HQ"}, "name": {"John \u202eSmith<script>"}, "host": {"Tan"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("walk-in: HTTP %d", resp.StatusCode)
	}
	_, body := c.get("/dashboard/onsite")
	if !strings.Contains(body, "John Smith&lt;script&gt;") || !strings.Contains(body, "Walk-in, not verified") {
		t.Fatalf("on-site page:\n%s", body)
	}
}

// TestRollCallTicksAndPrint: the printable list has names, hosts and
// times but no identity number; ticks are stored per roll call and
// shared by two staff; a tick on an ended roll call is refused.
func TestRollCallTicksAndPrint(t *testing.T) {
	r := newRig(t)
	r.operator("ada", Admin)
	r.operator("viv", Viewer)
	id1 := r.visit("TAN MEI LING", "S1234567D", "HQ")
	elsewhere := r.visit("LIM BOON KENG", "S7654321A", "Annex")
	r.db.WalkIn(context.Background(), "HQ", "Walk In Person", "Tan", "Delivery", r.clock.Now())
	a, v := r.client(), r.client()
	a.mustSignIn("ada")
	v.mustSignIn("viv")
	_, body := v.get("/dashboard/rollcall/print?site=HQ")
	if !strings.Contains(body, "TAN MEI LING") || !strings.Contains(body, "Walk In Person") || strings.Contains(body, "LIM BOON KENG") ||
		strings.Contains(body, "567D") || !strings.Contains(body, "Walk-in (not verified)") {
		t.Fatalf("print page:\n%s", body)
	}
	resp, _ := v.post("/dashboard/rollcall", url.Values{"csrf": {v.csrf}, "site": {"HQ"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("start: HTTP %d", resp.StatusCode)
	}
	rc := resp.Header.Get("Location")
	ch, stop := r.d.live.subscribe()
	defer stop()
	if resp, _ := a.post(rc+"/tick", url.Values{"csrf": {a.csrf}, "visit": {fmt.Sprint(id1)}, "on": {"1"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("tick: HTTP %d", resp.StatusCode)
	}
	waitEvent(t, ch, EventRollCall)
	// Someone at another site, or no visit at all, is not on this roll call.
	for _, visit := range []int64{elsewhere, 999999} {
		if resp, _ := v.post(rc+"/tick", url.Values{"csrf": {v.csrf}, "visit": {fmt.Sprint(visit)}, "on": {"1"}}); resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("tick for visit %d, not on the roll call: HTTP %d", visit, resp.StatusCode)
		}
	}
	_, body = v.get(rc)
	if !strings.Contains(body, `<b id="done">1</b> of 2`) || !strings.Contains(body, "✔ ada") {
		t.Fatalf("the other phone does not see the tick:\n%s", body)
	}
	a.post(rc+"/end", url.Values{"csrf": {a.csrf}})
	if resp, _ := v.post(rc+"/tick", url.Values{"csrf": {v.csrf}, "visit": {fmt.Sprint(id1)}, "on": {"0"}}); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("tick on an ended roll call: HTTP %d", resp.StatusCode)
	}
}

func waitEvent(t *testing.T, ch <-chan pgstore.Event, kind string) pgstore.Event {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case e := <-ch:
			if e.Kind == kind {
				return e
			}
		case <-deadline:
			t.Fatalf("no %s event in 10 s", kind)
		}
	}
}

// TestEventsStream: a browser following /dashboard/events hears of a new
// visit, with its id and never a name; without a session it hears
// nothing.
func TestEventsStream(t *testing.T) {
	r := newRig(t)
	r.operator("viv", Viewer)
	c := r.client()
	if resp, _ := c.get("/dashboard/events"); resp.StatusCode != http.StatusSeeOther && resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("events without a session: HTTP %d", resp.StatusCode)
	}
	c.mustSignIn("viv")
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, r.srv.URL+"/dashboard/events", nil)
	resp, err := c.http.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("events: %v %v", resp, err)
	}
	defer resp.Body.Close()
	lines := bufio.NewScanner(resp.Body)
	lines.Scan() // retry
	id := r.visit("TAN MEI LING", "S1234567D", "HQ")
	want := fmt.Sprintf(`"id":%d`, id)
	for lines.Scan() {
		l := lines.Text()
		if strings.Contains(l, "TAN") {
			t.Fatal("a name in the event stream")
		}
		if strings.HasPrefix(l, "data: ") && strings.Contains(l, want) && strings.Contains(l, `"kind":"visit"`) {
			return
		}
	}
	t.Fatalf("no event for visit %d: %v", id, lines.Err())
}

// TestVisitsFilterAndPage: the visit list filters by kiosk, site, outcome
// and host in SQL and pages by 50; a filter too long is refused.
func TestVisitsFilterAndPage(t *testing.T) {
	r := newRig(t)
	r.operator("viv", Viewer)
	for i := 0; i < 60; i++ {
		r.visit(fmt.Sprintf("PERSON %02d", i), fmt.Sprintf("S12%05dD", i), []string{"HQ", "Annex"}[i%2])
	}
	r.db.WalkIn(context.Background(), "HQ", "Walk In", "Host 100%_", "", r.clock.Now())
	c := r.client()
	c.mustSignIn("viv")
	_, body := c.get("/dashboard/visits")
	if !strings.Contains(body, "61 visits · page 1 of 2") || strings.Count(body, `<tr id="v`) != PageSize {
		t.Fatalf("first page: %d rows", strings.Count(body, `<tr id="v`))
	}
	_, body = c.get("/dashboard/visits?page=2")
	if strings.Count(body, `<tr id="v`) != 11 {
		t.Fatalf("second page: %d rows", strings.Count(body, `<tr id="v`))
	}
	if _, body := c.get("/dashboard/visits?page=9&site=HQ"); !strings.Contains(body, "31 visits · page 9 of 1") || !strings.Contains(body, "Newer") {
		t.Fatal("past the last page the total is lost")
	}
	for q, n := range map[string]int{"site=Annex": 30, "outcome=walk-in": 1, "host=100%25_": 1, "host=%25": 1, "kiosk=lobby-1&site=HQ": 30, "kiosk=nope": 0} {
		if _, body := c.get("/dashboard/visits?" + q); !strings.Contains(body, fmt.Sprintf(">%d visits ·", n)) && !strings.Contains(body, fmt.Sprintf("%d visits ·", n)) {
			t.Errorf("%s: want %d", q, n)
		}
	}
	if resp, _ := c.get("/dashboard/visits?host=" + strings.Repeat("h", 300)); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("long filter: HTTP %d", resp.StatusCode)
	}
}

// TestAlertHandled: an open alert shows on the on-site page; "Handled"
// closes it with the operator's name.
func TestAlertHandled(t *testing.T) {
	r := newRig(t)
	r.operator("viv", Viewer)
	id, err := r.db.RaiseAlert(context.Background(), "lobby-1", "HQ", r.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	c := r.client()
	c.mustSignIn("viv")
	_, body := c.get("/dashboard/onsite")
	if !strings.Contains(body, "No Singpass?") || !strings.Contains(body, "lobby-1") {
		t.Fatal("the alert is not shown")
	}
	if resp, _ := c.post(fmt.Sprintf("/dashboard/alerts/%d/handled", id), url.Values{"csrf": {c.csrf}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("handled: HTTP %d", resp.StatusCode)
	}
	if n := r.count(`SELECT count(*) FROM alerts WHERE handled_by = 'viv'`); n != 1 {
		t.Fatal("not handled")
	}
	if resp, _ := c.post(fmt.Sprintf("/dashboard/alerts/%d/handled", id), url.Values{"csrf": {c.csrf}}); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("handled twice: HTTP %d", resp.StatusCode)
	}
}

// TestSafeNext: the page after sign-in stays inside the dashboard.
func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{"/dashboard/visits?x=1": "/dashboard/visits?x=1", "https://evil.example/": "/dashboard/onsite",
		"//evil.example/dashboard/": "/dashboard/onsite", "/dashboard/\\evil": "/dashboard/onsite", "/other": "/dashboard/onsite"} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q", in, got)
		}
	}
}

// FuzzSafeNext: whatever a sign-in form's next field holds, the redirect
// after sign-in stays on the dashboard's own paths.
func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{"/dashboard/visits", "//evil.example", "/dashboard/\\x", "https://x/", "/dashboard/\r\nSet-Cookie: a=b", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, next string) {
		got := safeNext(next)
		u, err := url.Parse(got)
		if !strings.HasPrefix(got, Prefix+"/") || strings.HasPrefix(got, "//") || strings.ContainsAny(got, "\\\r\n") ||
			err != nil || u.Host != "" || u.Scheme != "" {
			t.Fatalf("safeNext(%q) = %q", next, got)
		}
	})
}

// TestLiveReconnects: when PostgreSQL drops the dashboard's listening
// connection, it reconnects, tells the browsers to re-fetch (they may
// have missed announcements), and carries on announcing visits.
func TestLiveReconnects(t *testing.T) {
	r := newRig(t)
	ch, stop := r.d.live.subscribe()
	defer stop()
	// The first connection's own resync, if it came after subscribing, is
	// not the one this test waits for: the one after the reconnect is.
	<-r.d.live.ready
	for drained := false; !drained; {
		select {
		case <-ch:
		default:
			drained = true
		}
	}
	var killed int
	if err := r.db.Pool().QueryRow(context.Background(), `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE query = 'LISTEN '||$1 AND pid <> pg_backend_pid()`, pgstore.EventsChannel).Scan(&killed); err != nil || killed != 1 {
		t.Fatalf("terminated %d listening connections: %v", killed, err)
	}
	waitEvent(t, ch, eventResync)
	id := r.visit("TAN MEI LING", "S1234567D", "HQ")
	if e := waitEvent(t, ch, pgstore.EventVisit); e.ID != id {
		t.Fatalf("event for visit %d, want %d", e.ID, id)
	}
}

// TestEveryPageRenders: every page in the navigation answers 200 with the
// navigation for a viewer and an admin, on an empty log and on one with a
// visit, a walk-in and an alert (a page added later is checked too).
func TestEveryPageRenders(t *testing.T) {
	r := newRig(t)
	r.operator("viv", Viewer)
	r.operator("ada", Admin)
	for round := 0; round < 2; round++ {
		for _, name := range []string{"viv", "ada"} {
			c := r.client()
			c.mustSignIn(name)
			for _, n := range r.d.nav {
				resp, body := c.get(strings.TrimPrefix(n.Path, r.srv.URL))
				if resp.StatusCode != http.StatusOK || !strings.Contains(body, `aria-current="page"`) || !strings.Contains(body, "<h1>") {
					t.Errorf("%s, round %d: %s: HTTP %d", name, round, n.Path, resp.StatusCode)
				}
			}
		}
		r.visit("TAN MEI LING", "S1234567D", "HQ")
		r.db.WalkIn(context.Background(), "Annex", "Walk In", "Tan", "", r.clock.Now())
		r.db.RaiseAlert(context.Background(), "lobby-2", "Annex", r.clock.Now())
	}
}

// TestSecureCookie: behind https the session cookie is __Host- and Secure.
func TestSecureCookie(t *testing.T) {
	r := newRig(t)
	r.operator("ada", Admin)
	d := New(Options{DB: r.db, Now: r.clock.Now, Secure: true, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	srv := httptest.NewTLSServer(d.Handler())
	defer srv.Close()
	jar, _ := cookiejar.New(nil)
	hc := srv.Client()
	hc.Jar = jar
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	c := &client{r: &rig{t: t, srv: srv}, http: hc}
	resp, _ := c.signIn("ada", password)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in: HTTP %d", resp.StatusCode)
	}
	var got *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == "__Host-ndikiosk_session" {
			got = ck
		}
	}
	if got == nil || !got.Secure || !got.HttpOnly || got.SameSite != http.SameSiteStrictMode || got.Path != "/" || got.Domain != "" {
		t.Fatalf("cookie %+v", got)
	}
	if resp, _ := c.get("/dashboard/onsite"); resp.StatusCode != http.StatusOK {
		t.Fatalf("signed in over https: HTTP %d", resp.StatusCode)
	}
}
