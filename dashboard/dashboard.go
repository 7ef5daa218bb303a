// Package dashboard is the operators' web dashboard on the hub, served
// under /dashboard/: today's visits across kiosks, who is on site now
// (live, by server-sent events fed from PostgreSQL's LISTEN), the kiosks,
// the fleet's deny list, export, kiosk alerts ("No Singpass?"), walk-ins,
// roll call, each site's host list (CSV in and out), invitations, and the
// host notifications' dead letters. Pages are rendered on the server with html/template; one
// small script (static/dash.js, no inline script) only re-fetches a live
// fragment when the hub announces a change, so every page also works with
// JavaScript off (a reload shows the same).
//
// Staff sign in with a name and password (argon2id); sessions live in
// PostgreSQL as SHA-256 hashes of their tokens, so that every replica
// shares them. Every POST carries the session's CSRF token and must come
// from the dashboard's own origin. Viewers see; admins also change the
// deny list, the host list and invitations, export, replay dead
// notifications, and register or delete.
//
// Adding a page: write templates/NAME.html (a "content" block; the page's
// data is .Data), a handler func(w, r, *Session) that calls
// d.render(w, r, s, http.StatusOK, "NAME", "Title", data), and one line in
// routes(): d.page("GET /NAME", "Title", Viewer, d.handler). A title puts
// it in the navigation; forms post to routes registered with Admin (or
// Viewer) and carry {{.S.CSRF}} in a hidden field named csrf. A form that
// uploads a file posts to a route registered with d.upload (multipart,
// up to MaxUpload bytes); any other route reads no multipart body.
package dashboard

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"time"

	"ndikiosk/hub"
	"ndikiosk/ndi"
	"ndikiosk/pgstore"
)

// Prefix is where the hub serves the dashboard.
const Prefix = "/dashboard"

//go:embed templates/*.html static/*
var files embed.FS

// Options are what the dashboard works with.
type Options struct {
	DB       *pgstore.DB
	Registry *hub.Registry // enrolled kiosks; nil: none shown
	Hub      *hub.Hub      // kiosks connected to this replica; nil: none
	// Secure is true when operators reach the hub over https (its public
	// URL): the cookie is then __Host- and Secure. Over plain http (the
	// sandbox on loopback) it is neither.
	Secure bool
	// Origins are the origins a form may be posted from besides the
	// request's own host (the hub's public URL behind a proxy).
	Origins []string
	Now     func() time.Time
	Log     *slog.Logger
	// ClientIP is the address a sign-in is counted against; default the
	// connection's peer.
	ClientIP func(*http.Request) string
	// RetentionDays: roll calls older than this are deleted (default 30),
	// with expired sessions and old failed sign-ins.
	RetentionDays int
	// WriteTimeout is how long an answer (an export included) may take
	// to write (default 2 minutes); an event stream has one a write.
	WriteTimeout time.Duration
}

// Dashboard serves the operators' pages.
type Dashboard struct {
	o        Options
	db       *pgstore.DB
	accounts *Accounts
	live     *broker
	streams  streamCount
	mux      *http.ServeMux
	pages    map[string]*template.Template
	nav      []navItem

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

type navItem struct {
	Path, Title string
	Role        Role
}

// New makes the dashboard; Start begins listening for live updates.
func New(o Options) *Dashboard {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 2 * time.Minute
	}
	if o.ClientIP == nil {
		o.ClientIP = func(r *http.Request) string {
			host, _, err := net.SplitHostPort(r.RemoteAddr)
			if err != nil {
				return r.RemoteAddr
			}
			return host
		}
	}
	d := &Dashboard{o: o, db: o.DB, accounts: NewAccounts(o.DB.Pool(), o.Now).keyNames(o.DB), live: newBroker(o.DB.Pool(), o.Log),
		mux: http.NewServeMux(), pages: map[string]*template.Template{}}
	d.ctx, d.cancel = context.WithCancel(context.Background())
	d.routes()
	return d
}

// Accounts are the operators' accounts.
func (d *Dashboard) Accounts() *Accounts { return d.accounts }

// Start listens for the hub's announcements until Close, and returns
// once the first LISTEN is in place (or after 10 s, still trying).
func (d *Dashboard) Start() {
	d.wg.Add(2)
	go func() {
		defer d.wg.Done()
		d.live.run(d.ctx)
	}()
	go func() {
		defer d.wg.Done()
		d.tidyLoop()
	}()
	select {
	case <-d.live.ready:
	case <-time.After(10 * time.Second):
		d.o.Log.Warn("dashboard: not yet listening for live updates")
	}
}

// Close stops the live updates and ends the event streams.
func (d *Dashboard) Close() {
	d.cancel()
	d.wg.Wait()
}

// Handler serves everything under Prefix.
func (d *Dashboard) Handler() http.Handler { return d.mux }

// handler is a page's function, called with the signed-in operator.
type handler func(w http.ResponseWriter, r *http.Request, s *Session)

// page registers a route that needs an operator of role need; a title
// puts a GET route in the navigation.
func (d *Dashboard) page(pattern, title string, need Role, h handler) {
	method, path, _ := strings.Cut(pattern, " ")
	if title != "" {
		d.nav = append(d.nav, navItem{Path: Prefix + path, Title: title, Role: need})
	}
	d.mux.HandleFunc(method+" "+Prefix+path, d.guard(method, need, maxForm, h))
}

// upload registers a POST route that takes a file (multipart, at most
// MaxUpload bytes in all); it is never in the navigation.
func (d *Dashboard) upload(path string, need Role, h handler) {
	d.mux.HandleFunc("POST "+Prefix+path, d.guard(http.MethodPost, need, MaxUpload, h))
}

// maxForm is the largest form body a page takes, in bytes.
const maxForm = 64 << 10

// routes are the dashboard's pages.
func (d *Dashboard) routes() {
	d.mux.HandleFunc("GET "+Prefix+"/{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, Prefix+"/onsite", http.StatusSeeOther)
	})
	d.mux.HandleFunc("GET "+Prefix+"/signin", d.signInPage)
	d.mux.HandleFunc("POST "+Prefix+"/signin", d.signIn)
	d.mux.Handle("GET "+Prefix+"/static/", http.StripPrefix(Prefix, staticFiles()))

	d.page("GET /onsite", "On site", Viewer, d.onSite)
	d.page("GET /visits", "Visits today", Viewer, d.visits)
	d.page("GET /kiosks", "Kiosks", Viewer, d.kiosks)
	d.page("GET /rollcall", "Roll call", Viewer, d.rollCalls)
	d.page("GET /deny", "Deny list", Viewer, d.denyList)
	d.page("GET /walkin", "Walk-in", Viewer, d.walkInPage)
	d.page("GET /hosts", "Hosts", Viewer, d.hosts)
	d.page("GET /invitations", "Invitations", Viewer, d.invitations)
	d.page("GET /notifications", "Notifications", Viewer, d.notifications)

	d.page("GET /fragment/onsite", "", Viewer, d.onSiteFragment)
	d.page("GET /fragment/rollcall/{id}", "", Viewer, d.rollCallFragment)
	d.page("GET /events", "", Viewer, d.events)
	d.page("GET /rollcall/print", "", Viewer, d.rollCallPrint)
	d.page("GET /rollcall/{id}", "", Viewer, d.rollCall)
	d.page("POST /rollcall", "", Viewer, d.startRollCall)
	d.page("POST /rollcall/{id}/tick", "", Viewer, d.tick)
	d.page("POST /rollcall/{id}/end", "", Viewer, d.endRollCall)
	d.page("POST /alerts/{id}/handled", "", Viewer, d.handleAlert)
	d.page("POST /walkin", "", Admin, d.walkIn)
	d.page("POST /deny", "", Admin, d.deny)
	d.page("POST /allow", "", Admin, d.allow)
	d.page("POST /checkout", "", Admin, d.checkOut)
	d.page("GET /export", "", Admin, d.export)
	d.page("POST /hosts", "", Admin, d.saveHost)
	d.page("POST /hosts/remove", "", Admin, d.removeHost)
	d.upload("/hosts/import", Admin, d.importHosts)
	d.page("GET /hosts.csv", "", Admin, d.hostsCSV)
	d.page("POST /invitations", "", Admin, d.invite)
	d.page("POST /invitations/{id}/cancel", "", Admin, d.cancelInvitation)
	d.page("POST /notifications/{id}/replay", "", Admin, d.replay)
	d.page("POST /notifications/replay", "", Admin, d.replayAll)
	d.page("POST /signout", "", Viewer, d.signOut)

	// Every template but the layout is a page of that name.
	names, _ := fs.Glob(files, "templates/*.html")
	for _, n := range names {
		name := strings.TrimSuffix(path.Base(n), ".html")
		if name != "layout" {
			d.pages[name] = template.Must(template.Must(layout.Clone()).ParseFS(files, n))
		}
	}
}

func staticFiles() http.Handler {
	sub, _ := fs.Sub(files, "static")
	fsrv := http.StripPrefix("/static/", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		headers(w)
		w.Header().Set("Cache-Control", "max-age=300")
		fsrv.ServeHTTP(w, r)
	})
}

// automatic marks the requests the page's script makes on its own: they
// do not count as the operator's activity for the idle timeout.
const automatic = "X-Dashboard-Refresh"

// autoParam=1 in the query marks a page's own reload with JavaScript off
// (its meta refresh), which does not count as activity either.
const autoParam = "auto"

// reloadURL is where a live page reloads itself with JavaScript off: the
// same page, marked automatic.
func reloadURL(r *http.Request) string {
	q := r.URL.Query()
	q.Set(autoParam, "1")
	return r.URL.EscapedPath() + "?" + q.Encode()
}

// guard checks the session, the role and, on a POST, the request's
// origin and CSRF token before h runs.
func (d *Dashboard) guard(method string, need Role, limit int64, h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		headers(w)
		// The hub has no write timeout (its kiosks' channels stay open):
		// a client that stops reading is let go after this.
		http.NewResponseController(w).SetWriteDeadline(time.Now().Add(d.o.WriteTimeout))
		if method == http.MethodPost && !d.sameOrigin(r) {
			d.fail(w, r, nil, http.StatusForbidden, "This form did not come from the dashboard.")
			return
		}
		touch := r.Header.Get(automatic) == "" && r.URL.Query().Get(autoParam) != "1" && !strings.HasSuffix(r.URL.Path, "/events")
		s, err := d.session(r, touch)
		if errors.Is(err, ErrNoSession) {
			if method == http.MethodGet && r.Header.Get(automatic) == "" && !strings.HasSuffix(r.URL.Path, "/events") {
				http.Redirect(w, r, Prefix+"/signin?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			d.fail(w, r, nil, http.StatusUnauthorized, "Your session has ended: sign in again.")
			return
		}
		if err != nil {
			d.o.Log.Error("dashboard: session", "error", err.Error())
			d.fail(w, r, nil, http.StatusServiceUnavailable, "The hub's database cannot be reached; try again.")
			return
		}
		if method == http.MethodPost && !d.parseForm(w, r, s, limit) {
			return
		}
		if !s.Role.can(need) {
			d.fail(w, r, s, http.StatusForbidden, "Only an admin may do this.")
			return
		}
		h(w, r, s)
	}
}

// parseForm reads a POST's form (multipart only where the route takes
// a file, up to limit bytes) and checks its CSRF token; it answers and
// returns false when either fails.
func (d *Dashboard) parseForm(w http.ResponseWriter, r *http.Request, s *Session, limit int64) bool {
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	var err error
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" && limit > maxForm {
		err = r.ParseMultipartForm(limit)
	} else {
		err = r.ParseForm()
	}
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		d.fail(w, r, s, http.StatusRequestEntityTooLarge, fmt.Sprintf("The form or file is too large: at most %d KB. Nothing was changed.", limit>>10))
		return false
	case err != nil || !validCSRF(s.CSRF(), r.PostForm.Get("csrf")):
		d.fail(w, r, s, http.StatusForbidden, "This form has expired or did not come from the dashboard: reload the page and try again.")
		return false
	}
	return true
}

func validCSRF(want, got string) bool {
	return got != "" && subtle.ConstantTimeCompare([]byte(want), []byte(got)) == 1
}

func csrfOf(token string) string {
	m := hmac.New(sha256.New, []byte(token))
	m.Write([]byte("ndikiosk dashboard csrf"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// sameOrigin refuses a request a browser says came from another site:
// Sec-Fetch-Site other than same-origin, or an Origin that is not the
// dashboard's. The dashboard's pages have referrer policy no-referrer, so
// their own forms send "Origin: null": that passes only with
// Sec-Fetch-Site same-origin. A request with neither header (not from a
// browser) passes here and still needs the CSRF token.
func (d *Dashboard) sameOrigin(r *http.Request) bool {
	site := r.Header.Get("Sec-Fetch-Site")
	if site != "" && site != "same-origin" {
		return false
	}
	origin := r.Header.Get("Origin")
	switch {
	case origin == "":
		return true
	case origin == "null":
		return site == "same-origin"
	}
	scheme := "http"
	if r.TLS != nil || d.o.Secure {
		scheme = "https"
	}
	if origin == scheme+"://"+r.Host {
		return true
	}
	for _, o := range d.o.Origins {
		if strings.EqualFold(strings.TrimRight(o, "/"), origin) {
			return true
		}
	}
	return false
}

// headers are set on every dashboard response.
func headers(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
}

// cookieName is the session cookie's name: __Host- needs https.
func (d *Dashboard) cookieName() string {
	if d.o.Secure {
		return "__Host-ndikiosk_session"
	}
	return "ndikiosk_session"
}

func (d *Dashboard) setCookie(w http.ResponseWriter, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge, Secure: d.o.Secure, HttpOnly: true,
		SameSite: http.SameSiteStrictMode})
}

func (d *Dashboard) session(r *http.Request, touch bool) (*Session, error) {
	c, err := r.Cookie(d.cookieName())
	if err != nil {
		return nil, ErrNoSession
	}
	return d.accounts.Session(r.Context(), c.Value, touch)
}

// view is what every page's template gets.
type view struct {
	Title   string
	S       *Session
	Nav     []navItem
	Path    string
	Notice  string
	Error   string
	Data    any
	Refresh int // seconds: with JavaScript off, a live page reloads itself
	Reload  string
}

// render writes page name with data, or a plain error if it cannot.
func (d *Dashboard) render(w http.ResponseWriter, r *http.Request, s *Session, status int, name, title string, data any) {
	v := view{Title: title, S: s, Path: r.URL.Path, Data: data, Notice: notices[r.URL.Query().Get("done")]}
	if s != nil {
		for _, n := range d.nav {
			if s.Role.can(n.Role) {
				v.Nav = append(v.Nav, n)
			}
		}
	}
	if e, ok := data.(interface{ refresh() int }); ok {
		v.Refresh, v.Reload = e.refresh(), reloadURL(r)
	}
	var buf bytes.Buffer
	if err := d.pages[name].ExecuteTemplate(&buf, "layout", v); err != nil {
		d.o.Log.Error("dashboard: template", "page", name, "error", err.Error())
		http.Error(w, "The page could not be drawn.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// notices are what a page says after a change (?done=KEY): fixed words, so
// that a link cannot make the dashboard say something of its own.
var notices = map[string]string{
	"denied":         "Added to the deny list.",
	"allowed":        "Removed from the deny list.",
	"checked-out":    "Checked out.",
	"handled":        "Alert handled.",
	"walk-in":        "Walk-in registered (not verified with Singpass).",
	"ended":          "Roll call ended.",
	"host-saved":     "Host saved.",
	"host-removed":   "Host removed.",
	"hosts-imported": "Hosts imported: every row of the file was taken.",
	"invited":        "Invitation made: the visitor is checked in as soon as they scan at a kiosk of the site that day.",
	"cancelled":      "Invitation cancelled.",
	"replayed":       "The notification will be sent again.",
	"replayed-all":   "Every dead notification will be sent again.",
}

// fragment writes one named template of page name without the layout.
func (d *Dashboard) fragment(w http.ResponseWriter, name, block string, data any) {
	var buf bytes.Buffer
	if err := d.pages[name].ExecuteTemplate(&buf, block, data); err != nil {
		d.o.Log.Error("dashboard: template", "page", name, "error", err.Error())
		http.Error(w, "The list could not be drawn.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(buf.Bytes())
}

// fail answers with a page that says what went wrong.
func (d *Dashboard) fail(w http.ResponseWriter, r *http.Request, s *Session, status int, msg string) {
	d.render(w, r, s, status, "error", "Not done", msg)
}

// failErr logs a server-side error without details that could hold data
// and answers with msg.
func (d *Dashboard) failErr(w http.ResponseWriter, r *http.Request, s *Session, err error, msg string) {
	d.o.Log.Error("dashboard: "+msg, "path", r.URL.Path, "error", err.Error())
	d.fail(w, r, s, http.StatusServiceUnavailable, msg)
}

var layout = template.Must(template.New("layout").Funcs(template.FuncMap{
	"clock": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.In(ndi.SGT).Format("15:04")
	},
	"stamp": func(t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		return t.In(ndi.SGT).Format("2 Jan 15:04:05")
	},
	"ago": func(now, t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		return now.Sub(t).Round(time.Second).String() + " ago"
	},
}).ParseFS(files, "templates/layout.html"))

// tidyLoop deletes, now and hourly, what the dashboard no longer needs.
func (d *Dashboard) tidyLoop() {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if err := d.tidy(d.ctx); err != nil && d.ctx.Err() == nil {
			d.o.Log.Warn("dashboard: tidying up failed", "error", err.Error())
		}
		select {
		case <-t.C:
		case <-d.ctx.Done():
			return
		}
	}
}

// tidy deletes expired sessions, failed sign-ins older than the lockout
// window, and roll calls older than the retention rule.
func (d *Dashboard) tidy(ctx context.Context) error {
	now := d.o.Now()
	days := d.o.RetentionDays
	if days <= 0 {
		days = 30
	}
	_, err := d.db.Pool().Exec(ctx, `WITH s AS (DELETE FROM operator_sessions WHERE last_seen < $1 OR created_at < $2),
		f AS (DELETE FROM signin_failures WHERE failed_at < $3)
		DELETE FROM roll_calls WHERE started_at < $4`, now.Add(-IdleTimeout), now.Add(-AbsoluteTimeout), now.Add(-LockWindow), now.AddDate(0, 0, -days))
	return err
}
