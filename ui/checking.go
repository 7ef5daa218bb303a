package ui

import (
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"
)

// buildChecking builds the screen shown while Singpass is asked.
func (k *Kiosk) buildChecking() {
	k.checkingText = bigText("", 40)
	k.checkingDetail = bigText("", 24)
	k.cancel = widget.NewButton("", func() { k.engine.Cancel() })
	k.cancel.Importance = widget.HighImportance
	k.checking = container.NewVBox(layout.NewSpacer(), k.fit(k.checkingText), k.fit(k.checkingDetail), layout.NewSpacer(),
		container.NewCenter(k.cancel), layout.NewSpacer())

}
