package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "ndikiosk/config"
)

const notifyHub = "sandbox = true\n[hub]\ndatabase = \"postgres://h/db\"\n"

func TestNotifyConfigRefusesWhatCannotWork(t *testing.T) {
	secret := strings.Repeat("s", 32)
	cases := map[string]string{
		"[notify.smtp]\nhost = \"smtp.example.sg\"\n":                                                              "notify.smtp.from",
		"[notify.smtp]\nhost = \"smtp.example.sg\"\nfrom = \"a@b.sg\\r\\nBcc: x@y.z\"\n":                           "notify.smtp.from",
		"[notify.smtp]\nhost = \"smtp.example.sg\"\nfrom = \"Reception <a@b.sg>\"\n":                               "not one email address",
		"[notify.smtp]\nhost = \"smtp.example.sg\"\nfrom = \"a@b.sg\"\nstarttls = \"none\"\n":                      "in clear",
		"[notify.smtp]\nhost = \"smtp.example.sg\"\nfrom = \"a@b.sg\"\nstarttls = \"opportunistic\"\n":             "want \"required\" or \"none\"",
		"[notify.smtp]\nhost = \"smtp.example.sg\"\nfrom = \"a@b.sg\"\nport = 70000\n":                             "notify.smtp.port",
		"[notify.smtp]\nhost = \"smtp.example.sg\"\nfrom = \"a@b.sg\"\nusername = \"u\"\n":                         "go together",
		"[notify.smtp]\nhost = \"smtp.example.sg:25\"\nfrom = \"a@b.sg\"\n":                                        "not a host name",
		"[notify.smtp]\nfrom = \"a@b.sg\"\n":                                                                       "not a host name",
		"[notify.smtp]\nhost = \"smtp.example.sg\"\nfrom = \"a@b.sg\"\ntimeout = \"1ms\"\n":                        "notify.smtp.timeout",
		"[notify.webhook]\nurl = \"http://hooks.example.sg/in\"\nsecret = \"" + secret + "\"\n":                    "https only",
		"[notify.webhook]\nurl = \"ftp://hooks.example.sg/in\"\nsecret = \"" + secret + "\"\n":                     "not an https:// address",
		"[notify.webhook]\nurl = \"https://u:p@hooks.example.sg/in\"\nsecret = \"" + secret + "\"\n":               "user name or password",
		"[notify.webhook]\nurl = \"https://hooks.example.sg/in\"\nsecret = \"short\"\n":                            "want at least 32",
		"[notify.webhook]\nurl = \"https://hooks.example.sg/in\"\n":                                                "want at least 32",
		"[notify.webhook]\nurl = \"https://hooks.example.sg/in\"\nsecret = \"" + secret + "\"\ntimeout = \"1h\"\n": "notify.webhook.timeout",
		"[notify.smtp]\nhost = \"smtp.example.sg\"\nfrom = \"a@b.sg\"\nport = 0\n":                                 "notify.smtp.port is 0",
		"[notify.webhook]\nurl = \"https://hooks.example.sg/in\"\nsecret = \"" + secret + "\"\ntimeout = \"0s\"\n": "notify.webhook.timeout is 0",
		"[notify]\nmax_attempts = 0\n":   "notify.max_attempts is 0",
		"[notify]\nmax_attempts = 500\n": "notify.max_attempts",
	}
	for text, want := range cases {
		_, err := loadHubText(t, notifyHub+text)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: want %q, got %v", text, want, err)
		}
		if err != nil && strings.Contains(err.Error(), secret) {
			t.Errorf("%q: the error shows the secret", text)
		}
	}
}

func TestNotifyConfigOnLoopback(t *testing.T) {
	// A relay on this machine without TLS, and an http webhook on it, are fine.
	if _, err := loadHubText(t, notifyHub+"[notify.smtp]\nhost = \"127.0.0.1\"\nport = 1025\nfrom = \"a@b.sg\"\nstarttls = \"none\"\n"+
		"[notify.webhook]\nurl = \"http://127.0.0.1:9000/in\"\nsecret = \""+strings.Repeat("x", 32)+"\"\n"); err != nil {
		t.Fatal(err)
	}
}

func TestNotifyConfigDefaultsAndEnvironment(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "relay-ca.pem"), []byte("x"), 0o600)
	t.Setenv("NDIKIOSK_NOTIFY_SMTP_PASSWORD", "from-the-environment")
	t.Setenv("NDIKIOSK_NOTIFY_WEBHOOK_SECRET", strings.Repeat("e", 40))
	p := filepath.Join(dir, "hub.toml")
	os.WriteFile(p, []byte(notifyHub+"[notify.smtp]\nhost = \"smtp.example.sg\"\nfrom = \"reception@example.sg\"\nusername = \"kiosk\"\n"+
		"ca_file = \"relay-ca.pem\"\n[notify.webhook]\nurl = \"https://hooks.example.sg/in\"\n"), 0o600)
	c, err := LoadHub(p)
	if err != nil {
		t.Fatal(err)
	}
	n := c.Notify
	if n.MaxAttempts != 8 || n.SMTP.Port != 587 || n.SMTP.StartTLS != "required" || n.SMTP.Timeout.Duration != 30*time.Second ||
		n.Webhook.Timeout.Duration != 10*time.Second {
		t.Fatalf("defaults %+v", n)
	}
	if n.SMTP.Password != "from-the-environment" || n.Webhook.Secret != strings.Repeat("e", 40) {
		t.Fatal("secrets not taken from the environment")
	}
	if n.SMTP.CAFile != filepath.Join(dir, "relay-ca.pem") {
		t.Fatalf("ca_file %q not resolved against the config's folder", n.SMTP.CAFile)
	}
	// A misspelt variable is still refused.
	t.Setenv("NDIKIOSK_NOTIFY_SMTP_PASSWRD", "x")
	if _, err := LoadHub(p); err == nil || !strings.Contains(err.Error(), "NDIKIOSK_NOTIFY_SMTP_PASSWRD") {
		t.Fatalf("misspelt variable: %v", err)
	}
}
