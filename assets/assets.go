// Package assets holds what the binary carries with it: fonts for the four
// official languages' scripts and the screen translations.
package assets

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
)

// Fonts: Noto Sans Tamil (SIL OFL 1.1) and Droid Sans Fallback (Apache 2.0,
// Chinese); Latin and Malay are covered by Fyne's own font. Their licences
// sit beside them.
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

// InstallFonts copies the bundled fonts into dir/ndikiosk, unless identical
// copies are there already. Fyne draws text in the theme font and falls back,
// glyph by glyph, to the fonts it finds on the machine; a kiosk image may
// have none for Tamil or Chinese, so the kiosk brings its own.
func InstallFonts(dir string) error {
	dir = filepath.Join(dir, "ndikiosk")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("install fonts: %w", err)
	}
	files, _ := fs.Glob(Fonts, "fonts/*")
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
	return nil
}
