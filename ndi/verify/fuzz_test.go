package verify

import (
	"strings"
	"testing"
)

// FuzzParseQR feeds arbitrary URLs to the QR parser: it must never panic,
// and whatever it accepts must be signed by the key and re-sign to the
// very same URL (nothing reordered, re-encoded or added).
func FuzzParseQR(f *testing.F) {
	key, _ := testKeys(f)
	good, err := SignQR(sampleQR(), key)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(strings.Replace(good, "qr_type=dynamic", "qr_type=static", 1))
	f.Add(good + "&extra=1")
	f.Add("https://app.singpass.gov.sg/sgverify?v=2&signature_method=RS256")
	f.Add("%zz")
	f.Fuzz(func(t *testing.T, u string) {
		q, err := ParseQR(u, &key.PublicKey)
		if err != nil {
			return
		}
		again, err := SignQR(q, key)
		if err != nil || again != u {
			t.Fatalf("accepted %q but it re-signs to %q (%v)", u, again, err)
		}
	})
}
