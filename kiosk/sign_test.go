package kiosk

import "testing"

// Sign's partial UIN/FIN of the signer must be the visitor's last four
// characters: exactly four, no masking characters, any case.
func TestSameTail(t *testing.T) {
	for _, c := range []struct {
		partial, masked string
		want            bool
	}{
		{"567D", "*****567D", true},
		{"567d", "*****567D", true},
		{" 567D ", "*****567D", true},
		{"567E", "*****567D", false},
		{"***D", "*****567D", false},
		{"", "*****567D", false},
		{"67D", "*****567D", false},
		{"4567D", "*****567D", false},
		{"567D", "", false},
		{"567D", "7D", false},
	} {
		if got := sameTail(c.partial, c.masked); got != c.want {
			t.Errorf("sameTail(%q, %q) = %v", c.partial, c.masked, got)
		}
	}
}
