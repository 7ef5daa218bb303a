package dashboard

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"ndikiosk/ndi"
	"ndikiosk/notify"
	"ndikiosk/pgstore"
)

// upload posts a multipart form with fields and, unless file is nil, one
// file named hosts.csv.
func (c *client) upload(path string, fields url.Values, file []byte) (*http.Response, string) {
	c.r.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, vs := range fields {
		for _, v := range vs {
			mw.WriteField(k, v)
		}
	}
	if file != nil {
		fw, _ := mw.CreateFormFile("file", "hosts.csv")
		fw.Write(file)
	}
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, c.r.srv.URL+path, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := c.http.Do(req)
	if err != nil {
		c.r.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func (r *rig) hostsByName() map[string]string {
	r.t.Helper()
	hosts, err := r.db.Hosts(context.Background(), "")
	if err != nil {
		r.t.Fatal(err)
	}
	out := map[string]string{}
	for _, h := range hosts {
		out[h.Site+"/"+h.Name] = h.Email
	}
	return out
}

// TestHostsAddImportDownload: an admin adds a host and changes its email;
// a bad email is refused with the reason and saves nothing; a CSV with a
// bad line is refused whole, naming the line; a good one is taken; a file
// over the limit is refused; the download neutralises a formula in a name
// and reads back the same list; a host is removed.
func TestHostsAddImportDownload(t *testing.T) {
	r := newRig(t)
	r.operator("ada", Admin)
	c := r.client()
	c.mustSignIn("ada")
	c.get("/dashboard/hosts")
	if resp, body := c.post("/dashboard/hosts", url.Values{"csrf": {c.csrf}, "site": {"HQ"}, "name": {"Ms Lee"}, "email": {"lee@example.com"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("add a host: HTTP %d\n%s", resp.StatusCode, body)
	}
	c.post("/dashboard/hosts", url.Values{"csrf": {c.csrf}, "site": {"HQ"}, "name": {"ms lee"}, "email": {"lee@tower.example"}})
	for _, bad := range []url.Values{{"site": {"HQ"}, "name": {"Mr Tan"}, "email": {"tan@example.com\r\nBcc: x@evil.example"}},
		{"site": {"HQ"}, "name": {"Mr Tan"}, "email": {"a@b.example, c@d.example"}}, {"site": {"HQ"}, "name": {""}},
		{"site": {"HQ"}, "name": {strings.Repeat("n", pgstore.MaxField+1)}}} {
		bad.Set("csrf", c.csrf)
		resp, body := c.post("/dashboard/hosts", bad)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `id="hosts-error"`) {
			t.Errorf("host %q %q: HTTP %d", bad.Get("name"), bad.Get("email"), resp.StatusCode)
		}
	}
	if got := r.hostsByName(); len(got) != 1 || got["HQ/Ms Lee"] != "lee@tower.example" {
		t.Fatalf("hosts after the forms: %v", got)
	}

	// A bad third line: nothing of the file is taken, and the line is named.
	bad := []byte("site,name,email\nHQ,Mr Tan,tan@example.com\nHQ,Dr Ong,not an address\nAnnex,Mr Lim,\n")
	resp, body := c.upload("/dashboard/hosts/import", url.Values{"csrf": {c.csrf}}, bad)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "line 3") || !strings.Contains(body, "Nothing was imported") {
		t.Fatalf("bad CSV: HTTP %d\n%s", resp.StatusCode, body)
	}
	if got := r.hostsByName(); len(got) != 1 {
		t.Fatalf("a bad CSV changed the list: %v", got)
	}
	if resp, _ := c.upload("/dashboard/hosts/import", url.Values{"csrf": {c.csrf}}, nil); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("no file: HTTP %d", resp.StatusCode)
	}
	huge := bytes.Repeat([]byte("HQ,Someone,someone@example.com\n"), MaxUpload/30+10)
	if resp, _ := c.upload("/dashboard/hosts/import", url.Values{"csrf": {c.csrf}}, huge); resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("a file over the limit: HTTP %d", resp.StatusCode)
	}
	good := []byte("HQ,Mr Tan,tan@example.com\nAnnex,\"=HYPERLINK(\"\"http://evil.example\"\")\",\n,Front desk,desk@example.com\n")
	if resp, body := c.upload("/dashboard/hosts/import", url.Values{"csrf": {c.csrf}}, good); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("good CSV: HTTP %d\n%s", resp.StatusCode, body)
	}
	if got := r.hostsByName(); len(got) != 4 || got["HQ/Mr Tan"] != "tan@example.com" || got["/Front desk"] != "desk@example.com" {
		t.Fatalf("after import: %v", got)
	}
	_, page := c.get("/dashboard/hosts?site=HQ")
	if !strings.Contains(page, "Mr Tan") || strings.Contains(page, "Front desk") {
		t.Fatal("the site filter does not filter")
	}

	resp, body = c.get("/dashboard/hosts.csv")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") ||
		!strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("download: HTTP %d %v", resp.StatusCode, resp.Header)
	}
	if strings.Contains(body, `"=HYPERLINK`) || !strings.Contains(body, `"'=HYPERLINK(""http://evil.example"")"`) {
		t.Fatalf("the formula is not neutralised:\n%s", body)
	}
	recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil || len(recs) != 5 || strings.Join(recs[0], ",") != "site,name,email" {
		t.Fatalf("download is not the import's format: %v %v", recs, err)
	}

	id := regexp.MustCompile(`name="id" value="(\d+)"`).FindStringSubmatch(page)
	if id == nil {
		t.Fatal("no remove button")
	}
	if resp, _ := c.post("/dashboard/hosts/remove", url.Values{"csrf": {c.csrf}, "id": {id[1]}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("remove: HTTP %d", resp.StatusCode)
	}
	if len(r.hostsByName()) != 3 {
		t.Fatal("not removed")
	}
	for _, v := range []string{id[1], "x", "-4"} {
		if resp, _ := c.post("/dashboard/hosts/remove", url.Values{"csrf": {c.csrf}, "id": {v}}); resp.StatusCode/100 != 4 {
			t.Errorf("remove %q: HTTP %d", v, resp.StatusCode)
		}
	}
}

// TestVenuePagesViewerAndCSRF: a viewer sees the new pages but every
// change answers 403, as does an admin's form without its token (the
// upload included); nothing changes.
func TestVenuePagesViewerAndCSRF(t *testing.T) {
	r := newRig(t)
	r.operator("viv", Viewer)
	r.operator("ada", Admin)
	ctx := context.Background()
	hostID, _ := r.db.SaveHost(ctx, pgstore.Host{Site: "HQ", Name: "Ms Lee"}, r.clock.Now())
	invID, err := r.db.Invite(ctx, pgstore.Invitation{Site: "HQ", Day: r.clock.Now(), Name: "TAN MEI LING", Host: "Ms Lee"}, r.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	visit := r.visit("LIM AH HOCK", "S7654321A", "HQ")
	r.db.Pool().Exec(ctx, `UPDATE notify_outbox SET state = 'dead', last_error = 'x' WHERE visit_id = $1`, visit)
	changes := map[string]url.Values{
		"/dashboard/hosts":                                        {"site": {"HQ"}, "name": {"Mallory"}},
		"/dashboard/hosts/remove":                                 {"id": {fmt.Sprint(hostID)}},
		"/dashboard/invitations":                                  {"site": {"HQ"}, "name": {"X"}, "host": {"Ms Lee"}, "day": {day(r.clock.Now())}},
		fmt.Sprintf("/dashboard/invitations/%d/cancel", invID):    {},
		"/dashboard/notifications/replay":                         {},
		fmt.Sprintf("/dashboard/notifications/%d/replay", 999999): {},
	}
	snapshot := func() string {
		return fmt.Sprint(r.count(`SELECT count(*) FROM hosts`), r.count(`SELECT count(*) FROM invitations`),
			r.count(`SELECT count(*) FROM notify_outbox WHERE state = 'dead'`))
	}
	before := snapshot()
	v := r.client()
	v.mustSignIn("viv")
	for _, p := range []string{"/dashboard/hosts", "/dashboard/invitations", "/dashboard/notifications"} {
		resp, body := v.get(p)
		if resp.StatusCode != http.StatusOK || strings.Contains(body, `method="post" action="`+p) || strings.Contains(body, "Send again") {
			t.Errorf("viewer on %s: HTTP %d, or offered a change", p, resp.StatusCode)
		}
	}
	if resp, _ := v.get("/dashboard/hosts.csv"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("viewer download: HTTP %d", resp.StatusCode)
	}
	for path, form := range changes {
		f := url.Values{"csrf": {v.csrf}}
		for k, vs := range form {
			f[k] = vs
		}
		if resp, _ := v.post(path, f); resp.StatusCode != http.StatusForbidden {
			t.Errorf("viewer %s: HTTP %d", path, resp.StatusCode)
		}
	}
	if resp, _ := v.upload("/dashboard/hosts/import", url.Values{"csrf": {v.csrf}}, []byte("HQ,Mallory,\n")); resp.StatusCode != http.StatusForbidden {
		t.Errorf("viewer import: HTTP %d", resp.StatusCode)
	}
	a := r.client()
	a.mustSignIn("ada")
	for path, form := range changes {
		for _, token := range []string{"", v.csrf} {
			f := url.Values{"csrf": {token}}
			for k, vs := range form {
				f[k] = vs
			}
			if resp, _ := a.post(path, f); resp.StatusCode != http.StatusForbidden {
				t.Errorf("admin %s with token %q: HTTP %d", path, token, resp.StatusCode)
			}
		}
	}
	for _, token := range []string{"", v.csrf} {
		if resp, _ := a.upload("/dashboard/hosts/import", url.Values{"csrf": {token}}, []byte("HQ,Mallory,\n")); resp.StatusCode != http.StatusForbidden {
			t.Errorf("admin import with token %q: HTTP %d", token, resp.StatusCode)
		}
	}
	// A file posted to a route that takes none carries no token it can read.
	if resp, _ := a.upload("/dashboard/hosts", url.Values{"csrf": {a.csrf}, "site": {"HQ"}, "name": {"Mallory"}}, nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("multipart to a plain form: HTTP %d", resp.StatusCode)
	}
	if after := snapshot(); after != before {
		t.Fatalf("hosts, invitations, dead letters %s became %s", before, after)
	}
}

// TestInvitationsHostileAndCancel: an invitation is refused, with the
// reason and nothing saved, for a past day, a bad day, a day over a year
// ahead, no name, or a host not on the site's list; a good one lists as
// not yet arrived, and can be cancelled once.
func TestInvitationsHostileAndCancel(t *testing.T) {
	r := newRig(t)
	r.operator("ada", Admin)
	ctx := context.Background()
	r.db.SaveHost(ctx, pgstore.Host{Site: "HQ", Name: "Ms Lee"}, r.clock.Now())
	c := r.client()
	c.mustSignIn("ada")
	_, page := c.get("/dashboard/invitations?site=HQ")
	if !strings.Contains(page, `<select name="host" id="invite-host"`) || !strings.Contains(page, "<option>Ms Lee</option>") {
		t.Fatal("a site with a host list does not offer its hosts to choose from")
	}
	if _, page := c.get("/dashboard/invitations?site=Annex"); !strings.Contains(page, `<input name="host" id="invite-host"`) {
		t.Fatal("a site without a host list does not take a typed host")
	}
	today := r.clock.Now().In(ndi.SGT)
	form := func(mod func(url.Values)) url.Values {
		f := url.Values{"csrf": {c.csrf}, "site": {"HQ"}, "name": {"Maria Clara Santos"}, "host": {"Ms Lee"}, "purpose": {"Interview"},
			"day": {day(today)}, "note": {"bring ID"}}
		mod(f)
		return f
	}
	for name, mod := range map[string]func(url.Values){
		"yesterday":         func(f url.Values) { f.Set("day", day(today.AddDate(0, 0, -1))) },
		"a bad day":         func(f url.Values) { f.Set("day", "2026-13-01") },
		"no day":            func(f url.Values) { f.Del("day") },
		"two years ahead":   func(f url.Values) { f.Set("day", day(today.AddDate(2, 0, 0))) },
		"no name":           func(f url.Values) { f.Set("name", " \u202e ") },
		"a host not listed": func(f url.Values) { f.Set("host", "Mallory") },
		"a long note":       func(f url.Values) { f.Set("note", strings.Repeat("n", pgstore.MaxField+1)) },
		"a bad visit":       func(f url.Values) { f.Set("from", "abc") },
		"a visit not kept":  func(f url.Values) { f.Set("from", "999999") },
	} {
		resp, body := c.post("/dashboard/invitations", form(mod))
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `id="invite-error"`) {
			t.Errorf("%s: HTTP %d", name, resp.StatusCode)
		}
	}
	if n := r.count(`SELECT count(*) FROM invitations`); n != 0 {
		t.Fatalf("%d invitations saved from bad forms", n)
	}
	resp, _ := c.post("/dashboard/invitations", form(func(f url.Values) { f.Set("host", "ms lee") }))
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("invite: HTTP %d", resp.StatusCode)
	}
	_, page = c.get(resp.Header.Get("Location"))
	if !strings.Contains(page, "Maria Clara Santos") || !strings.Contains(page, "bring ID") || !strings.Contains(page, "not yet") ||
		!strings.Contains(page, "ada, ") || !strings.Contains(page, "Invitation made") {
		t.Fatalf("invitations page:\n%s", page)
	}
	if n := r.count(`SELECT count(*) FROM invitations WHERE position(convert_to('Maria', 'UTF8') in name) > 0`); n != 0 {
		t.Fatal("the invited name is stored in clear")
	}
	tomorrow := day(today.AddDate(0, 0, 1))
	c.post("/dashboard/invitations", form(func(f url.Values) { f.Set("day", tomorrow); f.Set("name", "Tomorrow Person") }))
	if _, page := c.get("/dashboard/invitations"); strings.Contains(page, "Tomorrow Person") {
		t.Fatal("tomorrow's invitation shows today")
	}
	if _, page := c.get("/dashboard/invitations?day=" + tomorrow); !strings.Contains(page, "Tomorrow Person") || strings.Contains(page, "Maria") {
		t.Fatal("the day filter does not filter")
	}
	if resp, _ := c.get("/dashboard/invitations?day=tomorrow"); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("a bad day to list: HTTP %d", resp.StatusCode)
	}
	id := regexp.MustCompile(`/dashboard/invitations/(\d+)/cancel`).FindStringSubmatch(page)
	if id == nil {
		t.Fatal("no cancel button")
	}
	path := "/dashboard/invitations/" + id[1] + "/cancel"
	if resp, _ := c.post(path, url.Values{"csrf": {c.csrf}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("cancel: HTTP %d", resp.StatusCode)
	}
	if resp, _ := c.post(path, url.Values{"csrf": {c.csrf}}); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("cancel twice: HTTP %d", resp.StatusCode)
	}
	if n := r.count(`SELECT count(*) FROM invitations`); n != 1 {
		t.Fatalf("%d invitations left, want tomorrow's", n)
	}
}

// TestInviteAgainMatchesThePerson: "Invite again" on a visit makes an
// invitation to that person, matched under another name; a walk-in's
// visit (no person) is offered none.
func TestInviteAgainMatchesThePerson(t *testing.T) {
	r := newRig(t)
	r.operator("ada", Admin)
	ctx := context.Background()
	id := r.visit("TAN MEI LING", "S1234567D", "HQ")
	r.db.WalkIn(ctx, "HQ", "Walk In", "Tan", "", r.clock.Now())
	c := r.client()
	c.mustSignIn("ada")
	_, page := c.get("/dashboard/visits")
	if n := strings.Count(page, `class="button invite-again"`); n != 1 || !strings.Contains(page, fmt.Sprintf("/dashboard/invitations?from=%d", id)) {
		t.Fatalf("%d invite-again links, want one for the Singpass visit", n)
	}
	_, page = c.get(fmt.Sprintf("/dashboard/invitations?from=%d", id))
	if !strings.Contains(page, `id="invite-from"`) || !strings.Contains(page, "*****567D") || !strings.Contains(page, `value="TAN MEI LING"`) {
		t.Fatalf("invite-again form:\n%s", page)
	}
	if resp, _ := c.get("/dashboard/invitations?from=999999"); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("invite again from no visit: HTTP %d", resp.StatusCode)
	}
	resp, body := c.post("/dashboard/invitations", url.Values{"csrf": {c.csrf}, "from": {fmt.Sprint(id)}, "site": {"HQ"}, "name": {""},
		"host": {"Mr Goh"}, "purpose": {"Follow-up"}, "day": {day(r.clock.Now())}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("invite again: HTTP %d\n%s", resp.StatusCode, body)
	}
	in, err := r.db.Invited(ctx, "HQ", r.db.PersonKey("S1234567D"), "MEI LING TAN", r.clock.Now())
	if err != nil || in.Host != "Mr Goh" || in.Purpose != "Follow-up" {
		t.Fatalf("the person under another name is not matched: %+v %v", in, err)
	}
	if _, err := r.db.Invited(ctx, "HQ", r.db.PersonKey("S7654321A"), "MEI LING TAN", r.clock.Now()); err == nil {
		t.Fatal("another person under that name is matched by an invitation made to a person")
	}
	_, page = c.get("/dashboard/invitations")
	if !strings.Contains(page, "TAN MEI LING") || !strings.Contains(page, "returning visitor") {
		t.Fatalf("invitations page:\n%s", page)
	}
}

// TestDeadLetterReplay: a webhook that answers 400 makes a dead letter;
// the page shows the counts and the row (visit id, channel, attempts, the
// error; no name); an admin's replay puts it back to pending, once; replay
// all takes every dead one.
func TestDeadLetterReplay(t *testing.T) {
	r := newRig(t)
	r.operator("ada", Admin)
	ctx := context.Background()
	refuse := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusBadRequest) }))
	defer refuse.Close()
	first := r.visit("TAN MEI LING", "S1234567D", "HQ")
	second := r.visit("LIM AH HOCK", "S7654321A", "HQ")
	w := notify.New(r.db, notify.Options{Webhook: &notify.Webhook{URL: refuse.URL + "/hook", Secret: bytes.Repeat([]byte("k"), 32),
		Timeout: 5 * time.Second}, MaxAttempts: 1, MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond, ID: "test"})
	for i := 0; i < 20 && r.count(`SELECT count(*) FROM notify_outbox WHERE state = 'pending'`) > 0; i++ {
		if _, err := w.Once(ctx); err != nil {
			t.Fatal(err)
		}
	}
	state := func(visit int64) string {
		var s string
		r.db.Pool().QueryRow(ctx, `SELECT state FROM notify_outbox WHERE visit_id = $1 AND channel = 'webhook'`, visit).Scan(&s)
		return s
	}
	if state(first) != notify.StateDead || state(second) != notify.StateDead {
		t.Fatalf("rows %s %s, want dead", state(first), state(second))
	}
	c := r.client()
	c.mustSignIn("ada")
	_, page := c.get("/dashboard/notifications")
	counts := regexp.MustCompile(`(?s)<td data-label="Channel">webhook</td>.*?<td data-label="Dead"><b class="warn">2</b>`)
	if !counts.MatchString(page) || !strings.Contains(page, "(400)") || !strings.Contains(page, fmt.Sprintf(`<td data-label="Visit">%d</td>`, first)) {
		t.Fatalf("notifications page:\n%s", page)
	}
	if strings.Contains(page, "TAN MEI LING") {
		t.Fatal("the dead letters show a name")
	}
	dead, _ := notify.DeadLetters(ctx, r.db, 0)
	var row int64
	for _, l := range dead {
		if l.VisitID == first {
			row = l.ID
		}
	}
	path := fmt.Sprintf("/dashboard/notifications/%d/replay", row)
	if resp, _ := c.post(path, url.Values{"csrf": {c.csrf}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("replay: HTTP %d", resp.StatusCode)
	}
	if state(first) != notify.StatePending || state(second) != notify.StateDead {
		t.Fatalf("after replay: %s %s", state(first), state(second))
	}
	if resp, _ := c.post(path, url.Values{"csrf": {c.csrf}}); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("replay of a row no longer dead: HTTP %d", resp.StatusCode)
	}
	if resp, _ := c.post("/dashboard/notifications/abc/replay", url.Values{"csrf": {c.csrf}}); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("replay abc: HTTP %d", resp.StatusCode)
	}
	if resp, _ := c.post("/dashboard/notifications/replay", url.Values{"csrf": {c.csrf}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("replay all: HTTP %d", resp.StatusCode)
	}
	if state(second) != notify.StatePending {
		t.Fatalf("after replay all: %s", state(second))
	}
	if _, page := c.get("/dashboard/notifications?done=replayed-all"); !strings.Contains(page, "No dead letters.") {
		t.Fatal("dead letters still listed after replay all")
	}
}

// TestVersionOf: the kiosks page shows the version a kiosk sends, cleaned
// and cut short, and the hub's alone for a client that sends none.
func TestVersionOf(t *testing.T) {
	for agent, want := range map[string]string{
		"ndikiosk/1.4.2":                       "kiosk 1.4.2 · hub 1.5.0",
		"":                                     "hub 1.5.0",
		"Go-http-client/1.1":                   "hub 1.5.0",
		"ndikiosk/":                            "hub 1.5.0",
		"ndikiosk/1.4\u202e2\x00\n":            "kiosk 1.42 · hub 1.5.0",
		"ndikiosk/" + strings.Repeat("9", 100): "kiosk " + strings.Repeat("9", MaxVersion) + "… · hub 1.5.0",
	} {
		if got := versionOf(agent, "1.5.0"); got != want {
			t.Errorf("versionOf(%q) = %q, want %q", agent, got, want)
		}
	}
}
