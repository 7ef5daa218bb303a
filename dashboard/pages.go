package dashboard

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"ndikiosk/kiosk"
	"ndikiosk/ndi"
	"ndikiosk/pgstore"
)

// row is one visit as the dashboard lists it.
type row struct {
	kiosk.Visit
	Verified bool // checked with Singpass (not a walk-in typed by staff)
}

func rowOf(v kiosk.Visit) row { return row{Visit: v, Verified: v.Outcome != kiosk.OutcomeWalkIn} }

func rowsOf(vs []kiosk.Visit) []row {
	out := make([]row, len(vs))
	for i, v := range vs {
		out[i] = rowOf(v)
	}
	return out
}

// today is [midnight, next midnight) in Singapore.
func (d *Dashboard) today() (time.Time, time.Time) {
	y, m, dd := d.o.Now().In(ndi.SGT).Date()
	from := time.Date(y, m, dd, 0, 0, 0, 0, ndi.SGT)
	return from, from.AddDate(0, 0, 1)
}

type onSiteData struct {
	Site   string
	Sites  []string
	People []row
	Alerts []pgstore.Alert
	Now    time.Time
	CSRF   string
	Admin  bool
}

func (onSiteData) refresh() int { return 15 }

func (d *Dashboard) onSiteData(r *http.Request, s *Session) (onSiteData, error) {
	site := r.URL.Query().Get("site")
	v := onSiteData{Site: site, Now: d.o.Now(), CSRF: s.CSRF(), Admin: s.Role == Admin}
	var err error
	if v.Sites, err = d.db.Sites(r.Context()); err != nil {
		return v, err
	}
	people, err := d.db.OnSite(r.Context(), site, v.Now)
	if err != nil {
		return v, err
	}
	v.People = rowsOf(people)
	v.Alerts, err = d.db.OpenAlerts(r.Context())
	return v, err
}

func (d *Dashboard) onSite(w http.ResponseWriter, r *http.Request, s *Session) {
	v, err := d.onSiteData(r, s)
	if err != nil {
		d.failErr(w, r, s, err, "The on-site list cannot be read now.")
		return
	}
	d.render(w, r, s, http.StatusOK, "onsite", "On site now", v)
}

func (d *Dashboard) onSiteFragment(w http.ResponseWriter, r *http.Request, s *Session) {
	v, err := d.onSiteData(r, s)
	if err != nil {
		d.failErr(w, r, s, err, "The on-site list cannot be read now.")
		return
	}
	d.fragment(w, "onsite", "live", v)
}

// PageSize is how many visits a page of the visit list shows.
const PageSize = 50

type visitsData struct {
	Kiosk, Host, Outcome, Site string
	Kiosks, Sites              []string
	Outcomes                   []kiosk.Outcome
	Visits                     []row
	Total, Page, Pages         int
	Prev, Next                 string
	CSRF                       string
	Admin                      bool
}

var listedOutcomes = []kiosk.Outcome{kiosk.OutcomeCheckedIn, kiosk.OutcomeCheckedOut, kiosk.OutcomeWalkIn, kiosk.OutcomeRefused,
	kiosk.OutcomeEligible, kiosk.OutcomeNotEligible, kiosk.OutcomeCannotDecide, kiosk.OutcomeDenied, kiosk.OutcomeUnverified,
	kiosk.OutcomeError, kiosk.OutcomeUnavailable, kiosk.OutcomeNotRecorded, kiosk.OutcomeFaceFailed, kiosk.OutcomeFaceUnavailable}

// visits is today's visits across the kiosks, filtered and paged. The
// filters and paging run in SQL on ids; only the page's visits are read
// and opened.
func (d *Dashboard) visits(w http.ResponseWriter, r *http.Request, s *Session) {
	q := r.URL.Query()
	v := visitsData{Kiosk: q.Get("kiosk"), Host: strings.TrimSpace(q.Get("host")), Outcome: q.Get("outcome"), Site: q.Get("site"),
		Outcomes: listedOutcomes, CSRF: s.CSRF(), Admin: s.Role == Admin}
	v.Page, _ = strconv.Atoi(q.Get("page"))
	v.Page = max(v.Page, 1)
	if len(v.Host) > 200 || len(v.Kiosk) > 100 || len(v.Site) > 400 || len(v.Outcome) > 40 || v.Page > 1_000_000 {
		d.fail(w, r, s, http.StatusBadRequest, "A filter is too long.")
		return
	}
	if err := d.readVisits(r, &v); err != nil {
		d.failErr(w, r, s, err, "The visit log cannot be read now.")
		return
	}
	page := func(n int) string {
		u := url.Values{}
		for k, val := range map[string]string{"kiosk": v.Kiosk, "host": v.Host, "outcome": v.Outcome, "site": v.Site} {
			if val != "" {
				u.Set(k, val)
			}
		}
		u.Set("page", strconv.Itoa(n))
		return Prefix + "/visits?" + u.Encode()
	}
	if v.Page > 1 {
		v.Prev = page(v.Page - 1)
	}
	if v.Page < v.Pages {
		v.Next = page(v.Page + 1)
	}
	d.render(w, r, s, http.StatusOK, "visits", "Visits today", v)
}

func (d *Dashboard) readVisits(r *http.Request, v *visitsData) error {
	ctx := r.Context()
	from, to := d.today()
	pool := d.db.Pool()
	var err error
	if v.Kiosks, err = strings1(pool.Query(ctx, `SELECT DISTINCT kiosk_id FROM visits WHERE started_at >= $1 AND started_at < $2 AND kiosk_id <> '' ORDER BY 1`, from, to)); err != nil {
		return err
	}
	if v.Sites, err = strings1(pool.Query(ctx, `SELECT DISTINCT site FROM visits WHERE started_at >= $1 AND started_at < $2 AND site <> '' ORDER BY 1`, from, to)); err != nil {
		return err
	}
	q := `SELECT id, count(*) OVER () FROM visits WHERE started_at >= $1 AND started_at < $2`
	args := []any{from, to}
	add := func(cond string, val any) {
		args = append(args, val)
		q += fmt.Sprintf(cond, len(args))
	}
	if v.Kiosk != "" {
		add(` AND kiosk_id = $%d`, v.Kiosk)
	}
	if v.Site != "" {
		add(` AND site = $%d`, v.Site)
	}
	if v.Outcome != "" {
		add(` AND outcome = $%d`, v.Outcome)
	}
	if v.Host != "" {
		add(` AND host ILIKE $%d ESCAPE '\'`, "%"+likeEscape(v.Host)+"%")
	}
	add(` ORDER BY started_at DESC, id DESC LIMIT $%d`, PageSize)
	add(` OFFSET $%d`, (v.Page-1)*PageSize)
	rows, err := pool.Query(ctx, q, args...)
	if err != nil {
		return err
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id, &v.Total); err != nil {
			rows.Close()
			return err
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(ids) == 0 && v.Page > 1 { // past the last page: the total still comes from the filters
		cq := strings.Replace(q[:strings.Index(q, " ORDER BY")], "SELECT id, count(*) OVER ()", "SELECT count(*)", 1)
		if err := pool.QueryRow(ctx, cq, args[:len(args)-2]...).Scan(&v.Total); err != nil {
			return err
		}
	}
	v.Pages = max(1, (v.Total+PageSize-1)/PageSize)
	for _, id := range ids {
		visit, err := d.db.Visit(ctx, id)
		if err != nil {
			return err
		}
		v.Visits = append(v.Visits, rowOf(visit))
	}
	return nil
}

func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

func strings1(rows pgx.Rows, err error) ([]string, error) {
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

type kioskRow struct {
	ID, Phase, Version, Venue string
	Connected, Revoked        bool
	Since, LastSeen           time.Time
}

// MaxVersion is the longest kiosk version the kiosks page shows.
const MaxVersion = 40

// versionOf is what the kiosks page says a connected kiosk runs: the
// version its client sent (User-Agent ndikiosk/VERSION, cleaned and cut
// short: it is the kiosk's word) and the hub's, which runs its engine. A
// client that sends none (an older kiosk) shows the hub's alone.
func versionOf(agent, hubVersion string) string {
	v, ok := strings.CutPrefix(agent, "ndikiosk/")
	if v = strings.TrimSpace(kiosk.CleanText(v)); !ok || v == "" {
		return "hub " + hubVersion
	}
	if r := []rune(v); len(r) > MaxVersion {
		v = string(r[:MaxVersion]) + "…"
	}
	return "kiosk " + v + " · hub " + hubVersion
}

func (d *Dashboard) kiosks(w http.ResponseWriter, r *http.Request, s *Session) {
	here := map[string]kioskRow{}
	if d.o.Hub != nil {
		for _, k := range d.o.Hub.Kiosks() {
			here[k.ID] = kioskRow{ID: k.ID, Connected: true, Since: k.Since, Phase: k.Phase.String(), Version: versionOf(k.Agent, k.Version)}
		}
	}
	var list []kioskRow
	if d.o.Registry != nil {
		recs, err := d.o.Registry.List(r.Context())
		if err != nil {
			d.failErr(w, r, s, err, "The kiosk registry cannot be read now.")
			return
		}
		for _, k := range recs {
			kr := here[k.ID]
			kr.ID, kr.Revoked, kr.LastSeen, kr.Venue = k.ID, k.Revoked, k.LastSeen, k.Venue
			delete(here, k.ID)
			list = append(list, kr)
		}
	}
	for _, k := range here {
		list = append(list, k)
	}
	d.render(w, r, s, http.StatusOK, "kiosks", "Kiosks", struct {
		Kiosks []kioskRow
		Now    time.Time
	}{list, d.o.Now()})
}

// denied is one deny-list entry as staff see it: the masked id of the
// person's latest visit, never the keyed hash itself. Ref names the entry
// in the remove form: a hash of the keyed hash.
type denied struct {
	Ref, MaskedID, Name, Note string
	AddedAt                   time.Time
}

func (d *Dashboard) denyList(w http.ResponseWriter, r *http.Request, s *Session) {
	ctx := r.Context()
	rows, err := d.db.Pool().Query(ctx, `SELECT encode(sha256(d.person_key), 'hex'), d.note, d.added_at,
		COALESCE((SELECT v.id FROM visits v WHERE v.person_key = d.person_key ORDER BY v.started_at DESC LIMIT 1), 0)
		FROM deny_list d ORDER BY d.added_at DESC`)
	if err != nil {
		d.failErr(w, r, s, err, "The deny list cannot be read now.")
		return
	}
	type entry struct {
		denied
		visit int64
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (entry, error) {
		var e entry
		return e, row.Scan(&e.Ref, &e.Note, &e.AddedAt, &e.visit)
	})
	if err != nil {
		d.failErr(w, r, s, err, "The deny list cannot be read now.")
		return
	}
	out := make([]denied, 0, len(list))
	for _, e := range list {
		if e.visit != 0 {
			if v, err := d.db.Visit(ctx, e.visit); err == nil {
				e.MaskedID, e.Name = v.MaskedID, v.Name
			}
		}
		if e.MaskedID == "" {
			e.MaskedID = "(no visit kept)"
		}
		out = append(out, e.denied)
	}
	d.render(w, r, s, http.StatusOK, "deny", "Deny list", struct {
		List  []denied
		CSRF  string
		Admin bool
	}{out, s.CSRF(), s.Role == Admin})
}

// MaxNote is the longest note on a deny-list entry.
const MaxNote = 200

func formID(r *http.Request, key string) (int64, bool) {
	id, err := strconv.ParseInt(r.PostForm.Get(key), 10, 64)
	return id, err == nil && id > 0
}

func (d *Dashboard) deny(w http.ResponseWriter, r *http.Request, s *Session) {
	id, ok := formID(r, "visit")
	note := kiosk.CleanText(r.PostForm.Get("note"))
	if !ok || len([]rune(note)) > MaxNote {
		d.fail(w, r, s, http.StatusBadRequest, fmt.Sprintf("Choose a visit; a note is at most %d characters.", MaxNote))
		return
	}
	note = strings.TrimSpace(note + " (by " + s.Name + ")")
	_, err := d.db.DenyVisitor(r.Context(), id, true, note, d.o.Now())
	if err != nil {
		d.denyFailed(w, r, s, err)
		return
	}
	d.o.Log.Info("dashboard: deny list entry added", "operator", s.Name, "visit", id)
	http.Redirect(w, r, Prefix+"/deny?done=denied", http.StatusSeeOther)
}

func (d *Dashboard) denyFailed(w http.ResponseWriter, r *http.Request, s *Session, err error) {
	var se *kiosk.StoreError
	if errors.As(err, &se) {
		d.failErr(w, r, s, err, "The deny list cannot be changed now.")
		return
	}
	d.fail(w, r, s, http.StatusBadRequest, "That visit does not identify a person: only visitor-mode visits checked with Singpass do.")
}

func (d *Dashboard) allow(w http.ResponseWriter, r *http.Request, s *Session) {
	ref := r.PostForm.Get("ref")
	if len(ref) != 64 || strings.Trim(ref, "0123456789abcdef") != "" {
		d.fail(w, r, s, http.StatusBadRequest, "Choose an entry of the deny list.")
		return
	}
	var key []byte
	err := d.db.Pool().QueryRow(r.Context(), `SELECT person_key FROM deny_list WHERE encode(sha256(person_key), 'hex') = $1`, ref).Scan(&key)
	if errors.Is(err, pgx.ErrNoRows) {
		d.fail(w, r, s, http.StatusNotFound, "That entry is no longer on the deny list.")
		return
	}
	if err == nil {
		err = d.db.Allow(r.Context(), key)
	}
	if err != nil {
		d.failErr(w, r, s, err, "The deny list cannot be changed now.")
		return
	}
	d.o.Log.Info("dashboard: deny list entry removed", "operator", s.Name)
	http.Redirect(w, r, Prefix+"/deny?done=allowed", http.StatusSeeOther)
}

func (d *Dashboard) checkOut(w http.ResponseWriter, r *http.Request, s *Session) {
	id, ok := formID(r, "visit")
	if !ok {
		d.fail(w, r, s, http.StatusBadRequest, "Choose a visit.")
		return
	}
	if err := d.db.CheckOut(r.Context(), id, d.o.Now()); errors.Is(err, kiosk.ErrNotFound) {
		d.fail(w, r, s, http.StatusNotFound, "That visitor is already checked out.")
		return
	} else if err != nil {
		d.failErr(w, r, s, err, "The visit cannot be changed now.")
		return
	}
	http.Redirect(w, r, Prefix+"/onsite?done=checked-out", http.StatusSeeOther)
}

// export streams the visits of a range of days (today by default) as CSV
// or JSON through the same code as `ndikiosk export`.
func (d *Dashboard) export(w http.ResponseWriter, r *http.Request, s *Session) {
	q := r.URL.Query()
	format := q.Get("format")
	if format == "" {
		format = "csv"
	}
	if format != "csv" && format != "json" {
		d.fail(w, r, s, http.StatusBadRequest, "The format is csv or json.")
		return
	}
	from, to := d.today()
	if day := q.Get("day"); day != "" {
		t, err := time.ParseInLocation("2006-01-02", day, ndi.SGT)
		if err != nil {
			d.fail(w, r, s, http.StatusBadRequest, "The day is written 2026-12-31.")
			return
		}
		from, to = t, t.AddDate(0, 0, 1)
	}
	ctype := map[string]string{"csv": "text/csv; charset=utf-8", "json": "application/json"}[format]
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="visits-%s.%s"`, from.Format("2006-01-02"), format))
	d.o.Log.Info("dashboard: export", "operator", s.Name, "day", from.Format("2006-01-02"), "format", format)
	if err := d.db.Export(r.Context(), w, kiosk.VisitFilter{From: from, To: to}, format); err != nil {
		d.o.Log.Error("dashboard: export failed", "error", err.Error())
	}
}

func (d *Dashboard) handleAlert(w http.ResponseWriter, r *http.Request, s *Session) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		d.fail(w, r, s, http.StatusBadRequest, "No such alert.")
		return
	}
	if err := d.db.HandleAlert(r.Context(), id, s.Name, d.o.Now()); errors.Is(err, kiosk.ErrNotFound) {
		d.fail(w, r, s, http.StatusNotFound, "That alert was handled already.")
		return
	} else if err != nil {
		d.failErr(w, r, s, err, "The alert cannot be changed now.")
		return
	}
	http.Redirect(w, r, Prefix+"/onsite?done=handled", http.StatusSeeOther)
}

type walkInData struct {
	Sites                     []string
	Site, Name, Host, Purpose string
	CSRF, Error               string
	Admin                     bool
}

func (d *Dashboard) walkInPage(w http.ResponseWriter, r *http.Request, s *Session) {
	d.showWalkIn(w, r, s, http.StatusOK, walkInData{Site: r.URL.Query().Get("site")})
}

func (d *Dashboard) showWalkIn(w http.ResponseWriter, r *http.Request, s *Session, status int, v walkInData) {
	v.CSRF, v.Admin = s.CSRF(), s.Role == Admin
	v.Sites, _ = d.db.Sites(r.Context())
	d.render(w, r, s, status, "walkin", "Register a walk-in", v)
}

func (d *Dashboard) walkIn(w http.ResponseWriter, r *http.Request, s *Session) {
	f := r.PostForm
	v := walkInData{Site: f.Get("site"), Name: f.Get("name"), Host: f.Get("host"), Purpose: f.Get("purpose")}
	id, err := d.db.WalkIn(r.Context(), v.Site, v.Name, v.Host, v.Purpose, d.o.Now())
	var se *kiosk.StoreError
	switch {
	case errors.As(err, &se):
		d.failErr(w, r, s, err, "The walk-in cannot be recorded now; nothing was saved.")
		return
	case err != nil:
		v.Error = err.Error()
		d.showWalkIn(w, r, s, http.StatusBadRequest, v)
		return
	}
	d.o.Log.Info("dashboard: walk-in registered", "operator", s.Name, "visit", id)
	http.Redirect(w, r, Prefix+"/onsite?done=walk-in", http.StatusSeeOther)
}

// MaxStreams is how many event streams one operator may hold at once (a
// few tabs and phones), MaxAllStreams how many the dashboard holds in
// all: each holds one of the hub's connections, which the kiosks share.
const (
	MaxStreams    = 8
	MaxAllStreams = 256
)

// streamWrite is how long one write to an event stream may take: the hub
// has no write timeout (the kiosks' channels stay open), so a browser that
// stops reading would otherwise hold its connection for good.
const streamWrite = 15 * time.Second

// streamPing is how often a stream says it is alive, and checks that its
// session still is.
var streamPing = 25 * time.Second

// streamCount counts the open event streams, by operator.
type streamCount struct {
	mu    sync.Mutex
	by    map[int64]int
	total int
}

// take counts a stream of operator id, or reports false past the caps.
func (c *streamCount) take(id int64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.by == nil {
		c.by = map[int64]int{}
	}
	if c.by[id] >= MaxStreams || c.total >= MaxAllStreams {
		return false
	}
	c.by[id]++
	c.total++
	return true
}

func (c *streamCount) done(id int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.total--
	if c.by[id]--; c.by[id] <= 0 {
		delete(c.by, id)
	}
}

// events streams the hub's announcements to the browser as server-sent
// events. They carry ids and kinds, never a name: the page re-fetches its
// fragment. A stream ends after a while and the browser reconnects, so an
// operator signed out meanwhile stops getting them.
func (d *Dashboard) events(w http.ResponseWriter, r *http.Request, s *Session) {
	if !d.streams.take(s.ID) {
		http.Error(w, "Too many live streams open: close some dashboard tabs.", http.StatusTooManyRequests)
		return
	}
	defer d.streams.done(s.ID)
	rc := http.NewResponseController(w)
	flush := func() error {
		rc.SetWriteDeadline(time.Now().Add(streamWrite))
		return rc.Flush()
	}
	ch, stop := d.live.subscribe()
	defer stop()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("X-Accel-Buffering", "no")
	fmt.Fprint(w, "retry: 1000\n\n")
	if flush() != nil {
		return
	}
	end := time.NewTimer(5 * time.Minute)
	defer end.Stop()
	ping := time.NewTicker(streamPing)
	defer ping.Stop()
	for {
		select {
		case e := <-ch:
			b, _ := json.Marshal(e)
			fmt.Fprintf(w, "event: %s\ndata: %s\n\n", e.Kind, b)
		case <-ping.C:
			if _, err := d.accounts.Session(r.Context(), s.token, false); errors.Is(err, ErrNoSession) {
				return // signed out, removed or a new password: no more announcements
			}
			fmt.Fprint(w, ": ping\n\n")
		case <-end.C:
			return
		case <-r.Context().Done():
			return
		case <-d.ctx.Done():
			return
		}
		if flush() != nil {
			return
		}
	}
}
