package notify

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"ndikiosk/kiosk"
	"ndikiosk/pgstore"
)

// Channels.
const (
	ChannelEmail   = "email"
	ChannelWebhook = "webhook"
)

// States of an outbox row.
const (
	StatePending = "pending"
	StateSent    = "sent"
	StateSkipped = "skipped"
	StateDead    = "dead"
)

// wakeChannel is the PostgreSQL channel on which new rows and replays wake
// the workers.
const wakeChannel = "ndikiosk_notify"

// row is a claimed outbox row.
type row struct {
	id, visitID int64
	channel     string
	attempts    int
}

// claim takes up to n due rows for lease, counting the attempt, and
// commits at once: nothing is held while sending.
func claim(ctx context.Context, db *pgstore.DB, by string, n int, lease time.Duration) ([]row, error) {
	rows, err := db.Pool().Query(ctx, `UPDATE notify_outbox o SET locked_until = now() + $1::interval, locked_by = $2, attempts = o.attempts + 1
		FROM (SELECT id FROM notify_outbox WHERE state = 'pending' AND due_at <= now() AND (locked_until IS NULL OR locked_until < now())
		      ORDER BY due_at, id LIMIT $3 FOR UPDATE SKIP LOCKED) due
		WHERE o.id = due.id RETURNING o.id, o.visit_id, o.channel, o.attempts`, lease, by, n)
	if err != nil {
		return nil, fmt.Errorf("notify: claim: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
		var x row
		return x, r.Scan(&x.id, &x.visitID, &x.channel, &x.attempts)
	})
	if err != nil {
		return nil, fmt.Errorf("notify: claim: %w", err)
	}
	return out, nil
}

// release frees the rows a worker of this id held when it stopped (a
// restart after a crash need not wait for its own leases).
func release(ctx context.Context, db *pgstore.DB, by string) error {
	_, err := db.Pool().Exec(ctx, `UPDATE notify_outbox SET locked_until = NULL WHERE state = 'pending' AND locked_by = $1`, by)
	return err
}

// finish records a row's end: sent, skipped or dead. A row already
// finished (by another worker whose lease overlapped) is left as it is.
func finish(ctx context.Context, db *pgstore.DB, id int64, state, why string) error {
	_, err := db.Pool().Exec(ctx, `UPDATE notify_outbox SET state = $2, last_error = $3, done_at = now(), locked_until = NULL
		WHERE id = $1 AND state = 'pending'`, id, state, why)
	return err
}

// errNotTried marks a claimed row handed back unsent.
var errNotTried = errors.New("not tried: the batch ran out of lease")

// unclaim hands a row back untried: due now, its attempt not counted.
func unclaim(ctx context.Context, db *pgstore.DB, id int64) error {
	_, err := db.Pool().Exec(ctx, `UPDATE notify_outbox SET locked_until = NULL, attempts = attempts - 1 WHERE id = $1 AND state = 'pending'`, id)
	return err
}

// retry puts a row back for a later attempt.
func retry(ctx context.Context, db *pgstore.DB, id int64, after time.Duration, why string) error {
	_, err := db.Pool().Exec(ctx, `UPDATE notify_outbox SET due_at = now() + $2::interval, last_error = $3, locked_until = NULL
		WHERE id = $1 AND state = 'pending'`, id, after, why)
	return err
}

// Letter is a dead letter: a notification that failed for good.
type Letter struct {
	ID        int64 // the outbox row, for Replay
	VisitID   int64
	Channel   string
	Site      string
	Kiosk     string
	Host      string
	Attempts  int
	LastError string
	CreatedAt time.Time
	DiedAt    time.Time
}

// DeadLetters lists the dead letters, the most recent first, at most
// limit (0: all). Names are not in it: the visit id leads to the visit.
func DeadLetters(ctx context.Context, db *pgstore.DB, limit int) ([]Letter, error) {
	if limit <= 0 {
		limit = 1 << 30
	}
	rows, err := db.Pool().Query(ctx, `SELECT o.id, o.visit_id, o.channel, v.site, v.kiosk_id, v.host, o.attempts, o.last_error,
		o.created_at, COALESCE(o.done_at, o.created_at)
		FROM notify_outbox o JOIN visits v ON v.id = o.visit_id WHERE o.state = 'dead' ORDER BY o.done_at DESC, o.id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("notify: dead letters: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Letter, error) {
		var l Letter
		return l, r.Scan(&l.ID, &l.VisitID, &l.Channel, &l.Site, &l.Kiosk, &l.Host, &l.Attempts, &l.LastError, &l.CreatedAt, &l.DiedAt)
	})
}

// Replay sends a dead letter again from its first attempt. A row that is
// not dead is kiosk.ErrNotFound.
func Replay(ctx context.Context, db *pgstore.DB, id int64) error {
	tag, err := db.Pool().Exec(ctx, `UPDATE notify_outbox SET state = 'pending', attempts = 0, due_at = now(), locked_until = NULL,
		done_at = NULL WHERE id = $1 AND state = 'dead'`, id)
	if err != nil {
		return fmt.Errorf("notify: replay: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return kiosk.ErrNotFound
	}
	return wake(ctx, db)
}

// ReplayAll sends every dead letter again; it returns how many.
func ReplayAll(ctx context.Context, db *pgstore.DB) (int64, error) {
	tag, err := db.Pool().Exec(ctx, `UPDATE notify_outbox SET state = 'pending', attempts = 0, due_at = now(), locked_until = NULL,
		done_at = NULL WHERE state = 'dead'`)
	if err != nil {
		return 0, fmt.Errorf("notify: replay: %w", err)
	}
	return tag.RowsAffected(), wake(ctx, db)
}

func wake(ctx context.Context, db *pgstore.DB) error {
	_, err := db.Pool().Exec(ctx, `SELECT pg_notify($1, '')`, wakeChannel)
	return err
}

// Counts is how many rows are in each state, by channel.
func Counts(ctx context.Context, db *pgstore.DB) (map[string]map[string]int, error) {
	rows, err := db.Pool().Query(ctx, `SELECT channel, state, count(*) FROM notify_outbox GROUP BY 1, 2`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]map[string]int{}
	for rows.Next() {
		var ch, st string
		var n int
		if err := rows.Scan(&ch, &st, &n); err != nil {
			return nil, err
		}
		if out[ch] == nil {
			out[ch] = map[string]int{}
		}
		out[ch][st] = n
	}
	return out, rows.Err()
}

// Purge deletes the rows that ended (sent, skipped, dead) before cutoff;
// pending rows stay. (A visit purged takes its rows with it.)
func Purge(ctx context.Context, db *pgstore.DB, cutoff time.Time) (int64, error) {
	tag, err := db.Pool().Exec(ctx, `DELETE FROM notify_outbox WHERE state <> 'pending' AND done_at < $1`, cutoff)
	if err != nil {
		return 0, fmt.Errorf("notify: purge: %w", err)
	}
	return tag.RowsAffected(), nil
}

// visit reads the visit of a row; a visit gone is errGone.
func visit(ctx context.Context, db *pgstore.DB, id int64) (kiosk.Visit, error) {
	v, err := db.Visit(ctx, id)
	if errors.Is(err, kiosk.ErrNotFound) {
		return v, errGone
	}
	return v, err
}

var errGone = errors.New("the visit is no longer in the log")
