// Package verify speaks Singpass Verify v2 from the relying party's side:
// signed QR URLs, the callback, and the token and person APIs with PKI_SIGN
// requests and encrypted, signed responses.
package verify

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"ndikiosk/ndi"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// QRBaseURL is where every Verify QR points, for staging and production
// client IDs alike.
const QRBaseURL = "https://app.singpass.gov.sg/sgverify"

// QR types.
const (
	Static  = "static"
	Dynamic = "dynamic"
)

// QR describes one Verify QR code.
type QR struct {
	BaseURL  string // QRBaseURL unless a sandbox stands in
	Callback string // the registered callback URL, as registered
	ClientID string
	Nonce    string // dynamic codes only; ndi.NewNonce makes one
	Type     string // Static or Dynamic
	State    string // [A-Za-z0-9_-]{1,255}
	Start    time.Time
	Expiry   time.Time
}

// ErrBadQR is wrapped by every QR validation failure.
var ErrBadQR = errors.New("invalid QR")

func (q QR) check() error {
	switch {
	case q.ClientID == "":
		return fmt.Errorf("%w: empty client_id", ErrBadQR)
	case strings.ContainsAny(q.ClientID, "&=?# "):
		return fmt.Errorf("%w: client_id has characters that cannot stand unencoded in the URL", ErrBadQR)
	case q.Callback == "":
		return fmt.Errorf("%w: empty callback URL", ErrBadQR)
	case !ndi.ValidState(q.State):
		return fmt.Errorf("%w: state must be 1-%d characters of A-Z a-z 0-9 _ -", ErrBadQR, ndi.MaxStateLen)
	case q.Type != Static && q.Type != Dynamic:
		return fmt.Errorf("%w: qr_type %q (want static or dynamic)", ErrBadQR, q.Type)
	case q.Type == Dynamic && q.Nonce == "":
		return fmt.Errorf("%w: a dynamic QR needs a nonce", ErrBadQR)
	case q.Type == Dynamic && strings.ContainsAny(q.Nonce, "&=?# "):
		return fmt.Errorf("%w: nonce has characters that cannot stand unencoded in the URL", ErrBadQR)
	case !q.Expiry.After(q.Start):
		return fmt.Errorf("%w: expiry must be after start", ErrBadQR)
	}
	return nil
}

// unsigned returns the signature base string: the whole URL with parameters
// in the order Verify requires (alphabetical), callback percent-encoded as by
// JavaScript's encodeURIComponent, every other value raw.
func (q QR) unsigned() string {
	base := q.BaseURL
	if base == "" {
		base = QRBaseURL
	}
	var b strings.Builder
	b.WriteString(base)
	b.WriteString("?callback=")
	b.WriteString(EncodeURIComponent(q.Callback))
	b.WriteString("&client_id=")
	b.WriteString(q.ClientID)
	if q.Type == Dynamic {
		b.WriteString("&nonce=")
		b.WriteString(q.Nonce)
	}
	b.WriteString("&qr_type=")
	b.WriteString(q.Type)
	b.WriteString("&signature_method=RS256&state=")
	b.WriteString(q.State)
	b.WriteString("&timestamp_expiry=")
	b.WriteString(strconv.FormatInt(q.Expiry.UnixMilli(), 10))
	b.WriteString("&timestamp_start=")
	b.WriteString(strconv.FormatInt(q.Start.UnixMilli(), 10))
	b.WriteString("&v=2")
	return b.String()
}

// SignQR returns the full signed QR URL.
func SignQR(q QR, key *rsa.PrivateKey) (string, error) {
	if err := q.check(); err != nil {
		return "", err
	}
	base := q.unsigned()
	sig, err := signSHA256(key, base)
	if err != nil {
		return "", err
	}
	return base + "&signature=" + sig, nil
}

// SignatureBase returns the string SignQR signs; tests and auditors use it to
// check a signature independently.
func SignatureBase(signedURL string) (base, signature string, err error) {
	i := strings.LastIndex(signedURL, "&signature=")
	if i < 0 {
		return "", "", fmt.Errorf("%w: no signature parameter", ErrBadQR)
	}
	return signedURL[:i], signedURL[i+len("&signature="):], nil
}

// ParseQR checks a signed QR URL against pub and returns what it says. It is
// what the Singpass side does when the app scans a code; the sandbox uses it.
func ParseQR(signedURL string, pub *rsa.PublicKey) (QR, error) {
	base, sig, err := SignatureBase(signedURL)
	if err != nil {
		return QR{}, err
	}
	if err := verifySHA256(pub, base, sig); err != nil {
		return QR{}, fmt.Errorf("%w: signature does not verify with the registered certificate", ErrBadQR)
	}
	u, err := url.Parse(base)
	if err != nil {
		return QR{}, fmt.Errorf("%w: %v", ErrBadQR, err)
	}
	vals, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return QR{}, fmt.Errorf("%w: %v", ErrBadQR, err)
	}
	for k, v := range vals {
		if len(v) != 1 {
			return QR{}, fmt.Errorf("%w: parameter %s given %d times", ErrBadQR, k, len(v))
		}
	}
	if vals.Get("v") != "2" || vals.Get("signature_method") != "RS256" {
		return QR{}, fmt.Errorf("%w: want v=2 and signature_method=RS256", ErrBadQR)
	}
	ms := func(name string) (time.Time, error) {
		n, err := strconv.ParseInt(vals.Get(name), 10, 64)
		if err != nil {
			return time.Time{}, fmt.Errorf("%w: %s is not epoch milliseconds", ErrBadQR, name)
		}
		return time.UnixMilli(n), nil
	}
	q := QR{
		BaseURL:  u.Scheme + "://" + u.Host + u.Path,
		Callback: vals.Get("callback"),
		ClientID: vals.Get("client_id"),
		Nonce:    vals.Get("nonce"),
		Type:     vals.Get("qr_type"),
		State:    vals.Get("state"),
	}
	if q.Start, err = ms("timestamp_start"); err != nil {
		return QR{}, err
	}
	if q.Expiry, err = ms("timestamp_expiry"); err != nil {
		return QR{}, err
	}
	if err := q.check(); err != nil {
		return QR{}, err
	}
	// The signed text must be exactly what we would build: this catches
	// reordered or re-encoded parameters.
	if q.unsigned() != base {
		return QR{}, fmt.Errorf("%w: parameters are not in Verify's order and encoding", ErrBadQR)
	}
	return q, nil
}

func signSHA256(key *rsa.PrivateKey, s string) (string, error) {
	h := sha256.Sum256([]byte(s))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, h[:])
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}

func verifySHA256(pub *rsa.PublicKey, s, sig string) error {
	raw, err := base64.StdEncoding.DecodeString(sig)
	if err != nil {
		return errors.New("signature is not standard base64")
	}
	h := sha256.Sum256([]byte(s))
	return rsa.VerifyPKCS1v15(pub, crypto.SHA256, h[:], raw)
}

// EncodeURIComponent escapes s as JavaScript's encodeURIComponent does: every
// byte of its UTF-8 form except A-Z a-z 0-9 - _ . ! ~ * ' ( ) becomes %XX.
func EncodeURIComponent(s string) string {
	const hexdigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-_.!~*'()", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexdigits[c>>4])
		b.WriteByte(hexdigits[c&15])
	}
	return b.String()
}
