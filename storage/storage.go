// Package storage keeps the kiosk's visit log in SQLite: one file in the
// data directory, WAL with synchronous=FULL, numbered migrations, personal
// columns encrypted with AES-GCM, people recognised by an HMAC of their
// UIN/FIN, and a key check value by which the database knows its key. It
// implements kiosk.VisitStore.
package storage

import (
	"context"
	"crypto/hmac"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	sqlite3 "github.com/mattn/go-sqlite3"

	"ndikiosk/internal/seal"
	"ndikiosk/kiosk"
)

//go:embed migrations/*.sql
var migrations embed.FS

// File names in the data directory.
const (
	DBFile  = "visits.db"
	KeyFile = "visits.key" // 64 bytes: AES-256 key, then HMAC key. Back it up with the database.
)

// DB is the visit log.
type DB struct {
	sql     *sql.DB
	box     *seal.Box
	path    string
	columns string // what scan reads: columns, or a stand-in for a column an older read-only log lacks
}

var _ kiosk.VisitStore = (*DB)(nil)

// Open opens (or creates) the visit log in dir and applies migrations. It
// refuses, without writing to the database, when quick_check finds it
// damaged or it and visits.key do not belong together: a new key would
// make every row unreadable and the deny list match no one.
func Open(dir string) (*DB, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("data directory %s: %w", dir, err)
	}
	privateDir(dir)
	path, keyPath := filepath.Join(dir, DBFile), filepath.Join(dir, KeyFile)
	key, err := readKey(keyPath)
	if err != nil {
		return nil, err
	}
	if key != nil && isEmpty(path) {
		return nil, fmt.Errorf("%s is missing or empty but %s is there, so the log made with that key is gone: "+
			"restore %s from the backup made with %s; to start a new, empty log on purpose, first move %s out of %s",
			path, keyPath, DBFile, KeyFile, KeyFile, dir)
	}
	// Made here rather than by SQLite, so the mode is 0600 whatever the
	// umask; -wal and -shm then follow it.
	for _, f := range []string{path, path + "-wal", path + "-shm", keyPath} {
		if err := privateFile(f, f == path); err != nil {
			return nil, readOnlyErr(f, err)
		}
	}
	db, err := sql.Open("sqlite3", "file:"+path+"?_journal_mode=WAL&_synchronous=FULL&_foreign_keys=on&_busy_timeout=5000&_txlock=immediate")
	if err != nil {
		return nil, err
	}
	d := &DB{sql: db, path: path, columns: columns}
	if err := d.setUp(key, keyPath); err != nil {
		db.Close()
		return nil, err
	}
	return d, nil
}

// setUp checks the file and its key before anything is written, then
// migrates and, on a new log or on the first open after the key check came
// in, stores the key check value.
func (d *DB) setUp(key []byte, keyPath string) error {
	if err := d.quickCheck(); err != nil {
		return err
	}
	st, err := d.keyState()
	if err != nil {
		return fmt.Errorf("open %s: %w", d.path, explain(err))
	}
	pending := keyPath + ".new"
	isNew := false
	switch {
	case key == nil && st.check != nil:
		// A first start that stopped after storing the check value but
		// before naming the key file is finished here.
		if k, _ := readKey(pending); k != nil && hmac.Equal(st.check, seal.Check(k)) {
			key, isNew = k, true
		} else {
			return errKeyMissing(keyPath, d.path)
		}
	case key == nil && st.holdsData:
		return errKeyMissing(keyPath, d.path)
	case key == nil:
		key, isNew = seal.NewKey(), true
		if err := writeKey(pending, key); err != nil {
			return err
		}
	}
	if err := d.useKey(key, keyPath, st); err != nil {
		return err
	}
	if err := d.migrate(); err != nil {
		return fmt.Errorf("open %s: %w", d.path, explain(err))
	}
	if st.check == nil {
		if _, err := d.sql.Exec(`INSERT INTO key_check (id, value, made_at) VALUES (1, ?, ?)`, seal.Check(key), time.Now().UnixMilli()); err != nil {
			return fmt.Errorf("open %s: %w", d.path, explain(err))
		}
	}
	if isNew {
		// Named only now: a visits.key always has a database that knows it.
		if err := os.Rename(pending, keyPath); err != nil {
			return fmt.Errorf("create %s: %w", keyPath, err)
		}
		syncDir(filepath.Dir(keyPath))
	}
	return nil
}

// isEmpty says whether there is no database at path: no file, or a
// zero-length one with no write-ahead log holding its pages.
func isEmpty(path string) bool {
	for _, f := range []string{path, path + "-wal"} {
		if st, err := os.Stat(f); err == nil && st.Size() > 0 {
			return false
		}
	}
	return true
}

// quickCheck runs SQLite's quick_check, so that damage to the file's
// structure is found at start and not months later at export. On a log of
// 100,000 visits (32 MB) it takes about 0.1 s with the file in the page
// cache and 0.75 s from disk (BenchmarkQuickCheck100k). It reads pages, not
// values: a flipped byte inside a value is found when that row is read
// (by the AES-GCM tag for names and masked ids).
func (d *DB) quickCheck() error {
	rows, err := d.sql.Query(`PRAGMA quick_check(3)`)
	var problems []string
	if err == nil {
		for rows.Next() {
			var s string
			rows.Scan(&s)
			problems = append(problems, s)
		}
		err = rows.Err()
		rows.Close()
	}
	var se sqlite3.Error
	switch {
	case errors.As(err, &se) && (se.Code == sqlite3.ErrCorrupt || se.Code == sqlite3.ErrNotADB):
		problems = []string{se.Error()}
	case err != nil:
		return fmt.Errorf("open %s: %w", d.path, explain(err))
	case len(problems) == 1 && problems[0] == "ok":
		return nil
	}
	return fmt.Errorf("%s is damaged (quick_check: %s): restore %s together with %s from the backup",
		d.path, strings.ReplaceAll(strings.Join(problems, "; "), "\n", " "), DBFile, KeyFile)
}

// Close closes the database.
func (d *DB) Close() error { return d.sql.Close() }

// Path is the database file.
func (d *DB) Path() string { return d.path }

func (d *DB) migrate() error {
	if _, err := d.sql.Exec(`CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
		return err
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		var version int
		if _, err := fmt.Sscanf(filepath.Base(name), "%d_", &version); err != nil {
			return fmt.Errorf("migration %s: name must start with its number", name)
		}
		body, _ := migrations.ReadFile(name)
		if err := d.apply(version, string(body)); err != nil {
			return fmt.Errorf("migration %s: %w", name, err)
		}
	}
	return nil
}

func (d *DB) apply(version int, body string) error {
	tx, err := d.sql.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRow(`SELECT COUNT(*) FROM schema_migrations WHERE version = ?`, version).Scan(&n); err != nil || n > 0 {
		return err
	}
	if _, err := tx.Exec(body); err != nil {
		return err
	}
	if _, err := tx.Exec(`INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`, version, time.Now().UnixMilli()); err != nil {
		return err
	}
	return tx.Commit()
}

// PersonKey is HMAC-SHA256 of the upper-cased UIN/FIN with this install's
// secret: the same person gives the same key here and nowhere else.
func (d *DB) PersonKey(uinfin string) []byte { return d.box.PersonKey(uinfin) }

// seal encrypts a personal value, bound to its column and row reference so
// that ciphertexts cannot be swapped between rows.
func (d *DB) seal(column, ref, value string) []byte { return d.box.Seal(column, ref, value) }

func (d *DB) open(column, ref string, b []byte) (string, error) {
	out, err := d.box.Open(column, ref, b)
	switch {
	case errors.Is(err, seal.ErrDamaged):
		return "", fmt.Errorf("visit %s: %s is damaged", ref, column)
	case err != nil:
		return "", fmt.Errorf("visit %s: %s does not decrypt with %s", ref, column, KeyFile)
	}
	return out, nil
}

func ms(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMilli()
}

// Save writes one visit in one transaction, with its signed document when
// it has one.
func (d *DB) Save(ctx context.Context, v kiosk.Visit) (int64, error) {
	tx, err := d.sql.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("save visit: %w", explain(err))
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `INSERT INTO visits (kiosk_id, mode, txn_ref, attributes, started_at, decided_at,
		checked_out_at, outcome, reason, masked_id, name, host, purpose, face_result, face_score, person_key, sandbox)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		v.KioskID, v.Mode, v.TxnRef, strings.Join(v.Attributes, ","), v.StartedAt.UnixMilli(), v.DecidedAt.UnixMilli(),
		ms(v.CheckedOutAt), string(v.Outcome), v.Reason, d.seal("masked_id", v.TxnRef, v.MaskedID),
		d.seal("name", v.TxnRef, v.Name), v.Host, v.Purpose, v.FaceResult, nullScore(v), v.PersonKey, v.Sandbox)
	if err != nil {
		return 0, fmt.Errorf("save visit: %w", explain(err))
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, fmt.Errorf("save visit: %w", explain(err))
	}
	if len(v.Document) > 0 {
		if _, err := tx.ExecContext(ctx, `INSERT INTO documents (visit_id, document, stored_at) VALUES (?, ?, ?)`,
			id, d.seal(DocumentColumn, v.TxnRef, string(v.Document)), v.DecidedAt.UnixMilli()); err != nil {
			return 0, fmt.Errorf("save visit: %w", explain(err))
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("save visit: %w", explain(err))
	}
	return id, nil
}

// DocumentColumn is the name a signed document is sealed under, with its
// visit's txn_ref.
const DocumentColumn = "document"

// Documents calls fn with each signed document of the visits that started
// in f's period (From and To only), oldest first, decrypted. Visits are
// read without their documents everywhere else: these are large.
func (d *DB) Documents(ctx context.Context, f kiosk.VisitFilter, fn func(visitID int64, pdf []byte) error) error {
	var tables int
	if err := d.sql.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'documents'`).Scan(&tables); err != nil {
		return explain(err)
	}
	if tables == 0 {
		return nil // a log from before signing (read-only, not migrated) has none
	}
	q := `SELECT v.id, v.txn_ref, d.document FROM documents d JOIN visits v ON v.id = d.visit_id WHERE 1=1`
	var args []any
	if !f.From.IsZero() {
		q += ` AND v.started_at >= ?`
		args = append(args, f.From.UnixMilli())
	}
	if !f.To.IsZero() {
		q += ` AND v.started_at < ?`
		args = append(args, f.To.UnixMilli())
	}
	rows, err := d.sql.QueryContext(ctx, q+` ORDER BY v.started_at, v.id`, args...)
	if err != nil {
		return explain(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var ref string
		var ct []byte
		if err := rows.Scan(&id, &ref, &ct); err != nil {
			return err
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

func nullScore(v kiosk.Visit) any {
	if v.FaceResult == "" {
		return nil
	}
	return v.FaceScore
}

const columns = `id, kiosk_id, mode, txn_ref, attributes, started_at, decided_at, checked_out_at, outcome, reason,
	masked_id, name, host, purpose, face_result, face_score, person_key, sandbox`

func (d *DB) scan(rows interface{ Scan(...any) error }) (kiosk.Visit, error) {
	var (
		v                kiosk.Visit
		attrs, outcome   string
		started, decided int64
		checkedOut       sql.NullInt64
		score            sql.NullFloat64
		maskedCT, nameCT []byte
	)
	if err := rows.Scan(&v.ID, &v.KioskID, &v.Mode, &v.TxnRef, &attrs, &started, &decided, &checkedOut, &outcome, &v.Reason,
		&maskedCT, &nameCT, &v.Host, &v.Purpose, &v.FaceResult, &score, &v.PersonKey, &v.Sandbox); err != nil {
		return v, err
	}
	if attrs != "" {
		v.Attributes = strings.Split(attrs, ",")
	}
	v.StartedAt, v.DecidedAt = time.UnixMilli(started), time.UnixMilli(decided)
	if checkedOut.Valid {
		v.CheckedOutAt = time.UnixMilli(checkedOut.Int64)
	}
	v.Outcome, v.FaceScore = kiosk.Outcome(outcome), score.Float64
	var err error
	if v.MaskedID, err = d.open("masked_id", v.TxnRef, maskedCT); err != nil {
		return v, err
	}
	v.Name, err = d.open("name", v.TxnRef, nameCT)
	return v, err
}

// OpenVisit returns the person's latest visit since the given time that is
// not checked out.
func (d *DB) OpenVisit(ctx context.Context, personKey []byte, since time.Time) (kiosk.Visit, error) {
	row := d.sql.QueryRowContext(ctx, `SELECT `+d.columns+` FROM visits WHERE person_key = ? AND checked_out_at IS NULL
		AND mode = ? AND outcome = ? AND started_at >= ? ORDER BY started_at DESC LIMIT 1`,
		personKey, kiosk.ModeVisitor, string(kiosk.OutcomeCheckedIn), since.UnixMilli())
	v, err := d.scan(row)
	if errors.Is(err, sql.ErrNoRows) {
		return v, kiosk.ErrNotFound
	}
	return v, explain(err)
}

// CheckOut ends a visit.
func (d *DB) CheckOut(ctx context.Context, id int64, at time.Time) error {
	res, err := d.sql.ExecContext(ctx, `UPDATE visits SET checked_out_at = ? WHERE id = ? AND checked_out_at IS NULL`, at.UnixMilli(), id)
	if err != nil {
		return fmt.Errorf("check out: %w", explain(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return kiosk.ErrNotFound
	}
	return nil
}

// Denied reports whether the person is on the deny list.
func (d *DB) Denied(ctx context.Context, personKey []byte) (bool, error) {
	var n int
	err := d.sql.QueryRowContext(ctx, `SELECT COUNT(*) FROM deny_list WHERE person_key = ?`, personKey).Scan(&n)
	return n > 0, explain(err)
}

// Deny adds a person to the deny list by their keyed hash.
func (d *DB) Deny(ctx context.Context, personKey []byte, note string, at time.Time) error {
	_, err := d.sql.ExecContext(ctx, `INSERT INTO deny_list (person_key, added_at, note) VALUES (?, ?, ?)
		ON CONFLICT (person_key) DO UPDATE SET note = excluded.note`, personKey, at.UnixMilli(), note)
	return explain(err)
}

// Allow removes a person from the deny list.
func (d *DB) Allow(ctx context.Context, personKey []byte) error {
	_, err := d.sql.ExecContext(ctx, `DELETE FROM deny_list WHERE person_key = ?`, personKey)
	return explain(err)
}

// Visits lists visits, newest first. The name filter is applied after
// decryption, so it never reaches SQL.
func (d *DB) Visits(ctx context.Context, f kiosk.VisitFilter) ([]kiosk.Visit, error) {
	var out []kiosk.Visit
	err := d.each(ctx, f, "DESC", func(v kiosk.Visit) error {
		out = append(out, v)
		return nil
	})
	return out, err
}

// each calls fn for every visit that matches f, in started_at order.
func (d *DB) each(ctx context.Context, f kiosk.VisitFilter, order string, fn func(kiosk.Visit) error) error {
	q := `SELECT ` + d.columns + ` FROM visits WHERE 1=1`
	var args []any
	if !f.From.IsZero() {
		q += ` AND started_at >= ?`
		args = append(args, f.From.UnixMilli())
	}
	if !f.To.IsZero() {
		q += ` AND started_at < ?`
		args = append(args, f.To.UnixMilli())
	}
	if f.Host != "" {
		q += ` AND host LIKE ? ESCAPE '\'`
		args = append(args, "%"+LikeEscape(f.Host)+"%")
	}
	q += ` ORDER BY started_at ` + order + `, id ` + order
	sqlPaging := f.Name == ""
	if sqlPaging && f.Limit > 0 {
		q += ` LIMIT ? OFFSET ?`
		args = append(args, f.Limit, f.Offset)
	}
	rows, err := d.sql.QueryContext(ctx, q, args...)
	if err != nil {
		return explain(err)
	}
	defer rows.Close()
	if !sqlPaging {
		fn = ByName(f, fn)
	}
	for rows.Next() {
		v, err := d.scan(rows)
		if err != nil {
			return err
		}
		if err := fn(v); errors.Is(err, ErrEnough) {
			return nil
		} else if err != nil {
			return err
		}
	}
	return explain(rows.Err())
}

// ErrEnough stops a walk over visits early: ByName has its page.
var ErrEnough = errors.New("enough visits")

// ByName wraps fn for a filter whose name part cannot be done in SQL (the
// names are sealed): it passes on the visits whose decrypted name contains
// f.Name, from f.Offset and at most f.Limit of them, then returns
// ErrEnough.
func ByName(f kiosk.VisitFilter, fn func(kiosk.Visit) error) func(kiosk.Visit) error {
	name := strings.ToLower(f.Name)
	skipped, taken := 0, 0
	return func(v kiosk.Visit) error {
		switch {
		case !strings.Contains(strings.ToLower(v.Name), name):
			return nil
		case skipped < f.Offset:
			skipped++
			return nil
		case f.Limit > 0 && taken >= f.Limit:
			return ErrEnough
		}
		taken++
		return fn(v)
	}
}

// LikeEscape escapes the LIKE wildcards in s (with \ as ESCAPE).
func LikeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// Purge deletes visits that started before cutoff.
func (d *DB) Purge(ctx context.Context, cutoff time.Time) (int64, error) {
	res, err := d.sql.ExecContext(ctx, `DELETE FROM visits WHERE started_at < ?`, cutoff.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("purge: %w", explain(err))
	}
	return res.RowsAffected()
}

// IntegrityCheck runs SQLite's integrity_check and returns its verdict.
func (d *DB) IntegrityCheck(ctx context.Context) (string, error) {
	var s string
	err := d.sql.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&s)
	return s, err
}

// explain turns SQLite's codes into a *kiosk.StoreError that says what
// happened and what to do.
func explain(err error) error {
	var se sqlite3.Error
	if !errors.As(err, &se) {
		return err
	}
	e := func(reason, action string) error { return &kiosk.StoreError{Reason: reason, Action: action} }
	switch se.Code {
	case sqlite3.ErrFull:
		return e("the disk is full", "free space in the data directory")
	case sqlite3.ErrReadonly, sqlite3.ErrPerm, sqlite3.ErrCantOpen:
		return e("the database is read-only", "check the data directory's permissions and free space")
	case sqlite3.ErrBusy, sqlite3.ErrLocked:
		return e("the database is locked", "close the other program that holds "+DBFile)
	case sqlite3.ErrCorrupt, sqlite3.ErrNotADB:
		return e("the database file is damaged", "restore "+DBFile+" from backup")
	case sqlite3.ErrIoErr:
		return e("the disk reported an error", fmt.Sprintf("check the disk (%v)", se.ExtendedCode))
	}
	return err
}

// Visit returns one visit by id.
func (d *DB) Visit(ctx context.Context, id int64) (kiosk.Visit, error) {
	v, err := d.scan(d.sql.QueryRowContext(ctx, `SELECT `+d.columns+` FROM visits WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return v, kiosk.ErrNotFound
	}
	return v, explain(err)
}

// DenyVisitor puts the person of visit id on the deny list (deny) or takes
// them off it, and returns that visit's masked id. The list holds keyed
// hashes only, so a person is named by one of their visits.
func (d *DB) DenyVisitor(ctx context.Context, id int64, deny bool, note string, at time.Time) (string, error) {
	return DenyVisitor(ctx, d, id, deny, note, at)
}

// DenyList is what DenyVisitor needs of a visit log: the SQLite one here,
// or the hub's PostgreSQL one.
type DenyList interface {
	Visit(ctx context.Context, id int64) (kiosk.Visit, error)
	Deny(ctx context.Context, personKey []byte, note string, at time.Time) error
	Allow(ctx context.Context, personKey []byte) error
}

// DenyVisitor puts the person of visit id in log l on the deny list (deny)
// or takes them off it, and returns that visit's masked id. The list holds
// keyed hashes only, so a person is named by one of their visits.
func DenyVisitor(ctx context.Context, d DenyList, id int64, deny bool, note string, at time.Time) (string, error) {
	v, err := d.Visit(ctx, id)
	if err != nil {
		return "", fmt.Errorf("visit %d: %w", id, err)
	}
	if len(v.PersonKey) == 0 {
		return "", fmt.Errorf("visit %d has no person key (only visitor-mode visits identify a person)", id)
	}
	if deny {
		return v.MaskedID, d.Deny(ctx, v.PersonKey, note, at)
	}
	return v.MaskedID, d.Allow(ctx, v.PersonKey)
}

// ReadAll reads and decrypts every visit and returns how many there are:
// a value damaged inside a row, which quick_check cannot see, is found
// here rather than at the next export.
func (d *DB) ReadAll(ctx context.Context) (int, error) {
	n := 0
	err := d.each(ctx, kiosk.VisitFilter{}, "ASC", func(kiosk.Visit) error {
		n++
		return nil
	})
	return n, err
}
