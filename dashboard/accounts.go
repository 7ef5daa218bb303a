package dashboard

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"golang.org/x/crypto/argon2"

	"ndikiosk/pgstore"
)

// Role is what an operator may do: a viewer sees, an admin also edits the
// deny list, exports, and registers or deletes.
type Role string

// Roles.
const (
	Viewer Role = "viewer"
	Admin  Role = "admin"
)

// ParseRole checks a role's name.
func ParseRole(s string) (Role, error) {
	switch r := Role(strings.TrimSpace(strings.ToLower(s))); r {
	case Viewer, Admin:
		return r, nil
	}
	return "", fmt.Errorf("role %q: use viewer or admin", s)
}

// can reports whether role r may do what needs role need.
func (r Role) can(need Role) bool { return need == Viewer || r == Admin }

// Operator is a staff account.
type Operator struct {
	ID        int64
	Name      string
	Role      Role
	CreatedAt time.Time
}

// Limits of a name and a password.
const (
	MaxName     = 64
	MinPassword = 12
	MaxPassword = 256
)

// ErrName and ErrPassword say what a name or password must be.
var (
	ErrName     = fmt.Errorf("an operator's name is 1–%d letters, digits, dots, hyphens or underscores", MaxName)
	ErrPassword = fmt.Errorf("a password is %d–%d characters", MinPassword, MaxPassword)
	ErrExists   = errors.New("an operator of that name exists already")
	ErrNoSuch   = errors.New("no operator of that name")
)

// CheckName says why s cannot name an operator.
func CheckName(s string) error {
	if s == "" || utf8.RuneCountInString(s) > MaxName {
		return ErrName
	}
	for _, r := range s {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !strings.ContainsRune(".-_", r) {
			return ErrName
		}
	}
	return nil
}

// CheckPassword says why p cannot be a password.
func CheckPassword(p string) error {
	if n := utf8.RuneCountInString(p); n < MinPassword || n > MaxPassword || !utf8.ValidString(p) {
		return ErrPassword
	}
	return nil
}

// Argon2id parameters for new hashes (RFC 9106's second recommended
// option, with OWASP's memory floor): 19 MiB, 2 passes, 1 lane.
const (
	argonMemory  = 19 * 1024
	argonTime    = 2
	argonThreads = 1
	argonKeyLen  = 32
	saltLen      = 16
)

// HashPassword makes a PHC-style argon2id string:
// $argon2id$v=19$m=…,t=…,p=…$salt$hash, both base64 without padding.
func HashPassword(p string) string {
	salt := make([]byte, saltLen)
	rand.Read(salt)
	key := argon2.IDKey([]byte(p), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}

// CheckHash reports whether p matches the argon2id string h, in time that
// does not depend on where they differ. A damaged string or one with
// parameters out of bounds matches nothing.
func CheckHash(h, p string) bool {
	parts := strings.Split(h, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return false
	}
	var m, t uint32
	var lanes uint8
	if n, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &lanes); n != 3 || err != nil {
		return false
	}
	if m < 8*1024 || m > 1<<20 || t < 1 || t > 10 || lanes < 1 || lanes > 8 {
		return false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(salt) < 8 || len(want) < 16 || len(want) > 64 {
		return false
	}
	got := argon2.IDKey([]byte(p), salt, t, m, lanes, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// dummyHash is checked against when no operator has the name typed, so
// that a sign-in takes as long whether or not the name exists.
var dummyHash = HashPassword("not anyone's password, ever")

// Accounts keeps operators, their sessions and failed sign-ins in the
// hub's database.
type Accounts struct {
	pool *pgxpool.Pool
	now  func() time.Time
	// nameKey is what a failed sign-in's typed name is kept as: keyed
	// with the hub's log key (Dashboard sets it), so that a password typed
	// into the name field cannot be recovered by hashing guesses.
	nameKey func(string) []byte
	checks  chan struct{} // one a password check running: argon2id holds 19 MiB each
}

// MaxChecks is how many password checks run at once; a sign-in waits up
// to CheckWait for its turn and is then refused with ErrBusy. Unbounded,
// a flood of sign-ins (all let past the lockout before any failure is
// counted) would hold 19 MiB each at once and could run the hub out of
// memory.
const (
	MaxChecks = 4
	CheckWait = 10 * time.Second
)

// ErrBusy is a sign-in refused because too many were being checked.
var ErrBusy = errors.New("the hub is checking too many sign-ins; try again in a moment")

// NewAccounts uses the hub's database (pgstore.DB.Pool); now may be nil.
func NewAccounts(pool *pgxpool.Pool, now func() time.Time) *Accounts {
	if now == nil {
		now = time.Now
	}
	return &Accounts{pool: pool, now: now, nameKey: tokenHash, checks: make(chan struct{}, MaxChecks)}
}

// keyNames keeps failed sign-ins' names keyed with the hub's log key.
func (a *Accounts) keyNames(db *pgstore.DB) *Accounts {
	a.nameKey = func(name string) []byte { return db.Keyed("dashboard sign-in name", name) }
	return a
}

// Add makes an operator.
func (a *Accounts) Add(ctx context.Context, name string, role Role, password string) error {
	if err := CheckName(name); err != nil {
		return err
	}
	if _, err := ParseRole(string(role)); err != nil {
		return err
	}
	if err := CheckPassword(password); err != nil {
		return err
	}
	now := a.now()
	_, err := a.pool.Exec(ctx, `INSERT INTO operators (name, role, password_hash, created_at, changed_at) VALUES ($1, $2, $3, $4, $4)`,
		name, string(role), HashPassword(password), now)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" {
		return ErrExists
	}
	return err
}

// Remove deletes an operator and signs them out everywhere.
func (a *Accounts) Remove(ctx context.Context, name string) error {
	tag, err := a.pool.Exec(ctx, `DELETE FROM operators WHERE lower(name) = lower($1)`, name)
	if err == nil && tag.RowsAffected() == 0 {
		return ErrNoSuch
	}
	return err
}

// SetPassword changes an operator's password and ends their sessions.
func (a *Accounts) SetPassword(ctx context.Context, name, password string) error {
	if err := CheckPassword(password); err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, a.pool, func(tx pgx.Tx) error {
		var id int64
		err := tx.QueryRow(ctx, `UPDATE operators SET password_hash = $2, changed_at = $3 WHERE lower(name) = lower($1) RETURNING id`,
			name, HashPassword(password), a.now()).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNoSuch
		}
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM operator_sessions WHERE operator_id = $1`, id)
		return err
	})
}

// List lists the operators by name.
func (a *Accounts) List(ctx context.Context) ([]Operator, error) {
	rows, err := a.pool.Query(ctx, `SELECT id, name, role, created_at FROM operators ORDER BY lower(name)`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Operator, error) {
		var o Operator
		return o, r.Scan(&o.ID, &o.Name, &o.Role, &o.CreatedAt)
	})
}

// Lockout rules: LockAfter failures for one name within LockWindow lock
// that name for LockFor; ClientLockAfter failures from one address (on
// IPv6, one /64) within the window lock that address.
const (
	LockAfter       = 5
	ClientLockAfter = 20
	LockWindow      = 15 * time.Minute
	LockFor         = 15 * time.Minute
)

// LockedError says how long sign-in is refused.
type LockedError struct{ Left time.Duration }

func (e *LockedError) Error() string {
	min := int((e.Left + time.Minute - 1) / time.Minute)
	if min < 1 {
		min = 1
	}
	unit := "minutes"
	if min == 1 {
		unit = "minute"
	}
	return fmt.Sprintf("Sign-in is locked after too many failed attempts; try again in %d %s.", min, unit)
}

// ErrSignIn is every other refusal: it does not tell a wrong name from a
// wrong password.
var ErrSignIn = errors.New("that name and password do not match an operator")

// locked reports how long sign-in for name from client stays locked (0: not).
func (a *Accounts) locked(ctx context.Context, name, client string, now time.Time) (time.Duration, error) {
	var left time.Duration
	for _, q := range []struct {
		col   string
		key   any
		after int
	}{{"name", a.nameKey(name), LockAfter}, {"client", client, ClientLockAfter}} {
		var n int
		var last *time.Time
		err := a.pool.QueryRow(ctx, `SELECT count(*), max(failed_at) FROM signin_failures WHERE `+q.col+` = $1 AND failed_at > $2`,
			q.key, now.Add(-LockWindow)).Scan(&n, &last)
		if err != nil {
			return 0, err
		}
		if n >= q.after && last != nil {
			left = max(left, last.Add(LockFor).Sub(now))
		}
	}
	return left, nil
}

// clientKey is what failed sign-ins are counted against for client: an
// IPv6 address's /64 (one subscriber's, whose addresses it may rotate
// through at will), any other address as it is.
func clientKey(client string) string {
	a, err := netip.ParseAddr(client)
	if err != nil || !a.Unmap().Is6() {
		return client
	}
	p, _ := a.Unmap().WithZone("").Prefix(64)
	return p.String()
}

// SignIn checks a name and password and opens a session. It returns the
// session's token (for the cookie), ErrSignIn or a *LockedError.
func (a *Accounts) SignIn(ctx context.Context, name, password, client string) (string, error) {
	now := a.now()
	client = clientKey(client)
	key := strings.ToLower(strings.TrimSpace(name))
	if utf8.RuneCountInString(key) > MaxName {
		key = string([]rune(key)[:MaxName])
	}
	left, err := a.locked(ctx, key, client, now)
	if err != nil {
		return "", err
	}
	if left > 0 {
		return "", &LockedError{Left: left}
	}
	var id int64
	hash := dummyHash
	err = a.pool.QueryRow(ctx, `SELECT id, password_hash FROM operators WHERE lower(name) = $1`, key).Scan(&id, &hash)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return "", err
	}
	if err := a.takeCheck(ctx); err != nil {
		return "", err
	}
	ok := CheckHash(hash, password) && err == nil && len(password) <= MaxPassword*4
	<-a.checks
	if !ok {
		if _, err := a.pool.Exec(ctx, `WITH gone AS (DELETE FROM signin_failures WHERE failed_at < $4)
			INSERT INTO signin_failures (name, client, failed_at) VALUES ($1, $2, $3)`, a.nameKey(key), client, now, now.Add(-LockWindow)); err != nil {
			return "", err
		}
		if left, err := a.locked(ctx, key, client, now); err == nil && left > 0 {
			return "", &LockedError{Left: left}
		}
		return "", ErrSignIn
	}
	token := newToken()
	_, err = a.pool.Exec(ctx, `WITH f AS (DELETE FROM signin_failures WHERE name = $3)
		INSERT INTO operator_sessions (token_hash, operator_id, created_at, last_seen) VALUES ($1, $2, $4, $4)`,
		tokenHash(token), id, tokenHash(key), now)
	if err != nil {
		return "", err
	}
	return token, nil
}

// takeCheck waits for a password check's slot (see MaxChecks).
func (a *Accounts) takeCheck(ctx context.Context) error {
	wait := time.NewTimer(CheckWait)
	defer wait.Stop()
	select {
	case a.checks <- struct{}{}:
		return nil
	case <-wait.C:
	case <-ctx.Done():
	}
	return ErrBusy
}

// Session timeouts.
const (
	IdleTimeout     = 30 * time.Minute
	AbsoluteTimeout = 12 * time.Hour
)

// Session is a signed-in operator.
type Session struct {
	Operator
	token string
}

// CSRF is the session's form token: an HMAC of the session's token, so
// nothing more is stored and it changes with every session.
func (s *Session) CSRF() string { return csrfOf(s.token) }

// ErrNoSession is a missing, unknown or expired session.
var ErrNoSession = errors.New("not signed in")

// Session finds the live session of token; touch counts the request as
// the operator's activity (automatic refreshes do not).
func (a *Accounts) Session(ctx context.Context, token string, touch bool) (*Session, error) {
	if token == "" || len(token) > 100 {
		return nil, ErrNoSession
	}
	now := a.now()
	s := &Session{token: token}
	var last, created time.Time
	err := a.pool.QueryRow(ctx, `SELECT o.id, o.name, o.role, o.created_at, s.created_at, s.last_seen FROM operator_sessions s
		JOIN operators o ON o.id = s.operator_id WHERE s.token_hash = $1`, tokenHash(token)).
		Scan(&s.ID, &s.Name, &s.Role, &s.CreatedAt, &created, &last)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNoSession
	}
	if err != nil {
		return nil, err
	}
	if now.Sub(last) > IdleTimeout || now.Sub(created) > AbsoluteTimeout {
		a.SignOut(ctx, token)
		return nil, ErrNoSession
	}
	if touch {
		if _, err := a.pool.Exec(ctx, `UPDATE operator_sessions SET last_seen = $2 WHERE token_hash = $1`, tokenHash(token), now); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// SignOut ends the session of token.
func (a *Accounts) SignOut(ctx context.Context, token string) error {
	_, err := a.pool.Exec(ctx, `DELETE FROM operator_sessions WHERE token_hash = $1`, tokenHash(token))
	return err
}

func newToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func tokenHash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}
