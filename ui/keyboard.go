package ui

import (
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// Keyboard is an on-screen keyboard: desktop Fyne has none, and a kiosk has
// no physical one. It types into the entry it is attached to.
type Keyboard struct {
	widget.BaseWidget
	tr      *translator
	target  *widget.Entry
	keys    map[string]*widget.Button
	space   *widget.Button
	back    *widget.Button
	done    *widget.Button
	content fyne.CanvasObject
}

// NewKeyboard builds a QWERTY keyboard with digits.
func NewKeyboard(tr *translator) *Keyboard {
	k := &Keyboard{tr: tr, keys: map[string]*widget.Button{}}
	rows := []string{"1234567890", "QWERTYUIOP", "ASDFGHJKL-", "ZXCVBNM.,'"}
	box := container.NewVBox()
	for _, row := range rows {
		grid := container.NewGridWithColumns(len(row))
		for _, r := range row {
			label := string(r)
			b := widget.NewButton(label, func() { k.typeRune(r) })
			k.keys[label] = b
			grid.Add(b)
		}
		box.Add(grid)
	}
	k.space = widget.NewButton("", func() { k.typeRune(' ') })
	k.back = widget.NewButton("⌫", func() {
		if k.target != nil {
			k.target.TypedKey(&fyne.KeyEvent{Name: fyne.KeyBackspace})
		}
	})
	k.done = widget.NewButton("", func() { k.Attach(nil) })
	k.done.Importance = widget.HighImportance
	box.Add(container.NewGridWithColumns(4, k.back, container.NewGridWrap(fyne.NewSize(0, 0)), k.space, k.done))
	k.content = box
	k.ExtendBaseWidget(k)
	k.translate()
	return k
}

func (k *Keyboard) translate() {
	k.space.SetText(k.tr.T("keyboard.space"))
	k.done.SetText(k.tr.T("keyboard.done"))
}

// Attach shows the keyboard typing into e, or hides it when e is nil.
func (k *Keyboard) Attach(e *widget.Entry) {
	k.target = e
	if e == nil || e.Disabled() {
		k.target = nil
		k.Hide()
		return
	}
	k.Show()
}

// Target is the entry being typed into.
func (k *Keyboard) Target() *widget.Entry { return k.target }

func (k *Keyboard) typeRune(r rune) {
	if k.target != nil && !k.target.Disabled() {
		k.target.TypedRune(r)
	}
}

// CreateRenderer draws the keys.
func (k *Keyboard) CreateRenderer() fyne.WidgetRenderer { return widget.NewSimpleRenderer(k.content) }

// pickEntry is a host or purpose field: a list to pick from, which also
// takes typing (from the on-screen keyboard) when free text is allowed.
type pickEntry struct {
	widget.SelectEntry
	onFocus func()
}

func newPickEntry(onFocus func()) *pickEntry {
	p := &pickEntry{onFocus: onFocus}
	p.ExtendBaseWidget(p)
	p.Wrapping = fyne.TextWrap(fyne.TextTruncateClip)
	return p
}

// FocusGained brings up the keyboard.
func (p *pickEntry) FocusGained() {
	p.SelectEntry.FocusGained()
	if p.onFocus != nil {
		p.onFocus()
	}
}

// holdArea fires after being held down for a while: the hidden corner that
// opens the admin PIN pad. Touchscreens deliver touches as mouse events.
type holdArea struct {
	widget.BaseWidget
	hold   time.Duration
	onHold func()
	now    func() time.Time
	down   time.Time
}

func newHoldArea(hold time.Duration, now func() time.Time, onHold func()) *holdArea {
	h := &holdArea{hold: hold, onHold: onHold, now: now}
	h.ExtendBaseWidget(h)
	return h
}

func (h *holdArea) MouseDown(*desktop.MouseEvent) { h.down = h.now() }

func (h *holdArea) MouseUp(*desktop.MouseEvent) {
	held := !h.down.IsZero() && h.now().Sub(h.down) >= h.hold
	h.down = time.Time{}
	if held {
		h.onHold()
	}
}

func (h *holdArea) MinSize() fyne.Size { return fyne.NewSize(80, 64) }

func (h *holdArea) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(canvas.NewRectangle(theme.Color(theme.ColorNameBackground)))
}

// noCursor hides the mouse pointer over the kiosk. Text entries show their
// own cursor; for a pointer-free kiosk also run X with -nocursor or unclutter.
type noCursor struct{ widget.BaseWidget }

func (n *noCursor) Cursor() desktop.Cursor { return desktop.HiddenCursor }

func (n *noCursor) CreateRenderer() fyne.WidgetRenderer {
	n.ExtendBaseWidget(n)
	return widget.NewSimpleRenderer(canvas.NewRectangle(color0))
}
