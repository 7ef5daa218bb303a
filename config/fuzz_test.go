package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	. "ndikiosk/config"
)

// FuzzLoad feeds arbitrary files to the config loader and arbitrary values
// to an environment override: it must never panic, and a config it accepts
// must pass its own validation (no value outside the ranges it checks).
func FuzzLoad(f *testing.F) {
	example, _ := os.ReadFile("../packaging/ndikiosk.example.toml")
	f.Add(string(example), "")
	f.Add("sandbox = true\n[kiosk]\nmode = \"visitor\"\nlisten = \"127.0.0.1:0\"\n[visitor]\nfree_text = true\n", "90s")
	f.Add("sandbox = true\n[kiosk]\nmin_age = 21\nresult_timeout = \"-5s\"\n", "1ns")
	f.Add("[kiosk\n", "x")
	f.Fuzz(func(t *testing.T, text, env string) {
		if strings.ContainsRune(env, 0) {
			return
		}
		if env != "" {
			t.Setenv("NDIKIOSK_KIOSK_RESULT_TIMEOUT", env)
		}
		p := filepath.Join(t.TempDir(), "kiosk.toml")
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := Load(p)
		if err != nil {
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("Load accepted what Validate refuses: %v", err)
		}
	})
}
