package ui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/widget"

	"ndikiosk/kiosk"
)

type pinPurpose int

const (
	pinAdmin pinPurpose = iota // open the admin screens
	pinQuit                    // leave the kiosk
)

const adminPageSize = 8

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
	page       int
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
	u.nameSearch = widget.NewEntry()
	u.nameSearch.SetPlaceHolder("Visitor name")
	u.hostSearch = widget.NewEntry()
	u.hostSearch.SetPlaceHolder("Host")
	u.searchBtn = widget.NewButton("Search", func() { u.page = 0; u.reload() })
	u.list = widget.NewList(func() int { return len(u.rows) },
		func() fyne.CanvasObject { return widget.NewLabel("") },
		func(i widget.ListItemID, o fyne.CanvasObject) { o.(*widget.Label).SetText(visitLine(u.rows[i])) })
	u.list.OnSelected = func(i widget.ListItemID) {
		u.selected = u.rows[i].ID
		if u.rows[i].Outcome == kiosk.OutcomeCheckedIn && u.rows[i].CheckedOutAt.IsZero() {
			u.checkOut.Enable()
		} else {
			u.checkOut.Disable()
		}
	}
	u.prev = widget.NewButton("‹ Newer", func() { u.page--; u.reload() })
	u.next = widget.NewButton("Older ›", func() { u.page++; u.reload() })
	u.pageLabel = widget.NewLabel("")
	u.checkOut = widget.NewButton("Check out selected visitor", u.checkOutSelected)
	u.checkOut.Disable()
	u.message = widget.NewLabel("")
	visits := container.NewBorder(
		container.NewVBox(container.NewGridWithColumns(3, u.nameSearch, u.hostSearch, u.searchBtn)),
		container.NewVBox(container.NewHBox(u.prev, u.pageLabel, u.next), u.checkOut), nil, nil, u.list)

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
	// Quit sits at the top, far from Close at the bottom: a tap meant
	// for one must not land on the other.
	u.quitBtn = widget.NewButton("Quit the kiosk", u.confirmQuit)
	u.quitBtn.Importance = widget.DangerImportance
	u.panel = container.NewStack(canvas.NewRectangle(colorPaper), container.NewPadded(container.NewBorder(
		container.NewBorder(nil, nil, nil, u.quitBtn, bigText("Admin", 30)),
		container.NewVBox(u.message, u.closeBtn), nil, nil, u.tabs)))
}

func visitLine(v kiosk.Visit) string {
	status := string(v.Outcome)
	if v.Outcome == kiosk.OutcomeCheckedIn {
		status = "in"
		if !v.CheckedOutAt.IsZero() {
			status = "out " + v.CheckedOutAt.In(kiosk.SGT).Format("15:04")
		}
	}
	parts := []string{v.StartedAt.In(kiosk.SGT).Format("15:04"), status}
	for _, s := range []string{v.Name, v.MaskedID, v.Host, v.Purpose} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, " · ")
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

// reload asks for a page of today's visits; the page shows when it comes.
func (u *adminUI) reload() {
	u.armAutoClose()
	if u.page < 0 {
		u.page = 0
	}
	f := kiosk.VisitFilter{From: u.admin.Today(), Name: u.nameSearch.Text, Host: u.hostSearch.Text,
		Limit: adminPageSize + 1, Offset: u.page * adminPageSize}
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
		return func() { u.showPage(rows, err) }
	}, func() bool { return u.listReq == req })
}

// showPage lists the page reload asked for.
func (u *adminUI) showPage(rows []kiosk.Visit, err error) {
	u.pageLabel.SetText(fmt.Sprintf("Page %d", u.page+1))
	if u.page > 0 {
		u.prev.Enable()
	}
	if err != nil {
		u.message.SetText("Cannot read the visit log: " + err.Error())
		return
	}
	more := len(rows) > adminPageSize
	if more {
		rows = rows[:adminPageSize]
		u.next.Enable()
	}
	u.rows, u.selected = rows, 0
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
		return func() { u.statusText.SetText(statusLines(s)) }
	}, func() bool { return u.statusReq == req })
}

func statusLines(s kiosk.Status) string {
	mode := s.Mode
	if s.Sandbox {
		mode += " (sandbox: no real Singpass)"
	}
	lines := []string{"Version: " + s.Version, "Mode: " + mode, "Server: " + s.Listen, "Callback URL: " + s.CallbackURL,
		"Data folder: " + s.DataDir, "Visit log: " + byteSize(s.DatabaseBytes)}
	for _, e := range s.Endpoints {
		state := "unreachable"
		if e.Reachable {
			state = "reachable"
		}
		lines = append(lines, fmt.Sprintf("%s: %s (%s) %s", e.Name, state, e.Detail, e.URL))
	}
	return strings.Join(lines, "\n")
}

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
	u.rows = nil
	u.list.Refresh() // nothing of this session's list is drawn when the screens open again
	u.root.Hide()
	u.k.win.Canvas().SetOnTypedRune(nil)
	u.k.win.Canvas().SetOnTypedKey(nil)
}
