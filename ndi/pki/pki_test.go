package pki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"software.sslmate.com/src/go-pkcs12"
)

func write(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadPrivateKey(t *testing.T) {
	key, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	cert, _ := SelfSigned(key, "kiosk", now, time.Hour)
	other, _ := NewKey()
	otherCert, _ := SelfSigned(other, "someone else", now, time.Hour)
	pkcs1 := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	p12, err := pkcs12.Modern.Encode(key, cert, nil, "pa55")
	if err != nil {
		t.Fatal(err)
	}
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	smallDER, _ := x509.MarshalPKCS8PrivateKey(small)
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecDER, _ := x509.MarshalPKCS8PrivateKey(ec)

	good := map[string]struct {
		data     []byte
		password string
		withCert bool
	}{
		"kiosk.pem (PKCS#8)":         {KeyPEM(key), "", false},
		"kiosk-rsa.pem (PKCS#1)":     {pkcs1, "", false},
		"bundle.pem (key then cert)": {append(KeyPEM(key), CertPEM(cert)...), "", true},
		"kiosk.p12":                  {p12, "pa55", true},
	}
	for name, c := range good {
		k, err := LoadPrivateKey(write(t, name, c.data), c.password)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if !k.Key.Equal(key) || (k.Cert != nil) != c.withCert {
			t.Errorf("%s: wrong key or certificate", name)
		}
	}
	bad := map[string]struct {
		data     []byte
		password string
		want     string
	}{
		"wrong.p12":    {p12, "nope", "wrong private_key_password"},
		"small.pem":    {pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: smallDER}), "", "RSA-1024 is too small"},
		"ec.pem":       {pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ecDER}), "", "not an RSA key"},
		"mismatch.pem": {append(KeyPEM(key), CertPEM(otherCert)...), "", "does not match the private key"},
		"cert.pem":     {CertPEM(cert), "", "no private key"},
		"garbage.key":  {[]byte("hello"), "", "neither PEM nor a readable PKCS#12"},
	}
	for name, c := range bad {
		_, err := LoadPrivateKey(write(t, name, c.data), c.password)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: want an error naming the file and saying %q, got %v", name, c.want, err)
		}
	}
	if _, err := LoadPrivateKey(filepath.Join(t.TempDir(), "missing.pem"), ""); err == nil {
		t.Error("missing file: no error")
	}
}

func TestLoadPublicKey(t *testing.T) {
	key, _ := NewKey()
	now := time.Now()
	cert, _ := SelfSigned(key, "ndi", now, time.Hour)
	expired, _ := SelfSigned(key, "old ndi", now.Add(-48*time.Hour), time.Hour)
	pkix, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	good := map[string][]byte{
		"ndi.crt":   CertPEM(cert),
		"ndi.cer":   cert.Raw,
		"ndi.pub":   pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pkix}),
		"ndi-1.pub": pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&key.PublicKey)}),
	}
	for name, data := range good {
		pub, _, err := LoadPublicKey(write(t, name, data), now)
		if err != nil || !pub.Equal(&key.PublicKey) {
			t.Errorf("%s: %v", name, err)
		}
	}
	_, _, err := LoadPublicKey(write(t, "old.crt", CertPEM(expired)), now)
	if err == nil || !strings.Contains(err.Error(), "expired on") || !strings.Contains(err.Error(), "old.crt") {
		t.Errorf("expired certificate: %v", err)
	}
	_, _, err = LoadPublicKey(write(t, "key.pem", KeyPEM(key)), now)
	if err == nil || !strings.Contains(err.Error(), "neither a certificate nor a public key") {
		t.Errorf("private key given as certificate: %v", err)
	}
}
