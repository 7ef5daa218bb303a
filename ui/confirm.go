package ui

import (
	"errors"
	"image/color"
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"ndikiosk/kiosk"
)

// maxGrid is the longest list shown as a grid of choices; a longer one is a
// drop-down list, which scrolls.
const maxGrid = 12

// buildConfirm builds visitor mode's confirm screen: the particulars on one
// side, whom and why as large choices on the other (one above the other in
// portrait), the time left at the top, Cancel and Confirm at the bottom.
func (k *Kiosk) buildConfirm() {
	k.confirmTitle = bigText("", 34)
	k.confirmLeft = bigText("", 24)
	k.confirmLeft.Alignment = fyne.TextAlignTrailing
	k.particulars = widget.NewForm()
	k.keyboard = NewKeyboard(k.tr)
	k.host = newChoiceField(k, "confirm.host")
	k.purpose = newChoiceField(k, "confirm.purpose")
	k.confirmProblem = widget.NewLabel("")
	k.confirmProblem.Importance = widget.DangerImportance
	k.confirmProblem.Wrapping = fyne.TextWrapWord
	k.confirmProblem.Hide()
	k.confirmButton = widget.NewButton("", k.submitConfirm)
	k.confirmButton.Importance = widget.HighImportance
	k.confirmCancel = widget.NewButton("", func() { k.engine.Cancel() })
	choices := container.NewVBox(k.host.box, k.purpose.box)
	top := container.NewBorder(nil, nil, nil, container.NewCenter(k.confirmLeft), k.fit(k.confirmTitle))
	k.confirm = container.NewPadded(container.NewBorder(
		container.NewPadded(top),
		container.NewVBox(k.keyboard, k.confirmProblem, container.NewGridWithColumns(2, k.confirmCancel, k.confirmButton)),
		nil, nil,
		container.New(&sideBySide{}, container.NewVScroll(k.particulars), container.NewVScroll(choices))))
}

// translateConfirm sets the confirm screen's fixed texts in the current
// language.
func (k *Kiosk) translateConfirm() {
	k.confirmTitle.Text = k.tr.T("confirm.title")
	k.confirmTitle.Refresh()
	k.confirmCancel.SetText(k.tr.T("button.cancel"))
	k.confirmButton.SetText(k.tr.T("button.confirm"))
	k.keyboard.translate()
	k.host.translate()
	k.purpose.translate()
	k.confirmProblem.SetText("")
	k.confirmProblem.Hide()
	k.showTimeLeft()
}

// showConfirm fills the confirm screen with fresh host and purpose choices.
func (k *Kiosk) showConfirm(s kiosk.Screen) {
	k.keyboard.Attach(nil)
	k.host.reset(s.Hosts, s.FreeText)
	k.purpose.reset(s.Purposes, s.FreeText)
	k.confirmProblem.SetText("")
	k.confirmProblem.Hide()
	k.fillParticulars(s)
	k.show(k.confirm)
	k.confirmTick()
}

// submitConfirm checks each field, says what is missing next to it, and
// otherwise sends the choices to the engine.
func (k *Kiosk) submitConfirm() {
	hostOK, purposeOK := k.host.check(true), k.purpose.check(true)
	if !hostOK || !purposeOK {
		return
	}
	k.confirmProblem.SetText("")
	k.confirmProblem.Hide()
	switch err := k.engine.Confirm(k.host.value(), k.purpose.value()); {
	case errors.Is(err, kiosk.ErrTooLong):
		k.confirmProblem.SetText(k.tr.T("confirm.too_long"))
		k.confirmProblem.Show()
	case err != nil:
		k.confirmProblem.SetText(k.tr.T("confirm.problem"))
		k.confirmProblem.Show()
	}
}

// confirmTick shows the seconds left to confirm and comes back in a second
// while the confirm screen is up: it ticks only on this screen, which a
// visitor watches, and stops with the kiosk's other ticks.
func (k *Kiosk) confirmTick() {
	if k.confirmTimer != nil {
		k.confirmTimer.Stop()
		k.confirmTimer = nil
	}
	k.showTimeLeft()
	if k.stopped.Load() {
		return // stopped (tests move the clock and call confirmTick themselves)
	}
	if k.screen.Phase == kiosk.PhaseConfirm {
		k.confirmTimer = time.AfterFunc(time.Second, func() { fyne.Do(k.confirmTick) })
	}
}

// showTimeLeft draws the whole seconds left until the engine's timeout,
// in red for the last ten.
func (k *Kiosk) showTimeLeft() {
	left := 0
	if k.screen.Phase == kiosk.PhaseConfirm {
		left = max(0, int(math.Ceil(k.screen.Until.Sub(k.now()).Seconds())))
	}
	text := k.tr.T("confirm.time_left", "Seconds", strconv.Itoa(left))
	col := color.Color(colorInk)
	if left <= 10 {
		col = colorRed
	}
	size := k.scale.size(24) // instruction text: 3 % of the height
	if text == k.confirmLeft.Text && col == k.confirmLeft.Color && size == k.confirmLeft.TextSize {
		return
	}
	k.confirmLeft.Text, k.confirmLeft.Color, k.confirmLeft.TextSize = text, col, size
	k.confirmLeft.Refresh()
	k.refit() // the title may get or give room
}

// fillParticulars lists the visitor's particulars as the engine gives them
// (the ids and the mobile number masked), with labels in the current
// language.
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
	k.particulars.Refresh()
}

// choiceField is the host or the purpose: a grid of large choices for a
// short list, a drop-down for a long one, and with free text an entry the
// on-screen keyboard types into (a tapped choice fills it). Its problem
// shows under its title and goes as soon as it is put right.
type choiceField struct {
	k        *Kiosk
	key      string // "confirm.host" or "confirm.purpose"
	title    *widget.Label
	problem  *widget.Label
	grid     *fyne.Container
	choices  []*choiceButton
	list     *widget.Select // a long list, without free text
	entry    *pickEntry     // free text
	freeText bool
	selected string // the choice tapped in the grid
	box      *fyne.Container
}

func newChoiceField(k *Kiosk, key string) *choiceField {
	f := &choiceField{k: k, key: key, title: widget.NewLabel(""), problem: widget.NewLabel("")}
	f.title.TextStyle = fyne.TextStyle{Bold: true}
	f.problem.Importance = widget.DangerImportance
	f.problem.Wrapping = fyne.TextWrapWord
	f.problem.TextStyle = fyne.TextStyle{Bold: true}
	f.grid = container.NewGridWithColumns(2)
	f.list = widget.NewSelect(nil, func(string) { f.changed() })
	f.entry = newPickEntry(func() { k.keyboard.Attach(&f.entry.Entry) })
	f.entry.OnChanged = func(s string) {
		f.selected = s
		f.markSelected()
		f.changed()
	}
	f.box = container.NewVBox(f.title, f.problem, f.grid, f.list, f.entry)
	return f
}

func (f *choiceField) translate() {
	f.title.SetText(f.k.tr.T(f.key))
	f.entry.SetPlaceHolder(f.k.tr.T(f.key + ".placeholder"))
	if len(f.choices) > 0 {
		f.entry.SetPlaceHolder(f.k.tr.T(f.key + ".other"))
	}
	f.list.PlaceHolder = f.k.tr.T(f.key + ".placeholder")
	f.list.Refresh()
	if f.problem.Visible() {
		f.check(true) // in the new language
	}
}

// reset offers options, none chosen, for a new visitor.
func (f *choiceField) reset(options []string, freeText bool) {
	f.freeText, f.selected = freeText, ""
	f.grid.RemoveAll()
	f.choices = nil
	grid := len(options) > 0 && len(options) <= maxGrid
	if grid {
		for _, o := range options {
			c := newChoiceButton(o, func() { f.pick(o) })
			f.choices = append(f.choices, c)
			f.grid.Add(c)
		}
		f.grid.Layout = layout.NewGridLayoutWithColumns(min(2, len(options)))
	}
	f.grid.Hidden = !grid
	f.list.SetOptions(options)
	f.list.ClearSelected()
	f.list.Hidden = grid || freeText
	f.entry.SetOptions(nil)
	if !grid {
		f.entry.SetOptions(options)
	}
	f.entry.SetText("")
	f.entry.Hidden = !freeText
	f.problem.SetText("")
	f.problem.Hide()
	f.translate()
	f.box.Refresh()
}

// pick is a tap on a choice in the grid.
func (f *choiceField) pick(o string) {
	f.selected = o
	if f.freeText {
		f.entry.SetText(o) // calls changed
		f.k.keyboard.Attach(nil)
		return
	}
	f.markSelected()
	f.changed()
}

func (f *choiceField) markSelected() {
	for _, c := range f.choices {
		c.setSelected(c.text == f.selected)
	}
}

// value is what the visitor chose or typed.
func (f *choiceField) value() string {
	switch {
	case f.freeText:
		return f.entry.Text
	case len(f.choices) > 0:
		return f.selected
	}
	return f.list.Selected
}

// changed clears the field's problem once it is put right.
func (f *choiceField) changed() {
	if f.problem.Visible() {
		f.check(false)
	}
}

// check says what is wrong with the field, next to it, or clears what it
// said; it reports whether the field is ready to submit. show false only
// clears (a visitor still typing is not scolded).
func (f *choiceField) check(show bool) bool {
	v := kiosk.CleanText(f.value())
	problem := ""
	switch {
	case v == "":
		problem = f.k.tr.T(f.key + ".missing")
	case utf8.RuneCountInString(v) > kiosk.MaxChoice:
		problem = f.k.tr.T("confirm.field_too_long", "Max", strconv.Itoa(kiosk.MaxChoice))
	}
	if problem == "" {
		f.problem.SetText("")
		f.problem.Hide()
		return true
	}
	if show {
		f.problem.SetText(problem)
		f.problem.Show()
	}
	return false
}

// choiceButton is one large, bordered choice: ink border and text, or red
// with white text and a tick when chosen (not colour alone).
type choiceButton struct {
	widget.BaseWidget
	text     string
	onTap    func()
	selected bool
	focused  bool
	border   *canvas.Rectangle
	label    *widget.RichText
	tick     *canvas.Image
}

func newChoiceButton(text string, onTap func()) *choiceButton {
	c := &choiceButton{text: text, onTap: onTap}
	c.border = canvas.NewRectangle(colorPaper)
	c.border.StrokeColor, c.border.StrokeWidth, c.border.CornerRadius = colorInk, 3, 8
	c.label = widget.NewRichText(&widget.TextSegment{Text: text, Style: widget.RichTextStyle{
		Alignment: fyne.TextAlignCenter, TextStyle: fyne.TextStyle{Bold: true}, ColorName: theme.ColorNameForeground,
		SizeName: theme.SizeNameText}})
	c.label.Truncation = fyne.TextTruncateEllipsis
	c.tick = canvas.NewImageFromResource(theme.NewColoredResource(theme.ConfirmIcon(), theme.ColorNameForegroundOnPrimary))
	c.tick.FillMode = canvas.ImageFillContain
	c.tick.Hide()
	c.ExtendBaseWidget(c)
	return c
}

// Tapped chooses it.
func (c *choiceButton) Tapped(*fyne.PointEvent) {
	if c.onTap != nil {
		c.onTap()
	}
}

// The choices take the keyboard's focus like buttons (Tab moves between
// them, Space or Enter chooses), for a kiosk with a keyboard and for
// visitors who cannot use the touchscreen.
var _ fyne.Focusable = (*choiceButton)(nil)

// FocusGained draws the focus as a thicker border.
func (c *choiceButton) FocusGained() {
	c.focused = true
	c.paint()
}

// FocusLost draws the border as before.
func (c *choiceButton) FocusLost() {
	c.focused = false
	c.paint()
}

// TypedRune chooses it on a space.
func (c *choiceButton) TypedRune(r rune) {
	if r == ' ' {
		c.Tapped(nil)
	}
}

// TypedKey chooses it on Enter.
func (c *choiceButton) TypedKey(ev *fyne.KeyEvent) {
	if ev.Name == fyne.KeyReturn || ev.Name == fyne.KeyEnter {
		c.Tapped(nil)
	}
}

func (c *choiceButton) setSelected(on bool) {
	if on == c.selected {
		return
	}
	c.selected = on
	c.paint()
}

// paint draws the chosen and focused states.
func (c *choiceButton) paint() {
	seg := c.label.Segments[0].(*widget.TextSegment)
	if c.selected {
		c.border.FillColor, c.border.StrokeColor = colorRed, colorRed
		seg.Style.ColorName = theme.ColorNameForegroundOnPrimary
		c.tick.Show()
	} else {
		c.border.FillColor, c.border.StrokeColor = colorPaper, colorInk
		seg.Style.ColorName = theme.ColorNameForeground
		c.tick.Hide()
	}
	c.border.StrokeWidth = 3
	if c.focused {
		c.border.StrokeWidth = 7
		if c.selected {
			c.border.StrokeColor = colorInk
		}
	}
	c.border.Refresh()
	c.label.Refresh()
}

// Selected reports whether it is the chosen one.
func (c *choiceButton) Selected() bool { return c.selected }

func (c *choiceButton) CreateRenderer() fyne.WidgetRenderer {
	return &choiceRenderer{c: c}
}

type choiceRenderer struct{ c *choiceButton }

const choiceTick = 28 // the tick's side; the text keeps clear of it on both sides

func (r *choiceRenderer) Layout(size fyne.Size) {
	r.c.border.Resize(size)
	pad := theme.Padding()
	r.c.tick.Resize(fyne.NewSquareSize(choiceTick))
	r.c.tick.Move(fyne.NewPos(pad*2, (size.Height-choiceTick)/2))
	inset := pad*3 + choiceTick
	r.c.label.Resize(fyne.NewSize(max(0, size.Width-2*inset), r.c.label.MinSize().Height))
	r.c.label.Move(fyne.NewPos(inset, (size.Height-r.c.label.MinSize().Height)/2))
}

// MinSize is a finger's height at least, and wide enough for a few
// characters; longer texts end in "…" rather than push the screen wider.
func (r *choiceRenderer) MinSize() fyne.Size {
	h := r.c.label.MinSize().Height + 2*theme.Padding()
	return fyne.NewSize(2*(theme.Padding()*3+choiceTick)+80, max(64, h))
}

func (r *choiceRenderer) Refresh() {
	r.Layout(r.c.Size())
	canvas.Refresh(r.c)
}

func (r *choiceRenderer) Objects() []fyne.CanvasObject {
	return []fyne.CanvasObject{r.c.border, r.c.tick, r.c.label}
}

func (r *choiceRenderer) Destroy() {}

// sideBySide lays the particulars and the choices side by side when the
// screen is wider than tall, so that a long name wraps in its own column
// and never pushes the purpose off the screen; in portrait, one above the
// other, the choices getting what the particulars do not need (at least
// half).
type sideBySide struct{}

func (sideBySide) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	left, right := objs[0], objs[1]
	gap := theme.Padding() * 2
	if size.Width >= size.Height {
		w := (size.Width - gap) * 2 / 5
		left.Resize(fyne.NewSize(w, size.Height))
		left.Move(fyne.NewPos(0, 0))
		right.Resize(fyne.NewSize(size.Width-w-gap, size.Height))
		right.Move(fyne.NewPos(w+gap, 0))
		return
	}
	h := min(left.MinSize().Height, (size.Height-gap)/2)
	if s, ok := left.(*container.Scroll); ok {
		h = min(s.Content.MinSize().Height, (size.Height-gap)/2)
	}
	left.Resize(fyne.NewSize(size.Width, h))
	left.Move(fyne.NewPos(0, 0))
	right.Resize(fyne.NewSize(size.Width, size.Height-h-gap))
	right.Move(fyne.NewPos(0, h+gap))
}

func (sideBySide) MinSize(objs []fyne.CanvasObject) fyne.Size {
	a, b := objs[0].MinSize(), objs[1].MinSize()
	return fyne.NewSize(max(a.Width, b.Width), max(a.Height, b.Height))
}
