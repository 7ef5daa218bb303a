package dashboard

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"ndikiosk/pgstore"
)

// EventRollCall is announced on pgstore.EventsChannel when someone ticks
// a roll call, so that every phone on it (on any replica) updates.
const EventRollCall = "rollcall"

// eventResync tells browsers to re-fetch everything: the listening
// connection was lost and announcements may have been missed.
const eventResync = "resync"

// broker listens on pgstore.EventsChannel with a connection of its own
// (reconnecting when it is lost) and fans each announcement out to the
// browsers that follow the dashboard.
type broker struct {
	pool *pgxpool.Pool
	log  *slog.Logger

	mu      sync.Mutex
	clients map[chan pgstore.Event]struct{}
	ready   chan struct{}
}

func newBroker(pool *pgxpool.Pool, log *slog.Logger) *broker {
	return &broker{pool: pool, log: log, clients: map[chan pgstore.Event]struct{}{}, ready: make(chan struct{})}
}

// subscribe returns a channel of events and the function that ends it.
func (b *broker) subscribe() (<-chan pgstore.Event, func()) {
	ch := make(chan pgstore.Event, 32)
	b.mu.Lock()
	b.clients[ch] = struct{}{}
	b.mu.Unlock()
	return ch, func() {
		b.mu.Lock()
		delete(b.clients, ch)
		b.mu.Unlock()
	}
}

// publish hands e to every follower; one too slow to take it misses it
// and is told to re-fetch instead.
func (b *broker) publish(e pgstore.Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for ch := range b.clients {
		select {
		case ch <- e:
		default:
			select {
			case <-ch:
			default:
			}
			select {
			case ch <- pgstore.Event{Kind: eventResync}:
			default:
			}
		}
	}
}

// run listens until ctx ends.
func (b *broker) run(ctx context.Context) {
	var once sync.Once
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := b.listen(ctx, func() {
			once.Do(func() { close(b.ready) })
			backoff = 100 * time.Millisecond
		})
		if ctx.Err() != nil {
			return
		}
		b.log.Warn("dashboard: listening connection lost; reconnecting", "error", err.Error())
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

func (b *broker) listen(ctx context.Context, listening func()) error {
	conn, err := pgx.ConnectConfig(ctx, b.pool.Config().ConnConfig.Copy())
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+pgstore.EventsChannel); err != nil {
		return err
	}
	// Whatever happened while no connection listened is fetched again.
	b.publish(pgstore.Event{Kind: eventResync})
	listening()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		var e pgstore.Event
		if json.Unmarshal([]byte(n.Payload), &e) == nil && e.Kind != "" {
			b.publish(e)
		}
	}
}
