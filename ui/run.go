package ui

import (
	"log/slog"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"

	"ndikiosk/assets"
	"ndikiosk/kiosk"
)

// Run opens the kiosk's window on engine and keeps it until it is closed
// (quit from the admin screen) or serve returns (a signal, or a callback
// server that died), whichever comes first. admin builds the admin
// screens' backing from the function that quits; it may be nil. Run
// returns serve's error if serve ended first.
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
	served := make(chan error, 1)
	go func() {
		served <- serve()
		fyne.Do(a.Quit)
	}()
	w.ShowAndRun()
	select {
	case err := <-served:
		return err
	default:
		return nil
	}
}
