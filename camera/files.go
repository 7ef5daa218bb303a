package camera

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"
	"ndikiosk/kiosk"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// StillCamera serves images from a file, or from a folder in name order, one
// per capture: for the sandbox, tests, and kiosks that photograph elsewhere.
type StillCamera struct {
	mu     sync.Mutex
	images []image.Image
	next   int
}

// OpenStill reads the JPEG or PNG images at path (a file or a folder).
func OpenStill(path string) (*StillCamera, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("%w: still images: %v", kiosk.ErrNoCamera, err)
	}
	files := []string{path}
	if st.IsDir() {
		files = nil
		entries, _ := os.ReadDir(path)
		for _, e := range entries {
			if ext := strings.ToLower(filepath.Ext(e.Name())); ext == ".jpg" || ext == ".jpeg" || ext == ".png" {
				files = append(files, filepath.Join(path, e.Name()))
			}
		}
		slices.Sort(files)
	}
	c := &StillCamera{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", kiosk.ErrNoCamera, err)
		}
		img, _, err := image.Decode(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("%w: %s is not a JPEG or PNG image", kiosk.ErrNoCamera, filepath.Base(f))
		}
		c.images = append(c.images, img)
	}
	if len(c.images) == 0 {
		return nil, fmt.Errorf("%w: no JPEG or PNG images in %s", kiosk.ErrNoCamera, path)
	}
	return c, nil
}

// Frame returns the current image.
func (c *StillCamera) Frame(context.Context) (image.Image, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.images[c.next%len(c.images)], nil
}

// Advance moves to the next image (after each capture).
func (c *StillCamera) Advance() {
	c.mu.Lock()
	c.next++
	c.mu.Unlock()
}

// Close does nothing.
func (c *StillCamera) Close() error { return nil }

// SyntheticCamera draws frames: a face-shaped oval on a background that
// shifts with every frame, so a preview visibly moves. The sandbox's Face
// service decides by persona, not by picture.
type SyntheticCamera struct {
	mu     sync.Mutex
	w, h   int
	frames int
}

// NewSyntheticCamera makes frames of w×h pixels.
func NewSyntheticCamera(w, h int) *SyntheticCamera {
	if w <= 0 || h <= 0 {
		w, h = 640, 480
	}
	return &SyntheticCamera{w: w, h: h}
}

// Frame draws the next frame.
func (c *SyntheticCamera) Frame(context.Context) (image.Image, error) {
	c.mu.Lock()
	c.frames++
	n := c.frames
	c.mu.Unlock()
	img := image.NewRGBA(image.Rect(0, 0, c.w, c.h))
	shift := float64(n%60) / 60
	for y := 0; y < c.h; y++ {
		for x := 0; x < c.w; x++ {
			v := uint8(120 + 60*math.Sin(2*math.Pi*(float64(x)/float64(c.w)+shift)))
			img.Set(x, y, color.RGBA{v / 2, v / 2, v, 255})
		}
	}
	cx, cy, rx, ry := float64(c.w)/2, float64(c.h)/2, float64(c.w)/6, float64(c.h)/3.2
	skin := image.NewUniform(color.RGBA{224, 180, 150, 255})
	for y := int(cy - ry); y <= int(cy+ry); y++ {
		for x := int(cx - rx); x <= int(cx+rx); x++ {
			dx, dy := (float64(x)-cx)/rx, (float64(y)-cy)/ry
			if dx*dx+dy*dy <= 1 {
				draw.Draw(img, image.Rect(x, y, x+1, y+1), skin, image.Point{}, draw.Src)
			}
		}
	}
	return img, nil
}

// Close does nothing.
func (c *SyntheticCamera) Close() error { return nil }
