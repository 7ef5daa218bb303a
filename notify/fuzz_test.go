package notify

import (
	"errors"
	"testing"
	"time"
)

// FuzzVerify: whatever a sender puts in the header and body, Verify
// answers with one of its three errors or nil, never panics, and accepts a
// forged header only if it is the real signature.
func FuzzVerify(f *testing.F) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	now := time.Unix(1_800_000_000, 0)
	body := []byte(`{"event":"visitor.arrived"}`)
	f.Add(Sign(secret, now, body), body)
	f.Add("t=1800000000,v1=zz", body)
	f.Add("t=,v1=", []byte{})
	f.Add("v1=00,t=1800000000,v1=11", body)
	f.Add("t=99999999999999999999,v1=00", body)
	f.Add("t=-1,v1=00", body)
	f.Fuzz(func(t *testing.T, header string, b []byte) {
		err := Verify(secret, header, b, now, 5*time.Minute)
		switch {
		case err == nil:
			// Only a header carrying the true MAC of this body passes.
			if Verify(secret, header, append(append([]byte{}, b...), 'x'), now, 5*time.Minute) == nil {
				t.Fatalf("header %q verifies two different bodies", header)
			}
		case errors.Is(err, ErrSignature), errors.Is(err, ErrSignatureFormat), errors.Is(err, ErrSignatureStale):
		default:
			t.Fatalf("unexpected error %v", err)
		}
	})
}
