package ndi

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
	Source         Text `json:"source,omitzero"` // 1 government-verified, 2 user-provided, 3 not applicable, 4 Singpass-verified
	Classification Text `json:"classification,omitzero"`
	LastUpdated    Text `json:"lastupdated,omitzero"`
	Unavailable    bool `json:"unavailable,omitzero"`
}

// Item is a simple ({value}) or coded ({code, desc}) Myinfo attribute.
type Item struct {
	Meta
	Value Text `json:"value,omitzero"`
	Code  Text `json:"code,omitzero"`
	Desc  Text `json:"desc,omitzero"`
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
	Prefix   Item `json:"prefix,omitzero"`
	AreaCode Item `json:"areacode,omitzero"`
	Number   Item `json:"nbr,omitzero"`
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
	Type     Text `json:"type,omitzero"`
	Block    Item `json:"block,omitzero"`
	Building Item `json:"building,omitzero"`
	Floor    Item `json:"floor,omitzero"`
	Unit     Item `json:"unit,omitzero"`
	Street   Item `json:"street,omitzero"`
	Postal   Item `json:"postal,omitzero"`
	Country  Item `json:"country,omitzero"`
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
	Class     Item `json:"class,omitzero"`
	IssueDate Item `json:"issuedate,omitzero"`
}

// Licence is a provisional or qualified driving licence.
type Licence struct {
	Validity   Item           `json:"validity,omitzero"`
	ExpiryDate Item           `json:"expirydate,omitzero"`
	Classes    []LicenceClass `json:"classes,omitzero"`
}

// Period is a suspension, disqualification or revocation.
type Period struct {
	StartDate Item `json:"startdate,omitzero"`
	EndDate   Item `json:"enddate,omitzero"`
}

// DrivingLicence is the `drivinglicence` attribute.
type DrivingLicence struct {
	Meta
	COMStatus          Item    `json:"comstatus,omitzero"`
	TotalDemeritPoints Item    `json:"totaldemeritpoints,omitzero"`
	Suspension         Period  `json:"suspension,omitzero"`
	Disqualification   Period  `json:"disqualification,omitzero"`
	Revocation         Period  `json:"revocation,omitzero"`
	PDL                Licence `json:"pdl,omitzero"`
	QDL                Licence `json:"qdl,omitzero"`
	PhotoCardSerialNo  Item    `json:"photocardserialno,omitzero"`
}

// Person is the verified person data, one field per Verify attribute.
// Attributes that were not requested are zero.
type Person struct {
	UINFIN               Item           `json:"uinfin,omitzero"`
	PartialUINFIN        Item           `json:"partialuinfin,omitzero"`
	UUID                 Item           `json:"uuid,omitzero"`
	Name                 Item           `json:"name,omitzero"`
	AliasName            Item           `json:"aliasname,omitzero"`
	HanyuPinyinName      Item           `json:"hanyupinyinname,omitzero"`
	HanyuPinyinAliasName Item           `json:"hanyupinyinaliasname,omitzero"`
	MarriedName          Item           `json:"marriedname,omitzero"`
	Sex                  Item           `json:"sex,omitzero"`
	Race                 Item           `json:"race,omitzero"`
	SecondaryRace        Item           `json:"secondaryrace,omitzero"`
	DOB                  Item           `json:"dob,omitzero"`
	ResidentialStatus    Item           `json:"residentialstatus,omitzero"`
	Nationality          Item           `json:"nationality,omitzero"`
	BirthCountry         Item           `json:"birthcountry,omitzero"`
	PassportNumber       Item           `json:"passportnumber,omitzero"`
	PassType             Item           `json:"passtype,omitzero"`
	PassStatus           Item           `json:"passstatus,omitzero"`
	PassExpiryDate       Item           `json:"passexpirydate,omitzero"`
	MobileNo             Phone          `json:"mobileno,omitzero"`
	Email                Item           `json:"email,omitzero"`
	RegAdd               Address        `json:"regadd,omitzero"`
	Employment           Item           `json:"employment,omitzero"`
	DrivingLicence       DrivingLicence `json:"drivinglicence,omitzero"`

	subject string // the access token's sub: the UIN/FIN, whatever was requested
}

// Subject is the UIN/FIN (or uuid) the access token was issued for. It is
// set by Client.Exchange, kept in memory only, and never serialised.
func (p *Person) Subject() string { return p.subject }

// SetSubject records the UIN/FIN the person data was released for; providers
// other than Verify (and tests) use it.
func (p *Person) SetSubject(s string) { p.subject = s }

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
	c.subject = ""
	if c.UINFIN.Value != "" {
		c.UINFIN.Value = Text(MaskID(string(c.UINFIN.Value)))
	}
	if c.PassportNumber.Value != "" {
		c.PassportNumber.Value = Text(MaskID(string(c.PassportNumber.Value)))
	}
	return &c
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
