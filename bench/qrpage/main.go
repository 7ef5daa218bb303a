// Command qrpage writes bench/idle's browser page into a folder: the
// kiosk's QR screen as a web page (the same code, as a PNG of one pixel a
// module scaled without blur, a caption, and a countdown bar and seconds
// that move every second), for Chromium in kiosk mode to show beside the
// kiosk.
//
//	qrpage DIR TEXT
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/skip2/go-qrcode"
)

const page = `<!doctype html>
<html><head><meta charset="utf-8"><title>QR</title><style>
html, body { margin: 0; height: 100%%; background: #fff; font-family: sans-serif; }
body { display: flex; flex-direction: column; align-items: center; justify-content: center; }
img { height: 70vh; image-rendering: pixelated; border: 8px solid #c8102e; border-radius: 18px; }
p { color: #c8102e; font-size: 30px; font-weight: bold; margin: 12px; }
#track { width: 90vw; height: 10px; background: #f3c4cc; }
#fill { height: 100%%; width: 100%%; background: #c8102e; }
</style></head><body>
<img src="qr.png" alt="QR code">
<p>Scan with Singpass app · <span id="left">%d</span> s</p>
<div id="track"><div id="fill"></div></div>
<script>
const total = %d, start = Date.now();
setInterval(() => {
  const left = Math.max(0, total - Math.floor((Date.now() - start) / 1000));
  document.getElementById("left").textContent = left;
  document.getElementById("fill").style.width = (100 * left / total) + "%%";
}, 1000);
</script></body></html>
`

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: qrpage DIR TEXT")
		os.Exit(2)
	}
	dir, text := os.Args[1], os.Args[2]
	if err := write(dir, text); err != nil {
		fmt.Fprintln(os.Stderr, "qrpage:", err)
		os.Exit(1)
	}
}

func write(dir, text string) error {
	q, err := qrcode.New(text, qrcode.Low)
	if err != nil {
		return err
	}
	png, err := q.PNG(-1)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "qr.png"), png, 0o644); err != nil {
		return err
	}
	const seconds = 110
	return os.WriteFile(filepath.Join(dir, "index.html"), fmt.Appendf(nil, page, seconds, seconds), 0o644)
}
