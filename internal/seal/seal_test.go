package seal

import (
	"bytes"
	"errors"
	"testing"
)

func TestSealOpen(t *testing.T) {
	k := NewKey()
	b, err := New(k)
	if err != nil {
		t.Fatal(err)
	}
	ct := b.Seal("name", "txn-1", "TAN AH KOW")
	if bytes.Contains(ct, []byte("TAN")) {
		t.Fatal("the ciphertext shows the name")
	}
	if got, err := b.Open("name", "txn-1", ct); err != nil || got != "TAN AH KOW" {
		t.Fatalf("open: %q %v", got, err)
	}
	if b.Seal("name", "txn-1", "") != nil {
		t.Fatal("an empty value is sealed into something")
	}
	for _, c := range []struct{ col, ref string }{{"masked_id", "txn-1"}, {"name", "txn-2"}} {
		if _, err := b.Open(c.col, c.ref, ct); !errors.Is(err, ErrWrongKey) {
			t.Errorf("a ciphertext moved to %s/%s opens: %v", c.col, c.ref, err)
		}
	}
	other, _ := New(NewKey())
	if _, err := other.Open("name", "txn-1", ct); !errors.Is(err, ErrWrongKey) {
		t.Errorf("another key opens it: %v", err)
	}
	flipped := append([]byte(nil), ct...)
	flipped[len(flipped)-1] ^= 1
	if _, err := b.Open("name", "txn-1", flipped); !errors.Is(err, ErrWrongKey) {
		t.Errorf("a flipped byte opens: %v", err)
	}
	if _, err := b.Open("name", "txn-1", ct[:5]); !errors.Is(err, ErrDamaged) {
		t.Errorf("a short value: %v", err)
	}
	if _, err := New(k[:32]); err == nil {
		t.Error("a 32-byte key is taken")
	}
}

func TestPersonKeyAndCheck(t *testing.T) {
	k := NewKey()
	b, _ := New(k)
	if !bytes.Equal(b.PersonKey("s1234567d"), b.PersonKey(" S1234567D ")) {
		t.Error("case or spaces change the person key")
	}
	if bytes.Equal(b.PersonKey("S1234567D"), b.PersonKey("S1234567E")) {
		t.Error("two ids share a person key")
	}
	other, _ := New(NewKey())
	if bytes.Equal(b.PersonKey("S1234567D"), other.PersonKey("S1234567D")) {
		t.Error("two logs give one person the same key")
	}
	if bytes.Equal(Check(k), Check(NewKey())) || !bytes.Equal(Check(k), Check(append([]byte(nil), k...))) {
		t.Error("the key check value does not tell keys apart")
	}
	if bytes.Contains(Check(k), k[:8]) {
		t.Error("the check value shows the key")
	}
}

func TestNameKey(t *testing.T) {
	b, err := New(NewKey())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b.NameKey("Tan  Ah Kow "), b.NameKey("TAN AH KOW")) {
		t.Error("the same name spelt with other case or spaces gives another key")
	}
	if bytes.Equal(b.NameKey("TAN AH KOW"), b.NameKey("TAN AH KOWE")) {
		t.Error("two names give one key")
	}
	if bytes.Equal(b.NameKey("S1234567D"), b.PersonKey("S1234567D")) {
		t.Error("a name key equals the person key of the same text")
	}
	other, _ := New(NewKey())
	if bytes.Equal(b.NameKey("TAN AH KOW"), other.NameKey("TAN AH KOW")) {
		t.Error("two logs give one name the same key")
	}
}

func TestKeyed(t *testing.T) {
	b, _ := New(NewKey())
	other, _ := New(NewKey())
	if !bytes.Equal(b.Keyed("a", "x"), b.Keyed("a", "x")) || bytes.Equal(b.Keyed("a", "x"), b.Keyed("b", "x")) ||
		bytes.Equal(b.Keyed("a", "x"), other.Keyed("a", "x")) || bytes.Equal(b.Keyed("a", "bx"), b.Keyed("ab", "x")) {
		t.Fatal("Keyed does not depend on exactly its key, label and value")
	}
}
