package ui

import (
	"image/color"
	"ndikiosk/kiosk"
	"strconv"
	"strings"
	"time"

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
	k.resultClose = bigText("", 24)
	k.resultClose.Color = colorPaper
	k.resultClose.TextStyle = fyne.TextStyle{}
	detailBox := container.NewStack(canvas.NewRectangle(colorPaper), container.NewPadded(k.resultDetail))
	// The whole screen is one button: a tap closes the result (the engine
	// decides when; see Engine.Dismiss).
	k.resultTap = newTapArea(func() { k.engine.Dismiss() })
	k.result = container.NewStack(k.resultBand, container.NewBorder(nil, container.NewPadded(detailBox), nil, nil,
		container.NewVBox(layout.NewSpacer(), container.NewCenter(k.resultIcon), container.NewPadded(k.fit(k.resultTitle)),
			k.fit(k.resultStamp), layout.NewSpacer(), k.fit(k.resultClose))), k.resultTap)
}

// The result colours beyond the theme's, each with its own icon, all
// under white text at more than 7:1: a visitor at two metres and a
// colour-blind door keeper tell them apart by icon as well as colour.
var (
	colorSlate  = color.NRGBA{R: 0x3B, G: 0x4A, B: 0x5E, A: 0xFF} // not shared: the visitor's own choice
	colorPurple = color.NRGBA{R: 0x5B, G: 0x2A, B: 0x86, A: 0xFF} // unavailable: the service, not the visitor
	colorTeal   = color.NRGBA{R: 0x00, G: 0x5A, B: 0x66, A: 0xFF} // check-out: asked and done
)

// tapArea is a transparent surface that answers a tap.
type tapArea struct {
	widget.BaseWidget
	onTap func()
}

func newTapArea(onTap func()) *tapArea {
	t := &tapArea{onTap: onTap}
	t.ExtendBaseWidget(t)
	return t
}

// Tapped calls the area's function.
func (t *tapArea) Tapped(*fyne.PointEvent) { t.onTap() }

func (t *tapArea) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(canvas.NewRectangle(color0))
}

// showResult draws a result or the unavailable screen.
func (k *Kiosk) showResult(s kiosk.Screen) {
	k.keyboard.Attach(nil)
	icon, title, detail, band := k.resultText(s)
	k.resultIcon.Resource = theme.NewColoredResource(icon, theme.ColorNameForegroundOnPrimary)
	k.resultTitle.Text, k.resultBand.FillColor = title, band
	k.resultStamp.Text = k.stamp(s)
	k.resultDetail.SetText(detail)
	k.resultIcon.Refresh()
	k.resultBand.Refresh()
	k.tickResult(s)
	k.refit()
	k.show(k.result)
}

// tickResult shows how long the result stays: "Tap to close · 6 s". The
// screen out of service stays until the kiosk restarts and says nothing.
func (k *Kiosk) tickResult(s kiosk.Screen) {
	text := ""
	if !s.Until.IsZero() {
		text = k.tr.T("result.close", "Seconds", secondsLeft(s.Until, k.now()))
	}
	if text != k.resultClose.Text {
		k.resultClose.Text = text
		k.resultClose.Refresh()
		k.refit()
	}
}

// secondsLeft is the whole seconds from now until t, rounded up, at least 0.
func secondsLeft(t, now time.Time) string {
	return strconv.Itoa(int(max(0, (t.Sub(now)+time.Second-1)/time.Second)))
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
	if icon, title, detail, band, ok := k.signResultText(s); ok {
		return icon, title, detail, band
	}
	switch s.Outcome {
	case kiosk.OutcomeEligible:
		return theme.ConfirmIcon(), t("result.eligible", "Age", age), t("result.eligible.detail"), colorGreen
	case kiosk.OutcomeNotEligible:
		return theme.CancelIcon(), t("result.noteligible"), t("result.noteligible.detail", "Age", age), colorRed
	case kiosk.OutcomeCannotDecide:
		return theme.QuestionIcon(), t("result.cannotdecide"), t("result.cannotdecide.detail"), colorAmber
	case kiosk.OutcomeDenied:
		return theme.VisibilityOffIcon(), t("result.denied"), t("result.denied.detail"), colorSlate
	case kiosk.OutcomeUnavailable:
		return theme.ErrorIcon(), t("result.unavailable"), withAlt(t("result.unavailable.detail", "Contact", k.contact(s))), colorPurple
	case kiosk.OutcomeCheckedIn:
		d := t("result.checkedin.detail")
		if s.Host != "" {
			d = t("result.invited.detail", "Host", s.Host)
		}
		return theme.ConfirmIcon(), t("result.checkedin", "Name", s.Name), d, colorGreen
	case kiosk.OutcomeCheckedOut:
		return theme.LogoutIcon(), t("result.checkedout", "Name", s.Name), t("result.checkedout.detail"), colorTeal
	case kiosk.OutcomeRefused:
		return theme.WarningIcon(), t("result.refused"), t("result.refused.detail"), colorAmber
	case kiosk.OutcomeFaceFailed:
		d := t("result.facefailed.detail")
		if s.Reason == kiosk.FaceNotRegistered {
			d = t("result.facenotregistered.detail")
		}
		return theme.CancelIcon(), t("result.facefailed"), d, colorRed
	case kiosk.OutcomeFaceUnavailable:
		return theme.ErrorIcon(), t("result.faceunavailable"), withAlt(t("result.faceunavailable.detail")), colorPurple
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

// signResultText is what the results of the signing step say: not signed
// (refused, nothing kept), and checked in without a signature where the
// venue records that. ok is false for any other result.
func (k *Kiosk) signResultText(s kiosk.Screen) (icon fyne.Resource, title, detail string, band color.Color, ok bool) {
	t := k.tr.T
	switch {
	case s.Outcome == kiosk.OutcomeNotSigned && s.Reason == kiosk.SignUnavailable:
		return theme.ErrorIcon(), t("result.notsigned"), t("result.notsigned.unavailable"), colorPurple, true
	case s.Outcome == kiosk.OutcomeNotSigned:
		return theme.CancelIcon(), t("result.notsigned"), t("result.notsigned.detail"), colorAmber, true
	case s.Outcome == kiosk.OutcomeCheckedIn && s.Reason != "":
		return theme.ConfirmIcon(), t("result.checkedin", "Name", s.Name), t("result.checkedin.unsigned"), colorGreen, true
	}
	return nil, "", "", nil, false
}
