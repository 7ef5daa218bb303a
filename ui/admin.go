package ui

import (
	"context"
	"errors"
	"fmt"
	"image/color"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"ndikiosk/kiosk"
)

type pinPurpose int

const (
	pinAdmin pinPurpose = iota // open the admin screens
	pinQuit                    // leave the kiosk
)

// adminUI is the operator's side: a PIN pad, then today's visits, export,
// deletion, status and quit. It is English only: operators, not visitors.
type adminUI struct {
	k     *Kiosk
	admin *kiosk.Admin
	root  *fyne.Container

	pinPurpose pinPurpose
	pinDots    *canvas.Text
	pinMessage *widget.Label
	pinDigits  []*widget.Button
	pinOK      *widget.Button
	pinCancel  *widget.Button
	pinPad     fyne.CanvasObject
	pin        string

	nameSearch *widget.Entry
	hostSearch *widget.Entry
	searchBtn  *widget.Button
	list       *widget.List
	columns    []column
	counts     *widget.Label
	all        []kiosk.Visit // today's visits the search found
	page       int
	pageSize   int     // visits a page: as many as the list's height holds
	rowHeight  float32 // one visit's height in the list
	pageLabel  *widget.Label
	prev, next *widget.Button
	rows       []kiosk.Visit
	selected   int64
	checkOut   *widget.Button
	message    *widget.Label
	statusText *widget.Label
	exportBtn  *widget.Button
	deleteBtn  *widget.Button
	closeBtn   *widget.Button
	quitBtn    *widget.Button
	dialogs    []dialog.Dialog // open over the admin screens; they close with them
	tabs       *container.AppTabs
	statusTab  *container.TabItem
	panel      fyne.CanvasObject
	closeAt    time.Time // unless used again, the admin screens close then

	// The visit log, the files and the network are slow next to a frame,
	// so the admin screens ask them off the UI goroutine (background) and
	// drop answers nobody waits for any more.
	session      int                // changes when the admin screens open or close
	listReq      int                // the newest list request
	statusReq    int                // the newest status request
	cancelList   context.CancelFunc // stops the list request in flight
	cancelStatus context.CancelFunc // stops the status probe in flight
	start        func(job func())   // runs a job on its own goroutine; tests follow the jobs through it
}

func newAdminUI(k *Kiosk, a *kiosk.Admin) *adminUI {
	u := &adminUI{k: k, admin: a, start: func(job func()) { go job() }}
	u.buildPIN()
	u.buildPanel()
	shade := canvas.NewRectangle(colorShade)
	u.root = container.NewStack(shade, u.pinPad, u.panel)
	u.root.Hide()
	return u
}

func (u *adminUI) buildPIN() {
	u.pinDots = bigText("", 48)
	u.pinMessage = widget.NewLabel("")
	u.pinMessage.Alignment = fyne.TextAlignCenter
	grid := container.NewGridWithColumns(3)
	for _, d := range "123456789" {
		u.addDigit(grid, d)
	}
	back := widget.NewButton("⌫", func() {
		if len(u.pin) > 0 {
			u.pin = u.pin[:len(u.pin)-1]
			u.showDots()
		}
	})
	grid.Add(back)
	u.addDigit(grid, '0')
	u.pinOK = widget.NewButton("OK", u.submitPIN)
	u.pinOK.Importance = widget.HighImportance
	grid.Add(u.pinOK)
	u.pinCancel = widget.NewButton("Cancel", u.hide)
	box := container.NewVBox(bigText("Staff PIN", 32), u.pinDots, u.pinMessage, grid, u.pinCancel)
	u.pinPad = container.NewCenter(container.NewStack(canvas.NewRectangle(colorPaper),
		container.NewPadded(container.New(minWidth{420}, box))))
}

func (u *adminUI) addDigit(grid *fyne.Container, d rune) {
	b := widget.NewButton(string(d), func() {
		if len(u.pin) < 12 {
			u.pin += string(d)
			u.showDots()
		}
	})
	u.pinDigits = append(u.pinDigits, b)
	grid.Add(b)
}

func (u *adminUI) showDots() {
	u.pinDots.Text = strings.Repeat("●", len(u.pin))
	u.pinDots.Refresh()
}

// askPIN opens the PIN pad for purpose. The kiosk pauses until the pad
// or the admin screens close: a code dimmed behind them would still scan,
// and its result would be hidden from the visitor.
func (u *adminUI) askPIN(p pinPurpose) {
	u.forget()
	if !u.root.Visible() {
		u.k.showPaused()
		u.k.engine.Pause()
	}
	u.pinPurpose, u.pin = p, ""
	u.showDots()
	u.pinMessage.SetText(map[pinPurpose]string{pinAdmin: "Enter the staff PIN to open the admin screens.",
		pinQuit: "Enter the staff PIN to close the kiosk."}[p])
	if until := u.admin.Lock.LockedUntil(); !until.IsZero() {
		u.pinMessage.SetText(lockedText(until)) // say so before anyone types
	}
	u.panel.Hide()
	u.pinPad.Show()
	u.root.Show()
	u.armAutoClose()
	// A physical keyboard works too: digits, Backspace, Enter, Escape.
	c := u.k.win.Canvas()
	c.SetOnTypedRune(func(r rune) {
		if r >= '0' && r <= '9' && u.pinPad.Visible() && len(u.pin) < 12 {
			u.pin += string(r)
			u.showDots()
		}
	})
	c.SetOnTypedKey(func(e *fyne.KeyEvent) {
		if !u.pinPad.Visible() {
			return
		}
		switch e.Name {
		case fyne.KeyReturn, fyne.KeyEnter:
			u.submitPIN()
		case fyne.KeyBackspace:
			if len(u.pin) > 0 {
				u.pin = u.pin[:len(u.pin)-1]
				u.showDots()
			}
		case fyne.KeyEscape:
			u.hide()
		}
	})
}

func lockedText(until time.Time) string {
	return "Too many wrong PINs. Try again after " + until.In(kiosk.SGT).Format("15:04") + "."
}

func (u *adminUI) submitPIN() {
	pin := u.pin
	u.pin = ""
	u.showDots()
	left, until, err := u.admin.Lock.Check(pin)
	switch {
	case errors.Is(err, kiosk.ErrLocked):
		u.pinMessage.SetText(lockedText(until))
		return
	case err != nil:
		u.pinMessage.SetText(fmt.Sprintf("Wrong PIN. %d tries left.", left))
		return
	}
	if u.pinPurpose == pinQuit {
		u.quit()
		return
	}
	u.openPanel()
}

func (u *adminUI) buildPanel() {
	visitor := u.admin.Mode == kiosk.ModeVisitor
	u.nameSearch = widget.NewEntry()
	u.nameSearch.SetPlaceHolder("Visitor name")
	u.hostSearch = widget.NewEntry()
	u.hostSearch.SetPlaceHolder("Host")
	u.searchBtn = widget.NewButton("Search", func() { u.page = 0; u.reload() })
	u.columns = ageColumns
	if visitor {
		u.columns = visitorColumns
	}
	u.list = widget.NewList(func() int { return len(u.rows) },
		func() fyne.CanvasObject { return newVisitRow(u.columns) },
		func(i widget.ListItemID, o fyne.CanvasObject) { o.(*visitRow).show(u.rows[i], u.columns) })
	u.list.OnSelected = func(i widget.ListItemID) {
		u.selected = u.rows[i].ID
		if u.rows[i].Outcome == kiosk.OutcomeCheckedIn && u.rows[i].CheckedOutAt.IsZero() {
			u.checkOut.Enable()
		} else {
			u.checkOut.Disable()
		}
	}
	u.rowHeight = newVisitRow(u.columns).MinSize().Height + theme.SeparatorThicknessSize()
	u.pageSize = 8 // until the list is laid out
	u.prev = widget.NewButton("‹ Newer", func() { u.page--; u.showPage() })
	u.next = widget.NewButton("Older ›", func() { u.page++; u.showPage() })
	u.pageLabel = widget.NewLabel("")
	u.counts = widget.NewLabel("")
	u.counts.TextStyle = fyne.TextStyle{Bold: true}
	u.counts.Truncation = fyne.TextTruncateEllipsis
	u.checkOut = widget.NewButton("Check out selected visitor", u.checkOutSelected)
	u.checkOut.Disable()
	u.message = widget.NewLabel("")
	u.message.Wrapping = fyne.TextWrapWord
	top := container.NewVBox(u.counts)
	pager := container.NewHBox(u.prev, u.pageLabel, u.next)
	var bottom fyne.CanvasObject = pager
	if visitor {
		// Age mode keeps no names or hosts to search, and nobody checks out.
		top.Add(container.NewGridWithColumns(3, u.nameSearch, u.hostSearch, u.searchBtn))
		bottom = container.NewBorder(nil, nil, pager, u.checkOut)
	}
	list := container.New(&pageLayout{onHeight: u.fitPage}, u.list)
	visits := container.NewBorder(top, bottom, nil, nil, container.NewBorder(newHeaderRow(u.columns), nil, nil, nil, list))

	u.exportBtn = widget.NewButton("Export all visits as CSV…", u.export)
	u.deleteBtn = widget.NewButton("Delete all visits…", u.deleteAll)
	u.deleteBtn.Importance = widget.DangerImportance
	data := container.NewVBox(widget.NewLabel("Export the visit log to a folder, for example a USB stick."), u.exportBtn,
		widget.NewSeparator(), widget.NewLabel("Delete every visit now (the log keeps visits for the configured days otherwise)."), u.deleteBtn)

	u.statusText = widget.NewLabel("")
	u.statusText.Wrapping = fyne.TextWrapWord
	status := container.NewBorder(nil, widget.NewButton("Refresh", u.refreshStatus), nil, nil, container.NewVScroll(u.statusText))

	u.statusTab = container.NewTabItem("Status", status)
	u.tabs = container.NewAppTabs(container.NewTabItem("Today's visits", visits), container.NewTabItem("Export and delete", data),
		u.statusTab)
	u.tabs.OnSelected = func(t *container.TabItem) {
		u.armAutoClose()
		if t == u.statusTab {
			u.refreshStatus()
		}
	}
	u.closeBtn = widget.NewButton("Close", u.hide)
	u.closeBtn.Importance = widget.HighImportance
	// Quit sits at the top, far from Close at the bottom, and asks first:
	// a tap meant for one must not land on the other.
	u.quitBtn = widget.NewButton("Quit the kiosk…", u.confirmQuit)
	u.quitBtn.Importance = widget.DangerImportance
	// Quit shares the tabs' row, at its far end, so that an 800×480
	// panel keeps its height for the visits.
	quit := container.NewVBox(container.NewHBox(layout.NewSpacer(), u.quitBtn))
	u.panel = container.NewStack(canvas.NewRectangle(colorPaper), container.NewPadded(container.NewBorder(
		nil, container.NewBorder(nil, nil, nil, u.closeBtn, u.message), nil, nil,
		container.NewStack(u.tabs, quit))))
}

// A visits list column: its heading, its share of the width, and what it
// shows of a visit.
type column struct {
	title  string
	weight float32
	cell   func(kiosk.Visit) string
}

func hhmm(t time.Time) string { return t.In(kiosk.SGT).Format("15:04") }

var (
	colTime    = column{"Time", 1, func(v kiosk.Visit) string { return hhmm(v.StartedAt) }}
	colOutcome = column{"Outcome", 2.2, outcomeWords}
	colID      = column{"NRIC/FIN", 1.6, func(v kiosk.Visit) string { return v.MaskedID }}
	// The kiosk's visits list: age mode keeps no names, hosts or purposes.
	ageColumns     = []column{colTime, colOutcome, colID}
	visitorColumns = []column{colTime, colOutcome, {"Name", 3, func(v kiosk.Visit) string { return v.Name }}, colID,
		{"Host", 2, func(v kiosk.Visit) string { return v.Host }}, {"Purpose", 2, func(v kiosk.Visit) string { return v.Purpose }}}
)

// outcomeWords is a visit's outcome as staff say it.
func outcomeWords(v kiosk.Visit) string {
	if v.Outcome == kiosk.OutcomeCheckedIn {
		if !v.CheckedOutAt.IsZero() {
			return "out " + hhmm(v.CheckedOutAt)
		}
		return "in"
	}
	words := map[kiosk.Outcome]string{kiosk.OutcomeEligible: "eligible", kiosk.OutcomeNotEligible: "not eligible",
		kiosk.OutcomeCannotDecide: "age unknown", kiosk.OutcomeDenied: "not shared", kiosk.OutcomeError: "error",
		kiosk.OutcomeUnavailable: "Singpass down", kiosk.OutcomeCheckedOut: "checked out", kiosk.OutcomeRefused: "refused",
		kiosk.OutcomeNotRecorded: "not recorded", kiosk.OutcomeFaceFailed: "face failed",
		kiosk.OutcomeFaceUnavailable: "face check down", kiosk.OutcomeUnverified: "unverified report"}[v.Outcome]
	if words == "" {
		words = string(v.Outcome)
	}
	return words
}

// outcomeColor is a visit's colour in the list: green for a visitor let
// in, red for one turned away, amber for anything staff should look into.
func outcomeColor(o kiosk.Outcome) color.Color {
	switch o {
	case kiosk.OutcomeEligible, kiosk.OutcomeCheckedIn, kiosk.OutcomeCheckedOut:
		return colorGreen
	case kiosk.OutcomeNotEligible, kiosk.OutcomeRefused, kiosk.OutcomeFaceFailed:
		return colorRed
	}
	return colorAmber
}

// visitLine is a visit in one line of text, the list's cells joined.
func visitLine(v kiosk.Visit, cols []column) string {
	var parts []string
	for _, c := range cols {
		if s := c.cell(v); s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, " · ")
}

// columnsLayout shares the width among cells by weight.
type columnsLayout struct{ weights []float32 }

func (l columnsLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	var total float32
	for _, w := range l.weights {
		total += w
	}
	gap := theme.Padding()
	free := size.Width - gap*float32(len(objs)-1)
	x := float32(0)
	for i, o := range objs {
		w := free * l.weights[i] / total
		o.Resize(fyne.NewSize(w, size.Height))
		o.Move(fyne.NewPos(x, 0))
		x += w + gap
	}
}

func (l columnsLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var h float32
	for _, o := range objs {
		h = max(h, o.MinSize().Height)
	}
	return fyne.NewSize(float32(len(objs))*40, h)
}

func weights(cols []column) []float32 {
	w := make([]float32, len(cols))
	for i, c := range cols {
		w[i] = c.weight
	}
	return w
}

func newHeaderRow(cols []column) fyne.CanvasObject {
	row := container.New(columnsLayout{weights(cols)})
	for _, c := range cols {
		l := widget.NewLabel(c.title)
		l.TextStyle = fyne.TextStyle{Bold: true}
		l.Truncation = fyne.TextTruncateEllipsis
		row.Add(l)
	}
	return container.NewVBox(row, widget.NewSeparator())
}

// visitRow is one visit in the list: its outcome on its colour (white
// text, 5.4:1 or more), the rest as text, one line each.
type visitRow struct {
	widget.BaseWidget
	band    *canvas.Rectangle
	outcome *canvas.Text
	cells   []*clipCell
	box     *fyne.Container
}

// rowHeight is a visit's least height in the list: a finger's width.
const rowHeight = 44

func newVisitRow(cols []column) *visitRow {
	r := &visitRow{band: canvas.NewRectangle(colorAmber), outcome: canvas.NewText("", colorPaper)}
	r.band.CornerRadius = 6
	r.outcome.TextStyle = fyne.TextStyle{Bold: true}
	r.outcome.Alignment = fyne.TextAlignCenter
	r.box = container.New(columnsLayout{weights(cols)})
	for _, c := range cols {
		if c.title == colOutcome.title {
			r.box.Add(container.NewStack(container.NewPadded(r.band), container.NewCenter(r.outcome)))
			continue
		}
		c := newClipCell()
		r.cells = append(r.cells, c)
		r.box.Add(c.box)
	}
	r.ExtendBaseWidget(r)
	return r
}

func (r *visitRow) show(v kiosk.Visit, cols []column) {
	i := 0
	for _, c := range cols {
		if c.title == colOutcome.title {
			r.outcome.Text = c.cell(v)
			r.band.FillColor = outcomeColor(v.Outcome)
			r.outcome.Refresh()
			r.band.Refresh()
			continue
		}
		r.cells[i].set(c.cell(v))
		i++
	}
}

func (r *visitRow) MinSize() fyne.Size {
	m := r.box.MinSize()
	return fyne.NewSize(m.Width, max(rowHeight, m.Height))
}

func (r *visitRow) CreateRenderer() fyne.WidgetRenderer { return widget.NewSimpleRenderer(r.box) }

// clipCell is one line of text, centred vertically, cut with "…" where
// its column is too narrow.
type clipCell struct {
	text *canvas.Text
	full string
	box  *fyne.Container
}

func newClipCell() *clipCell {
	c := &clipCell{text: canvas.NewText("", colorInk)}
	c.box = container.New(c, c.text)
	return c
}

func (c *clipCell) set(s string) {
	c.full = s
	c.box.Refresh()
}

func (c *clipCell) Layout(_ []fyne.CanvasObject, size fyne.Size) {
	t := c.text
	width := size.Width - theme.Padding()
	shown := c.full
	for r := []rune(c.full); len(r) > 1 && fyne.MeasureText(shown, t.TextSize, t.TextStyle).Width > width; {
		r = r[:len(r)-1]
		shown = string(r) + "…"
	}
	h := fyne.MeasureText("Mg", t.TextSize, t.TextStyle).Height
	t.Move(fyne.NewPos(theme.Padding(), (size.Height-h)/2))
	t.Resize(fyne.NewSize(width, h))
	if shown != t.Text {
		t.Text = shown
		t.Refresh()
	}
}

func (c *clipCell) MinSize([]fyne.CanvasObject) fyne.Size {
	return fyne.NewSize(20, fyne.MeasureText("Mg", c.text.TextSize, c.text.TextStyle).Height)
}

// countsLine sums up today's visits by outcome, for the top of the list.
func countsLine(rows []kiosk.Visit, visitor, searched, capped bool) string {
	n := map[string]int{}
	var order []string
	in := 0
	for _, v := range rows {
		w := outcomeWords(v)
		if v.Outcome == kiosk.OutcomeCheckedIn {
			w = "checked in"
			if v.CheckedOutAt.IsZero() {
				in++
			}
		}
		if n[w] == 0 {
			order = append(order, w)
		}
		n[w]++
	}
	slices.SortStableFunc(order, func(a, b string) int { return n[b] - n[a] })
	what := "Today"
	if searched {
		what = "Found today"
	}
	total := strconv.Itoa(len(rows))
	if capped {
		total = "over " + total
	}
	noun := "checks"
	if visitor {
		noun = "visits"
	}
	parts := []string{fmt.Sprintf("%s: %s %s", what, total, noun)}
	for _, w := range order {
		parts = append(parts, fmt.Sprintf("%d %s", n[w], w))
	}
	if in > 0 {
		parts = append(parts, fmt.Sprintf("%d still in", in))
	}
	return strings.Join(parts, " · ")
}

// pageLayout fills its space with the list and reports its height, which
// decides how many visits a page shows.
type pageLayout struct {
	h        float32
	onHeight func(float32)
}

func (l *pageLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	for _, o := range objs {
		o.Resize(size)
		o.Move(fyne.NewPos(0, 0))
	}
	if size.Height != l.h {
		l.h = size.Height
		l.onHeight(size.Height)
	}
}

func (l *pageLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	return fyne.NewSize(0, 0)
}

// fitPage sets the page size to the visits the list's height holds.
func (u *adminUI) fitPage(h float32) {
	n := max(1, int(h/u.rowHeight))
	if n == u.pageSize {
		return
	}
	first := u.page * u.pageSize
	u.pageSize = n
	u.page = first / n
	if u.all != nil {
		u.showPage()
	}
}

// confirmQuit asks before quitting: visitors cannot check in until the
// kiosk is started again.
func (u *adminUI) confirmQuit() {
	u.armAutoClose()
	d := dialog.NewConfirm("Quit the kiosk?", "Visitors cannot check in until it is started again.", func(yes bool) {
		if yes {
			u.quit()
		}
	}, u.k.win)
	d.SetDismissText("Cancel")
	d.SetConfirmText("Quit")
	d.SetConfirmImportance(widget.DangerImportance)
	u.showDialog(d)
}

// showDialog shows d over the admin screens until it is answered or they close.
func (u *adminUI) showDialog(d dialog.Dialog) {
	u.dialogs = append(u.dialogs, d)
	d.Show()
}

func (u *adminUI) openPanel() {
	u.pinPad.Hide()
	u.panel.Show()
	u.page, u.selected = 0, 0
	u.message.SetText("")
	// An export or deletion left running when the screens closed ends
	// unseen; its button is free again.
	u.exportBtn.Enable()
	u.deleteBtn.Enable()
	u.reload()
	if u.tabs.Selected() == u.statusTab {
		u.refreshStatus()
	}
}

// background runs work off the UI goroutine, then what work returns on the
// UI goroutine, unless by then the admin screens were closed or reopened,
// or current (when given) says a newer request took over. The returned
// func cancels work's context; timeout 0 means none.
func (u *adminUI) background(timeout time.Duration, work func(ctx context.Context) (apply func()), current func() bool) context.CancelFunc {
	var ctx context.Context
	var cancel context.CancelFunc
	if timeout > 0 {
		ctx, cancel = context.WithTimeout(context.Background(), timeout)
	} else {
		ctx, cancel = context.WithCancel(context.Background())
	}
	session := u.session
	u.start(func() {
		defer cancel()
		apply := work(ctx)
		fyne.Do(func() {
			if u.session == session && (current == nil || current()) {
				apply()
			}
		})
	})
	return cancel
}

// forget drops whatever the admin screens still wait for: answers to
// requests already sent are not shown, and reads are stopped.
func (u *adminUI) forget() {
	u.session++
	for _, stop := range []context.CancelFunc{u.cancelList, u.cancelStatus} {
		if stop != nil {
			stop()
		}
	}
	u.cancelList, u.cancelStatus = nil, nil
}

// maxDay is the most visits of one day the list reads: more than a kiosk
// sees in a day; the counts say "over" when it is reached.
const maxDay = 5000

// reload reads today's visits (those the search finds); they show when
// they come, a page at a time.
func (u *adminUI) reload() {
	u.armAutoClose()
	if u.page < 0 {
		u.page = 0
	}
	f := kiosk.VisitFilter{From: u.admin.Today(), Limit: maxDay}
	if u.admin.Mode == kiosk.ModeVisitor {
		f.Name, f.Host = u.nameSearch.Text, u.hostSearch.Text
	}
	u.listReq++
	req := u.listReq
	if u.cancelList != nil {
		u.cancelList()
	}
	u.pageLabel.SetText("Loading…")
	u.prev.Disable()
	u.next.Disable()
	u.cancelList = u.background(5*time.Second, func(ctx context.Context) func() {
		rows, err := u.admin.Store.Visits(ctx, f)
		return func() { u.loaded(rows, f, err) }
	}, func() bool { return u.listReq == req })
}

// loaded takes the visits reload asked for.
func (u *adminUI) loaded(rows []kiosk.Visit, f kiosk.VisitFilter, err error) {
	if err != nil {
		u.pageLabel.SetText("")
		u.message.SetText("Cannot read the visit log: " + err.Error())
		return
	}
	u.all = rows
	u.counts.SetText(countsLine(rows, u.admin.Mode == kiosk.ModeVisitor, f.Name != "" || f.Host != "", len(rows) >= maxDay))
	u.showPage()
}

// showPage lists the page of the visits read.
func (u *adminUI) showPage() {
	size := max(1, u.pageSize)
	pages := max(1, (len(u.all)+size-1)/size)
	u.page = max(0, min(u.page, pages-1))
	from := u.page * size
	u.rows = u.all[from:min(len(u.all), from+size)]
	u.pageLabel.SetText(fmt.Sprintf("Page %d of %d", u.page+1, pages))
	u.prev.Disable()
	u.next.Disable()
	if u.page > 0 {
		u.prev.Enable()
	}
	if u.page < pages-1 {
		u.next.Enable()
	}
	u.selected = 0
	u.list.UnselectAll()
	u.list.Refresh()
	u.checkOut.Disable()
}

func (u *adminUI) checkOutSelected() {
	id := u.selected
	u.checkOut.Disable() // one tap, one check-out
	u.message.SetText("Checking out…")
	u.background(5*time.Second, func(ctx context.Context) func() {
		err := u.admin.CheckOut(ctx, id)
		return func() {
			if err != nil {
				u.message.SetText("Check-out failed: " + err.Error())
				if u.selected == id {
					u.checkOut.Enable()
				}
				return
			}
			u.message.SetText("Checked out.")
			u.reload()
		}
	}, nil)
}

func (u *adminUI) export() {
	u.armAutoClose()
	d := dialog.NewFolderOpen(func(dir fyne.ListableURI, err error) {
		if err != nil || dir == nil {
			return
		}
		u.exportTo(dir.Path())
	}, u.k.win)
	if home, err := os.UserHomeDir(); err == nil {
		if l, err := storage.ListerForURI(storage.NewFileURI(home)); err == nil {
			d.SetLocation(l)
		}
	}
	u.showDialog(d)
}

// exportTo writes the whole log as CSV into dir.
func (u *adminUI) exportTo(dir string) {
	u.armAutoClose()
	name := filepath.Join(dir, "ndikiosk-visits-"+u.k.now().In(kiosk.SGT).Format("20060102-1504")+".csv")
	u.exportBtn.Disable()
	u.message.SetText("Exporting…")
	u.background(0, func(ctx context.Context) func() {
		err := writeExport(ctx, name, u.admin.Export)
		return func() {
			u.exportBtn.Enable()
			if err != nil {
				u.message.SetText("Export failed: " + err.Error())
				return
			}
			u.message.SetText("Exported to " + name)
		}
	}, nil)
}

// writeExport creates name (never over an existing file) and writes the
// log into it; a failed export leaves no file.
func writeExport(ctx context.Context, name string, export func(context.Context, io.Writer, kiosk.VisitFilter) error) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	err = export(ctx, f, kiosk.VisitFilter{})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(name)
	}
	return err
}

func (u *adminUI) deleteAll() {
	u.armAutoClose()
	u.showDialog(dialog.NewConfirm("Delete all visits", "Every visit in the log will be deleted. This cannot be undone.", func(yes bool) {
		if yes {
			u.deleteEverything()
		}
	}, u.k.win))
}

// deleteEverything empties the visit log.
func (u *adminUI) deleteEverything() {
	u.armAutoClose()
	u.deleteBtn.Disable()
	u.message.SetText("Deleting…")
	u.background(0, func(ctx context.Context) func() {
		n, err := u.admin.DeleteAll(ctx)
		return func() {
			u.deleteBtn.Enable()
			if err != nil {
				u.message.SetText("Delete failed: " + err.Error())
				return
			}
			u.message.SetText(fmt.Sprintf("Deleted %d visits.", n))
			u.reload()
		}
	}, nil)
}

// refreshStatus probes the endpoints; only the newest probe's answer shows.
func (u *adminUI) refreshStatus() {
	u.statusText.SetText("Checking…")
	u.statusReq++
	req := u.statusReq
	if u.cancelStatus != nil {
		u.cancelStatus()
	}
	u.cancelStatus = u.background(5*time.Second, func(ctx context.Context) func() {
		s := u.admin.Status(ctx)
		return func() { u.statusText.SetText(statusLines(s, u.k.qrPx)) }
	}, func() bool { return u.statusReq == req })
}

func statusLines(s kiosk.Status, qrPx int) string {
	mode := s.Mode
	if s.Sandbox {
		mode += " (sandbox: no real Singpass)"
	}
	var lines []string
	if qrPx > 0 && qrPx < minQRPx {
		lines = append(lines, fmt.Sprintf("WARNING: the QR code is drawn at %d pixels per module; phones may not read it. "+
			"Use a larger or higher-resolution screen, or run the kiosk full screen.", qrPx), "")
	}
	lines = append(lines, "Version: "+s.Version, "Mode: "+mode, "Server: "+s.Listen, "Callback URL: "+s.CallbackURL,
		"Data folder: "+s.DataDir, "Visit log: "+byteSize(s.DatabaseBytes), "")
	for _, e := range s.Endpoints {
		lines = append(lines, fmt.Sprintf("%s — %s\n    %s", e.Name, e.Detail, e.URL))
	}
	return strings.Join(lines, "\n")
}

// minQRPx is the fewest screen pixels per QR module phones read reliably
// from where visitors stand.
const minQRPx = 4

func byteSize(n int64) string {
	if n < 1_000_000 {
		return fmt.Sprintf("%d kB", (n+999)/1000)
	}
	return fmt.Sprintf("%.1f MB", float64(n)/1e6)
}

// adminIdle is how long the admin screens stay open unused.
const adminIdle = 2 * time.Minute

// armAutoClose closes the admin screens after two idle minutes, so that no
// visitor finds them open (they show names). The kiosk's timer wakes for
// closeAt (Kiosk.arm) and its tick checks, on the kiosk's clock.
func (u *adminUI) armAutoClose() {
	u.closeAt = u.k.now().Add(adminIdle)
	u.k.arm()
}

// tick closes the admin screens when their time is up.
func (u *adminUI) tick() {
	if u.root.Visible() && !u.k.now().Before(u.closeAt) {
		u.hide()
	}
}

// hide closes the PIN pad or the admin screens, and the kiosk resumes
// with a fresh code.
func (u *adminUI) hide() {
	open := u.root.Visible()
	u.close()
	if open {
		u.k.engine.Resume()
	}
}

// quit leaves the kiosk. It stays paused: no fresh code shows while the
// window closes.
func (u *adminUI) quit() {
	if u.admin.Quit == nil {
		u.hide()
		return
	}
	u.close()
	u.admin.Quit()
}

// close closes the PIN pad or the admin screens, and any dialog over
// them, and forgets what they showed.
func (u *adminUI) close() {
	u.forget()
	dialogs := u.dialogs
	u.dialogs = nil
	for _, d := range dialogs {
		d.Hide() // a confirmation answers "no"
	}
	u.pin = ""
	u.rows, u.all = nil, nil
	u.counts.SetText("")
	u.list.Refresh() // nothing of this session's list is drawn when the screens open again
	u.root.Hide()
	u.k.win.Canvas().SetOnTypedRune(nil)
	u.k.win.Canvas().SetOnTypedKey(nil)
}
