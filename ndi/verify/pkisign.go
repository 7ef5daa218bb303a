package verify

import (
	"crypto/rsa"
	"errors"
	"fmt"
	"ndikiosk/ndi"
	"sort"
	"strconv"
	"strings"
	"time"
)

// PKISign holds the fields of an `Authorization: PKI_SIGN ...` header.
type PKISign struct {
	Timestamp       string // Unix epoch milliseconds
	Nonce           string
	AppID           string
	SignatureMethod string
	Signature       string
}

// ErrBadAuthorization is wrapped when a PKI_SIGN header cannot be parsed.
var ErrBadAuthorization = errors.New("bad PKI_SIGN authorization header")

// BaseString builds the text a PKI_SIGN signature covers:
// METHOD&URL&k1=v1&k2=v2..., where URL has no query, and the parameters are
// the request's form or query fields plus app_id, nonce, signature_method
// and timestamp, sorted by name, values not percent-encoded.
func BaseString(method, endpoint string, params map[string]string, auth PKISign) string {
	all := make(map[string]string, len(params)+4)
	for k, v := range params {
		all[k] = v
	}
	all["app_id"] = auth.AppID
	all["nonce"] = auth.Nonce
	all["signature_method"] = auth.SignatureMethod
	all["timestamp"] = auth.Timestamp
	keys := make([]string, 0, len(all))
	for k := range all {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(strings.ToUpper(method))
	b.WriteByte('&')
	b.WriteString(endpoint)
	for _, k := range keys {
		b.WriteByte('&')
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(all[k])
	}
	return b.String()
}

// SignPKI signs a request and returns the Authorization header value
// (without any Bearer part).
func SignPKI(key *rsa.PrivateKey, appID, method, endpoint string, params map[string]string, now time.Time) (string, error) {
	auth := PKISign{
		Timestamp:       strconv.FormatInt(now.UnixMilli(), 10),
		Nonce:           ndi.NewNonce(),
		AppID:           appID,
		SignatureMethod: "RS256",
	}
	sig, err := signSHA256(key, BaseString(method, endpoint, params, auth))
	if err != nil {
		return "", err
	}
	auth.Signature = sig
	return auth.String(), nil
}

// String renders the header value in the field order Singpass's own
// connector emits, with no spaces after the commas.
func (p PKISign) String() string {
	return fmt.Sprintf(`PKI_SIGN timestamp="%s",nonce="%s",app_id="%s",signature_method="%s",signature="%s"`,
		p.Timestamp, p.Nonce, p.AppID, p.SignatureMethod, p.Signature)
}

// ParseAuthorization splits a PKI_SIGN header, optionally followed by
// `,Bearer <token>`, into its fields and the bearer token.
func ParseAuthorization(h string) (PKISign, string, error) {
	rest, ok := strings.CutPrefix(h, "PKI_SIGN ")
	if !ok {
		return PKISign{}, "", fmt.Errorf("%w: scheme must be PKI_SIGN", ErrBadAuthorization)
	}
	fields, bearer, _ := strings.Cut(rest, ",Bearer ")
	var p PKISign
	seen := map[string]bool{}
	for _, f := range strings.Split(fields, ",") {
		k, v, ok := strings.Cut(f, "=")
		if !ok || len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' || seen[k] {
			return PKISign{}, "", fmt.Errorf("%w: field %q", ErrBadAuthorization, truncate(f, 40))
		}
		seen[k] = true
		v = v[1 : len(v)-1]
		switch k {
		case "timestamp":
			p.Timestamp = v
		case "nonce":
			p.Nonce = v
		case "app_id":
			p.AppID = v
		case "signature_method":
			p.SignatureMethod = v
		case "signature":
			p.Signature = v
		default:
			return PKISign{}, "", fmt.Errorf("%w: unknown field %q", ErrBadAuthorization, truncate(k, 40))
		}
	}
	if p.Timestamp == "" || p.Nonce == "" || p.AppID == "" || p.Signature == "" {
		return PKISign{}, "", fmt.Errorf("%w: timestamp, nonce, app_id and signature are required", ErrBadAuthorization)
	}
	if p.SignatureMethod != "RS256" {
		return PKISign{}, "", fmt.Errorf("%w: signature_method must be RS256", ErrBadAuthorization)
	}
	return p, strings.TrimSpace(bearer), nil
}

// Verify checks the signature over the request described by the arguments.
func (p PKISign) Verify(pub *rsa.PublicKey, method, endpoint string, params map[string]string) error {
	if err := verifySHA256(pub, BaseString(method, endpoint, params, p), p.Signature); err != nil {
		return fmt.Errorf("PKI_SIGN signature does not verify: %w", err)
	}
	return nil
}

// Time returns the header's timestamp.
func (p PKISign) Time() (time.Time, error) {
	ms, err := strconv.ParseInt(p.Timestamp, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: timestamp is not epoch milliseconds", ErrBadAuthorization)
	}
	return time.UnixMilli(ms), nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
