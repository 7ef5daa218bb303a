package config_test

import (
	"strings"
	"testing"

	. "ndikiosk/config"
)

// TestLocalWording: [kiosk.local.LANG] tables for the four screen
// languages are read; another code, an unknown key in one, or a text too
// long for the screen is refused by name. Without any, contact and
// alternative stay empty, so that every language says its own.
func TestLocalWording(t *testing.T) {
	c, err := loadText(t, "sandbox = true\n[kiosk]\ncontact = \"the front desk\"\n"+
		"[kiosk.local.zh]\ncontact = \"前台\"\nalternative = \"请到柜台办理。\"\n[kiosk.local.ta]\nalternative = \"முகப்பு மேசையை அணுகவும்.\"\n")
	if err != nil {
		t.Fatal(err)
	}
	if c.Kiosk.Contact != "the front desk" || c.Kiosk.Alternative != "" || c.Kiosk.Local["zh"].Contact != "前台" ||
		c.Kiosk.Local["zh"].Alternative != "请到柜台办理。" || c.Kiosk.Local["ta"].Contact != "" || len(c.Kiosk.Local) != 2 {
		t.Fatalf("kiosk %+v", c.Kiosk)
	}
	d := SandboxDefaults()
	if d.Kiosk.Contact != "" || d.Kiosk.Alternative != "" || d.Kiosk.Local != nil {
		t.Fatalf("defaults %q %q %v: an English default would hide the translations", d.Kiosk.Contact, d.Kiosk.Alternative, d.Kiosk.Local)
	}
	for text, want := range map[string]string{
		"[kiosk.local.fr]\ncontact = \"l'accueil\"\n":                            `kiosk.local.fr: "fr" is not a screen language; want en, zh, ms, ta`,
		"[kiosk.local.zh]\nphone = \"6123 4567\"\n":                              "unknown key kiosk.local.zh.phone",
		"[kiosk.local.ms]\nalternative = \"" + strings.Repeat("a", 201) + "\"\n": "kiosk.local.ms.alternative is 201 characters; at most 200",
		"[kiosk]\ncontact = \"" + strings.Repeat("前", 201) + "\"\n":              "kiosk.contact is 201 characters",
	} {
		if _, err := loadText(t, "sandbox = true\n"+text); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", text, err, want)
		}
	}
}
