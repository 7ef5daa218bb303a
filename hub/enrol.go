// Package hub is the fleet's side of ndikiosk: the relying party and the
// one public front door for many kiosks, which connect to it outbound.
// This file keeps the kiosks' identities: one-time enrolment tokens,
// per-kiosk credentials, and revocation.
package hub

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Token prefixes tell an enrolment token from a credential at a glance (in
// a config file, a support ticket) and make a swapped one fail clearly.
const (
	enrolPrefix      = "ndk-enrol-"
	credentialPrefix = "ndk-kiosk-"
)

// EnrolmentLifetime is how long an enrolment token can be redeemed.
const EnrolmentLifetime = 24 * time.Hour

// Registry keeps the fleet's kiosks in the hub's database.
type Registry struct {
	pool *pgxpool.Pool
	now  func() time.Time
}

// NewRegistry uses the hub's database (pgstore.DB.Pool); now may be nil.
func NewRegistry(pool *pgxpool.Pool, now func() time.Time) *Registry {
	if now == nil {
		now = time.Now
	}
	return &Registry{pool: pool, now: now}
}

var kioskIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,39}$`)

// CheckKioskID says why id cannot name a kiosk: it appears in every QR's
// state and in logs, so it is short, lower case and plain.
func CheckKioskID(id string) error {
	if !kioskIDPattern.MatchString(id) {
		return fmt.Errorf("kiosk id %q: use 1–40 lower-case letters, digits and hyphens, starting with a letter or digit (e.g. lobby-1)", id)
	}
	return nil
}

func secret(prefix string) (token string, hash []byte) {
	b := make([]byte, 32)
	rand.Read(b)
	token = prefix + base64.RawURLEncoding.EncodeToString(b)
	return token, hashOf(token)
}

func hashOf(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// Enrol registers kiosk id (or re-enrols a revoked or lost one) and returns
// a one-time enrolment token for it. Earlier unused tokens for the kiosk
// stop working; its current credential keeps working until the new token
// is redeemed.
func (r *Registry) Enrol(ctx context.Context, id string) (string, error) {
	if err := CheckKioskID(id); err != nil {
		return "", err
	}
	now := r.now()
	token, hash := secret(enrolPrefix)
	err := pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO kiosks (id, created_at) VALUES ($1, $2)
			ON CONFLICT (id) DO UPDATE SET revoked_at = NULL`, id, now); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM kiosk_enrolments WHERE kiosk_id = $1 AND used_at IS NULL`, id); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO kiosk_enrolments (token_hash, kiosk_id, created_at, expires_at) VALUES ($1, $2, $3, $4)`,
			hash, id, now, now.Add(EnrolmentLifetime))
		return err
	})
	if err != nil {
		return "", fmt.Errorf("enrol %s: %w", id, err)
	}
	return token, nil
}

// ErrRefused is every failed redemption or authentication: unknown,
// expired, used or revoked look the same to the caller, who may be anyone.
var ErrRefused = errors.New("not a valid kiosk token or credential")

// Redeem trades an enrolment token for the kiosk's credential, once. The
// kiosk's earlier credentials are revoked: the kiosk that enrols is the one
// that counts.
func (r *Registry) Redeem(ctx context.Context, token string) (kioskID, credential string, err error) {
	if !strings.HasPrefix(token, enrolPrefix) {
		return "", "", ErrRefused
	}
	now := r.now()
	credential, credHash := secret(credentialPrefix)
	err = pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `UPDATE kiosk_enrolments e SET used_at = $2 FROM kiosks k
			WHERE e.token_hash = $1 AND e.used_at IS NULL AND e.expires_at > $2 AND k.id = e.kiosk_id AND k.revoked_at IS NULL
			RETURNING e.kiosk_id`, hashOf(token), now).Scan(&kioskID)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrRefused
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE kiosk_credentials SET revoked_at = $2 WHERE kiosk_id = $1 AND revoked_at IS NULL`, kioskID, now); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO kiosk_credentials (secret_hash, kiosk_id, issued_at) VALUES ($1, $2, $3)`, credHash, kioskID, now)
		return err
	})
	if err != nil {
		return "", "", err
	}
	return kioskID, credential, nil
}

// Authenticate returns the kiosk a credential belongs to, if it is live,
// and notes when it was last seen.
func (r *Registry) Authenticate(ctx context.Context, credential string) (string, error) {
	if !strings.HasPrefix(credential, credentialPrefix) {
		return "", ErrRefused
	}
	var id string
	err := r.pool.QueryRow(ctx, `UPDATE kiosk_credentials c SET last_seen = $2 FROM kiosks k
		WHERE c.secret_hash = $1 AND c.revoked_at IS NULL AND k.id = c.kiosk_id AND k.revoked_at IS NULL
		RETURNING c.kiosk_id`, hashOf(credential), r.now()).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", ErrRefused
	}
	return id, err
}

// Revoke cuts kiosk id off: its credential and any unused enrolment token
// stop working at once. Connected sessions are closed by the hub, which
// re-authenticates them (see Live).
func (r *Registry) Revoke(ctx context.Context, id string) error {
	now := r.now()
	return pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE kiosks SET revoked_at = $2 WHERE id = $1`, id, now)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("no kiosk %q is enrolled", id)
		}
		if _, err := tx.Exec(ctx, `UPDATE kiosk_credentials SET revoked_at = $2 WHERE kiosk_id = $1 AND revoked_at IS NULL`, id, now); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM kiosk_enrolments WHERE kiosk_id = $1 AND used_at IS NULL`, id); err != nil {
			return err
		}
		// Delivered at commit to every hub replica, which drops the
		// kiosk's connection if it holds it.
		_, err = tx.Exec(ctx, `SELECT pg_notify($1, $2)`, chanRevoke, id)
		return err
	})
}

// Live reports whether kiosk id may still be connected: enrolled and not
// revoked.
func (r *Registry) Live(ctx context.Context, id string) (bool, error) {
	var live bool
	err := r.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM kiosks WHERE id = $1 AND revoked_at IS NULL)`, id).Scan(&live)
	return live, err
}

// Overrides are kiosk id's own settings (kiosks.settings).
func (r *Registry) Overrides(ctx context.Context, id string) (Overrides, error) {
	var o Overrides
	err := r.pool.QueryRow(ctx, `SELECT settings FROM kiosks WHERE id = $1`, id).Scan(&o)
	return o, err
}

// SetOverrides replaces kiosk id's own settings; they apply when it next
// connects.
func (r *Registry) SetOverrides(ctx context.Context, id string, o Overrides) error {
	tag, err := r.pool.Exec(ctx, `UPDATE kiosks SET settings = $2 WHERE id = $1`, id, o)
	if err == nil && tag.RowsAffected() == 0 {
		err = fmt.Errorf("no kiosk %q is enrolled", id)
	}
	return err
}

// KioskRecord is an enrolled kiosk as the registry keeps it.
type KioskRecord struct {
	ID        string
	CreatedAt time.Time
	Revoked   bool
	LastSeen  time.Time // its credential's last use (zero: never connected)
	Venue     string    // its own venue, if not the hub's
}

// List lists the enrolled kiosks, by id.
func (r *Registry) List(ctx context.Context) ([]KioskRecord, error) {
	rows, err := r.pool.Query(ctx, `SELECT k.id, k.created_at, k.revoked_at IS NOT NULL, COALESCE(max(c.last_seen), 'epoch'::timestamptz),
		COALESCE(k.settings->>'venue', '') FROM kiosks k LEFT JOIN kiosk_credentials c ON c.kiosk_id = k.id GROUP BY k.id ORDER BY k.id`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (KioskRecord, error) {
		var k KioskRecord
		err := row.Scan(&k.ID, &k.CreatedAt, &k.Revoked, &k.LastSeen, &k.Venue)
		if k.LastSeen.Unix() == 0 {
			k.LastSeen = time.Time{}
		}
		return k, err
	})
}
