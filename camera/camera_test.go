package camera

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ndikiosk/kiosk"
)

func TestV4L2WithoutADeviceSaysSo(t *testing.T) {
	_, err := Open("v4l2:/dev/video-none", 640, 480)
	if !errors.Is(err, kiosk.ErrNoCamera) || !strings.Contains(err.Error(), "/dev/video-none") || !strings.Contains(err.Error(), "still:PATH") {
		t.Fatalf("no device: %v", err)
	}
	if _, err := Open("webcam please", 0, 0); err == nil {
		t.Fatal("a nonsense camera setting was accepted")
	}
}

func TestStillFolderInNameOrder(t *testing.T) {
	dir := t.TempDir()
	for i, name := range []string{"b.png", "a.jpg", "notes.txt"} {
		img := image.NewRGBA(image.Rect(0, 0, 10+i, 10))
		var b bytes.Buffer
		if strings.HasSuffix(name, ".png") {
			png.Encode(&b, img)
		} else if strings.HasSuffix(name, ".jpg") {
			jpeg.Encode(&b, img, nil)
		} else {
			b.WriteString("not an image")
		}
		os.WriteFile(filepath.Join(dir, name), b.Bytes(), 0o600)
	}
	c, err := Open("still:"+dir, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	first, _ := c.Frame(context.Background())
	c.(*StillCamera).Advance()
	second, _ := c.Frame(context.Background())
	if first.Bounds().Dx() != 11 || second.Bounds().Dx() != 10 {
		t.Fatalf("order: %v then %v", first.Bounds(), second.Bounds())
	}
	if _, err := Open("still:"+t.TempDir(), 0, 0); !errors.Is(err, kiosk.ErrNoCamera) {
		t.Fatalf("empty folder: %v", err)
	}
}

func TestSyntheticFramesMove(t *testing.T) {
	c, _ := Open("synthetic", 160, 120)
	a, _ := c.Frame(context.Background())
	b, _ := c.Frame(context.Background())
	if a.Bounds().Dx() != 160 || a.At(5, 5) == b.At(5, 5) {
		t.Fatal("synthetic frames do not change")
	}
	if a.At(80, 60) != (color.RGBA{224, 180, 150, 255}) {
		t.Fatal("no face in the middle of the synthetic frame")
	}
}

func TestEncodeStillFitsTheLimit(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 3000, 2000))
	rand.New(rand.NewSource(1)).Read(img.Pix) // noise: the worst case for JPEG
	b, err := kiosk.EncodeStill(img, 2_000_000)
	if err != nil {
		t.Fatal(err)
	}
	got, err := jpeg.Decode(bytes.NewReader(b))
	if len(b) > 2_000_000 || err != nil || got.Bounds().Dx() >= 3000 {
		t.Fatalf("%d bytes, %v, %v", len(b), err, got.Bounds())
	}
}
