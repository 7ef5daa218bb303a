package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"ndikiosk/ndi/fapi"
	"ndikiosk/ndi/pki"
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
