package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ndikiosk/config"
	"ndikiosk/internal/pgtest"
	"ndikiosk/kiosk"
	"ndikiosk/ndi/sandbox"
	"ndikiosk/remote"
)

// The hub's tests share one real PostgreSQL, started by the first of them.
var pg pgtest.Lazy

func TestMain(m *testing.M) {
	code := m.Run()
	pg.Stop()
	os.Exit(code)
}

func newDatabase(t testing.TB) string { t.Helper(); return pg.Database(t) }

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

// freeAddr is a loopback address with a port that was free a moment ago.
func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// failover is the load balancer in front of hub replicas: each connection
// goes to the first replica that accepts it.
func failover(t testing.TB, replicas ...string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				for _, r := range replicas {
					up, err := net.DialTimeout("tcp", r, time.Second)
					if err != nil {
						continue
					}
					defer up.Close()
					go io.Copy(up, c)
					io.Copy(c, up)
					return
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// replicaConfig is one hub replica's config: Verify against the standalone
// sandbox sb, its callbacks registered at callback (the load balancer's
// public address), the shared database and key.
func replicaConfig(t testing.TB, sb *Standalone, listen, public, database, keyFile string) *config.Config {
	t.Helper()
	kioskToml, err := os.ReadFile(sb.ConfigPath)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(kioskToml), "[kiosk]\n", fmt.Sprintf("[kiosk]\ndata_dir = %q\n", t.TempDir()), 1)
	text += fmt.Sprintf("\n[hub]\nlisten = %q\npublic_url = %q\ndatabase = %q\nkey_file = %q\n", listen, public, database, keyFile)
	path := filepath.Join(filepath.Dir(sb.ConfigPath), "hub-"+strings.ReplaceAll(listen, ":", "-")+".toml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.LoadHub(path)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestHubReplicasRouteCallbacks: two hub replicas share one PostgreSQL.
// Singpass's callbacks always land on replica B (the load balancer's
// choice), yet a kiosk connected to replica A gets its result; when A
// goes, its kiosk reconnects through the balancer to B within seconds and
// its next visit is served there. Every visit is in PostgreSQL.
func TestHubReplicasRouteCallbacks(t *testing.T) {
	database := newDatabase(t)
	addrA, addrB := freeAddr(t), freeAddr(t)
	sb, err := NewStandalone(StandaloneOptions{Listen: "127.0.0.1:0", Dir: t.TempDir(), Callback: "http://" + addrB + "/callback"})
	if err != nil {
		t.Fatal(err)
	}
	sctx, stopSandbox := context.WithCancel(context.Background())
	defer stopSandbox()
	go sb.Serve(sctx)
	keyFile := filepath.Join(t.TempDir(), "hub.key")
	public := "http://" + addrB
	hubB := startHub(t, replicaConfig(t, sb, addrB, public, database, keyFile))
	hubA, err := NewHub(replicaConfig(t, sb, addrA, public, database, keyFile), Options{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	actx, stopA := context.WithCancel(context.Background())
	go hubA.Run(actx)
	defer func() { stopA(); hubA.Close() }()

	ctx := context.Background()
	token, err := hubA.Registry.Enrol(ctx, "lobby-1")
	if err != nil {
		t.Fatal(err)
	}
	lb := failover(t, addrA, addrB)
	_, sc, _ := startRemote(t, "http://"+lb, token)
	qr := sc.await(t, "code from replica A", isQR)
	if got := hubA.Hub.Connected(); len(got) != 1 || len(hubB.Hub.Connected()) != 0 {
		t.Fatalf("connected to A: %v, to B: %v", got, hubB.Hub.Connected())
	}
	scan := func(qr string) sandbox.ScanResult {
		t.Helper()
		res, err := sb.Sandbox.ScanURL(ctx, qr, personaID(t, "Adult citizen"), "allow", "")
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	res := scan(qr.QR)
	if res.CallbackStatus != http.StatusOK || !strings.HasPrefix(res.CallbackURL, public) {
		t.Fatalf("callback through B: %+v", res)
	}
	if got := sc.await(t, "result", func(s kiosk.Screen) bool { return s.Phase == kiosk.PhaseResult }); got.Outcome != kiosk.OutcomeEligible {
		t.Fatalf("outcome %q", got.Outcome)
	}

	// Replica A goes; the kiosk shows no code meanwhile and comes back
	// through the balancer on B.
	stopA()
	hubA.Close()
	gone := time.Now()
	qr = sc.await(t, "code from replica B", isQR)
	if d := time.Since(gone); d > 10*time.Second {
		t.Errorf("back after %v", d)
	}
	if got := hubB.Hub.Connected(); len(got) != 1 || got[0] != "lobby-1" {
		t.Fatalf("connected to B: %v", got)
	}
	if res := scan(qr.QR); res.CallbackStatus != http.StatusOK {
		t.Fatalf("second scan: %+v", res)
	}
	sc.await(t, "second result", func(s kiosk.Screen) bool { return s.Phase == kiosk.PhaseResult })
	visits, err := hubB.Store.Visits(ctx, kiosk.VisitFilter{})
	if err != nil || len(visits) != 2 {
		t.Fatalf("visits in PostgreSQL: %d %v", len(visits), err)
	}
}
