package storage

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// usedLog makes a log with visits and a deny-list entry, and closes it.
func usedLog(t *testing.T) (dir string, personKey []byte) {
	t.Helper()
	dir = t.TempDir()
	d, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := 0; i < 5; i++ {
		if _, err := d.Save(ctx, visit(d, i, "ALICE", "Ms Lee")); err != nil {
			t.Fatal(err)
		}
	}
	personKey = d.PersonKey("S0000003D")
	if err := d.Deny(ctx, personKey, "banned", t0); err != nil {
		t.Fatal(err)
	}
	d.Close()
	return dir, personKey
}

func wantRefusal(t *testing.T, dir string, says ...string) {
	t.Helper()
	d, err := Open(dir)
	if err == nil {
		d.Close()
		t.Fatalf("opened; want a refusal saying %q", says)
	}
	t.Log(err)
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("the refusal is not one line: %q", err)
	}
	for _, s := range says {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("refusal %q does not say %q", err, s)
		}
	}
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return !errors.Is(err, fs.ErrNotExist)
}

// TestKeyLossRefusesInsteadOfMakingANewKey is the review's case: visits.key
// deleted, restart. A new key would let the denied person in and make every
// older row unreadable; Open refuses and makes no key.
func TestKeyLossRefusesInsteadOfMakingANewKey(t *testing.T) {
	dir, _ := usedLog(t)
	keyPath := filepath.Join(dir, KeyFile)
	os.Remove(keyPath)
	wantRefusal(t, dir, keyPath, "missing", "restore", "backup", DBFile)
	if exists(keyPath) {
		t.Fatal("a new key was made")
	}
}

// TestKeyLossRefusedEvenWithOnlyADenyList: a log whose visits were all
// purged still holds the deny list, which a new key would empty in effect.
func TestKeyLossRefusedEvenWithOnlyADenyList(t *testing.T) {
	dir, _ := usedLog(t)
	d, _ := Open(dir)
	d.Purge(context.Background(), t0.Add(time.Hour))
	d.sql.Exec(`DELETE FROM key_check`)
	d.Close()
	os.Remove(filepath.Join(dir, KeyFile))
	wantRefusal(t, dir, KeyFile, "restore")
}

// TestAnotherKeyRefused: the key of another install (or an older backup of
// a reinstalled kiosk) opens nothing and changes nothing.
func TestAnotherKeyRefused(t *testing.T) {
	dir, personKey := usedLog(t)
	other := t.TempDir()
	o, err := Open(other)
	if err != nil {
		t.Fatal(err)
	}
	o.Close()
	keyPath := filepath.Join(dir, KeyFile)
	own, _ := os.ReadFile(keyPath)
	b, _ := os.ReadFile(filepath.Join(other, KeyFile))
	os.WriteFile(keyPath, b, 0o600)
	wantRefusal(t, dir, keyPath, "not the key of", "restore", DBFile)
	os.WriteFile(keyPath, own, 0o600)
	d, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if denied, _ := d.Denied(context.Background(), personKey); !denied {
		t.Fatal("the deny list does not match with the log's own key")
	}
}

// TestRightKeyBackFromBackupOpens: after a refusal, restoring the key is
// all it takes; the deny list matches again.
func TestRightKeyBackFromBackupOpens(t *testing.T) {
	dir, personKey := usedLog(t)
	keyPath := filepath.Join(dir, KeyFile)
	backup, _ := os.ReadFile(keyPath)
	os.Remove(keyPath)
	wantRefusal(t, dir, "missing")
	os.WriteFile(keyPath, backup, 0o600)
	d, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if denied, err := d.Denied(context.Background(), personKey); !denied || err != nil {
		t.Fatalf("the deny list does not match after restoring the key: %v", err)
	}
}

// TestKeyCheckIsNotTheKey: the check value is in the file, the key is not.
func TestKeyCheckIsNotTheKey(t *testing.T) {
	d, dir := openTemp(t)
	var check []byte
	if err := d.sql.QueryRow(`SELECT value FROM key_check`).Scan(&check); err != nil || len(check) != 32 {
		t.Fatalf("no key check value: %x %v", check, err)
	}
	d.sql.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
	raw, _ := os.ReadFile(filepath.Join(dir, DBFile))
	key, _ := os.ReadFile(filepath.Join(dir, KeyFile))
	for _, part := range [][]byte{key[:32], key[32:], key[:8], key[32:40]} {
		if bytes.Contains(raw, part) {
			t.Fatal("the database holds key material")
		}
	}
}

// TestUpgradeWritesTheKeyCheck: a log from before the key check gets one
// from its key on the first open, and is then protected like a new one.
// A key that does not decrypt its rows is refused even then.
func TestUpgradeWritesTheKeyCheck(t *testing.T) {
	dir, _ := usedLog(t)
	asBeforeKeyCheck(t, dir)
	d, err := Open(dir)
	if err != nil {
		t.Fatalf("first open after the upgrade: %v", err)
	}
	var n int
	d.sql.QueryRow(`SELECT COUNT(*) FROM key_check`).Scan(&n)
	d.Close()
	if n != 1 {
		t.Fatal("no key check value after the upgrade")
	}
	os.Remove(filepath.Join(dir, KeyFile))
	wantRefusal(t, dir, "missing")

	dir, _ = usedLog(t)
	asBeforeKeyCheck(t, dir)
	other := t.TempDir()
	o, _ := Open(other)
	o.Close()
	b, _ := os.ReadFile(filepath.Join(other, KeyFile))
	os.WriteFile(filepath.Join(dir, KeyFile), b, 0o600)
	wantRefusal(t, dir, "not the key of")
}

// asBeforeKeyCheck turns a log back into what the version before the key
// check left: no key_check table, its migration not applied.
func asBeforeKeyCheck(t *testing.T, dir string) {
	t.Helper()
	d, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := d.sql.Exec(`DROP TABLE key_check; DELETE FROM schema_migrations WHERE version = 3`); err != nil {
		t.Fatal(err)
	}
}

// TestEmptiedOrDeletedLogRefused: visits.db cut to zero bytes or deleted
// while its key is still there is a lost log, not a new install.
func TestEmptiedOrDeletedLogRefused(t *testing.T) {
	for _, loss := range []string{"emptied", "deleted"} {
		t.Run(loss, func(t *testing.T) {
			dir, _ := usedLog(t)
			path := filepath.Join(dir, DBFile)
			if loss == "emptied" {
				os.Truncate(path, 0)
			} else {
				os.Remove(path)
			}
			os.Remove(path + "-wal")
			os.Remove(path + "-shm")
			wantRefusal(t, dir, path, "restore", KeyFile, "move")
			if st, err := os.Stat(path); loss == "deleted" && err == nil || loss == "emptied" && st.Size() != 0 {
				t.Fatal("the refused open made a database")
			}
			// Moving the key away is the deliberate way to a new log.
			os.Rename(filepath.Join(dir, KeyFile), filepath.Join(dir, "visits.key.old"))
			d, err := Open(dir)
			if err != nil {
				t.Fatalf("after moving the key away: %v", err)
			}
			d.Close()
		})
	}
}

// TestFirstStartInterruptedBeforeTheKeyWasNamed: the key is written under a
// temporary name and named visits.key only once the database holds its
// check value; a start stopped in between is finished by the next one.
func TestFirstStartInterruptedBeforeTheKeyWasNamed(t *testing.T) {
	d, dir := openTemp(t)
	pk := d.PersonKey("S1234567D")
	d.Close()
	keyPath := filepath.Join(dir, KeyFile)
	os.Rename(keyPath, keyPath+".new")
	d, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if !exists(keyPath) || exists(keyPath+".new") || !bytes.Equal(d.PersonKey("S1234567D"), pk) {
		t.Fatal("the interrupted first start was not finished with its own key")
	}
}

// TestFlippedByteFoundAtStart: damage to the file's structure is found by
// quick_check when the log opens, not months later at export.
func TestFlippedByteFoundAtStart(t *testing.T) {
	d, dir := openTemp(t)
	seedBulk(t, d, 3000)
	d.sql.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
	var pageSize, pages int64
	d.sql.QueryRow(`PRAGMA page_size`).Scan(&pageSize)
	d.sql.QueryRow(`PRAGMA page_count`).Scan(&pages)
	d.Close()
	path := filepath.Join(dir, DBFile)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	at := (pages/2 - 1) * pageSize // the page type byte of a page mid-file
	b := make([]byte, 1)
	f.ReadAt(b, at)
	f.WriteAt([]byte{b[0] ^ 0xff}, at)
	f.Close()
	wantRefusal(t, dir, path, "damaged", "restore", "backup")
}

// TestRefusalLeavesTheDatabaseAsItWas: refusing a log from before the key
// check whose key is gone leaves the file exactly as it was (no migration,
// no key check written).
func TestRefusalLeavesTheDatabaseAsItWas(t *testing.T) {
	dir, _ := usedLog(t)
	asBeforeKeyCheck(t, dir)
	os.Remove(filepath.Join(dir, KeyFile))
	path := filepath.Join(dir, DBFile)
	before, _ := os.ReadFile(path)
	beforeWAL, _ := os.ReadFile(path + "-wal")
	wantRefusal(t, dir, "missing")
	after, _ := os.ReadFile(path)
	afterWAL, _ := os.ReadFile(path + "-wal")
	if !bytes.Equal(before, after) || !bytes.Equal(beforeWAL, afterWAL) {
		t.Fatal("the refused open changed visits.db")
	}
}

// BenchmarkQuickCheck100k is what the check at every open costs on a log
// of 100,000 visits.
func BenchmarkQuickCheck100k(b *testing.B) {
	d, _ := openTemp(b)
	seedBulk(b, d, 100_000)
	d.sql.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
	for b.Loop() {
		if err := d.quickCheck(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpen100k is a whole open of a 100,000-visit log: quick_check,
// the key check and the migrations already applied.
func BenchmarkOpen100k(b *testing.B) {
	d, dir := openTemp(b)
	seedBulk(b, d, 100_000)
	d.Close()
	for b.Loop() {
		d, err := Open(dir)
		if err != nil {
			b.Fatal(err)
		}
		d.Close()
	}
}
