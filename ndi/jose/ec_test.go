package jose

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"strings"
	"testing"
)

func ecKey(t *testing.T) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestES256HeadersAndVerify(t *testing.T) {
	k, other := ecKey(t), ecKey(t)
	tok, err := SignES256([]byte(`{"a":1}`), k, Header{Typ: "dpop+jwt", Kid: "k1", JWK: &k.PublicKey})
	if err != nil {
		t.Fatal(err)
	}
	h, err := ParseHeader(tok)
	if err != nil || h.Alg != ES256 || h.Typ != "dpop+jwt" || h.Kid != "k1" || h.JWK == nil || !h.JWK.Equal(&k.PublicKey) {
		t.Fatalf("header %+v %v", h, err)
	}
	if p, err := VerifyES256(tok, h.JWK); err != nil || string(p) != `{"a":1}` {
		t.Fatalf("verify: %q %v", p, err)
	}
	if _, err := VerifyES256(tok, &other.PublicKey); !errors.Is(err, ErrSignature) {
		t.Fatalf("wrong key verified: %v", err)
	}
	// An RS256 token is not an ES256 token.
	if _, err := VerifyES256([]byte("eyJhbGciOiJub25lIn0.e30."), &k.PublicKey); !errors.Is(err, ErrSignature) {
		t.Fatalf("alg none accepted: %v", err)
	}
}

func TestThumbprintAndJWKS(t *testing.T) {
	a, b := ecKey(t), ecKey(t)
	ta, _ := Thumbprint(&a.PublicKey)
	ta2, _ := Thumbprint(&a.PublicKey)
	tb, _ := Thumbprint(&b.PublicKey)
	if ta != ta2 || ta == tb || len(ta) != 43 {
		t.Fatalf("thumbprints %q %q %q", ta, ta2, tb)
	}
	doc, err := MarshalJWKS([]PublicJWK{{Key: &a.PublicKey, Kid: ta, Use: "sig", Alg: ES256}, {Key: &b.PublicKey, Kid: tb, Use: "enc", Alg: ECDHESA256KW}})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(doc), `"d"`) {
		t.Fatalf("private member published: %s", doc)
	}
	keys, err := ParseJWKS(doc)
	if err != nil || len(keys) != 2 || keys[1].Use != "enc" || keys[1].Alg != ECDHESA256KW || !keys[0].Key.Equal(&a.PublicKey) {
		t.Fatalf("parsed %+v %v", keys, err)
	}
}

func TestECDHRoundTrip(t *testing.T) {
	cur, old, stranger := ecKey(t), ecKey(t), ecKey(t)
	keys := map[string]*ecdsa.PrivateKey{"cur": cur, "old": old}
	for _, enc := range []string{A256GCM, A256CBCHS512} {
		for _, alg := range []string{ECDHESA256KW, ECDHES} {
			for kid, k := range map[string]*ecdsa.PrivateKey{"cur": cur, "old": old, "": cur} {
				jwe, err := EncryptECDH([]byte("hello"), &k.PublicKey, kid, alg, enc, "JWT")
				if err != nil {
					t.Fatal(err)
				}
				if out, err := DecryptECDH(jwe, keys); err != nil || string(out) != "hello" {
					t.Fatalf("%s/%s kid %q: %q %v", alg, enc, kid, out, err)
				}
			}
		}
	}
	jwe, _ := EncryptECDH([]byte("x"), &stranger.PublicKey, "elsewhere", ECDHESA256KW, A256GCM, "")
	if _, err := DecryptECDH(jwe, keys); !errors.Is(err, ErrDecrypt) || !strings.Contains(err.Error(), "elsewhere") {
		t.Fatalf("unknown kid: %v", err)
	}
	jwe, _ = EncryptECDH([]byte("x"), &stranger.PublicKey, "", ECDHESA256KW, A256GCM, "")
	if _, err := DecryptECDH(jwe, keys); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("stranger's JWE opened: %v", err)
	}
	if _, err := EncryptECDH([]byte("x"), &cur.PublicKey, "", "RSA-OAEP", A256GCM, ""); err == nil {
		t.Fatal("RSA-OAEP accepted for an EC key")
	}
}
