package sandbox

import (
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"ndikiosk/ndi/pki"
)

// Keys are the sandbox's NDI key and a test relying-party key, kept as files
// so that other software (and later runs) can use the same ones.
type Keys struct {
	NDI      *rsa.PrivateKey
	NDICert  *x509.Certificate
	Kiosk    *rsa.PrivateKey
	KioskCrt *x509.Certificate

	NDICertPath   string // give this to the relying party as its NDI certificate
	NDIKeyPath    string
	KioskKeyPath  string // the relying party's test signing/decryption key
	KioskCertPath string
}

// LoadOrCreateKeys reads the key files in dir, making any that are missing
// or expired. Private keys are written with mode 0600.
func LoadOrCreateKeys(dir string, now time.Time) (*Keys, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("sandbox keys: %w", err)
	}
	k := &Keys{
		NDIKeyPath: filepath.Join(dir, "ndi-sandbox.key"), NDICertPath: filepath.Join(dir, "ndi-sandbox.crt"),
		KioskKeyPath: filepath.Join(dir, "kiosk-test.key"), KioskCertPath: filepath.Join(dir, "kiosk-test.crt"),
	}
	var err error
	if k.NDI, k.NDICert, err = pair(k.NDIKeyPath, k.NDICertPath, "ndikiosk sandbox NDI", now); err != nil {
		return nil, err
	}
	if k.Kiosk, k.KioskCrt, err = pair(k.KioskKeyPath, k.KioskCertPath, "ndikiosk test kiosk", now); err != nil {
		return nil, err
	}
	return k, nil
}

func pair(keyPath, certPath, name string, now time.Time) (*rsa.PrivateKey, *x509.Certificate, error) {
	key, err := pki.LoadPrivateKey(keyPath, "")
	if errors.Is(err, fs.ErrNotExist) {
		if key, err = newPair(keyPath, certPath, name, now); err != nil {
			return nil, nil, err
		}
		return key.Key, key.Cert, nil
	}
	if err != nil {
		return nil, nil, err
	}
	if _, cert, err := pki.LoadPublicKey(certPath, now); err == nil {
		if pub, ok := cert.PublicKey.(*rsa.PublicKey); ok && pub.Equal(&key.Key.PublicKey) && now.Add(24*time.Hour).Before(cert.NotAfter) {
			return key.Key, cert, nil
		}
	}
	// Missing, expiring or foreign certificate: make a new one for the key.
	cert, err := pki.SelfSigned(key.Key, name, now, 365*24*time.Hour)
	if err != nil {
		return nil, nil, err
	}
	return key.Key, cert, os.WriteFile(certPath, pki.CertPEM(cert), 0o644)
}

func newPair(keyPath, certPath, name string, now time.Time) (*pki.PrivateKey, error) {
	key, err := pki.NewKey()
	if err != nil {
		return nil, err
	}
	cert, err := pki.SelfSigned(key, name, now, 365*24*time.Hour)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(keyPath, pki.KeyPEM(key), 0o600); err != nil {
		return nil, fmt.Errorf("sandbox keys: %w", err)
	}
	if err := os.WriteFile(certPath, pki.CertPEM(cert), 0o644); err != nil {
		return nil, fmt.Errorf("sandbox keys: %w", err)
	}
	return &pki.PrivateKey{Key: key, Cert: cert}, nil
}
