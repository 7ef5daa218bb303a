// Package jose keeps every JOSE call of the project behind a handful of
// functions, so that moving off lestrrat-go/jwx/v2 (no longer maintained
// upstream) touches this one file.
package jose

import (
	"bytes"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwe"
	"github.com/lestrrat-go/jwx/v2/jws"
)

// Key-management and content-encryption algorithms accepted when decrypting.
// Singpass documents RSA-OAEP with A256GCM; older deployments used
// A128CBC-HS256, and RSA-OAEP-256 is the modern variant of the same scheme.
const (
	RSAOAEP      = "RSA-OAEP"
	RSAOAEP256   = "RSA-OAEP-256"
	A256GCM      = "A256GCM"
	A128CBCHS256 = "A128CBC-HS256"
)

var (
	// ErrDecrypt means a JWE could not be parsed or decrypted with our key.
	ErrDecrypt = errors.New("cannot decrypt the JWE")
	// ErrSignature means a JWS did not verify against the expected key.
	ErrSignature = errors.New("signature does not verify")
)

// SignRS256 returns a compact JWS over payload.
func SignRS256(payload []byte, key *rsa.PrivateKey) ([]byte, error) {
	return jws.Sign(payload, jws.WithKey(jwa.RS256, key))
}

// VerifyRS256 checks a compact JWS with key and returns its payload. Any other
// algorithm in the header is rejected.
func VerifyRS256(compact []byte, key *rsa.PublicKey) (_ []byte, err error) {
	defer noPanic(&err, ErrSignature)
	payload, err := jws.Verify(bytes.TrimSpace(compact), jws.WithKey(jwa.RS256, key))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSignature, err)
	}
	return payload, nil
}

// SignJSON marshals v and signs it as an RS256 JWS (a JWT when v holds claims).
func SignJSON(v any, key *rsa.PrivateKey) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return SignRS256(b, key)
}

// Encrypt returns a compact JWE of plaintext for key, with the given
// key-management (RSA-OAEP or RSA-OAEP-256) and content (A256GCM or
// A128CBC-HS256) algorithms.
func Encrypt(plaintext []byte, key *rsa.PublicKey, alg, enc string) ([]byte, error) {
	kalg, cenc, err := rsaJWE.check(alg, enc)
	if err != nil {
		return nil, err
	}
	return jwe.Encrypt(plaintext, jwe.WithKey(kalg, key), jwe.WithContentEncryption(cenc), jwe.WithCompact())
}

// Decrypt opens a compact JWE with key, whichever of the accepted algorithms
// its header names; any other algorithm is refused before decryption.
func Decrypt(compact []byte, key *rsa.PrivateKey) (_ []byte, err error) {
	defer noPanic(&err, ErrDecrypt)
	compact = bytes.TrimSpace(compact)
	msg, err := jwe.Parse(compact)
	if err != nil {
		return nil, fmt.Errorf("%w: not a compact JWE", ErrDecrypt)
	}
	h := msg.ProtectedHeaders()
	kalg, _, err := rsaJWE.check(h.Algorithm().String(), h.ContentEncryption().String())
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDecrypt, err)
	}
	out, err := jwe.Decrypt(compact, jwe.WithKey(kalg, key))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDecrypt, err)
	}
	return out, nil
}

// family is a set of JWE algorithms this package accepts together: the
// key-management and content-encryption names, as jwx spells them too.
type family struct {
	keys, encs         []string
	wantKeys, wantEncs string
}

var (
	rsaJWE  = family{[]string{RSAOAEP, RSAOAEP256}, []string{A256GCM, A128CBCHS256}, "RSA-OAEP or RSA-OAEP-256", "A256GCM or A128CBC-HS256"}
	ecdhJWE = family{[]string{ECDHES, ECDHESA128KW, ECDHESA192KW, ECDHESA256KW}, []string{A256GCM, A256CBCHS512},
		"ECDH-ES or ECDH-ES+A*KW", "A256GCM or A256CBC-HS512"}
)

// check returns alg and enc as jwx algorithms, or why the family refuses them.
func (f family) check(alg, enc string) (jwa.KeyEncryptionAlgorithm, jwa.ContentEncryptionAlgorithm, error) {
	if !slices.Contains(f.keys, alg) {
		return "", "", fmt.Errorf("key algorithm %q not accepted (want %s)", alg, f.wantKeys)
	}
	if !slices.Contains(f.encs, enc) {
		return "", "", fmt.Errorf("content encryption %q not accepted (want %s)", enc, f.wantEncs)
	}
	return jwa.KeyEncryptionAlgorithm(alg), jwa.ContentEncryptionAlgorithm(enc), nil
}
