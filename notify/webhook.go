package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"ndikiosk/ndi"
)

// Header names on a webhook delivery.
const (
	SignatureHeader = "Ndikiosk-Signature" // t=UNIX,v1=HEX(HMAC-SHA256(secret, "UNIX.BODY"))
	DeliveryHeader  = "Ndikiosk-Delivery"  // the outbox row: the same on every retry, for de-duplication
)

// MinSecret is the shortest webhook secret accepted, in bytes.
const MinSecret = 32

// Webhook posts notifications as signed JSON.
type Webhook struct {
	URL     string
	Secret  []byte
	Timeout time.Duration // default 10 s
	Client  *http.Client  // nil: one of its own, which follows no redirect
}

// Payload is the JSON body of a webhook delivery.
type Payload struct {
	Event string `json:"event"` // "visitor.arrived"
	// Delivery is the outbox row, as in the Ndikiosk-Delivery header but
	// under the signature: the same on every retry, for de-duplication.
	Delivery int64  `json:"delivery"`
	ID       int64  `json:"id"` // the visit's id
	Site     string `json:"site"`
	Kiosk    string `json:"kiosk"` // "" for a walk-in registered by staff
	Host     string `json:"host"`
	Name     string `json:"name"`
	WalkIn   bool   `json:"walk_in"` // registered by staff, not verified with Singpass
	At       string `json:"at"`      // RFC 3339, Singapore time
	// Sandbox is true for a visit through the built-in Singpass sandbox (a
	// test, not a real person); left out otherwise.
	Sandbox bool `json:"sandbox,omitempty"`
}

// EventArrived is the event of a visitor's arrival.
const EventArrived = "visitor.arrived"

func payload(m Message) ([]byte, error) {
	return json.Marshal(Payload{Event: EventArrived, Delivery: m.Delivery, ID: m.VisitID, Site: m.Site, Kiosk: m.Kiosk, Host: m.Host, Name: m.Name,
		WalkIn: m.WalkIn, Sandbox: m.Sandbox, At: m.At.In(ndi.SGT).Format(time.RFC3339)})
}

// Sign is the Ndikiosk-Signature header for body at time t.
func Sign(secret []byte, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + mac(secret, ts, body)
}

func mac(secret []byte, ts string, body []byte) string {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(ts))
	h.Write([]byte{'.'})
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// Errors from Verify.
var (
	ErrSignatureFormat = errors.New("the Ndikiosk-Signature header is not t=UNIX,v1=HEX")
	ErrSignatureStale  = errors.New("the Ndikiosk-Signature timestamp is outside the tolerance (a replay, or a clock that is wrong)")
	ErrSignature       = errors.New("the Ndikiosk-Signature does not match the body under the shared secret")
)

// Verify checks a webhook delivery for its receiver: header is the
// Ndikiosk-Signature header, body the request's body exactly as received,
// now the receiver's clock and tolerance how far the signed time may be
// from it (5 minutes is usual). Several v1 values may be given, one a
// secret, during a rotation; one matching is enough.
func Verify(secret []byte, header string, body []byte, now time.Time, tolerance time.Duration) error {
	var ts string
	var sigs []string
	for _, part := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		switch {
		case !ok:
			return ErrSignatureFormat
		case k == "t":
			ts = v
		case k == "v1":
			sigs = append(sigs, v)
		}
	}
	unix, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return ErrSignatureFormat
	}
	if d := now.Sub(time.Unix(unix, 0)); d > tolerance || d < -tolerance {
		return ErrSignatureStale
	}
	want := []byte(mac(secret, ts, body))
	for _, s := range sigs {
		if hmac.Equal([]byte(strings.ToLower(s)), want) {
			return nil
		}
	}
	return ErrSignature
}

func (h *Webhook) client() *http.Client {
	if h.Client != nil {
		return h.Client
	}
	t := h.Timeout
	if t <= 0 {
		t = 10 * time.Second
	}
	return &http.Client{Timeout: t, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// send posts one message. 2xx is delivered; 408, 429, 5xx and network
// failures are retried; any other status is permanent. The error names
// the status, never the URL (it may carry a token) or the secret.
func (h *Webhook) send(ctx context.Context, c *http.Client, m Message, now time.Time) error {
	body, err := payload(m)
	if err != nil {
		return permanent("delivery %d: %v", m.Delivery, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.URL, bytes.NewReader(body))
	if err != nil {
		return permanent("delivery %d: notify.webhook.url cannot be used", m.Delivery)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "ndikiosk-hub")
	req.Header.Set(SignatureHeader, Sign(h.Secret, now, body))
	req.Header.Set(DeliveryHeader, strconv.FormatInt(m.Delivery, 10))
	resp, err := c.Do(req)
	if err != nil {
		return transient("delivery %d: webhook unreachable: %s", m.Delivery, netReason(err))
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	switch s := resp.StatusCode; {
	case s >= 200 && s < 300:
		return nil
	case s == http.StatusRequestTimeout || s == http.StatusTooManyRequests || s >= 500:
		return transient("delivery %d: webhook answered %d", m.Delivery, s)
	case s >= 300 && s < 400:
		return permanent("delivery %d: webhook redirected (%d): set notify.webhook.url to the final address", m.Delivery, s)
	default:
		return permanent("delivery %d: webhook refused it (%d)", m.Delivery, s)
	}
}

// netReason says why a request failed without the URL in it.
func netReason(err error) string {
	switch {
	case errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "Client.Timeout"):
		return "timed out"
	case strings.Contains(err.Error(), "connection refused"):
		return "connection refused"
	case strings.Contains(err.Error(), "certificate"):
		return "its TLS certificate is not trusted"
	case strings.Contains(err.Error(), "no such host"):
		return "no such host"
	}
	return fmt.Sprintf("%T", errors.Unwrap(err))
}
