package remote_test

import (
	"context"
	"encoding/json"
	"errors"
	"image"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"ndikiosk/app"
	"ndikiosk/camera"
	"ndikiosk/config"
	"ndikiosk/hub"
	"ndikiosk/internal/pgtest"
	"ndikiosk/kiosk"
	"ndikiosk/ndi/sandbox"
	"ndikiosk/remote"
)

var pg *pgtest.Server

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m, &pg)) }

// hubConfig is a sandbox hub's config on a new database of the shared
// PostgreSQL, listening on a free loopback port.
func hubConfig(t *testing.T) *config.Config {
	t.Helper()
	database, err := pg.NewDatabase(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.SandboxHub(database)
	cfg.Kiosk.Listen, cfg.Kiosk.DataDir = "127.0.0.1:0", t.TempDir()
	cfg.Hub.KeyFile = filepath.Join(cfg.Kiosk.DataDir, config.HubKeyFile)
	return cfg
}

// runHub starts a real hub on cfg; stop ends it (also at the test's end).
func runHub(t *testing.T, cfg *config.Config) (h *app.Hub, stop func()) {
	t.Helper()
	h, err := app.NewHub(cfg, app.Options{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { h.Run(ctx); close(done) }()
	var stopped atomic.Bool
	stop = func() {
		if stopped.CompareAndSwap(false, true) {
			cancel()
			h.Close()
			<-done
		}
	}
	t.Cleanup(stop)
	return h, stop
}

func enrol(t *testing.T, h *app.Hub, id string) string {
	t.Helper()
	token, err := h.Registry.Enrol(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return token
}

// screens follows what a kiosk shows.
type screens struct{ ch chan kiosk.Screen }

// kioskClient runs a remote client with o until stop (or the test's end).
func kioskClient(t *testing.T, o remote.Options) (*remote.Client, *screens, func()) {
	t.Helper()
	c, err := remote.New(o)
	if err != nil {
		t.Fatal(err)
	}
	s := &screens{ch: make(chan kiosk.Screen, 1024)}
	c.Subscribe(func(sc kiosk.Screen) { s.ch <- sc })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	var stopped atomic.Bool
	stop := func() {
		if stopped.CompareAndSwap(false, true) {
			cancel()
			<-done
		}
	}
	t.Cleanup(stop)
	return c, s, stop
}

// await waits up to d for a screen that ok accepts; every screen before it
// goes to seen (may be nil).
func (s *screens) await(t *testing.T, what string, d time.Duration, ok func(kiosk.Screen) bool, seen func(kiosk.Screen)) kiosk.Screen {
	t.Helper()
	deadline := time.After(d)
	for {
		select {
		case sc := <-s.ch:
			if ok(sc) {
				return sc
			}
			if seen != nil {
				seen(sc)
			}
		case <-deadline:
			t.Fatalf("no %s on the kiosk within %v", what, d)
		}
	}
}

func isQR(s kiosk.Screen) bool { return s.Phase == kiosk.PhaseQR && s.QR != "" }
func phase(p kiosk.Phase) func(kiosk.Screen) bool {
	return func(s kiosk.Screen) bool { return s.Phase == p }
}

func noCode(t *testing.T) func(kiosk.Screen) {
	return func(s kiosk.Screen) {
		if s.QR != "" {
			t.Errorf("the kiosk showed a code it should not have: %+v", s)
		}
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func scan(t *testing.T, base, kioskID, label string) {
	t.Helper()
	p, ok := sandbox.PersonaByLabel(label, time.Now())
	if !ok {
		t.Fatalf("no persona %q", label)
	}
	resp, err := http.PostForm(base+config.SandboxPrefix+"/scan", url.Values{"kiosk": {kioskID}, "persona": {p.ID}, "decision": {"allow"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("scan: HTTP %d", resp.StatusCode)
	}
}

const alternative = "Please show your IC to the guard at the lobby desk."

// TestHubDownAtStartThenUp: a kiosk whose hub does not answer shows the
// operator's alternative from its own config, never a code, and its
// /healthz says so; when the hub comes up the kiosk connects by itself
// and shows the hub's code.
func TestHubDownAtStartThenUp(t *testing.T) {
	t.Parallel()
	cfg := hubConfig(t)
	cfg.Kiosk.Listen = freeAddr(t)
	h, stop := runHub(t, cfg)
	token := enrol(t, h, "lobby-1")
	stop() // the hub is down when the kiosk starts

	base := "http://" + cfg.Kiosk.Listen
	c, sc, _ := kioskClient(t, remote.Options{URL: base, Token: token, DataDir: t.TempDir(),
		Fallback: hub.Settings{KioskID: "lobby-1", Alternative: alternative, Contact: "6123 4567"}})
	got := sc.await(t, "unavailable screen", 10*time.Second, phase(kiosk.PhaseUnavailable), noCode(t))
	if got.Alternative != alternative || got.Contact != "6123 4567" || got.QR != "" {
		t.Fatalf("unavailable screen: %+v", got)
	}
	health := httptest.NewServer(c.Health("test"))
	defer health.Close()
	var hz map[string]any
	if resp, err := http.Get(health.URL); err == nil {
		json.NewDecoder(resp.Body).Decode(&hz)
		resp.Body.Close()
	}
	if hz["hub"] != "disconnected" || hz["phase"] != kiosk.PhaseUnavailable.String() {
		t.Errorf("/healthz while the hub is down: %v", hz)
	}
	// A few reconnection attempts fail meanwhile; none shows a code.
	time.Sleep(2 * time.Second)

	h2, _ := runHub(t, cfg)
	up := time.Now()
	got = sc.await(t, "code from the hub once it is up", 20*time.Second, isQR, noCode(t))
	t.Logf("the kiosk showed the hub's code %v after the hub came up", time.Since(up).Round(10*time.Millisecond))
	if !strings.Contains(got.QR, "lobby-1-") || c.Settings().KioskID != "lobby-1" || !c.Connected() {
		t.Fatalf("after recovery: %+v, settings %+v", got, c.Settings())
	}
	if ids := h2.Hub.Connected(); len(ids) != 1 || ids[0] != "lobby-1" {
		t.Fatalf("connected to the hub: %v", ids)
	}
}

// stalledHub accepts a kiosk, sends its hello and one code, then sends
// nothing more while still answering pings: a hub whose engine hung.
type stalledHub struct {
	conns atomic.Int32
	next  time.Duration // the code's NextQR, from when it is sent
}

func (s *stalledHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != hub.ConnectPath {
		http.NotFound(w, r)
		return
	}
	conn, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer conn.CloseNow()
	n := s.conns.Add(1)
	ctx := r.Context()
	send := func(m hub.Msg) {
		b, _ := json.Marshal(m)
		conn.Write(ctx, websocket.MessageText, b)
	}
	send(hub.Msg{Type: hub.MsgHello, Settings: &hub.Settings{KioskID: "lobby-1", Alternative: alternative}})
	if n == 1 {
		now := time.Now()
		send(hub.Msg{Type: hub.MsgScreen, Screen: &kiosk.Screen{Phase: kiosk.PhaseQR, QR: "https://hub.example.sg/sgverify?state=lobby-1-stale",
			QRStart: now, NextQR: now.Add(s.next)}})
	}
	for { // reading answers the kiosk's pings
		if _, _, err := conn.Read(ctx); err != nil {
			return
		}
	}
}

// TestStalledHubNeverLeavesAStaleCode: the hub stops sending screens but
// keeps the connection alive. By the time the code on screen should have
// been replaced (plus the watchdog's margin) the kiosk shows the
// operator's alternative instead, and reconnects.
func TestStalledHubNeverLeavesAStaleCode(t *testing.T) {
	t.Parallel()
	stalled := &stalledHub{next: time.Second}
	srv := httptest.NewServer(stalled)
	defer srv.Close()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, remote.CredentialFile), []byte("ndk-cred-test\n"), 0o600)
	_, sc, _ := kioskClient(t, remote.Options{URL: srv.URL, DataDir: dir})
	qr := sc.await(t, "code", 10*time.Second, isQR, nil)
	shown := time.Now()
	got := sc.await(t, "screen after the stale code", 45*time.Second, func(kiosk.Screen) bool { return true }, nil)
	t.Logf("the stale code was replaced after %v (its replacement was due after 1s)", time.Since(shown).Round(100*time.Millisecond))
	if got.Phase != kiosk.PhaseUnavailable || got.QR != "" || got.Alternative != alternative {
		t.Fatalf("after the hub stalled the kiosk shows %+v (was %q)", got, qr.QR)
	}
	deadline := time.Now().Add(15 * time.Second)
	for stalled.conns.Load() < 2 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if stalled.conns.Load() < 2 {
		t.Fatal("the kiosk did not reconnect after the watchdog fired")
	}
	// Reconnected to a hub that still sends nothing: no code comes back.
	select {
	case s := <-sc.ch:
		if s.QR != "" {
			t.Fatalf("the kiosk showed a code again: %+v", s)
		}
	case <-time.After(time.Second):
	}
}

// TestConfirmErrorsMapBack: the engine's answers to a visitor's choice
// come back through the hub as the same errors the UI knows.
func TestConfirmErrorsMapBack(t *testing.T) {
	t.Parallel()
	cfg := hubConfig(t)
	cfg.Kiosk.Mode = kiosk.ModeVisitor
	h, _ := runHub(t, cfg)
	base := "http://" + h.Addr()
	c, sc, _ := kioskClient(t, remote.Options{URL: base, Token: enrol(t, h, "lobby-1"), DataDir: t.TempDir()})
	sc.await(t, "code", 20*time.Second, isQR, nil)
	if err := c.Confirm("Reception", "Meeting"); err == nil || errors.Is(err, kiosk.ErrChoice) {
		t.Fatalf("confirm with nothing to confirm: %v", err)
	}
	scan(t, base, "lobby-1", "Adult citizen")
	sc.await(t, "confirm screen", 20*time.Second, phase(kiosk.PhaseConfirm), nil)
	if err := c.Confirm(strings.Repeat("Ms Tan ", 40), "Meeting"); !errors.Is(err, kiosk.ErrTooLong) {
		t.Fatalf("a host too long: %v", err)
	}
	if err := c.Confirm("Nobody in particular", "Meeting"); !errors.Is(err, kiosk.ErrChoice) {
		t.Fatalf("a host not offered: %v", err)
	}
	if err := c.Confirm("Reception", "Meeting"); err != nil {
		t.Fatalf("a host and purpose offered: %v", err)
	}
	if got := sc.await(t, "result", 20*time.Second, phase(kiosk.PhaseResult), nil); got.Outcome != kiosk.OutcomeCheckedIn {
		t.Fatalf("result %+v", got)
	}
	visits, err := h.Store.Visits(context.Background(), kiosk.VisitFilter{})
	if err != nil || len(visits) != 1 || visits[0].Host != "Reception" || visits[0].Purpose != "Meeting" {
		t.Fatalf("visits %+v %v", visits, err)
	}
}

// TestRefusedCredentialThenNewToken: a kiosk revoked while off and then
// enrolled again starts with its old credential; the hub refuses it, the
// kiosk deletes it and promptly trades the new token in its config.
func TestRefusedCredentialThenNewToken(t *testing.T) {
	t.Parallel()
	cfg := hubConfig(t)
	h, _ := runHub(t, cfg)
	base, dir := "http://"+h.Addr(), t.TempDir()
	_, sc, stop := kioskClient(t, remote.Options{URL: base, Token: enrol(t, h, "lobby-1"), DataDir: dir})
	sc.await(t, "code", 20*time.Second, isQR, nil)
	stop()
	old, err := os.ReadFile(filepath.Join(dir, remote.CredentialFile))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := h.Registry.Revoke(ctx, "lobby-1"); err != nil {
		t.Fatal(err)
	}
	token := enrol(t, h, "lobby-1")
	start := time.Now()
	c, sc, _ := kioskClient(t, remote.Options{URL: base, Token: token, DataDir: dir})
	sc.await(t, "code with the new credential", 10*time.Second, isQR, nil)
	t.Logf("back with a new credential after %v", time.Since(start).Round(10*time.Millisecond))
	now, err := os.ReadFile(filepath.Join(dir, remote.CredentialFile))
	if err != nil || string(now) == string(old) || !c.Connected() {
		t.Fatalf("credential after re-enrolment: changed %v, %v", string(now) != string(old), err)
	}
}

// countingCamera is the kiosk's synthetic camera, counting the stills the
// hub asks for.
type countingCamera struct {
	kiosk.Camera
	frames atomic.Int32
}

func (c *countingCamera) Frame(ctx context.Context) (image.Image, error) {
	c.frames.Add(1)
	return c.Camera.Frame(ctx)
}

// TestFaceThroughTheHub: with Face on the hub, the Face step's photo is a
// still the hub asks the kiosk's own camera for; a matching face passes
// and the visit is logged with Face's result.
func TestFaceThroughTheHub(t *testing.T) {
	t.Parallel()
	cfg := hubConfig(t)
	retries := 1
	cfg.Face.Enabled, cfg.Face.Retries = true, &retries
	h, _ := runHub(t, cfg)
	base := "http://" + h.Addr()
	cam := &countingCamera{Camera: camera.NewSyntheticCamera(320, 240)}
	c, sc, _ := kioskClient(t, remote.Options{URL: base, Token: enrol(t, h, "lobby-1"), DataDir: t.TempDir(), Camera: cam})
	sc.await(t, "code", 20*time.Second, isQR, nil)
	if !c.Settings().Face {
		t.Fatal("the hub did not tell the kiosk it uses Face")
	}
	scan(t, base, "lobby-1", "Adult citizen")
	if s := sc.await(t, "Face step", 20*time.Second, phase(kiosk.PhaseFace), nil); s.FaceAttempt != 1 {
		t.Fatalf("face screen %+v", s)
	}
	got := sc.await(t, "result", 30*time.Second, phase(kiosk.PhaseResult), nil)
	if got.Outcome != kiosk.OutcomeEligible {
		t.Fatalf("result %+v", got)
	}
	if cam.frames.Load() == 0 {
		t.Fatal("the hub decided Face without a still from the kiosk's camera")
	}
	visits, err := h.Store.Visits(context.Background(), kiosk.VisitFilter{})
	if err != nil || len(visits) != 1 || visits[0].FaceResult != kiosk.FacePass || visits[0].Outcome != kiosk.OutcomeEligible {
		t.Fatalf("visits %+v %v", visits, err)
	}
}

// TestUserAgentCarriesTheVersion: the kiosk tells the hub its version on
// connect (User-Agent ndikiosk/VERSION), and the hub keeps it for the
// dashboard's kiosks page; a client given none says "unknown".
func TestUserAgentCarriesTheVersion(t *testing.T) {
	h, _ := runHub(t, hubConfig(t))
	base := "http://" + h.Addr()
	for id, c := range map[string]struct{ version, want string }{"lobby-1": {"1.7.3-test", "ndikiosk/1.7.3-test"}, "lobby-2": {"", "ndikiosk/unknown"}} {
		want := c.want
		_, s, _ := kioskClient(t, remote.Options{URL: base, Token: enrol(t, h, id), DataDir: t.TempDir(), Version: c.version})
		s.await(t, "code", 30*time.Second, isQR, nil)
		var got string
		for _, k := range h.Hub.Kiosks() {
			if k.ID == id {
				got = k.Agent
			}
		}
		if got != want {
			t.Errorf("%s: the hub saw User-Agent %q, want %q", id, got, want)
		}
	}
}
