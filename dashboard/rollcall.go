package dashboard

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"ndikiosk/kiosk"
	"ndikiosk/pgstore"
)

// Roll call needs only the hub and PostgreSQL: it lists today's visits
// not checked out (pgstore.OnSite), whether or not any kiosk is
// connected, and keeps its ticks in roll_call_ticks so that every phone
// on it, on any replica, sees the same.

type rollCallInfo struct {
	ID        int64
	Site      string
	StartedAt time.Time
	StartedBy string
	EndedAt   time.Time
}

type rollCallsData struct {
	Sites  []string
	Recent []rollCallInfo
	CSRF   string
}

func (d *Dashboard) rollCalls(w http.ResponseWriter, r *http.Request, s *Session) {
	v := rollCallsData{CSRF: s.CSRF()}
	var err error
	if v.Sites, err = d.db.Sites(r.Context()); err == nil {
		var rows pgx.Rows
		from, _ := d.today()
		rows, err = d.db.Pool().Query(r.Context(), `SELECT id, site, started_at, started_by, COALESCE(ended_at, 'epoch'::timestamptz)
			FROM roll_calls WHERE started_at >= $1 ORDER BY started_at DESC LIMIT 20`, from)
		if err == nil {
			v.Recent, err = pgx.CollectRows(rows, scanRollCall)
		}
	}
	if err != nil {
		d.failErr(w, r, s, err, "Roll calls cannot be read now.")
		return
	}
	d.render(w, r, s, http.StatusOK, "rollcalls", "Roll call", v)
}

func scanRollCall(row pgx.CollectableRow) (rollCallInfo, error) {
	var rc rollCallInfo
	err := row.Scan(&rc.ID, &rc.Site, &rc.StartedAt, &rc.StartedBy, &rc.EndedAt)
	if rc.EndedAt.Unix() == 0 {
		rc.EndedAt = time.Time{}
	}
	return rc, err
}

type printData struct {
	Site    string
	At      time.Time
	People  []row
	Walkins int
}

// rollCallPrint is the printable list of who is on site: name, host,
// time in, verified or walk-in; no identity number.
func (d *Dashboard) rollCallPrint(w http.ResponseWriter, r *http.Request, s *Session) {
	site := r.URL.Query().Get("site")
	if len(site) > 400 {
		d.fail(w, r, s, http.StatusBadRequest, "No such site.")
		return
	}
	now := d.o.Now()
	people, err := d.db.OnSite(r.Context(), site, now)
	if err != nil {
		d.failErr(w, r, s, err, "The on-site list cannot be read now.")
		return
	}
	v := printData{Site: site, At: now, People: rowsOf(people)}
	for _, p := range v.People {
		if !p.Verified {
			v.Walkins++
		}
	}
	d.render(w, r, s, http.StatusOK, "print", "On site", v)
}

func (d *Dashboard) startRollCall(w http.ResponseWriter, r *http.Request, s *Session) {
	site := r.PostForm.Get("site")
	if len(site) > 400 {
		d.fail(w, r, s, http.StatusBadRequest, "No such site.")
		return
	}
	var id int64
	if err := d.db.Pool().QueryRow(r.Context(), `INSERT INTO roll_calls (site, started_at, started_by) VALUES ($1, $2, $3) RETURNING id`,
		site, d.o.Now(), s.Name).Scan(&id); err != nil {
		d.failErr(w, r, s, err, "A roll call cannot be started now.")
		return
	}
	d.o.Log.Info("dashboard: roll call started", "operator", s.Name, "roll_call", id)
	http.Redirect(w, r, Prefix+"/rollcall/"+strconv.FormatInt(id, 10), http.StatusSeeOther)
}

type tickRow struct {
	row
	Ticked   bool
	TickedBy string
	TickedAt time.Time
}

type rollCallData struct {
	rollCallInfo
	People  []tickRow
	Done    int
	CSRF    string
	Now     time.Time
	Missing int
}

func (rollCallData) refresh() int { return 10 }

var errNoRollCall = errors.New("no such roll call")

func (d *Dashboard) rollCallData(r *http.Request, s *Session) (rollCallData, error) {
	v := rollCallData{CSRF: s.CSRF(), Now: d.o.Now()}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return v, errNoRollCall
	}
	ctx := r.Context()
	rows, err := d.db.Pool().Query(ctx, `SELECT id, site, started_at, started_by, COALESCE(ended_at, 'epoch'::timestamptz) FROM roll_calls WHERE id = $1`, id)
	if err != nil {
		return v, err
	}
	if v.rollCallInfo, err = pgx.CollectExactlyOneRow(rows, scanRollCall); errors.Is(err, pgx.ErrNoRows) {
		return v, errNoRollCall
	} else if err != nil {
		return v, err
	}
	type tick struct {
		by string
		at time.Time
	}
	ticks := map[int64]tick{}
	trows, err := d.db.Pool().Query(ctx, `SELECT visit_id, ticked_by, ticked_at FROM roll_call_ticks WHERE roll_call_id = $1`, id)
	if err != nil {
		return v, err
	}
	var vid int64
	var t tick
	if _, err := pgx.ForEachRow(trows, []any{&vid, &t.by, &t.at}, func() error { ticks[vid] = t; return nil }); err != nil {
		return v, err
	}
	people, err := d.db.OnSite(ctx, v.Site, v.Now)
	if err != nil {
		return v, err
	}
	for _, p := range people {
		t, ok := ticks[p.ID]
		v.People = append(v.People, tickRow{row: rowOf(p), Ticked: ok, TickedBy: t.by, TickedAt: t.at})
		if ok {
			v.Done++
		}
	}
	v.Missing = len(v.People) - v.Done
	return v, nil
}

func (d *Dashboard) rollCall(w http.ResponseWriter, r *http.Request, s *Session) {
	v, err := d.rollCallData(r, s)
	if errors.Is(err, errNoRollCall) {
		d.fail(w, r, s, http.StatusNotFound, "No such roll call.")
		return
	}
	if err != nil {
		d.failErr(w, r, s, err, "The roll call cannot be read now.")
		return
	}
	d.render(w, r, s, http.StatusOK, "rollcall", "Roll call", v)
}

func (d *Dashboard) rollCallFragment(w http.ResponseWriter, r *http.Request, s *Session) {
	v, err := d.rollCallData(r, s)
	if errors.Is(err, errNoRollCall) {
		http.Error(w, "No such roll call.", http.StatusNotFound)
		return
	}
	if err != nil {
		d.failErr(w, r, s, err, "The roll call cannot be read now.")
		return
	}
	d.fragment(w, "rollcall", "live", v)
}

// tick marks (on=1) or unmarks a person on a roll call, and announces it
// so that every phone on the roll call updates.
func (d *Dashboard) tick(w http.ResponseWriter, r *http.Request, s *Session) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	visit, ok := formID(r, "visit")
	if err != nil || !ok {
		d.fail(w, r, s, http.StatusBadRequest, "Choose a person on the roll call.")
		return
	}
	var site string
	err = d.db.Pool().QueryRow(r.Context(), `SELECT site FROM roll_calls WHERE id = $1 AND ended_at IS NULL`, id).Scan(&site)
	if errors.Is(err, pgx.ErrNoRows) {
		d.fail(w, r, s, http.StatusNotFound, "This roll call has ended.")
		return
	}
	var onList bool
	if err == nil {
		// Only someone the roll call can list is ticked: a visit checked in
		// with Singpass or as a walk-in at its site.
		err = d.db.Pool().QueryRow(r.Context(), `SELECT EXISTS (SELECT 1 FROM visits WHERE id = $1 AND outcome IN ($2, $3)
			AND ($4 = '' OR site = $4))`, visit, string(kiosk.OutcomeCheckedIn), string(kiosk.OutcomeWalkIn), site).Scan(&onList)
	}
	if err == nil && !onList {
		d.fail(w, r, s, http.StatusBadRequest, "That person is not on this roll call.")
		return
	}
	if err == nil {
		if r.PostForm.Get("on") == "1" {
			_, err = d.db.Pool().Exec(r.Context(), `INSERT INTO roll_call_ticks (roll_call_id, visit_id, ticked_at, ticked_by)
				VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`, id, visit, d.o.Now(), s.Name)
		} else {
			_, err = d.db.Pool().Exec(r.Context(), `DELETE FROM roll_call_ticks WHERE roll_call_id = $1 AND visit_id = $2`, id, visit)
		}
	}
	if err == nil {
		err = d.db.Publish(r.Context(), pgstore.Event{Kind: EventRollCall, ID: id, Site: site})
	}
	if err != nil {
		d.failErr(w, r, s, err, "The tick could not be saved; try again.")
		return
	}
	if r.Header.Get(automatic) != "" {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	http.Redirect(w, r, Prefix+"/rollcall/"+strconv.FormatInt(id, 10)+"#v"+strconv.FormatInt(visit, 10), http.StatusSeeOther)
}

func (d *Dashboard) endRollCall(w http.ResponseWriter, r *http.Request, s *Session) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err == nil {
		_, err = d.db.Pool().Exec(r.Context(), `UPDATE roll_calls SET ended_at = $2 WHERE id = $1 AND ended_at IS NULL`, id, d.o.Now())
	}
	if err == nil {
		d.db.Publish(r.Context(), pgstore.Event{Kind: EventRollCall, ID: id})
	}
	if err != nil {
		d.failErr(w, r, s, err, "The roll call cannot be ended now.")
		return
	}
	http.Redirect(w, r, Prefix+"/rollcall?done=ended", http.StatusSeeOther)
}
