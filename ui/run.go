package ui

import (
	"log/slog"
	"os"
	"runtime/debug"
	"time"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/driver/desktop"

	"ndikiosk/assets"
	"ndikiosk/internal/xscreen"
	"ndikiosk/kiosk"
)

// Run opens the kiosk's window on engine and keeps it until it is closed
// (quit from the admin screen) or serve returns (a signal, or a callback
// server that died: see afterServe), whichever comes first. admin builds
// the admin screens' backing from the function that quits; it may be nil.
// Run returns serve's error if serve ended first.
func Run(engine Engine, opts Options, admin func(quit func()) *kiosk.Admin, serve func() error, log *slog.Logger) error {
	if dir, err := assets.FontDir(); err == nil {
		if err := assets.InstallFonts(dir); err != nil {
			log.Warn("fonts for Chinese and Tamil not installed; those scripts may not render", "error", err.Error())
		}
	}
	a := fyneapp.NewWithID("sg.ndikiosk.kiosk")
	w := a.NewWindow("ndikiosk")
	if admin != nil {
		opts.Admin = admin(a.Quit)
	}
	New(a, w, engine, opts)
	if opts.Windowed {
		// With no window manager a window opens at its content's least
		// size (738x377): too small to scan from.
		sw, sh, err := xscreen.Size(os.Getenv("DISPLAY"))
		if err != nil {
			log.Info("screen size unknown; the window opens at 1280x800", "error", err.Error())
		}
		w.Resize(windowSize(sw, sh))
	}
	toggleFullScreenOnF11(w)
	a.Lifecycle().SetOnStarted(func() { time.AfterFunc(memoryLimitAfter, limitMemory) })
	served := make(chan error, 1)
	go func() {
		err := serve()
		served <- err
		afterServe(err, engine, func() { fyne.Do(a.Quit) }, func(d time.Duration, f func()) { time.AfterFunc(d, f) })
	}()
	w.ShowAndRun()
	select {
	case err := <-served:
		return err
	default:
		return nil
	}
}

// memoryLimit is the heap's soft limit while the kiosk runs, unless
// GOMEMLIMIT says otherwise: the collector hands frame-sized garbage back
// sooner, for about 10 MB less resident memory at idle (bench/idle), and
// a soft limit never fails an allocation. It applies memoryLimitAfter the
// window started, once the first frame is drawn: during start-up (font
// faces, the first code, GL set-up) it made the collector run 18 times in
// the first 0.86 s for nothing, since that garbage goes anyway.
const (
	memoryLimit      = 48 << 20
	memoryLimitAfter = time.Second
)

func limitMemory() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
}

// outOfServiceFor is how long a kiosk whose callback server died says so
// before it quits.
const outOfServiceFor = 5 * time.Second

// afterServe ends the kiosk once serve returned err. A signal (nil) quits
// at once. A dead callback server (an error) would leave a code on screen
// that no callback can answer: the engine shows the unavailable screen,
// with the operator's alternative, for outOfServiceFor, and then the kiosk
// quits with the error, so that the service manager restarts it. after
// runs a func after a delay (time.AfterFunc).
func afterServe(err error, e Engine, quit func(), after func(time.Duration, func())) {
	if err == nil {
		quit()
		return
	}
	e.OutOfService()
	after(outOfServiceFor, quit)
}

// windowSize is the windowed kiosk's size on a screen of sw by sh pixels
// (0 when unknown): 80 % of the screen, at least 1280x800 where the screen
// has room, never larger than the screen.
func windowSize(sw, sh int) fyne.Size {
	if sw <= 0 || sh <= 0 {
		return fyne.NewSize(1280, 800)
	}
	w := min(float32(sw), max(0.8*float32(sw), 1280))
	h := min(float32(sh), max(0.8*float32(sh), 800))
	return fyne.NewSize(w, h)
}

// toggleFullScreenOnF11 makes F11 switch between full screen and a window
// (when no text field has the keyboard).
func toggleFullScreenOnF11(w fyne.Window) {
	if c, ok := w.Canvas().(desktop.Canvas); ok {
		c.SetOnKeyDown(func(e *fyne.KeyEvent) {
			if e.Name == fyne.KeyF11 {
				w.SetFullScreen(!w.FullScreen())
			}
		})
	}
}
