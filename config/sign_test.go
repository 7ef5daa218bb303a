package config_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "ndikiosk/config"
	"ndikiosk/ndi/sign/pdf"
)

const signVisitor = "sandbox = true\n[kiosk]\nmode = \"visitor\"\n[visitor]\nfree_text = true\n"

// Each bad [sign] is refused at load with a message that names the key;
// the agreement itself is read and checked.
func TestSignConfigChecks(t *testing.T) {
	dir := t.TempDir()
	good := pdf.Sample(2, 5000)
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, b, 0o600)
		return p
	}
	ok := write("agreement.pdf", good)
	encrypted := write("locked.pdf", bytes.Replace(good, []byte("/Root 1 0 R>>"), []byte("/Root 1 0 R /Encrypt 9 0 R>>"), 1))
	broken := write("broken.pdf", []byte("%PDF-1.7\nthis is not a PDF at all\n"))
	empty := write("empty.pdf", nil)
	big := write("big.pdf", append(good, make([]byte, 10<<20)...))
	q := func(s string) string { return `"` + s + `"` }
	cases := map[string]string{
		"sandbox = true\n[sign]\ndocument = " + q(ok) + "\n":                                                "[sign] is for visitor mode",
		signVisitor + "[sign]\ndocument = " + q(encrypted) + "\n":                                           "cannot be signed",
		signVisitor + "[sign]\ndocument = " + q(broken) + "\n":                                              "is not a PDF the kiosk can read",
		signVisitor + "[sign]\ndocument = " + q(empty) + "\n":                                               "is empty",
		signVisitor + "[sign]\ndocument = " + q(big) + "\n":                                                 "Sign takes PDFs under 10 MB",
		signVisitor + "[sign]\ndocument = " + q(dir) + "\n":                                                 "is a folder",
		signVisitor + "[sign]\ndocument = " + q(dir+"/nope.pdf") + "\n":                                     "cannot be read",
		signVisitor + "[sign]\ndocument = " + q(ok) + "\npage = 3\n":                                        "(sign.page)",
		signVisitor + "[sign]\ndocument = " + q(ok) + "\npage = 0\n":                                        "sign.page is 0",
		signVisitor + "[sign]\ndocument = " + q(ok) + "\nx = 1.0\n":                                         "sign.x 1",
		signVisitor + "[sign]\ndocument = " + q(ok) + "\ny = 0.12345\n":                                     "sign.y 0.12345",
		signVisitor + "[sign]\ndocument = " + q(ok) + "\ntimeout = \"10s\"\n":                               "sign.timeout 10s is out of range",
		signVisitor + "[sign]\ndocument = " + q(ok) + "\ntimeout = \"2h\"\n":                                "sign.timeout 2h0m0s is out of range",
		signVisitor + "[sign]\ndocument = " + q(ok) + "\ntimeout = \"0s\"\n":                                "sign.timeout is 0",
		signVisitor + "[sign]\ndocument = " + q(ok) + "\nunsigned = \"maybe\"\n":                            `sign.unsigned is "maybe"`,
		signVisitor + "[sign]\ndocument = " + q(ok) + "\ndoc_name = \"a\\u0007\"\n":                         "control character",
		signVisitor + "[sign]\ndocument = " + q(ok) + "\ndoc_name = \"" + strings.Repeat("x", 101) + "\"\n": "at most 100",
		signVisitor + "[sign]\ndocument = " + q(ok) + "\njwks_path = \"/callback\"\n":                       "sign.jwks_path",
		signVisitor + "[sign]\ndocument = " + q(ok) + "\nclient_id = \"x\"\n":                               "would ignore the [sign] credentials",
		"[kiosk]\nmode = \"visitor\"\n[visitor]\nfree_text = true\n[sign]\ndocument = " + q(ok) + "\n":      "missing sign.client_id",
		"[kiosk]\nmode = \"visitor\"\n[visitor]\nfree_text = true\n[sign]\ndocument = " + q(ok) + "\nroots = " + q(ok) + "\nsign_jwks_url = \"http://sign.example/keys\"\n": "holds no PEM certificate",
	}
	for text, want := range cases {
		_, err := loadText(t, text)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q:\n got %v\nwant %q", text, err, want)
		}
	}
	for text, want := range map[string]string{"sign.sign_jwks_url": "http://sign.example/keys"} {
		_, err := loadText(t, "[kiosk]\nmode = \"visitor\"\n[visitor]\nfree_text = true\n[sign]\ndocument = "+q(ok)+"\nsign_jwks_url = "+q(want)+"\n")
		if err == nil || !strings.Contains(err.Error(), text) {
			t.Errorf("plain http %s: %v", text, err)
		}
	}
}

// A good [sign] loads with its defaults; a relative document is found
// beside the config file.
func TestSignConfigDefaults(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "House rules.pdf"), pdf.Sample(1, 3000), 0o600)
	p := filepath.Join(dir, "kiosk.toml")
	os.WriteFile(p, []byte(signVisitor+"[sign]\ndocument = \"House rules.pdf\"\n"), 0o600)
	c, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	s := c.EffectiveSign()
	if !c.SignEnabled() || s.DocName != "House rules" || s.Document != filepath.Join(dir, "House rules.pdf") || s.Page != 1 ||
		*s.X != 0.1 || s.Timeout.Duration != 3*time.Minute || s.Unsigned != UnsignedRefuse || s.JWKSPath != "/sign/jwks" ||
		s.SigningKey != filepath.Join(c.Kiosk.DataDir, "sign", "signing.pem") {
		t.Fatalf("effective %+v", s)
	}
	if c := SandboxDefaults(); c.SignEnabled() {
		t.Fatal("signing is on without a document")
	}
}

// --sign-demo turns signing on with the sample agreement, in sandbox mode
// only, and in visitor mode only.
func TestSignDemo(t *testing.T) {
	c := SandboxDefaults()
	c.Override(Overrides{Mode: "visitor", SignDemo: true})
	if err := c.Validate(); err != nil || !c.SignEnabled() || c.Sign.DocName == "" {
		t.Fatalf("sign demo: %v %+v", err, c.Sign)
	}
	c = SandboxDefaults()
	c.Override(Overrides{SignDemo: true})
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "[sign] is for visitor mode") {
		t.Fatalf("age mode: %v", err)
	}
	c = SandboxDefaults()
	c.Sandbox = false
	c.Override(Overrides{Mode: "visitor", SignDemo: true})
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "--sign-demo is for sandbox mode") {
		t.Fatalf("outside sandbox mode: %v", err)
	}
}
