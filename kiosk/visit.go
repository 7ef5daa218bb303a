package kiosk

import (
	"context"
	"errors"
	"fmt"
	"ndikiosk/ndi"
	"time"
)

// Visit is one row of the visit log: what the purpose needs and no more.
// The full UIN/FIN, the date of birth, codes and tokens are never in it.
type Visit struct {
	ID           int64
	KioskID      string
	Site         string    // the kiosk's venue (a hub's fleet); "" on a standalone kiosk
	Mode         string    // ModeAge or ModeVisitor
	TxnRef       string    // the QR's state: Singpass's transaction reference, never the code
	Attributes   []string  // what was requested from Singpass
	StartedAt    time.Time // the callback arrived
	DecidedAt    time.Time
	CheckedOutAt time.Time // zero while checked in (visitor mode)
	Outcome      Outcome
	Reason       string // a short reason code for refusals and errors
	MaskedID     string // *****567A
	Name         string // visitor mode only
	Host         string
	Purpose      string
	FaceResult   string  // reserved for the Face check
	FaceScore    float64 // reserved for the Face check
	PersonKey    []byte  // keyed hash of the UIN/FIN: recognises a returning person, reveals nothing
	Sandbox      bool    // recorded against the built-in sandbox, not Singpass: a test, not a real person
	// Document is the signed agreement (PDF), verified, given to Save to
	// keep with the visit in the same transaction; reading visits never
	// fills it (see DocumentStore).
	Document []byte
}

// VisitFilter selects visits for the admin list and export.
type VisitFilter struct {
	From, To time.Time // [From, To); zero means open
	Name     string    // case-insensitive substring of the visitor's name
	Host     string    // case-insensitive substring of the host
	Limit    int       // 0: no limit
	Offset   int
}

// VisitStore keeps the visit log. storage.DB implements it with SQLite.
type VisitStore interface {
	// PersonKey is the keyed hash that stands for a UIN/FIN.
	PersonKey(uinfin string) []byte
	// Save writes a visit in one transaction and returns its id.
	Save(ctx context.Context, v Visit) (int64, error)
	// OpenVisit finds the person's latest visit that is not checked out, or
	// returns ErrNotFound.
	OpenVisit(ctx context.Context, personKey []byte, since time.Time) (Visit, error)
	// CheckOut marks a visit as ended.
	CheckOut(ctx context.Context, id int64, at time.Time) error
	// Denied reports whether the person is on the deny list.
	Denied(ctx context.Context, personKey []byte) (bool, error)
	// Visits lists visits, newest first.
	Visits(ctx context.Context, f VisitFilter) ([]Visit, error)
	// Purge deletes visits that started before cutoff and returns how many.
	Purge(ctx context.Context, cutoff time.Time) (int64, error)
}

// ErrNotFound is returned when no visit matches.
var ErrNotFound = errors.New("not found")

// StoreError is a visit log failure the kiosk explains: Reason for the
// screen ("the disk is full"), Action for the operator's log.
type StoreError struct {
	Reason string
	Action string
}

func (e *StoreError) Error() string {
	return "the visit log cannot be written: " + e.Reason + "; " + e.Action
}

// SGT is Singapore time, in which the kiosk shows and exports times.
var SGT = ndi.SGT

// Days is the filter for whole Singapore days from and to (YYYY-MM-DD, both
// included); an empty one leaves that end open.
func Days(from, to string) (VisitFilter, error) {
	var f VisitFilter
	for _, d := range []struct {
		s   string
		dst *time.Time
		add int
	}{{from, &f.From, 0}, {to, &f.To, 1}} {
		if d.s == "" {
			continue
		}
		t, err := time.ParseInLocation("2006-01-02", d.s, ndi.SGT)
		if err != nil {
			return f, fmt.Errorf("%q is not a date like 2026-11-22", d.s)
		}
		*d.dst = t.AddDate(0, 0, d.add)
	}
	return f, nil
}

// Invitation is what the engine needs of an expected visitor's invitation:
// whom they see and why, so that they are checked in without choosing.
type Invitation struct {
	ID      int64
	Host    string
	Purpose string
}

// Venue is what a hub knows of the venue besides the visit log: the host
// list staff keep, invitations, and the staff to call. A standalone kiosk
// has none (Deps.Venue nil). pgstore.DB implements it.
type Venue interface {
	// HostNames are the hosts offered at the site; none: the kiosk's
	// configured list.
	HostNames(ctx context.Context, site string) ([]string, error)
	// Invited finds an unused invitation at the site for the person (by
	// keyed hash) or their name on day's date, or returns ErrNotFound.
	Invited(ctx context.Context, site string, personKey []byte, name string, day time.Time) (Invitation, error)
	// Arrived marks the invitation used by the visit.
	Arrived(ctx context.Context, invitationID, visitID int64) error
	// Alert calls staff to the kiosk: a visitor without Singpass.
	Alert(ctx context.Context, kioskID, site string, at time.Time) error
}
