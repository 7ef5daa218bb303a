package pgstore

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"ndikiosk/kiosk"
	"ndikiosk/ndi"
)

// EventsChannel is the PostgreSQL channel on which the hub announces what
// a dashboard shows live: every new or changed visit (a trigger, 003_venue),
// and alerts. Payloads are Event as JSON and carry ids, never a name.
const EventsChannel = "ndikiosk_events"

// Event kinds.
const (
	EventVisit = "visit" // a visit was written or changed (check-in, check-out, walk-in)
	EventAlert = "alert" // "No Singpass?" on a kiosk, or an alert handled
)

// Event is one announcement on EventsChannel.
type Event struct {
	Kind  string `json:"kind"`
	ID    int64  `json:"id"`
	Site  string `json:"site,omitempty"`
	Kiosk string `json:"kiosk,omitempty"`
}

// Publish announces e on EventsChannel to every replica.
func (d *DB) Publish(ctx context.Context, e Event) error {
	b, _ := json.Marshal(e)
	_, err := d.pool.Exec(ctx, `SELECT pg_notify($1, $2)`, EventsChannel, string(b))
	return explain(err)
}

// MaxField is the longest site, host name, purpose or note staff may type,
// in characters, as on the kiosk.
const MaxField = kiosk.MaxChoice

// ErrField is returned for a name or host that is empty, or any field
// too long, after cleaning. The site may be empty: a hub whose kiosks name
// no venue has one site, "".
var ErrField = fmt.Errorf("a name and a host are needed; each field is at most %d characters", MaxField)

// field cleans typed text as the kiosk does and checks its length.
func field(s string, required bool) (string, error) {
	s = kiosk.CleanText(s)
	if required && s == "" || utf8.RuneCountInString(s) > MaxField {
		return "", ErrField
	}
	return s, nil
}

// Host is one person a visitor may see at a site.
type Host struct {
	ID    int64
	Site  string
	Name  string
	Email string // where they are told of their visitor; "" for no email
}

// MaxEmail is the longest host email, in bytes: what fits in an SMTP path
// (RFC 5321: 256 octets with its angle brackets, less two).
const MaxEmail = 254

// ErrEmail is returned for a host email that is not one address.
var ErrEmail = errors.New("the email is not one address (name@example.com)")

func cleanHost(h Host) (Host, error) {
	var err error
	if h.Site, err = field(h.Site, false); err != nil {
		return h, err
	}
	if h.Name, err = field(h.Name, true); err != nil {
		return h, err
	}
	h.Email = strings.TrimSpace(h.Email)
	if h.Email != "" {
		a, err := mail.ParseAddress(h.Email)
		if err != nil || a.Address != h.Email || strings.ContainsAny(h.Email, "\r\n") || len(h.Email) > MaxEmail {
			return h, ErrEmail
		}
	}
	return h, nil
}

// SaveHost adds a host, or changes the email of the host of that name at
// that site, and returns its id.
func (d *DB) SaveHost(ctx context.Context, h Host, at time.Time) (int64, error) {
	h, err := cleanHost(h)
	if err != nil {
		return 0, err
	}
	var id int64
	err = d.pool.QueryRow(ctx, `INSERT INTO hosts (site, name, email, created_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (site, lower(name)) DO UPDATE SET email = excluded.email RETURNING id`, h.Site, h.Name, h.Email, at).Scan(&id)
	return id, explain(err)
}

// RemoveHost deletes a host by id.
func (d *DB) RemoveHost(ctx context.Context, id int64) error {
	tag, err := d.pool.Exec(ctx, `DELETE FROM hosts WHERE id = $1`, id)
	if err == nil && tag.RowsAffected() == 0 {
		return kiosk.ErrNotFound
	}
	return explain(err)
}

// Hosts lists the hosts of a site by name; site "" lists every site's.
func (d *DB) Hosts(ctx context.Context, site string) ([]Host, error) {
	rows, err := d.pool.Query(ctx, `SELECT id, site, name, email FROM hosts WHERE $1 = '' OR site = $1 ORDER BY site, lower(name)`, site)
	if err != nil {
		return nil, explain(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Host, error) {
		var h Host
		return h, r.Scan(&h.ID, &h.Site, &h.Name, &h.Email)
	})
	return out, explain(err)
}

// HostEmail is the email of the host of that name at the site ("" when
// there is none or the host has none).
func (d *DB) HostEmail(ctx context.Context, site, name string) (string, error) {
	var email string
	err := d.pool.QueryRow(ctx, `SELECT email FROM hosts WHERE site = $1 AND lower(name) = lower($2)`, site, name).Scan(&email)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	return email, explain(err)
}

// MaxHostsCSV is the most rows ImportHosts takes.
const MaxHostsCSV = 5000

// ImportHosts reads a CSV of site,name,email (a header row naming them is
// skipped) and saves every row in one transaction: either all are taken
// or, on the first bad row, none, with the row's number in the error.
func (d *DB) ImportHosts(ctx context.Context, r io.Reader, at time.Time) (int, error) {
	cr := csv.NewReader(io.LimitReader(r, 2<<20))
	cr.FieldsPerRecord = -1
	var hosts []Host
	for line := 1; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 0, fmt.Errorf("hosts CSV line %d: %w", line, err)
		}
		if line == 1 && len(rec) > 0 && strings.EqualFold(strings.TrimSpace(rec[0]), "site") {
			continue
		}
		if len(rec) < 2 || len(rec) > 3 {
			return 0, fmt.Errorf("hosts CSV line %d: want site,name,email", line)
		}
		h := Host{Site: rec[0], Name: rec[1]}
		if len(rec) == 3 {
			h.Email = rec[2]
		}
		if h, err = cleanHost(h); err != nil {
			return 0, fmt.Errorf("hosts CSV line %d: %w", line, err)
		}
		if hosts = append(hosts, h); len(hosts) > MaxHostsCSV {
			return 0, fmt.Errorf("hosts CSV: more than %d rows", MaxHostsCSV)
		}
	}
	tx, err := d.pool.Begin(ctx)
	if err != nil {
		return 0, explain(err)
	}
	defer tx.Rollback(ctx)
	for _, h := range hosts {
		if _, err := tx.Exec(ctx, `INSERT INTO hosts (site, name, email, created_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (site, lower(name)) DO UPDATE SET email = excluded.email`, h.Site, h.Name, h.Email, at); err != nil {
			return 0, explain(err)
		}
	}
	return len(hosts), explain(tx.Commit(ctx))
}

// Alert is a kiosk's call for staff: a visitor without Singpass.
type Alert struct {
	ID        int64
	KioskID   string
	Site      string
	RaisedAt  time.Time
	HandledAt time.Time // zero while open
	HandledBy string
}

// RaiseAlert records a kiosk's call for staff and announces it. A kiosk
// that already has an open alert from the last minute gets that one back:
// a visitor tapping twice calls staff once.
func (d *DB) RaiseAlert(ctx context.Context, kioskID, site string, at time.Time) (int64, error) {
	tx, err := d.pool.Begin(ctx)
	if err != nil {
		return 0, explain(err)
	}
	defer tx.Rollback(ctx)
	// Two taps at once, even on two replicas, are one call: the kiosk's
	// alerts are raised one at a time.
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('ndikiosk alert ' || $1))`, kioskID); err != nil {
		return 0, explain(err)
	}
	var id int64
	err = tx.QueryRow(ctx, `SELECT id FROM alerts WHERE kiosk_id = $1 AND handled_at IS NULL AND raised_at > $2
		ORDER BY id DESC LIMIT 1`, kioskID, at.Add(-time.Minute)).Scan(&id)
	if err == nil {
		return id, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return 0, explain(err)
	}
	if err := tx.QueryRow(ctx, `INSERT INTO alerts (kiosk_id, site, raised_at) VALUES ($1, $2, $3) RETURNING id`,
		kioskID, site, at).Scan(&id); err != nil {
		return 0, explain(err)
	}
	b, _ := json.Marshal(Event{Kind: EventAlert, ID: id, Site: site, Kiosk: kioskID})
	if _, err := tx.Exec(ctx, `SELECT pg_notify($1, $2)`, EventsChannel, string(b)); err != nil {
		return 0, explain(err)
	}
	return id, explain(tx.Commit(ctx))
}

// OpenAlerts lists the alerts no one has handled yet, oldest first.
func (d *DB) OpenAlerts(ctx context.Context) ([]Alert, error) {
	rows, err := d.pool.Query(ctx, `SELECT id, kiosk_id, site, raised_at FROM alerts WHERE handled_at IS NULL ORDER BY raised_at, id`)
	if err != nil {
		return nil, explain(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Alert, error) {
		var a Alert
		return a, r.Scan(&a.ID, &a.KioskID, &a.Site, &a.RaisedAt)
	})
	return out, explain(err)
}

// HandleAlert marks an alert handled by the named operator.
func (d *DB) HandleAlert(ctx context.Context, id int64, by string, at time.Time) error {
	var a Alert
	err := d.pool.QueryRow(ctx, `UPDATE alerts SET handled_at = $1, handled_by = $2 WHERE id = $3 AND handled_at IS NULL
		RETURNING kiosk_id, site`, at, by, id).Scan(&a.KioskID, &a.Site)
	if errors.Is(err, pgx.ErrNoRows) {
		return kiosk.ErrNotFound
	}
	if err != nil {
		return explain(err)
	}
	return d.Publish(ctx, Event{Kind: EventAlert, ID: id, Site: a.Site, Kiosk: a.KioskID})
}

// WalkIn registers a visitor without Singpass, typed in by staff: a visit
// with outcome walk-in, not verified, checked in at the site now. It
// returns the visit's id. The name is sealed like any visitor's.
func (d *DB) WalkIn(ctx context.Context, site, name, host, purpose string, at time.Time) (int64, error) {
	var err error
	if site, err = field(site, false); err != nil {
		return 0, err
	}
	if name, err = field(name, true); err != nil {
		return 0, err
	}
	if host, err = field(host, true); err != nil {
		return 0, err
	}
	if purpose, err = field(purpose, false); err != nil {
		return 0, err
	}
	return d.Save(ctx, kiosk.Visit{KioskID: "", Site: site, Mode: kiosk.ModeVisitor, TxnRef: "walk-in-" + ndi.NewNonce()[:24],
		StartedAt: at, DecidedAt: at, Outcome: kiosk.OutcomeWalkIn, Name: name, Host: host, Purpose: purpose})
}

// OnSite lists who is on site now: today's (Singapore date of at) visits
// checked in with Singpass or registered as walk-ins and not checked out,
// at the site ("" for every site), oldest first.
func (d *DB) OnSite(ctx context.Context, site string, at time.Time) ([]kiosk.Visit, error) {
	rows, err := d.pool.Query(ctx, `SELECT `+columns+` FROM visits WHERE checked_out_at IS NULL AND outcome IN ($1, $2)
		AND started_at >= $3 AND ($4 = '' OR site = $4) ORDER BY started_at, id`,
		string(kiosk.OutcomeCheckedIn), string(kiosk.OutcomeWalkIn), startOfDay(at), site)
	if err != nil {
		return nil, explain(err)
	}
	defer rows.Close()
	var out []kiosk.Visit
	for rows.Next() {
		v, err := d.scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, explain(rows.Err())
}

// Sites are the sites visits, hosts and invitations name, sorted ("" is
// the site of kiosks with no venue name).
func (d *DB) Sites(ctx context.Context) ([]string, error) {
	rows, err := d.pool.Query(ctx, `SELECT site FROM hosts UNION SELECT site FROM visits WHERE checked_out_at IS NULL
		UNION SELECT site FROM invitations ORDER BY 1`)
	if err != nil {
		return nil, explain(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	return out, explain(err)
}

// startOfDay is midnight in Singapore on t's Singapore date.
func startOfDay(t time.Time) time.Time {
	y, m, dd := t.In(ndi.SGT).Date()
	return time.Date(y, m, dd, 0, 0, 0, 0, ndi.SGT)
}
