package fapi

import (
	"encoding/json"
	"slices"
	"testing"
	"time"
)

// FuzzIDTokenClaims feeds arbitrary JSON as the claims of an ID token:
// decoding and checking must never panic, and claims that pass must be
// from the issuer, for this client, with a subject, the nonce and a live
// expiry.
func FuzzIDTokenClaims(f *testing.F) {
	now := time.Unix(1_800_000_000, 0)
	c := &Client{cfg: Config{Issuer: "https://stg-id.singpass.gov.sg/fapi", ClientID: "kiosk", ClockSkew: time.Minute,
		Now: func() time.Time { return now }}}
	f.Add(`{"iss":"https://stg-id.singpass.gov.sg/fapi","aud":"kiosk","sub":"s=S1234567D","exp":1800000300,"iat":1800000000,"nonce":"n1"}`)
	f.Add(`{"iss":"https://stg-id.singpass.gov.sg/fapi","aud":["other","kiosk"],"sub":"x","exp":1800000030,"nonce":"n1"}`)
	f.Add(`{"iss":"https://stg-id.singpass.gov.sg/fapi","aud":"kiosk","sub":"x","exp":1e308,"iat":-1e308,"nonce":"n1"}`)
	f.Add(`{"aud":7}`)
	f.Fuzz(func(t *testing.T, raw string) {
		var cl claims
		if json.Unmarshal([]byte(raw), &cl) != nil {
			return
		}
		if c.checkClaims(&cl, "n1") != nil {
			return
		}
		switch {
		case cl.Iss != c.cfg.Issuer, !slices.Contains(cl.Aud, "kiosk"), cl.Sub == "", cl.Nonce != "n1", cl.Exp == nil:
			t.Fatalf("accepted claims %s", raw)
		case !now.Add(-time.Minute).Before(time.Unix(int64(*cl.Exp), 0)):
			t.Fatalf("accepted expired claims %s", raw)
		}
	})
}
