//go:build xvfb

package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"ndikiosk/internal/pgtest"
	"ndikiosk/ndi/sandbox"
)

// TestRealBinaryHubFleet runs a fleet as it is deployed, every part a real
// process: PostgreSQL, the standalone Singpass sandbox, two `ndikiosk hub`
// replicas sharing the database and the log key, a failover balancer with
// two front doors (one prefers replica A and is the public address
// Singpass calls back, the other prefers B), and two kiosk binaries
// enrolled with `ndikiosk hub enrol`, each on its own virtual display.
//
// lobby-1 connects through A, lobby-2 through B, so every callback for
// lobby-2 lands on A and reaches B's engine through LISTEN/NOTIFY. Each
// kiosk's code is read off its screen with zbarimg and scanned; the result
// must show on that kiosk (its /healthz, and green pixels) while the other
// still shows a code. Then a visit for lobby-2 is acknowledged through A
// and A is killed with SIGKILL at once: lobby-1 must drop its code, be back
// on a fresh one through B within 10 s, refuse the code it showed before,
// and serve a further scan; lobby-2 must stay connected. Then B is killed
// too: both kiosks must show the unavailable screen with no code on it,
// and be back on a code by themselves soon after A is started again.
// At the end exactly
// the acknowledged visits are rows in PostgreSQL, and neither a pg_dump nor
// any process's log holds a persona's id, name or date of birth, or a
// kiosk's token.
//
// NDIKIOSK_XVFB_DISPLAYS="61,62" puts the kiosks on those X displays
// instead of ones Xvfb picks itself; NDIKIOSK_SHOTS keeps the screenshots.
func TestRealBinaryHubFleet(t *testing.T) {
	for _, tool := range []string{"Xvfb", "import", "zbarimg"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("step tools: %s is needed (Debian packages xvfb, imagemagick, zbar-tools)", tool)
		}
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "ndikiosk")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("step build: %v\n%s", err, out)
	}
	ctx := context.Background()
	pgctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	pg, err := pgtest.Start(pgctx)
	cancel()
	if err != nil {
		t.Fatalf("step PostgreSQL: %v", err)
	}
	t.Cleanup(pg.Stop)
	database, err := pg.NewDatabase(ctx)
	if err != nil {
		t.Fatalf("step PostgreSQL: %v", err)
	}

	// The balancer's front doors exist before the replicas: the sandbox
	// must know the public callback address, and the replicas their
	// public URL.
	addrA, addrB := "127.0.0.1:"+freePort(t), "127.0.0.1:"+freePort(t)
	public := failoverBalancer(t, addrA, addrB) // Singpass's callbacks, lobby-1
	door2 := failoverBalancer(t, addrB, addrA)  // lobby-2
	f := &fleet{t: t, bin: bin, dir: dir}
	sbDir := filepath.Join(dir, "sandbox")
	sbAddr := "127.0.0.1:" + freePort(t)
	f.start("sandbox", "sandbox", "--listen", sbAddr, "--callback", "http://"+public+"/callback", "--dir", sbDir)
	sbBase := "http://" + sbAddr
	f.waitHTTP("sandbox", sbBase+"/sandbox/")
	keyFile := filepath.Join(dir, "hub.key")
	cfgA := f.hubConfig(sbDir, "A", addrA, "http://"+public, database, keyFile)
	cfgB := f.hubConfig(sbDir, "B", addrB, "http://"+public, database, keyFile)
	// One after the other: the first makes the log key and the tables.
	hubA := f.start("hub-A", "hub", "--config", cfgA)
	f.waitHTTP("hub-A", "http://"+addrA+"/healthz")
	hubB := f.start("hub-B", "hub", "--config", cfgB)
	f.waitHTTP("hub-B", "http://"+addrB+"/healthz")

	tokens := map[string]string{}
	for _, id := range []string{"lobby-1", "lobby-2"} {
		enrol := exec.Command(bin, "hub", "enrol", "--config", cfgA, "--kiosk", id)
		os.MkdirAll(filepath.Join(dir, "home-enrol"), 0o700)
		enrol.Env = kioskEnv(filepath.Join(dir, "home-enrol"), "")
		out, err := enrol.Output()
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		if err != nil || !strings.HasPrefix(lines[len(lines)-1], "ndk-enrol-") {
			t.Fatalf("step enrol %s: %v\n%s", id, err, out)
		}
		tokens[id] = lines[len(lines)-1]
	}
	displays := strings.Split(os.Getenv("NDIKIOSK_XVFB_DISPLAYS"), ",")
	k1 := f.kiosk("lobby-1", "http://"+public, tokens["lobby-1"], displays[0])
	k2 := f.kiosk("lobby-2", "http://"+door2, tokens["lobby-2"], displays[min(1, len(displays)-1)])
	if displays[0] != "" && k1.display == k2.display {
		t.Fatalf("NDIKIOSK_XVFB_DISPLAYS=%q: two displays are needed", os.Getenv("NDIKIOSK_XVFB_DISPLAYS"))
	}
	for _, k := range []*fleetKiosk{k1, k2} {
		waitPhase(t, "wait for "+k.id+"'s QR screen", k.base, "qr", k.exited)
	}
	if a, b := kiosksConnected(t, addrA), kiosksConnected(t, addrB); a != 1 || b != 1 {
		t.Fatalf("step balancer: replica A holds %d kiosks, B %d; want one each", a, b)
	}

	var acked []visitWant
	scan := func(k *fleetKiosk, qr, label string) {
		t.Helper()
		state := k.checkQR(qr, sbBase)
		if status := scanCode(t, sbBase, qr, label); status != http.StatusOK {
			t.Fatalf("step scan %s: the callback answered HTTP %d", k.id, status)
		}
		acked = append(acked, visitWant{k.id, state})
	}
	// A scan for each kiosk: the result on its screen, a code on the other's.
	for i, pair := range [][2]*fleetKiosk{{k1, k2}, {k2, k1}} {
		k, other := pair[0], pair[1]
		waitPhase(t, "wait for "+other.id+"'s QR screen", other.base, "qr", other.exited)
		scan(k, k.readQR(fmt.Sprintf("qr-%d", i)), fleetPersonas[i])
		waitPhase(t, "wait for "+k.id+"'s result", k.base, "result", k.exited)
		k.checkGreen(fmt.Sprintf("result-%d", i))
		other.checkShowsCode(fmt.Sprintf("other-%d", i))
	}

	// A visit for lobby-2 is acknowledged through A (the balancer's
	// first choice for callbacks), and A is killed at once, holding
	// lobby-1 and a code lobby-1 shows.
	waitPhase(t, "wait for lobby-1's QR screen", k1.base, "qr", k1.exited)
	waitPhase(t, "wait for lobby-2's QR screen", k2.base, "qr", k2.exited)
	stale := k1.readQR("qr-before-kill")
	scan(k2, k2.readQR("qr-2-before-kill"), fleetPersonas[2])
	if err := hubA.Process.Kill(); err != nil {
		t.Fatalf("step kill -9: %v", err)
	}
	killed := time.Now()
	back, seen2 := watchFailover(t, k1, k2, killed)
	t.Logf("lobby-1 showed a code from replica B %v after replica A was killed", back.Round(time.Millisecond))
	if !seen2["result"] {
		t.Errorf("step failover: lobby-2 never showed the result of the visit acknowledged through A (phases seen: %v)", seen2)
	}
	if n := kiosksConnected(t, addrB); n != 2 {
		t.Fatalf("step failover: replica B holds %d kiosks; want both", n)
	}

	// The code lobby-1 showed before is dead with A's engine; a fresh one
	// from B works.
	if status := scanCode(t, sbBase, stale, fleetPersonas[3]); status == http.StatusOK {
		t.Fatalf("step stale code: a code lobby-1 showed before the failover was honoured")
	}
	fresh := k1.readQR("qr-after-kill")
	if fresh == stale {
		t.Fatalf("step stale code: lobby-1 still shows the code it showed before the failover")
	}
	waitPhase(t, "wait for lobby-2's QR screen", k2.base, "qr", k2.exited)
	scan(k1, fresh, fleetPersonas[4])
	waitPhase(t, "wait for lobby-1's result after the failover", k1.base, "result", k1.exited)
	k1.checkGreen("result-after-kill")
	k2.checkShowsCode("other-after-kill")

	// The whole hub goes: both kiosks show the operator's alternative and
	// no code, and come back by themselves when a replica returns.
	if err := hubB.Process.Kill(); err != nil {
		t.Fatalf("step kill -9: %v", err)
	}
	for _, k := range []*fleetKiosk{k1, k2} {
		waitPhase(t, "wait for "+k.id+"'s unavailable screen", k.base, "unavailable", k.exited)
		k.checkNoCode("hub-gone")
	}
	f.start("hub-A-again", "hub", "--config", cfgA)
	f.waitHTTP("hub-A-again", "http://"+addrA+"/healthz")
	up := time.Now()
	for _, k := range []*fleetKiosk{k1, k2} {
		waitPhase(t, "wait for "+k.id+"'s QR screen once a replica is back", k.base, "qr", k.exited)
	}
	if d := time.Since(up); d > 10*time.Second {
		t.Errorf("step hub back: the kiosks were back on a code only %v after replica A answered again; want within 10 s", d)
	} else {
		t.Logf("both kiosks back on a code %v after replica A answered again", d.Round(time.Millisecond))
	}
	k1.checkShowsCode("hub-back")
	k2.checkShowsCode("hub-back")

	checkVisitRows(t, database, acked, kioskState(stale))
	checkNothingPersonal(t, pg, database, f, tokens)
}

// fleetPersonas are the adults scanned in turn; each scan is a different
// person, so the dump is searched for each of them.
var fleetPersonas = []string{"Adult citizen", "Adult permanent resident", "Foreigner (FIN)", "Chinese script name", "Comma and percent in name"}

type visitWant struct{ kiosk, state string }

// fleet starts the test's processes and keeps their logs.
type fleet struct {
	t    *testing.T
	bin  string
	dir  string
	logs []string
}

// start runs the binary with args, its output in a log named after it;
// cleanup stops it (SIGTERM, then SIGKILL after 5 s) and prints the log
// if the test failed.
func (f *fleet) start(name string, args ...string) *exec.Cmd {
	t := f.t
	t.Helper()
	path := filepath.Join(f.dir, name+".log")
	logFile, err := os.Create(path)
	if err != nil {
		t.Fatalf("step start %s: %v", name, err)
	}
	cmd := exec.Command(f.bin, args...)
	os.MkdirAll(filepath.Join(f.dir, "home-"+name), 0o700)
	cmd.Env = kioskEnv(filepath.Join(f.dir, "home-"+name), "")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatalf("step start %s: %v", name, err)
	}
	if name != "sandbox" { // Singpass's stand-in knows the personas
		f.logs = append(f.logs, path)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); logFile.Close(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			b, _ := os.ReadFile(path)
			t.Logf("%s log:\n%s", name, b)
		}
	})
	return cmd
}

// waitHTTP waits up to 30 s for u to answer 200.
func (f *fleet) waitHTTP(name, u string) {
	f.t.Helper()
	var last string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		resp, err := http.Get(u)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
	}
	f.t.Fatalf("step start %s: %s did not answer in 30 s: %s", name, u, last)
}

// hubConfig writes replica name's config: the kiosk config the sandbox
// wrote (its [verify] table: keys, client, endpoints), results that clear
// after 4 s, and the [hub] table. It sits beside the sandbox's keys, which
// the [verify] paths name relative to the file.
func (f *fleet) hubConfig(sbDir, name, listen, public, database, keyFile string) string {
	t := f.t
	t.Helper()
	var kioskToml []byte
	for deadline := time.Now().Add(10 * time.Second); len(kioskToml) == 0 && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		kioskToml, _ = os.ReadFile(filepath.Join(sbDir, "kiosk.toml"))
	}
	if len(kioskToml) == 0 {
		t.Fatalf("step hub config: the sandbox wrote no kiosk.toml in %s", sbDir)
	}
	data := filepath.Join(f.dir, "hub-"+name)
	text := strings.Replace(string(kioskToml), "[kiosk]\n",
		fmt.Sprintf("[kiosk]\ndata_dir = %q\nresult_timeout = \"4s\"\nresult_min = \"2s\"\n", data), 1)
	text += fmt.Sprintf("\n[hub]\nlisten = %q\npublic_url = %q\ndatabase = %q\nkey_file = %q\n", listen, public, database, keyFile)
	path := filepath.Join(sbDir, "hub-"+name+".toml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatalf("step hub config: %v", err)
	}
	return path
}

// fleetKiosk is one kiosk binary, a screen of the hub.
type fleetKiosk struct {
	f       *fleet
	id      string
	display string
	base    string // its /healthz, on loopback
	exited  chan error
}

// kiosk starts a kiosk binary as the hub's screen on its own display
// (display number n, or one Xvfb picks when n is empty).
func (f *fleet) kiosk(id, hubURL, token, n string) *fleetKiosk {
	t := f.t
	t.Helper()
	dir := filepath.Join(f.dir, id)
	os.MkdirAll(dir, 0o700)
	cfg := filepath.Join(dir, "kiosk.toml")
	text := fmt.Sprintf("[kiosk]\ndata_dir = %q\n\n[hub]\nurl = %q\ntoken = %q\n", filepath.Join(dir, "data"), hubURL, token)
	if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	var display string
	if n != "" {
		display = startXvfbAt(t, n, "1280x800")
	} else {
		display = startXvfb(t)
	}
	_, exited, base := startKiosk(t, f.bin, dir, display, "--config", cfg)
	f.logs = append(f.logs, filepath.Join(dir, "kiosk-"+strings.TrimPrefix(base, "http://127.0.0.1:")+".log"))
	return &fleetKiosk{f: f, id: id, display: display, base: base, exited: exited}
}

// shot is where screenshot name of the kiosk goes: NDIKIOSK_SHOTS, if
// set, keeps them.
func (k *fleetKiosk) shot(name string) string {
	dir := os.Getenv("NDIKIOSK_SHOTS")
	if dir == "" {
		dir = k.f.dir
	}
	os.MkdirAll(dir, 0o755)
	return filepath.Join(dir, "xvfb-hub-"+k.id+"-"+name+".png")
}

// readQR reads the code on the kiosk's screen.
func (k *fleetKiosk) readQR(name string) string {
	k.f.t.Helper()
	return readQR(k.f.t, k.display, k.shot(name))
}

// checkQR checks that qr is a Verify code of the sandbox for this kiosk
// (its state starts with the kiosk's id) and returns its state.
func (k *fleetKiosk) checkQR(qr, sbBase string) string {
	t := k.f.t
	t.Helper()
	u, err := url.Parse(qr)
	if err != nil || !strings.HasPrefix(qr, sbBase+"/sandbox/sgverify?") {
		t.Fatalf("step QR check: %s shows %q, not a code of the sandbox at %s", k.id, qr, sbBase)
	}
	state := u.Query().Get("state")
	if kioskState(qr) != state || !strings.HasPrefix(state, k.id+"-") {
		t.Fatalf("step QR check: %s shows a code with state %q: not its own", k.id, state)
	}
	return state
}

// checkGreen checks that the kiosk's screen is the green result screen.
func (k *fleetKiosk) checkGreen(name string) {
	t := k.f.t
	t.Helper()
	time.Sleep(time.Second) // let the window draw it
	path, err := screenshot(k.display, k.shot(name))
	if err != nil {
		t.Fatalf("step screenshot: %v", err)
	}
	r, g, b, _ := readPNG(t, path).At(40, 120).RGBA()
	if !(g>>8 > 0x60 && r>>8 < 0x30 && b>>8 < 0x60) {
		t.Fatalf("step result screen: %s is not green at (40,120): rgb(%d,%d,%d); see %s", k.id, r>>8, g>>8, b>>8, path)
	}
}

// checkShowsCode checks that the kiosk shows a code of its own, on its
// /healthz and on its screen.
func (k *fleetKiosk) checkShowsCode(name string) {
	t := k.f.t
	t.Helper()
	if h := kioskHealth(k.base); h.Phase != "qr" || h.Hub != "connected" {
		t.Fatalf("step other kiosk: %s is on %q (hub %s), not showing a code", k.id, h.Phase, h.Hub)
	}
	if qr := k.readQR(name); !strings.HasPrefix(kioskState(qr), k.id+"-") {
		t.Fatalf("step other kiosk: %s shows %q, not a code of its own", k.id, qr)
	}
}

// checkNoCode checks that no code can be read off the kiosk's screen.
func (k *fleetKiosk) checkNoCode(name string) {
	t := k.f.t
	t.Helper()
	time.Sleep(time.Second) // let the window draw it
	path, err := screenshot(k.display, k.shot(name))
	if err != nil {
		t.Fatalf("step screenshot: %v", err)
	}
	out, _ := exec.Command("zbarimg", "-q", "--raw", "-Sdisable", "-Sqrcode.enable", path).Output()
	if qr := strings.TrimSpace(string(out)); qr != "" {
		t.Fatalf("step no code: %s has no hub and shows the code %q; see %s", k.id, qr, path)
	}
}

type health struct {
	Phase, Hub string
}

func kioskHealth(base string) health {
	var h health
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(base + "/healthz")
	if err != nil {
		return health{Phase: "no answer: " + err.Error()}
	}
	defer resp.Body.Close()
	json.NewDecoder(resp.Body).Decode(&h)
	return h
}

// watchFailover follows both kiosks from the moment replica A was killed
// until lobby-1 is back on a code: lobby-1 must go to the unavailable
// screen, never show a code while it has no hub, and be back within 10 s;
// lobby-2, on B, must stay connected. It returns how long lobby-1 took and
// the phases lobby-2 went through.
func watchFailover(t *testing.T, k1, k2 *fleetKiosk, killed time.Time) (time.Duration, map[string]bool) {
	t.Helper()
	seen1, seen2 := map[string]bool{}, map[string]bool{}
	gone := false            // lobby-1 has lost replica A
	var staleSince time.Time // lobby-1 has no hub but still shows a code
	for time.Since(killed) < 30*time.Second {
		h1, h2 := kioskHealth(k1.base), kioskHealth(k2.base)
		seen1[h1.Phase], seen2[h2.Phase] = true, true
		if h2.Hub != "connected" {
			t.Fatalf("step failover: lobby-2, on replica B, lost its hub when A was killed (%+v)", h2)
		}
		gone = gone || h1.Phase != "qr" || h1.Hub != "connected"
		switch {
		case h1.Phase == "qr" && h1.Hub != "connected":
			// The code A issued may stay for the instant between the
			// connection closing and the unavailable screen, not longer.
			if staleSince.IsZero() {
				staleSince = time.Now()
			} else if time.Since(staleSince) > time.Second {
				t.Fatalf("step failover: lobby-1 has had no hub for over a second and still shows a code")
			}
		case h1.Phase == "qr" && gone:
			back := time.Since(killed)
			if back > 10*time.Second {
				t.Errorf("step failover: lobby-1 was back on a code only %v after replica A was killed; want within 10 s", back)
			}
			if !seen1["unavailable"] {
				t.Errorf("step failover: lobby-1 never showed the unavailable screen while it had no hub (phases seen: %v)", seen1)
			}
			return back, seen2
		default:
			staleSince = time.Time{}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("step failover: lobby-1 not back on a code 30 s after replica A was killed (phases seen: %v)", seen1)
	return 0, nil
}

// kioskState is the state a Verify code carries.
func kioskState(qr string) string {
	u, err := url.Parse(qr)
	if err != nil {
		return ""
	}
	return u.Query().Get("state")
}

// kiosksConnected is replica addr's count of connected kiosks, from its
// /healthz on loopback.
func kiosksConnected(t *testing.T, addr string) int {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatalf("step hub health: %v", err)
	}
	defer resp.Body.Close()
	var h struct {
		KiosksConnected *int `json:"kiosks_connected"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil || h.KiosksConnected == nil {
		t.Fatalf("step hub health: %s/healthz gives no kiosks_connected (%v)", addr, err)
	}
	return *h.KiosksConnected
}

// scanCode has persona label scan qr through the sandbox and consent, as
// the Singpass app does, and returns the status the kiosk's callback
// answered.
func scanCode(t *testing.T, sbBase, qr, label string) int {
	t.Helper()
	p, ok := sandbox.PersonaByLabel(label, time.Now())
	if !ok {
		t.Fatalf("no persona %q", label)
	}
	resp, err := http.PostForm(sbBase+"/sandbox/scan", url.Values{"qr": {qr}, "persona": {p.ID}, "decision": {"allow"}})
	if err != nil {
		t.Fatalf("step scan: %v", err)
	}
	defer resp.Body.Close()
	var res sandbox.ScanResult
	body, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(body, &res); err != nil {
		t.Fatalf("step scan: HTTP %d %s", resp.StatusCode, body)
	}
	return res.CallbackStatus
}

// failoverBalancer is a TCP load balancer: each connection goes to the
// first of replicas that accepts it. It returns its address.
func failoverBalancer(t *testing.T, replicas ...string) string {
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
			go relayConn(c, replicas)
		}
	}()
	return ln.Addr().String()
}

func relayConn(c net.Conn, replicas []string) {
	defer c.Close()
	for _, r := range replicas {
		up, err := net.DialTimeout("tcp", r, time.Second)
		if err != nil {
			continue
		}
		defer up.Close()
		go func() { io.Copy(up, c); up.(*net.TCPConn).CloseWrite() }()
		io.Copy(c, up)
		return
	}
}

// startXvfbAt starts Xvfb on display :n, with the screen size (WxH), and
// returns once the display accepts a client; cleanup stops it.
func startXvfbAt(t *testing.T, n, size string) string {
	t.Helper()
	if _, err := strconv.Atoi(n); err != nil {
		t.Fatalf("step start Xvfb: display number %q", n)
	}
	xlogPath := filepath.Join(t.TempDir(), "xvfb.log")
	xlog, err := os.Create(xlogPath)
	if err != nil {
		t.Fatalf("step start Xvfb: %v", err)
	}
	defer xlog.Close()
	x := exec.Command("Xvfb", ":"+n, "-screen", "0", size+"x24", "-nolisten", "tcp", "-noreset")
	x.Stdout, x.Stderr = xlog, xlog
	if err := x.Start(); err != nil {
		t.Fatalf("step start Xvfb: %v", err)
	}
	exited := make(chan struct{})
	go func() { x.Wait(); close(exited) }()
	t.Cleanup(func() {
		x.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			x.Process.Kill()
			<-exited
		}
		if t.Failed() {
			b, _ := os.ReadFile(xlogPath)
			t.Logf("Xvfb :%s log:\n%s", n, b)
		}
	})
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		err := x11Handshake("/tmp/.X11-unix/X" + n)
		if err == nil {
			return ":" + n
		}
		select {
		case <-exited:
			b, _ := os.ReadFile(xlogPath)
			t.Fatalf("step start Xvfb: :%s exited before accepting a client (%v):\n%s", n, err, b)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("step display ready: :%s accepted no client in 15 s: %v", n, err)
		}
	}
}

// checkVisitRows checks the visits table: one eligible row for each
// acknowledged visit, of the right kiosk, and none for the stale code.
func checkVisitRows(t *testing.T, database string, want []visitWant, stale string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, database)
	if err != nil {
		t.Fatalf("step rows: %v", err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, "SELECT kiosk_id, txn_ref, outcome FROM visits ORDER BY id")
	if err != nil {
		t.Fatalf("step rows: %v", err)
	}
	got := map[string]string{}
	n := 0
	for rows.Next() {
		var id, state, outcome string
		if err := rows.Scan(&id, &state, &outcome); err != nil {
			t.Fatalf("step rows: %v", err)
		}
		n++
		got[state] = id + " " + outcome
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("step rows: %v", err)
	}
	for _, w := range want {
		if got[w.state] != w.kiosk+" eligible" {
			t.Errorf("step rows: the acknowledged visit %s of %s is %q in PostgreSQL", w.state, w.kiosk, got[w.state])
		}
	}
	if _, ok := got[stale]; ok {
		t.Errorf("step rows: the stale code %s has a visit", stale)
	}
	if n != len(want) {
		t.Errorf("step rows: %d visits in PostgreSQL; want the %d acknowledged: %v", n, len(want), got)
	}
}

// checkNothingPersonal dumps the whole database and reads the hubs' and
// the kiosks' logs: no persona's UIN/FIN, name or date of birth may be in them, nor a
// kiosk's enrolment token.
func checkNothingPersonal(t *testing.T, pg *pgtest.Server, database string, f *fleet, tokens map[string]string) {
	t.Helper()
	dump, err := exec.Command(pg.Bin("pg_dump"), database).Output()
	if err != nil || !bytes.Contains(dump, []byte("lobby-1")) {
		t.Fatalf("step pg_dump: %v (%d bytes, lobby-1 in it: %v)", err, len(dump), bytes.Contains(dump, []byte("lobby-1")))
	}
	files := map[string][]byte{"pg_dump": dump}
	for _, path := range f.logs {
		b, _ := os.ReadFile(path)
		files[filepath.Base(path)] = b
	}
	var secrets []string
	for _, p := range sandbox.Personas(time.Now()) {
		secrets = append(secrets, p.ID, p.ID[1:8], p.Name)
		for _, w := range strings.Fields(p.Name) {
			if len(w) >= 5 {
				secrets = append(secrets, w)
			}
		}
		if p.DOB != "" {
			secrets = append(secrets, p.DOB, strings.ReplaceAll(p.DOB, "-", ""))
		}
	}
	for _, tok := range tokens {
		secrets = append(secrets, tok)
	}
	for name, b := range files {
		for _, s := range secrets {
			if bytes.Contains(b, []byte(s)) || bytes.Contains(b, []byte(hex.EncodeToString([]byte(s)))) {
				t.Errorf("step nothing personal: %s holds %q", name, s)
			}
		}
	}
}
