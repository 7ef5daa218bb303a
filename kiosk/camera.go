package kiosk

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	_ "image/png" // still sources may be PNG
)

// Camera gives the Face step its frames: the newest one for the preview and
// the capture alike. The camera package has the implementations (V4L2,
// still images, synthetic frames).
type Camera interface {
	Frame(ctx context.Context) (image.Image, error)
	Close() error
}

// ErrNoCamera is wrapped when no camera can be opened.
var ErrNoCamera = errors.New("no camera")

// EncodeStill encodes a captured frame as JPEG no larger than maxBytes,
// lowering quality and then size until it fits.
func EncodeStill(img image.Image, maxBytes int) ([]byte, error) {
	for scale := 1.0; scale >= 0.25; scale /= 2 {
		src := img
		if scale < 1 {
			src = shrink(img, scale)
		}
		for _, q := range []int{90, 80, 65, 50} {
			var b bytes.Buffer
			if err := jpeg.Encode(&b, src, &jpeg.Options{Quality: q}); err != nil {
				return nil, err
			}
			if b.Len() <= maxBytes {
				return b.Bytes(), nil
			}
		}
	}
	return nil, fmt.Errorf("the photo does not fit in %d bytes even at a quarter of its size", maxBytes)
}

// shrink scales img by f with nearest-neighbour sampling.
func shrink(img image.Image, f float64) image.Image {
	b := img.Bounds()
	w, h := max(1, int(float64(b.Dx())*f)), max(1, int(float64(b.Dy())*f))
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			out.Set(x, y, img.At(b.Min.X+int(float64(x)/f), b.Min.Y+int(float64(y)/f)))
		}
	}
	return out
}
