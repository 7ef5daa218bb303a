//go:build !linux

package camera

import (
	"fmt"

	"ndikiosk/kiosk"
)

// OpenV4L2 is Linux only.
func OpenV4L2(device string, width, height int) (kiosk.Camera, error) {
	return nil, fmt.Errorf("%w: V4L2 cameras are Linux only; use face.camera = \"still:PATH\" here", kiosk.ErrNoCamera)
}

// Devices lists nothing off Linux.
func Devices() []string { return nil }
