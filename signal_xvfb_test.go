//go:build xvfb

package main

import (
	"errors"
	"net/url"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestRealBinaryStopsOnSIGTERM stops the real kiosk the way systemd does,
// with a visit in flight (a slow exchange): it must exit 0 within 5 s,
// leave the visit log readable and free the data folder for the next
// start.
func TestRealBinaryStopsOnSIGTERM(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "ndikiosk")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("step build: %v\n%s", err, out)
	}
	display := startXvfb(t)
	data := filepath.Join(dir, "data")
	start := func() (*exec.Cmd, chan error, string) { return startKiosk(t, bin, dir, display, "--data-dir", data) }
	cmd, exited, base := start()
	waitPhase(t, "first start", base, "qr", exited)

	// A visitor scans with a slow Singpass: the exchange takes 3 s.
	sandboxScan(t, base, url.Values{"persona": {sandboxAdult()}, "decision": {"allow"}, "fault": {"slow"}})
	waitPhase(t, "slow exchange", base, "checking", exited)

	sent := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("step SIGTERM: %v", err)
	}
	select {
	case err := <-exited:
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			t.Fatalf("step exit: status %d after SIGTERM", exit.ExitCode())
		} else if err != nil {
			t.Fatalf("step exit: %v", err)
		}
		t.Logf("exited 0 %.2f s after SIGTERM", time.Since(sent).Seconds())
	case <-time.After(5 * time.Second):
		t.Fatal("step exit: still running 5 s after SIGTERM")
	}

	// The log is closed cleanly and readable; the data folder is free.
	if out, err := exec.Command(bin, "export", "--data-dir", data).CombinedOutput(); err != nil {
		t.Fatalf("step export after stop: %v\n%s", err, out)
	}
	_, exited, base = start()
	waitPhase(t, "restart", base, "qr", exited)
}
