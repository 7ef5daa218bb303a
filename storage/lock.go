package storage

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// LockFile is the single-instance lock in the data directory.
const LockFile = "ndikiosk.lock"

// ErrRunning means another ndikiosk holds the data directory.
var ErrRunning = errors.New("another ndikiosk is running with this data directory")

// Lock takes the data directory for this process until release is called
// or the process ends (the OS drops the lock with the process, even after
// kill -9, so a stale file never blocks a restart).
func Lock(dir string) (release func(), err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, LockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := lockFile(f); err != nil {
		b := make([]byte, 32)
		n, _ := f.ReadAt(b, 0)
		f.Close()
		if pid := strings.TrimSpace(string(b[:n])); pid != "" {
			return nil, fmt.Errorf("%w (pid %s, %s)", ErrRunning, pid, dir)
		}
		return nil, fmt.Errorf("%w (%s)", ErrRunning, dir)
	}
	f.Truncate(0)
	f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return func() { unlockFile(f); f.Close() }, nil
}
