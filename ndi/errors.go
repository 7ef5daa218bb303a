// Package ndi holds what every Singpass provider shares: the person data,
// the callback or redirect that carries an authorisation code, the kinds of
// failure a caller branches on, masking and redaction, and Singapore time.
// ndi/verify, ndi/fapi, ndi/face and the sandbox build on it; they do not
// import each other.
package ndi

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
)

// Kinds of failure a caller may branch on, with errors.Is. Each provider
// maps its answers onto them; the error that wraps a kind names the
// service that failed.
var (
	// ErrCodeRejected: the code was reused, expired or unknown.
	ErrCodeRejected = errors.New("authorisation code rejected: reused, expired or unknown")
	// ErrUnauthorised: the client's signature, assertion, proof, timestamp
	// or nonce was refused, or the request does not match the consent.
	ErrUnauthorised = errors.New("request not authorised")
	// ErrForbidden: wrong endpoint, or the service or data items are not
	// registered for this client.
	ErrForbidden = errors.New("request forbidden: check the endpoint URLs and the registered data items")
	// ErrNoProfile: Singpass holds no Myinfo profile for the person.
	ErrNoProfile = errors.New("no Myinfo profile for this person")
	// ErrServer: 5xx or an unexpected status.
	ErrServer = errors.New("service error")
	// ErrUnavailable: no answer: network failure, deadline, or `error=503`.
	ErrUnavailable = errors.New("unreachable")
	// ErrBadToken: a token's signature, audience or validity is wrong.
	ErrBadToken = errors.New("token rejected")
	// ErrBadResponse: the person data could not be decrypted, verified or read.
	ErrBadResponse = errors.New("person response rejected")
)

// Service names, as errors and the unavailable screen say them.
const (
	ServiceVerify = "Singpass Verify"
	ServiceMyinfo = "Singpass Myinfo"
	ServiceFace   = "SingPass Face"
)

// APIError is a non-success answer from one of a service's endpoints. It
// unwraps to one of the kinds above (or the service's own).
type APIError struct {
	Service string // ServiceVerify, ServiceMyinfo, ServiceFace
	Short   string // prefix of the log reason: "verify", "fapi", "face"
	API     string // "token", "person", "par", "userinfo", "compare"…
	Status  int
	Code    string // an OAuth error code, if the answer had one (redacted)
	Detail  string // the server's message, PII masked, shortened
	Kind    error
}

func (e *APIError) Error() string {
	msg := fmt.Sprintf("%s %s API: HTTP %d: %v", e.Service, e.API, e.Status, e.Kind)
	switch {
	case e.Code != "" && e.Detail != "":
		msg += " (" + e.Code + ": " + e.Detail + ")"
	case e.Code != "" || e.Detail != "":
		msg += " (" + e.Code + e.Detail + ")"
	}
	return msg
}

func (e *APIError) Unwrap() error { return e.Kind }

// LogReason is a short code for the visit log, e.g. "verify-token-400".
func (e *APIError) LogReason() string { return e.Short + "-" + e.API + "-" + strconv.Itoa(e.Status) }

// UnreachableError is a call that got no answer. It matches ErrUnavailable
// with errors.Is and unwraps to the network error.
type UnreachableError struct {
	Service string
	API     string
	Err     error
}

// Unreachable wraps a network failure of one of service's endpoints.
func Unreachable(service, api string, err error) error {
	return &UnreachableError{Service: service, API: api, Err: err}
}

func (e *UnreachableError) Error() string {
	return e.Service + " is unreachable: " + e.API + ": " + e.Err.Error()
}

// Is makes errors.Is(err, ErrUnavailable) true.
func (e *UnreachableError) Is(target error) bool { return target == ErrUnavailable }

func (e *UnreachableError) Unwrap() error { return e.Err }

// LogReason is a short code for the visit log, e.g. "fapi-unreachable".
func (e *UnreachableError) LogReason() string {
	short := map[string]string{ServiceVerify: "verify", ServiceMyinfo: "fapi", ServiceFace: "face"}[e.Service]
	if short == "" {
		short = "service"
	}
	return short + "-unreachable"
}

// Unavailable reports whether err means the service could not serve the
// visit (as opposed to refusing it), so the kiosk shows the "unable to
// validate" message and the operator's alternative.
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
