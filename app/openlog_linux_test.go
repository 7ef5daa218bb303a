package app

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"ndikiosk/kiosk"
	"ndikiosk/storage"
)

// TestOpenLogReadsAReadOnlyCopy is the review's `ndikiosk export` of a
// read-only copy: OpenLog, which the export, deny and allow commands use,
// falls back to a read-only open when the log cannot be written, so the
// export works and a deny says the log is read-only. The copy sits on a
// read-only bind mount in a child's own mount namespace (root ignores file
// modes, so chmod cannot show it).
func TestOpenLogReadsAReadOnlyCopy(t *testing.T) {
	dir := os.Getenv("NDIKIOSK_RO_DIR")
	if dir == "" {
		dir = t.TempDir()
		db, err := storage.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		at := time.Date(2026, 11, 22, 9, 30, 0, 0, time.UTC)
		db.Save(context.Background(), kiosk.Visit{KioskID: "k1", Mode: kiosk.ModeVisitor, TxnRef: "k1-1", StartedAt: at,
			DecidedAt: at, Outcome: kiosk.OutcomeCheckedIn, Name: "ALICE", PersonKey: db.PersonKey("S1234567D")})
		db.Close()
		cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.v")
		cmd.Env = append(os.Environ(), "NDIKIOSK_RO_DIR="+dir)
		cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
		out, err := cmd.CombinedOutput()
		var pe *os.PathError
		if errors.As(err, &pe) {
			t.Skipf("no mount namespace here: %v", err)
		}
		if err != nil {
			t.Fatalf("in the read-only mount: %v\n%s", err, out)
		}
		return
	}
	if err := syscall.Mount(dir, dir, "", syscall.MS_BIND, ""); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("", dir, "", syscall.MS_REMOUNT|syscall.MS_BIND|syscall.MS_RDONLY, ""); err != nil {
		t.Fatal(err)
	}
	db, err := OpenLog("", dir, false)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var buf bytes.Buffer
	if err := db.Export(context.Background(), &buf, kiosk.VisitFilter{}, "csv"); err != nil || !strings.Contains(buf.String(), `"ALICE"`) {
		t.Fatalf("export: %v\n%s", err, buf.String())
	}
	if _, err := db.DenyVisitor(context.Background(), 1, true, "", time.Now()); err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Fatalf("deny on a read-only copy: %v", err)
	}
}
