package ndi

import (
	"regexp"
	"testing"
)

func TestNewNonce(t *testing.T) {
	a, b := NewNonce(), NewNonce()
	if !regexp.MustCompile(`^[0-9a-f]{40}$`).MatchString(a) || a == b {
		t.Fatalf("nonces %q %q", a, b)
	}
}

func TestValidState(t *testing.T) {
	for s, want := range map[string]bool{"kiosk1-abc_DEF": true, "": false, "a b": false, "a/b": false,
		string(make([]byte, MaxStateLen+1)): false} {
		if ValidState(s) != want {
			t.Errorf("ValidState(%q) = %v", s, !want)
		}
	}
}
