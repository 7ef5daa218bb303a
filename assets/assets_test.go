package assets

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// InstallFonts puts every bundled font in place, leaves good copies alone,
// and puts back a copy that was damaged or removed since.
func TestInstallFonts(t *testing.T) {
	dir := t.TempDir()
	if err := InstallFonts(dir); err != nil {
		t.Fatal(err)
	}
	files, _ := fs.Glob(Fonts, "fonts/*")
	same := func() {
		t.Helper()
		for _, name := range files {
			want, _ := Fonts.ReadFile(name)
			got, err := os.ReadFile(filepath.Join(dir, "ndikiosk", filepath.Base(name)))
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("%s: not installed as bundled (%v)", name, err)
			}
		}
	}
	same()
	tamil := filepath.Join(dir, "ndikiosk", "NotoSansTamil-Regular.ttf")
	before, _ := os.Stat(tamil)
	if err := InstallFonts(dir); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.Stat(tamil); !after.ModTime().Equal(before.ModTime()) {
		t.Fatal("a good copy was written again") // Fyne's font index would scan it again
	}
	if err := os.Truncate(tamil, 100); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "ndikiosk", "LICENSE-Noto.txt")); err != nil {
		t.Fatal(err)
	}
	if err := InstallFonts(dir); err != nil {
		t.Fatal(err)
	}
	same()
	// A stamp from other fonts (an older build) has them checked again.
	if err := os.WriteFile(filepath.Join(dir, "ndikiosk", ".stamp"), []byte("older"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tamil, []byte("older font"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := InstallFonts(dir); err != nil {
		t.Fatal(err)
	}
	same()
}

// The Chinese label subset is small and is found before the full font:
// Fyne's font scan takes the fonts in name order, and the first that has a
// glyph is the one it loads for it.
func TestLabelSubsetComesFirst(t *testing.T) {
	sub, err := fs.Stat(Fonts, "fonts/DroidSansFallback-Labels.ttf")
	if err != nil {
		t.Fatal(err)
	}
	if sub.Size() > 10_000 {
		t.Fatalf("the label subset is %d bytes", sub.Size())
	}
	names := []string{"DroidSansFallbackFull.ttf", "DroidSansFallback-Labels.ttf"}
	sort.Strings(names)
	if names[0] != "DroidSansFallback-Labels.ttf" {
		t.Fatalf("the full font sorts first: %v", names)
	}
}
