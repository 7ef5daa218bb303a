package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	. "ndikiosk/config"
)

func loadHubText(t *testing.T, text string) (*Config, error) {
	p := filepath.Join(t.TempDir(), "hub.toml")
	os.WriteFile(p, []byte(text), 0o600)
	return LoadHub(p)
}

func TestHubConfigChecks(t *testing.T) {
	const creds = "[verify]\nenvironment = \"test\"\nclient_id = \"c\"\nclient_secret = \"s\"\nprivate_key = \"k.pem\"\nndi_cert = \"n.pem\"\n" +
		"callback_url = \"https://hub.example.sg/callback\"\n"
	cases := map[string]string{
		creds + "[hub]\npublic_url = \"https://hub.example.sg\"\n":                                                          "hub.database is missing",
		creds + "[hub]\npublic_url = \"https://hub.example.sg\"\ndatabase = \"mysql://x\"\n":                                "not a postgres:// URL",
		creds + "[hub]\ndatabase = \"postgres://h/db\"\n":                                                                   "hub.public_url is missing",
		creds + "[hub]\npublic_url = \"https://203.0.113.7\"\ndatabase = \"postgres://h/db\"\n":                             "refuses IP addresses",
		creds + "[hub]\npublic_url = \"https://localhost\"\ndatabase = \"postgres://h/db\"\n":                               "refuses localhost",
		creds + "[hub]\npublic_url = \"http://hub.example.sg\"\ndatabase = \"postgres://h/db\"\n":                           "https only",
		creds + "[hub]\npublic_url = \"https://hub.example.sg/x\"\ndatabase = \"postgres://h/db\"\n":                        "without a path",
		creds + "[hub]\npublic_url = \"https://hub.example.sg\"\ndatabase = \"postgres://h/db\"\nurl = \"https://other\"\n": "a kiosk's settings",
		"sandbox = true\n[hub]\ndatabase = \"postgres://h/db\"\nlisten = \"0.0.0.0:8443\"\n":                                "other machines can reach",
	}
	for text, want := range cases {
		if _, err := loadHubText(t, text); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: want %q, got %v", text, want, err)
		}
	}
	c, err := loadHubText(t, creds+"[hub]\npublic_url = \"https://hub.example.sg/\"\ndatabase = \"postgres://h/db\"\nlisten = \"127.0.0.1:9443\"\n")
	if err != nil {
		t.Fatal(err)
	}
	if c.BaseURL() != "https://hub.example.sg" || c.Kiosk.Listen != "127.0.0.1:9443" || !c.IsHub() || c.Remote() {
		t.Fatalf("base %q listen %q", c.BaseURL(), c.Kiosk.Listen)
	}
	if !filepath.IsAbs(c.Hub.KeyFile) || filepath.Base(c.Hub.KeyFile) != HubKeyFile {
		t.Fatalf("key file %q", c.Hub.KeyFile)
	}
	// The sandbox hub runs on loopback with plain http; callbacks follow listen.
	sb := SandboxHub("postgres://h/db")
	if err := sb.Validate(); err != nil {
		t.Fatal(err)
	}
	if v := sb.EffectiveVerify(); !strings.HasPrefix(v.CallbackURL, "http://127.0.0.1:") {
		t.Fatalf("sandbox hub callback %q", v.CallbackURL)
	}
}

func TestRemoteKioskConfig(t *testing.T) {
	cases := map[string]string{
		"[hub]\nurl = \"http://hub.example.sg\"\n":                                   "over https",
		"[hub]\nurl = \"hub.example.sg\"\n":                                          "is not an https:// address",
		"sandbox = true\n[hub]\nurl = \"https://hub.example.sg\"\n":                  "sandbox is the hub's setting",
		"[hub]\nurl = \"https://hub.example.sg\"\n[verify]\nclient_secret = \"s\"\n": "holds no Singpass credentials",
	}
	for text, want := range cases {
		if _, err := loadText(t, text); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: want %q, got %v", text, want, err)
		}
	}
	// A hub's screen needs no Singpass settings at all.
	c, err := loadText(t, "[hub]\nurl = \"https://hub.example.sg\"\ntoken = \"ndk-enrol-x\"\n")
	if err != nil {
		t.Fatal(err)
	}
	if !c.Remote() {
		t.Fatal("not remote")
	}
	t.Setenv("NDIKIOSK_HUB_URL", "http://127.0.0.1:9443")
	t.Setenv("NDIKIOSK_HUB_TOKEN", "ndk-enrol-y")
	c, err = loadText(t, "")
	if err != nil || c.Hub.URL != "http://127.0.0.1:9443" || c.Hub.Token != "ndk-enrol-y" || !c.Remote() {
		t.Fatalf("from the environment: %+v %v", c.Hub, err)
	}
}
