package ui

import (
	"slices"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"github.com/skip2/go-qrcode"

	"ndikiosk/kiosk"
)

const signURL = "https://staging.sign.singpass.gov.sg/sign/signv3-6f1c2c62-45a4-4b1e-9d0e-0c1d2e3f4a5b"

// The sign screen, in each language: the agreement's title as the venue
// named it, the instruction, a code that carries the signing URL as large
// as the screen's middle allows, the seconds left, and Cancel.
func TestSignScreen(t *testing.T) {
	captions := map[string]string{"en": "Scan with your phone camera to sign", "zh": "请用手机相机扫描以签署",
		"ms": "Imbas dengan kamera telefon anda untuk menandatangani", "ta": "கையொப்பமிட உங்கள் கைபேசி கேமராவால் ஸ்கேன் செய்யவும்"}
	lefts := map[string]string{"en": "180 s left", "zh": "剩余 180 秒", "ms": "180 s lagi", "ta": "இன்னும் 180 வி"}
	want, err := qrcode.New(signURL, qrcode.Medium)
	if err != nil {
		t.Fatal(err)
	}
	want.DisableBorder = true
	for _, l := range Languages {
		t.Run(l.Code, func(t *testing.T) {
			r := newRig(t, &fakeEngine{}, Options{Visitor: true})
			k := r.k
			r.showQR(qrURL("1"))
			k.setLanguage(l.Code)
			r.e.publish(kiosk.Screen{Phase: kiosk.PhaseSign, SignURL: signURL, DocName: "House rules 场地守则",
				Until: r.clock.Now().Add(3 * time.Minute)})
			s := k.sign
			if !s.root.Visible() || k.result.Visible() || k.checking.Visible() {
				t.Fatal("the sign screen is not the one shown")
			}
			if s.title.Text != "House rules 场地守则" || s.caption.Text != captions[l.Code] || s.left.Text != lefts[l.Code] {
				t.Fatalf("texts %q %q %q", s.title.Text, s.caption.Text, s.left.Text)
			}
			if !slices.EqualFunc(s.bits, want.Bitmap(), slices.Equal) {
				t.Fatal("the code does not carry the signing URL")
			}
			if side := s.image.Size().Width; side < 350 || s.image.Image == nil || s.px < 4 {
				t.Fatalf("the code is %v units, %d px a module: too small to scan at arm's length", side, s.px)
			}
			r.clock.Add(61 * time.Second)
			k.everyTick()
			if want := map[string]string{"en": "119 s left"}[l.Code]; want != "" && s.left.Text != want {
				t.Fatalf("countdown %q", s.left.Text)
			}
			test.Tap(s.cancel)
			if cancels, _, _ := r.e.taps(); cancels != 1 {
				t.Fatalf("Cancel sent %d cancels", cancels)
			}
		})
	}
}

// The signing step's results, in each language: not signed (and the
// unavailable wording), and checked in without a signature.
func TestSignResults(t *testing.T) {
	titles := map[string]string{"en": "Not signed", "zh": "未签署", "ms": "Tidak ditandatangani", "ta": "கையொப்பமிடப்படவில்லை"}
	details := map[string][3]string{
		"en": {"You are not checked in. Please see staff.", "Signing is not available right now. You are not checked in. Please see staff.",
			"The agreement was not signed. Please see staff."},
		"zh": {"您尚未登记入场。请联系工作人员。", "目前无法签署。您尚未登记入场。请联系工作人员。", "协议未签署。请联系工作人员。"},
		"ms": {"Anda belum didaftar masuk. Sila berjumpa kakitangan.",
			"Tandatangan tidak tersedia sekarang. Anda belum didaftar masuk. Sila berjumpa kakitangan.",
			"Perjanjian tidak ditandatangani. Sila berjumpa kakitangan."},
		"ta": {"நீங்கள் பதிவு செய்யப்படவில்லை. ஊழியர்களை அணுகவும்.",
			"இப்போது கையொப்பமிட இயலாது. நீங்கள் பதிவு செய்யப்படவில்லை. ஊழியர்களை அணுகவும்.",
			"ஒப்பந்தம் கையொப்பமிடப்படவில்லை. ஊழியர்களை அணுகவும்."},
	}
	for _, l := range Languages {
		r := newRig(t, &fakeEngine{}, Options{Visitor: true})
		k := r.k
		r.showQR(qrURL("1"))
		k.setLanguage(l.Code)
		until := r.clock.Now().Add(8 * time.Second)
		for i, s := range []kiosk.Screen{
			{Phase: kiosk.PhaseResult, Outcome: kiosk.OutcomeNotSigned, Reason: kiosk.SignDeclined, Until: until},
			{Phase: kiosk.PhaseResult, Outcome: kiosk.OutcomeNotSigned, Reason: kiosk.SignUnavailable, Until: until},
			{Phase: kiosk.PhaseResult, Outcome: kiosk.OutcomeCheckedIn, Reason: kiosk.SignTimedOut, Name: "TAN AH KOW", Until: until},
		} {
			r.e.publish(s)
			if k.resultDetail.Text != details[l.Code][i] {
				t.Errorf("%s %d: detail %q", l.Code, i, k.resultDetail.Text)
			}
			if i < 2 && k.resultTitle.Text != titles[l.Code] {
				t.Errorf("%s %d: title %q", l.Code, i, k.resultTitle.Text)
			}
		}
		// A checked-in visitor who signed sees the usual welcome.
		r.e.publish(kiosk.Screen{Phase: kiosk.PhaseResult, Outcome: kiosk.OutcomeCheckedIn, Name: "TAN AH KOW", Until: until})
		if k.resultDetail.Text == details[l.Code][2] {
			t.Errorf("%s: a signed visit says it was not signed", l.Code)
		}
	}
}
