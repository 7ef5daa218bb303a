//go:build xvfb

package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"image/png"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"ndikiosk/internal/phone"
	"ndikiosk/ndi/pki"
	"ndikiosk/ndi/verify"
)

// TestRealBinaryUnderXvfb builds ndikiosk as shipped (cgo, OpenGL), runs it
// in sandbox mode on a virtual display, reads the QR off the screen, has a
// persona scan it through the sandbox, and checks the result screen: once
// with Verify, once with Myinfo under FAPI 2.0, where the QR is opened the
// way a phone's browser opens it.
//
// Every failure names its step (tools, build, start Xvfb, display ready,
// kiosk start, wait for QR screen, screenshot, QR decode, QR check, scan,
// phone approves, wait for result screen, result screen, export); the
// kiosk's and Xvfb's logs follow a failure.
func TestRealBinaryUnderXvfb(t *testing.T) {
	for _, tool := range []string{"Xvfb", "import", "zbarimg"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("step tools: %s is needed (Debian packages xvfb, imagemagick, zbar-tools)", tool)
		}
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "ndikiosk")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		t.Fatalf("step build: %v", err)
	}
	for _, provider := range []string{"verify", "fapi"} {
		t.Run(provider, func(t *testing.T) { runRealBinary(t, bin, provider) })
	}
}

func runRealBinary(t *testing.T, bin, provider string) {
	dir := t.TempDir()
	display := startXvfb(t)
	data := filepath.Join(dir, "data")
	_, exited, base := startKiosk(t, bin, dir, display, "--data-dir", data, "--provider", provider)
	waitPhase(t, "wait for QR screen", base, "qr", exited)
	shots := os.Getenv("NDIKIOSK_SHOTS")
	if shots == "" {
		shots = dir
	}
	os.MkdirAll(shots, 0o755)
	qr := readQR(t, display, filepath.Join(shots, "xvfb-qr-"+provider+".png"))
	state := ""
	if provider == "fapi" {
		// The QR on screen must be the sandbox Singpass's authorisation URL
		// for a pushed request; the visitor's phone opens it, the person
		// approves, and the browser follows the redirect to the kiosk.
		if !strings.HasPrefix(qr, base+"/sandbox/fapi/auth?client_id=") || !strings.Contains(qr, "request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3A") {
			t.Fatalf("step QR check: the QR on screen is not a FAPI authorisation URL for %s; zbarimg read %q", base, qr)
		}
		state = phoneBrowserApproves(t, qr, base)
		waitPhase(t, "wait for result screen", base, "result", exited)
		checkResult(t, display, shots, provider, bin, data, state)
		return
	}
	// The QR on screen must be a correctly signed Verify URL for this kiosk.
	if !strings.HasPrefix(qr, base+"/sandbox/sgverify?callback=") {
		t.Fatalf("step QR check: the QR on screen is not a Verify URL for %s; zbarimg read %q", base, qr)
	}
	kioskPub, _, err := pki.LoadPublicKey(filepath.Join(data, "sandbox", "kiosk-test.crt"), time.Now())
	if err != nil {
		t.Fatalf("step QR check: the sandbox kiosk certificate: %v", err)
	}
	if _, err := verify.ParseQR(qr, kioskPub); err != nil {
		t.Fatalf("step QR check: the QR on screen does not verify: %v", err)
	}

	// A persona scans that very code and consents.
	sandboxScan(t, base, url.Values{"persona": {sandboxAdult()}, "decision": {"allow"}, "qr": {qr}})
	waitPhase(t, "wait for result screen", base, "result", exited)
	if u, err := url.Parse(qr); err == nil {
		state = u.Query().Get("state")
	}
	checkResult(t, display, shots, provider, bin, data, state)
}

// checkResult checks the green result screen and the visit in the export.
func checkResult(t *testing.T, display, shots, provider, bin, data, state string) {
	time.Sleep(time.Second) // let the window draw it
	shot, err := screenshot(display, filepath.Join(shots, "xvfb-result-"+provider+".png"))
	if err != nil {
		t.Fatalf("step screenshot: %v", err)
	}
	f, err := os.Open(shot)
	if err != nil {
		t.Fatalf("step result screen: %v", err)
	}
	img, err := png.Decode(f)
	f.Close()
	if err != nil {
		t.Fatalf("step result screen: %s: %v", shot, err)
	}
	r, g, b, _ := img.At(40, 120).RGBA() // below the sandbox bar
	if !(g>>8 > 0x60 && r>>8 < 0x30 && b>>8 < 0x60) {
		t.Fatalf("step result screen: not green at (40,120): rgb(%d,%d,%d); see %s", r>>8, g>>8, b>>8, shot)
	}

	// The visit is in the log, as the operator's export shows it: eligible,
	// and marked as the sandbox's (its sandbox column).
	out, err := exec.Command(bin, "export", "--data-dir", data).Output()
	if err != nil {
		t.Fatalf("step export: %v\n%s", err, out)
	}
	rows, err := csv.NewReader(strings.NewReader(string(out))).ReadAll()
	if err != nil || len(rows) < 2 {
		t.Fatalf("step export: not a CSV with visits: %v\n%s", err, out)
	}
	col := map[string]int{}
	for i, name := range rows[0] {
		col[name] = i
	}
	found := false
	for _, r := range rows[1:] {
		if r[col["txn_ref"]] == state && r[col["outcome"]] == "eligible" && r[col["sandbox"]] == "true" {
			found = true
		}
	}
	if !found {
		t.Fatalf("step export: it does not show visit %s as an eligible sandbox visit:\n%s", state, out)
	}
}

// startXvfb starts a virtual display on a number Xvfb picks itself
// (-displayfd), so stale sockets of killed servers never exhaust the
// range, and returns once that display has accepted a client: the kiosk
// started against a display that was not answering gets nothing but GLFW's
// "PlatformUnavailable: Failed to detect any supported platform". The
// server runs with -noreset, so the readiness probe disconnecting does not
// make it reset under the kiosk. It is stopped with SIGTERM, which lets it
// remove its socket; its log follows a failure.
func startXvfb(t *testing.T) string {
	t.Helper()
	return startXvfbSized(t, "1280x800")
}

// startXvfbSized is startXvfb with a screen of size (WxH).
func startXvfbSized(t *testing.T, size string) string {
	t.Helper()
	xlogPath := filepath.Join(t.TempDir(), "xvfb.log")
	xlog, err := os.Create(xlogPath)
	if err != nil {
		t.Fatalf("step start Xvfb: %v", err)
	}
	defer xlog.Close()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatalf("step start Xvfb: %v", err)
	}
	defer r.Close()
	x := exec.Command("Xvfb", "-displayfd", "3", "-screen", "0", size+"x24", "-nolisten", "tcp", "-noreset")
	x.ExtraFiles = []*os.File{w}
	x.Stdout, x.Stderr = xlog, xlog
	if err := x.Start(); err != nil {
		w.Close()
		t.Fatalf("step start Xvfb: %v", err)
	}
	w.Close()
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = x.Wait(); close(exited) }()
	xvfbLog := func() string { b, _ := os.ReadFile(xlogPath); return string(b) }
	t.Cleanup(func() {
		x.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			x.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("Xvfb log:\n%s", xvfbLog())
		}
	})

	got := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(r).ReadString('\n')
		got <- strings.TrimSpace(line)
	}()
	var n string
	select {
	case n = <-got:
	case <-time.After(10 * time.Second):
		t.Fatalf("step start Xvfb: no display number reported in 10 s")
	}
	if n == "" {
		select {
		case <-exited:
			t.Fatalf("step start Xvfb: it exited without reporting a display (%v):\n%s", waitErr, xvfbLog())
		case <-time.After(5 * time.Second):
			t.Fatalf("step start Xvfb: it closed -displayfd without reporting a display:\n%s", xvfbLog())
		}
	}
	display := ":" + n

	deadline := time.Now().Add(15 * time.Second)
	for {
		err := x11Handshake("/tmp/.X11-unix/X" + n)
		if err == nil {
			return display
		}
		select {
		case <-exited:
			t.Fatalf("step display ready: Xvfb on %s exited (%v) before accepting a client (%v):\n%s", display, waitErr, err, xvfbLog())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("step display ready: %s accepted no client in 15 s: %v", display, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// x11Handshake connects to an X server's socket and completes the X11
// connection setup with no authorisation, as any client does first.
func x11Handshake(socket string) error {
	c, err := net.DialTimeout("unix", socket, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	// Little-endian ('l'), protocol 11.0, no authorisation name or data.
	setup := []byte{'l', 0, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	if _, err := c.Write(setup); err != nil {
		return fmt.Errorf("connection setup: %w", err)
	}
	head := make([]byte, 8)
	if _, err := io.ReadFull(c, head); err != nil {
		return fmt.Errorf("connection setup reply: %w", err)
	}
	switch head[0] {
	case 1:
		return nil
	case 0:
		reason := make([]byte, head[1])
		io.ReadFull(c, reason)
		return fmt.Errorf("connection refused by the server: %s", reason)
	default:
		return fmt.Errorf("connection setup answered %d (authentication required?), protocol %d.%d",
			head[0], binary.LittleEndian.Uint16(head[2:]), binary.LittleEndian.Uint16(head[4:]))
	}
}

// sandboxScan has the sandbox scan the shown code as a phone would and
// checks that the kiosk took the callback.
func sandboxScan(t *testing.T, base string, form url.Values) {
	t.Helper()
	resp, err := http.PostForm(base+"/sandbox/scan", form)
	if err != nil {
		t.Fatalf("step scan: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"callback_status":200`) {
		t.Fatalf("step scan: HTTP %d %s", resp.StatusCode, body)
	}
}

// startKiosk starts the real binary on display with args and its own
// port, home and log; the test's cleanup stops it (SIGTERM, then kill
// after 5 s) and prints its log if the test failed. It returns the
// process, a channel that gets its exit, and its base URL.
func startKiosk(t *testing.T, bin, dir, display string, args ...string) (*exec.Cmd, chan error, string) {
	t.Helper()
	port := freePort(t)
	logFile, err := os.Create(filepath.Join(dir, "kiosk-"+port+".log"))
	if err != nil {
		t.Fatalf("step kiosk start: %v", err)
	}
	cmd := exec.Command(bin, append(args, "--listen", "127.0.0.1:"+port)...)
	// The kiosk installs its fonts into the XDG data folder: a home of
	// its own keeps them out of the user's.
	cmd.Env = kioskEnv(dir, display)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatalf("step kiosk start: %v", err)
	}
	exited, done := make(chan error, 1), make(chan struct{})
	go func() { exited <- cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
		}
		if t.Failed() {
			b, _ := os.ReadFile(logFile.Name())
			t.Logf("kiosk log:\n%s", b)
		}
	})
	return cmd, exited, "http://127.0.0.1:" + port
}

// kioskEnv is the environment of a kiosk under test: a home of its own (the
// kiosk installs its fonts into the XDG data folder), the virtual display,
// and none of the caller's NDIKIOSK_ variables, which would configure it
// (or, like the test's own NDIKIOSK_SHOTS, be refused as unknown).
func kioskEnv(dir, display string) []string {
	runtimeDir := filepath.Join(dir, "xdg")
	os.Mkdir(runtimeDir, 0o700)
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "NDIKIOSK_") {
			env = append(env, kv)
		}
	}
	return withEnv(env, "DISPLAY="+display, "XDG_RUNTIME_DIR="+runtimeDir, "HOME="+dir,
		"XDG_DATA_HOME="+filepath.Join(dir, ".local", "share"), "XDG_CONFIG_HOME="+filepath.Join(dir, ".config"),
		"XDG_CACHE_HOME="+filepath.Join(dir, ".cache"))
}

// withEnv returns env with each KEY=value of set in place of any earlier
// value of KEY, so a child never sees two values of one variable.
func withEnv(env []string, set ...string) []string {
	out := make([]string, 0, len(env)+len(set))
	for _, kv := range env {
		keep := true
		for _, s := range set {
			if k, _, _ := strings.Cut(s, "="); strings.HasPrefix(kv, k+"=") {
				keep = false
				break
			}
		}
		if keep {
			out = append(out, kv)
		}
	}
	return append(out, set...)
}

func freePort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

func waitPhase(t *testing.T, step, base, phase string, exited chan error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	last := "no answer yet"
	for ctx.Err() == nil {
		select {
		case err := <-exited:
			t.Fatalf("step %s: ndikiosk exited: %v", step, err)
		default:
		}
		resp, err := http.Get(base + "/healthz")
		if err != nil {
			last = err.Error()
		} else {
			var h struct{ Phase string }
			json.NewDecoder(resp.Body).Decode(&h)
			resp.Body.Close()
			if h.Phase == phase {
				return
			}
			last = fmt.Sprintf("HTTP %d, phase %q", resp.StatusCode, h.Phase)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("step %s: the kiosk never reached the %s screen in 60 s; last /healthz: %s", step, phase, last)
}

// screenshot saves the display's root window as a PNG.
func screenshot(display, path string) (string, error) {
	cmd := exec.Command("import", "-window", "root", path)
	cmd.Env = withEnv(os.Environ(), "DISPLAY="+display)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("import on %s: %v %s", display, err, out)
	}
	return path, nil
}

// readQR takes screenshots until zbarimg reads a code off one, for up to
// 20 s, and returns what it read. Only QR codes are decoded: zbarimg's
// other decoders sometimes find a linear code (a DataBar) in the QR's
// modules and print it as a second line.
func readQR(t *testing.T, display, path string) string {
	t.Helper()
	var last string
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		shot, err := screenshot(display, path)
		if err != nil {
			t.Fatalf("step screenshot: %v", err)
		}
		out, err := exec.Command("zbarimg", "-q", "--raw", "-Sdisable", "-Sqrcode.enable", shot).Output()
		if qr := strings.TrimSpace(string(out)); qr != "" {
			return qr
		}
		last = fmt.Sprint(err)
	}
	t.Fatalf("step QR decode: zbarimg read no code off the screen in 20 s (last: %s); see %s", last, path)
	return ""
}

// phoneBrowserApproves approves an authorisation URL as the visitor's
// phone would and follows the redirect to the kiosk, whose page must say
// to look at the screen. It returns the state.
func phoneBrowserApproves(t *testing.T, authURL, base string) string {
	landed, err := phone.Approve(authURL, sandboxAdult())
	if err != nil {
		t.Fatalf("step phone approves: %v", err)
	}
	resp, err := http.Get(landed)
	if err != nil {
		t.Fatalf("step phone approves: %v", err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(landed, base+"/callback?") || !strings.Contains(string(page), "look at the kiosk screen") {
		t.Fatalf("step phone approves: after Allow the browser landed on %q (HTTP %d): %s", landed, resp.StatusCode, page)
	}
	u, _ := url.Parse(landed)
	return u.Query().Get("state")
}
