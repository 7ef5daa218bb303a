package camera

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/blackjack/webcam"

	"ndikiosk/kiosk"
)

// V4L2 pixel formats we can decode.
const (
	fmtMJPEG = webcam.PixelFormat(0x47504A4D) // 'MJPG'
	fmtYUYV  = webcam.PixelFormat(0x56595559) // 'YUYV'
)

// Devices lists the video devices present.
func Devices() []string {
	d, _ := filepath.Glob("/dev/video*")
	sort.Strings(d)
	return d
}

// V4L2 is a camera read through Video4Linux2. A goroutine keeps the newest
// frame; Frame returns it.
type V4L2 struct {
	cam    *webcam.Webcam
	format webcam.PixelFormat
	w, h   int

	mu     sync.Mutex
	latest image.Image
	err    error
	stop   chan struct{}
	done   chan struct{}
}

// OpenV4L2 opens device at (or near) width×height, preferring MJPEG.
func OpenV4L2(device string, width, height int) (kiosk.Camera, error) {
	if device == "" {
		device = "/dev/video0"
	}
	cam, err := webcam.Open(device)
	if err != nil {
		present := Devices()
		hint := "no video devices are present"
		if len(present) > 0 {
			hint = fmt.Sprintf("present: %v", present)
		}
		return nil, fmt.Errorf("%w at %s: %v (%s); connect a camera, or set face.camera = \"still:PATH\" to use photos", kiosk.ErrNoCamera, device, err, hint)
	}
	formats := cam.GetSupportedFormats()
	var format webcam.PixelFormat
	for _, f := range []webcam.PixelFormat{fmtMJPEG, fmtYUYV} {
		if _, ok := formats[f]; ok {
			format = f
			break
		}
	}
	if format == 0 {
		cam.Close()
		return nil, fmt.Errorf("%w: %s offers neither MJPEG nor YUYV", kiosk.ErrNoCamera, device)
	}
	if width <= 0 || height <= 0 {
		width, height = 640, 480
	}
	f, w, h, err := cam.SetImageFormat(format, uint32(width), uint32(height))
	if err != nil {
		cam.Close()
		return nil, fmt.Errorf("%w: %s: set format: %v", kiosk.ErrNoCamera, device, err)
	}
	if err := cam.StartStreaming(); err != nil {
		cam.Close()
		return nil, fmt.Errorf("%w: %s: start streaming: %v", kiosk.ErrNoCamera, device, err)
	}
	v := &V4L2{cam: cam, format: f, w: int(w), h: int(h), stop: make(chan struct{}), done: make(chan struct{})}
	go v.read()
	return v, nil
}

func (v *V4L2) read() {
	defer close(v.done)
	for {
		select {
		case <-v.stop:
			return
		default:
		}
		err := v.cam.WaitForFrame(1)
		var timeout *webcam.Timeout
		if errors.As(err, &timeout) {
			continue
		}
		var img image.Image
		if err == nil {
			var frame []byte
			if frame, err = v.cam.ReadFrame(); err == nil && len(frame) > 0 {
				img, err = v.decode(frame)
			}
		}
		v.mu.Lock()
		if img != nil {
			v.latest, v.err = img, nil
		} else if err != nil {
			v.err = err
		}
		v.mu.Unlock()
		if err != nil {
			time.Sleep(100 * time.Millisecond)
		}
	}
}

func (v *V4L2) decode(frame []byte) (image.Image, error) {
	if v.format == fmtMJPEG {
		return jpeg.Decode(bytes.NewReader(frame))
	}
	// YUYV 4:2:2: Y0 U Y1 V for each pair of pixels.
	img := image.NewYCbCr(image.Rect(0, 0, v.w, v.h), image.YCbCrSubsampleRatio422)
	for y := 0; y < v.h; y++ {
		for x := 0; x < v.w; x += 2 {
			i := (y*v.w + x) * 2
			if i+3 >= len(frame) {
				return nil, errors.New("short YUYV frame")
			}
			img.Y[y*img.YStride+x] = frame[i]
			img.Y[y*img.YStride+x+1] = frame[i+2]
			c := y*img.CStride + x/2
			img.Cb[c], img.Cr[c] = frame[i+1], frame[i+3]
		}
	}
	return img, nil
}

// Frame returns the newest frame, waiting up to ctx for the first one.
func (v *V4L2) Frame(ctx context.Context) (image.Image, error) {
	for {
		v.mu.Lock()
		img, err := v.latest, v.err
		v.mu.Unlock()
		if img != nil {
			return img, nil
		}
		select {
		case <-ctx.Done():
			if err == nil {
				err = ctx.Err()
			}
			return nil, fmt.Errorf("%w: no frame from the camera: %v", kiosk.ErrNoCamera, err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Close stops streaming and releases the device.
func (v *V4L2) Close() error {
	close(v.stop)
	<-v.done
	v.cam.StopStreaming()
	return v.cam.Close()
}
