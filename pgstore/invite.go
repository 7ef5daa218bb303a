package pgstore

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"ndikiosk/kiosk"
	"ndikiosk/ndi"
)

// Invitation is an expected visitor: staff made it out to the name as it
// will appear in Singpass (or from an earlier visit, to that person), for
// a host at a site on one day.
type Invitation struct {
	ID        int64
	Site      string
	Day       time.Time // the Singapore date; midnight SGT
	Name      string
	Host      string
	Purpose   string
	Note      string
	FromVisit int64 // Invite: make it out to the person of this earlier visit
	CreatedBy string
	CreatedAt time.Time
	VisitID   int64 // the visit it was used for; 0 while unused
	ByPerson  bool  // it matches a person (made from a visit), not only a name
}

// ErrPastDay is returned for an invitation to a day already over.
var ErrPastDay = errors.New("the day of an invitation is today or later")

// Invite records an invitation and returns its id. With FromVisit the
// person of that visit is matched whatever the name, and Name may be left
// empty to use the visit's.
func (d *DB) Invite(ctx context.Context, in Invitation, at time.Time) (int64, error) {
	var err error
	var personKey []byte
	if in.FromVisit != 0 {
		v, err := d.Visit(ctx, in.FromVisit)
		if err != nil {
			return 0, err
		}
		personKey = v.PersonKey
		if in.Name == "" {
			in.Name = v.Name
		}
		if in.Site == "" {
			in.Site = v.Site
		}
	}
	if in.Site, err = field(in.Site, false); err != nil {
		return 0, err
	}
	if in.Name, err = field(in.Name, true); err != nil {
		return 0, err
	}
	if in.Host, err = field(in.Host, true); err != nil {
		return 0, err
	}
	if in.Purpose, err = field(in.Purpose, false); err != nil {
		return 0, err
	}
	if in.Note, err = field(in.Note, false); err != nil {
		return 0, err
	}
	day := startOfDay(in.Day)
	if day.Before(startOfDay(at)) {
		return 0, ErrPastDay
	}
	ref := "inv-" + ndi.NewNonce()[:24]
	var id int64
	err = d.pool.QueryRow(ctx, `INSERT INTO invitations (ref, site, day, name, name_key, person_key, host, purpose, note, created_at, created_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`,
		ref, in.Site, day.Format(time.DateOnly), d.box.Seal("name", ref, in.Name), d.box.NameKey(in.Name), personKey,
		in.Host, in.Purpose, d.box.Seal("note", ref, in.Note), at, in.CreatedBy).Scan(&id)
	return id, explain(err)
}

// Invitations lists the invitations for a day (its Singapore date) at a
// site ("" for every site), by name.
func (d *DB) Invitations(ctx context.Context, site string, day time.Time) ([]Invitation, error) {
	rows, err := d.pool.Query(ctx, `SELECT id, ref, site, day, name, host, purpose, note, created_by, created_at,
		COALESCE(visit_id, 0), person_key IS NOT NULL FROM invitations WHERE day = $1 AND ($2 = '' OR site = $2) ORDER BY id`,
		startOfDay(day).Format(time.DateOnly), site)
	if err != nil {
		return nil, explain(err)
	}
	defer rows.Close()
	var out []Invitation
	for rows.Next() {
		var (
			in           Invitation
			ref          string
			day          time.Time
			nameCT, note []byte
		)
		if err := rows.Scan(&in.ID, &ref, &in.Site, &day, &nameCT, &in.Host, &in.Purpose, &note, &in.CreatedBy, &in.CreatedAt,
			&in.VisitID, &in.ByPerson); err != nil {
			return nil, explain(err)
		}
		in.Day = time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, ndi.SGT)
		if in.Name, err = d.open("name", ref, nameCT); err != nil {
			return nil, err
		}
		if in.Note, err = d.open("note", ref, note); err != nil {
			return nil, err
		}
		out = append(out, in)
	}
	return out, explain(rows.Err())
}

// CancelInvitation deletes an invitation not yet used.
func (d *DB) CancelInvitation(ctx context.Context, id int64) error {
	tag, err := d.pool.Exec(ctx, `DELETE FROM invitations WHERE id = $1 AND visit_id IS NULL`, id)
	if err == nil && tag.RowsAffected() == 0 {
		return kiosk.ErrNotFound
	}
	return explain(err)
}

// Invited finds an unused invitation at the site for the Singapore date of
// day: one made out to this person first, else one made out to this name.
// It returns kiosk.ErrNotFound when there is none.
func (d *DB) Invited(ctx context.Context, site string, personKey []byte, name string, day time.Time) (kiosk.Invitation, error) {
	var in kiosk.Invitation
	err := d.pool.QueryRow(ctx, `SELECT id, host, purpose FROM invitations
		WHERE day = $1 AND site = $2 AND visit_id IS NULL AND (person_key = $3 OR (person_key IS NULL AND name_key = $4))
		ORDER BY person_key IS NULL, id LIMIT 1`,
		startOfDay(day).Format(time.DateOnly), site, personKey, d.box.NameKey(name)).Scan(&in.ID, &in.Host, &in.Purpose)
	if errors.Is(err, pgx.ErrNoRows) {
		return in, kiosk.ErrNotFound
	}
	return in, explain(err)
}

// Arrived links an invitation to the visit it was used for; it is then
// not matched again.
func (d *DB) Arrived(ctx context.Context, invitationID, visitID int64) error {
	tag, err := d.pool.Exec(ctx, `UPDATE invitations SET visit_id = $1 WHERE id = $2 AND visit_id IS NULL`, visitID, invitationID)
	if err == nil && tag.RowsAffected() == 0 {
		return kiosk.ErrNotFound
	}
	return explain(err)
}

// HostNames are the hosts the kiosks at a site offer: the site's host
// list by name (none: the kiosks keep their configured list).
func (d *DB) HostNames(ctx context.Context, site string) ([]string, error) {
	rows, err := d.pool.Query(ctx, `SELECT name FROM hosts WHERE site = $1 ORDER BY lower(name)`, site)
	if err != nil {
		return nil, explain(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	return out, explain(err)
}

// Alert records a kiosk's "No Singpass?" call for staff (kiosk.Venue).
func (d *DB) Alert(ctx context.Context, kioskID, site string, at time.Time) error {
	_, err := d.RaiseAlert(ctx, kioskID, site, at)
	return err
}

var _ kiosk.Venue = (*DB)(nil)
