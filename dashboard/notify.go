package dashboard

import (
	"errors"
	"net/http"
	"strconv"

	"ndikiosk/kiosk"
	"ndikiosk/notify"
)

// MaxDeadShown is how many dead letters the notifications page lists.
const MaxDeadShown = 200

type countRow struct {
	Channel                      string
	Pending, Sent, Skipped, Dead int
}

type notificationsData struct {
	Counts []countRow
	Dead   []notify.Letter
	More   bool // more dead letters than shown
	CSRF   string
	Admin  bool
}

// notifications shows the outbox by channel and state, and the dead
// letters (no names: the visit id leads to the visit), which an admin
// replays one by one or all at once.
func (d *Dashboard) notifications(w http.ResponseWriter, r *http.Request, s *Session) {
	ctx := r.Context()
	counts, err := notify.Counts(ctx, d.db)
	if err != nil {
		d.failErr(w, r, s, err, "The notifications cannot be read now.")
		return
	}
	v := notificationsData{CSRF: s.CSRF(), Admin: s.Role == Admin}
	for _, ch := range []string{notify.ChannelEmail, notify.ChannelWebhook} {
		c := counts[ch]
		v.Counts = append(v.Counts, countRow{Channel: ch, Pending: c[notify.StatePending], Sent: c[notify.StateSent],
			Skipped: c[notify.StateSkipped], Dead: c[notify.StateDead]})
	}
	if v.Dead, err = notify.DeadLetters(ctx, d.db, MaxDeadShown+1); err != nil {
		d.failErr(w, r, s, err, "The notifications cannot be read now.")
		return
	}
	if len(v.Dead) > MaxDeadShown {
		v.Dead, v.More = v.Dead[:MaxDeadShown], true
	}
	d.render(w, r, s, http.StatusOK, "notifications", "Notifications", v)
}

func (d *Dashboard) replay(w http.ResponseWriter, r *http.Request, s *Session) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		d.fail(w, r, s, http.StatusBadRequest, "No such notification.")
		return
	}
	if err := notify.Replay(r.Context(), d.db, id); errors.Is(err, kiosk.ErrNotFound) {
		d.fail(w, r, s, http.StatusNotFound, "That notification is no longer dead: it was replayed already.")
		return
	} else if err != nil {
		d.failErr(w, r, s, err, "The notification cannot be replayed now.")
		return
	}
	d.o.Log.Info("dashboard: dead letter replayed", "operator", s.Name, "row", id)
	http.Redirect(w, r, Prefix+"/notifications?done=replayed", http.StatusSeeOther)
}

func (d *Dashboard) replayAll(w http.ResponseWriter, r *http.Request, s *Session) {
	n, err := notify.ReplayAll(r.Context(), d.db)
	if err != nil {
		d.failErr(w, r, s, err, "The notifications cannot be replayed now.")
		return
	}
	d.o.Log.Info("dashboard: dead letters replayed", "operator", s.Name, "rows", n)
	http.Redirect(w, r, Prefix+"/notifications?done=replayed-all", http.StatusSeeOther)
}
