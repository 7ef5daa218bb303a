// Package seal is the visit log's cryptography, shared by the kiosk's
// SQLite log (storage) and the hub's PostgreSQL log (pgstore): personal
// values encrypted with AES-256-GCM and bound to their column and row, a
// person recognised by an HMAC-SHA256 of their UIN/FIN, and a key check
// value by which a database knows its key without holding it.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
)

// KeySize is the size of a visit log key: the AES-256 key, then the HMAC key.
const KeySize = 64

// Box seals and opens one log's personal values.
type Box struct {
	aead cipher.AEAD
	mac  []byte
}

// New makes a Box from a KeySize-byte key.
func New(key []byte) (*Box, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("a visit log key is %d bytes, not %d", KeySize, len(key))
	}
	block, err := aes.NewCipher(key[:32])
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Box{aead: aead, mac: append([]byte(nil), key[32:]...)}, nil
}

// NewKey returns a fresh random key.
func NewKey() []byte {
	k := make([]byte, KeySize)
	rand.Read(k)
	return k
}

// PersonKey is HMAC-SHA256 of the upper-cased UIN/FIN with this log's
// secret: the same person gives the same key here and nowhere else.
func (b *Box) PersonKey(uinfin string) []byte {
	m := hmac.New(sha256.New, b.mac)
	m.Write([]byte(strings.ToUpper(strings.TrimSpace(uinfin))))
	return m.Sum(nil)
}

// NameKey is HMAC-SHA256 of a person's name as Singpass spells it
// (upper-cased, runs of space folded), under this log's secret and a label
// that keeps it apart from PersonKey: an invitation made out to a name is
// found again by the name a scan brings, and the hash reveals nothing.
func (b *Box) NameKey(name string) []byte {
	m := hmac.New(sha256.New, b.mac)
	m.Write([]byte("name\x00"))
	m.Write([]byte(strings.ToUpper(strings.Join(strings.Fields(name), " "))))
	return m.Sum(nil)
}

// Keyed is HMAC-SHA256 of value under this log's secret and a label of
// its use: a value the log must find again but never show (a name typed at
// a failed sign-in, which may be a password typed in the wrong field).
func (b *Box) Keyed(label, value string) []byte {
	m := hmac.New(sha256.New, b.mac)
	m.Write([]byte(label + "\x00"))
	m.Write([]byte(value))
	return m.Sum(nil)
}

// Seal encrypts a personal value, bound to its column and row reference so
// that ciphertexts cannot be swapped between rows or columns. An empty
// value stays empty (nil).
func (b *Box) Seal(column, ref, value string) []byte {
	if value == "" {
		return nil
	}
	nonce := make([]byte, b.aead.NonceSize())
	rand.Read(nonce)
	return b.aead.Seal(nonce, nonce, []byte(value), []byte(column+"|"+ref))
}

// ErrDamaged and ErrWrongKey are Open's failures: a value too short to be
// a ciphertext, and one that does not decrypt (another key, another row,
// or a changed byte).
var (
	ErrDamaged  = errors.New("damaged")
	ErrWrongKey = errors.New("does not decrypt")
)

// Open decrypts what Seal made for the same column and reference.
func (b *Box) Open(column, ref string, ct []byte) (string, error) {
	if len(ct) == 0 {
		return "", nil
	}
	n := b.aead.NonceSize()
	if len(ct) < n {
		return "", ErrDamaged
	}
	out, err := b.aead.Open(nil, ct[:n], ct[n:], []byte(column+"|"+ref))
	if err != nil {
		return "", ErrWrongKey
	}
	return string(out), nil
}

// checkLabel is what the key check value is the HMAC of, keyed with the
// whole key (both halves).
const checkLabel = "ndikiosk visit log key check v1"

// Check is the key check value of key: stored beside the data, it tells
// the right key from another and reveals nothing of it.
func Check(key []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(checkLabel))
	return m.Sum(nil)
}
