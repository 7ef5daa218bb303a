package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"sync"
	"time"

	"ndikiosk/pgstore"
)

// Options configure a Worker. Zero values take the defaults.
type Options struct {
	SMTP    *SMTP    // nil: email is not set up and email rows are skipped
	Webhook *Webhook // nil: likewise for the webhook

	MaxAttempts int           // attempts before a row is dead; default 8
	MinBackoff  time.Duration // the wait after the first failure; default 30 s
	MaxBackoff  time.Duration // the longest wait; default 1 h
	Lease       time.Duration // how long a claim lasts before another worker may take the row; default 5 min
	Poll        time.Duration // how often to look for due rows without a wake-up; default 5 s
	Batch       int           // rows a claim takes (one SMTP connection sends an email batch); default 50
	Workers     int           // claim-and-send loops at once; default 2
	// ID names this worker's claims, so that a restart takes its own rows
	// back at once; default host name and process id.
	ID            string
	RetentionDays int // > 0: finished rows older than this are purged daily
	Log           *slog.Logger
}

// DefaultMaxAttempts is the number of attempts before a row is dead.
const DefaultMaxAttempts = 8

func (o *Options) defaults() {
	def := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	def(&o.MinBackoff, 30*time.Second)
	def(&o.MaxBackoff, time.Hour)
	def(&o.Lease, 5*time.Minute)
	def(&o.Poll, 5*time.Second)
	if o.Batch <= 0 {
		o.Batch = 50
	}
	if o.Workers <= 0 {
		o.Workers = 2
	}
	if o.ID == "" {
		host, _ := os.Hostname()
		o.ID = fmt.Sprintf("%s/%d", host, os.Getpid())
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
}

// Worker sends the outbox's due rows.
type Worker struct {
	db *pgstore.DB
	o  Options

	mu    sync.Mutex
	wakes []chan struct{}
}

// New makes a worker on the hub's database.
func New(db *pgstore.DB, o Options) *Worker {
	o.defaults()
	return &Worker{db: db, o: o}
}

// backoff is the wait after the given attempt failed: MinBackoff doubled
// each attempt up to MaxBackoff, then a random part of the upper half
// taken away so that replicas and rows do not retry in step.
func (w *Worker) backoff(attempt int) time.Duration {
	d := w.o.MinBackoff
	for i := 1; i < attempt && d < w.o.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, w.o.MaxBackoff)
	return d/2 + rand.N(d/2+1)
}

// Run sends until ctx ends: on a wake-up (a new row, a replay) and every
// Poll. It returns once every send in flight has been recorded.
func (w *Worker) Run(ctx context.Context) {
	if err := release(ctx, w.db, w.o.ID); err != nil {
		w.o.Log.Warn("notify: could not take back this worker's claims", "error", err.Error())
	}
	var wg sync.WaitGroup
	wg.Go(func() { w.listen(ctx) })
	if w.o.RetentionDays > 0 {
		wg.Go(func() { w.purgeDaily(ctx) })
	}
	for range w.o.Workers {
		wake := make(chan struct{}, 1)
		w.mu.Lock()
		w.wakes = append(w.wakes, wake)
		w.mu.Unlock()
		wg.Go(func() { w.loop(ctx, wake) })
	}
	wg.Wait()
}

func (w *Worker) wakeAll() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, c := range w.wakes {
		select {
		case c <- struct{}{}:
		default:
		}
	}
}

func (w *Worker) loop(ctx context.Context, wake <-chan struct{}) {
	t := time.NewTicker(w.o.Poll)
	defer t.Stop()
	for {
		for ctx.Err() == nil {
			n, err := w.Once(ctx)
			if err != nil && ctx.Err() == nil {
				w.o.Log.Warn("notify: outbox unavailable", "error", err.Error())
			}
			if n == 0 || err != nil {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-t.C:
		}
	}
}

// listen wakes the loops on the database's wake-ups, reconnecting after a
// failure; the loops poll meanwhile.
func (w *Worker) listen(ctx context.Context) {
	for ctx.Err() == nil {
		err := w.listenOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		w.o.Log.Warn("notify: LISTEN lost; polling", "error", err.Error())
		select {
		case <-ctx.Done():
		case <-time.After(5 * time.Second):
		}
	}
}

func (w *Worker) listenOnce(ctx context.Context) error {
	c, err := w.db.Pool().Acquire(ctx)
	if err != nil {
		return err
	}
	conn := c.Hijack() // a listening connection never goes back to the pool
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+wakeChannel); err != nil {
		return err
	}
	w.wakeAll()
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return err
		}
		w.wakeAll()
	}
}

func (w *Worker) purgeDaily(ctx context.Context) {
	for {
		n, err := Purge(ctx, w.db, time.Now().AddDate(0, 0, -w.o.RetentionDays))
		if err != nil && ctx.Err() == nil {
			w.o.Log.Warn("notify: retention purge failed", "error", err.Error())
		} else if n > 0 {
			w.o.Log.Info("notify: retention purge", "deleted", n, "older_than_days", w.o.RetentionDays)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(24 * time.Hour):
		}
	}
}

// Once claims one batch of due rows, sends them and records the results;
// it returns how many rows it claimed. Once half the lease has gone, the
// rows not yet tried are handed back untried (the attempt not counted), so
// that a slow relay or webhook never has a live worker's rows taken over
// by another replica and sent twice; at least one row a channel is always
// tried.
func (w *Worker) Once(ctx context.Context) (int, error) {
	rows, err := claim(ctx, w.db, w.o.ID, w.o.Batch, w.o.Lease)
	if err != nil || len(rows) == 0 {
		return 0, err
	}
	half := time.Now().Add(w.o.Lease / 2)
	late := func() bool { return time.Now().After(half) }
	// Results are recorded even when ctx ends meanwhile: a send that
	// happened is worth writing down.
	rec := context.WithoutCancel(ctx)
	var letters []letter
	var mailRows []row
	posted := false
	for _, r := range rows {
		m, to, skip, err := w.prepare(ctx, r)
		switch {
		case err != nil:
			w.record(rec, r, err)
		case skip != "":
			w.skip(rec, r, skip)
		case r.channel == ChannelEmail:
			letters, mailRows = append(letters, letter{to: to, msg: m}), append(mailRows, r)
		case posted && late():
			w.record(rec, r, errNotTried)
		default:
			w.record(rec, r, w.o.Webhook.send(ctx, w.o.Webhook.client(), m, time.Now()))
			posted = true
		}
	}
	if len(letters) > 0 {
		w.o.SMTP.sendBatch(ctx, letters, late, func(i int, err error) { w.record(rec, mailRows[i], err) })
	}
	return len(rows), nil
}

// prepare reads what a row needs: the message, and for email the host's
// address. skip says why the row is not sent at all.
func (w *Worker) prepare(ctx context.Context, r row) (m Message, to, skip string, err error) {
	if r.attempts > w.o.MaxAttempts {
		return m, "", "", permanent("delivery %d: the sender stopped during its last attempt", r.id)
	}
	switch {
	case r.channel == ChannelEmail && w.o.SMTP == nil:
		return m, "", "email is not set up ([notify.smtp])", nil
	case r.channel == ChannelWebhook && w.o.Webhook == nil:
		return m, "", "the webhook is not set up ([notify.webhook])", nil
	}
	v, err := visit(ctx, w.db, r.visitID)
	if errors.Is(err, errGone) {
		return m, "", err.Error(), nil
	}
	if err != nil {
		return m, "", "", transient("delivery %d: read the visit: %v", r.id, err)
	}
	m = messageFor(r.id, v)
	if r.channel == ChannelEmail {
		if to, err = w.db.HostEmail(ctx, v.Site, v.Host); err != nil {
			return m, "", "", transient("delivery %d: read the host's email: %v", r.id, err)
		}
		if to == "" {
			return m, "", "the host has no email address", nil
		}
	}
	return m, to, "", nil
}

func (w *Worker) skip(ctx context.Context, r row, why string) {
	if err := finish(ctx, w.db, r.id, StateSkipped, why); err != nil {
		w.o.Log.Warn("notify: could not record a skip", "delivery", r.id, "error", err.Error())
	}
}

// record writes down a send's result: sent, retried later, or dead.
func (w *Worker) record(ctx context.Context, r row, sendErr error) {
	var err error
	switch {
	case errors.Is(sendErr, errNotTried):
		err = unclaim(ctx, w.db, r.id)
	case sendErr == nil:
		err = finish(ctx, w.db, r.id, StateSent, "")
	case isPermanent(sendErr) || r.attempts >= w.o.MaxAttempts:
		w.o.Log.Warn("notify: dead letter", "delivery", r.id, "channel", r.channel, "attempts", r.attempts, "error", sendErr.Error())
		err = finish(ctx, w.db, r.id, StateDead, sendErr.Error())
	default:
		after := w.backoff(r.attempts)
		w.o.Log.Info("notify: will retry", "delivery", r.id, "channel", r.channel, "attempt", r.attempts, "after", after.Round(time.Millisecond).String(),
			"error", sendErr.Error())
		err = retry(ctx, w.db, r.id, after, sendErr.Error())
	}
	if err != nil {
		w.o.Log.Warn("notify: could not record a result (the row is sent again once its lease ends)", "delivery", r.id, "error", err.Error())
	}
}
