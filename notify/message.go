// Package notify tells a host that their visitor has arrived: by email
// over SMTP and by a signed webhook, from an outbox in the hub's
// PostgreSQL.
//
// A trigger on visits (migration 004_notify) writes one outbox row a
// channel when a visitor checks in with Singpass or staff register a
// walk-in, in the visit's own transaction, with the visit's id and no
// name. A Worker on each hub replica claims due rows with FOR UPDATE SKIP
// LOCKED and a lease, commits, sends, and records the result: delivery is
// at least once, and a replica killed mid-send leaves its rows to another
// replica (or to itself after a restart) once the lease ends. Failures are
// retried with exponential backoff and jitter; after MaxAttempts, or at
// once for a failure no retry can mend (a 4xx from the webhook, a mailbox
// the mail server refuses, a header that would inject), the row is dead:
// DeadLetters lists those and Replay sends them again.
//
// The message carries the visitor's name, the site, the kiosk and the
// time in Singapore, and says so when the visitor is a walk-in not
// verified with Singpass. It never carries the identity number, the masked
// id or the mobile number. Errors recorded in the outbox never carry a
// password, a secret or a name.
package notify

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"ndikiosk/kiosk"
	"ndikiosk/ndi"
)

// Message is what a host is told.
type Message struct {
	Delivery int64     // the outbox row: the same for every retry of one notification
	VisitID  int64     // the visit
	Site     string    // the venue
	Kiosk    string    // the kiosk's id; "" for a walk-in registered by staff
	Host     string    // whom the visitor came to see
	Name     string    // the visitor's name as Singpass gave it, or as staff typed it
	WalkIn   bool      // registered by staff, not verified with Singpass
	Sandbox  bool      // recorded against the built-in Singpass sandbox: a test, not a real person
	At       time.Time // when the visitor checked in
}

// messageFor is the message for a visit.
func messageFor(delivery int64, v kiosk.Visit) Message {
	return Message{Delivery: delivery, VisitID: v.ID, Site: v.Site, Kiosk: v.KioskID, Host: v.Host, Name: v.Name,
		WalkIn: v.Outcome == kiosk.OutcomeWalkIn, Sandbox: v.Sandbox, At: v.DecidedAt}
}

// ErrHeader is a value that would break out of its mail header.
var ErrHeader = errors.New("a line break or control character in a mail header value (refused: header injection)")

// headerSafe refuses CR, LF and other control characters.
func headerSafe(values ...string) error {
	for _, s := range values {
		if strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '\u2028' || r == '\u2029' }) {
			return ErrHeader
		}
	}
	return nil
}

// sgt formats a time in Singapore, e.g. "Thu 3 Dec 2026, 14:02 (Singapore time)".
func sgt(t time.Time) string {
	return t.In(ndi.SGT).Format("Mon 2 Jan 2006, 15:04") + " (Singapore time)"
}

// subject is the email's subject, before encoding.
func (m Message) subject() string {
	s := "Your visitor has arrived: " + m.Name
	if m.WalkIn {
		s += " (walk-in)"
	}
	if m.Sandbox {
		s = "[Sandbox test] " + s
	}
	return s
}

// text is the email's body.
func (m Message) text() string {
	var b strings.Builder
	who := m.Name
	if m.WalkIn {
		who += ", a walk-in (not verified with Singpass),"
	}
	fmt.Fprintf(&b, "Dear %s,\r\n\r\n%s has arrived to see you.\r\n\r\n", m.Host, who)
	fmt.Fprintf(&b, "Site:  %s\r\n", orDash(m.Site))
	if m.Kiosk == "" {
		b.WriteString("Kiosk: none (registered by staff)\r\n")
	} else {
		fmt.Fprintf(&b, "Kiosk: %s\r\n", m.Kiosk)
	}
	fmt.Fprintf(&b, "Time:  %s\r\n", sgt(m.At))
	if m.WalkIn {
		b.WriteString("\r\nThis visitor was registered by staff and has not been verified with Singpass.\r\n")
	}
	if m.Sandbox {
		b.WriteString("\r\nThis is a test through the Singpass sandbox, not a real Singpass check.\r\n")
	}
	b.WriteString("\r\n-- \r\nSent by the venue's ndikiosk hub. Please do not reply.\r\n")
	return b.String()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
