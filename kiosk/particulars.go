package kiosk

import (
	"strings"

	"ndikiosk/ndi"
)

var attributeLabels = map[string]string{
	"name": "Name", "aliasname": "Alias", "hanyupinyinname": "Hanyu Pinyin name", "hanyupinyinaliasname": "Hanyu Pinyin alias",
	"marriedname": "Married name", "partialuinfin": "NRIC/FIN", "uinfin": "NRIC/FIN", "user.identity": "NRIC/FIN", "uuid": "Singpass UUID",
	"sex": "Sex", "race": "Race", "secondaryrace": "Secondary race", "dob": "Date of birth",
	"residentialstatus": "Residential status", "nationality": "Nationality", "birthcountry": "Country of birth",
	"passportnumber": "Passport number", "passtype": "Pass type", "passstatus": "Pass status",
	"passexpirydate": "Pass expiry date", "mobileno": "Mobile number", "email": "Email", "regadd": "Registered address",
	"employment": "Employer", "drivinglicence": "Driving licence",
}

// Particulars lists what Singpass released, in the order it was requested,
// as received; the full UIN/FIN and passport number are masked, and so is
// the mobile number but for its last four digits: the confirm screen is
// read by whoever stands behind the visitor too.
func Particulars(p *ndi.Person, attributes []string) []Particular {
	r := p.Redacted()
	items := map[string]ndi.Item{
		"name": r.Name, "aliasname": r.AliasName, "hanyupinyinname": r.HanyuPinyinName,
		"hanyupinyinaliasname": r.HanyuPinyinAliasName, "marriedname": r.MarriedName, "partialuinfin": r.PartialUINFIN,
		"uinfin": r.UINFIN, "uuid": r.UUID, "sex": r.Sex, "race": r.Race, "secondaryrace": r.SecondaryRace, "dob": r.DOB,
		"residentialstatus": r.ResidentialStatus, "nationality": r.Nationality, "birthcountry": r.BirthCountry,
		"passportnumber": r.PassportNumber, "passtype": r.PassType, "passstatus": r.PassStatus,
		"passexpirydate": r.PassExpiryDate, "email": r.Email, "employment": r.Employment,
	}
	var out []Particular
	seenID := false
	for _, a := range attributes {
		var value string
		switch a {
		case "mobileno":
			value = maskPhone(r.MobileNo)
		case "regadd":
			value = r.RegAdd.String()
		case "drivinglicence":
			value = r.DrivingLicence.COMStatus.String()
		case "uinfin", "partialuinfin", "user.identity": // user.identity: Singpass Login's, no Myinfo
			if seenID {
				continue
			}
			seenID, value = true, r.MaskedID()
		default:
			if it, ok := items[a]; ok && it.Present() {
				value = it.String()
			}
		}
		if value == "" {
			value = "—"
		}
		out = append(out, Particular{Attribute: a, Label: attributeLabels[a], Value: value})
	}
	return out
}

// maskPhone shows a mobile number's country code and last four digits
// ("+65 ****4567"): enough for its owner to recognise it.
func maskPhone(p ndi.Phone) string {
	if !p.Present() {
		return ""
	}
	n := []rune(string(p.Number.Value))
	keep := min(4, max(0, len(n)-4)) // a number of 4 digits or fewer is hidden whole
	masked := strings.Repeat("*", len(n)-keep) + string(n[len(n)-keep:])
	if p.AreaCode.Value == "" {
		return masked
	}
	prefix := string(p.Prefix.Value)
	if prefix == "" {
		prefix = "+"
	}
	return prefix + string(p.AreaCode.Value) + " " + masked
}
