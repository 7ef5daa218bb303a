package storage

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ndikiosk/kiosk"
)

type fileState struct {
	data  []byte
	mtime time.Time
}

func snapshot(t *testing.T, dir string) map[string]fileState {
	t.Helper()
	out := map[string]fileState{}
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		p := filepath.Join(dir, e.Name())
		b, _ := os.ReadFile(p)
		st, _ := os.Stat(p)
		out[e.Name()] = fileState{b, st.ModTime()}
	}
	return out
}

// asVersion1 turns a closed log into what the first release left: no
// sandbox column, no key check, one migration applied.
func asVersion1(t *testing.T, dir string) {
	t.Helper()
	d, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.sql.Exec(`ALTER TABLE visits DROP COLUMN sandbox; DROP TABLE key_check;
		DELETE FROM schema_migrations WHERE version > 1`); err != nil {
		t.Fatal(err)
	}
	d.Close()
}

// TestOpenReadOnlyWritesNothing reads a log from the first release with
// OpenReadOnly: every visit exports, and visits.db and visits.key are left
// byte for byte and time for time as they were (no migration, no key check
// written). SQLite may add its empty -wal and shared-memory index beside a
// database it reads in WAL mode; the database itself is not written.
func TestOpenReadOnlyWritesNothing(t *testing.T) {
	dir, _ := usedLog(t)
	asVersion1(t, dir)
	before := snapshot(t, dir)
	time.Sleep(10 * time.Millisecond) // so that a write would show in the mtime
	d, err := OpenReadOnly(dir)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := d.Export(context.Background(), &buf, kiosk.VisitFilter{}, "csv"); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(buf.String(), "\n"); n != 6 || !strings.Contains(buf.String(), `"ALICE"`) || !strings.Contains(buf.String(), `"false"`) {
		t.Fatalf("export of the read-only log:\n%s", buf.String())
	}
	if err := d.Deny(context.Background(), []byte("x"), "", t0); err == nil {
		t.Error("a read-only log took a write")
	}
	d.Close()
	after := snapshot(t, dir)
	for _, f := range []string{DBFile, KeyFile} {
		if !bytes.Equal(before[f].data, after[f].data) || !before[f].mtime.Equal(after[f].mtime) {
			t.Errorf("%s changed", f)
		}
	}
	if wal, ok := after[DBFile+"-wal"]; ok && len(wal.data) != 0 {
		t.Errorf("the read-only open wrote %d bytes of WAL", len(wal.data))
	}
	for name := range after {
		if _, ok := before[name]; !ok && name != DBFile+"-wal" && name != DBFile+"-shm" {
			t.Errorf("the read-only open made %s", name)
		}
	}
}

// TestOpenReadOnlyChecksTheKey: read-only or not, a log is not read with a
// missing or another key, and a damaged file is named.
func TestOpenReadOnlyChecksTheKey(t *testing.T) {
	dir, _ := usedLog(t)
	keyPath := filepath.Join(dir, KeyFile)
	own, _ := os.ReadFile(keyPath)
	os.Remove(keyPath)
	if _, err := OpenReadOnly(dir); err == nil || !strings.Contains(err.Error(), keyPath+" is missing") {
		t.Errorf("missing key: %v", err)
	}
	if exists(keyPath) {
		t.Fatal("a read-only open made a key")
	}
	other := make([]byte, 64)
	other[0] = 1
	os.WriteFile(keyPath, other, 0o600)
	if _, err := OpenReadOnly(dir); err == nil || !strings.Contains(err.Error(), "not the key of") {
		t.Errorf("another key: %v", err)
	}
	os.WriteFile(keyPath, own, 0o600)
	if _, err := OpenReadOnly(t.TempDir()); err == nil || !strings.Contains(err.Error(), "no visit log") {
		t.Errorf("empty folder: %v", err)
	}
}
