package jose

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"testing"

	"ndikiosk/ndi/pki"
)

// FuzzEnvelopes feeds arbitrary bytes to every JWS and JWE opener the
// kiosk uses on answers from outside: none may panic, and none may yield
// content other than what the key holder signed or encrypted (base64's
// slack in the last character may re-spell a token, not change it).
func FuzzEnvelopes(f *testing.F) {
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	rsaKey, err := pki.NewKey()
	if err != nil {
		f.Fatal(err)
	}
	payload := []byte(`{"sub":"S1234567D","nonce":"n"}`)
	es, _ := SignES256(payload, ec, Header{Kid: "k1"})
	rs, _ := SignRS256(payload, rsaKey)
	ecJWE, _ := EncryptECDH(payload, &ec.PublicKey, "k1", "ECDH-ES+A256KW", "A256CBC-HS512", "")
	rsaJWE, _ := Encrypt(rs, &rsaKey.PublicKey, "RSA-OAEP-256", "A256GCM")
	for _, seed := range [][]byte{es, rs, ecJWE, rsaJWE, []byte("eyJhbGciOiJub25lIn0.e30."), []byte("a.b.c.d.e"), nil} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ParseHeader(b)
		if p, err := VerifyES256(b, &ec.PublicKey); err == nil && !bytes.Equal(p, payload) {
			t.Fatalf("ES256 accepted content it did not sign: %q", p)
		}
		if p, err := VerifyRS256(b, &rsaKey.PublicKey); err == nil && !bytes.Equal(p, payload) {
			t.Fatalf("RS256 accepted content it did not sign: %q", p)
		}
		if p, err := DecryptECDH(b, map[string]*ecdsa.PrivateKey{"k1": ec}); err == nil && !bytes.Equal(p, payload) {
			t.Fatalf("ECDH JWE opened to content not encrypted with its key: %q", p)
		}
		if p, err := Decrypt(b, rsaKey); err == nil && !bytes.Equal(p, rs) {
			t.Fatalf("RSA JWE opened to content not encrypted with its key: %q", p)
		}
	})
}
