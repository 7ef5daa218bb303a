package ndi

import (
	"crypto/rand"
	"encoding/hex"
)

// MaxStateLen bounds a state: Verify appends it unencoded to the callback,
// FAPI carries it through the phone's browser.
const MaxStateLen = 255

// NewNonce returns a single-use nonce: 20 random bytes as 40 hex characters.
func NewNonce() string { return RandomHex(20) }

// RandomHex is n random bytes as hex.
func RandomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return hex.EncodeToString(b)
}

// ValidState reports whether s can travel unencoded in a QR and a callback.
func ValidState(s string) bool {
	if s == "" || len(s) > MaxStateLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
