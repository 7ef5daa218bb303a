package config

import (
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // logos may be JPEG
	_ "image/png"  // or PNG
	"os"
)

// Limits on kiosk.logo: a logo is shown a few hundred pixels high; a
// larger file is a mistake (a photo, a print master) that would cost
// memory and start-up time.
const (
	logoMaxBytes = 10 << 20
	logoMaxSide  = 4096
)

// checkLogo checks that path is a PNG or JPEG file of a sane size that
// this user can read.
func checkLogo(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("%s cannot be read: %w", path, errors.Unwrap(err))
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if st.IsDir() {
		return fmt.Errorf("%s is a folder; want a PNG or JPEG file", path)
	}
	if st.Size() > logoMaxBytes {
		return fmt.Errorf("%s is %d MB; want at most %d MB", path, st.Size()>>20, logoMaxBytes>>20)
	}
	cfg, format, err := image.DecodeConfig(f)
	if err != nil || (format != "png" && format != "jpeg") {
		return fmt.Errorf("%s is not a PNG or JPEG image", path)
	}
	if cfg.Width < 1 || cfg.Height < 1 || cfg.Width > logoMaxSide || cfg.Height > logoMaxSide {
		return fmt.Errorf("%s is %dx%d pixels; want at most %dx%d", path, cfg.Width, cfg.Height, logoMaxSide, logoMaxSide)
	}
	if _, err := f.Seek(0, 0); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if _, _, err := image.Decode(f); err != nil {
		return fmt.Errorf("%s is a damaged %s image: %v", path, format, err)
	}
	return nil
}
