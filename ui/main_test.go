package ui

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// TestMain runs the package's tests in a home folder of their own. Without
// the ci tag Fyne's font fallback scans the per-user font folders
// (XDG_DATA_HOME/fonts, XDG_DATA_DIRS, and fontconfig's, from HOME and
// XDG_CONFIG_HOME) and keeps its index in the user cache folder; the kiosk
// copies its Tamil and Chinese fonts into XDG_DATA_HOME/fonts/ndikiosk
// (assets.FontDir), so once it had run, text measured differently here.
// A test must not depend on what an earlier run left in the home folder,
// nor leave anything there. (Fyne's test driver, with the ci tag, loads no
// system fonts at all. fontscan also reads ~/.fonts from the passwd entry,
// which no variable moves; the kiosk writes nothing there.)
func TestMain(m *testing.M) {
	os.Exit(runInOwnHome(m))
}

func runInOwnHome(m *testing.M) int {
	home, err := os.MkdirTemp("", "ndikiosk-ui-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "ui tests:", err)
		return 1
	}
	defer os.RemoveAll(home)
	for k, v := range map[string]string{
		"HOME":            home,
		"XDG_DATA_HOME":   filepath.Join(home, ".local", "share"),
		"XDG_DATA_DIRS":   filepath.Join(home, "share"),
		"XDG_CONFIG_HOME": filepath.Join(home, ".config"),
		"XDG_CACHE_HOME":  filepath.Join(home, ".cache"),
	} {
		if err := os.Setenv(k, v); err != nil {
			fmt.Fprintln(os.Stderr, "ui tests:", err)
			return 1
		}
	}
	return m.Run()
}
