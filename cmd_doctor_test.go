package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"ndikiosk/kiosk"
	"ndikiosk/ndi/fapi"
	"ndikiosk/ndi/pki"
	"ndikiosk/storage"
)

func TestDoctorSandboxDefaultsPass(t *testing.T) {
	t.Setenv("NDIKIOSK_KIOSK_DATA_DIR", t.TempDir())
	t.Setenv("NDIKIOSK_FACE_ENABLED", "true")
	code, out, errs := runCLI("doctor")
	if code != 0 || !strings.Contains(out, "All checks passed.") || !strings.Contains(out, "ok   face.camera: synthetic gives 640x480 frames") {
		t.Fatalf("doctor on sandbox defaults: %d\n%s%s", code, out, errs)
	}
}

// TestDoctorListsEveryProblem points a config at a standalone sandbox with
// a loopback http callback, an expired NDI certificate, no admin PIN and a
// missing camera, and expects each named.
func TestDoctorListsEveryProblem(t *testing.T) {
	base, cfgFile := startSandbox(t, "http://127.0.0.1:9/callback")
	dir := filepath.Dir(cfgFile)
	key, _ := pki.NewKey()
	old, _ := pki.SelfSigned(key, "old ndi", time.Now().AddDate(-2, 0, 0), 24*time.Hour)
	os.WriteFile(filepath.Join(dir, "old.crt"), pki.CertPEM(old), 0o600)
	b, _ := os.ReadFile(cfgFile)
	noPIN := regexp.MustCompile(`(?m)^pin_hash = .*$`).ReplaceAllString(string(b), "")
	cfg := strings.Replace(noPIN, `ndi_cert = "ndi-sandbox.crt"`, `ndi_cert = "old.crt"`, 1) +
		"\n[face]\nenabled = true\nbase_url = \"" + base + "/face\"\nclient_id = \"x\"\nclient_secret = \"y\"\nservice_id = \"z\"\ncert = \"ndi-sandbox.crt\"\ncamera = \"v4l2:/dev/video-none\"\n"
	os.WriteFile(cfgFile, []byte(cfg), 0o600)
	t.Setenv("NDIKIOSK_KIOSK_DATA_DIR", t.TempDir())
	code, out, _ := runCLI("doctor", "--config", cfgFile)
	for _, want := range []string{
		"ok   verify.private_key: RSA-2048",
		"FAIL verify.ndi_cert:", "expired on",
		"FAIL verify.callback_url: must be https",
		"FAIL verify.callback_url: 127.0.0.1 is a private address",
		"FAIL admin.pin_hash: missing",
		"ok   kiosk.data_dir:", "integrity_check ok",
		"ok   token_url: " + base + "/token answers (HTTP 405)",
		"ok   clock: within",
		"ok   face.base_url:",
		"FAIL face.camera: no camera at /dev/video-none",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("doctor output lacks %q", want)
		}
	}
	if code != 1 || t.Failed() {
		t.Fatalf("exit %d\n%s", code, out)
	}
}

func TestDoctorFAPISandboxPasses(t *testing.T) {
	t.Setenv("NDIKIOSK_KIOSK_DATA_DIR", t.TempDir())
	t.Setenv("NDIKIOSK_KIOSK_PROVIDER", "fapi")
	code, out, errs := runCLI("doctor")
	if code != 0 || !strings.Contains(out, "ok   fapi.signing_key: made on first start") || !strings.Contains(out, "ok   fapi.scopes: uinfin dob") {
		t.Fatalf("doctor on FAPI sandbox defaults: %d\n%s%s", code, out, errs)
	}
}

// TestDoctorFAPIProblems: an issuer whose discovery names another issuer, a
// redirect URI on a private address, shared keys, and the clock check.
func TestDoctorFAPIProblems(t *testing.T) {
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"issuer":%q,"pushed_authorization_request_endpoint":"%[2]s/par","authorization_endpoint":"%[2]s/auth",`+
			`"token_endpoint":"%[2]s/token","userinfo_endpoint":"%[2]s/userinfo","jwks_uri":"%[2]s/jwks"}`, srv.URL+"/other", srv.URL+"/fapi")
	}))
	defer srv.Close()
	dir := t.TempDir()
	key, _ := fapi.NewKey()
	os.WriteFile(filepath.Join(dir, "shared.pem"), fapi.KeyPEM(key.Private), 0o600)
	os.Chmod(filepath.Join(dir, "shared.pem"), 0o644) // whatever the umask
	cfgFile := filepath.Join(dir, "kiosk.toml")
	os.WriteFile(cfgFile, []byte(`[kiosk]
provider = "fapi"
data_dir = "data"
[fapi]
issuer = "`+srv.URL+`/fapi"
client_id = "venue-kiosk"
redirect_uri = "https://10.0.0.5/cb"
signing_key = "shared.pem"
encryption_key = "shared.pem"
`), 0o600)
	code, out, _ := runCLI("doctor", "--config", cfgFile)
	for _, want := range []string{
		"ok   fapi.signing_key: P-256, kid " + key.Kid,
		"FAIL fapi.encryption_key: the same key as fapi.signing_key",
		"WARN fapi.signing_key: " + filepath.Join(dir, "shared.pem") + " is readable by other users",
		"FAIL fapi.redirect_uri: 10.0.0.5 is a private address",
		"ok   fapi.issuer: " + srv.URL + "/fapi/.well-known/openid-configuration answers (HTTP 200)",
		"ok   clock: within",
		"FAIL fapi.issuer:", "names issuer",
		"register this JWKS URL with Singpass: https://10.0.0.5/.well-known/jwks.json",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("doctor output lacks %q", want)
		}
	}
	if code != 1 || t.Failed() {
		t.Fatalf("exit %d\n%s", code, out)
	}
}

// TestDoctorChecksFileModes: a data folder open to others and a log whose
// files are 0644 (what a 022 umask gave before) are named, each with the
// chmod that fixes it, while a kiosk holds the log open (-wal and -shm
// exist).
func TestDoctorChecksFileModes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	db, err := storage.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Save(context.Background(), kiosk.Visit{KioskID: "k1", Mode: kiosk.ModeAge, TxnRef: "k1-1",
		StartedAt: time.Now(), DecidedAt: time.Now(), Outcome: kiosk.OutcomeEligible}); err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	files := []string{storage.DBFile, storage.DBFile + "-wal", storage.DBFile + "-shm", storage.KeyFile}
	for _, f := range files {
		if err := os.Chmod(filepath.Join(dir, f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("NDIKIOSK_KIOSK_DATA_DIR", dir)
	code, out, _ := runCLI("doctor")
	want := []string{"WARN kiosk.data_dir: " + dir + " is open to other users (0755): chmod 700 " + dir}
	for _, f := range files {
		p := filepath.Join(dir, f)
		want = append(want, "FAIL visit log: "+p+" is open to other users (0644): chmod 600 "+p)
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("doctor output lacks %q", w)
		}
	}
	if code != 1 || t.Failed() {
		t.Fatalf("exit %d\n%s", code, out)
	}
	// A world-writable folder is a failure: anyone could swap the files.
	os.Chmod(dir, 0o777)
	if _, out, _ := runCLI("doctor"); !strings.Contains(out, "FAIL kiosk.data_dir: "+dir+" is writable by other users (0777): chmod 700 "+dir) {
		t.Errorf("world-writable folder:\n%s", out)
	}
	// Private files pass.
	os.Chmod(dir, 0o700)
	for _, f := range files {
		os.Chmod(filepath.Join(dir, f), 0o600)
	}
	if code, out, _ := runCLI("doctor"); code != 0 || strings.Contains(out, "other users") {
		t.Errorf("private files: exit %d\n%s", code, out)
	}
}

// TestDoctorNamesALostKey: doctor reports the refusal to open a log whose
// key is gone, and makes no new key.
func TestDoctorNamesALostKey(t *testing.T) {
	dir := t.TempDir()
	db, err := storage.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	db.Save(context.Background(), kiosk.Visit{KioskID: "k1", Mode: kiosk.ModeAge, TxnRef: "k1-1",
		StartedAt: time.Now(), DecidedAt: time.Now(), Outcome: kiosk.OutcomeEligible, MaskedID: "*****567D"})
	db.Close()
	os.Remove(filepath.Join(dir, storage.KeyFile))
	t.Setenv("NDIKIOSK_KIOSK_DATA_DIR", dir)
	code, out, _ := runCLI("doctor")
	if code != 1 || !strings.Contains(out, "FAIL visit log: "+filepath.Join(dir, storage.KeyFile)+" is missing") {
		t.Fatalf("exit %d\n%s", code, out)
	}
	if _, err := os.Stat(filepath.Join(dir, storage.KeyFile)); err == nil {
		t.Fatal("doctor made a new key")
	}
}

// TestDoctorReadsEveryVisit: a value damaged inside a row (which
// quick_check, reading pages, cannot see) is found by doctor, which reads
// every visit with the key, rather than at the next export.
func TestDoctorReadsEveryVisit(t *testing.T) {
	dir := t.TempDir()
	db, err := storage.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		db.Save(context.Background(), kiosk.Visit{KioskID: "k1", Mode: kiosk.ModeVisitor, TxnRef: fmt.Sprintf("k1-%d", i),
			StartedAt: time.Now(), DecidedAt: time.Now(), Outcome: kiosk.OutcomeCheckedIn, Name: "ALICE TAN"})
	}
	db.Close()
	// Flip one byte of the second visit's sealed name, in place.
	raw, _ := sql.Open("sqlite3", "file:"+filepath.Join(dir, storage.DBFile))
	var name []byte
	raw.QueryRow(`SELECT name FROM visits WHERE id = 2`).Scan(&name)
	name[len(name)/2] ^= 1
	if _, err := raw.Exec(`UPDATE visits SET name = ? WHERE id = 2`, name); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	t.Setenv("NDIKIOSK_KIOSK_DATA_DIR", dir)
	code, out, _ := runCLI("doctor")
	if code != 1 || !strings.Contains(out, "FAIL visit log: visit k1-1: name does not decrypt") {
		t.Fatalf("exit %d\n%s", code, out)
	}
}
