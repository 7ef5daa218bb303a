// Package pdf reads and appends to PDF files just enough for signing: it
// adds a signature field to a PDF as an incremental update (the original
// bytes stay as they were, byte for byte, in front of the update), with a
// /Sig dictionary whose /ByteRange and /Contents placeholder a CMS
// signature then fills; and it reads back the last signature of a signed
// PDF: its byte range, its CMS bytes, and where the revision before it ends.
//
// The writer reads classic cross-reference tables, cross-reference streams
// and object streams (FlateDecode, PNG predictors), and hybrid files; it
// writes its update with a classic table chained by /Prev. Encrypted files
// and other stream filters are refused with ErrUnsupported. The reader
// needs no cross-reference at all: it finds the last /ByteRange and checks
// it against the file.
package pdf

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
)

var (
	// ErrMalformed means the bytes are not a PDF this package can read.
	ErrMalformed = errors.New("pdf: malformed")
	// ErrUnsupported means a valid PDF uses a feature the writer does not
	// handle (cross-reference streams, encryption).
	ErrUnsupported = errors.New("pdf: unsupported")
	// ErrNoSignature means the PDF carries no signature.
	ErrNoSignature = errors.New("pdf: no signature")
)

// maxDepth bounds nesting of arrays and dictionaries: hostile files must
// not exhaust the stack.
const maxDepth = 32

func malformed(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, a...))
}

func isWhite(c byte) bool {
	return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == 0
}

func isDelim(c byte) bool {
	return bytes.IndexByte([]byte("()<>[]{}/%"), c) >= 0
}

// skip passes white space and comments from i.
func skip(b []byte, i int) int {
	for i < len(b) {
		switch {
		case isWhite(b[i]):
			i++
		case b[i] == '%':
			for i < len(b) && b[i] != '\n' && b[i] != '\r' {
				i++
			}
		default:
			return i
		}
	}
	return i
}

// regular returns the end of the run of regular characters from i.
func regular(b []byte, i int) int {
	for i < len(b) && !isWhite(b[i]) && !isDelim(b[i]) {
		i++
	}
	return i
}

// value returns the end of the PDF object that starts at i (after white
// space): a dictionary, array, string, name, number, reference or keyword.
func value(b []byte, i, depth int) (start, end int, err error) {
	i = skip(b, i)
	if i >= len(b) {
		return 0, 0, malformed("value expected at end of data")
	}
	if depth > maxDepth {
		return 0, 0, malformed("nested more than %d deep", maxDepth)
	}
	switch c := b[i]; {
	case c == '<' && i+1 < len(b) && b[i+1] == '<':
		_, end, err := dict(b, i, depth)
		return i, end, err
	case c == '<':
		j := bytes.IndexByte(b[i:], '>')
		if j < 0 {
			return 0, 0, malformed("unterminated hex string at %d", i)
		}
		return i, i + j + 1, nil
	case c == '(':
		end, err := literal(b, i)
		return i, end, err
	case c == '[':
		end, err := array(b, i, depth)
		return i, end, err
	case c == '/':
		return i, regular(b, i+1), nil
	case c == '+' || c == '-' || c == '.' || (c >= '0' && c <= '9'):
		return i, number(b, i), nil
	default:
		j := regular(b, i)
		switch string(b[i:j]) {
		case "true", "false", "null":
			return i, j, nil
		}
		return 0, 0, malformed("unexpected %q at %d", clip(b[i:j]), i)
	}
}

// array returns the end of the array at i.
func array(b []byte, i, depth int) (int, error) {
	j := i + 1
	for {
		j = skip(b, j)
		if j >= len(b) {
			return 0, malformed("unterminated array at %d", i)
		}
		if b[j] == ']' {
			return j + 1, nil
		}
		var err error
		if _, j, err = value(b, j, depth+1); err != nil {
			return 0, err
		}
	}
}

// number returns the end of a number at i, or of a reference "n g R".
func number(b []byte, i int) int {
	end := regular(b, i)
	if _, err := strconv.Atoi(string(b[i:end])); err != nil {
		return end
	}
	j := skip(b, end)
	k := regular(b, j)
	if _, err := strconv.Atoi(string(b[j:k])); err != nil || k == j {
		return end
	}
	l := skip(b, k)
	if l < len(b) && b[l] == 'R' && (l+1 == len(b) || isWhite(b[l+1]) || isDelim(b[l+1])) {
		return l + 1
	}
	return end
}

// literal returns the end of a literal string at i, with balanced
// parentheses and backslash escapes.
func literal(b []byte, i int) (int, error) {
	depth := 0
	for j := i; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return j + 1, nil
			}
		}
	}
	return 0, malformed("unterminated string at %d", i)
}

// entry is one key of a dictionary with the raw bytes of its value.
type entry struct {
	key string
	raw []byte
}

// Dict is a dictionary as written, in order, values kept as raw bytes so
// that rewriting it changes only what the writer means to change.
type Dict []entry

// dict reads the dictionary at i ("<<" … ">>").
func dict(b []byte, i, depth int) (Dict, int, error) {
	if depth > maxDepth {
		return nil, 0, malformed("nested more than %d deep", maxDepth)
	}
	i = skip(b, i)
	if !bytes.HasPrefix(b[i:], []byte("<<")) {
		return nil, 0, malformed("dictionary expected at %d", i)
	}
	var d Dict
	j := i + 2
	for {
		j = skip(b, j)
		if j >= len(b) {
			return nil, 0, malformed("unterminated dictionary at %d", i)
		}
		if bytes.HasPrefix(b[j:], []byte(">>")) {
			return d, j + 2, nil
		}
		if b[j] != '/' {
			return nil, 0, malformed("name expected in dictionary at %d", j)
		}
		k := regular(b, j+1)
		vs, ve, err := value(b, k, depth+1)
		if err != nil {
			return nil, 0, err
		}
		d = append(d, entry{key: string(b[j+1 : k]), raw: b[vs:ve]})
		j = ve
	}
}

// Get returns the raw value of key, or nil.
func (d Dict) Get(key string) []byte {
	for _, e := range d {
		if e.key == key {
			return e.raw
		}
	}
	return nil
}

// set replaces key's value, or appends it.
func (d Dict) set(key string, raw []byte) Dict {
	for i, e := range d {
		if e.key == key {
			d[i].raw = raw
			return d
		}
	}
	return append(d, entry{key: key, raw: raw})
}

func (d Dict) bytes() []byte {
	var w bytes.Buffer
	w.WriteString("<<")
	for _, e := range d {
		w.WriteString("/" + e.key + " ")
		w.Write(e.raw)
		w.WriteByte('\n')
	}
	w.WriteString(">>")
	return w.Bytes()
}

// Ref is an indirect reference.
type Ref struct{ Num, Gen int }

func (r Ref) String() string { return fmt.Sprintf("%d %d R", r.Num, r.Gen) }

// parseRef reads "n g R".
func parseRef(raw []byte) (Ref, bool) {
	f := bytes.Fields(raw)
	if len(f) != 3 || string(f[2]) != "R" {
		return Ref{}, false
	}
	n, err1 := strconv.Atoi(string(f[0]))
	g, err2 := strconv.Atoi(string(f[1]))
	if err1 != nil || err2 != nil || n <= 0 || g < 0 || g > 65535 {
		return Ref{}, false
	}
	return Ref{n, g}, true
}

// arrayItems splits a raw array into the raw bytes of its items.
func arrayItems(raw []byte) ([][]byte, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) < 2 || raw[0] != '[' || raw[len(raw)-1] != ']' {
		return nil, malformed("array expected, got %q", clip(raw))
	}
	var out [][]byte
	j := 1
	for {
		j = skip(raw, j)
		if j >= len(raw)-1 {
			return out, nil
		}
		s, e, err := value(raw[:len(raw)-1], j, 1)
		if err != nil {
			return nil, err
		}
		out = append(out, raw[s:e])
		j = e
	}
}

// numbers reads an array of numbers.
func numbers(raw []byte) ([]float64, error) {
	items, err := arrayItems(raw)
	if err != nil {
		return nil, err
	}
	out := make([]float64, len(items))
	for i, it := range items {
		if out[i], err = strconv.ParseFloat(string(it), 64); err != nil {
			return nil, malformed("number expected, got %q", clip(it))
		}
	}
	return out, nil
}

func clip(b []byte) string {
	if len(b) > 40 {
		return string(b[:40]) + "…"
	}
	return string(b)
}
