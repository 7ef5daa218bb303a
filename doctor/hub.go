package doctor

import (
	"context"
	"crypto/hmac"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"ndikiosk/config"
	"ndikiosk/internal/seal"
	"ndikiosk/pgstore"
)

// CheckHub runs the hub's checks on cfg (config.LoadHub): its public
// address, its Singpass keys and endpoints, its PostgreSQL (reachable,
// migrations, the key check value against hub.key_file), and whether the
// public address reaches this hub. It writes one line per check to out and
// returns the number that failed. Nothing is written to the database.
func CheckHub(cfg *config.Config, out io.Writer, now time.Time) int {
	d := &doctor{out: out, now: now}
	d.ok("config", "loaded the hub's config "+map[bool]string{true: "(sandbox mode)", false: cfg.Path()}[cfg.Sandbox])
	client := &http.Client{Timeout: 10 * time.Second}
	fapiHub := cfg.Kiosk.Provider == config.ProviderFAPI
	d.publicURL(cfg)
	switch {
	case cfg.Sandbox:
		d.ok("keys", "sandbox test keys (made on first start); endpoints served by the hub's own sandbox")
	case fapiHub:
		d.fapiKeys(cfg)
		d.underPublic(cfg, "fapi.redirect_uri", cfg.FAPI.RedirectURI)
		d.fapiIssuer(cfg, client)
	default:
		v := cfg.EffectiveVerify()
		d.keys(v)
		d.underPublic(cfg, "verify.callback_url", v.CallbackURL)
		d.endpoint("token_url", v.TokenURL, client, true)
		d.endpoint("person_url", v.PersonURL, client, false)
	}
	d.hubDatabase(cfg)
	d.reachable(cfg, client)
	d.notify(cfg)
	return d.failed
}

// publicURL: Singpass calls the hub back, and phones open its links, only
// over https on a registered domain name.
func (d *doctor) publicURL(cfg *config.Config) {
	raw := cfg.Hub.PublicURL
	if cfg.Sandbox {
		d.ok("hub.public_url", cfg.BaseURL()+" (sandbox: reached on this machine only, which is all the sandbox needs)")
		return
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		d.fail("hub.public_url", fmt.Sprintf("%q is not an absolute URL: give the hub's public address, https://NAME", raw))
		return
	}
	host := u.Hostname()
	var why []string
	if u.Scheme != "https" {
		why = append(why, "it is plain "+u.Scheme+": Singpass calls back, and phones open the hub's links, over https only")
	}
	switch ip := net.ParseIP(host); {
	case ip != nil:
		why = append(why, host+" is an IP address: Singpass takes domain names only; point a name at it")
	case host == "localhost" || strings.HasSuffix(host, ".localhost") || strings.HasSuffix(host, ".local") ||
		strings.HasSuffix(host, ".internal") || !strings.Contains(host, "."):
		why = append(why, host+" is not a public domain name: Singpass and visitors' phones cannot find it")
	}
	if len(why) > 0 {
		d.fail("hub.public_url", raw+": "+strings.Join(why, "; ")+" (fine for a development hub behind a local relay, never for visitors)")
		return
	}
	d.ok("hub.public_url", raw+" is https on a domain name")
}

// underPublic: the URL registered with Singpass must be the hub's front
// door, or Singpass sends the visitors' codes somewhere else.
func (d *doctor) underPublic(cfg *config.Config, name, raw string) {
	pub, err1 := url.Parse(cfg.BaseURL())
	u, err2 := url.Parse(raw)
	if err1 != nil || err2 != nil || raw == "" {
		d.fail(name, "not an absolute URL")
		return
	}
	if u.Scheme != pub.Scheme || !strings.EqualFold(u.Host, pub.Host) {
		d.fail(name, fmt.Sprintf("%s is not under hub.public_url %s: Singpass would send the visitors' codes there, not to the hub", raw, cfg.BaseURL()))
		return
	}
	d.ok(name, raw+" is under hub.public_url")
}

// dbLabel names the database without its password.
func dbLabel(raw string) string {
	pc, err := pgx.ParseConfig(raw)
	if err != nil {
		return "(an unreadable postgres:// URL)"
	}
	return fmt.Sprintf("%s@%s:%d/%s", pc.User, pc.Host, pc.Port, pc.Database)
}

// hubDatabase connects to the hub's PostgreSQL and reads, without
// changing anything: the server's version, the migrations applied against
// those this build knows, the key check value against hub.key_file, and
// what the log holds.
func (d *doctor) hubDatabase(cfg *config.Config) {
	label := dbLabel(cfg.Hub.Database)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, cfg.Hub.Database)
	if err != nil {
		d.fail("hub.database", fmt.Sprintf("%s does not answer: %s; check that PostgreSQL runs there, that this machine may connect "+
			"(pg_hba.conf, firewall) and the user and password (NDIKIOSK_HUB_DATABASE keeps the password out of the file)", label, pgReason(err)))
		return
	}
	defer conn.Close(context.Background())
	var version string
	conn.QueryRow(ctx, `SHOW server_version`).Scan(&version)
	d.ok("hub.database", label+" answers (PostgreSQL "+version+")")
	applied, err := applied(ctx, conn)
	if err != nil {
		d.fail("hub.migrations", pgReason(err))
		return
	}
	d.migrations(applied)
	var check []byte
	hasCheck := false
	if slices.Contains(applied, 1) {
		err := conn.QueryRow(ctx, `SELECT value FROM key_check WHERE id = 1`).Scan(&check)
		switch {
		case err == nil:
			hasCheck = true
		case !errors.Is(err, pgx.ErrNoRows):
			d.fail("hub.key_file", "cannot read the database's key check value: "+pgReason(err))
			return
		}
	}
	d.keyFile(cfg, check, hasCheck)
	if slices.Contains(applied, 2) {
		var visits, kiosks, revoked int64
		err := conn.QueryRow(ctx, `SELECT (SELECT count(*) FROM visits), (SELECT count(*) FROM kiosks WHERE revoked_at IS NULL),
			(SELECT count(*) FROM kiosks WHERE revoked_at IS NOT NULL)`).Scan(&visits, &kiosks, &revoked)
		if err != nil {
			d.fail("hub.database", "cannot read the log: "+pgReason(err))
			return
		}
		d.ok("visit log", fmt.Sprintf("%d visits; %d kiosks enrolled, %d revoked", visits, kiosks, revoked))
	}
}

// applied lists the migrations the database has; none on a new database.
func applied(ctx context.Context, conn *pgx.Conn) ([]int, error) {
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT to_regclass('schema_migrations') IS NOT NULL`).Scan(&exists); err != nil || !exists {
		return nil, err
	}
	rows, err := conn.Query(ctx, `SELECT version FROM schema_migrations ORDER BY version`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[int])
}

// migrations compares the database's schema with this build's: a hub
// applies missing migrations when it starts, but a database migrated by a
// newer build is one this binary must not write to.
func (d *doctor) migrations(applied []int) {
	known := pgstore.Versions()
	var missing, unknown []string
	for _, v := range known {
		if !slices.Contains(applied, v) {
			missing = append(missing, fmt.Sprint(v))
		}
	}
	for _, v := range applied {
		if !slices.Contains(known, v) {
			unknown = append(unknown, fmt.Sprint(v))
		}
	}
	switch {
	case len(unknown) > 0:
		d.fail("hub.migrations", "the database has migrations "+strings.Join(unknown, ", ")+" that this ndikiosk does not know: "+
			"a newer hub has run on it; upgrade this one before starting it")
	case len(applied) == 0:
		d.warn("hub.migrations", "the database is empty: the hub makes its tables when it first starts")
	case len(missing) > 0:
		d.warn("hub.migrations", "migrations "+strings.Join(missing, ", ")+" are not applied yet: the hub applies them when it next starts "+
			"(back up the database first; every replica must then run this version)")
	default:
		d.ok("hub.migrations", fmt.Sprintf("current (%d of %d applied)", len(applied), len(known)))
	}
}

// keyFile checks hub.key_file: present, private, the right size, and the
// key of this database (its key check value).
func (d *doctor) keyFile(cfg *config.Config, check []byte, hasCheck bool) {
	path := cfg.Hub.KeyFile
	key, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist) && hasCheck:
		d.fail("hub.key_file", path+" is missing, but the database holds visits sealed with a key: restore the key file from the backup made with the database")
		return
	case errors.Is(err, os.ErrNotExist):
		d.warn("hub.key_file", path+" does not exist yet: the hub makes it on first start; then back it up with the database")
		return
	case err != nil:
		d.fail("hub.key_file", err)
		return
	case len(key) != seal.KeySize:
		d.fail("hub.key_file", fmt.Sprintf("%s is damaged (%d bytes, want %d): restore it from the backup", path, len(key), seal.KeySize))
		return
	}
	if st, err := os.Stat(path); err == nil && runtime.GOOS != "windows" && st.Mode().Perm()&0o077 != 0 {
		d.fail("hub.key_file", fmt.Sprintf("%s is open to other users (%04o): chmod 600 %s", path, st.Mode().Perm(), path))
	}
	switch {
	case check == nil && !hasCheck:
		d.ok("hub.key_file", path+" is a key; the database takes it on the hub's first start")
	case !hmac.Equal(check, seal.Check(key)):
		d.fail("hub.key_file", path+" is not this database's key (the key check value differs): the hub would refuse to start; "+
			"use the key file backed up with this database")
	default:
		d.ok("hub.key_file", path+" matches the database's key check value")
	}
}

// pgReason is a PostgreSQL error without the connection URL.
func pgReason(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Message
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		if u := errors.Unwrap(ce); u != nil {
			return u.Error()
		}
	}
	return err.Error()
}

// reachable fetches the hub's public routes through hub.public_url from
// this machine: /healthz (which must say it is a hub) and, with FAPI, the
// JWKS Singpass fetches.
func (d *doctor) reachable(cfg *config.Config, client *http.Client) {
	base := cfg.BaseURL()
	hint := fmt.Sprintf("check that the hub runs (listening on %s), that %s resolves to your load balancer or proxy, that it forwards to the hub "+
		"and that its TLS certificate covers the name", cfg.Hub.Listen, hostOf(base))
	if cfg.Sandbox {
		hint = fmt.Sprintf("is the hub running? (it listens on %s)", cfg.Hub.Listen)
	}
	role, status, err := getJSONRole(client, base+"/healthz")
	switch {
	case err != nil:
		d.fail("public /healthz", fmt.Sprintf("%s/healthz does not answer: %v; %s", base, err, hint))
	case status != http.StatusOK || role != "hub":
		d.fail("public /healthz", fmt.Sprintf("%s/healthz answers HTTP %d but not as a hub (role %q): %s", base, status, role, hint))
	default:
		d.ok("public /healthz", base+"/healthz reaches the hub from this machine (check once from outside your network too)")
	}
	if cfg.Kiosk.Provider != config.ProviderFAPI {
		return
	}
	f := cfg.EffectiveFAPI()
	u := base + f.JWKSPath
	n, err := jwksKeys(client, u)
	switch {
	case err != nil:
		d.fail("public JWKS", fmt.Sprintf("%s: %v; Singpass fetches the hub's keys there: %s", u, err, hint))
	default:
		d.ok("public JWKS", fmt.Sprintf("%s serves %d keys from this machine (the URL to register with Singpass)", u, n))
	}
}

func hostOf(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.Host != "" {
		return u.Hostname()
	}
	return raw
}

// getJSONRole GETs u and reads the "role" of its JSON answer.
func getJSONRole(client *http.Client, u string) (role string, status int, err error) {
	resp, err := client.Get(u)
	if err != nil {
		return "", 0, unwrapURL(err)
	}
	defer resp.Body.Close()
	var h struct {
		Role string `json:"role"`
	}
	json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&h)
	return h.Role, resp.StatusCode, nil
}

// jwksKeys GETs a JWKS and counts its keys.
func jwksKeys(client *http.Client, u string) (int, error) {
	resp, err := client.Get(u)
	if err != nil {
		return 0, fmt.Errorf("does not answer: %w", unwrapURL(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("answers HTTP %d", resp.StatusCode)
	}
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&set); err != nil || len(set.Keys) == 0 {
		return 0, errors.New("answers, but not with a JWKS")
	}
	return len(set.Keys), nil
}
