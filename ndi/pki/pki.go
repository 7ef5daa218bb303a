// Package pki loads and makes the RSA keys and X.509 certificates that
// Singpass Verify uses: the relying party's signing/decryption key and the
// NDI side's verification certificate.
package pki

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"time"

	"software.sslmate.com/src/go-pkcs12"
)

// MinRSABits is the smallest key Singpass accepts (technical requirements).
const MinRSABits = 2048

// PrivateKey is a relying party's key, with the certificate that came with it
// (from a PKCS#12 file or a PEM bundle), if any.
type PrivateKey struct {
	Key  *rsa.PrivateKey
	Cert *x509.Certificate
}

// LoadPrivateKey reads an RSA private key from a PEM file (PKCS#1 or PKCS#8,
// optionally followed by its certificate) or a PKCS#12 file protected by
// password. Errors name the file and say what to do.
func LoadPrivateKey(path, password string) (*PrivateKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load private key: %w", err)
	}
	fail := func(format string, a ...any) error {
		return fmt.Errorf("load private key %s: %s", filepath.Base(path), fmt.Sprintf(format, a...))
	}
	var (
		key  any
		cert *x509.Certificate
	)
	if bytes.Contains(data, []byte("-----BEGIN")) {
		key, cert, err = parsePEMKey(data, fail)
	} else {
		var k any
		var c *x509.Certificate
		if k, c, _, err = pkcs12.DecodeChain(data, password); errors.Is(err, pkcs12.ErrIncorrectPassword) {
			err = fail("wrong private_key_password for this PKCS#12 file")
		} else if err != nil {
			err = fail("neither PEM nor a readable PKCS#12 file: %v", err)
		}
		key, cert = k, c
	}
	if err != nil {
		return nil, err
	}
	rsaKey, ok := key.(*rsa.PrivateKey)
	if !ok {
		return nil, fail("not an RSA key; Verify needs RSA-%d or larger", MinRSABits)
	}
	if bits := rsaKey.N.BitLen(); bits < MinRSABits {
		return nil, fail("RSA-%d is too small; Verify needs RSA-%d or larger", bits, MinRSABits)
	}
	if cert != nil {
		pub, ok := cert.PublicKey.(*rsa.PublicKey)
		if !ok || !pub.Equal(&rsaKey.PublicKey) {
			return nil, fail("the certificate %q does not match the private key", cert.Subject.CommonName)
		}
	}
	return &PrivateKey{Key: rsaKey, Cert: cert}, nil
}

// LoadPublicKey reads the NDI side's RSA public key from an X.509 certificate
// (PEM or DER) or a PEM public key. A certificate outside its validity period
// at now is refused.
func LoadPublicKey(path string, now time.Time) (*rsa.PublicKey, *x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("load certificate: %w", err)
	}
	fail := func(format string, a ...any) error {
		return fmt.Errorf("load certificate %s: %s", filepath.Base(path), fmt.Sprintf(format, a...))
	}
	var (
		pub  any
		cert *x509.Certificate
	)
	if block, _ := pem.Decode(data); block != nil {
		switch block.Type {
		case "CERTIFICATE":
			cert, err = x509.ParseCertificate(block.Bytes)
		case "PUBLIC KEY":
			pub, err = x509.ParsePKIXPublicKey(block.Bytes)
		case "RSA PUBLIC KEY":
			pub, err = x509.ParsePKCS1PublicKey(block.Bytes)
		default:
			return nil, nil, fail("PEM block %q is neither a certificate nor a public key", block.Type)
		}
		if err != nil {
			return nil, nil, fail("%v", err)
		}
	} else if cert, err = x509.ParseCertificate(data); err != nil {
		return nil, nil, fail("neither PEM nor a DER certificate")
	}
	if cert != nil {
		if now.After(cert.NotAfter) {
			return nil, nil, fail("certificate %q expired on %s; get the current one from Singpass", cert.Subject.CommonName, cert.NotAfter.Format("2006-01-02"))
		}
		if now.Before(cert.NotBefore) {
			return nil, nil, fail("certificate %q is not valid before %s; check the clock", cert.Subject.CommonName, cert.NotBefore.Format("2006-01-02"))
		}
		pub = cert.PublicKey
	}
	rsaPub, ok := pub.(*rsa.PublicKey)
	if !ok {
		return nil, nil, fail("not an RSA public key; Verify signs with RSA")
	}
	if bits := rsaPub.N.BitLen(); bits < MinRSABits {
		return nil, nil, fail("RSA-%d is too small; RSA-%d or larger expected", bits, MinRSABits)
	}
	return rsaPub, cert, nil
}

// NewKey makes an RSA-2048 key.
func NewKey() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, MinRSABits) }

// SelfSigned makes a self-signed certificate for key, valid from now for the
// given duration. Only the sandbox and tests use it.
func SelfSigned(key *rsa.PrivateKey, commonName string, now time.Time, valid time.Duration) (*x509.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: commonName, Organization: []string{"ndikiosk sandbox"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(valid),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

// KeyPEM encodes key as PKCS#8 PEM.
func KeyPEM(key *rsa.PrivateKey) []byte {
	der, _ := x509.MarshalPKCS8PrivateKey(key) // cannot fail for a valid RSA key
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// CertPEM encodes cert as PEM.
func CertPEM(cert *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
}

// parsePEMKey reads the private key (and the first certificate, if any) of
// a PEM file.
func parsePEMKey(data []byte, fail func(string, ...any) error) (key any, cert *x509.Certificate, err error) {
	rest := data
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		switch block.Type {
		case "RSA PRIVATE KEY":
			k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
			if err != nil {
				return nil, nil, fail("bad PKCS#1 key: %v", err)
			}
			key = k
		case "PRIVATE KEY":
			k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
			if err != nil {
				return nil, nil, fail("bad PKCS#8 key: %v", err)
			}
			key = k
		case "ENCRYPTED PRIVATE KEY":
			return nil, nil, fail("encrypted PEM keys are not supported; use a PKCS#12 file with private_key_password, or decrypt it with `openssl pkey`")
		case "EC PRIVATE KEY":
			return nil, nil, fail("not an RSA key; Verify needs RSA-%d or larger", MinRSABits)
		case "CERTIFICATE":
			if cert == nil {
				c, err := x509.ParseCertificate(block.Bytes)
				if err != nil {
					return nil, nil, fail("bad certificate: %v", err)
				}
				cert = c
			}
		}
	}
	if key == nil {
		return nil, nil, fail("no private key in the PEM file")
	}
	return key, cert, nil
}
