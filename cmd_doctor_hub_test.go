package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ndikiosk/app"
	"ndikiosk/config"
)

// TestDoctorHubConfig: `doctor --config hub.toml` recognises a hub's config
// and runs the hub's checks on its real PostgreSQL and its running server.
func TestDoctorHubConfig(t *testing.T) {
	database := hubPG.Database(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "hub.toml")
	write := func(listen string) {
		os.WriteFile(path, []byte(fmt.Sprintf("sandbox = true\n[kiosk]\ndata_dir = %q\n[hub]\nlisten = %q\ndatabase = %q\n",
			filepath.Join(dir, "data"), listen, database)), 0o600)
	}
	write("127.0.0.1:0")
	cfg, err := config.LoadHub(path)
	if err != nil {
		t.Fatal(err)
	}
	h, err := app.NewHub(cfg, app.Options{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	hctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { h.Run(hctx); close(done) }()
	t.Cleanup(func() { stop(); h.Close(); <-done })
	write(h.Addr())
	code, out, errs := runCLI("doctor", "--config", path)
	for _, want := range []string{"ok   config: loaded the hub's config", "ok   hub.migrations: current", "matches the database's key check value",
		"ok   public /healthz: http://" + h.Addr() + "/healthz reaches the hub", "All checks passed."} {
		if !strings.Contains(out, want) {
			t.Errorf("doctor output lacks %q", want)
		}
	}
	if code != 0 || t.Failed() {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
}
