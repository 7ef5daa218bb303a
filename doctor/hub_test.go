package doctor

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"ndikiosk/app"
	"ndikiosk/config"
	"ndikiosk/internal/pgtest"
	"ndikiosk/internal/seal"
	"ndikiosk/pgstore"
	"ndikiosk/remote"
	"ndikiosk/storage"
)

var pg *pgtest.Server

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m, &pg)) }

func newDatabase(t *testing.T) string {
	t.Helper()
	u, err := pg.NewDatabase(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// runHub starts a real hub on cfg until the test ends.
func runHub(t *testing.T, cfg *config.Config) *app.Hub {
	t.Helper()
	h, err := app.NewHub(cfg, app.Options{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { h.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); h.Close(); <-done })
	return h
}

func sandboxHub(t *testing.T, provider string) (*config.Config, *app.Hub) {
	cfg := config.SandboxHub(newDatabase(t))
	cfg.Kiosk.Listen, cfg.Kiosk.DataDir, cfg.Kiosk.Provider = "127.0.0.1:0", t.TempDir(), provider
	cfg.Hub.KeyFile = filepath.Join(cfg.Kiosk.DataDir, config.HubKeyFile)
	return cfg, runHub(t, cfg)
}

func expect(t *testing.T, out string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(out, w) {
			t.Errorf("doctor output lacks %q", w)
		}
	}
}

// TestDoctorSandboxHubPasses: a running FAPI sandbox hub on a real
// PostgreSQL passes every check, its JWKS fetched through its address.
func TestDoctorSandboxHubPasses(t *testing.T) {
	cfg, h := sandboxHub(t, config.ProviderFAPI)
	var out bytes.Buffer
	n := CheckHub(cfg, &out, time.Now())
	expect(t, out.String(),
		"ok   hub.database: postgres@127.0.0.1:",
		"(PostgreSQL 1",
		fmt.Sprintf("ok   hub.migrations: current (%d of %[1]d applied)", len(pgstore.Versions())),
		"ok   hub.key_file: "+cfg.Hub.KeyFile+" matches the database's key check value",
		"ok   visit log: 0 visits; 0 kiosks enrolled, 0 revoked",
		"ok   public /healthz: http://"+h.Addr()+"/healthz reaches the hub",
		"ok   public JWKS: http://"+h.Addr()+"/.well-known/jwks.json serves 2 keys")
	if n != 0 || strings.Contains(out.String(), "FAIL") || t.Failed() {
		t.Fatalf("%d failed\n%s", n, out.String())
	}
}

// verifyHub is a non-sandbox Verify hub against a standalone sandbox,
// behind public (the address Singpass would call back).
func verifyHub(t *testing.T, database, public string) *config.Config {
	t.Helper()
	listen := strings.TrimPrefix(public, "http://")
	sb, err := app.NewStandalone(app.StandaloneOptions{Listen: "127.0.0.1:0", Dir: t.TempDir(), Callback: public + "/callback"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go sb.Serve(ctx)
	b, err := os.ReadFile(sb.ConfigPath)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(b), "[kiosk]\n", fmt.Sprintf("[kiosk]\ndata_dir = %q\n", t.TempDir()), 1) +
		fmt.Sprintf("\n[hub]\nlisten = %q\npublic_url = %q\ndatabase = %q\n", listen, public, database)
	path := filepath.Join(filepath.Dir(sb.ConfigPath), "hub.toml") // its key paths are relative
	os.WriteFile(path, []byte(text), 0o600)
	cfg, err := config.LoadHub(path)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func exec(t *testing.T, database, sql string) {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), database)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), sql); err != nil {
		t.Fatal(err)
	}
}

// TestDoctorHubProblems: a Verify hub that runs but whose public URL is
// plain http on an IP address, whose callback URL is not under it, whose
// key file is another key (and open to others), on a database a newer
// build migrated: each named, and nothing written to the database.
func TestDoctorHubProblems(t *testing.T) {
	database := newDatabase(t)
	public := "http://" + freeAddr(t)
	cfg := verifyHub(t, database, public)
	h := runHub(t, cfg)
	exec(t, database, `INSERT INTO schema_migrations (version, applied_at) VALUES (99, now())`)
	bad := *cfg
	bad.Hub.KeyFile = filepath.Join(t.TempDir(), "other.key")
	os.WriteFile(bad.Hub.KeyFile, seal.NewKey(), 0o644)
	os.Chmod(bad.Hub.KeyFile, 0o644)
	bad.Verify.CallbackURL = "https://kiosk.example.sg/callback"
	var out bytes.Buffer
	n := CheckHub(&bad, &out, time.Now())
	expect(t, out.String(),
		"FAIL hub.public_url: "+public+": it is plain http", "is an IP address: Singpass takes domain names only",
		"ok   verify.private_key: RSA-2048",
		"FAIL verify.callback_url: https://kiosk.example.sg/callback is not under hub.public_url "+public,
		"ok   token_url:",
		"ok   hub.database:",
		"FAIL hub.migrations: the database has migrations 99 that this ndikiosk does not know",
		"FAIL hub.key_file: "+bad.Hub.KeyFile+" is open to other users (0644)",
		"FAIL hub.key_file: "+bad.Hub.KeyFile+" is not this database's key",
		"ok   public /healthz: "+public+"/healthz reaches the hub")
	if n != 5 || t.Failed() {
		t.Fatalf("%d failed\n%s", n, out.String())
	}
	if got := len(h.Hub.Connected()); got != 0 {
		t.Fatalf("%d kiosks", got)
	}

	// The hub gone, its database unreachable: both said, with what to check.
	h.Close()
	bad = *cfg
	bad.Hub.Database = "postgres://hub:s3cret-pw@" + freeAddr(t) + "/fleet?sslmode=disable&connect_timeout=5"
	out.Reset()
	CheckHub(&bad, &out, time.Now())
	expect(t, out.String(), "FAIL hub.database: hub@127.0.0.1:", "/fleet does not answer", "pg_hba.conf",
		"FAIL public /healthz: "+public+"/healthz does not answer", "check that the hub runs (listening on "+strings.TrimPrefix(public, "http://"))
	if strings.Contains(out.String(), "s3cret-pw") {
		t.Errorf("the database password is in doctor's output:\n%s", out.String())
	}
	if t.Failed() {
	}
}

// TestDoctorHubDatabaseStates: a database not yet set up, one a migration
// behind, and one whose key file is lost.
func TestDoctorHubDatabaseStates(t *testing.T) {
	cfg := config.SandboxHub(newDatabase(t))
	cfg.Kiosk.Listen, cfg.Kiosk.DataDir = freeAddr(t), t.TempDir()
	cfg.Hub.KeyFile = filepath.Join(cfg.Kiosk.DataDir, config.HubKeyFile)
	var out bytes.Buffer
	CheckHub(cfg, &out, time.Now())
	expect(t, out.String(), "WARN hub.migrations: the database is empty", "WARN hub.key_file: "+cfg.Hub.KeyFile+" does not exist yet",
		"FAIL public /healthz:", "is the hub running?")
	if t.Failed() {
		t.Fatal(out.String())
	}

	h, err := app.NewHub(cfg, app.Options{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	h.Close()
	exec(t, cfg.Hub.Database, `DELETE FROM schema_migrations WHERE version = 2`)
	os.Rename(cfg.Hub.KeyFile, cfg.Hub.KeyFile+".bak")
	out.Reset()
	CheckHub(cfg, &out, time.Now())
	expect(t, out.String(), "WARN hub.migrations: migrations 2 are not applied yet",
		"FAIL hub.key_file: "+cfg.Hub.KeyFile+" is missing, but the database holds visits sealed with a key")
	if t.Failed() {
		t.Fatal(out.String())
	}
}

// writeKioskConfig writes a remote kiosk's config for the hub at url.
func writeKioskConfig(t *testing.T, url, token, dataDir string) *config.Config {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kiosk.toml")
	text := fmt.Sprintf("[kiosk]\nid = \"lobby-1\"\ndata_dir = %q\nlisten = \"127.0.0.1:0\"\n[hub]\nurl = %q\n", dataDir, url)
	if token != "" {
		text += fmt.Sprintf("token = %q\n", token)
	}
	os.WriteFile(path, []byte(text), 0o600)
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestDoctorRemoteKiosk: a hub's screen before and after its enrolment,
// revoked, with a standalone log left over, and with its hub gone.
func TestDoctorRemoteKiosk(t *testing.T) {
	_, h := sandboxHub(t, config.ProviderVerify)
	ctx := context.Background()
	token, err := h.Registry.Enrol(ctx, "lobby-1")
	if err != nil {
		t.Fatal(err)
	}
	base, dir := "http://"+h.Addr(), t.TempDir()
	check := func(cfg *config.Config) (int, string) {
		var out bytes.Buffer
		n := Check(cfg, &out, time.Now())
		return n, out.String()
	}
	n, out := check(writeKioskConfig(t, base, "", dir))
	expect(t, out, "ok   hub.url: "+base+" answers as a hub", "FAIL hub credential: this kiosk is not enrolled", "ok   no Singpass keys", "ok   no visit data")
	if n != 1 || t.Failed() {
		t.Fatalf("%d failed\n%s", n, out)
	}
	cfg := writeKioskConfig(t, base, token, dir)
	n, out = check(cfg)
	expect(t, out, "ok   hub credential: not enrolled yet")
	if n != 0 || t.Failed() {
		t.Fatalf("%d failed\n%s", n, out)
	}

	// Enrolled by a real client; doctor tries the credential without
	// taking the kiosk's place on the hub.
	c, err := remote.New(remote.Options{URL: base, Token: token, DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	rctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { c.Run(rctx); close(done) }()
	t.Cleanup(stop)
	if !c.WaitHello(20 * time.Second) {
		t.Fatal("the kiosk did not connect")
	}
	n, out = check(cfg)
	expect(t, out, "ok   hub credential: kept in "+filepath.Join(dir, remote.CredentialFile)+"; the hub takes it")
	if n != 0 || t.Failed() {
		t.Fatalf("%d failed\n%s", n, out)
	}
	time.Sleep(200 * time.Millisecond)
	if !c.Connected() {
		t.Fatal("doctor's credential check disconnected the running kiosk")
	}
	stop()
	<-done

	// Revoked, with a visit log and FAPI keys from its standalone days.
	if err := h.Registry.Revoke(ctx, "lobby-1"); err != nil {
		t.Fatal(err)
	}
	db, err := storage.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	os.MkdirAll(filepath.Join(dir, "fapi"), 0o700)
	os.WriteFile(filepath.Join(dir, "fapi", "signing.pem"), []byte("x"), 0o600)
	cfg.Face.ClientSecret = "face-secret"
	n, out = check(cfg)
	expect(t, out, "FAIL hub credential: the hub refuses the kept credential (revoked?)",
		"FAIL no Singpass keys: a hub's screen holds none, but this kiosk has face.client_secret, "+filepath.Join(dir, "fapi", "signing.pem"),
		"FAIL no visit data: a visit log from this kiosk's standalone days is still here ("+filepath.Join(dir, storage.DBFile))
	if n != 3 || t.Failed() {
		t.Fatalf("%d failed\n%s", n, out)
	}

	// The hub unreachable.
	n, out = check(writeKioskConfig(t, "http://"+freeAddr(t), token, t.TempDir()))
	expect(t, out, "FAIL hub.url: http://127.0.0.1:", "/healthz does not answer", "the kiosk shows the operator's alternative")
	if n != 1 || t.Failed() {
		t.Fatalf("%d failed\n%s", n, out)
	}
}
