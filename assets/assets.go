// Package assets holds what the binary carries with it: fonts for the four
// official languages' scripts and the screen translations.
package assets

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
)

// Fonts: Noto Sans Tamil (SIL OFL 1.1) and Droid Sans Fallback (Apache 2.0,
// Chinese); Latin and Malay are covered by Fyne's own font. Their licences
// sit beside them. DroidSansFallback-Labels.ttf is a 2 kB subset of the
// Chinese font with only the glyphs of the language button 中文
// (LICENSE-Droid-subset.txt): Fyne looks a glyph up in the fonts it found
// in name order and loads the first that has it, so the QR screen's
// buttons take 中 and 文 from the subset, and the full font (4 MB, about
// 50 ms and 19 MB of garbage to parse) is read only when other Chinese
// characters are drawn: a visitor picks 中文, or a name in Chinese.
//
//go:embed fonts/*.ttf fonts/LICENSE-*.txt
var Fonts embed.FS

// Translations are go-i18n style JSON files, one per language: en, zh, ms, ta.
//
//go:embed translations/*.json
var Translations embed.FS

// FontDir is the per-user font folder that Fyne's font fallback scans.
func FontDir() (string, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return "", err
	}
	switch runtime.GOOS {
	case "windows":
		return filepath.Join(os.Getenv("LOCALAPPDATA"), "Microsoft", "Windows", "Fonts"), nil
	case "darwin":
		return filepath.Join(home, "Library", "Fonts"), nil
	}
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "fonts"), nil
	}
	return filepath.Join(home, ".local", "share", "fonts"), nil
}

// InstallFonts copies the bundled fonts into dir/ndikiosk, unless the
// copies there are of this build's fonts already. Fyne draws text in the
// theme font and falls back, glyph by glyph, to the fonts it finds on the
// machine; a kiosk image may have none for Tamil or Chinese, so the kiosk
// brings its own.
//
// It runs at every start, before the first frame: rather than reading
// 4 MB twice to compare, it keeps a stamp (the fonts' SHA-256) beside the
// copies and checks the copies' sizes.
func InstallFonts(dir string) error {
	dir = filepath.Join(dir, "ndikiosk")
	files, _ := fs.Glob(Fonts, "fonts/*")
	stamp := fontStamp(files)
	stampFile := filepath.Join(dir, ".stamp")
	if old, err := os.ReadFile(stampFile); err == nil && string(old) == stamp && sizesMatch(dir, files) {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("install fonts: %w", err)
	}
	for _, name := range files {
		data, _ := Fonts.ReadFile(name)
		dst := filepath.Join(dir, filepath.Base(name))
		if old, err := os.ReadFile(dst); err == nil && bytes.Equal(old, data) {
			continue
		}
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			return fmt.Errorf("install fonts: %w", err)
		}
	}
	if err := os.WriteFile(stampFile, []byte(stamp), 0o644); err != nil {
		return fmt.Errorf("install fonts: %w", err)
	}
	return nil
}

// fontStamp is the SHA-256 of the bundled fonts' names and contents.
func fontStamp(files []string) string {
	h := sha256.New()
	for _, name := range files {
		f, err := Fonts.Open(name)
		if err != nil {
			continue
		}
		fmt.Fprintf(h, "%s\x00", name)
		_, _ = io.Copy(h, f)
		_ = f.Close()
	}
	return hex.EncodeToString(h.Sum(nil))
}

// sizesMatch reports whether every bundled font has a copy of its size in
// dir: a copy damaged or removed since the stamp was written is put back.
func sizesMatch(dir string, files []string) bool {
	for _, name := range files {
		want, err := fs.Stat(Fonts, name)
		if err != nil {
			return false
		}
		got, err := os.Stat(filepath.Join(dir, filepath.Base(name)))
		if err != nil || got.Size() != want.Size() {
			return false
		}
	}
	return true
}
