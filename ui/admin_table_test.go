package ui

import (
	"context"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"

	"ndikiosk/kiosk"
)

// openAdminScreens opens the admin screens with the PIN and waits for the list.
func openAdminScreens(t *testing.T, r *adminRig) *adminUI {
	t.Helper()
	r.k.admin.askPIN(pinAdmin)
	typePIN(r.k, "2468")
	r.jobs.settle(t)
	return r.k.admin
}

// visible reports whether o and every container holding it in u's panel
// are shown.
func visible(root fyne.CanvasObject, o fyne.CanvasObject) bool {
	var walk func(c fyne.CanvasObject, shown bool) (found, vis bool)
	walk = func(c fyne.CanvasObject, shown bool) (bool, bool) {
		shown = shown && c.Visible()
		if c == o {
			return true, shown
		}
		if cont, ok := c.(*fyne.Container); ok {
			for _, child := range cont.Objects {
				if f, v := walk(child, shown); f {
					return f, v
				}
			}
		}
		return false, false
	}
	_, v := walk(root, true)
	return v
}

// Today's visits as a table: counts at the top, one coloured outcome a
// row, as many rows a page as the list's height holds.
func TestAdminVisitsTable(t *testing.T) {
	store := &memStore{}
	r := setupAdmin(t, store)
	now := r.clock.Now()
	for i := 29; i >= 0; i-- { // the oldest first, as the engine saves them
		v := checkedIn(now.Add(-time.Duration(i)*time.Minute), "VISITOR "+string(rune('A'+i%26)), "*****567D", "Ms Lee", "Meeting")
		switch i % 10 {
		case 3:
			v.CheckedOutAt = now
		case 7:
			v.Outcome, v.Name, v.Host, v.Purpose = kiosk.OutcomeRefused, "", "", ""
		}
		store.Save(context.Background(), v)
	}
	want := "Today: 30 visits · 27 checked in · 3 refused · 24 still in"
	for _, size := range displays {
		r.w.Resize(size)
		u := openAdminScreens(t, r)
		if u.counts.Text != want {
			t.Fatalf("%v: counts %q, want %q", size, u.counts.Text, want)
		}
		list := u.list.Size().Height
		if u.pageSize < 1 || float32(u.pageSize)*u.rowHeight > list+1 || float32(u.pageSize+1)*u.rowHeight <= list {
			t.Errorf("%v: %d rows a page of %v px in a list %v px high", size, u.pageSize, u.rowHeight, list)
		}
		if size.Height >= 1080 && u.pageSize < 10 || size.Height == 480 && u.pageSize < 2 {
			t.Errorf("%v: only %d rows a page", size, u.pageSize)
		}
		if len(u.rows) != min(30, u.pageSize) || !strings.HasPrefix(u.pageLabel.Text, "Page 1 of ") {
			t.Errorf("%v: %d rows on the first page, %q", size, len(u.rows), u.pageLabel.Text)
		}
		u.hide()
	}
	u := openAdminScreens(t, r)
	for u.next.Disabled() == false {
		u.next.OnTapped()
	}
	if last := u.rows[len(u.rows)-1]; !last.StartedAt.Equal(now.Add(-29 * time.Minute)) {
		t.Fatalf("the last page ends with %v", last.StartedAt)
	}
	row := newVisitRow(visitorColumns)
	row.show(kiosk.Visit{StartedAt: now, Outcome: kiosk.OutcomeRefused, MaskedID: "*****123A"}, visitorColumns)
	if row.outcome.Text != "refused" || row.band.FillColor != colorRed {
		t.Fatalf("a refusal is shown as %q on %v", row.outcome.Text, row.band.FillColor)
	}
	out := checkedIn(now, "VISITOR D", "*****567D", "Ms Lee", "Meeting")
	out.CheckedOutAt = now
	row.show(out, visitorColumns)
	if row.outcome.Text != "out 09:30" || row.band.FillColor != colorGreen || row.cells[1].full != "VISITOR D" {
		t.Fatalf("a checked-out visitor: %q on %v, name %q", row.outcome.Text, row.band.FillColor, row.cells[1].full)
	}
	if !visible(u.tabs.Items[0].Content, u.nameSearch) || !visible(u.tabs.Items[0].Content, u.checkOut) {
		t.Fatal("visitor mode needs the search and the check-out")
	}
}

// Age mode shows neither name nor host search nor check-out, and its list
// has no name, host or purpose column.
func TestAdminAgeModeHidesVisitorControls(t *testing.T) {
	store := &memStore{}
	r := setupAdmin(t, store)
	r.k.admin.root.Objects = nil // rebuilt below for age mode
	r.k.opts.Admin.Mode = kiosk.ModeAge
	u := newAdminUI(r.k, r.k.opts.Admin)
	u.start = r.jobs.start
	r.k.admin = u
	store.Save(context.Background(), kiosk.Visit{StartedAt: r.clock.Now(), Outcome: kiosk.OutcomeNotEligible, MaskedID: "*****123A"})
	u.root.Show()
	u.openPanel()
	r.jobs.settle(t)
	for name, o := range map[string]fyne.CanvasObject{"name search": u.nameSearch, "host search": u.hostSearch,
		"search": u.searchBtn, "check-out": u.checkOut} {
		if visible(u.tabs.Items[0].Content, o) {
			t.Errorf("age mode shows the %s", name)
		}
	}
	if got := visitLine(u.rows[0], u.columns); got != "09:30 · not eligible · *****123A" || u.counts.Text != "Today: 1 checks · 1 not eligible" {
		t.Fatalf("age mode row %q, counts %q", got, u.counts.Text)
	}
}

// The status page warns when the QR code is drawn too small to scan.
func TestStatusWarnsOfASmallQR(t *testing.T) {
	s := kiosk.Status{Version: "test", Mode: "age",
		Endpoints: []kiosk.Endpoint{{Name: "Token API", URL: "https://x/token", Detail: "NOT REACHABLE: nothing answers at this address (connection refused)"}}}
	for px, warn := range map[int]bool{0: false, 2: true, 3: true, 4: false, 9: false} {
		got := statusLines(s, px)
		if strings.Contains(got, "WARNING") != warn || warn && !strings.Contains(got, "drawn at "+string(rune('0'+px))+" pixels per module") {
			t.Errorf("%d px a module: %s", px, got)
		}
		if !strings.Contains(got, "Token API — NOT REACHABLE: nothing answers") {
			t.Errorf("endpoint line: %s", got)
		}
	}
}
