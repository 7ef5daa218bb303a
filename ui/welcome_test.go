package ui

import (
	"image"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"ndikiosk/kiosk"
)

// TestVisitorWelcome: in visitor mode the QR screen is the welcome: the
// venue's logo and name, "check in or check out", what is kept for
// retention_days, and "No Singpass?", in each of the four languages.
func TestVisitorWelcome(t *testing.T) {
	logo := filepath.Join(t.TempDir(), "logo.png")
	f, _ := os.Create(logo)
	png.Encode(f, image.NewGray(image.Rect(0, 0, 300, 100)))
	f.Close()
	r := newRig(t, &fakeEngine{}, Options{Venue: "Test Venue", Visitor: true, Logo: logo, RetentionDays: 45})
	k, c := r.k, r.w.Canvas()
	r.showQR(qrURL("1"))
	if !k.welcome.logo.Visible() || k.welcome.logo.Size().Height < 50 {
		t.Fatalf("the logo is not shown: %v", k.welcome.logo.Size())
	}
	tr := newTranslator()
	english := map[string]string{}
	for i, l := range Languages {
		test.Tap(k.langs[i])
		tr.set(l.Code)
		texts := strings.Join(drawnTexts(c), " ")
		for key, got := range map[string]string{
			"qr.visitor.caption":    k.qrCaption.Text,
			"qr.detail":             k.qrDetail.Text,
			"qr.visitor.privacy":    k.welcome.privacy.Text,
			"qr.visitor.nosingpass": k.welcome.noSingpass.Text,
		} {
			want := tr.T(key, "Days", "45")
			if got != want {
				t.Errorf("%s: %s is %q, want %q", l.Code, key, got, want)
			}
			if l.Code == "en" {
				english[key] = got
			} else if got == english[key] {
				t.Errorf("%s: %s is still English: %q", l.Code, key, got)
			}
			if first := strings.Fields(want)[0]; key != "qr.visitor.nosingpass" && !strings.Contains(texts, first) {
				t.Errorf("%s: %q is not drawn: %q", l.Code, first, texts)
			}
		}
		if !strings.Contains(k.welcome.privacy.Text, "45") {
			t.Errorf("%s: the notice does not say how long: %q", l.Code, k.welcome.privacy.Text)
		}
	}
	if !slices.Contains(drawnTexts(c), "Test Venue") {
		t.Errorf("the venue is not drawn: %q", drawnTexts(c))
	}

	// Age mode has none of it.
	age := newRig(t, &fakeEngine{}, Options{Venue: "Test Venue"})
	age.showQR(qrURL("1"))
	if age.k.welcome.screen != nil || age.k.qrCaption.Text != "Scan with Singpass app" {
		t.Fatalf("age mode: welcome %v, caption %q", age.k.welcome.screen != nil, age.k.qrCaption.Text)
	}
}

// TestNoSingpass: "No Singpass?" shows whom to see; the codes rotate behind
// it; it goes back to the code on a tap or by itself after a while, and a
// scan's screen replaces it.
func TestNoSingpass(t *testing.T) {
	for i, l := range Languages {
		r := newRig(t, &fakeEngine{}, Options{Venue: "Test Venue", Visitor: true, RetentionDays: 30})
		k := r.k
		var timers []func()
		k.welcome.closeIn = func(d time.Duration, f func()) {
			if d != noSingpassFor {
				t.Errorf("closes after %v", d)
			}
			timers = append(timers, f)
		}
		r.showQR(qrURL("1"))
		test.Tap(k.langs[i])
		test.Tap(k.welcome.noSingpass)
		tr := newTranslator()
		tr.set(l.Code)
		if !k.welcome.screen.Visible() || k.qrScreen.Visible() || k.welcome.title.Text != tr.T("nosingpass.title") ||
			k.welcome.back.Text != tr.T("nosingpass.back") {
			t.Fatalf("%s: the No-Singpass screen: shown %v, title %q", l.Code, k.welcome.screen.Visible(), k.welcome.title.Text)
		}
		if before, _, _ := strings.Cut(tr.T("nosingpass.detail"), "{{"); !strings.HasPrefix(k.welcome.detail.Text, before) {
			t.Errorf("%s: detail %q", l.Code, k.welcome.detail.Text)
		}
		// A new code behind it does not close it.
		r.showQR(qrURL("2"))
		if !k.welcome.screen.Visible() || k.qrScreen.Visible() {
			t.Fatalf("%s: a new code closed the No-Singpass screen", l.Code)
		}
		// By itself, after a while.
		timers[0]()
		if k.welcome.screen.Visible() || !k.qrScreen.Visible() {
			t.Fatalf("%s: the timer did not go back to the code", l.Code)
		}
		// On a tap; the old timer then does nothing to a newer opening.
		test.Tap(k.welcome.noSingpass)
		test.Tap(k.welcome.back)
		if k.welcome.screen.Visible() || !k.qrScreen.Visible() {
			t.Fatalf("%s: Back did not go back to the code", l.Code)
		}
		test.Tap(k.welcome.noSingpass)
		timers[1]()
		if !k.welcome.screen.Visible() {
			t.Fatalf("%s: an old timer closed a newer opening", l.Code)
		}
		// A scan's screen replaces it, and the code comes back after.
		r.e.publish(kiosk.Screen{Phase: kiosk.PhaseChecking})
		if k.welcome.screen.Visible() || !k.checking.Visible() {
			t.Fatalf("%s: a scan did not replace the No-Singpass screen", l.Code)
		}
		r.showQR(qrURL("3"))
		if k.welcome.screen.Visible() || !k.qrScreen.Visible() {
			t.Fatalf("%s: after the visit the code is not shown", l.Code)
		}
	}
}

// TestNoSingpassCallsStaff: on a hub's kiosk the tap alerts the staff and
// the screen says so, in every language; a standalone kiosk says nothing
// of the kind.
func TestNoSingpassCallsStaff(t *testing.T) {
	for i, l := range Languages {
		for _, calls := range []bool{true, false} {
			e := &fakeEngine{callsStaff: calls}
			r := newRig(t, e, Options{Venue: "Test Venue", Visitor: true, RetentionDays: 30})
			k := r.k
			k.welcome.closeIn = func(time.Duration, func()) {}
			r.showQR(qrURL("1"))
			test.Tap(k.langs[i])
			test.Tap(k.welcome.noSingpass)
			tr := newTranslator()
			tr.set(l.Code)
			said := strings.Contains(k.welcome.detail.Text, tr.T("nosingpass.called"))
			if e.staffCalls != 1 || said != calls {
				t.Errorf("%s, staff called %v: %d calls, says so %v: %q", l.Code, calls, e.staffCalls, said, k.welcome.detail.Text)
			}
		}
	}
}

// TestInvitedResult: a visitor checked in by invitation is told whom they
// are there to see, in every language; anyone else gets the usual words.
func TestInvitedResult(t *testing.T) {
	for i, l := range Languages {
		r := newRig(t, &fakeEngine{}, Options{Venue: "Test Venue", Visitor: true, RetentionDays: 30})
		k := r.k
		r.showQR(qrURL("1"))
		test.Tap(k.langs[i])
		tr := newTranslator()
		tr.set(l.Code)
		r.e.publish(kiosk.Screen{Phase: kiosk.PhaseResult, Outcome: kiosk.OutcomeCheckedIn, Name: "TAN AH KOW", Host: "Ms Lee",
			Until: r.clock.Now().Add(8 * time.Second)})
		if !strings.Contains(k.resultDetail.Text, "Ms Lee") || k.resultDetail.Text != tr.T("result.invited.detail", "Host", "Ms Lee") {
			t.Errorf("%s: invited detail %q", l.Code, k.resultDetail.Text)
		}
		r.e.publish(kiosk.Screen{Phase: kiosk.PhaseResult, Outcome: kiosk.OutcomeCheckedIn, Name: "TAN AH KOW",
			Until: r.clock.Now().Add(8 * time.Second)})
		if k.resultDetail.Text != tr.T("result.checkedin.detail") {
			t.Errorf("%s: detail %q", l.Code, k.resultDetail.Text)
		}
	}
}

// TestPrivacyNoticeOnHub: a hub's screen keeps nothing itself, and its
// notice says the venue's server keeps the visit, in every language.
func TestPrivacyNoticeOnHub(t *testing.T) {
	for _, onHub := range []bool{false, true} {
		r := newRig(t, &fakeEngine{}, Options{Venue: "Test Venue", Visitor: true, RetentionDays: 30, OnHub: onHub})
		r.showQR(qrURL("1"))
		tr := newTranslator()
		for i, l := range Languages {
			test.Tap(r.k.langs[i])
			tr.set(l.Code)
			want := tr.T("qr.visitor.privacy", "Days", "30")
			if onHub {
				want = tr.T("qr.visitor.privacy.hub", "Days", "30")
			}
			if r.k.welcome.privacy.Text != want || tr.T("qr.visitor.privacy", "Days", "30") == tr.T("qr.visitor.privacy.hub", "Days", "30") {
				t.Errorf("%s, on a hub %v: notice %q", l.Code, onHub, r.k.welcome.privacy.Text)
			}
		}
	}
}
