package hub

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net/url"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"ndikiosk/kiosk"
)

// PostgreSQL notification channels between hub replicas.
const (
	chanCallback = "ndikiosk_callback" // a callback for a kiosk on another replica
	chanVerdict  = "ndikiosk_verdict"  // the answer, to the replica that forwarded it
	chanRevoke   = "ndikiosk_revoke"   // a kiosk was revoked: whoever holds it drops it
)

// Relay carries callbacks between hub replicas that share one PostgreSQL:
// Singpass's callback (or the phone's redirect) may reach any replica,
// while the engine that issued the code runs on the replica its kiosk is
// connected to. The replica that got the callback publishes it with
// NOTIFY; the one that holds the kiosk handles it and publishes the
// verdict, which goes back to the phone. No broker beyond the database.
type Relay struct {
	pool    *pgxpool.Pool
	replica string
	log     *slog.Logger

	mu      sync.Mutex
	waiting map[string]chan kiosk.Verdict
	hub     *Hub
	ready   chan struct{} // closed once the first LISTEN is in place

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
}

type callbackNote struct {
	ID    string `json:"id"`
	From  string `json:"from"`
	Kiosk string `json:"kiosk"`
	Query string `json:"query"`
}

type verdictNote struct {
	ID      string `json:"id"`
	To      string `json:"to"`
	Status  int    `json:"status"`
	Message string `json:"message"`
}

// NewRelay makes the relay on the hub's database.
func NewRelay(pool *pgxpool.Pool, log *slog.Logger) *Relay {
	if log == nil {
		log = slog.Default()
	}
	b := make([]byte, 8)
	rand.Read(b)
	ctx, cancel := context.WithCancel(context.Background())
	return &Relay{pool: pool, replica: hex.EncodeToString(b), log: log, waiting: map[string]chan kiosk.Verdict{},
		ready: make(chan struct{}), ctx: ctx, cancel: cancel, done: make(chan struct{})}
}

// Ready is closed once the relay listens; a hub that answers callbacks
// before then may miss a forwarded one.
func (r *Relay) Ready() <-chan struct{} { return r.ready }

func (r *Relay) serve(h *Hub) {
	r.hub = h
	go r.listen()
}

// Close stops listening.
func (r *Relay) Close() {
	r.cancel()
	<-r.done
}

// listen keeps one connection LISTENing, reconnecting after a failure.
func (r *Relay) listen() {
	defer close(r.done)
	var once sync.Once
	backoff := 100 * time.Millisecond
	for r.ctx.Err() == nil {
		err := r.listenOnce(func() { once.Do(func() { close(r.ready) }); backoff = 100 * time.Millisecond })
		if r.ctx.Err() != nil {
			return
		}
		r.log.Warn("hub relay: listening connection lost; reconnecting", "error", err.Error())
		select {
		case <-time.After(backoff):
		case <-r.ctx.Done():
			return
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

func (r *Relay) listenOnce(listening func()) error {
	pc, err := r.pool.Acquire(r.ctx)
	if err != nil {
		return err
	}
	conn := pc.Hijack() // held for good: not returned to the pool
	defer conn.Close(context.Background())
	for _, ch := range []string{chanCallback, chanVerdict, chanRevoke} {
		if _, err := conn.Exec(r.ctx, "LISTEN "+ch); err != nil {
			return err
		}
	}
	listening()
	for {
		n, err := conn.WaitForNotification(r.ctx)
		if err != nil {
			return err
		}
		switch n.Channel {
		case chanCallback:
			var c callbackNote
			if json.Unmarshal([]byte(n.Payload), &c) == nil && c.From != r.replica {
				go r.answer(c)
			}
		case chanVerdict:
			var v verdictNote
			if json.Unmarshal([]byte(n.Payload), &v) == nil && v.To == r.replica {
				r.mu.Lock()
				ch := r.waiting[v.ID]
				delete(r.waiting, v.ID)
				r.mu.Unlock()
				if ch != nil {
					ch <- kiosk.Verdict{Status: v.Status, Message: v.Message}
				}
			}
		case chanRevoke:
			r.hub.Revoked(n.Payload)
		}
	}
}

// answer handles a forwarded callback if its kiosk is here.
func (r *Relay) answer(c callbackNote) {
	s := r.hub.local(c.Kiosk)
	if s == nil {
		return
	}
	q, err := url.ParseQuery(c.Query)
	if err != nil {
		return
	}
	v := s.engine.Callback(q)
	r.notify(chanVerdict, verdictNote{ID: c.ID, To: c.From, Status: v.Status, Message: v.Message})
}

// maxQuery keeps a forwarded callback inside NOTIFY's 8000-byte payload; a
// real callback's query (code and state) is a few hundred bytes.
const maxQuery = 6000

// forward publishes a callback for kiosk id and waits for the replica that
// holds it to answer; false when none did in time.
func (r *Relay) forward(ctx context.Context, id string, q url.Values) (kiosk.Verdict, bool) {
	query := q.Encode()
	if len(query) > maxQuery {
		return kiosk.Verdict{}, false
	}
	b := make([]byte, 12)
	rand.Read(b)
	note := callbackNote{ID: hex.EncodeToString(b), From: r.replica, Kiosk: id, Query: query}
	ch := make(chan kiosk.Verdict, 1)
	r.mu.Lock()
	r.waiting[note.ID] = ch
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		delete(r.waiting, note.ID)
		r.mu.Unlock()
	}()
	if err := r.notify(chanCallback, note); err != nil {
		r.log.Error("hub relay: cannot forward a callback", "error", err.Error())
		return kiosk.Verdict{}, false
	}
	select {
	case v := <-ch:
		return v, true
	case <-ctx.Done():
		return kiosk.Verdict{}, false
	}
}

func (r *Relay) notify(channel string, payload any) error {
	b, err := json.Marshal(payload)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(r.ctx, 5*time.Second)
	defer cancel()
	_, err = r.pool.Exec(ctx, `SELECT pg_notify($1, $2)`, channel, string(b))
	return err
}
