package config_test

import (
	"strings"
	"testing"
)

// a value written explicitly as zero is out of each key's range,
// but the defaults fill it in silently (or(x, default)), so the kiosk runs
// with 30 days, 60 s, 5 minutes, 5 tries or age 18 that the file does not say.
func TestExplicitZeroIsRefused(t *testing.T) {
	for text, key := range map[string]string{
		"sandbox = true\n[kiosk]\nretention_days = 0\n":       "kiosk.retention_days",
		"sandbox = true\n[kiosk]\nconfirm_timeout = \"0s\"\n": "kiosk.confirm_timeout",
		"sandbox = true\n[kiosk]\nresult_timeout = \"0s\"\n":  "kiosk.result_timeout",
		"sandbox = true\n[admin]\nlock_minutes = 0\n":         "admin.lock_minutes",
		"sandbox = true\n[admin]\nmax_tries = 0\n":            "admin.max_tries",
		"sandbox = true\n[kiosk]\nmin_age = 0\n":              "kiosk.min_age",
	} {
		if _, err := loadText(t, text); err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("%q: want an error naming %s, got %v", text, key, err)
		}
	}
}

// a bad result_timeout also reports result_min, which the file
// does not set, as "out of range 2s-2s".
func TestBadResultTimeoutNamesOnlyItself(t *testing.T) {
	_, err := loadText(t, "sandbox = true\n[kiosk]\nresult_timeout = \"-5s\"\n")
	if err == nil || strings.Contains(err.Error(), "result_min") {
		t.Errorf("want one error naming kiosk.result_timeout only, got %v", err)
	}
}
