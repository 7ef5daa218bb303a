//go:build linux

package storage

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"ndikiosk/kiosk"
)

// inReadOnlyMount runs this test again in a child with its own mount
// namespace in which dir is mounted read-only, the way a backup on
// read-only media or a write-protected share looks to the kiosk (root
// ignores file modes, so chmod cannot show it). The child's part runs when
// child is true. It skips where mount namespaces are not allowed.
func inReadOnlyMount(t *testing.T, dir string) (child bool) {
	t.Helper()
	if ro := os.Getenv("NDIKIOSK_RO_DIR"); ro != "" {
		if err := syscall.Mount(ro, ro, "", syscall.MS_BIND, ""); err != nil {
			t.Fatal(err)
		}
		if err := syscall.Mount("", ro, "", syscall.MS_REMOUNT|syscall.MS_BIND|syscall.MS_RDONLY, ""); err != nil {
			t.Fatal(err)
		}
		return true
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.v")
	cmd.Env = append(os.Environ(), "NDIKIOSK_RO_DIR="+dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
	out, err := cmd.CombinedOutput()
	var perm *os.PathError
	if errors.As(err, &perm) || errors.Is(err, syscall.EPERM) {
		t.Skipf("no mount namespace here: %v", err)
	}
	if err != nil {
		t.Fatalf("in the read-only mount: %v\n%s", err, out)
	}
	t.Logf("in the read-only mount:\n%s", out)
	return false
}

// TestReadOnlyFilesystem: on a read-only mount Open says the log cannot be
// written (ErrReadOnly, which the export command takes as its cue) and
// OpenReadOnly exports every visit.
func TestReadOnlyFilesystem(t *testing.T) {
	dir := os.Getenv("NDIKIOSK_RO_DIR")
	if dir == "" {
		dir, _ = usedLog(t)
	}
	if !inReadOnlyMount(t, dir) {
		return
	}
	if _, err := os.Create(filepath.Join(dir, "probe")); err == nil {
		t.Fatal("the mount is writable")
	}
	_, err := Open(dir)
	if !errors.Is(err, ErrReadOnly) || !strings.Contains(err.Error(), filepath.Join(dir, DBFile)) {
		t.Fatalf("Open on a read-only mount: %v", err)
	}
	t.Log(err)
	d, err := OpenReadOnly(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	vs, err := d.Visits(context.Background(), kiosk.VisitFilter{})
	if err != nil || len(vs) != 5 || vs[0].Name != "ALICE" {
		t.Fatalf("%d visits, %v", len(vs), err)
	}
}

// TestReadOnlyCopyWithPendingWAL: a copy taken while the kiosk ran holds
// visits in visits.db-wal that only a writable folder can read; the error
// says so instead of exporting without them.
func TestReadOnlyCopyWithPendingWAL(t *testing.T) {
	dir := os.Getenv("NDIKIOSK_RO_DIR")
	if dir == "" {
		live, _ := openTemp(t)
		for i := 0; i < 3; i++ {
			live.Save(context.Background(), visit(live, i, "ALICE", "H"))
		}
		dir = t.TempDir()
		for _, f := range []string{DBFile, DBFile + "-wal", KeyFile} {
			b, err := os.ReadFile(filepath.Join(filepath.Dir(live.Path()), f))
			if err != nil || len(b) == 0 {
				t.Fatalf("%s: %v", f, err)
			}
			os.WriteFile(filepath.Join(dir, f), b, 0o600)
		}
	}
	if !inReadOnlyMount(t, dir) {
		return
	}
	_, err := OpenReadOnly(dir)
	if err == nil || !strings.Contains(err.Error(), DBFile+"-wal") || !strings.Contains(err.Error(), "writable") {
		t.Fatalf("want an error naming the WAL: %v", err)
	}
	t.Log(err)
}
