//go:build xvfb

package main

import (
	"crypto/x509"
	"encoding/pem"
	"html"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"ndikiosk/internal/pdfsigtest"
)

// TestRealBinarySignsAnAgreement builds ndikiosk as shipped and runs it in
// sandbox visitor mode with the sample agreement (--sign-demo) on a
// virtual display: the Verify QR is read off the screen and scanned
// through the sandbox, host and purpose are chosen and confirmed by
// keystrokes, the signing QR is read off the sign screen and its page
// driven over HTTP as the visitor's phone would (sign, then back to the
// kiosk's return page), the welcome shows, and the signed PDF that
// `export --documents` writes is one poppler's pdfsig finds valid,
// trusting only the sandbox's signing root.
//
// The display is one Xvfb picks itself (-displayfd, as the other Xvfb
// tests do), so several runs on one machine never collide; ports are free
// ones.
func TestRealBinarySignsAnAgreement(t *testing.T) {
	for _, tool := range []string{"Xvfb", "import", "zbarimg", "xdotool"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("step tools: %s is needed (Debian packages xvfb, imagemagick, zbar-tools, xdotool)", tool)
		}
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "ndikiosk")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		t.Fatalf("step build: %v", err)
	}
	shots := os.Getenv("NDIKIOSK_SHOTS")
	if shots == "" {
		shots = dir
	}
	os.MkdirAll(shots, 0o755)
	display := startXvfb(t)
	data := filepath.Join(dir, "data")
	_, exited, base := startKiosk(t, bin, dir, display, "--data-dir", data, "--mode", "visitor", "--sign-demo")
	waitPhase(t, "wait for QR screen", base, "qr", exited)

	qr := readQR(t, display, filepath.Join(shots, "xvfb-sign-qr.png"))
	if !strings.HasPrefix(qr, base+"/sandbox/sgverify?callback=") {
		t.Fatalf("step QR check: not a Verify URL for %s: %q", base, qr)
	}
	sandboxScan(t, base, url.Values{"persona": {sandboxAdult()}, "decision": {"allow"}, "qr": {qr}})
	waitPhase(t, "wait for confirm screen", base, "confirm", exited)
	time.Sleep(500 * time.Millisecond) // let the window draw it and take keys
	// The first host and the first purpose, then Confirm (as
	// scripts/screenshots presses them).
	xkeys(t, display, "Tab", "space", "Tab", "Tab", "Tab", "space")
	xkeys(t, display, "Tab", "Tab", "Tab", "Tab", "Tab", "space")
	waitPhase(t, "wait for sign screen", base, "sign", exited)

	signURL := readQR(t, display, filepath.Join(shots, "xvfb-sign.png"))
	if !strings.HasPrefix(signURL, base+"/sandbox/sign/portal/signv3-") {
		t.Fatalf("step sign QR: not the sandbox's signing page for %s: %q", base, signURL)
	}
	back := phoneSigns(t, signURL)
	if !strings.HasPrefix(back, base+"/sign/done?") {
		t.Fatalf("step phone signs: sent back to %q", back)
	}
	page := get200(t, "return page", back)
	if !strings.Contains(page, "Thank you for signing") {
		t.Fatalf("step return page: %s", page)
	}
	waitPhase(t, "wait for result screen", base, "result", exited)
	time.Sleep(time.Second)
	shot, err := screenshot(display, filepath.Join(shots, "xvfb-sign-result.png"))
	if err != nil {
		t.Fatalf("step screenshot: %v", err)
	}
	img := readPNG(t, shot)
	if r, g, b, _ := img.At(40, 120).RGBA(); !(g>>8 > 0x60 && r>>8 < 0x30 && b>>8 < 0x60) {
		t.Fatalf("step result screen: not green at (40,120): rgb(%d,%d,%d); see %s", r>>8, g>>8, b>>8, shot)
	}

	out := filepath.Join(dir, "signed")
	b, err := exec.Command(bin, "export", "--data-dir", data, "--documents", out).CombinedOutput()
	if err != nil || !strings.Contains(string(b), "1 signed documents written") {
		t.Fatalf("step export: %v\n%s", err, b)
	}
	files, _ := filepath.Glob(filepath.Join(out, "visit-*.pdf"))
	if len(files) != 1 {
		t.Fatalf("step export: files %v", files)
	}
	rootPEM, err := os.ReadFile(filepath.Join(data, "sandbox", "sign-ca.pem"))
	if err != nil {
		t.Fatalf("step pdfsig: the sandbox's signing root: %v", err)
	}
	blk, _ := pem.Decode(rootPEM)
	if blk == nil {
		t.Fatal("step pdfsig: the sandbox's signing root is not PEM")
	}
	root, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatalf("step pdfsig: %v", err)
	}
	if ok, report := pdfsigtest.New(t, root).Valid(files[0]); !ok {
		t.Fatalf("step pdfsig: the exported PDF is not valid:\n%s", report)
	} else {
		t.Log(report)
	}
}

// xkeys presses keys on display, 120 ms apart.
func xkeys(t *testing.T, display string, keys ...string) {
	t.Helper()
	cmd := exec.Command("xdotool", append([]string{"key", "--delay", "120"}, keys...)...)
	cmd.Env = withEnv(os.Environ(), "DISPLAY="+display)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("step keys: xdotool %v: %v %s", keys, err, out)
	}
}

func get200(t *testing.T, step, u string) string {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatalf("step %s: %v", step, err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("step %s: HTTP %d %s", step, resp.StatusCode, b)
	}
	return string(b)
}

var backLink = regexp.MustCompile(`id="back" href="([^"]+)"`)

// phoneSigns opens the signing page as the visitor's phone does, signs as
// the sandbox's adult, and returns where the page sends the browser back.
func phoneSigns(t *testing.T, signURL string) string {
	t.Helper()
	if page := get200(t, "sign page", signURL); !strings.Contains(page, "asks you to sign") {
		t.Fatalf("step sign page: %s", page)
	}
	resp, err := http.PostForm(signURL, url.Values{"persona": {sandboxAdult()}, "decision": {"sign"}})
	if err != nil {
		t.Fatalf("step phone signs: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := backLink.FindSubmatch(b)
	if resp.StatusCode != 200 || m == nil {
		t.Fatalf("step phone signs: HTTP %d %s", resp.StatusCode, b)
	}
	return html.UnescapeString(string(m[1]))
}
