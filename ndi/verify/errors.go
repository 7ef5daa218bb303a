package verify

import (
	"errors"
	"fmt"
	"regexp"
)

// Kinds of failure a caller may branch on, with errors.Is. Each status of
// the Verify error table maps to one of them.
var (
	// ErrCodeRejected: token API 400, the code was reused, expired or unknown.
	ErrCodeRejected = errors.New("authorisation code rejected: reused, expired or unknown")
	// ErrUnauthorised: 401, the signature, app id, timestamp or nonce was
	// refused, or the attributes or UIN/FIN do not match the consent.
	ErrUnauthorised = errors.New("request not authorised by Singpass")
	// ErrForbidden: 403, wrong API URL, or the service or attributes are
	// not registered for this client.
	ErrForbidden = errors.New("request forbidden by Singpass: check the endpoint URLs and the registered attributes")
	// ErrNoProfile: person API 404, Singpass holds no Myinfo profile.
	ErrNoProfile = errors.New("no Myinfo profile for this person")
	// ErrServer: 5xx or an unexpected status.
	ErrServer = errors.New("Singpass service error")
	// ErrUnavailable: no answer: network failure, deadline, or `error=503`.
	ErrUnavailable = errors.New("Singpass Verify is unreachable")
	// ErrBadToken: the access token's signature or validity is wrong.
	ErrBadToken = errors.New("access token rejected")
	// ErrBadResponse: the person data could not be decrypted, verified or read.
	ErrBadResponse = errors.New("person response rejected")
)

// APIError is a non-200 answer from the token or person API.
type APIError struct {
	API     string // "token" or "person"
	Status  int
	Message string // the server's message, PII masked, shortened
	kind    error
}

func (e *APIError) Error() string {
	msg := fmt.Sprintf("verify %s API: HTTP %d: %v", e.API, e.Status, e.kind)
	if e.Message != "" {
		msg += " (" + e.Message + ")"
	}
	return msg
}

func (e *APIError) Unwrap() error { return e.kind }

func statusKind(api string, status int) error {
	switch {
	case status == 400 && api == "token":
		return ErrCodeRejected
	case status == 401:
		return ErrUnauthorised
	case status == 403:
		return ErrForbidden
	case status == 404 && api == "person":
		return ErrNoProfile
	case status == 502 || status == 503 || status == 504:
		return ErrUnavailable
	default:
		return ErrServer
	}
}

// Unavailable reports whether err means Verify could not serve the visit
// (as opposed to refusing it), so the kiosk shows the "unable to validate"
// message and the operator's alternative.
func Unavailable(err error) bool {
	var pe *ProviderError
	if errors.As(err, &pe) {
		return pe.Unavailable()
	}
	return errors.Is(err, ErrUnavailable) || errors.Is(err, ErrServer)
}

var nricPattern = regexp.MustCompile(`(?i)\b[STFGM]\d{7}[A-Z]\b`)

// Redact masks anything shaped like an NRIC/FIN, drops control characters
// and shortens s, so text from outside can go into errors and logs.
func Redact(s string, max int) string {
	s = nricPattern.ReplaceAllStringFunc(s, MaskID)
	out := make([]rune, 0, len(s))
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			r = ' '
		}
		out = append(out, r)
		if len(out) >= max {
			out = append(out, '…')
			break
		}
	}
	return string(out)
}
