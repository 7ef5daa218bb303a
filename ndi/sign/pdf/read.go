package pdf

import (
	"bytes"
	"encoding/hex"
	"strconv"
)

// Signature is the last signature of a PDF as the file states it. Nothing
// here is verified: ByteRange and Contents are what the file says.
type Signature struct {
	// ByteRange is [start1 length1 start2 length2] as written.
	ByteRange [4]int64
	// Contents is the CMS SignedData (DER), without the zero padding.
	Contents []byte
	// Dict is the offset of the signature dictionary ("<<").
	Dict int64
	// RevisionEnd is where the revision before the signature ends: just
	// after the last %%EOF (and its end of line) that comes before the
	// signature dictionary.
	RevisionEnd int64
}

// LastSignature finds the last /ByteRange in b and checks that it
// describes a signature: two ranges inside the file around a hex string
// (the /Contents) of the same dictionary.
func LastSignature(b []byte) (Signature, error) {
	if !bytes.HasPrefix(b, []byte("%PDF-")) {
		return Signature{}, malformed("no %%PDF- header")
	}
	k := bytes.LastIndex(b, []byte("/ByteRange"))
	if k < 0 {
		return Signature{}, ErrNoSignature
	}
	var s Signature
	var err error
	if s.ByteRange, err = byteRange(b, k+len("/ByteRange")); err != nil {
		return Signature{}, err
	}
	r := s.ByteRange
	if s.Contents, err = gapContents(b[r[1]:r[2]]); err != nil {
		return Signature{}, err
	}
	if s.Dict, err = sigDictStart(b, k, r); err != nil {
		return Signature{}, err
	}
	eof := bytes.LastIndex(b[:s.Dict], []byte("%%EOF"))
	if eof < 0 {
		return Signature{}, malformed("no revision before the signature")
	}
	end := eof + len("%%EOF")
	if end < len(b) && b[end] == '\r' {
		end++
	}
	if end < len(b) && b[end] == '\n' {
		end++
	}
	s.RevisionEnd = int64(end)
	return s, nil
}

// byteRange reads the array after /ByteRange at i and checks that it
// describes two ranges inside the file around a gap.
func byteRange(b []byte, i int) ([4]int64, error) {
	var r [4]int64
	_, e, err := value(b, i, 0)
	if err != nil {
		return r, err
	}
	nums, err := arrayItems(b[i:e])
	if err != nil || len(nums) != 4 {
		return r, malformed("/ByteRange is not an array of four numbers")
	}
	for j, n := range nums {
		if r[j], err = strconv.ParseInt(string(n), 10, 64); err != nil || r[j] < 0 {
			return r, malformed("/ByteRange holds %q", clip(n))
		}
	}
	size := int64(len(b))
	if r[0] != 0 || r[1] < 2 || r[1] > size || r[2] < r[1]+2 || r[2] > size || r[3] > size-r[2] {
		return r, malformed("/ByteRange %v does not fit a %d-byte file", r, size)
	}
	return r, nil
}

// gapContents decodes the hex string that fills a byte range's gap.
func gapContents(gap []byte) ([]byte, error) {
	if gap[0] != '<' || gap[len(gap)-1] != '>' {
		return nil, malformed("the /ByteRange gap is not a hex string")
	}
	raw := gap[1 : len(gap)-1]
	if len(raw)%2 != 0 {
		return nil, malformed("/Contents has an odd number of hex digits")
	}
	der := make([]byte, len(raw)/2)
	if _, err := hex.Decode(der, raw); err != nil {
		return nil, malformed("/Contents is not hex")
	}
	return trimDER(der)
}

// sigDictStart finds the "<<" of the dictionary holding /ByteRange at k,
// and checks that its /Contents is the gap of the byte range.
func sigDictStart(b []byte, k int, r [4]int64) (int64, error) {
	lo := max(0, k-int(r[2]-r[1])-4096)
	for i := k - 2; i >= lo; i-- {
		if b[i] != '<' || b[i+1] != '<' {
			continue
		}
		d, end, err := dict(b, i, 0)
		if err != nil || end <= k {
			continue
		}
		c := d.Get("Contents")
		if c == nil || string(bytes.TrimSpace(d.Get("Type"))) == "/Annot" {
			continue
		}
		off := int64(cap(b) - cap(c)) // c is a subslice of b
		if off != r[1] || int64(len(c)) != r[2]-r[1] {
			return 0, malformed("/Contents of the signature dictionary is not the /ByteRange gap")
		}
		return int64(i), nil
	}
	return 0, malformed("no signature dictionary around /ByteRange")
}

// trimDER cuts the zero padding after the CMS: a DER SEQUENCE, or a BER
// one of indefinite length (as NSS writes them), measured by walking it.
func trimDER(der []byte) ([]byte, error) {
	if len(der) < 2 || der[0] != 0x30 {
		return nil, malformed("/Contents does not start with a DER SEQUENCE")
	}
	n, err := berLen(der, 0)
	if err != nil {
		return nil, err
	}
	return der[:n], nil
}

// berLen is the length of the BER element at the start of b, header
// included.
func berLen(b []byte, depth int) (int, error) {
	if depth > 64 {
		return 0, malformed("/Contents is nested too deep")
	}
	if len(b) < 2 {
		return 0, malformed("/Contents is cut short")
	}
	i := 1
	if b[0]&0x1f == 0x1f { // high tag number
		for i < len(b) && b[i]&0x80 != 0 {
			i++
		}
		i++
	}
	if i >= len(b) {
		return 0, malformed("/Contents is cut short")
	}
	l := int(b[i])
	i++
	switch {
	case l == 0x80: // indefinite: elements up to an end-of-contents 00 00
		if b[0]&0x20 == 0 {
			return 0, malformed("/Contents has an indefinite primitive")
		}
		for {
			if i+2 > len(b) {
				return 0, malformed("/Contents has no end-of-contents")
			}
			if b[i] == 0 && b[i+1] == 0 {
				return i + 2, nil
			}
			n, err := berLen(b[i:], depth+1)
			if err != nil {
				return 0, err
			}
			i += n
		}
	case l&0x80 != 0:
		k := l & 0x7f
		if k > 4 || i+k > len(b) {
			return 0, malformed("/Contents has a bad DER length")
		}
		l = 0
		for _, c := range b[i : i+k] {
			l = l<<8 | int(c)
		}
		i += k
	}
	if l < 0 || i+l > len(b) {
		return 0, malformed("/Contents is shorter than its DER length")
	}
	return i + l, nil
}
