package sandbox

import (
	"crypto/sha256"
	"fmt"
	"ndikiosk/ndi"
	"strconv"
	"time"
)

// Persona is a made-up person the sandbox can release. Identity numbers have
// valid check letters but belong to no one.
type Persona struct {
	ID                string // NRIC or FIN
	Label             string // what testers see on the phone page
	Name              string
	HanyuPinyinName   string
	AliasName         string
	DOB               string // YYYY-MM-DD; empty: not available in Myinfo
	DOBUnavailable    bool   // the item comes back {"unavailable": true}
	Sex               string // M, F, U
	Race              string // Myinfo race code
	Nationality       string // Myinfo nationality code
	ResidentialStatus string // C citizen, P PR, "" foreigner
	PassType          string // foreigners only
	Mobile            string
	Email             string
	Postal            string
	Street            string
	Block             string
	NoProfile         bool   // Singpass account without Myinfo data: person API 404
	Fault             string // a fault every scan of this persona gets
	Face              string // the Face service's answer for this persona: FaceMatch (default), FaceNoMatch, …
}

// Personas returns the sandbox's people, with ages that hold on the
// Singapore date of now (someone turns 18 today, someone 21 today).
func Personas(now time.Time) []Persona {
	today := now.In(ndi.SGT)
	yearsAgo := func(years, days int) string {
		return today.AddDate(-years, 0, -days).Format("2006-01-02")
	}
	return []Persona{
		{ID: nric('S', "8503142"), Label: "Adult citizen", Name: "TAN WEI MING", HanyuPinyinName: "CHEN WEI MING", DOB: "1985-03-14", Sex: "M", Race: "CN", Nationality: "SG", ResidentialStatus: "C", Mobile: "91234567", Email: "weiming.tan@example.com", Block: "102", Street: "BEDOK NORTH AVENUE 4", Postal: "460102"},
		{ID: nric('S', "9207015"), Label: "Adult citizen", Name: "SITI NURHALIZA BINTE AHMAD", DOB: "1992-07-01", Sex: "F", Race: "MY", Nationality: "SG", ResidentialStatus: "C", Mobile: "82345678", Email: "siti.ahmad@example.com", Block: "35", Street: "MARSILING DRIVE", Postal: "730035"},
		{ID: nric('S', "7811230"), Label: "Adult permanent resident", Face: FaceNoMatch, Name: "RAJESH KUMAR S/O SUBRAMANIAM", DOB: "1978-11-23", Sex: "M", Race: "IN", Nationality: "IN", ResidentialStatus: "P", Mobile: "93456789", Email: "rajesh.kumar@example.com", Block: "7", Street: "SERANGOON NORTH AVENUE 1", Postal: "550007"},
		{ID: nric('T', "0812345"), Label: "Turns 18 today", Name: "LIM JIA HUI", DOB: yearsAgo(18, 0), Sex: "F", Race: "CN", Nationality: "SG", ResidentialStatus: "C", Mobile: "84567890"},
		{ID: nric('T', "0554321"), Label: "Turns 21 today", Name: "ONG KAI XUAN", DOB: yearsAgo(21, 0), Sex: "M", Race: "CN", Nationality: "SG", ResidentialStatus: "C", Mobile: "85678901"},
		{ID: nric('T', "0998877"), Label: "17, turns 18 tomorrow", Name: "NUR AISYAH BINTE RAHMAN", DOB: yearsAgo(18, -1), Sex: "F", Race: "MY", Nationality: "SG", ResidentialStatus: "C"},
		{ID: nric('T', "0911223"), Label: "17 years old", Name: "CHEN JUN JIE", DOB: yearsAgo(17, 100), Sex: "M", Race: "CN", Nationality: "SG", ResidentialStatus: "C"},
		{ID: nric('T', "0233445"), Label: "20, turns 21 tomorrow", Name: "PRIYA D/O RAMASAMY", DOB: yearsAgo(21, -1), Sex: "F", Race: "IN", Nationality: "SG", ResidentialStatus: "C"},
		{ID: nric('G', "5512347"), Label: "Foreigner (FIN)", Face: FaceNotRegistered, Name: "MARIA CLARA SANTOS", DOB: "1990-05-17", Sex: "F", Race: "XX", Nationality: "PH", PassType: "RPass", Mobile: "86789012", Email: "maria.santos@example.com"},
		{ID: nric('S', "0800229"), Label: "Born 29 February", Name: "AHMAD BIN YUSOF", DOB: "2008-02-29", Sex: "M", Race: "MY", Nationality: "SG", ResidentialStatus: "C"},
		{ID: nric('S', "8844551"), Label: "No date of birth on record", Name: "KUMAR RAJAN", Sex: "M", Race: "IN", Nationality: "SG", ResidentialStatus: "C"},
		{ID: nric('S', "8844552"), Label: "Date of birth unavailable", Name: "GOH BOON KIAT", DOBUnavailable: true, Sex: "M", Race: "CN", Nationality: "SG", ResidentialStatus: "C"},
		{ID: nric('S', "6012345"), Label: "Very long name", Face: FaceDown, Name: "VENKATA NARASIMHA RAJUVARIPET SRINIVASAN S/O ABHAYANANDA KRISHNAMURTHY", DOB: "1960-05-17", Sex: "M", Race: "IN", Nationality: "SG", ResidentialStatus: "C"},
		{ID: nric('S', "7002468"), Label: "Comma and percent in name", Name: "TAN, AH KOW 100% (JOHN)", DOB: "1970-01-31", Sex: "M", Race: "CN", Nationality: "SG", ResidentialStatus: "C"},
		{ID: nric('S', "8801357"), Label: "Chinese script name", Name: "陈美玲", HanyuPinyinName: "CHEN MEI LING", DOB: "1988-08-08", Sex: "F", Race: "CN", Nationality: "SG", ResidentialStatus: "C", Mobile: "87890123"},
		{ID: nric('S', "8905432"), Label: "Tamil script name", Name: "கார்த்திகேயன் முருகன்", AliasName: "KARTHIKEYAN MURUGAN", DOB: "1989-04-14", Sex: "M", Race: "IN", Nationality: "SG", ResidentialStatus: "C"},
		{ID: nric('S', "9900001"), Label: "Singpass user without a Myinfo profile", Name: "NO PROFILE", NoProfile: true},
	}
}

// nric appends the check letter to a prefix and seven digits.
func nric(prefix byte, digits string) string {
	weights := [7]int{2, 7, 6, 5, 4, 3, 2}
	sum := 0
	for i := 0; i < 7; i++ {
		d, _ := strconv.Atoi(digits[i : i+1])
		sum += d * weights[i]
	}
	if prefix == 'T' || prefix == 'G' {
		sum += 4
	}
	table := "JZIHGFEDCBA"
	if prefix == 'F' || prefix == 'G' {
		table = "XWUTRQPNMLK"
	}
	return string(prefix) + digits + string(table[sum%11])
}

var raceDesc = map[string]string{"CN": "CHINESE", "MY": "MALAY", "IN": "INDIAN", "XX": "OTHERS"}
var countryDesc = map[string]string{"SG": "SINGAPORE CITIZEN", "IN": "INDIAN", "PH": "FILIPINO"}
var sexDesc = map[string]string{"M": "MALE", "F": "FEMALE", "U": "UNKNOWN"}
var statusDesc = map[string]string{"C": "CITIZEN", "P": "PR", "": ""}

// myinfo renders the requested attributes in Myinfo v3's envelope shapes.
func (p Persona) myinfo(attrs []string) map[string]any {
	meta := func(v map[string]any) map[string]any {
		v["source"] = "1"
		v["classification"] = "C"
		v["lastupdated"] = "2026-01-15"
		return v
	}
	value := func(s string) map[string]any {
		if s == "" {
			return map[string]any{"value": "", "source": "3", "classification": "C", "lastupdated": "2026-01-15"}
		}
		return meta(map[string]any{"value": s})
	}
	coded := func(code string, desc map[string]string) map[string]any {
		return meta(map[string]any{"code": code, "desc": desc[code]})
	}
	plain := map[string]string{"uinfin": p.ID, "partialuinfin": ndi.MaskID(p.ID), "uuid": uuidFor(p.ID), "name": p.Name,
		"aliasname": p.AliasName, "hanyupinyinname": p.HanyuPinyinName, "email": p.Email}
	out := map[string]any{}
	for _, a := range attrs {
		if v, ok := plain[a]; ok {
			out[a] = value(v)
			continue
		}
		switch a {
		case "dob":
			if p.DOBUnavailable {
				out[a] = map[string]any{"unavailable": true}
			} else {
				out[a] = value(p.DOB)
			}
		case "sex":
			out[a] = coded(p.Sex, sexDesc)
		case "race":
			out[a] = coded(p.Race, raceDesc)
		case "nationality":
			out[a] = coded(p.Nationality, countryDesc)
		case "residentialstatus":
			out[a] = coded(p.ResidentialStatus, statusDesc)
		case "passtype":
			out[a] = coded(p.PassType, map[string]string{"RPass": "Work Permit", "EP": "Employment Pass"})
		case "mobileno":
			if p.Mobile == "" {
				out[a] = meta(map[string]any{"prefix": map[string]any{"value": ""}, "areacode": map[string]any{"value": ""}, "nbr": map[string]any{"value": ""}})
			} else {
				out[a] = meta(map[string]any{"prefix": map[string]any{"value": "+"}, "areacode": map[string]any{"value": "65"}, "nbr": map[string]any{"value": p.Mobile}})
			}
		case "regadd":
			if p.Postal == "" {
				out[a] = map[string]any{"unavailable": true}
			} else {
				out[a] = meta(map[string]any{"type": "SG", "country": map[string]any{"code": "SG", "desc": "SINGAPORE"},
					"block": map[string]any{"value": p.Block}, "street": map[string]any{"value": p.Street},
					"postal": map[string]any{"value": p.Postal}, "floor": map[string]any{"value": ""}, "unit": map[string]any{"value": ""},
					"building": map[string]any{"value": ""}})
			}
		default:
			out[a] = value("")
		}
	}
	return out
}

func uuidFor(id string) string {
	h := sha256.Sum256([]byte("ndikiosk-sandbox:" + id))
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}
