package fapi

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"ndikiosk/ndi/jose"
)

// Key is one of the kiosk's P-256 keys with its key id (the RFC 7638
// thumbprint, so the id follows from the key and needs no bookkeeping).
type Key struct {
	Private *ecdsa.PrivateKey
	Kid     string
}

// Keys are the relying party's keys. Singpass fetches their public halves
// from the kiosk's JWKS URL: it checks client assertions with the signing
// key and encrypts ID tokens and userinfo to the encryption key.
type Keys struct {
	Signing    Key
	Encryption Key
	// Previous are retired keys kept during a rotation: still published,
	// and still used to decrypt, until Singpass has picked up the new ones.
	Previous []Key
}

// NewKey makes a key.
func NewKey() (Key, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return Key{}, err
	}
	return keyOf(k)
}

func keyOf(k *ecdsa.PrivateKey) (Key, error) {
	kid, err := jose.Thumbprint(&k.PublicKey)
	if err != nil {
		return Key{}, err
	}
	return Key{Private: k, Kid: kid}, nil
}

// LoadKey reads a P-256 private key: PEM (PKCS#8 or SEC 1 "EC PRIVATE
// KEY"), or a private JWK as JSON (as JWK generators write them).
func LoadKey(path string) (Key, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Key{}, err
	}
	k, err := parseKey(b)
	if err != nil {
		return Key{}, fmt.Errorf("%s: %w", path, err)
	}
	return keyOf(k)
}

func parseKey(b []byte) (*ecdsa.PrivateKey, error) {
	if t := strings.TrimSpace(string(b)); strings.HasPrefix(t, "{") {
		k, err := jwk.ParseKey([]byte(t))
		if err != nil {
			return nil, fmt.Errorf("not a private JWK: %v", err)
		}
		var priv ecdsa.PrivateKey
		if err := k.Raw(&priv); err != nil {
			return nil, errors.New("the JWK is not an EC private key")
		}
		return checkCurve(&priv)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, errors.New("neither PEM nor a JWK")
	}
	switch blk.Type {
	case "EC PRIVATE KEY":
		k, err := x509.ParseECPrivateKey(blk.Bytes)
		if err != nil {
			return nil, err
		}
		return checkCurve(k)
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
		if err != nil {
			return nil, err
		}
		ek, ok := k.(*ecdsa.PrivateKey)
		if !ok {
			return nil, errors.New("not an EC key (Singpass FAPI keys are P-256)")
		}
		return checkCurve(ek)
	}
	return nil, fmt.Errorf("PEM block %q is not a private key", blk.Type)
}

func checkCurve(k *ecdsa.PrivateKey) (*ecdsa.PrivateKey, error) {
	if k.Curve != elliptic.P256() {
		return nil, fmt.Errorf("curve %s: Singpass FAPI uses P-256", k.Curve.Params().Name)
	}
	return k, nil
}

// KeyPEM is the PKCS#8 PEM of a key.
func KeyPEM(k *ecdsa.PrivateKey) []byte {
	der, _ := x509.MarshalPKCS8PrivateKey(k)
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// LoadOrCreateKey loads path, or makes a key and writes it there (0600)
// when the file does not exist yet.
func LoadOrCreateKey(path string) (Key, error) {
	k, err := LoadKey(path)
	if !errors.Is(err, os.ErrNotExist) {
		return k, err
	}
	if k, err = NewKey(); err != nil {
		return Key{}, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return Key{}, err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, KeyPEM(k.Private), 0o600); err != nil {
		return Key{}, err
	}
	return k, os.Rename(tmp, path)
}

// JWKS is the public key set the kiosk publishes: the current signing and
// encryption keys, then the retired ones.
func (k Keys) JWKS() ([]byte, error) {
	keys := []jose.PublicJWK{
		{Key: &k.Signing.Private.PublicKey, Kid: k.Signing.Kid, Use: "sig", Alg: jose.ES256},
		{Key: &k.Encryption.Private.PublicKey, Kid: k.Encryption.Kid, Use: "enc", Alg: jose.ECDHESA256KW},
	}
	for _, p := range k.Previous {
		keys = append(keys, jose.PublicJWK{Key: &p.Private.PublicKey, Kid: p.Kid, Use: "enc", Alg: jose.ECDHESA256KW})
	}
	return jose.MarshalJWKS(keys)
}

// decryption maps key id to key for every key that may open a JWE.
func (k Keys) decryption() map[string]*ecdsa.PrivateKey {
	m := map[string]*ecdsa.PrivateKey{k.Encryption.Kid: k.Encryption.Private}
	for _, p := range k.Previous {
		m[p.Kid] = p.Private
	}
	return m
}
