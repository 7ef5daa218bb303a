//go:build !windows

package storage

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode().Perm()
}

// TestFilesArePrivateWhateverTheUmask: with umask 022 and a data folder that
// already exists as 0755, the database, its -wal and -shm and the key are
// 0600 after writes, and the folder is tightened to 0700.
func TestFilesArePrivateWhateverTheUmask(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	d, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for i := 0; i < 20; i++ {
		if _, err := d.Save(context.Background(), visit(d, i, "A", "H")); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{DBFile, DBFile + "-wal", DBFile + "-shm", KeyFile} {
		if m := mode(t, filepath.Join(dir, f)); m != 0o600 {
			t.Errorf("%s is %v, want 0600", f, m)
		}
	}
	if m := mode(t, dir); m != 0o700 {
		t.Errorf("data folder is %v, want 0700", m)
	}
}

// TestOpenTightensFilesLeftOpen: files an older version left 0644 are 0600
// after the next open.
func TestOpenTightensFilesLeftOpen(t *testing.T) {
	d, dir := openTemp(t)
	d.Save(context.Background(), visit(d, 1, "A", "H"))
	d.Close()
	for _, f := range []string{DBFile, DBFile + "-wal", DBFile + "-shm", KeyFile} {
		os.Chmod(filepath.Join(dir, f), 0o644)
	}
	d, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for _, f := range []string{DBFile, DBFile + "-wal", DBFile + "-shm", KeyFile} {
		if m := mode(t, filepath.Join(dir, f)); m != 0o600 {
			t.Errorf("%s is %v after reopening, want 0600", f, m)
		}
	}
}

// TestFolderOfAnotherOwnerIsLeftWithAWarning: a data folder this process
// does not own keeps its mode (changing another user's folder is not the
// kiosk's call) and the log says how to fix it.
func TestFolderOfAnotherOwnerIsLeftWithAWarning(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give the folder to another user")
	}
	var logged bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&logged, nil)))
	defer slog.SetDefault(old)
	dir := filepath.Join(t.TempDir(), "shared")
	os.Mkdir(dir, 0o755)
	os.Chmod(dir, 0o755)
	if err := os.Chown(dir, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	d, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	if m := mode(t, dir); m != 0o755 {
		t.Errorf("another user's folder changed to %v", m)
	}
	if !strings.Contains(logged.String(), "chmod 700 "+dir) {
		t.Errorf("no warning with a fix: %q", logged.String())
	}
}
