// Command barefyne is bench/idle's floor: a full-screen Fyne window with
// one still text on it and nothing that changes, so that what it costs
// idle is Fyne's own event loop and nothing of the kiosk's.
package main

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
)

func main() {
	a := app.NewWithID("sg.ndikiosk.barefyne")
	w := a.NewWindow("barefyne")
	t := canvas.NewText("A bare Fyne window", color.Black)
	t.TextSize = 40
	w.SetContent(container.NewStack(canvas.NewRectangle(color.White), container.NewCenter(t)))
	w.SetPadded(false)
	w.SetFullScreen(true)
	w.Resize(fyne.NewSize(1280, 800))
	w.ShowAndRun()
}
