package sandbox

import (
	"ndikiosk/ndi"
	"testing"
	"time"
)

func TestNRICCheckLetters(t *testing.T) {
	// Published examples of well-formed numbers.
	for _, c := range []struct {
		prefix byte
		digits string
		want   string
	}{{'S', "1234567", "S1234567D"}, {'T', "1234567", "T1234567J"}, {'F', "1234567", "F1234567N"}, {'G', "1234567", "G1234567X"}} {
		if got := nric(c.prefix, c.digits); got != c.want {
			t.Errorf("nric(%c, %s) = %s, want %s", c.prefix, c.digits, got, c.want)
		}
	}
}

func TestPersonas(t *testing.T) {
	now := time.Date(2026, 11, 22, 9, 0, 0, 0, ndi.SGT)
	ps := Personas(now)
	if len(ps) < 12 {
		t.Fatalf("%d personas, want at least 12", len(ps))
	}
	seen := map[string]bool{}
	byLabel := map[string]Persona{}
	for _, p := range ps {
		if seen[p.ID] || len(p.ID) != 9 || nric(p.ID[0], p.ID[1:8]) != p.ID {
			t.Errorf("persona %q has a duplicate or malformed id", p.Label)
		}
		seen[p.ID] = true
		byLabel[p.Label] = p
	}
	ages := map[string][2]int{ // label: age today, age yesterday
		"Turns 18 today":        {18, 17},
		"Turns 21 today":        {21, 20},
		"17, turns 18 tomorrow": {17, 17},
		"20, turns 21 tomorrow": {20, 20},
	}
	for label, want := range ages {
		p, ok := byLabel[label]
		if !ok {
			t.Fatalf("no persona %q", label)
		}
		today, _ := ndi.AgeOn(p.DOB, now)
		yesterday, _ := ndi.AgeOn(p.DOB, now.AddDate(0, 0, -1))
		if today != want[0] || yesterday != want[1] {
			t.Errorf("%s: %d today, %d yesterday; want %v", label, today, yesterday, want)
		}
	}
	if tomorrow, _ := ndi.AgeOn(byLabel["17, turns 18 tomorrow"].DOB, now.AddDate(0, 0, 1)); tomorrow != 18 {
		t.Errorf("turns 18 tomorrow: %d tomorrow", tomorrow)
	}
	if byLabel["Foreigner (FIN)"].ID[0] != 'G' || byLabel["Born 29 February"].DOB[5:] != "02-29" {
		t.Error("foreigner or leap-day persona is wrong")
	}
	info := byLabel["Date of birth unavailable"].myinfo([]string{"dob", "name", "mobileno"})
	p, err := ndi.ParsePerson(mustJSON(t, info))
	if err != nil || p.DOB.Present() || !p.DOB.Unavailable || p.MobileNo.Present() {
		t.Fatalf("unavailable dob persona: %+v %v", p, err)
	}
}
