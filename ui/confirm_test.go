package ui

import (
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"ndikiosk/kiosk"
)

// visitorConfirm is the confirm screen the engine shows a visitor.
func visitorConfirm(until time.Time, freeText bool) kiosk.Screen {
	return kiosk.Screen{Phase: kiosk.PhaseConfirm, Until: until, FreeText: freeText,
		Particulars: []kiosk.Particular{
			{Attribute: "name", Label: "Name", Value: "TAN AH KOW"},
			{Attribute: "partialuinfin", Label: "Partial NRIC/FIN", Value: "*****567D"},
			{Attribute: "mobileno", Label: "Mobile", Value: "+65 ****4567"}},
		Hosts: []string{"Reception", "Ms Lee"}, Purposes: []string{"Meeting"}}
}

// choice is the grid choice with this text.
func choice(t *testing.T, f *choiceField, text string) *choiceButton {
	t.Helper()
	for _, c := range f.choices {
		if c.text == text {
			return c
		}
	}
	t.Fatalf("no choice %q among %d", text, len(f.choices))
	return nil
}

// The confirm screen in each language: the particulars with translated
// labels, host and purpose as large choices, each field's problem next to
// it and gone once it is put right, the seconds left counting down.
func TestConfirmScreenInEveryLanguage(t *testing.T) {
	for _, l := range Languages {
		t.Run(l.Code, func(t *testing.T) {
			r := newRig(t, &fakeEngine{}, Options{Venue: "Test Venue", Language: l.Code})
			k := r.k
			en := &translator{tables: k.tr.tables, lang: "en"}
			r.showQR(qrURL("1"))
			r.e.publish(visitorConfirm(r.clock.Now().Add(time.Minute), false))
			if !k.confirm.Visible() || len(k.particulars.Items) != 3 {
				t.Fatalf("confirm screen: visible %v, %d particulars", k.confirm.Visible(), len(k.particulars.Items))
			}
			if k.confirmTitle.Text != k.tr.T("confirm.title") || k.particulars.Items[2].Text != k.tr.T("attr.mobileno") {
				t.Fatalf("title %q, mobile label %q", k.confirmTitle.Text, k.particulars.Items[2].Text)
			}
			if got := k.particulars.Items[2].Widget.(*widget.Label).Text; got != "+65 ****4567" {
				t.Fatalf("mobile %q: the engine's masked value, as sent", got)
			}
			if l.Code != "en" && (k.confirmTitle.Text == en.T("confirm.title") || k.host.title.Text == en.T("confirm.host")) {
				t.Fatalf("%s screen in English: %q, %q", l.Code, k.confirmTitle.Text, k.host.title.Text)
			}
			if len(k.host.choices) != 2 || !k.host.grid.Visible() || k.host.list.Visible() || k.host.entry.Visible() {
				t.Fatal("two hosts are not shown as a grid of choices")
			}
			if !strings.Contains(k.confirmLeft.Text, "60") {
				t.Fatalf("time left %q, want 60 s", k.confirmLeft.Text)
			}
			r.clock.Add(15 * time.Second)
			k.confirmTick()
			if !strings.Contains(k.confirmLeft.Text, "45") || k.confirmLeft.Color != colorInk {
				t.Fatalf("after 15 s: %q", k.confirmLeft.Text)
			}

			test.Tap(k.confirmButton) // nothing chosen
			if _, _, confirms := r.e.taps(); len(confirms) != 0 {
				t.Fatalf("an empty choice reached the engine: %q", confirms)
			}
			if !k.host.problem.Visible() || k.host.problem.Text != k.tr.T("confirm.host.missing") ||
				!k.purpose.problem.Visible() || k.purpose.problem.Text != k.tr.T("confirm.purpose.missing") {
				t.Fatalf("problems: host %q, purpose %q", k.host.problem.Text, k.purpose.problem.Text)
			}
			if l.Code != "en" && k.host.problem.Text == en.T("confirm.host.missing") {
				t.Fatalf("the host's problem is in English on the %s screen", l.Code)
			}
			test.Tap(choice(t, k.host, "Ms Lee"))
			if k.host.problem.Visible() || !k.purpose.problem.Visible() {
				t.Fatal("choosing a host must clear its problem, and only its")
			}
			if !choice(t, k.host, "Ms Lee").Selected() || choice(t, k.host, "Reception").Selected() {
				t.Fatal("the tapped host is not the one marked")
			}
			test.Tap(choice(t, k.host, "Reception")) // changed their mind
			test.Tap(choice(t, k.purpose, "Meeting"))
			if k.purpose.problem.Visible() {
				t.Fatal("the purpose's problem stayed after choosing one")
			}
			r.clock.Add(40 * time.Second)
			k.confirmTick()
			if !strings.Contains(k.confirmLeft.Text, "5") || k.confirmLeft.Color != colorRed {
				t.Fatalf("5 s before the timeout: %q in %v", k.confirmLeft.Text, k.confirmLeft.Color)
			}
			test.Tap(k.confirmButton)
			if _, _, confirms := r.e.taps(); len(confirms) != 1 || confirms[0] != "Reception|Meeting" {
				t.Fatalf("confirmed %q", confirms)
			}
		})
	}
}

// The engine's refusal shows above the buttons; a repeated confirm screen
// (the engine's Until moved) keeps the visitor's choices; Cancel reaches
// the engine; the result follows.
func TestVisitorScreens(t *testing.T) {
	r := newRig(t, &fakeEngine{confirmErr: kiosk.ErrChoice}, Options{Venue: "Test Venue"})
	k := r.k
	r.showQR(qrURL("1"))
	confirm := visitorConfirm(r.clock.Now().Add(time.Minute), false)
	r.e.publish(confirm)
	test.Tap(choice(t, k.host, "Ms Lee"))
	test.Tap(choice(t, k.purpose, "Meeting"))
	test.Tap(k.confirmButton)
	if _, _, confirms := r.e.taps(); len(confirms) != 1 || !k.confirmProblem.Visible() || k.confirmProblem.Text != "Please choose whom you are visiting and why." {
		t.Fatalf("a refused choice: %q, problem %q", confirms, k.confirmProblem.Text)
	}
	r.e.confirmErr = kiosk.ErrTooLong
	test.Tap(k.confirmButton)
	if !strings.Contains(k.confirmProblem.Text, "120 characters") {
		t.Fatalf("an overlong host is told %q", k.confirmProblem.Text)
	}
	confirm.Until = confirm.Until.Add(time.Second)
	r.e.publish(confirm) // the same screen again keeps the visitor's choices
	if k.host.value() != "Ms Lee" || len(k.particulars.Items) != 3 {
		t.Fatalf("a repeated confirm screen lost the host: %q", k.host.value())
	}
	r.e.confirmErr = nil
	test.Tap(k.confirmButton)
	if _, _, confirms := r.e.taps(); len(confirms) != 3 || confirms[2] != "Ms Lee|Meeting" {
		t.Fatalf("confirmed %q", confirms)
	}
	until := r.clock.Now().Add(8 * time.Second)
	r.e.publish(kiosk.Screen{Phase: kiosk.PhaseResult, Outcome: kiosk.OutcomeCheckedIn, Name: "TAN AH KOW", Until: until})
	if !k.result.Visible() || k.confirm.Visible() || k.resultTitle.Text != "Welcome, TAN AH KOW" {
		t.Fatalf("welcome %q", k.resultTitle.Text)
	}
	r.e.publish(confirm)
	if k.host.value() != "" || k.confirmProblem.Visible() {
		t.Fatalf("the next visitor found host %q, problem %q", k.host.value(), k.confirmProblem.Text)
	}
	test.Tap(k.confirmCancel)
	if cancels, _, _ := r.e.taps(); cancels != 1 {
		t.Fatalf("Cancel on the confirm screen reached the engine %d times", cancels)
	}
}

// With free text, a grid choice fills the typed field, typing is checked
// against the limit next to the field, and a long list without free text
// is a drop-down.
func TestConfirmFreeTextAndLongLists(t *testing.T) {
	r := newRig(t, &fakeEngine{}, Options{Venue: "Test Venue"})
	k := r.k
	r.showQR(qrURL("1"))
	r.e.publish(visitorConfirm(r.clock.Now().Add(time.Minute), true))
	if !k.host.grid.Visible() || !k.host.entry.Visible() {
		t.Fatal("free text with a short list: the grid and the entry")
	}
	test.Tap(choice(t, k.host, "Ms Lee"))
	if k.host.entry.Text != "Ms Lee" || !choice(t, k.host, "Ms Lee").Selected() {
		t.Fatalf("a tapped choice typed %q", k.host.entry.Text)
	}
	k.host.entry.SetText(strings.Repeat("x", kiosk.MaxChoice+1))
	if choice(t, k.host, "Ms Lee").Selected() {
		t.Fatal("a typed host left a choice marked")
	}
	k.purpose.entry.SetText("Delivery")
	test.Tap(k.confirmButton)
	if _, _, confirms := r.e.taps(); len(confirms) != 0 || !strings.Contains(k.host.problem.Text, "120") || k.purpose.problem.Visible() {
		t.Fatalf("an overlong host: sent %q, host problem %q", confirms, k.host.problem.Text)
	}
	k.host.entry.SetText("Mr Ong")
	if k.host.problem.Visible() {
		t.Fatal("the host's problem stayed once it was short enough")
	}
	test.Tap(k.confirmButton)
	if _, _, confirms := r.e.taps(); len(confirms) != 1 || confirms[0] != "Mr Ong|Delivery" {
		t.Fatalf("confirmed %q", confirms)
	}

	long := visitorConfirm(r.clock.Now().Add(time.Minute), false)
	for i := range maxGrid {
		long.Hosts = append(long.Hosts, "Host "+string(rune('A'+i)))
	}
	r.showQR(qrURL("2"))
	r.e.publish(long)
	if k.host.grid.Visible() || !k.host.list.Visible() || len(k.host.list.Options) != maxGrid+2 {
		t.Fatal("a long list is not a drop-down")
	}
	k.host.list.SetSelected("Host C")
	test.Tap(choice(t, k.purpose, "Meeting"))
	test.Tap(k.confirmButton)
	if _, _, confirms := r.e.taps(); len(confirms) != 2 || confirms[1] != "Host C|Meeting" {
		t.Fatalf("confirmed %q", confirms)
	}
}

// TestResultAndConfirmTimeOut: an unconfirmed visitor is told that time
// is up and that nothing was kept; the next visitor starts with empty
// fields.
func TestResultAndConfirmTimeOut(t *testing.T) {
	r := newRig(t, &fakeEngine{}, Options{Venue: "Test Venue"})
	k := r.k
	r.showQR(qrURL("1"))
	r.e.publish(visitorConfirm(r.clock.Now().Add(time.Minute), true))
	k.host.entry.FocusGained()
	test.Tap(k.keyboard.keys["M"])
	if k.host.entry.Text != "M" || !k.keyboard.Visible() {
		t.Fatalf("typed host %q", k.host.entry.Text)
	}
	r.clock.Add(time.Minute)
	k.confirmTick()
	if !strings.Contains(k.confirmLeft.Text, "0") {
		t.Fatalf("at the timeout: %q", k.confirmLeft.Text)
	}
	r.e.publish(kiosk.Screen{Phase: kiosk.PhaseResult, Outcome: kiosk.OutcomeTimedOut, Until: r.clock.Now().Add(8 * time.Second)})
	if !k.result.Visible() || k.confirm.Visible() || k.keyboard.Visible() || k.resultTitle.Text != "Time is up" ||
		!strings.Contains(k.resultDetail.Text, "Nothing was kept") {
		t.Fatalf("after the timeout: %q %q", k.resultTitle.Text, k.resultDetail.Text)
	}
	r.clock.Add(8 * time.Second)
	r.showQR(qrURL("2"))
	r.e.publish(visitorConfirm(r.clock.Now().Add(time.Minute), true))
	if k.host.entry.Text != "" || k.keyboard.Visible() || k.keyboard.Target() != nil {
		t.Fatalf("the next visitor found host %q, keyboard %v", k.host.entry.Text, k.keyboard.Visible())
	}
}

// At 800×480 a long name wraps in its own column: the purpose's choices
// stay on the screen, above the buttons.
func TestConfirmLongNameKeepsPurposeOnScreen(t *testing.T) {
	for _, size := range []fyne.Size{{Width: 800, Height: 480}, {Width: 1080, Height: 1920}, {Width: 1280, Height: 800}} {
		r := newRig(t, &fakeEngine{}, Options{Venue: "Test Venue"})
		k := r.k
		r.w.Resize(size)
		r.showQR(qrURL("1"))
		s := visitorConfirm(r.clock.Now().Add(time.Minute), false)
		s.Particulars[0].Value = strings.Repeat("MUHAMMAD ABDULLAH BIN ", 5) + "HASSAN"
		r.e.publish(s)
		meeting := choice(t, k.purpose, "Meeting")
		d := fyne.CurrentApp().Driver()
		pos, buttons := d.AbsolutePositionForObject(meeting), d.AbsolutePositionForObject(k.confirmButton)
		if pos.Y+meeting.Size().Height > buttons.Y || pos.X+meeting.Size().Width > size.Width || meeting.Size().Height < 48 {
			t.Errorf("%v: the purpose choice at %v size %v, the buttons at %v", size, pos, meeting.Size(), buttons)
		}
	}
}

// TestChoicesByKeyboard: Tab reaches the host and purpose choices like the
// buttons, Space or Enter chooses the focused one, and the focus shows.
func TestChoicesByKeyboard(t *testing.T) {
	r := newRig(t, &fakeEngine{}, Options{Venue: "Test Venue"})
	k, c := r.k, r.w.Canvas()
	r.showQR(qrURL("1"))
	r.e.publish(visitorConfirm(r.clock.Now().Add(time.Minute), false))
	var order []string
	for range 6 {
		c.FocusNext()
		switch f := c.Focused().(type) {
		case *choiceButton:
			order = append(order, f.text)
		case *widget.Button:
			order = append(order, "["+f.Text+"]")
		}
	}
	for _, want := range []string{"Reception", "Ms Lee", "Meeting", "[Confirm]"} {
		if !strings.Contains(strings.Join(order, ","), want) {
			t.Fatalf("Tab visits %v, not %s", order, want)
		}
	}
	ms := choice(t, k.host, "Ms Lee")
	c.Focus(ms)
	if ms.border.StrokeWidth <= choice(t, k.host, "Reception").border.StrokeWidth {
		t.Fatal("the focused choice looks like the others")
	}
	ms.TypedRune(' ')
	meeting := choice(t, k.purpose, "Meeting")
	c.Focus(meeting)
	meeting.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	if k.host.value() != "Ms Lee" || k.purpose.value() != "Meeting" || !ms.Selected() {
		t.Fatalf("chosen by keyboard: %q %q", k.host.value(), k.purpose.value())
	}
}

// TestFocusDoesNotOutliveItsScreen: a choice focused by one visitor is not
// focused on the next visitor's screen.
func TestFocusDoesNotOutliveItsScreen(t *testing.T) {
	r := newRig(t, &fakeEngine{}, Options{Venue: "Test Venue"})
	c := r.w.Canvas()
	r.showQR(qrURL("1"))
	r.e.publish(visitorConfirm(r.clock.Now().Add(time.Minute), false))
	c.FocusNext()
	if c.Focused() == nil {
		t.Fatal("nothing took the focus")
	}
	r.showQR(qrURL("2"))
	if c.Focused() != nil {
		t.Fatalf("the code screen keeps %T focused", c.Focused())
	}
}
