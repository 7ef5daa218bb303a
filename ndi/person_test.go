package ndi

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

const samplePerson = `{
 "uinfin":{"lastupdated":"2020-04-16","source":"1","classification":"C","value":"S9812379B"},
 "partialuinfin":{"lastupdated":"2020-04-16","source":"1","classification":"C","value":"*****379B"},
 "name":{"lastupdated":"2020-04-16","source":"1","classification":"C","value":"TAN, AH KOW 100%"},
 "dob":{"lastupdated":"2020-04-16","source":"1","classification":"C","value":"1980-10-06"},
 "sex":{"lastupdated":"2020-04-16","code":"M","source":"1","classification":"C","desc":"MALE"},
 "mobileno":{"lastupdated":"2020-04-16","source":"2","classification":"C","areacode":{"value":"65"},"prefix":{"value":"+"},"nbr":{"value":"97399245"}},
 "regadd":{"country":{"code":"SG","desc":"SINGAPORE"},"unit":{"value":"128"},"street":{"value":"BEDOK NORTH AVENUE 4"},
   "lastupdated":"2020-04-16","block":{"value":"102"},"source":"1","postal":{"value":"460102"},"classification":"C",
   "floor":{"value":"09"},"type":"SG","building":{"value":"PEARL GARDEN"}},
 "email":{"unavailable":true},
 "drivinglicence":{"comstatus":{"code":"Y","desc":"ELIGIBLE"},"totaldemeritpoints":{"value":0},
   "qdl":{"validity":{"code":"V","desc":"VALID"},"expirydate":{"value":"2030-06-06"},"classes":[{"class":{"value":"2A"},"issuedate":{"value":"2010-06-06"}}]}},
 "cpfbalances":{"unavailable":true}
}`

func TestParsePerson(t *testing.T) {
	p, err := ParsePerson([]byte(samplePerson))
	if err != nil {
		t.Fatal(err)
	}
	checks := map[string][2]string{
		"name":    {p.Name.String(), "TAN, AH KOW 100%"},
		"sex":     {p.Sex.String(), "MALE"},
		"mobile":  {p.MobileNo.String(), "+65 97399245"},
		"address": {p.RegAdd.String(), "102 BEDOK NORTH AVENUE 4, #09-128, PEARL GARDEN, SINGAPORE 460102"},
		"masked":  {p.MaskedID(), "*****379B"},
		"points":  {string(p.DrivingLicence.TotalDemeritPoints.Value), "0"},
		"class":   {string(p.DrivingLicence.QDL.Classes[0].Class.Value), "2A"},
	}
	for name, c := range checks {
		if c[0] != c[1] {
			t.Errorf("%s = %q, want %q", name, c[0], c[1])
		}
	}
	if p.Email.Present() || !p.Email.Unavailable {
		t.Errorf("email should be unavailable: %+v", p.Email)
	}
	r := p.Redacted()
	b, _ := json.Marshal(r)
	if strings.Contains(string(b), "S9812379B") || !strings.Contains(string(b), "*****379B") {
		t.Errorf("redacted JSON leaks or lacks the id: %s", b)
	}
	if p.UINFIN.Value != "S9812379B" {
		t.Error("Redacted changed the original")
	}
	if strings.Contains(string(b), "hanyupinyinname") {
		t.Errorf("unreleased attributes in JSON: %s", b)
	}
}

func TestMaskedIDFromUINFIN(t *testing.T) {
	p := &Person{UINFIN: Item{Value: "G1612348Q"}}
	if got := p.MaskedID(); got != "*****348Q" {
		t.Fatalf("MaskedID = %q", got)
	}
	if got := (&Person{}).MaskedID(); got != "" {
		t.Fatalf("MaskedID with nothing released = %q", got)
	}
}

func TestParsePersonRejects(t *testing.T) {
	for _, s := range []string{``, `[]`, `{"name":"plain"}`, `{"dob":{"value":{}}}`, `{} {}`} {
		if _, err := ParsePerson([]byte(s)); !errors.Is(err, ErrBadResponse) {
			t.Errorf("%q: want ErrBadResponse, got %v", s, err)
		}
	}
}

func sgDate(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, SGT)
	if err != nil {
		panic(err)
	}
	return t
}

func TestAgeOn(t *testing.T) {
	cases := []struct {
		dob, on string
		age     int
		ok      bool
	}{
		{"2008-11-22", "2026-11-22 00:00", 18, true},
		{"2008-11-23", "2026-11-22 23:59", 17, true},
		{"2005-11-22", "2026-11-22 09:00", 21, true},
		{"2008-02-29", "2026-02-28 12:00", 17, true}, // common year: comes of age on 1 March
		{"2008-02-29", "2026-03-01 00:00", 18, true},
		{"2008-02-29", "2028-02-29 00:00", 20, true}, // leap year: on the day
		{"2008-02-29", "2028-02-28 00:00", 19, true},
		{"2030-01-01", "2026-11-22 00:00", 0, false},
		{"1980-10", "2026-11-22 00:00", 0, false},
		{"", "2026-11-22 00:00", 0, false},
	}
	for _, c := range cases {
		age, ok := AgeOn(c.dob, sgDate(c.on))
		if age != c.age || ok != c.ok {
			t.Errorf("AgeOn(%q, %s) = %d, %v; want %d, %v", c.dob, c.on, age, ok, c.age, c.ok)
		}
	}
	// Singapore's date, not UTC's: 16:30 UTC on the 21st is already the 22nd in Singapore.
	utc := time.Date(2026, 11, 21, 16, 30, 0, 0, time.UTC)
	if age, _ := AgeOn("2008-11-22", utc); age != 18 {
		t.Errorf("at %s UTC the person is 18 in Singapore, got %d", utc, age)
	}
}

func TestCheckAge(t *testing.T) {
	on := sgDate("2026-11-22 10:00")
	cases := []struct {
		p    Person
		want Age
	}{
		{Person{DOB: Item{Value: "2008-11-22"}}, AtLeast},
		{Person{DOB: Item{Value: "2008-11-23"}}, Below},
		{Person{}, CannotDecide},
		{Person{DOB: Item{Meta: Meta{Unavailable: true}}}, CannotDecide},
		{Person{DOB: Item{Value: "", Meta: Meta{Source: "3"}}}, CannotDecide},
		{Person{DOB: Item{Value: "garbage"}}, CannotDecide},
	}
	for i, c := range cases {
		if got := c.p.CheckAge(18, on); got != c.want {
			t.Errorf("case %d: CheckAge = %v, want %v", i, got, c.want)
		}
	}
}

func TestRedact(t *testing.T) {
	got := Redact("UIN S9812379B\nand t1234567j do not match", 200)
	if strings.Contains(got, "9812379") || strings.Contains(strings.ToLower(got), "1234567") || strings.Contains(got, "\n") {
		t.Fatalf("Redact left personal data: %q", got)
	}
	if got := Redact(strings.Repeat("x", 50), 10); len([]rune(got)) != 11 {
		t.Fatalf("Redact did not shorten: %q", got)
	}
}

func FuzzParsePerson(f *testing.F) {
	f.Add([]byte(samplePerson))
	f.Add([]byte(`{"dob":{"value":"2008-02-29"},"uinfin":{"value":1}}`))
	f.Add([]byte(`{"mobileno":{"nbr":{"value":"1"}},"regadd":{"line1":{"value":"x"}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParsePerson(data)
		if err != nil {
			if !errors.Is(err, ErrBadResponse) {
				t.Fatalf("untyped error: %v", err)
			}
			return
		}
		on := time.Date(2026, 11, 22, 0, 0, 0, 0, SGT)
		if age, ok := p.AgeOn(on); ok && age < 0 {
			t.Fatalf("negative age %d", age)
		}
		if p.CheckAge(18, on) == AtLeast && !p.DOB.Present() {
			t.Fatal("adult without a date of birth")
		}
		_ = p.MaskedID()
		_ = p.MobileNo.String()
		_ = p.RegAdd.String()
		if _, err := json.Marshal(p.Redacted()); err != nil {
			t.Fatalf("cannot marshal: %v", err)
		}
	})
}
