package verify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Text is a Myinfo value: usually a JSON string, sometimes a number or a
// boolean; all are kept as text.
type Text string

// UnmarshalJSON accepts a string, number, boolean or null.
func (t *Text) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*t = ""
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*t = Text(s)
	case string(b) == "true" || string(b) == "false":
		*t = Text(b)
	default:
		if _, err := strconv.ParseFloat(string(b), 64); err != nil {
			return fmt.Errorf("value %.20s is neither text nor a number", b)
		}
		*t = Text(b)
	}
	return nil
}

// Meta is the provenance every Myinfo item carries.
type Meta struct {
	Source         Text `json:"source"` // 1 government-verified, 2 user-provided, 3 not applicable, 4 Singpass-verified
	Classification Text `json:"classification"`
	LastUpdated    Text `json:"lastupdated"`
	Unavailable    bool `json:"unavailable"`
}

// Item is a simple ({value}) or coded ({code, desc}) Myinfo attribute.
type Item struct {
	Meta
	Value Text `json:"value"`
	Code  Text `json:"code"`
	Desc  Text `json:"desc"`
}

// Present reports whether the item holds a usable value: not unavailable,
// and not the empty "not applicable" form.
func (i Item) Present() bool {
	return !i.Unavailable && (i.Value != "" || i.Code != "")
}

// String is the value, or the description of a coded item.
func (i Item) String() string {
	if i.Value != "" {
		return string(i.Value)
	}
	return string(i.Desc)
}

// Phone is the `mobileno` attribute.
type Phone struct {
	Meta
	Prefix   Item `json:"prefix"`
	AreaCode Item `json:"areacode"`
	Number   Item `json:"nbr"`
}

// Present reports whether a number is there.
func (p Phone) Present() bool { return !p.Unavailable && p.Number.Value != "" }

// String renders the number as +65 91234567.
func (p Phone) String() string {
	if !p.Present() {
		return ""
	}
	prefix := string(p.Prefix.Value)
	if prefix == "" {
		prefix = "+"
	}
	if p.AreaCode.Value == "" {
		return string(p.Number.Value)
	}
	return prefix + string(p.AreaCode.Value) + " " + string(p.Number.Value)
}

// Address is the `regadd` attribute: a structured Singapore address
// (type SG) or free lines (type Unformatted).
type Address struct {
	Meta
	Type     Text `json:"type"`
	Block    Item `json:"block"`
	Building Item `json:"building"`
	Floor    Item `json:"floor"`
	Unit     Item `json:"unit"`
	Street   Item `json:"street"`
	Postal   Item `json:"postal"`
	Country  Item `json:"country"`
	Line1    Item `json:"line1"`
	Line2    Item `json:"line2"`
}

// Present reports whether an address is there.
func (a Address) Present() bool {
	return !a.Unavailable && (a.Street.Value != "" || a.Postal.Value != "" || a.Line1.Value != "")
}

// String renders the address on one line.
func (a Address) String() string {
	if !a.Present() {
		return ""
	}
	var parts []string
	add := func(s string) {
		if s = strings.TrimSpace(s); s != "" {
			parts = append(parts, s)
		}
	}
	if a.Line1.Value != "" {
		add(string(a.Line1.Value))
		add(string(a.Line2.Value))
	} else {
		add(strings.TrimSpace(string(a.Block.Value) + " " + string(a.Street.Value)))
		if a.Floor.Value != "" || a.Unit.Value != "" {
			add("#" + string(a.Floor.Value) + "-" + string(a.Unit.Value))
		}
		add(string(a.Building.Value))
	}
	add(strings.TrimSpace(a.Country.String() + " " + string(a.Postal.Value)))
	return strings.Join(parts, ", ")
}

// LicenceClass is one class on a driving licence.
type LicenceClass struct {
	Class     Item `json:"class"`
	IssueDate Item `json:"issuedate"`
}

// Licence is a provisional or qualified driving licence.
type Licence struct {
	Validity   Item           `json:"validity"`
	ExpiryDate Item           `json:"expirydate"`
	Classes    []LicenceClass `json:"classes"`
}

// Period is a suspension, disqualification or revocation.
type Period struct {
	StartDate Item `json:"startdate"`
	EndDate   Item `json:"enddate"`
}

// DrivingLicence is the `drivinglicence` attribute.
type DrivingLicence struct {
	Meta
	COMStatus          Item    `json:"comstatus"`
	TotalDemeritPoints Item    `json:"totaldemeritpoints"`
	Suspension         Period  `json:"suspension"`
	Disqualification   Period  `json:"disqualification"`
	Revocation         Period  `json:"revocation"`
	PDL                Licence `json:"pdl"`
	QDL                Licence `json:"qdl"`
	PhotoCardSerialNo  Item    `json:"photocardserialno"`
}

// Person is the verified person data, one field per Verify attribute.
// Attributes that were not requested are zero.
type Person struct {
	UINFIN               Item           `json:"uinfin"`
	PartialUINFIN        Item           `json:"partialuinfin"`
	UUID                 Item           `json:"uuid"`
	Name                 Item           `json:"name"`
	AliasName            Item           `json:"aliasname"`
	HanyuPinyinName      Item           `json:"hanyupinyinname"`
	HanyuPinyinAliasName Item           `json:"hanyupinyinaliasname"`
	MarriedName          Item           `json:"marriedname"`
	Sex                  Item           `json:"sex"`
	Race                 Item           `json:"race"`
	SecondaryRace        Item           `json:"secondaryrace"`
	DOB                  Item           `json:"dob"`
	ResidentialStatus    Item           `json:"residentialstatus"`
	Nationality          Item           `json:"nationality"`
	BirthCountry         Item           `json:"birthcountry"`
	PassportNumber       Item           `json:"passportnumber"`
	PassType             Item           `json:"passtype"`
	PassStatus           Item           `json:"passstatus"`
	PassExpiryDate       Item           `json:"passexpirydate"`
	MobileNo             Phone          `json:"mobileno"`
	Email                Item           `json:"email"`
	RegAdd               Address        `json:"regadd"`
	Employment           Item           `json:"employment"`
	DrivingLicence       DrivingLicence `json:"drivinglicence"`
}

// Attributes lists every attribute Verify can release (data catalogue).
var Attributes = []string{
	"uinfin", "partialuinfin", "uuid", "name", "aliasname", "hanyupinyinname", "hanyupinyinaliasname",
	"marriedname", "sex", "race", "secondaryrace", "dob", "residentialstatus", "nationality", "birthcountry",
	"passportnumber", "passtype", "passstatus", "passexpirydate", "mobileno", "email", "regadd",
	"employment", "drivinglicence",
}

// KnownAttribute reports whether name is a Verify attribute.
func KnownAttribute(name string) bool {
	for _, a := range Attributes {
		if a == name {
			return true
		}
	}
	return false
}

// ParsePerson decodes person JSON. Attributes it does not know are ignored.
func ParsePerson(data []byte) (*Person, error) {
	var p Person
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("%w: person JSON: %v", ErrBadResponse, Redact(err.Error(), 120))
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: trailing data after the person JSON", ErrBadResponse)
	}
	return &p, nil
}

// MaskID masks all but the last four characters of an identifier, the way
// Verify's partialuinfin does (*****567A).
func MaskID(id string) string {
	r := []rune(id)
	if len(r) <= 4 {
		return strings.Repeat("*", len(r))
	}
	return strings.Repeat("*", len(r)-4) + string(r[len(r)-4:])
}

// MaskedID is the identifier that may be shown and logged: partialuinfin as
// Singpass gave it, or the masked uinfin; empty when neither was released.
func (p *Person) MaskedID() string {
	if p.PartialUINFIN.Present() {
		return string(p.PartialUINFIN.Value)
	}
	if p.UINFIN.Present() {
		return MaskID(string(p.UINFIN.Value))
	}
	return ""
}

// Redacted returns a copy fit for display and logs: the full UIN/FIN and the
// passport number are masked.
func (p *Person) Redacted() *Person {
	c := *p
	if c.UINFIN.Value != "" {
		c.UINFIN.Value = Text(MaskID(string(c.UINFIN.Value)))
	}
	if c.PassportNumber.Value != "" {
		c.PassportNumber.Value = Text(MaskID(string(c.PassportNumber.Value)))
	}
	return &c
}

// MarshalJSON writes only the attributes that were released.
func (p *Person) MarshalJSON() ([]byte, error) {
	type plain Person
	b, err := json.Marshal((*plain)(p))
	if err != nil {
		return nil, err
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(b, &all); err != nil {
		return nil, err
	}
	for k, v := range all {
		if isZeroJSON(v) {
			delete(all, k)
		}
	}
	return json.Marshal(all)
}

func isZeroJSON(v json.RawMessage) bool {
	var x any
	if json.Unmarshal(v, &x) != nil {
		return false
	}
	return zero(x)
}

func zero(x any) bool {
	switch v := x.(type) {
	case nil:
		return true
	case string:
		return v == ""
	case bool:
		return !v
	case []any:
		return len(v) == 0
	case map[string]any:
		for _, e := range v {
			if !zero(e) {
				return false
			}
		}
		return true
	}
	return false
}

// SGT is Singapore time; it has been UTC+8 without daylight saving since 1982.
var SGT = time.FixedZone("SGT", 8*60*60)

// Age is the outcome of an age check.
type Age int

// Age outcomes. CannotDecide is never treated as old enough.
const (
	CannotDecide Age = iota
	Below
	AtLeast
)

func (a Age) String() string {
	switch a {
	case Below:
		return "below"
	case AtLeast:
		return "at-least"
	}
	return "cannot-decide"
}

// AgeOn returns the person's age in whole years on the calendar day of t in
// Singapore. ok is false when dob is missing, unavailable, partial, or after t.
// Someone born on 29 February comes of age on 1 March in common years.
func (p *Person) AgeOn(t time.Time) (years int, ok bool) {
	if !p.DOB.Present() {
		return 0, false
	}
	return AgeOn(string(p.DOB.Value), t)
}

// AgeOn computes the age for a YYYY-MM-DD date of birth; see Person.AgeOn.
func AgeOn(dob string, t time.Time) (int, bool) {
	b, err := time.Parse("2006-01-02", dob)
	if err != nil {
		return 0, false
	}
	y, m, d := t.In(SGT).Date()
	by, bm, bd := b.Date()
	if bm == time.February && bd == 29 && !isLeap(y) {
		bm, bd = time.March, 1
	}
	age := y - by
	if m < bm || m == bm && d < bd {
		age--
	}
	if age < 0 {
		return 0, false
	}
	return age, true
}

// CheckAge decides whether the person is at least min years old on t.
func (p *Person) CheckAge(min int, t time.Time) Age {
	age, ok := p.AgeOn(t)
	switch {
	case !ok:
		return CannotDecide
	case age >= min:
		return AtLeast
	}
	return Below
}

func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }
