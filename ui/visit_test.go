package ui

import (
	"bytes"
	"image/color"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
	"github.com/go-text/typesetting/font"

	"ndikiosk/kiosk"
)

// TestCheckingScreenMoves: while Singpass is asked the screen says so in
// every language, a bar moves, and Cancel is neutral; the bar stops on
// every other screen (the code screen idles without animation).
func TestCheckingScreenMoves(t *testing.T) {
	r := newRig(t, &fakeEngine{}, Options{Venue: "Test Venue"})
	k := r.k
	if !k.busy.Running() {
		t.Fatal("no movement while the first code is prepared")
	}
	r.showQR(qrURL("1"))
	if k.busy.Running() {
		t.Fatal("the bar moves on the code screen")
	}
	want := map[string]string{"en": "Checking with Singpass…", "zh": "正在向 Singpass 核实…",
		"ms": "Menyemak dengan Singpass…", "ta": "Singpass மூலம் சரிபார்க்கிறது…"}
	for i, l := range Languages {
		test.Tap(k.langs[i])
		r.e.publish(kiosk.Screen{Phase: kiosk.PhaseChecking})
		if k.checkingText.Text != want[l.Code] || !k.busy.Running() || !k.busy.Visible() || k.cancel.Importance != widget.MediumImportance {
			t.Fatalf("%s: checking %q, bar running %v, cancel %v", l.Code, k.checkingText.Text, k.busy.Running(), k.cancel.Importance)
		}
		if l.Code != "en" && k.checkingDetail.Text == newTranslator().T("checking.detail") {
			t.Fatalf("%s: detail in English", l.Code)
		}
		r.e.publish(kiosk.Screen{Phase: kiosk.PhaseResult, Outcome: kiosk.OutcomeEligible, MinAge: 18, Until: r.clock.Now().Add(8 * time.Second)})
		if k.busy.Running() {
			t.Fatalf("%s: the bar moves behind a result", l.Code)
		}
		r.e.publish(kiosk.Screen{Phase: kiosk.PhaseChecking})
		r.showQR(qrURL("2"))
		if k.busy.Running() {
			t.Fatalf("%s: the bar moves on the code screen after a visit", l.Code)
		}
	}
	r.e.publish(kiosk.Screen{Phase: kiosk.PhaseChecking})
	r.e.publish(kiosk.Screen{Phase: kiosk.PhasePaused}) // staff came while Singpass was asked
	if k.busy.Running() || !k.checking.Visible() {
		t.Fatal("the bar moves while staff are at the admin screens")
	}
}

// TestResultClosesAtATap: a result says how long it stays, counts down,
// and a tap anywhere on it goes to the engine; the screen out of service
// (no end) offers neither.
func TestResultClosesAtATap(t *testing.T) {
	r := newRig(t, &fakeEngine{}, Options{Venue: "Test Venue"})
	k := r.k
	r.showQR(qrURL("1"))
	r.e.publish(kiosk.Screen{Phase: kiosk.PhaseResult, Outcome: kiosk.OutcomeEligible, MinAge: 18, Until: r.clock.Now().Add(8 * time.Second)})
	if k.resultClose.Text != "Tap to close · 8 s" {
		t.Fatalf("close hint %q", k.resultClose.Text)
	}
	r.clock.Add(2500 * time.Millisecond)
	k.everyTick()
	if k.resultClose.Text != "Tap to close · 6 s" {
		t.Fatalf("after 2.5 s: %q", k.resultClose.Text)
	}
	test.Tap(k.resultTap)
	if d, _ := r.e.answers(); d != 1 {
		t.Fatalf("the tap reached the engine %d times", d)
	}
	pos := fyne.CurrentApp().Driver().AbsolutePositionForObject(k.resultTitle).Add(fyne.NewPos(5, 5))
	test.TapCanvas(r.w.Canvas(), pos)
	if d, _ := r.e.answers(); d != 2 {
		t.Fatal("a tap on the headline did not reach the engine")
	}
	test.Tap(k.langs[1]) // a language chosen on the result: the hint follows
	if k.resultClose.Text != "轻触关闭 · 6 秒" {
		t.Fatalf("Chinese close hint %q", k.resultClose.Text)
	}
	oos := unavailable(time.Time{})
	r.e.publish(oos)
	if k.resultClose.Text != "" {
		t.Fatalf("out of service says %q", k.resultClose.Text)
	}
}

// TestOutcomesLookApart: not shared, age not confirmed, unavailable and
// check-out each have a colour and an icon of their own, apart from the
// pass and the refusal.
func TestOutcomesLookApart(t *testing.T) {
	r := newRig(t, &fakeEngine{}, Options{Venue: "Test Venue"})
	k := r.k
	colours := map[color.Color]kiosk.Outcome{}
	icons := map[string]kiosk.Outcome{}
	for _, out := range []kiosk.Outcome{kiosk.OutcomeEligible, kiosk.OutcomeNotEligible, kiosk.OutcomeDenied,
		kiosk.OutcomeCannotDecide, kiosk.OutcomeUnavailable, kiosk.OutcomeCheckedOut} {
		r.e.publish(kiosk.Screen{Phase: kiosk.PhaseResult, Outcome: out, MinAge: 18, Name: "TAN", Until: r.clock.Now().Add(8 * time.Second)})
		c, icon := k.resultBand.FillColor, k.resultIcon.Resource.Name()
		if other, dup := colours[c]; dup {
			t.Errorf("%s has the colour of %s", out, other)
		}
		if other, dup := icons[icon]; dup {
			t.Errorf("%s has the icon of %s", out, other)
		}
		colours[c], icons[icon] = out, out
	}
}

// TestCheckOutQuestion: the question in each language, with the name and
// the id's last characters, its seconds left, and both answers reaching
// the engine.
func TestCheckOutQuestion(t *testing.T) {
	r := newRig(t, &fakeEngine{}, Options{Venue: "Test Venue"})
	k := r.k
	c := k.checkOut
	tr := newTranslator()
	for i, l := range Languages {
		r.showQR(qrURL(l.Code))
		test.Tap(k.langs[i])
		r.e.publish(kiosk.Screen{Phase: kiosk.PhaseCheckOut, Name: "TAN AH KOW", MaskedID: "*****567D", Until: r.clock.Now().Add(time.Minute)})
		tr.set(l.Code)
		if !c.root.Visible() || k.result.Visible() || k.qrScreen.Visible() {
			t.Fatalf("%s: the question is not the screen shown", l.Code)
		}
		if c.title.Text != tr.T("checkout.title") || c.yes.Text != tr.T("checkout.yes") || c.no.Text != tr.T("checkout.no") ||
			c.detail.Text != tr.T("checkout.detail") {
			t.Fatalf("%s: %q %q %q", l.Code, c.title.Text, c.yes.Text, c.no.Text)
		}
		if l.Code != "en" && (c.title.Text == "Check out now?" || c.yes.Text == "Check out") {
			t.Fatalf("%s: the question is in English", l.Code)
		}
		if !strings.HasPrefix(c.who.Text, "TAN AH KOW · ") || !strings.Contains(c.who.Text, "…567D") {
			t.Fatalf("%s: whose question: %q", l.Code, c.who.Text)
		}
		if !strings.Contains(c.closes.Text, "60") {
			t.Fatalf("%s: seconds left %q", l.Code, c.closes.Text)
		}
	}
	r.clock.Add(15 * time.Second)
	k.everyTick()
	if !strings.Contains(c.closes.Text, "45") {
		t.Fatalf("after 15 s: %q", c.closes.Text)
	}
	test.Tap(c.no)
	test.Tap(c.yes)
	if _, answers := r.e.answers(); len(answers) != 2 || answers[0] || !answers[1] {
		t.Fatalf("answers %v", answers)
	}
}

// TestOperatorWordingByLanguage: the contact and alternative are the
// venue's for the screen's language, else the venue's one for all, else
// the kiosk's own in that language; never English on a Chinese, Malay or
// Tamil screen unless the venue wrote only English.
func TestOperatorWordingByLanguage(t *testing.T) {
	r := newRig(t, &fakeEngine{}, Options{Venue: "Test Venue"})
	k := r.k
	none := unavailable(r.clock.Now().Add(8 * time.Second))
	none.Contact, none.Alternative = "", ""
	none.Local = map[string]kiosk.Wording{"zh": {Contact: "前台职员", Alternative: "请到一楼柜台办理。"}}
	want := map[string][]string{
		"en": {"Please contact the venue staff", "Please approach the counter."},
		"zh": {"请联系前台职员", "请到一楼柜台办理。"},
		"ms": {"Sila hubungi kakitangan tempat ini", "Sila ke kaunter."},
		"ta": {"இடத்தின் ஊழியர்கள்", "தயவுசெய்து முகப்பு மேசையை அணுகவும்."},
	}
	for i, l := range Languages {
		r.showQR(qrURL(l.Code))
		test.Tap(k.langs[i])
		r.e.publish(none)
		for _, w := range want[l.Code] {
			if !strings.Contains(k.resultDetail.Text, w) {
				t.Errorf("%s: %q lacks %q", l.Code, k.resultDetail.Text, w)
			}
		}
		if l.Code != "en" && (strings.Contains(k.resultDetail.Text, "venue staff") || strings.Contains(k.resultDetail.Text, "counter")) {
			t.Errorf("%s: English in %q", l.Code, k.resultDetail.Text)
		}
	}
	// The venue's English is the fallback for a language it gave none for.
	venue := none
	venue.Contact, venue.Alternative = "the front desk", "Ask at the front desk."
	test.Tap(k.langs[2])
	r.e.publish(venue)
	if !strings.Contains(k.resultDetail.Text, "Sila hubungi the front desk") || !strings.Contains(k.resultDetail.Text, "Ask at the front desk.") {
		t.Errorf("Malay with the venue's English: %q", k.resultDetail.Text)
	}
	test.Tap(k.langs[1])
	if !strings.Contains(k.resultDetail.Text, "前台职员") || strings.Contains(k.resultDetail.Text, "front desk") {
		t.Errorf("Chinese with the venue's Chinese: %q", k.resultDetail.Text)
	}
	// The English defaults are the engine's (its log message says them).
	en := newTranslator()
	if en.T("local.contact") != kiosk.DefaultContact || en.T("local.alternative") != kiosk.DefaultAlternative {
		t.Errorf("English defaults %q %q differ from the engine's", en.T("local.contact"), en.T("local.alternative"))
	}
}

// TestBoldHeadlines: a bold headline in Chinese (no bold font exists for
// it) is drawn twice, the second a little to the right; in English it is
// not. Bold Tamil comes from the bundled bold font, which the theme puts
// first for bold text.
func TestBoldHeadlines(t *testing.T) {
	r := newRig(t, &fakeEngine{}, Options{Venue: "Test Venue"})
	k := r.k
	var title *emboldened
	for _, e := range k.bolds {
		if e.text == k.resultTitle {
			title = e
		}
	}
	if title == nil {
		t.Fatal("the result headline is not emboldened")
	}
	r.showQR(qrURL("1"))
	r.e.publish(kiosk.Screen{Phase: kiosk.PhaseResult, Outcome: kiosk.OutcomeEligible, MinAge: 18, Until: r.clock.Now().Add(8 * time.Second)})
	if title.shadow.Visible() {
		t.Fatal("an English headline is drawn twice")
	}
	test.Tap(k.langs[1])
	sh := title.shadow
	if !sh.Visible() || sh.Text != k.resultTitle.Text || sh.TextSize != k.resultTitle.TextSize ||
		sh.Position().X <= k.resultTitle.Position().X || sh.Position().Y != k.resultTitle.Position().Y {
		t.Fatalf("Chinese headline %q: shadow %v %q at %v, text at %v", k.resultTitle.Text, sh.Visible(), sh.Text, sh.Position(), k.resultTitle.Position())
	}
	test.Tap(k.langs[3])
	if sh.Visible() {
		t.Fatal("a Tamil headline is drawn twice: it has a bold font")
	}
	res := newTheme(20).Font(fyne.TextStyle{Bold: true})
	face, err := font.ParseTTF(bytes.NewReader(res.Content()))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range "தகுதி" {
		if _, ok := face.NominalGlyph(r); !ok {
			t.Fatalf("the bold font has no %q", r)
		}
	}
	if _, ok := face.NominalGlyph('A'); ok {
		t.Fatal("the bold Tamil font has Latin letters: they would not be drawn in Fyne's own face")
	}
	if newTheme(20).Font(fyne.TextStyle{}) == res {
		t.Fatal("regular text in the bold font")
	}

}
