package jose

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwe"
	"github.com/lestrrat-go/jwx/v2/jws"
)

func key(t *testing.T) *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestEncryptDecryptEveryAcceptedPair(t *testing.T) {
	k := key(t)
	for _, alg := range []string{RSAOAEP, RSAOAEP256} {
		for _, enc := range []string{A256GCM, A128CBCHS256} {
			c, err := Encrypt([]byte("hello"), &k.PublicKey, alg, enc)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Decrypt(c, k)
			if err != nil || string(got) != "hello" {
				t.Errorf("%s/%s: %q %v", alg, enc, got, err)
			}
		}
	}
	if _, err := Encrypt([]byte("x"), &k.PublicKey, "RSA1_5", A256GCM); err == nil {
		t.Error("RSA1_5 accepted for encryption")
	}
}

func TestDecryptRefusesOtherAlgorithmsAndKeys(t *testing.T) {
	k, other := key(t), key(t)
	legacy, err := jwe.Encrypt([]byte("x"), jwe.WithKey(jwa.RSA1_5, &k.PublicKey), jwe.WithContentEncryption(jwa.A256GCM), jwe.WithCompact())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Decrypt(legacy, k); !errors.Is(err, ErrDecrypt) || !strings.Contains(err.Error(), "RSA1_5") {
		t.Errorf("RSA1_5: %v", err)
	}
	c, _ := Encrypt([]byte("x"), &k.PublicKey, RSAOAEP, A256GCM)
	if _, err := Decrypt(c, other); !errors.Is(err, ErrDecrypt) {
		t.Errorf("wrong key: %v", err)
	}
	if _, err := Decrypt([]byte("not.a.jwe"), k); !errors.Is(err, ErrDecrypt) {
		t.Errorf("garbage: %v", err)
	}
}

func TestVerifyRS256Only(t *testing.T) {
	k, other := key(t), key(t)
	good, _ := SignRS256([]byte(`{"a":1}`), k)
	if p, err := VerifyRS256(good, &k.PublicKey); err != nil || string(p) != `{"a":1}` {
		t.Fatalf("%s %v", p, err)
	}
	if _, err := VerifyRS256(good, &other.PublicKey); !errors.Is(err, ErrSignature) {
		t.Errorf("wrong key: %v", err)
	}
	ps, _ := jws.Sign([]byte(`{"a":1}`), jws.WithKey(jwa.PS256, k))
	if _, err := VerifyRS256(ps, &k.PublicKey); !errors.Is(err, ErrSignature) {
		t.Errorf("PS256 accepted: %v", err)
	}
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none"}`)) + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"a":1}`)) + "."
	if _, err := VerifyRS256([]byte(none), &k.PublicKey); !errors.Is(err, ErrSignature) {
		t.Errorf("alg none accepted: %v", err)
	}
}
