package ndi

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

func TestParseCallback(t *testing.T) {
	ok, err := ParseCallback(url.Values{"code": {"abc123"}, "state": {"k-1"}, "scope": {"dob"}})
	if err != nil || ok.Code != "abc123" || ok.State != "k-1" {
		t.Fatalf("%+v %v", ok, err)
	}
	_, err = ParseCallback(url.Values{"error": {"access_denied"}, "error-description": {"user said no"}, "state": {"k-1"}})
	var pe *ProviderError
	if !errors.As(err, &pe) || !pe.Denied() || pe.Description != "user said no" || pe.State != "k-1" {
		t.Fatalf("denied: %v", err)
	}
	_, err = ParseCallback(url.Values{"error": {"503"}, "error_description": {"maintenance for S1234567D"}})
	if !errors.As(err, &pe) || !pe.Unavailable() || !Unavailable(err) || strings.Contains(err.Error(), "S1234567D") {
		t.Fatalf("unavailable: %v", err)
	}
	malformed := []url.Values{
		{},
		{"code": {"abc"}},
		{"state": {"k"}},
		{"code": {"a", "b"}, "state": {"k"}},
		{"code": {"abc"}, "state": {"k 1"}},
		{"code": {"a b"}, "state": {"k"}},
		{"code": {strings.Repeat("a", 513)}, "state": {"k"}},
		{"code": {"abc"}, "error": {"access_denied"}, "state": {"k"}},
		{"error": {""}},
	}
	for _, q := range malformed {
		if _, err := ParseCallback(q); !errors.Is(err, ErrMalformedCallback) {
			t.Errorf("%v: want ErrMalformedCallback, got %v", q, err)
		}
	}
}

func FuzzParseCallback(f *testing.F) {
	for _, s := range []string{"code=abc&state=k1", "error=access_denied&state=k", "error=503", "code=%00&state=x", "state=a&state=b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		cb, err := ParseCallback(q)
		if err == nil {
			if !ValidState(cb.State) || cb.Code == "" || len(cb.Code) > maxCodeLen {
				t.Fatalf("accepted %q as %+v", raw, cb)
			}
			return
		}
		var pe *ProviderError
		if !errors.As(err, &pe) && !errors.Is(err, ErrMalformedCallback) {
			t.Fatalf("untyped error %v", err)
		}
	})
}
