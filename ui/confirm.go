package ui

import (
	"errors"
	"ndikiosk/kiosk"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"
)

// buildConfirm builds visitor mode's confirm screen.
func (k *Kiosk) buildConfirm() {
	k.confirmTitle = bigText("", 34)
	k.particulars = widget.NewForm()
	k.keyboard = NewKeyboard(k.tr)
	k.host = newPickEntry(func() { k.keyboard.Attach(&k.host.Entry) })
	k.purpose = newPickEntry(func() { k.keyboard.Attach(&k.purpose.Entry) })
	k.hostList = widget.NewSelect(nil, nil)
	k.purposeList = widget.NewSelect(nil, nil)
	k.confirmProblem = widget.NewLabel("")
	k.confirmProblem.Importance = widget.DangerImportance
	k.confirmButton = widget.NewButton("", func() {
		host, purpose := k.hostList.Selected, k.purposeList.Selected
		if k.freeText {
			host, purpose = k.host.Text, k.purpose.Text
		}
		switch err := k.engine.Confirm(host, purpose); {
		case errors.Is(err, kiosk.ErrTooLong):
			k.confirmProblem.SetText(k.tr.T("confirm.too_long"))
		case err != nil:
			k.confirmProblem.SetText(k.tr.T("confirm.problem"))
		}
	})
	k.confirmButton.Importance = widget.HighImportance
	k.confirmCancel = widget.NewButton("", func() { k.engine.Cancel() })
	k.confirm = container.NewPadded(container.NewBorder(
		container.NewPadded(k.fit(k.confirmTitle)),
		container.NewVBox(k.keyboard, k.confirmProblem, container.NewGridWithColumns(2, k.confirmCancel, k.confirmButton)),
		nil, nil,
		container.NewVScroll(k.particulars)))

}

// showConfirm fills the confirm screen with fresh host and purpose pickers.
func (k *Kiosk) showConfirm(s kiosk.Screen) {
	k.freeText = s.FreeText
	k.host.SetOptions(s.Hosts)
	k.purpose.SetOptions(s.Purposes)
	k.hostList.SetOptions(s.Hosts)
	k.purposeList.SetOptions(s.Purposes)
	k.host.SetText("")
	k.purpose.SetText("")
	k.hostList.ClearSelected()
	k.purposeList.ClearSelected()
	k.keyboard.Attach(nil)
	k.keyboard.Hide()
	k.confirmProblem.SetText("")
	k.fillParticulars(s)
	k.show(k.confirm)
}

// fillParticulars lists the visitor's particulars exactly as Singpass sent
// them, with labels in the current language.
func (k *Kiosk) fillParticulars(s kiosk.Screen) {
	k.particulars.Items = nil
	for _, p := range s.Particulars {
		v := widget.NewLabel(p.Value)
		v.TextStyle = fyne.TextStyle{Bold: true}
		v.Wrapping = fyne.TextWrapWord
		label := p.Label
		if key := "attr." + p.Attribute; k.tr.Has(key) {
			label = k.tr.T(key)
		}
		k.particulars.Append(label, v)
	}
	var host, purpose fyne.CanvasObject = k.hostList, k.purposeList
	if k.freeText {
		host, purpose = k.host, k.purpose
	}
	k.particulars.Append(k.tr.T("confirm.host"), host)
	k.particulars.Append(k.tr.T("confirm.purpose"), purpose)
	k.particulars.Refresh()
}
