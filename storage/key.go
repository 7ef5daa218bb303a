package storage

import (
	"crypto/hmac"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"ndikiosk/internal/seal"
	"os"
)

// readKey reads a key file; a missing one gives nil and no error.
func readKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(b) != seal.KeySize {
		return nil, fmt.Errorf("%s is damaged (%d bytes, want %d): restore it from the backup made with the database; without it the log cannot be read", path, len(b), seal.KeySize)
	}
	return b, nil
}

func writeKey(path string, key []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	if _, err := f.Write(key); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}

// syncDir makes a rename in dir durable (a no-op where directories cannot
// be synced).
func syncDir(dir string) {
	if f, err := os.Open(dir); err == nil {
		f.Sync()
		f.Close()
	}
}

func errKeyMissing(keyPath, path string) error {
	return fmt.Errorf("%s is missing but %s holds visits or a deny list made with it: restore %s from the backup made with %s "+
		"(a new key would leave those visits unreadable and the deny list matching no one)", keyPath, path, KeyFile, DBFile)
}

// keyState is what the database says about its key, read before any
// migration so that a refusal changes nothing.
type keyState struct {
	check     []byte // the stored key check value; nil before the key check came in
	holdsData bool   // visits or deny-list entries
	// The newest sealed value, by which a log from before the key check
	// tells its own key.
	sealedColumn, sealedRef string
	sealed                  []byte
}

func (d *DB) keyState() (keyState, error) {
	var st keyState
	has := func(table string) (bool, error) {
		var n int
		err := d.sql.QueryRow(`SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?`, table).Scan(&n)
		return n > 0, err
	}
	if ok, err := has("key_check"); err != nil {
		return st, err
	} else if ok {
		if err := d.sql.QueryRow(`SELECT value FROM key_check WHERE id = 1`).Scan(&st.check); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return st, err
		}
	}
	if ok, err := has("deny_list"); err != nil {
		return st, err
	} else if ok {
		if err := d.sql.QueryRow(`SELECT EXISTS (SELECT 1 FROM deny_list)`).Scan(&st.holdsData); err != nil {
			return st, err
		}
	}
	ok, err := has("visits")
	if err != nil || !ok {
		return st, err
	}
	var masked, name []byte
	err = d.sql.QueryRow(`SELECT txn_ref, masked_id, name FROM visits ORDER BY id DESC LIMIT 1`).Scan(&st.sealedRef, &masked, &name)
	if errors.Is(err, sql.ErrNoRows) {
		return st, nil
	}
	st.holdsData = true
	switch {
	case masked != nil:
		st.sealedColumn, st.sealed = "masked_id", masked
	case name != nil:
		st.sealedColumn, st.sealed = "name", name
	}
	return st, err
}

// useKey takes key for sealing and person keys once it is the database's
// own: by the stored check value, or for a log from before the key check
// by opening its newest sealed value.
func (d *DB) useKey(key []byte, keyPath string, st keyState) error {
	d.box, _ = seal.New(key) // readKey checked its length
	var why string
	switch {
	case st.check != nil && !hmac.Equal(st.check, seal.Check(key)):
		why = "the key check value stored in the database differs"
	case st.check == nil && st.sealed != nil:
		if _, err := d.open(st.sealedColumn, st.sealedRef, st.sealed); err != nil {
			why = "the newest visit does not decrypt with it"
		}
	}
	if why != "" {
		return fmt.Errorf("%s is not the key of %s (%s): restore the %s backed up together with this %s",
			keyPath, d.path, why, KeyFile, DBFile)
	}
	return nil
}
