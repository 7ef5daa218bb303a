package dashboard

import (
	"bufio"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"ndikiosk/kiosk"
	"ndikiosk/ndi"
	"ndikiosk/pgstore"
	"ndikiosk/storage"
)

// MaxUpload is the largest hosts CSV the dashboard takes, in bytes (about
// 10 000 rows; pgstore.MaxHostsCSV caps the rows).
const MaxUpload = 1 << 20

// userError reports whether err is the operator's (a field, a line of a
// CSV, a day) rather than the database's: the page then says it as it is.
func userError(err error) bool {
	for _, e := range []error{pgstore.ErrField, pgstore.ErrEmail, pgstore.ErrPastDay, kiosk.ErrNotFound} {
		if errors.Is(err, e) {
			return true
		}
	}
	return strings.HasPrefix(err.Error(), "hosts CSV")
}

type hostsData struct {
	Site                 string
	Sites                []string
	Hosts                []pgstore.Host
	Name, Email, NewSite string // the add form, kept after a refusal
	Error, CSRF          string
	Admin                bool
}

func (d *Dashboard) hosts(w http.ResponseWriter, r *http.Request, s *Session) {
	site := r.URL.Query().Get("site")
	d.showHosts(w, r, s, http.StatusOK, hostsData{Site: site, NewSite: site})
}

func (d *Dashboard) showHosts(w http.ResponseWriter, r *http.Request, s *Session, status int, v hostsData) {
	v.CSRF, v.Admin = s.CSRF(), s.Role == Admin
	var err error
	if v.Sites, err = d.db.Sites(r.Context()); err == nil {
		v.Hosts, err = d.db.Hosts(r.Context(), v.Site)
	}
	if err != nil {
		d.failErr(w, r, s, err, "The host list cannot be read now.")
		return
	}
	d.render(w, r, s, status, "hosts", "Hosts", v)
}

// saveHost adds a host or changes the email of the host of that name at
// that site.
func (d *Dashboard) saveHost(w http.ResponseWriter, r *http.Request, s *Session) {
	f := r.PostForm
	h := pgstore.Host{Site: f.Get("site"), Name: f.Get("name"), Email: f.Get("email")}
	id, err := d.db.SaveHost(r.Context(), h, d.o.Now())
	if err != nil {
		if !userError(err) {
			d.failErr(w, r, s, err, "The host list cannot be changed now; nothing was saved.")
			return
		}
		d.showHosts(w, r, s, http.StatusBadRequest, hostsData{Site: h.Site, NewSite: h.Site, Name: h.Name, Email: h.Email, Error: err.Error()})
		return
	}
	d.o.Log.Info("dashboard: host saved", "operator", s.Name, "host", id)
	http.Redirect(w, r, Prefix+"/hosts?done=host-saved&site="+urlQuery(h.Site), http.StatusSeeOther)
}

func (d *Dashboard) removeHost(w http.ResponseWriter, r *http.Request, s *Session) {
	id, ok := formID(r, "id")
	if !ok {
		d.fail(w, r, s, http.StatusBadRequest, "Choose a host.")
		return
	}
	if err := d.db.RemoveHost(r.Context(), id); errors.Is(err, kiosk.ErrNotFound) {
		d.fail(w, r, s, http.StatusNotFound, "That host is no longer on the list.")
		return
	} else if err != nil {
		d.failErr(w, r, s, err, "The host list cannot be changed now.")
		return
	}
	d.o.Log.Info("dashboard: host removed", "operator", s.Name, "host", id)
	http.Redirect(w, r, Prefix+"/hosts?done=host-removed&site="+urlQuery(r.PostForm.Get("site")), http.StatusSeeOther)
}

// importHosts takes a CSV of site,name,email: every row or, on the first
// bad one, none, with the line named.
func (d *Dashboard) importHosts(w http.ResponseWriter, r *http.Request, s *Session) {
	if r.MultipartForm == nil || len(r.MultipartForm.File["file"]) != 1 {
		d.showHosts(w, r, s, http.StatusBadRequest, hostsData{Error: "Choose one CSV file to upload."})
		return
	}
	f, err := r.MultipartForm.File["file"][0].Open()
	if err != nil {
		d.showHosts(w, r, s, http.StatusBadRequest, hostsData{Error: "The file could not be read; nothing was imported."})
		return
	}
	defer f.Close()
	n, err := d.db.ImportHosts(r.Context(), f, d.o.Now())
	if err != nil {
		if !userError(err) {
			d.failErr(w, r, s, err, "The host list cannot be changed now; nothing was imported.")
			return
		}
		d.showHosts(w, r, s, http.StatusBadRequest, hostsData{Error: err.Error() + ". Nothing was imported: correct the file and upload it again."})
		return
	}
	d.o.Log.Info("dashboard: hosts imported", "operator", s.Name, "rows", n)
	http.Redirect(w, r, Prefix+"/hosts?done=hosts-imported", http.StatusSeeOther)
}

// hostsCSV downloads the host list (of one site, or all) as the import
// takes it, cells made safe for a spreadsheet as the visit export's are.
func (d *Dashboard) hostsCSV(w http.ResponseWriter, r *http.Request, s *Session) {
	hosts, err := d.db.Hosts(r.Context(), r.URL.Query().Get("site"))
	if err != nil {
		d.failErr(w, r, s, err, "The host list cannot be read now.")
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="hosts.csv"`)
	bw := bufio.NewWriter(w)
	storage.WriteCSVRecord(bw, []string{"site", "name", "email"})
	for _, h := range hosts {
		if err := storage.WriteCSVRecord(bw, []string{h.Site, h.Name, h.Email}); err != nil {
			return
		}
	}
	bw.Flush()
	d.o.Log.Info("dashboard: hosts downloaded", "operator", s.Name, "rows", len(hosts))
}

// MaxAhead is how far ahead an invitation may be made.
const MaxAhead = 366 * 24 * time.Hour

type invitationsData struct {
	Site, Day, Today string
	Sites            []string
	List             []pgstore.Invitation
	// The new invitation form.
	Form      pgstore.Invitation
	FormDay   string
	HostNames []string // the form's site's host list: a select when there is one
	From      *row     // invite again: the earlier visit
	Error     string
	CSRF      string
	Admin     bool
}

func day(t time.Time) string { return t.In(ndi.SGT).Format(time.DateOnly) }

// parseDay reads a Singapore date written 2026-12-31.
func parseDay(s string) (time.Time, error) {
	t, err := time.ParseInLocation(time.DateOnly, s, ndi.SGT)
	if err != nil || len(s) != len(time.DateOnly) {
		return time.Time{}, errors.New("the day is written 2026-12-31")
	}
	return t, nil
}

// invitations lists a day's invitations (today's by default) at a site
// (every site by default) and offers the new invitation form; ?from=ID
// fills it in to invite the person of that visit again.
func (d *Dashboard) invitations(w http.ResponseWriter, r *http.Request, s *Session) {
	q := r.URL.Query()
	v := invitationsData{Site: q.Get("site"), Day: q.Get("day")}
	v.Form.Site = v.Site
	if from := q.Get("from"); from != "" {
		id, err := strconv.ParseInt(from, 10, 64)
		var visit kiosk.Visit
		if err == nil {
			visit, err = d.db.Visit(r.Context(), id)
		}
		var se *kiosk.StoreError
		if errors.As(err, &se) {
			d.failErr(w, r, s, err, "The visit log cannot be read now.")
			return
		} else if err != nil {
			d.fail(w, r, s, http.StatusNotFound, "No such visit.")
			return
		}
		fr := rowOf(visit)
		v.From = &fr
		v.Form = pgstore.Invitation{Site: visit.Site, Name: visit.Name, Host: visit.Host, Purpose: visit.Purpose, FromVisit: id}
		v.Site = visit.Site
	}
	d.showInvitations(w, r, s, http.StatusOK, v)
}

func (d *Dashboard) showInvitations(w http.ResponseWriter, r *http.Request, s *Session, status int, v invitationsData) {
	ctx := r.Context()
	v.CSRF, v.Admin, v.Today = s.CSRF(), s.Role == Admin, day(d.o.Now())
	if v.Day == "" {
		v.Day = v.Today
	}
	if v.FormDay == "" {
		v.FormDay = v.Today
	}
	t, err := parseDay(v.Day)
	if err != nil {
		d.fail(w, r, s, http.StatusBadRequest, "The day is written 2026-12-31.")
		return
	}
	if v.Sites, err = d.db.Sites(ctx); err == nil {
		if v.List, err = d.db.Invitations(ctx, v.Site, t); err == nil {
			v.HostNames, err = d.db.HostNames(ctx, v.Form.Site)
		}
	}
	if err != nil {
		d.failErr(w, r, s, err, "The invitations cannot be read now.")
		return
	}
	d.render(w, r, s, status, "invitations", "Invitations", v)
}

// invite makes an invitation from the form: to a name, or with from=ID to
// the person of that earlier visit whatever name they come under.
func (d *Dashboard) invite(w http.ResponseWriter, r *http.Request, s *Session) {
	f := r.PostForm
	in := pgstore.Invitation{Site: f.Get("site"), Name: f.Get("name"), Host: f.Get("host"), Purpose: f.Get("purpose"),
		Note: f.Get("note"), CreatedBy: s.Name}
	v := invitationsData{Site: in.Site, Form: in, FormDay: f.Get("day")}
	refuse := func(msg string) {
		v.Error = msg
		d.showInvitations(w, r, s, http.StatusBadRequest, v)
	}
	if from := f.Get("from"); from != "" {
		id, ok := formID(r, "from")
		if !ok {
			refuse("Choose a visit to invite again.")
			return
		}
		in.FromVisit, v.Form.FromVisit = id, id
		if visit, err := d.db.Visit(r.Context(), id); err == nil {
			fr := rowOf(visit)
			v.From = &fr
			if strings.TrimSpace(in.Site) == "" {
				in.Site = visit.Site // as Invite does: the host is checked against that site's list
			}
		}
	}
	now := d.o.Now()
	t, err := parseDay(v.FormDay)
	switch {
	case err != nil:
		refuse("The day is written 2026-12-31.")
		return
	case t.After(now.Add(MaxAhead)):
		refuse("An invitation is for a day within a year.")
		return
	}
	in.Day = t
	if ok, err := d.hostAllowed(r, in.Site, in.Host); err != nil {
		d.failErr(w, r, s, err, "The host list cannot be read now; nothing was saved.")
		return
	} else if !ok {
		refuse("Choose a host from the site's host list.")
		return
	}
	id, err := d.db.Invite(r.Context(), in, now)
	if err != nil {
		if !userError(err) {
			d.failErr(w, r, s, err, "The invitation cannot be saved now; nothing was saved.")
			return
		}
		if errors.Is(err, kiosk.ErrNotFound) {
			err = errors.New("that visit is no longer in the log")
		}
		refuse(err.Error())
		return
	}
	d.o.Log.Info("dashboard: invitation made", "operator", s.Name, "invitation", id, "from_visit", in.FromVisit)
	http.Redirect(w, r, Prefix+"/invitations?done=invited&day="+day(t)+"&site="+urlQuery(in.Site), http.StatusSeeOther)
}

// hostAllowed: at a site with a host list, the host is one of it (the
// kiosks offer only those); elsewhere any name does.
func (d *Dashboard) hostAllowed(r *http.Request, site, host string) (bool, error) {
	names, err := d.db.HostNames(r.Context(), kiosk.CleanText(site))
	if err != nil || len(names) == 0 {
		return err == nil, err
	}
	host = kiosk.CleanText(host)
	return slices.ContainsFunc(names, func(n string) bool { return strings.EqualFold(n, host) }), nil
}

func (d *Dashboard) cancelInvitation(w http.ResponseWriter, r *http.Request, s *Session) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		d.fail(w, r, s, http.StatusBadRequest, "No such invitation.")
		return
	}
	if err := d.db.CancelInvitation(r.Context(), id); errors.Is(err, kiosk.ErrNotFound) {
		d.fail(w, r, s, http.StatusNotFound, "That invitation was used or cancelled already.")
		return
	} else if err != nil {
		d.failErr(w, r, s, err, "The invitation cannot be changed now.")
		return
	}
	d.o.Log.Info("dashboard: invitation cancelled", "operator", s.Name, "invitation", id)
	back := Prefix + "/invitations?done=cancelled"
	if dd, err := parseDay(r.PostForm.Get("day")); err == nil {
		back += "&day=" + day(dd)
	}
	http.Redirect(w, r, back+"&site="+urlQuery(r.PostForm.Get("site")), http.StatusSeeOther)
}

func urlQuery(s string) string { return url.QueryEscape(s) }
