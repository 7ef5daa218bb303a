// Package xscreen reads the size of an X display's first screen from the
// X11 connection setup, in pure Go: the windowed kiosk opens at a share of
// it, and `ndikiosk doctor` works out how large the QR code's modules will
// be. Only local displays (":N", "unix:N") are read; the
// MIT-MAGIC-COOKIE-1 in XAUTHORITY (or ~/.Xauthority) is sent when there is
// one.
package xscreen

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Size is the width and height in pixels of the first screen of display
// (a DISPLAY value such as ":0" or ":1.0").
func Size(display string) (w, h int, err error) {
	num, err := displayNumber(display)
	if err != nil {
		return 0, 0, err
	}
	c, err := net.DialTimeout("unix", "/tmp/.X11-unix/X"+num, time.Second)
	if err != nil {
		return 0, 0, fmt.Errorf("display %s: %w", display, err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	name, data := cookie(num)
	if _, err := c.Write(setupRequest(name, data)); err != nil {
		return 0, 0, fmt.Errorf("display %s: %w", display, err)
	}
	return readSetup(c)
}

// displayNumber is N of ":N", ":N.S", "unix:N".
func displayNumber(display string) (string, error) {
	host, rest, ok := strings.Cut(display, ":")
	if !ok || (host != "" && host != "unix") {
		return "", fmt.Errorf("display %q is not a local display (:N)", display)
	}
	num, _, _ := strings.Cut(rest, ".")
	if _, err := strconv.Atoi(num); err != nil {
		return "", fmt.Errorf("display %q has no display number", display)
	}
	return num, nil
}

func setupRequest(name string, data []byte) []byte {
	pad := func(n int) int { return (4 - n%4) % 4 }
	req := make([]byte, 12, 12+len(name)+pad(len(name))+len(data)+pad(len(data)))
	req[0] = 'l' // little-endian
	binary.LittleEndian.PutUint16(req[2:], 11)
	binary.LittleEndian.PutUint16(req[6:], uint16(len(name)))
	binary.LittleEndian.PutUint16(req[8:], uint16(len(data)))
	req = append(req, name...)
	req = append(req, make([]byte, pad(len(name)))...)
	req = append(req, data...)
	return append(req, make([]byte, pad(len(data)))...)
}

// readSetup reads the server's answer up to its first screen's size.
func readSetup(r io.Reader) (w, h int, err error) {
	head := make([]byte, 8)
	if _, err := io.ReadFull(r, head); err != nil {
		return 0, 0, fmt.Errorf("the X connection setup: %w", err)
	}
	body := make([]byte, int(binary.LittleEndian.Uint16(head[6:]))*4)
	if _, err := io.ReadFull(r, body); err != nil {
		return 0, 0, fmt.Errorf("the X connection setup: %w", err)
	}
	if head[0] != 1 {
		reason := string(body[:min(int(head[1]), len(body))])
		return 0, 0, fmt.Errorf("the X server refused the connection: %s", strings.TrimSpace(reason))
	}
	if len(body) < 32 {
		return 0, 0, errors.New("the X connection setup: short reply")
	}
	vendor := int(binary.LittleEndian.Uint16(body[16:]))
	formats := int(body[21])
	screen := 32 + vendor + (4-vendor%4)%4 + 8*formats
	if body[20] == 0 || len(body) < screen+24 {
		return 0, 0, errors.New("the X connection setup: no screen")
	}
	return int(binary.LittleEndian.Uint16(body[screen+20:])), int(binary.LittleEndian.Uint16(body[screen+22:])), nil
}

// cookie is the MIT-MAGIC-COOKIE-1 for local display num in the
// Xauthority file, if any.
func cookie(num string) (string, []byte) {
	path := os.Getenv("XAUTHORITY")
	if path == "" {
		home, _ := os.UserHomeDir()
		path = filepath.Join(home, ".Xauthority")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", nil
	}
	host, _ := os.Hostname()
	for len(b) >= 2 {
		family := binary.BigEndian.Uint16(b)
		b = b[2:]
		var f [4][]byte
		for i := range f {
			if len(b) < 2 || len(b) < 2+int(binary.BigEndian.Uint16(b)) {
				return "", nil
			}
			n := int(binary.BigEndian.Uint16(b))
			f[i], b = b[2:2+n], b[2+n:]
		}
		local := family == 256 || (family == 0xFFFF) || string(f[0]) == host
		if local && (string(f[1]) == num || len(f[1]) == 0) && string(f[2]) == "MIT-MAGIC-COOKIE-1" {
			return string(f[2]), f[3]
		}
	}
	return "", nil
}
