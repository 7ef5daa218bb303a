//go:build !windows

package storage

import (
	"fmt"
	"log/slog"
	"os"
	"syscall"
)

// privateDir takes group and other access off the data folder when this
// process owns it. A folder of another user is left as it is, with a
// warning: the files in it are private anyway, their names and sizes are not.
func privateDir(dir string) {
	st, err := os.Stat(dir)
	if err != nil || st.Mode().Perm()&0o077 == 0 {
		return
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok && int(sys.Uid) == os.Geteuid() {
		if os.Chmod(dir, st.Mode().Perm()&^0o077) == nil {
			return
		}
	}
	slog.Warn("the data folder is open to other users: they can see which files it holds",
		"dir", dir, "mode", fmt.Sprintf("%04o", st.Mode().Perm()), "fix", "chmod 700 "+dir)
}

// privateFile makes path 0600 whatever the umask: created so if missing
// (when create is set), tightened if it was left open to others. SQLite
// gives a database's -wal and -shm the database file's mode, so a private
// database keeps its journal private too.
func privateFile(path string, create bool) error {
	if create {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			return err
		}
		f.Close()
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm()&0o077 == 0 {
		return nil
	}
	if err := os.Chmod(path, 0o600); err != nil {
		slog.Warn("a visit log file is open to other users and cannot be tightened", "file", path,
			"mode", fmt.Sprintf("%04o", st.Mode().Perm()), "fix", "chmod 600 "+path)
	}
	return nil
}
