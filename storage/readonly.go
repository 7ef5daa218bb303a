package storage

import (
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	sqlite3 "github.com/mattn/go-sqlite3"
)

// ErrReadOnly means the data folder or visits.db cannot be written here (a
// read-only mount, a copy this user may only read). OpenReadOnly may still
// read the log.
var ErrReadOnly = errors.New("the visit log cannot be written here")

func readOnlyErr(path string, err error) error {
	if errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS) {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return fmt.Errorf("%w: %s: %v", ErrReadOnly, path, err)
	}
	return fmt.Errorf("open %s: %w", path, err)
}

// OpenReadOnly opens the visit log in dir only to read it, for exporting a
// copy on read-only media or one this user may not write: no migration, no
// key made, visits.db not written. It checks the key and the file as Open
// does, and reads a log from an older version as it is.
func OpenReadOnly(dir string) (*DB, error) {
	path, keyPath := filepath.Join(dir, DBFile), filepath.Join(dir, KeyFile)
	if isEmpty(path) {
		return nil, fmt.Errorf("no visit log at %s", path)
	}
	key, err := readKey(keyPath)
	if err != nil {
		return nil, err
	}
	if key == nil {
		return nil, fmt.Errorf("%s is missing: restore it from the backup made with %s; the log cannot be read without it", keyPath, DBFile)
	}
	d, err := openReadOnly(path)
	if err != nil {
		return nil, err
	}
	if err := d.readable(key, keyPath); err != nil {
		d.sql.Close()
		return nil, err
	}
	return d, nil
}

// openReadOnly opens path with mode=ro. SQLite reads a WAL database through
// a shared-memory index beside it (-shm), which a read-only folder cannot
// hold; then, if no -wal holds visits not yet in the file, the file is read
// as immutable.
func openReadOnly(path string) (*DB, error) {
	for _, params := range []string{"mode=ro", "mode=ro&immutable=1"} {
		db, err := sql.Open("sqlite3", "file:"+path+"?"+params+"&_busy_timeout=5000")
		if err != nil {
			return nil, err
		}
		err = db.QueryRow(`SELECT COUNT(*) FROM sqlite_master`).Scan(new(int))
		var se sqlite3.Error
		switch {
		case err == nil:
			return &DB{sql: db, path: path, columns: columns}, nil
		case !errors.As(err, &se) || se.Code != sqlite3.ErrCantOpen:
			db.Close()
			return nil, fmt.Errorf("open %s: %w", path, explain(err))
		}
		db.Close()
		if st, err := os.Stat(path + "-wal"); err == nil && st.Size() > 0 {
			return nil, fmt.Errorf("%s cannot be read in this read-only folder: %s-wal holds visits not yet written into it; "+
				"copy %s, %s-wal and %s to a writable folder and read them there", path, path, DBFile, DBFile, KeyFile)
		}
	}
	return nil, fmt.Errorf("open %s: cannot be opened read-only", path)
}

// readable checks the file and the key as setUp does, without writing.
func (d *DB) readable(key []byte, keyPath string) error {
	if err := d.quickCheck(); err != nil {
		return err
	}
	st, err := d.keyState()
	if err != nil {
		return fmt.Errorf("open %s: %w", d.path, explain(err))
	}
	if err := d.useKey(key, keyPath, st); err != nil {
		return err
	}
	var sandbox int
	if err := d.sql.QueryRow(`SELECT COUNT(*) FROM pragma_table_info('visits') WHERE name = 'sandbox'`).Scan(&sandbox); err != nil {
		return fmt.Errorf("open %s: %w", d.path, explain(err))
	}
	if sandbox == 0 { // a log from before the sandbox mark: none of its visits had one
		d.columns = strings.Replace(columns, "sandbox", "0", 1)
	}
	return nil
}
