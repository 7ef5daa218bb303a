package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ndikiosk/kiosk"
	"ndikiosk/ndi"
	"ndikiosk/ndi/sign/pdf"
	"ndikiosk/storage"
)

// export --documents writes the period's signed agreements as
// visit-ID.pdf (0600) into a folder it makes 0700, says how many, leaves
// out visits without one, and replaces a link planted under a file's name
// instead of writing through it.
func TestExportDocuments(t *testing.T) {
	dir := t.TempDir()
	db, err := storage.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	docs := map[int64][]byte{}
	for i, day := range []string{"2026-11-20", "2026-11-21", "2026-11-21", "2026-11-22"} {
		start, _ := time.ParseInLocation("2006-01-02 15:04", day+" 10:00", ndi.SGT)
		v := kiosk.Visit{KioskID: "k1", Mode: kiosk.ModeVisitor, TxnRef: fmt.Sprintf("k1-%d", i), StartedAt: start,
			DecidedAt: start.Add(time.Second), Outcome: kiosk.OutcomeCheckedIn, Name: "ALICE", PersonKey: db.PersonKey("S1234567D")}
		if i != 2 {
			v.Document = append(pdf.Sample(1, 3000), fmt.Sprintf("%% visit %d\n", i)...)
		} else {
			v.Reason = kiosk.ReasonNotSigned
		}
		id, err := db.Save(context.Background(), v)
		if err != nil {
			t.Fatal(err)
		}
		docs[id] = v.Document
	}
	db.Close()
	out := filepath.Join(t.TempDir(), "signed", "nov")
	victim := filepath.Join(t.TempDir(), "victim")
	os.WriteFile(victim, []byte("keep"), 0o600)
	code, stdout, errs := runCLI("export", "--data-dir", dir, "--from", "2026-11-21", "--to", "2026-11-22", "--documents", out)
	if code != 0 || !strings.Contains(stdout, "2 signed documents written to "+out) {
		t.Fatalf("export --documents: %d %q %s", code, stdout, errs)
	}
	if st, _ := os.Stat(out); st == nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("folder %v", st)
	}
	entries, _ := os.ReadDir(out)
	if len(entries) != 2 {
		t.Fatalf("files %v", entries)
	}
	for _, id := range []int64{2, 4} {
		path := filepath.Join(out, fmt.Sprintf("visit-%d.pdf", id))
		b, err := os.ReadFile(path)
		st, _ := os.Stat(path)
		if err != nil || !bytes.Equal(b, docs[id]) || st.Mode().Perm() != 0o600 {
			t.Fatalf("visit-%d.pdf: %v %v", id, err, st)
		}
	}
	// Again, with a link where a file will go: the link is replaced.
	link := filepath.Join(out, "visit-2.pdf")
	os.Remove(link)
	os.Symlink(victim, link)
	if code, _, errs := runCLI("export", "--data-dir", dir, "--from", "2026-11-21", "--documents", out); code != 0 {
		t.Fatal(errs)
	}
	if b, _ := os.ReadFile(victim); string(b) != "keep" {
		t.Fatal("the export wrote through a link")
	}
	if code, _, errs := runCLI("export", "--data-dir", dir, "--from", "21/11/2026", "--documents", out); code != 1 || !strings.Contains(errs, "not a date") {
		t.Fatalf("bad date: %d %s", code, errs)
	}
	// The CSV export never carries a document.
	_, csv, _ := runCLI("export", "--data-dir", dir)
	if strings.Contains(csv, "%PDF") || strings.Contains(csv, "visit 1") {
		t.Fatal("the CSV export carries a document")
	}
}
