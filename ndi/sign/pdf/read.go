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

// trimDER cuts the zero padding after a DER SEQUENCE.
func trimDER(der []byte) ([]byte, error) {
	if len(der) < 2 || der[0] != 0x30 {
		return nil, malformed("/Contents does not start with a DER SEQUENCE")
	}
	n, hdr := int(der[1]), 2
	if n&0x80 != 0 {
		k := n & 0x7f
		if k == 0 || k > 4 || len(der) < 2+k {
			return nil, malformed("/Contents has a bad DER length")
		}
		n = 0
		for _, c := range der[2 : 2+k] {
			n = n<<8 | int(c)
		}
		hdr += k
	}
	if n < 0 || hdr+n > len(der) {
		return nil, malformed("/Contents is shorter than its DER length")
	}
	return der[:hdr+n], nil
}
