package app_test

import (
	"testing"

	"ndikiosk/config"
	. "ndikiosk/kiosk"
	"ndikiosk/ndi/sandbox"
)

// TestLocalWordingReachesTheScreen: [kiosk.local.LANG] goes through to the
// screens, trimmed, beside the contact and alternative for all languages.
func TestLocalWordingReachesTheScreen(t *testing.T) {
	r := newRig(t, func(c *config.Config) {
		c.Kiosk.Alternative = "Ask at the counter."
		c.Kiosk.Local = map[string]config.Local{"zh": {Contact: " 前台 ", Alternative: "请到柜台办理。"}, "ms": {Contact: "kaunter"}}
	})
	s := r.visit(t, "Adult citizen", "allow", sandbox.FaultPerson500)
	want := map[string]Wording{"zh": {Contact: "前台", Alternative: "请到柜台办理。"}, "ms": {Contact: "kaunter"}}
	if s.Phase != PhaseUnavailable || s.Contact != "the front desk" || s.Alternative != "Ask at the counter." || len(s.Local) != 2 ||
		s.Local["zh"] != want["zh"] || s.Local["ms"] != want["ms"] {
		t.Fatalf("screen %+v", s)
	}
}
