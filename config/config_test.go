package config_test

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	. "ndikiosk/config"
	"ndikiosk/kiosk"
)

func loadText(t *testing.T, text string) (*Config, error) {
	p := filepath.Join(t.TempDir(), "kiosk.toml")
	os.WriteFile(p, []byte(text), 0o600)
	return Load(p)
}

func TestConfigChecks(t *testing.T) {
	cases := map[string]string{
		"sandbox = true\n[kiosk]\nmode = \"visitor\"\n[visitor]\nhosts = [\"A\"]\n":          "visitor mode needs visitor.hosts and visitor.purposes",
		"sandbox = true\n[kiosk]\nmode = \"bar\"\n":                                          `kiosk.mode is "bar"`,
		"sandbox = true\n[verify]\nqr_lifetime = \"60s\"\nqr_lead = \"40s\"\n":               "verify.qr_lead must be",
		"sandbox = true\n[verify]\nqr_lifetime = \"soon\"\n":                                 "not a duration",
		"sandbox = true\n[kiosk]\ntls_cert = \"a.pem\"\n":                                    "kiosk.tls_cert and kiosk.tls_key go together",
		"sandbox = true\n[verify]\nattributes = [\"name\"]\n":                                `must include "dob" in age mode`,
		"sandbox = true\n[verify]\nattributes = [\"dob\", \"shoe_size\"]\n":                  `"shoe_size" is not a Verify attribute`,
		"sandbox = true\n[kiosk]\nretention_days = -1\n":                                     "retention_days -1 is out of range",
		"sandbox = true\n[kiosk]\nlisten = \"8080\"\n":                                       `kiosk.listen "8080" is not host:port`,
		"[verify]\nenvironment = \"staging\"\nclient_id = \"x\"\n":                           `verify.environment is "staging"`,
		"sandbox = true\n[verify]\nexchange_timeout = \"1ns\"\n":                             "verify.exchange_timeout 1ns is out of range 2s-1m0s",
		"sandbox = true\n[kiosk]\nprovider = \"fapi\"\n[fapi]\nexchange_timeout = \"90s\"\n": "fapi.exchange_timeout 1m30s is out of range",
		"sandbox = true\n[kiosk]\nresult_timeout = \"-5s\"\n":                                "kiosk.result_timeout -5s is out of range",
		"sandbox = true\n[kiosk]\nconfirm_timeout = \"1s\"\n":                                "kiosk.confirm_timeout 1s is out of range",
		"sandbox = true\n[admin]\nmax_tries = 100000000\n":                                   "admin.max_tries 100000000 is out of range 3-20",
		"sandbox = true\n[admin]\nlock_minutes = -1\n":                                       "admin.lock_minutes -1 is out of range",
		"sandbox = true\n[face]\nenabled = true\ncountdown = \"0.1s\"\n":                     "face.countdown 100ms is out of range",
		"sandbox = true\n[face]\nenabled = true\nthreshold = 1.5\n":                          "face.threshold 1.5 is out of range",
		"sandbox = true\n[kiosk]\ntrusted_proxies = [\"10.0.0.0/8\", \"proxy.lan\"]\n":       `kiosk.trusted_proxies: "proxy.lan" is not an IP address or CIDR range`,
		"sandbox = true\n[kiosk]\ntrusted_proxies = [\"10.0.0.1/33\"]\n":                     `kiosk.trusted_proxies: "10.0.0.1/33" is not an IP address or CIDR range`,
	}
	for text, want := range cases {
		if _, err := loadText(t, text); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: want %q, got %v", text, want, err)
		}
	}
}

func TestFAPIConfigChecks(t *testing.T) {
	cases := map[string]string{
		"sandbox = true\n[kiosk]\nprovider = \"myinfo\"\n":                                                                                            `kiosk.provider is "myinfo"`,
		"sandbox = true\n[kiosk]\nprovider = \"fapi\"\n[fapi]\nscopes = [\"partialuinfin\", \"dob\"]\n":                                               "ask for uinfin",
		"sandbox = true\n[kiosk]\nprovider = \"fapi\"\n[fapi]\nscopes = [\"name\"]\n":                                                                 `fapi.scopes must include "dob"`,
		"sandbox = true\n[kiosk]\nprovider = \"fapi\"\n[fapi]\nscopes = [\"user.identity\", \"dob\"]\n":                                               "with Singpass Login's user.identity only name, email and mobileno",
		"sandbox = true\n[notify.smtp]\nhost = \"mail.example.com\"\n":                                                                                "[notify] is the hub's",
		"sandbox = true\n[notify.webhook]\nurl = \"https://hooks.example.com/x\"\n":                                                                   "[notify] is the hub's",
		"sandbox = true\n[kiosk]\nprovider = \"fapi\"\n[fapi]\nscopes = [\"user.identity\"]\n":                                                        "age mode needs the date of birth, which only Myinfo gives",
		"sandbox = true\n[kiosk]\nprovider = \"fapi\"\nmode = \"visitor\"\n[fapi]\nscopes = [\"user.identity\", \"mobileno\"]\n":                      "asks for name too",
		"sandbox = true\n[kiosk]\nprovider = \"fapi\"\n[fapi]\njwks_path = \"/callback\"\n":                                                           "fapi.jwks_path must differ",
		"sandbox = true\n[kiosk]\nprovider = \"fapi\"\nid = \"lobby 1\"\n":                                                                            `kiosk.id "lobby 1" must be`,
		"[kiosk]\nprovider = \"fapi\"\n[fapi]\nenvironment = \"staging\"\n":                                                                           "missing fapi.client_id",
		"[kiosk]\nprovider = \"fapi\"\n[fapi]\nissuer = \"https://x\"\nclient_id = \"c\"\n":                                                           "missing fapi.redirect_uri",
		"[kiosk]\nprovider = \"fapi\"\n[fapi]\nenvironment = \"production\"\nclient_id = \"c\"\nredirect_uri = \"https://myinfo-kiosk.example/cb\"\n": `must not contain "singpass"`,
		"[kiosk]\nprovider = \"fapi\"\n[fapi]\nenvironment = \"test\"\n":                                                                              `fapi.environment is "test"`,
	}
	for text, want := range cases {
		if _, err := loadText(t, text); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: want %q, got %v", text, want, err)
		}
	}
	// A complete FAPI config loads, needs no [verify] table, and serves the
	// redirect on the redirect URI's path.
	c, err := loadText(t, "[kiosk]\nprovider = \"fapi\"\n[admin]\npin_hash = \"\"\n[fapi]\nenvironment = \"staging\"\nclient_id = \"c\"\nredirect_uri = \"https://kiosk1.venue.example/visit/cb\"\n")
	if err != nil {
		t.Fatal(err)
	}
	if c.CallbackPath() != "/visit/cb" || c.EffectiveFAPI().Issuer != "https://stg-id.singpass.gov.sg/fapi" ||
		strings.Join(c.EffectiveFAPI().Scopes, " ") != "uinfin dob" {
		t.Fatalf("callback path %q, fapi %+v", c.CallbackPath(), c.EffectiveFAPI())
	}
}

func TestModeDecidesDefaultAttributes(t *testing.T) {
	c := SandboxDefaults()
	if got := strings.Join(c.EffectiveVerify().Attributes, ","); got != "partialuinfin,dob" {
		t.Fatalf("age mode asks for %s", got)
	}
	c.Kiosk.Mode = kiosk.ModeVisitor // as --mode visitor does
	if err := c.Validate(); err != nil {
		t.Fatalf("sandbox visitor mode: %v", err)
	}
	if got := strings.Join(c.EffectiveVerify().Attributes, ","); got != "name,partialuinfin,mobileno" || len(c.Visitor.Hosts) == 0 {
		t.Fatalf("visitor mode asks for %s, hosts %v", got, c.Visitor.Hosts)
	}
	c, err := loadText(t, "[kiosk]\nmode = \"visitor\"\n[visitor]\nfree_text = true\n[verify]\nenvironment = \"production\"\nclient_id = \"X\"\nclient_secret = \"s\"\nprivate_key = \"k.pem\"\nndi_cert = \"n.crt\"\ncallback_url = \"https://k.example/cb\"\n")
	if err != nil {
		t.Fatal(err)
	}
	v := c.EffectiveVerify()
	if v.TokenURL != "https://api.myinfo.gov.sg/sgverify/v2/token" || !filepath.IsAbs(v.PrivateKey) || c.Kiosk.RetentionDays != 30 {
		t.Fatalf("production preset: %+v", v)
	}
}

func TestFaceAsksForUINFIN(t *testing.T) {
	c := SandboxDefaults()
	c.Face.Enabled = true
	if got := strings.Join(c.EffectiveVerify().Attributes, ","); got != "partialuinfin,dob,uinfin" {
		t.Fatalf("with Face on: %s", got)
	}
	if c.CameraSetting() != "synthetic" {
		t.Fatalf("sandbox camera %q", c.CameraSetting())
	}
	c.Face.Enabled = false
	if got := strings.Join(c.EffectiveVerify().Attributes, ","); got != "partialuinfin,dob" {
		t.Fatalf("with Face off: %s", got)
	}
	if _, err := loadText(t, "[face]\nenabled = true\nthreshold = 1.5\n[verify]\nenvironment = \"test\"\n"); err == nil ||
		!strings.Contains(err.Error(), "face.threshold") || !strings.Contains(err.Error(), "missing face.client_id") {
		t.Fatalf("bad face config: %v", err)
	}
}

func TestSandboxModeRefusesProductionSettings(t *testing.T) {
	prod := "[kiosk]\nlisten = \"0.0.0.0:8080\"\n[admin]\npin_hash = \"x\"\n[verify]\nclient_id = \"STG2-REAL\"\nclient_secret = \"s\"\n"
	t.Setenv("NDIKIOSK_SANDBOX", "1")
	_, err := loadText(t, prod)
	if err == nil || !strings.Contains(err.Error(), "ignore the [verify] credentials") || !strings.Contains(err.Error(), "0.0.0.0:8080, which other machines can reach") {
		t.Fatalf("sandbox over a production config: %v", err)
	}
	t.Setenv("NDIKIOSK_SANDBOX", "true")
	t.Setenv("NDIKIOSK_KIOSK_LISTEN", "192.168.1.20:8080")
	if err := SandboxDefaults().Validate(); err == nil || !strings.Contains(err.Error(), "other machines can reach") {
		t.Fatalf("sandbox defaults on a LAN address: %v", err)
	}
	t.Setenv("NDIKIOSK_SANDBOX_UNSAFE", "true")
	if err := SandboxDefaults().Validate(); err != nil {
		t.Fatalf("the explicit override: %v", err)
	}
	if d := SandboxDefaults().Kiosk.DataDir; !strings.HasSuffix(d, "ndikiosk-sandbox") {
		t.Fatalf("sandbox data folder %s", d)
	}
}

func TestEnvironmentProblemsAreReported(t *testing.T) {
	t.Setenv("NDIKIOSK_KIOSK_MIN_AEG", "21")
	if _, err := loadText(t, "sandbox = true\n"); err == nil || !strings.Contains(err.Error(), "unknown environment variable NDIKIOSK_KIOSK_MIN_AEG") {
		t.Fatalf("misspelt variable: %v", err)
	}
	os.Unsetenv("NDIKIOSK_KIOSK_MIN_AEG")
	t.Setenv("NDIKIOSK_KIOSK_RESULT_TIMEOUT", "soon")
	if err := SandboxDefaults().Validate(); err == nil || !strings.Contains(err.Error(), "NDIKIOSK_KIOSK_RESULT_TIMEOUT") {
		t.Fatalf("a bad value in sandbox mode: %v", err)
	}
}

func TestCallbackMustBeHTTPS(t *testing.T) {
	base := "[admin]\npin_hash = \"x\"\n[verify]\nenvironment = \"test\"\nclient_id = \"c\"\nclient_secret = \"s\"\nprivate_key = \"k.pem\"\nndi_cert = \"n.pem\"\n"
	if _, err := loadText(t, base+"callback_url = \"http://kiosk.example.sg/callback\"\n"); err == nil || !strings.Contains(err.Error(), "must be https") {
		t.Fatalf("http callback: %v", err)
	}
	if _, err := loadText(t, base+"callback_url = \"http://127.0.0.1:8080/callback\"\n"); err != nil && strings.Contains(err.Error(), "callback_url") {
		t.Fatalf("a loopback callback (standalone sandbox) is refused: %v", err)
	}
}

func TestTrustedProxies(t *testing.T) {
	if c := SandboxDefaults(); len(c.Kiosk.TrustedProxies) != 0 {
		t.Fatalf("trusted proxies by default: %v", c.Kiosk.TrustedProxies)
	}
	c, err := loadText(t, "sandbox = true\n[kiosk]\ntrusted_proxies = [\"127.0.0.1\", \"10.1.0.0/16\", \"fd00::/8\"]\n")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(c.Kiosk.TrustedProxies, " "); got != "127.0.0.1 10.1.0.0/16 fd00::/8" {
		t.Fatalf("trusted proxies %q", got)
	}
	t.Setenv("NDIKIOSK_KIOSK_TRUSTED_PROXIES", "192.0.2.10, 192.0.2.11")
	if c, err = loadText(t, "sandbox = true\n"); err != nil || strings.Join(c.Kiosk.TrustedProxies, " ") != "192.0.2.10 192.0.2.11" {
		t.Fatalf("from the environment: %v %v", c, err)
	}
}

func TestEnvironmentOverridesTheFile(t *testing.T) {
	t.Setenv("NDIKIOSK_VERIFY_CLIENT_SECRET", "from-env")
	t.Setenv("NDIKIOSK_KIOSK_MIN_AGE", "21")
	t.Setenv("NDIKIOSK_VISITOR_HOSTS", "Reception, Ms Lee")
	t.Setenv("NDIKIOSK_VERIFY_QR_LIFETIME", "90s")
	t.Setenv("NDIKIOSK_FACE_RETRIES", "0")
	c, err := loadText(t, "sandbox = true\nsandbox_unsafe = true\n[verify]\nclient_secret = \"in-file\"\n")
	if err != nil {
		t.Fatal(err)
	}
	if c.Verify.ClientSecret != "from-env" || c.Kiosk.MinAge != 21 || strings.Join(c.Visitor.Hosts, "|") != "Reception|Ms Lee" ||
		c.Verify.QRLifetime.Duration.Seconds() != 90 || c.Face.Retries == nil || *c.Face.Retries != 0 {
		t.Fatalf("env not applied: %+v", c)
	}
	t.Setenv("NDIKIOSK_KIOSK_MIN_AGE", "eighteen")
	if _, err := loadText(t, "sandbox = true\n"); err == nil || !strings.Contains(err.Error(), "NDIKIOSK_KIOSK_MIN_AGE") {
		t.Fatalf("bad variable: %v", err)
	}
}

// TestExampleConfigDocumentsEveryKey keeps packaging/ndikiosk.example.toml
// complete: every key of Config must appear in it, and it must load.
func TestExampleConfigDocumentsEveryKey(t *testing.T) {
	example, err := os.ReadFile("../packaging/ndikiosk.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	var walk func(prefix string, typ reflect.Type)
	walk = func(prefix string, typ reflect.Type) {
		for i := 0; i < typ.NumField(); i++ {
			f := typ.Field(i)
			tag := strings.Split(f.Tag.Get("toml"), ",")[0]
			if tag == "" || tag == "-" {
				continue
			}
			if f.Type.Kind() == reflect.Struct && f.Type != reflect.TypeOf(Duration{}) {
				if !strings.Contains(string(example), "["+prefix+tag+"]") {
					t.Errorf("the example has no [%s%s] table", prefix, tag)
				}
				walk(prefix+tag+".", f.Type)
				continue
			}
			if !regexp.MustCompile(`(?m)^` + tag + ` = `).Match(example) {
				t.Errorf("the example does not document %s%s", prefix, tag)
			}
		}
	}
	walk("", reflect.TypeOf(Config{}))
	// With the sandbox on, the example's defaults make a working kiosk.
	c, err := loadText(t, strings.Replace(string(example), "sandbox = false", "sandbox = true", 1))
	if err != nil {
		t.Fatalf("the example does not load: %v", err)
	}
	if c.Kiosk.MinAge != 18 || c.Verify.QRLifetime.Seconds() != 120 {
		t.Fatalf("example values: %+v", c.Kiosk)
	}
}
