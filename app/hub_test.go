package app

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"ndikiosk/config"
	"ndikiosk/internal/pgtest"
	"ndikiosk/kiosk"
	"ndikiosk/ndi/sandbox"
	"ndikiosk/remote"
)

// The hub's tests share one real PostgreSQL, started by the first of them.
var (
	pgOnce   sync.Once
	pgServer *pgtest.Server
	pgErr    error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if pgServer != nil {
		pgServer.Stop()
	}
	os.Exit(code)
}

func newDatabase(t testing.TB) string {
	t.Helper()
	pgOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		pgServer, pgErr = pgtest.Start(ctx)
	})
	if pgErr != nil {
		t.Fatal(pgErr)
	}
	url, err := pgServer.NewDatabase(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return url
}

// startHub runs a hub on cfg until the test ends.
func startHub(t testing.TB, cfg *config.Config) *Hub {
	t.Helper()
	h, err := NewHub(cfg, Options{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { h.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); h.Close(); <-done })
	return h
}

// screens follows what a remote kiosk shows.
type screens struct {
	ch chan kiosk.Screen
}

func watch(c *remote.Client) *screens {
	s := &screens{ch: make(chan kiosk.Screen, 256)}
	c.Subscribe(func(sc kiosk.Screen) { s.ch <- sc })
	return s
}

// await waits for a screen that ok accepts.
func (s *screens) await(t testing.TB, what string, ok func(kiosk.Screen) bool) kiosk.Screen {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case sc := <-s.ch:
			if ok(sc) {
				return sc
			}
		case <-deadline:
			t.Fatalf("no %s on the kiosk in 20 s", what)
		}
	}
}

func isQR(s kiosk.Screen) bool { return s.Phase == kiosk.PhaseQR && s.QR != "" }

// startRemote runs a kiosk's client against the hub at base.
func startRemote(t testing.TB, base, token string) (*remote.Client, *screens, string) {
	t.Helper()
	dir := t.TempDir()
	c, err := remote.New(remote.Options{URL: base, Token: token, DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	sc := watch(c)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return c, sc, dir
}

func postScan(t testing.TB, base string, form url.Values) sandbox.ScanResult {
	t.Helper()
	resp, err := http.PostForm(base+config.SandboxPrefix+"/scan", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var res sandbox.ScanResult
	json.NewDecoder(resp.Body).Decode(&res)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("scan: HTTP %d", resp.StatusCode)
	}
	return res
}

func personaID(t testing.TB, label string) string {
	p, ok := sandbox.PersonaByLabel(label, time.Now())
	if !ok {
		t.Fatalf("no persona %q", label)
	}
	return p.ID
}

// TestHubSandboxVisit: a kiosk enrolled with a one-time token connects to
// a sandbox hub, shows the code its engine on the hub made, and shows the
// result of a scan; the visit is in PostgreSQL, the kiosk's folder holds
// only its credential and settings.
func TestHubSandboxVisit(t *testing.T) {
	cfg := config.SandboxHub(newDatabase(t))
	cfg.Kiosk.Listen, cfg.Kiosk.DataDir = "127.0.0.1:0", t.TempDir()
	cfg.Hub.KeyFile = filepath.Join(cfg.Kiosk.DataDir, config.HubKeyFile)
	h := startHub(t, cfg)
	ctx := context.Background()
	token, err := h.Registry.Enrol(ctx, "lobby-1")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + h.Addr()
	c, sc, dir := startRemote(t, base, token)
	qr := sc.await(t, "code", isQR)
	if st := c.Settings(); st.KioskID != "lobby-1" || !st.Sandbox || st.Mode != kiosk.ModeAge {
		t.Fatalf("settings from the hub: %+v", st)
	}
	res := postScan(t, base, url.Values{"kiosk": {"lobby-1"}, "persona": {personaID(t, "Adult citizen")}, "decision": {"allow"}})
	if res.State == "" || res.CallbackStatus != http.StatusOK {
		t.Fatalf("scan: %+v", res)
	}
	got := sc.await(t, "result", func(s kiosk.Screen) bool { return s.Phase == kiosk.PhaseResult })
	if got.Outcome != kiosk.OutcomeEligible {
		t.Fatalf("outcome %q", got.Outcome)
	}
	if u, err := url.Parse(qr.QR); err != nil || u.Query().Get("state") != res.State || kioskOfState(res.State) != "lobby-1" {
		t.Fatalf("the scan did not use the kiosk's code: %q vs state %q", qr.QR, res.State)
	}
	visits, err := h.Store.Visits(ctx, kiosk.VisitFilter{})
	if err != nil || len(visits) != 1 || visits[0].KioskID != "lobby-1" || visits[0].Outcome != kiosk.OutcomeEligible || !visits[0].Sandbox {
		t.Fatalf("visits in PostgreSQL: %+v %v", visits, err)
	}
	files, _ := os.ReadDir(dir)
	for _, f := range files {
		if f.Name() != remote.CredentialFile && f.Name() != remote.SettingsFile {
			t.Errorf("the kiosk keeps %s", f.Name())
		}
		if info, _ := f.Info(); info.Mode().Perm() != 0o600 {
			t.Errorf("%s is %v", f.Name(), info.Mode().Perm())
		}
	}
}

// kioskOfState is the kiosk id a state starts with (KIOSK-NONCE).
func kioskOfState(state string) string {
	i := strings.LastIndexByte(state, '-')
	if i < 0 {
		return ""
	}
	return state[:i]
}

// TestHubRevokeCutsKioskOff: revoking a connected kiosk drops it at once:
// it shows the operator's alternative, not a code, and cannot come back.
func TestHubRevokeCutsKioskOff(t *testing.T) {
	cfg := config.SandboxHub(newDatabase(t))
	cfg.Kiosk.Listen, cfg.Kiosk.DataDir = "127.0.0.1:0", t.TempDir()
	cfg.Hub.KeyFile = filepath.Join(cfg.Kiosk.DataDir, config.HubKeyFile)
	h := startHub(t, cfg)
	ctx := context.Background()
	token, _ := h.Registry.Enrol(ctx, "lobby-1")
	_, sc, dir := startRemote(t, "http://"+h.Addr(), token)
	sc.await(t, "code", isQR)
	if err := h.Registry.Revoke(ctx, "lobby-1"); err != nil {
		t.Fatal(err)
	}
	got := sc.await(t, "unavailable screen", func(s kiosk.Screen) bool { return s.Phase != kiosk.PhaseQR })
	if got.Phase != kiosk.PhaseUnavailable || got.QR != "" {
		t.Fatalf("after revocation the kiosk shows %+v", got)
	}
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case s := <-sc.ch:
			if isQR(s) {
				t.Fatal("a revoked kiosk got a code again")
			}
		case <-time.After(100 * time.Millisecond):
		}
	}
	if _, err := os.Stat(filepath.Join(dir, remote.CredentialFile)); !os.IsNotExist(err) {
		t.Errorf("the refused credential is still kept: %v", err)
	}
	if n := len(h.Hub.Connected()); n != 0 {
		t.Errorf("%d kiosks still connected", n)
	}
}
