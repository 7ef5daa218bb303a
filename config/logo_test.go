package config

import (
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLogo: kiosk.logo must be a readable PNG or JPEG of a sane size; a bad
// one is a config error that names the file and what is wrong.
func TestLogo(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, w, h int) string {
		p := filepath.Join(dir, name)
		f, _ := os.Create(p)
		png.Encode(f, image.NewGray(image.Rect(0, 0, w, h)))
		f.Close()
		return p
	}
	good, huge := write("logo.png", 300, 100), write("huge.png", 5000, 10)
	text := filepath.Join(dir, "logo.txt")
	os.WriteFile(text, []byte("not an image"), 0o600)
	for path, want := range map[string]string{
		good:                           "",
		huge:                           "5000x10 pixels; want at most 4096x4096",
		text:                           "is not a PNG or JPEG image",
		filepath.Join(dir, "none.png"): "cannot be read",
		dir:                            "is a folder",
	} {
		err := checkLogo(path)
		if (want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), want)) {
			t.Errorf("%s: %v, want %q", path, err, want)
		}
	}
	cfgFile := filepath.Join(dir, "kiosk.toml")
	os.WriteFile(cfgFile, []byte("sandbox = true\n[kiosk]\nlogo = \"missing.png\"\n"), 0o600)
	c, err := Load(cfgFile)
	if err == nil || !strings.Contains(err.Error(), "kiosk.logo:") {
		t.Fatalf("a missing logo in the config: %v %v", c, err)
	}
}
