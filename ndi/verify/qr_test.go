package verify

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"ndikiosk/ndi"
	"ndikiosk/ndi/pki"
)

var (
	keysOnce sync.Once
	keyA     *rsa.PrivateKey
	keyB     *rsa.PrivateKey
)

func testKeys(t testing.TB) (*rsa.PrivateKey, *rsa.PrivateKey) {
	keysOnce.Do(func() {
		var err error
		if keyA, err = pki.NewKey(); err != nil {
			panic(err)
		}
		if keyB, err = pki.NewKey(); err != nil {
			panic(err)
		}
	})
	return keyA, keyB
}

func sampleQR() QR {
	start := time.UnixMilli(1763800000123)
	return QR{
		Callback: "https://kiosk.example.sg/callback",
		ClientID: "STG2-SGVERIFY-SELF-TEST",
		Nonce:    "0123456789abcdef0123456789abcdef01234567",
		Type:     Dynamic,
		State:    "kiosk-001_a",
		Start:    start,
		Expiry:   start.Add(2 * time.Minute),
	}
}

func TestSignQRLayout(t *testing.T) {
	key, _ := testKeys(t)
	u, err := SignQR(sampleQR(), key)
	if err != nil {
		t.Fatal(err)
	}
	want := "https://app.singpass.gov.sg/sgverify?callback=https%3A%2F%2Fkiosk.example.sg%2Fcallback" +
		"&client_id=STG2-SGVERIFY-SELF-TEST&nonce=0123456789abcdef0123456789abcdef01234567&qr_type=dynamic" +
		"&signature_method=RS256&state=kiosk-001_a&timestamp_expiry=1763800120123&timestamp_start=1763800000123&v=2&signature="
	if !strings.HasPrefix(u, want) {
		t.Fatalf("QR URL\n got %s\nwant %s<sig>", u, want)
	}
	sig := strings.TrimPrefix(u, want)
	if _, err := base64.StdEncoding.DecodeString(sig); err != nil || len(sig) != 344 {
		t.Fatalf("signature %q is not padded standard base64 of an RSA-2048 signature", sig)
	}
	q, err := ParseQR(u, &key.PublicKey)
	if err != nil {
		t.Fatalf("own QR does not parse: %v", err)
	}
	if q.State != "kiosk-001_a" || q.Nonce != sampleQR().Nonce || !q.Expiry.Equal(sampleQR().Expiry) {
		t.Fatalf("parsed %+v", q)
	}
}

func TestStaticQROmitsNonce(t *testing.T) {
	key, _ := testKeys(t)
	q := sampleQR()
	q.Type, q.Nonce = Static, ""
	u, err := SignQR(q, key)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(u, "nonce=") || !strings.Contains(u, "&client_id=STG2-SGVERIFY-SELF-TEST&qr_type=static&") {
		t.Fatalf("static QR: %s", u)
	}
}

// TestQRSignatureOpenSSL checks the signature with an independent verifier.
func TestQRSignatureOpenSSL(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Fatal("openssl is needed for this test (Debian package openssl)")
	}
	key, _ := testKeys(t)
	u, err := SignQR(sampleQR(), key)
	if err != nil {
		t.Fatal(err)
	}
	base, sig, err := SignatureBase(u)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := base64.StdEncoding.DecodeString(sig)
	der, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	dir := t.TempDir()
	files := map[string][]byte{
		"pub.pem":  pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}),
		"base.txt": []byte(base),
		"sig.bin":  raw,
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	verify := func() (string, error) {
		out, err := exec.Command(openssl, "dgst", "-sha256", "-verify", filepath.Join(dir, "pub.pem"),
			"-signature", filepath.Join(dir, "sig.bin"), filepath.Join(dir, "base.txt")).CombinedOutput()
		return string(out), err
	}
	if out, err := verify(); err != nil || !strings.Contains(out, "Verified OK") {
		t.Fatalf("openssl rejects our signature: %v\n%s", err, out)
	}
	// And it must notice a change of one byte.
	os.WriteFile(filepath.Join(dir, "base.txt"), []byte(strings.Replace(base, "kiosk-001_a", "kiosk-001_b", 1)), 0o600)
	if out, err := verify(); err == nil {
		t.Fatalf("openssl accepted a tampered base string: %s", out)
	}
}

func TestSignQRRejects(t *testing.T) {
	key, _ := testKeys(t)
	cases := map[string]func(*QR){
		"empty client id":       func(q *QR) { q.ClientID = "" },
		"state with space":      func(q *QR) { q.State = "kiosk 1" },
		"state with ampersand":  func(q *QR) { q.State = "a&b" },
		"state too long":        func(q *QR) { q.State = strings.Repeat("a", 256) },
		"empty state":           func(q *QR) { q.State = "" },
		"expiry at start":       func(q *QR) { q.Expiry = q.Start },
		"expiry before start":   func(q *QR) { q.Expiry = q.Start.Add(-time.Second) },
		"dynamic without nonce": func(q *QR) { q.Nonce = "" },
		"unknown type":          func(q *QR) { q.Type = "printed" },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			q := sampleQR()
			mutate(&q)
			if _, err := SignQR(q, key); !errors.Is(err, ErrBadQR) {
				t.Fatalf("want ErrBadQR, got %v", err)
			}
		})
	}
}

func TestParseQRRejectsTampering(t *testing.T) {
	key, other := testKeys(t)
	u, _ := SignQR(sampleQR(), key)
	cases := map[string]string{
		"state changed":     strings.Replace(u, "state=kiosk-001_a", "state=kiosk-001_b", 1),
		"expiry extended":   strings.Replace(u, "timestamp_expiry=1763800120123", "timestamp_expiry=1763900120123", 1),
		"no signature":      u[:strings.Index(u, "&signature=")],
		"garbage signature": u[:strings.Index(u, "&signature=")] + "&signature=@@@",
	}
	for name, bad := range cases {
		if _, err := ParseQR(bad, &key.PublicKey); !errors.Is(err, ErrBadQR) {
			t.Errorf("%s: want ErrBadQR, got %v", name, err)
		}
	}
	if _, err := ParseQR(u, &other.PublicKey); !errors.Is(err, ErrBadQR) {
		t.Errorf("other key: want ErrBadQR, got %v", err)
	}
	// A URL signed correctly but with parameters out of Verify's order.
	q := sampleQR()
	reordered := "https://app.singpass.gov.sg/sgverify?client_id=" + q.ClientID + "&callback=" + EncodeURIComponent(q.Callback) +
		"&nonce=" + q.Nonce + "&qr_type=dynamic&signature_method=RS256&state=" + q.State +
		"&timestamp_expiry=1763800120123&timestamp_start=1763800000123&v=2"
	sig, _ := signSHA256(key, reordered)
	if _, err := ParseQR(reordered+"&signature="+sig, &key.PublicKey); !errors.Is(err, ErrBadQR) {
		t.Errorf("reordered: want ErrBadQR, got %v", err)
	}
}

func TestEncodeURIComponent(t *testing.T) {
	cases := map[string]string{
		"https://kiosk.example/cb":       "https%3A%2F%2Fkiosk.example%2Fcb",
		"https://h/cb?x=1&y=a b":         "https%3A%2F%2Fh%2Fcb%3Fx%3D1%26y%3Da%20b",
		"-_.!~*'()":                      "-_.!~*'()",
		"é+/=":                           "%C3%A9%2B%2F%3D",
		"http://127.0.0.1:8080/callback": "http%3A%2F%2F127.0.0.1%3A8080%2Fcallback",
	}
	for in, want := range cases {
		if got := EncodeURIComponent(in); got != want {
			t.Errorf("EncodeURIComponent(%q) = %q, want %q", in, got, want)
		}
	}
}

func BenchmarkSignQR(b *testing.B) {
	key, _ := testKeys(b)
	q := sampleQR()
	for b.Loop() {
		q.Nonce = ndi.NewNonce()
		if _, err := SignQR(q, key); err != nil {
			b.Fatal(err)
		}
	}
}
