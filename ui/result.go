package ui

import (
	"image/color"
	"ndikiosk/kiosk"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// buildResult builds the result screen.
func (k *Kiosk) buildResult() {
	k.resultBand = canvas.NewRectangle(colorGreen)
	k.resultIcon = canvas.NewImageFromResource(nil)
	k.resultIcon.FillMode = canvas.ImageFillContain
	k.resultIcon.SetMinSize(fyne.NewSize(120, 120))
	k.resultTitle = bigText("", 64)
	k.resultTitle.Color = colorPaper
	k.resultStamp = bigText("", 34)
	k.resultStamp.Color = colorPaper
	k.resultDetail = widget.NewLabel("")
	k.resultDetail.Alignment = fyne.TextAlignCenter
	k.resultDetail.Wrapping = fyne.TextWrapWord
	k.resultDetail.SizeName = theme.SizeNameSubHeadingText
	detailBox := container.NewStack(canvas.NewRectangle(colorPaper), container.NewPadded(k.resultDetail))
	k.result = container.NewStack(k.resultBand, container.NewBorder(nil, container.NewPadded(detailBox), nil, nil,
		container.NewVBox(layout.NewSpacer(), container.NewCenter(k.resultIcon), container.NewPadded(k.fit(k.resultTitle)),
			k.fit(k.resultStamp), layout.NewSpacer())))
}

// stamp tells one visitor's result from the next, for the person at the
// door: the masked id's last four characters and the time it was decided,
// in Singapore time ("NRIC/FIN …567D · 14:02:31"), or the time alone.
func (k *Kiosk) stamp(s kiosk.Screen) string {
	var parts []string
	if id := []rune(s.MaskedID); len(id) > 0 {
		parts = append(parts, k.tr.T("result.stamp.id", "ID", string(id[max(0, len(id)-4):])))
	}
	if !s.DecidedAt.IsZero() {
		parts = append(parts, s.DecidedAt.In(kiosk.SGT).Format("15:04:05"))
	}
	return strings.Join(parts, " · ")
}

// resultText is what a result screen says, in the current language.
func (k *Kiosk) resultText(s kiosk.Screen) (icon fyne.Resource, title, detail string, band color.Color) {
	t := k.tr.T
	age := strconv.Itoa(s.MinAge)
	withAlt := func(d string) string {
		if alt := k.alternative(s); alt != "" {
			return d + "\n" + alt
		}
		return d
	}
	switch s.Outcome {
	case kiosk.OutcomeEligible:
		return theme.ConfirmIcon(), t("result.eligible", "Age", age), t("result.eligible.detail"), colorGreen
	case kiosk.OutcomeNotEligible:
		return theme.CancelIcon(), t("result.noteligible"), t("result.noteligible.detail", "Age", age), colorRed
	case kiosk.OutcomeCannotDecide:
		return theme.QuestionIcon(), t("result.cannotdecide"), t("result.cannotdecide.detail"), colorAmber
	case kiosk.OutcomeDenied:
		return theme.CancelIcon(), t("result.denied"), t("result.denied.detail"), colorAmber
	case kiosk.OutcomeUnavailable:
		if k.opts.PhoneCamera {
			return theme.WarningIcon(), t("result.unavailable.singpass"), withAlt(t("result.unavailable.singpass.detail", "Contact", k.contact(s))), colorAmber
		}
		return theme.WarningIcon(), t("result.unavailable"), withAlt(t("result.unavailable.detail", "Contact", k.contact(s))), colorAmber
	case kiosk.OutcomeCheckedIn:
		return theme.ConfirmIcon(), t("result.checkedin", "Name", s.Name), t("result.checkedin.detail"), colorGreen
	case kiosk.OutcomeCheckedOut:
		return theme.ConfirmIcon(), t("result.checkedout", "Name", s.Name), t("result.checkedout.detail"), colorGreen
	case kiosk.OutcomeRefused:
		return theme.WarningIcon(), t("result.refused"), t("result.refused.detail"), colorAmber
	case kiosk.OutcomeFaceFailed:
		d := t("result.facefailed.detail")
		if s.Reason == kiosk.FaceNotRegistered {
			d = t("result.facenotregistered.detail")
		}
		return theme.CancelIcon(), t("result.facefailed"), d, colorRed
	case kiosk.OutcomeFaceUnavailable:
		return theme.WarningIcon(), t("result.faceunavailable"), withAlt(t("result.faceunavailable.detail")), colorAmber
	case kiosk.OutcomeTimedOut:
		return theme.HistoryIcon(), t("result.timedout"), t("result.timedout.detail"), colorAmber
	case kiosk.OutcomeNotRecorded:
		d := t("result.notrecorded.detail")
		if s.Reason != "" {
			d += " (" + s.Reason + ")"
		}
		return theme.WarningIcon(), t("result.notrecorded"), withAlt(d), colorAmber
	}
	return theme.WarningIcon(), t("result.error"), t("result.error.detail"), colorAmber
}
