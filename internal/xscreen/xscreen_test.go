package xscreen

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"
)

// setupReply is an X server's successful setup reply with one screen of
// w by h and a vendor string of 5 bytes (padded to 8) and 2 formats.
func setupReply(w, h uint16) []byte {
	body := make([]byte, 32)
	binary.LittleEndian.PutUint16(body[16:], 5) // vendor length
	body[20], body[21] = 1, 2                   // screens, formats
	body = append(body, []byte("Xvfb\x00\x00\x00\x00")...)
	body = append(body, make([]byte, 16)...) // two formats
	screen := make([]byte, 40)
	binary.LittleEndian.PutUint16(screen[20:], w)
	binary.LittleEndian.PutUint16(screen[22:], h)
	body = append(body, screen...)
	head := []byte{1, 0, 11, 0, 0, 0, 0, 0}
	binary.LittleEndian.PutUint16(head[6:], uint16(len(body)/4))
	return append(head, body...)
}

func TestReadSetup(t *testing.T) {
	w, h, err := readSetup(bytes.NewReader(setupReply(1920, 1080)))
	if err != nil || w != 1920 || h != 1080 {
		t.Fatalf("got %dx%d %v, want 1920x1080", w, h, err)
	}
	refused := []byte{0, 12, 11, 0, 0, 0, 4, 0}
	refused = append(refused, []byte("No protocol\x00\x00\x00\x00\x00")...)
	if _, _, err := readSetup(bytes.NewReader(refused)); err == nil || !strings.Contains(err.Error(), "No protocol") {
		t.Fatalf("a refusal: %v", err)
	}
	if _, _, err := readSetup(bytes.NewReader(setupReply(1, 1)[:20])); err == nil {
		t.Fatal("a short reply was read")
	}
}

func TestDisplayNumber(t *testing.T) {
	for in, want := range map[string]string{":0": "0", ":41.0": "41", "unix:3": "3", "host:1": "", ":x": "", "": ""} {
		got, err := displayNumber(in)
		if got != want || (want == "") != (err != nil) {
			t.Errorf("%q: %q %v, want %q", in, got, err, want)
		}
	}
}
