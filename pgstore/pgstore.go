// Package pgstore keeps the hub's visit log in PostgreSQL: one log and one
// deny list for a fleet of kiosks, shared by every hub replica. It is the
// SQLite log's twin (package storage): the same columns, numbered
// migrations, personal columns sealed with the same cryptography
// (internal/seal) and a key check value by which the database refuses a
// hub started with another key. It implements kiosk.VisitStore.
package pgstore

import (
	"context"
	"crypto/hmac"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"ndikiosk/internal/seal"
	"ndikiosk/kiosk"
	"ndikiosk/storage"
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is the hub's visit log.
type DB struct {
	pool *pgxpool.Pool
	box  *seal.Box
}

var _ kiosk.VisitStore = (*DB)(nil)

// DefaultMaxConns is the hub's connection pool unless the database URL
// sets pool_max_conns. pgx's own default (4 on a 2-core machine) made the
// visits queue behind each other's synchronous commits: every visit waits
// for its WAL flush, and only commits in flight together share one. Two
// replicas at 32 stay well inside PostgreSQL's default max_connections
// (100).
const DefaultMaxConns = 32

// migrationLock is the advisory lock under which a hub migrates, so that
// two replicas starting together do not both apply a migration.
const migrationLock = 0x6e64696b696f736b // "ndikiosk"

// Open connects to the database at url, applies migrations and checks
// that key is the log's key. A database that holds a key check value made
// with another key is refused before anything is written.
func Open(ctx context.Context, url string, key []byte) (*DB, error) {
	box, err := seal.New(key)
	if err != nil {
		return nil, err
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("[hub] database: %s", redact(err))
	}
	if !strings.Contains(url, "pool_max_conns=") {
		cfg.MaxConns = DefaultMaxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("[hub] database: %w", explain(err))
	}
	d := &DB{pool: pool, box: box}
	if err := d.setUp(ctx, key); err != nil {
		pool.Close()
		return nil, err
	}
	return d, nil
}

// redact keeps a password in a URL out of an error message.
func redact(err error) string {
	s := err.Error()
	if i := strings.Index(s, "://"); i >= 0 {
		if j := strings.Index(s[i+3:], "@"); j >= 0 {
			s = s[:i+3] + "…" + s[i+3+j:]
		}
	}
	return s
}

// setUp migrates and checks the key in one transaction under the advisory
// lock: either the schema is current and the key is the log's, or nothing
// changed.
func (d *DB) setUp(ctx context.Context, key []byte) error {
	tx, err := d.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("[hub] database: %w", explain(err))
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrationLock)); err != nil {
		return explain(err)
	}
	if err := migrate(ctx, tx); err != nil {
		return err
	}
	var check []byte
	err = tx.QueryRow(ctx, `SELECT value FROM key_check WHERE id = 1`).Scan(&check)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		var holds bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM visits) OR EXISTS (SELECT 1 FROM deny_list)`).Scan(&holds); err != nil {
			return explain(err)
		}
		if holds {
			return errors.New("the hub's database holds visits but no key check value: restore its key_check row from the backup, " +
				"or start the hub with the key those visits were written with")
		}
		if _, err := tx.Exec(ctx, `INSERT INTO key_check (id, value, made_at) VALUES (1, $1, now())`, seal.Check(key)); err != nil {
			return explain(err)
		}
	case err != nil:
		return explain(err)
	case !hmac.Equal(check, seal.Check(key)):
		return errors.New("the hub's log key is not the key of this database (the key check value differs): " +
			"start the hub with the key file backed up with this database; a new key would leave every visit unreadable and the deny list matching no one")
	}
	return explain(tx.Commit(ctx))
}

// Versions are the migrations this build knows, in order.
func Versions() []int {
	names, _ := fs.Glob(migrations, "migrations/*.sql")
	sort.Strings(names)
	var out []int
	for _, n := range names {
		var v int
		fmt.Sscanf(path.Base(n), "%d_", &v)
		out = append(out, v)
	}
	return out
}

func migrate(ctx context.Context, tx pgx.Tx) error {
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL)`); err != nil {
		return explain(err)
	}
	// A replica left on an older build must not write into a schema it
	// does not know: it stops and says so.
	known := Versions()
	var newest int
	if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&newest); err != nil {
		return explain(err)
	}
	if len(known) > 0 && newest > known[len(known)-1] {
		return fmt.Errorf("the hub's database has schema version %d, newer than this ndikiosk knows (%d): run the same or a newer ndikiosk on every hub replica",
			newest, known[len(known)-1])
	}
	names, _ := fs.Glob(migrations, "migrations/*.sql")
	sort.Strings(names)
	for _, name := range names {
		var version int
		if _, err := fmt.Sscanf(path.Base(name), "%d_", &version); err != nil {
			return fmt.Errorf("migration %s: name must start with its number", name)
		}
		var done bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = $1)`, version).Scan(&done); err != nil {
			return explain(err)
		}
		if done {
			continue
		}
		body, _ := migrations.ReadFile(name)
		if _, err := tx.Exec(ctx, string(body)); err != nil {
			return fmt.Errorf("migration %s: %w", name, explain(err))
		}
		if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES ($1, now())`, version); err != nil {
			return explain(err)
		}
	}
	return nil
}

// Applied lists the migrations the database has, for doctor.
func (d *DB) Applied(ctx context.Context) ([]int, error) {
	rows, err := d.pool.Query(ctx, `SELECT version FROM schema_migrations ORDER BY version`)
	if err != nil {
		return nil, explain(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[int])
	return out, explain(err)
}

// Close closes the connections.
func (d *DB) Close() { d.pool.Close() }

// Pool is the connection pool, for the hub's other tables.
func (d *DB) Pool() *pgxpool.Pool { return d.pool }

// PersonKey is the keyed hash that stands for a UIN/FIN.
func (d *DB) PersonKey(uinfin string) []byte { return d.box.PersonKey(uinfin) }

// Keyed is an HMAC of value under the log's key and a label of its use,
// the same on every replica: for values the hub matches but never shows.
func (d *DB) Keyed(label, value string) []byte { return d.box.Keyed(label, value) }

func (d *DB) open(column, ref string, b []byte) (string, error) {
	out, err := d.box.Open(column, ref, b)
	if err != nil {
		return "", fmt.Errorf("visit %s: %s %w with the hub's log key", ref, column, err)
	}
	return out, nil
}

func ts(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// Save writes one visit, with its signed document when it has one, in one
// transaction; it returns once PostgreSQL has committed it.
func (d *DB) Save(ctx context.Context, v kiosk.Visit) (int64, error) {
	var score *float64
	if v.FaceResult != "" {
		score = &v.FaceScore
	}
	attrs := v.Attributes
	if attrs == nil {
		attrs = []string{}
	}
	var id int64
	err := pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO visits (kiosk_id, mode, txn_ref, attributes, started_at, decided_at,
		checked_out_at, outcome, reason, masked_id, name, host, purpose, face_result, face_score, person_key, sandbox, site)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) RETURNING id`,
			v.KioskID, v.Mode, v.TxnRef, attrs, v.StartedAt, v.DecidedAt, ts(v.CheckedOutAt), string(v.Outcome), v.Reason,
			d.box.Seal("masked_id", v.TxnRef, v.MaskedID), d.box.Seal("name", v.TxnRef, v.Name), v.Host, v.Purpose,
			v.FaceResult, score, v.PersonKey, v.Sandbox, v.Site).Scan(&id); err != nil {
			return err
		}
		if len(v.Document) == 0 {
			return nil
		}
		_, err := tx.Exec(ctx, `INSERT INTO documents (visit_id, document, stored_at) VALUES ($1, $2, $3)`,
			id, d.box.Seal(DocumentColumn, v.TxnRef, string(v.Document)), v.DecidedAt)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("save visit: %w", explain(err))
	}
	return id, nil
}

// DocumentColumn is the name a signed document is sealed under, with its
// visit's txn_ref.
const DocumentColumn = "document"

// Documents calls fn with each signed document of the visits that started
// in f's period (From and To only), oldest first, decrypted. Reading
// visits never loads documents: they are large.
func (d *DB) Documents(ctx context.Context, f kiosk.VisitFilter, fn func(visitID int64, pdf []byte) error) error {
	q := `SELECT v.id, v.txn_ref, d.document FROM documents d JOIN visits v ON v.id = d.visit_id WHERE TRUE`
	var args []any
	if !f.From.IsZero() {
		args = append(args, f.From)
		q += fmt.Sprintf(` AND v.started_at >= $%d`, len(args))
	}
	if !f.To.IsZero() {
		args = append(args, f.To)
		q += fmt.Sprintf(` AND v.started_at < $%d`, len(args))
	}
	rows, err := d.pool.Query(ctx, q+` ORDER BY v.started_at, v.id`, args...)
	if err != nil {
		return explain(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var ref string
		var ct []byte
		if err := rows.Scan(&id, &ref, &ct); err != nil {
			return explain(err)
		}
		doc, err := d.open(DocumentColumn, ref, ct)
		if err != nil {
			return err
		}
		if err := fn(id, []byte(doc)); err != nil {
			return err
		}
	}
	return explain(rows.Err())
}

const columns = `id, kiosk_id, mode, txn_ref, attributes, started_at, decided_at, checked_out_at, outcome, reason,
	masked_id, name, host, purpose, face_result, face_score, person_key, sandbox, site`

func (d *DB) scan(row pgx.Row) (kiosk.Visit, error) {
	var (
		v                kiosk.Visit
		outcome          string
		checkedOut       *time.Time
		score            *float64
		maskedCT, nameCT []byte
	)
	if err := row.Scan(&v.ID, &v.KioskID, &v.Mode, &v.TxnRef, &v.Attributes, &v.StartedAt, &v.DecidedAt, &checkedOut, &outcome,
		&v.Reason, &maskedCT, &nameCT, &v.Host, &v.Purpose, &v.FaceResult, &score, &v.PersonKey, &v.Sandbox, &v.Site); err != nil {
		return v, err
	}
	if len(v.Attributes) == 0 {
		v.Attributes = nil
	}
	if checkedOut != nil {
		v.CheckedOutAt = *checkedOut
	}
	if score != nil {
		v.FaceScore = *score
	}
	v.Outcome = kiosk.Outcome(outcome)
	var err error
	if v.MaskedID, err = d.open("masked_id", v.TxnRef, maskedCT); err != nil {
		return v, err
	}
	v.Name, err = d.open("name", v.TxnRef, nameCT)
	return v, err
}

// OpenVisit returns the person's latest visitor-mode visit since the given
// time that is not checked out.
func (d *DB) OpenVisit(ctx context.Context, personKey []byte, since time.Time) (kiosk.Visit, error) {
	v, err := d.scan(d.pool.QueryRow(ctx, `SELECT `+columns+` FROM visits WHERE person_key = $1 AND checked_out_at IS NULL
		AND mode = $2 AND outcome = $3 AND started_at >= $4 ORDER BY started_at DESC LIMIT 1`,
		personKey, kiosk.ModeVisitor, string(kiosk.OutcomeCheckedIn), since))
	if errors.Is(err, pgx.ErrNoRows) {
		return v, kiosk.ErrNotFound
	}
	return v, explain(err)
}

// CheckOut ends a visit.
func (d *DB) CheckOut(ctx context.Context, id int64, at time.Time) error {
	tag, err := d.pool.Exec(ctx, `UPDATE visits SET checked_out_at = $1 WHERE id = $2 AND checked_out_at IS NULL`, at, id)
	if err != nil {
		return fmt.Errorf("check out: %w", explain(err))
	}
	if tag.RowsAffected() == 0 {
		return kiosk.ErrNotFound
	}
	return nil
}

// Denied reports whether the person is on the fleet's deny list.
func (d *DB) Denied(ctx context.Context, personKey []byte) (bool, error) {
	var denied bool
	err := d.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM deny_list WHERE person_key = $1)`, personKey).Scan(&denied)
	return denied, explain(err)
}

// Deny adds a person to the deny list by their keyed hash.
func (d *DB) Deny(ctx context.Context, personKey []byte, note string, at time.Time) error {
	_, err := d.pool.Exec(ctx, `INSERT INTO deny_list (person_key, added_at, note) VALUES ($1, $2, $3)
		ON CONFLICT (person_key) DO UPDATE SET note = excluded.note`, personKey, at, note)
	return explain(err)
}

// Allow removes a person from the deny list.
func (d *DB) Allow(ctx context.Context, personKey []byte) error {
	_, err := d.pool.Exec(ctx, `DELETE FROM deny_list WHERE person_key = $1`, personKey)
	return explain(err)
}

// Visit returns one visit by id.
func (d *DB) Visit(ctx context.Context, id int64) (kiosk.Visit, error) {
	v, err := d.scan(d.pool.QueryRow(ctx, `SELECT `+columns+` FROM visits WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return v, kiosk.ErrNotFound
	}
	return v, explain(err)
}

// DenyVisitor puts the person of visit id on the deny list (deny) or takes
// them off it, and returns that visit's masked id.
func (d *DB) DenyVisitor(ctx context.Context, id int64, deny bool, note string, at time.Time) (string, error) {
	return storage.DenyVisitor(ctx, d, id, deny, note, at)
}

// Visits lists visits, newest first. The name filter is applied after
// decryption, so a name never reaches SQL.
func (d *DB) Visits(ctx context.Context, f kiosk.VisitFilter) ([]kiosk.Visit, error) {
	var out []kiosk.Visit
	err := d.each(ctx, f, "DESC", func(v kiosk.Visit) error {
		out = append(out, v)
		return nil
	})
	return out, err
}

// Export writes the visits that match f, oldest first, as CSV or JSON, in
// the kiosk's export format. It streams from a server-side cursor.
func (d *DB) Export(ctx context.Context, w io.Writer, f kiosk.VisitFilter, format string) error {
	return storage.WriteExport(w, format, func(fn func(kiosk.Visit) error) error { return d.each(ctx, f, "ASC", fn) })
}

// each calls fn for every visit that matches f, in started_at order.
func (d *DB) each(ctx context.Context, f kiosk.VisitFilter, order string, fn func(kiosk.Visit) error) error {
	q := `SELECT ` + columns + ` FROM visits WHERE TRUE`
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if !f.From.IsZero() {
		q += ` AND started_at >= ` + arg(f.From)
	}
	if !f.To.IsZero() {
		q += ` AND started_at < ` + arg(f.To)
	}
	if f.Host != "" {
		q += ` AND host ILIKE ` + arg("%"+storage.LikeEscape(f.Host)+"%") + ` ESCAPE '\'`
	}
	q += ` ORDER BY started_at ` + order + `, id ` + order
	sqlPaging := f.Name == ""
	if sqlPaging && f.Limit > 0 {
		q += ` LIMIT ` + arg(f.Limit) + ` OFFSET ` + arg(f.Offset)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	rows, err := d.pool.Query(ctx, q, args...)
	if err != nil {
		return explain(err)
	}
	// The rows are read and opened on one goroutine while fn (an export's
	// formatting) runs on this one: two cores for a long export.
	batches := make(chan []kiosk.Visit, 4)
	read := make(chan error, 1)
	go func() {
		defer close(batches)
		read <- d.read(ctx, rows, batches)
	}()
	stop := func(err error) error {
		cancel()
		for range batches {
		}
		<-read
		return err
	}
	if !sqlPaging {
		fn = storage.ByName(f, fn)
	}
	for batch := range batches {
		for _, v := range batch {
			if err := fn(v); errors.Is(err, storage.ErrEnough) {
				return stop(nil)
			} else if err != nil {
				return stop(err)
			}
		}
	}
	return <-read
}

// readBatch is how many visits the reader hands over at a time.
const readBatch = 256

// read scans and opens rows into batches until the rows end, ctx ends or
// a row cannot be opened; it closes rows.
func (d *DB) read(ctx context.Context, rows pgx.Rows, batches chan<- []kiosk.Visit) error {
	defer rows.Close()
	batch := make([]kiosk.Visit, 0, readBatch)
	send := func() bool {
		select {
		case batches <- batch:
			batch = make([]kiosk.Visit, 0, readBatch)
			return true
		case <-ctx.Done():
			return false
		}
	}
	for rows.Next() {
		v, err := d.scan(rows)
		if err != nil {
			return err
		}
		if batch = append(batch, v); len(batch) == readBatch && !send() {
			return ctx.Err()
		}
	}
	if err := rows.Err(); err != nil {
		return explain(err)
	}
	if len(batch) > 0 {
		send()
	}
	return nil
}

// Purge deletes visits that started before cutoff, with the invitations
// for days before it (and unused ones whose day is over: they name someone
// who did not come) and the alerts raised before it, and returns how many
// visits went.
func (d *DB) Purge(ctx context.Context, cutoff time.Time) (int64, error) {
	tag, err := d.pool.Exec(ctx, `DELETE FROM visits WHERE started_at < $1`, cutoff)
	if err != nil {
		return 0, fmt.Errorf("purge: %w", explain(err))
	}
	if _, err := d.pool.Exec(ctx, `DELETE FROM invitations WHERE day < $1
		OR (visit_id IS NULL AND day < (now() AT TIME ZONE 'Asia/Singapore')::date)`, startOfDay(cutoff).Format(time.DateOnly)); err != nil {
		return 0, fmt.Errorf("purge invitations: %w", explain(err))
	}
	if _, err := d.pool.Exec(ctx, `DELETE FROM alerts WHERE raised_at < $1`, cutoff); err != nil {
		return 0, fmt.Errorf("purge alerts: %w", explain(err))
	}
	return tag.RowsAffected(), nil
}

// explain turns PostgreSQL's failures into a *kiosk.StoreError that says
// what happened and what to do; other errors pass unchanged.
func explain(err error) error {
	if err == nil {
		return nil
	}
	e := func(reason, action string) error { return &kiosk.StoreError{Reason: reason, Action: action} }
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "53100":
			return e("the database server's disk is full", "free space on the PostgreSQL server")
		case pe.Code == "25006":
			return e("the database is read-only", "point [hub] database at the primary server, not a standby")
		case strings.HasPrefix(pe.Code, "57P"), strings.HasPrefix(pe.Code, "08"):
			return e("the database server is restarting or unreachable", "check that PostgreSQL is running")
		case strings.HasPrefix(pe.Code, "53"):
			return e("the database server is out of resources ("+pe.Code+")", "check PostgreSQL's connections and memory")
		}
		return err
	}
	if pgconn.SafeToRetry(err) || errors.Is(err, io.ErrUnexpectedEOF) || isConnectErr(err) {
		return e("the database server is unreachable", "check [hub] database and that PostgreSQL is running")
	}
	return err
}

func isConnectErr(err error) bool {
	var ce *pgconn.ConnectError
	return errors.As(err, &ce)
}
