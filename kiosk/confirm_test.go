package kiosk

import (
	"slices"
	"testing"
	"time"

	"ndikiosk/ndi"
)

// A visitor who does not confirm in time is told so, and nothing of the
// visit is kept; the code comes back after the result's time.
func TestConfirmTimeoutSaysSo(t *testing.T) {
	r := newRig(t, func(c *EngineConfig) { c.Mode = ModeVisitor }, nil)
	r.qr(t)
	r.scan(t)
	confirm := r.waitPhase(t, PhaseConfirm)
	r.clock.Add(confirm.Until.Add(-time.Second).Sub(r.clock.Now()))
	r.e.Step()
	if s := r.e.Screen(); s.Phase != PhaseConfirm {
		t.Fatalf("a second before the timeout: %+v", s)
	}
	r.clock.Add(confirm.Until.Sub(r.clock.Now()))
	r.e.Step()
	s := r.waitPhase(t, PhaseResult)
	if s.Outcome != OutcomeTimedOut || s.Name != "" || s.MaskedID != "" || len(s.Particulars) != 0 {
		t.Fatalf("after the timeout: %+v", s)
	}
	if err := r.e.Confirm("Ms Lee", "Meeting"); err == nil {
		t.Fatal("a timed-out visit could still be confirmed")
	}
	r.clock.Add(s.Until.Sub(r.clock.Now()))
	r.e.Step()
	r.waitPhase(t, PhaseQR)
	r.e.Close()
	if len(r.store.visits) != 0 {
		t.Fatalf("a timed-out visit was stored: %+v", r.store.visits)
	}
}

func TestParticularsMaskTheMobileNumber(t *testing.T) {
	phone := func(prefix, area, nbr string) ndi.Phone {
		return ndi.Phone{Prefix: ndi.Item{Value: ndi.Text(prefix)}, AreaCode: ndi.Item{Value: ndi.Text(area)}, Number: ndi.Item{Value: ndi.Text(nbr)}}
	}
	cases := []struct {
		phone ndi.Phone
		want  string
	}{
		{phone("+", "65", "97399245"), "+65 ****9245"},
		{phone("", "65", "97399245"), "+65 ****9245"},
		{phone("", "", "97399245"), "****9245"},
		{phone("+", "65", "123456"), "+65 ****56"}, // short: as much hidden as shown, at least
		{phone("+", "65", "1234"), "+65 ****"},
		{ndi.Phone{}, "—"},
	}
	for _, c := range cases {
		p := adult()
		p.MobileNo = c.phone
		got := Particulars(p, []string{"name", "mobileno"})
		if len(got) != 2 || got[1].Attribute != "mobileno" || got[1].Value != c.want {
			t.Errorf("%+v: %+v, want %q", c.phone, got, c.want)
		}
		if slices.ContainsFunc(got, func(q Particular) bool { return q.Value == c.phone.String() && c.phone.Present() }) {
			t.Errorf("the full number %q is on screen", c.phone.String())
		}
	}
}
