package jose

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwe"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
)

// The algorithms of Singpass's FAPI 2.0 profile: everything is ES256 on
// P-256; ID tokens and userinfo are encrypted with ECDH-ES key agreement,
// ID tokens with A256CBC-HS512 and userinfo with A256GCM.
const (
	ES256        = "ES256"
	ECDHES       = "ECDH-ES"
	ECDHESA128KW = "ECDH-ES+A128KW"
	ECDHESA192KW = "ECDH-ES+A192KW"
	ECDHESA256KW = "ECDH-ES+A256KW"
	A256CBCHS512 = "A256CBC-HS512"
)

// Header is the part of a JWS protected header the FAPI code reads or sets.
type Header struct {
	Alg string
	Typ string
	Kid string
	JWK *ecdsa.PublicKey // the embedded public key (DPoP proofs)
}

// SignES256 returns a compact JWS over payload with the header's typ, kid
// and embedded jwk (those that are set).
func SignES256(payload []byte, key *ecdsa.PrivateKey, h Header) ([]byte, error) {
	if key == nil || key.Curve != elliptic.P256() {
		return nil, errors.New("ES256 needs a P-256 key")
	}
	hdrs := jws.NewHeaders()
	if h.Typ != "" {
		hdrs.Set(jws.TypeKey, h.Typ)
	}
	if h.Kid != "" {
		hdrs.Set(jws.KeyIDKey, h.Kid)
	}
	if h.JWK != nil {
		k, err := jwk.FromRaw(h.JWK)
		if err != nil {
			return nil, err
		}
		hdrs.Set(jws.JWKKey, k)
	}
	return jws.Sign(payload, jws.WithKey(jwa.ES256, key, jws.WithProtectedHeaders(hdrs)))
}

// SignES256JSON marshals v and signs it with SignES256.
func SignES256JSON(v any, key *ecdsa.PrivateKey, h Header) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return SignES256(b, key, h)
}

// ParseHeader reads the protected header of a compact JWS without verifying
// it. Only ES256 with a P-256 embedded key is understood as a jwk.
func ParseHeader(compact []byte) (Header, error) {
	msg, err := jws.Parse(bytes.TrimSpace(compact))
	if err != nil || len(msg.Signatures()) != 1 {
		return Header{}, fmt.Errorf("%w: not a compact JWS", ErrSignature)
	}
	p := msg.Signatures()[0].ProtectedHeaders()
	h := Header{Alg: p.Algorithm().String(), Typ: p.Type(), Kid: p.KeyID()}
	if k := p.JWK(); k != nil {
		var pub ecdsa.PublicKey
		if err := k.Raw(&pub); err != nil || pub.Curve != elliptic.P256() {
			return Header{}, fmt.Errorf("%w: the embedded jwk is not a P-256 public key", ErrSignature)
		}
		if _, private := k.(jwk.ECDSAPrivateKey); private {
			return Header{}, fmt.Errorf("%w: the embedded jwk holds a private key", ErrSignature)
		}
		h.JWK = &pub
	}
	return h, nil
}

// VerifyES256 checks a compact JWS with key and returns its payload; any
// algorithm other than ES256 is refused.
func VerifyES256(compact []byte, key *ecdsa.PublicKey) (_ []byte, err error) {
	defer noPanic(&err, ErrSignature)
	if key == nil {
		return nil, fmt.Errorf("%w: no key", ErrSignature)
	}
	payload, err := jws.Verify(bytes.TrimSpace(compact), jws.WithKey(jwa.ES256, key))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSignature, err)
	}
	return payload, nil
}

// Thumbprint is the RFC 7638 SHA-256 thumbprint of a public key, base64url
// without padding: the DPoP `jkt` and this project's key ids.
func Thumbprint(pub *ecdsa.PublicKey) (string, error) {
	k, err := jwk.FromRaw(pub)
	if err != nil {
		return "", err
	}
	sum, err := k.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(sum), nil
}

// PublicJWK is one entry of a published JWKS.
type PublicJWK struct {
	Key *ecdsa.PublicKey
	Kid string
	Use string // "sig" or "enc"
	Alg string // ES256, or ECDH-ES+A256KW for encryption keys
}

// MarshalJWKS renders public keys as a JWKS document.
func MarshalJWKS(keys []PublicJWK) ([]byte, error) {
	set := jwk.NewSet()
	for _, pk := range keys {
		k, err := jwk.FromRaw(pk.Key)
		if err != nil {
			return nil, err
		}
		k.Set(jwk.KeyIDKey, pk.Kid)
		k.Set(jwk.KeyUsageKey, pk.Use)
		k.Set(jwk.AlgorithmKey, pk.Alg)
		set.AddKey(k)
	}
	return json.Marshal(set)
}

// ParseJWKS reads a JWKS document and keeps its P-256 public keys; other
// key types are skipped, private members are refused.
func ParseJWKS(data []byte) ([]PublicJWK, error) {
	set, err := jwk.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("JWKS: %v", err)
	}
	var out []PublicJWK
	for i := 0; i < set.Len(); i++ {
		k, _ := set.Key(i)
		if _, private := k.(jwk.ECDSAPrivateKey); private {
			return nil, errors.New("JWKS: it publishes a private key")
		}
		var pub ecdsa.PublicKey
		if k.KeyType() != "EC" || k.Raw(&pub) != nil || pub.Curve != elliptic.P256() {
			continue
		}
		alg := ""
		if a := k.Algorithm(); a != nil {
			alg = a.String()
		}
		out = append(out, PublicJWK{Key: &pub, Kid: k.KeyID(), Use: k.KeyUsage(), Alg: alg})
	}
	return out, nil
}

// EncryptECDH returns a compact JWE of plaintext for pub, with an ECDH-ES
// key-management algorithm and A256GCM or A256CBC-HS512; kid and cty go in
// the protected header when set.
func EncryptECDH(plaintext []byte, pub *ecdsa.PublicKey, kid, alg, enc, cty string) ([]byte, error) {
	kalg, cenc, err := ecdhJWE.check(alg, enc)
	if err != nil {
		return nil, err
	}
	hdrs := jwe.NewHeaders()
	if kid != "" {
		hdrs.Set(jwe.KeyIDKey, kid)
	}
	if cty != "" {
		hdrs.Set(jwe.ContentTypeKey, cty)
	}
	return jwe.Encrypt(plaintext, jwe.WithKey(kalg, pub), jwe.WithContentEncryption(cenc),
		jwe.WithProtectedHeaders(hdrs), jwe.WithCompact())
}

// DecryptECDH opens a compact JWE made for one of keys (by the header's
// kid, or each key in turn when it names none). Algorithms outside the
// ECDH-ES family and A256GCM/A256CBC-HS512 are refused before decryption.
func DecryptECDH(compact []byte, keys map[string]*ecdsa.PrivateKey) (_ []byte, err error) {
	defer noPanic(&err, ErrDecrypt)
	compact = bytes.TrimSpace(compact)
	msg, err := jwe.Parse(compact)
	if err != nil {
		return nil, fmt.Errorf("%w: not a compact JWE", ErrDecrypt)
	}
	h := msg.ProtectedHeaders()
	kalg, _, err := ecdhJWE.check(h.Algorithm().String(), h.ContentEncryption().String())
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDecrypt, err)
	}
	if kalg != jwa.ECDH_ES && !wrappedKey(msg) {
		// jwx v2.1.7 panics unwrapping an empty or ragged key.
		return nil, fmt.Errorf("%w: the wrapped key is not a whole number of 8-byte blocks of at least 24 bytes", ErrDecrypt)
	}
	try := keys
	if kid := h.KeyID(); kid != "" {
		k, ok := keys[kid]
		if !ok {
			return nil, fmt.Errorf("%w: encrypted for key %q, which this kiosk does not hold", ErrDecrypt, kid)
		}
		try = map[string]*ecdsa.PrivateKey{kid: k}
	}
	var last error = errors.New("no decryption key")
	for _, k := range try {
		out, err := jwe.Decrypt(compact, jwe.WithKey(kalg, k))
		if err == nil {
			return out, nil
		}
		last = err
	}
	return nil, fmt.Errorf("%w: %v", ErrDecrypt, last)
}

// wrappedKey reports whether the message's encrypted key can be an AES key
// wrap (RFC 3394): at least 24 bytes, in 8-byte blocks.
func wrappedKey(msg *jwe.Message) bool {
	rs := msg.Recipients()
	if len(rs) != 1 {
		return false
	}
	n := len(rs[0].EncryptedKey())
	return n >= 24 && n%8 == 0
}

// noPanic turns a panic inside the JOSE library, on input from outside,
// into an error of kind: a malformed envelope must be refused, never crash
// the kiosk.
func noPanic(err *error, kind error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("%w: malformed envelope (%v)", kind, r)
	}
}
