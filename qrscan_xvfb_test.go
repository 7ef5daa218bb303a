//go:build xvfb

package main

import (
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	qrcode "github.com/skip2/go-qrcode"
)

// TestRealBinaryQRScansFromADistance reads the code off the real kiosk's
// screen the way a phone further away, or out of focus, sees it: at
// 1280x800 from a screenshot scaled to 50 %, at 800x480 from one blurred
// with σ = 1 px. On the full-size screenshot it finds the code module by
// module and checks that every module is the same whole number of pixels,
// at least 4, and that a white quiet zone of at least 4 modules surrounds
// it. The URL is a sandbox Verify URL, as long as a real one (683 bytes:
// a version-18 code at level L, 89 modules).
func TestRealBinaryQRScansFromADistance(t *testing.T) {
	for _, tool := range []string{"Xvfb", "import", "zbarimg", "convert"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("step tools: %s is needed (Debian packages xvfb, imagemagick, zbar-tools)", tool)
		}
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "ndikiosk")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("step build: %v\n%s", err, out)
	}
	for _, c := range []struct {
		size, degrade, how string
		minPx              int
	}{
		{"1280x800", "-resize 50%", "scaled to 50 %", 7},
		{"800x480", "-gaussian-blur 0x1", "blurred with σ = 1 px", 4},
	} {
		t.Run(c.size, func(t *testing.T) {
			dir := t.TempDir()
			display := startXvfbSized(t, c.size)
			_, exited, base := startKiosk(t, bin, dir, display, "--data-dir", filepath.Join(dir, "data"))
			waitPhase(t, "wait for QR screen", base, "qr", exited)
			shots := os.Getenv("NDIKIOSK_SHOTS")
			if shots == "" {
				shots = dir
			}
			os.MkdirAll(shots, 0o755)
			full := filepath.Join(shots, "xvfb-qr-"+c.size+".png")
			want := readQR(t, display, full)
			px := checkModules(t, full, want)
			if px < c.minPx {
				t.Errorf("step modules: %d px a module at %s; want at least %d", px, c.size, c.minPx)
			}
			far := filepath.Join(shots, "xvfb-qr-"+c.size+"-degraded.png")
			args := append(append([]string{full}, strings.Fields(c.degrade)...), far)
			if out, err := exec.Command("convert", args...).CombinedOutput(); err != nil {
				t.Fatalf("step degrade: convert %v: %v %s", args, err, out)
			}
			out, _ := exec.Command("zbarimg", "-q", "--raw", "-Sdisable", "-Sqrcode.enable", far).Output()
			if got := strings.TrimSpace(string(out)); got != want {
				t.Fatalf("step QR decode: zbarimg read %q off the screenshot %s (%s); want the code on screen", got, c.how, far)
			}
		})
	}
}

// checkModules finds the code for content in the screenshot at path and
// checks that each of its modules is px by px pixels of its own colour,
// for one whole px, with a white quiet zone of at least 4 modules (all
// inside the screen). It returns px.
func checkModules(t *testing.T, path, content string) int {
	t.Helper()
	q, err := qrcode.New(content, qrcode.Low)
	if err != nil {
		t.Fatalf("step modules: %v", err)
	}
	q.DisableBorder = true
	bits := q.Bitmap()
	img := readPNG(t, path)
	x, y, px, err := findCode(img, bits)
	if err != nil {
		t.Fatalf("step modules: %v; see %s", err, path)
	}
	n := len(bits)
	t.Logf("%d bytes: a version-%d code, %d modules, %d px a module at (%d,%d)", len(content), (n-17)/4, n, px, x, y)
	b := img.Bounds()
	q0, q1 := image.Pt(x-4*px, y-4*px), image.Pt(x+(n+4)*px, y+(n+4)*px)
	if !image.Pt(q0.X, q0.Y).In(b) || !image.Pt(q1.X-1, q1.Y-1).In(b) {
		t.Fatalf("step quiet zone: the 4-module quiet zone %v-%v is not all on the screen %v; see %s", q0, q1, b, path)
	}
	for yy := q0.Y; yy < q1.Y; yy++ {
		for xx := q0.X; xx < q1.X; xx++ {
			if image.Pt(xx, yy).In(image.Rect(x, y, x+n*px, y+n*px)) {
				continue
			}
			if !white(img, xx, yy) {
				t.Fatalf("step quiet zone: (%d,%d), within 4 modules of the code, is not white; see %s", xx, yy, path)
			}
		}
	}
	return px
}

// findCode finds bits in img: the top-left corner of its finder pattern is
// where a dark run 7 modules long starts under a light pixel, and from
// there every pixel of every module must be dark or light as the module
// is. It returns the corner and the pixels a module.
func findCode(img image.Image, bits [][]bool) (x, y, px int, err error) {
	b := img.Bounds()
	n := len(bits)
	for y := b.Min.Y + 1; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; {
			if !dark(img, x, y) || dark(img, x, y-1) || (x > b.Min.X && dark(img, x-1, y)) {
				x++
				continue
			}
			end := x
			for end < b.Max.X && dark(img, end, y) {
				end++
			}
			if run := end - x; run%7 == 0 && y+run/7*n <= b.Max.Y && x+run/7*n <= b.Max.X && matches(img, bits, x, y, run/7) {
				return x, y, run / 7, nil
			}
			x = end
		}
	}
	return 0, 0, 0, fmt.Errorf("no code of %d modules drawn a whole number of pixels a module", n)
}

// matches says whether every pixel of every module at (x,y), px a module,
// has its module's colour.
func matches(img image.Image, bits [][]bool, x, y, px int) bool {
	for r, row := range bits {
		for c, d := range row {
			for yy := y + r*px; yy < y+(r+1)*px; yy++ {
				for xx := x + c*px; xx < x+(c+1)*px; xx++ {
					if dark(img, xx, yy) != d {
						return false
					}
				}
			}
		}
	}
	return true
}

func luma(img image.Image, x, y int) uint32 {
	r, g, b, _ := img.At(x, y).RGBA()
	return (299*r + 587*g + 114*b) / 1000 >> 8
}

func dark(img image.Image, x, y int) bool  { return luma(img, x, y) < 128 }
func white(img image.Image, x, y int) bool { return luma(img, x, y) > 0xF0 }

func readPNG(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("step screenshot: %v", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("step screenshot: %s: %v", path, err)
	}
	return img
}
