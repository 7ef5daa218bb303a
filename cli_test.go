package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"ndikiosk/app"
	"ndikiosk/config"
	"ndikiosk/kiosk"
	"ndikiosk/ndi/pki"
	"ndikiosk/ndi/sandbox"
	"ndikiosk/ndi/verify"
)

func runCLI(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = cli(args, &out, &errb)
	return code, out.String(), errb.String()
}

// startSandbox runs `ndikiosk sandbox` in process on a free port and
// returns its base URL and the kiosk config it wrote.
func startSandbox(t *testing.T, callback string) (base, cfg string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	old := stopContext
	stopContext = func() (context.Context, context.CancelFunc) { return ctx, cancel }
	t.Cleanup(func() { cancel(); stopContext = old })
	dir := t.TempDir()
	out, errb := &syncWriter{}, &syncWriter{}
	done := make(chan int)
	go func() {
		done <- cli([]string{"sandbox", "--listen", "127.0.0.1:0", "--dir", dir, "--callback", callback}, out, errb)
	}()
	re := regexp.MustCompile(`serving on (http://[0-9.:]+/sandbox)/`)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		select {
		case code := <-done:
			t.Fatalf("sandbox exited %d: %s", code, errb.String())
		default:
		}
		if m := re.FindStringSubmatch(out.String()); m != nil {
			return m[1], filepath.Join(dir, "kiosk.toml")
		}
	}
	t.Fatalf("sandbox did not start: %s", out.String())
	return "", ""
}

// syncWriter lets the test read what the sandbox goroutine writes.
type syncWriter struct {
	mu sync.Mutex
	w  bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func (s *syncWriter) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.String()
}

func TestQRAndExchangeAgainstStandaloneSandbox(t *testing.T) {
	base, cfg := startSandbox(t, "http://127.0.0.1:9/callback")
	code, out, errs := runCLI("qr", "--config", cfg, "--state", "demo-1")
	if code != 0 {
		t.Fatalf("qr: %d %s", code, errs)
	}
	qr := strings.TrimSpace(out)
	if !strings.HasPrefix(qr, base+"/sgverify?callback=http%3A%2F%2F127.0.0.1%3A9%2Fcallback&client_id=") || !strings.Contains(qr, "&state=demo-1&") {
		t.Fatalf("qr printed %q", qr)
	}
	// The phone scans it; the kiosk (port 9) is not there, so take the code
	// from the sandbox's answer, as an integrator would.
	resp, err := httpPostForm(base+"/scan", url.Values{"persona": {sandboxAdult()}, "decision": {"allow"}, "qr": {qr}})
	if err != nil {
		t.Fatal(err)
	}
	var res sandbox.ScanResult
	json.Unmarshal(resp, &res)
	cb, _ := url.Parse(res.CallbackURL)
	codeValue := cb.Query().Get("code")
	if codeValue == "" || res.CallbackError == "" {
		t.Fatalf("scan result %s", resp)
	}
	code, out, errs = runCLI("exchange", "--config", cfg, "--code", codeValue, "--state", "demo-1")
	if code != 0 {
		t.Fatalf("exchange: %d %s", code, errs)
	}
	var person map[string]map[string]any
	if err := json.Unmarshal([]byte(out), &person); err != nil {
		t.Fatalf("exchange printed %q", out)
	}
	if person["dob"]["value"] != "1985-03-14" || !strings.HasPrefix(person["partialuinfin"]["value"].(string), "*****") {
		t.Fatalf("person %v", person)
	}
	code, _, errs = runCLI("exchange", "--config", cfg, "--code", codeValue, "--state", "demo-1")
	if code != 1 || strings.Count(strings.TrimSpace(errs), "\n") != 0 || !strings.Contains(errs, "authorisation code rejected") {
		t.Fatalf("reused code: exit %d, %q", code, errs)
	}
	if strings.Contains(errs, codeValue) {
		t.Fatal("the error shows the code")
	}
}

func sandboxAdult() string {
	p, _ := sandbox.PersonaByLabel("Adult citizen", time.Now())
	return p.ID
}

func TestConfigErrorsAreNamed(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "kiosk.toml")
	os.WriteFile(path, []byte(`
[kiosk]
mode = "age"
colour = "red"
[verify]
clientid = "x"
client_secret = "s"
qr_lifetime = "2m"
`), 0o600)
	code, _, errs := runCLI("qr", "--config", path)
	for _, want := range []string{"unknown key kiosk.colour", "unknown key verify.clientid", "missing verify.client_id",
		"missing verify.private_key", "missing verify.ndi_cert", "missing verify.callback_url", "kiosk.toml"} {
		if !strings.Contains(errs, want) {
			t.Errorf("error does not say %q:\n%s", want, errs)
		}
	}
	if code != 1 {
		t.Fatalf("exit %d", code)
	}
	os.WriteFile(path, []byte("[verify\nclient_id = 1"), 0o600)
	if code, _, errs := runCLI("qr", "--config", path); code != 1 || !strings.Contains(errs, "toml: line 2") {
		t.Fatalf("broken TOML: %d %s", code, errs)
	}
	if code, _, errs := runCLI("qr"); code != 1 || !strings.Contains(errs, "--config FILE is required") {
		t.Fatalf("no config: %d %s", code, errs)
	}
}

func TestRelativePathsAndKeyErrors(t *testing.T) {
	dir := t.TempDir()
	key, _ := pki.NewKey()
	cert, _ := pki.SelfSigned(key, "ndi", time.Now(), time.Hour)
	os.MkdirAll(filepath.Join(dir, "keys"), 0o700)
	os.WriteFile(filepath.Join(dir, "keys", "kiosk.pem"), pki.KeyPEM(key), 0o600)
	os.WriteFile(filepath.Join(dir, "keys", "ndi.crt"), pki.CertPEM(cert), 0o600)
	cfg := `[verify]
environment = "test"
client_id = "STG2-SGVERIFY-X"
client_secret = "s"
private_key = "keys/kiosk.pem"
ndi_cert = "keys/ndi.crt"
callback_url = "https://kiosk.example.sg/callback"
`
	path := filepath.Join(dir, "kiosk.toml")
	os.WriteFile(path, []byte(cfg), 0o600)
	other := t.TempDir()
	wd, _ := os.Getwd()
	os.Chdir(other)
	defer os.Chdir(wd)
	code, out, errs := runCLI("qr", "--config", path)
	if code != 0 || !strings.HasPrefix(out, verify.QRBaseURL+"?callback=https%3A%2F%2Fkiosk.example.sg%2Fcallback&client_id=STG2-SGVERIFY-X&nonce=") {
		t.Fatalf("qr with relative paths: %d %q %s", code, out, errs)
	}
	if _, err := verify.ParseQR(strings.TrimSpace(out), &key.PublicKey); err != nil {
		t.Fatalf("printed QR does not verify: %v", err)
	}
	os.WriteFile(path, []byte(strings.Replace(cfg, "keys/kiosk.pem", "keys/ndi.crt", 1)), 0o600)
	if code, _, errs := runCLI("qr", "--config", path); code != 1 || !strings.Contains(errs, "ndi.crt: no private key") {
		t.Fatalf("certificate given as key: %d %s", code, errs)
	}
}

func httpPostForm(u string, v url.Values) ([]byte, error) {
	resp, err := http.PostForm(u, v)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return io.ReadAll(resp.Body)
}

func TestHashPIN(t *testing.T) {
	var out, errb bytes.Buffer
	if code := cliWithInput([]string{"hash-pin"}, strings.NewReader("482916\n"), &out, &errb); code != 0 {
		t.Fatalf("hash-pin: %d %s", code, errb.String())
	}
	m := regexp.MustCompile(`pin_hash = "([^"]+)"`).FindStringSubmatch(out.String())
	if m == nil || !strings.HasPrefix(out.String(), "[admin]\n") || strings.Contains(out.String(), "482916") {
		t.Fatalf("hash-pin printed %q", out.String())
	}
	lock, err := kiosk.NewPINLock(m[1], 5, time.Minute, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := lock.Check("482916"); err != nil {
		t.Fatalf("the printed hash does not accept its PIN: %v", err)
	}
	if code, _, errs := runCLI("hash-pin", "--pin", "12a4"); code != 1 || !strings.Contains(errs, "4 to 12 digits") {
		t.Fatalf("a PIN with a letter: %d %s", code, errs)
	}
}

func TestRunNeedsAnAdminPINOutsideSandbox(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kiosk.toml")
	os.WriteFile(path, []byte(`[verify]
environment = "production"
client_id = "X"
client_secret = "s"
private_key = "k.pem"
ndi_cert = "n.crt"
callback_url = "https://kiosk.example.sg/callback"
`), 0o600)
	code, _, errs := runCLI("run", "--config", path)
	if code != 1 || !strings.Contains(errs, "admin.pin_hash is missing") || !strings.Contains(errs, "ndikiosk hash-pin") {
		t.Fatalf("run without a PIN: %d %s", code, errs)
	}
}

// TestStandaloneSandboxFAPI runs the production code path of a Myinfo
// kiosk (sandbox = false, keys from files) against the standalone sandbox:
// `ndikiosk qr` makes the keys, and the sandbox accepts its pushed
// authorisation request after fetching the kiosk's JWKS.
func TestStandaloneSandboxFAPI(t *testing.T) {
	var cfgFile string
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// What the kiosk would publish: the keys its config names.
		cfg, err := config.Load(cfgFile)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		keys, err := app.FAPIKeys(cfg)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		doc, _ := keys.JWKS()
		w.Write(doc)
	}))
	defer jwks.Close()
	base, verifyCfg := startSandbox(t, jwks.URL+"/callback")
	cfgFile = filepath.Join(filepath.Dir(verifyCfg), "kiosk-fapi.toml")
	code, out, errs := runCLI("qr", "--config", cfgFile)
	if code != 0 || !strings.HasPrefix(out, base+"/fapi/auth?client_id="+config.SandboxFAPIClientID+"&request_uri=urn") {
		t.Fatalf("qr with FAPI: %d %q %s", code, out, errs)
	}
	for _, f := range []string{"fapi-signing.pem", "fapi-encryption.pem"} {
		if st, err := os.Stat(filepath.Join(filepath.Dir(cfgFile), f)); err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v", f, err)
		}
	}
	// exchange says why it cannot help with FAPI.
	if code, _, errs := runCLI("exchange", "--config", cfgFile, "--code", "x"); code == 0 || !strings.Contains(errs, "Verify tool") {
		t.Fatalf("exchange with FAPI: %d %s", code, errs)
	}
	// The generated Verify config now starts a kiosk: it carries the sandbox PIN.
	if c, err := config.Load(verifyCfg); err != nil || c.Admin.PINHash == "" {
		t.Fatalf("generated config: %v", err)
	}
}
