//go:build xvfb

package main

import (
	"context"
	"encoding/json"
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
func TestRealBinaryUnderXvfb(t *testing.T) {
	for _, tool := range []string{"Xvfb", "import", "zbarimg"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is needed (Debian packages xvfb, imagemagick, zbar-tools)", tool)
		}
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "ndikiosk")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		t.Fatalf("build: %v", err)
	}
	for _, provider := range []string{"verify", "fapi"} {
		t.Run(provider, func(t *testing.T) { runRealBinary(t, bin, provider) })
	}
}

func runRealBinary(t *testing.T, bin, provider string) {
	dir := t.TempDir()
	display := startXvfb(t)
	port := freePort(t)
	base := "http://127.0.0.1:" + port
	data := filepath.Join(dir, "data")
	runtimeDir := filepath.Join(dir, "xdg")
	os.Mkdir(runtimeDir, 0o700)
	kioskLog, _ := os.Create(filepath.Join(dir, "kiosk.log"))
	cmd := exec.Command(bin, "--data-dir", data, "--listen", "127.0.0.1:"+port, "--provider", provider)
	cmd.Env = append(os.Environ(), "DISPLAY="+display, "XDG_RUNTIME_DIR="+runtimeDir, "HOME="+dir)
	cmd.Stdout, cmd.Stderr = kioskLog, kioskLog
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
		}
		if t.Failed() {
			b, _ := os.ReadFile(kioskLog.Name())
			t.Logf("kiosk log:\n%s", b)
		}
	})
	waitPhase(t, base, "qr", exited)
	shots := os.Getenv("NDIKIOSK_SHOTS")
	if shots == "" {
		shots = dir
	}
	os.MkdirAll(shots, 0o755)

	var qr string
	for deadline := time.Now().Add(20 * time.Second); qr == "" && time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		shot := screenshot(t, display, filepath.Join(shots, "xvfb-qr-"+provider+".png"))
		out, _ := exec.Command("zbarimg", "-q", "--raw", shot).Output()
		qr = strings.TrimSpace(string(out))
	}
	state := ""
	if provider == "fapi" {
		// The QR on screen must be the sandbox Singpass's authorisation URL
		// for a pushed request; the visitor's phone opens it, the person
		// approves, and the browser follows the redirect to the kiosk.
		if !strings.HasPrefix(qr, base+"/sandbox/fapi/auth?client_id=") || !strings.Contains(qr, "request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3A") {
			t.Fatalf("no FAPI authorisation URL readable on screen; zbarimg read %q", qr)
		}
		state = phoneBrowserApproves(t, qr, base)
		waitPhase(t, base, "result", exited)
		checkResult(t, display, shots, provider, bin, data, state)
		return
	}
	// The QR on screen must be a correctly signed Verify URL for this kiosk.
	if !strings.HasPrefix(qr, base+"/sandbox/sgverify?callback=") {
		t.Fatalf("no Verify QR readable on screen; zbarimg read %q", qr)
	}
	kioskPub, _, err := pki.LoadPublicKey(filepath.Join(data, "sandbox", "kiosk-test.crt"), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := verify.ParseQR(qr, kioskPub); err != nil {
		t.Fatalf("the QR on screen does not verify: %v", err)
	}

	// A persona scans that very code and consents.
	resp, err := http.PostForm(base+"/sandbox/scan", url.Values{"persona": {sandboxAdult()}, "decision": {"allow"}, "qr": {qr}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"callback_status":200`) {
		t.Fatalf("scan: %d %s", resp.StatusCode, body)
	}
	waitPhase(t, base, "result", exited)
	if u, err := url.Parse(qr); err == nil {
		state = u.Query().Get("state")
	}
	checkResult(t, display, shots, provider, bin, data, state)
}

// checkResult checks the green result screen and the visit in the export.
func checkResult(t *testing.T, display, shots, provider, bin, data, state string) {
	time.Sleep(time.Second) // let the window draw it
	shot := screenshot(t, display, filepath.Join(shots, "xvfb-result-"+provider+".png"))
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	r, g, b, _ := img.At(40, 40).RGBA()
	if !(g>>8 > 0x60 && r>>8 < 0x30 && b>>8 < 0x60) {
		t.Fatalf("the result screen is not green at (40,40): rgb(%d,%d,%d)", r>>8, g>>8, b>>8)
	}

	// The visit is in the log, as the operator's export shows it.
	out, err := exec.Command(bin, "export", "--data-dir", data).CombinedOutput()
	if err != nil || !strings.Contains(string(out), state) || !strings.Contains(string(out), ",eligible,") {
		t.Fatalf("export does not show visit %s as eligible: %v\n%s", state, err, out)
	}
}

// startXvfb starts a virtual display on a number Xvfb picks itself
// (-displayfd), so stale sockets of killed servers never exhaust the
// range; it is stopped with SIGTERM, which lets it remove its socket.
func startXvfb(t *testing.T) string {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	x := exec.Command("Xvfb", "-displayfd", "3", "-screen", "0", "1280x800x24", "-nolisten", "tcp")
	x.ExtraFiles = []*os.File{w}
	if err := x.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	t.Cleanup(func() {
		x.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { x.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			x.Process.Kill()
		}
	})
	got := make(chan string, 1)
	go func() {
		b := make([]byte, 16)
		n, _ := r.Read(b)
		got <- strings.TrimSpace(string(b[:n]))
	}()
	select {
	case n := <-got:
		if n == "" {
			t.Fatal("Xvfb did not start")
		}
		return ":" + n
	case <-time.After(10 * time.Second):
		t.Fatal("Xvfb did not report its display")
	}
	return ""
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

func waitPhase(t *testing.T, base, phase string, exited chan error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		select {
		case err := <-exited:
			t.Fatalf("ndikiosk exited: %v", err)
		default:
		}
		if resp, err := http.Get(base + "/healthz"); err == nil {
			var h struct{ Phase string }
			json.NewDecoder(resp.Body).Decode(&h)
			resp.Body.Close()
			if h.Phase == phase {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("the kiosk never reached the %s screen", phase)
}

func screenshot(t *testing.T, display, path string) string {
	cmd := exec.Command("import", "-window", "root", path)
	cmd.Env = append(os.Environ(), "DISPLAY="+display)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("screenshot: %v %s", err, out)
	}
	return path
}

// phoneBrowserApproves approves an authorisation URL as the visitor's
// phone would and follows the redirect to the kiosk, whose page must say
// to look at the screen. It returns the state.
func phoneBrowserApproves(t *testing.T, authURL, base string) string {
	landed, err := phone.Approve(authURL, sandboxAdult())
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(landed)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(landed, base+"/callback?") || !strings.Contains(string(page), "look at the kiosk screen") {
		t.Fatalf("after Allow the browser landed on %q (HTTP %d): %s", landed, resp.StatusCode, page)
	}
	u, _ := url.Parse(landed)
	return u.Query().Get("state")
}
