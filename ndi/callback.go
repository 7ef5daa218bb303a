package ndi

import (
	"errors"
	"fmt"
	"net/url"
)

// Callback is what Singpass sends to the registered callback URL after the
// person consents.
type Callback struct {
	Code  string
	State string
}

// ProviderError is a callback carrying `error` instead of a code: the person
// declined (access_denied) or Verify could not serve (500, 503).
type ProviderError struct {
	Code        string // the `error` value
	Description string // error_description or error-description, redacted
	State       string // may be empty
}

func (e *ProviderError) Error() string {
	msg := "Singpass returned error " + e.Code
	if e.Description != "" {
		msg += ": " + e.Description
	}
	return msg
}

// Denied reports whether the person declined consent.
func (e *ProviderError) Denied() bool { return e.Code == "access_denied" }

// Unavailable reports whether Verify itself was down or in maintenance.
func (e *ProviderError) Unavailable() bool {
	return e.Code == "500" || e.Code == "503" || e.Code == "server_error" || e.Code == "temporarily_unavailable"
}

// ErrMalformedCallback is wrapped by every callback that is neither a valid
// code nor a valid error.
var ErrMalformedCallback = errors.New("malformed callback")

const maxCodeLen = 512

// ParseCallback reads the callback's query. It returns the code and state, a
// *ProviderError, or an error wrapping ErrMalformedCallback.
func ParseCallback(q url.Values) (Callback, error) {
	for _, k := range []string{"code", "state", "error", "error_description", "error-description"} {
		if len(q[k]) > 1 {
			return Callback{}, fmt.Errorf("%w: %s given %d times", ErrMalformedCallback, k, len(q[k]))
		}
	}
	state := q.Get("state")
	if _, has := q["state"]; has && !ValidState(state) {
		return Callback{}, fmt.Errorf("%w: state is not 1-%d characters of A-Z a-z 0-9 _ -", ErrMalformedCallback, MaxStateLen)
	}
	if e, has := q["error"]; has {
		if _, both := q["code"]; both {
			return Callback{}, fmt.Errorf("%w: both code and error", ErrMalformedCallback)
		}
		if e[0] == "" || len(e[0]) > 64 {
			return Callback{}, fmt.Errorf("%w: empty or overlong error", ErrMalformedCallback)
		}
		desc := q.Get("error_description")
		if desc == "" {
			desc = q.Get("error-description")
		}
		return Callback{}, &ProviderError{Code: Redact(e[0], 64), Description: Redact(desc, 200), State: state}
	}
	code := q.Get("code")
	switch {
	case code == "":
		return Callback{}, fmt.Errorf("%w: no code", ErrMalformedCallback)
	case len(code) > maxCodeLen:
		return Callback{}, fmt.Errorf("%w: code longer than %d bytes", ErrMalformedCallback, maxCodeLen)
	case state == "":
		return Callback{}, fmt.Errorf("%w: no state", ErrMalformedCallback)
	}
	for i := 0; i < len(code); i++ {
		if code[i] <= 0x20 || code[i] >= 0x7f {
			return Callback{}, fmt.Errorf("%w: code has a character outside printable ASCII", ErrMalformedCallback)
		}
	}
	return Callback{Code: code, State: state}, nil
}
