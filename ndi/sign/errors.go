package sign

import (
	"encoding/json"
	"errors"

	"ndikiosk/ndi"
)

// Errors of the protocol. API failures are *ndi.APIError values that unwrap
// to one of these (or to ndi's ErrUnauthorised, ErrServer…); a call that got
// no answer matches ndi.ErrUnavailable.
var (
	// ErrBadInput is a request this client refuses to send.
	ErrBadInput = errors.New("sign: bad input")
	// ErrBadResponse is an answer from Sign that makes no sense.
	ErrBadResponse = errors.New("sign: unexpected answer")
	// ErrNotSigned: the visitor has not signed yet (DOCUMENT_NOT_SIGNED).
	ErrNotSigned = errors.New("the document is not signed yet")
	// ErrExpired: the request lapsed unsigned (REQUEST_EXPIRED).
	ErrExpired = errors.New("the sign request expired")
	// ErrAccessExpired: signed, but no longer downloadable
	// (SIGNED_ACCESS_EXPIRED, an hour after signing).
	ErrAccessExpired = errors.New("the signed document can no longer be fetched")
	// ErrCancelled: the request was cancelled (or declined, in the sandbox).
	ErrCancelled = errors.New("the sign request was cancelled")
	// ErrCannotCancel: the visitor has started signing, or has signed.
	ErrCannotCancel = errors.New("the sign request cannot be cancelled now")
)

// Webhook errors: each wraps ErrWebhook.
var (
	ErrWebhook         = errors.New("sign: webhook refused")
	ErrWebhookAlg      = wrap(ErrWebhook, "not an ES256 JWT")
	ErrWebhookKey      = wrap(ErrWebhook, "not signed by a key in Sign's JWKS")
	ErrWebhookExpired  = wrap(ErrWebhook, "token expired or not yet valid")
	ErrWebhookReplayed = wrap(ErrWebhook, "token already delivered")
	ErrWebhookClaims   = wrap(ErrWebhook, "claims missing or wrong")
)

// Verification errors of a signed PDF: each wraps ErrVerify.
var (
	ErrVerify = errors.New("sign: signed PDF refused")
	// ErrNoSignature: the PDF has no readable signature.
	ErrNoSignature = wrap(ErrVerify, "no signature")
	// ErrCoverage: the byte range leaves out more than the signature.
	ErrCoverage = wrap(ErrVerify, "the signature does not cover the whole file")
	// ErrTampered: the CMS signature does not match the bytes it covers.
	ErrTampered = wrap(ErrVerify, "the document was changed after signing")
	// ErrNotOriginal: the revision before the signature is not the PDF
	// that was sent.
	ErrNotOriginal = wrap(ErrVerify, "the signed document is not the one sent for signing")
	// ErrUntrustedSigner: the signer's certificate does not chain to a
	// configured root.
	ErrUntrustedSigner = wrap(ErrVerify, "the signer's certificate is not from a trusted root")
)

type kindError struct {
	parent error
	msg    string
}

func wrap(parent error, msg string) error { return &kindError{parent, msg} }

func (e *kindError) Error() string { return e.parent.Error() + ": " + e.msg }
func (e *kindError) Unwrap() error { return e.parent }

// apiError maps a non-2xx answer to an *ndi.APIError of a kind above.
func apiError(api string, status int, body []byte) error {
	e := &ndi.APIError{Service: Service, Short: "sign", API: api, Status: status}
	var b struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if json.Unmarshal(body, &b) == nil {
		e.Code, e.Detail = ndi.Redact(b.Error, 64), ndi.Redact(b.Description, 200)
	}
	switch {
	case e.Code == "DOCUMENT_NOT_SIGNED":
		e.Kind = ErrNotSigned
	case e.Code == "REQUEST_EXPIRED":
		e.Kind = ErrExpired
	case e.Code == "SIGNED_ACCESS_EXPIRED":
		e.Kind = ErrAccessExpired
	case e.Code == "REQUEST_CANCELLED":
		e.Kind = ErrCancelled
	case api == "cancel" && status == 400:
		e.Kind = ErrCannotCancel
	case status == 401:
		e.Kind = ndi.ErrUnauthorised
	case status == 403:
		e.Kind = ndi.ErrForbidden
	case status == 400 || status == 413 || status == 415:
		e.Kind = ErrBadInput
	case status == 502 || status == 503 || status == 504:
		e.Kind = ndi.ErrUnavailable
	case status >= 500:
		e.Kind = ndi.ErrServer
	default:
		e.Kind = ErrBadResponse
	}
	return e
}
