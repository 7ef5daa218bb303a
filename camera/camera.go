// Package camera opens the kiosk's camera: a V4L2 device on Linux, a
// folder of still images, or a synthetic source for the sandbox.
package camera

import (
	"fmt"
	"strings"

	"ndikiosk/kiosk"
)

// Open parses a face.camera setting: "v4l2:/dev/video0" (or a bare device
// path), "still:/path/to/file-or-folder", or "synthetic".
func Open(spec string, width, height int) (kiosk.Camera, error) {
	kind, arg, _ := strings.Cut(spec, ":")
	switch {
	case spec == "synthetic":
		return NewSyntheticCamera(width, height), nil
	case kind == "still":
		return OpenStill(arg)
	case kind == "v4l2":
		return OpenV4L2(arg, width, height)
	case strings.HasPrefix(spec, "/dev/"):
		return OpenV4L2(spec, width, height)
	}
	return nil, fmt.Errorf("face.camera %q: want v4l2:/dev/videoN, still:PATH or synthetic", spec)
}
