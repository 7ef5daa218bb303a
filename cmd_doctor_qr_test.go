package main

import (
	"strings"
	"testing"
)

// TestDoctorQRModules: doctor works out the code's module size from the
// provider's real URL (a signed sandbox Verify URL: version 18) and the
// screen, and warns under 4 px a module.
func TestDoctorQRModules(t *testing.T) {
	t.Setenv("NDIKIOSK_KIOSK_DATA_DIR", t.TempDir())
	for screen, want := range map[string]string{
		"640x400":   "WARN qr: a signed Verify URL is",
		"800x480":   "ok   qr: a signed Verify URL is",
		"1920x1080": "on the 1920x1080 screen (--screen) a module is 10 px",
	} {
		code, out, errs := runCLI("doctor", "--screen", screen)
		if code != 0 || !strings.Contains(out, want) || !strings.Contains(out, "a version-18 code of 89 modules") {
			t.Errorf("doctor --screen %s: exit %d, want %q in\n%s%s", screen, code, want, out, errs)
		}
	}
	if code, _, errs := runCLI("doctor", "--screen", "big"); code == 0 || !strings.Contains(errs, "want WIDTHxHEIGHT") {
		t.Errorf("doctor --screen big: exit %d %s", code, errs)
	}
}
