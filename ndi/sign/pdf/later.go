package pdf

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
)

// ErrLaterChange means a revision appended after a signature changes more
// than PAdES validation data.
var ErrLaterChange = errors.New("pdf: changed after the signature")

func laterChange(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrLaterChange, fmt.Sprintf(format, a...))
}

// AfterSignature checks the revisions appended to b after offset end, the
// end of a signed revision. Each may add new objects, rewrite the document
// information dictionary, and rewrite the catalog to add or replace its
// /DSS (validation data: certificates, OCSP answers, CRLs, as PAdES B-LT
// appends them); nothing else of the signed revision may change. It
// returns the number of later revisions.
func AfterSignature(b []byte, end int64) (int, error) {
	if end < 0 || end > int64(len(b)) {
		return 0, laterChange("offset %d outside the file", end)
	}
	if end == int64(len(b)) {
		return 0, nil
	}
	signed, err := open(b[:end])
	if err != nil {
		return 0, laterChange("the signed revision: %v", err)
	}
	full, err := open(b)
	if err != nil {
		return 0, laterChange("%v", err)
	}
	rootRef, ok := parseRef(signed.trailer.Get("Root"))
	if !ok || string(bytes.TrimSpace(full.trailer.Get("Root"))) != rootRef.String() {
		return 0, laterChange("the catalog was replaced")
	}
	size, _ := strconv.Atoi(string(bytes.TrimSpace(signed.trailer.Get("Size"))))
	info, _ := parseRef(signed.trailer.Get("Info"))
	n := 0
	for off := full.startxref; off >= end; n++ {
		part := &document{b: b, offsets: map[int]int64{}, packed: map[int]packed{}, gens: map[int]int{}}
		tr, err := part.section(off)
		if err != nil {
			return 0, laterChange("%v", err)
		}
		for num := range part.gens {
			if err := allowedChange(part, num, size, rootRef, info); err != nil {
				return 0, err
			}
		}
		prev, err := strconv.ParseInt(string(bytes.TrimSpace(tr.Get("Prev"))), 10, 64)
		if err != nil || (prev < end && prev != signed.startxref) || prev >= off || n > 100 {
			return 0, laterChange("a later revision does not chain back to the signed one")
		}
		off = prev
	}
	if n == 0 || !bytes.HasSuffix(bytes.TrimRight(b, "\r\n"), []byte("%%EOF")) {
		return 0, laterChange("bytes after the signature that are no revision")
	}
	if err := sameCatalog(signed, full, rootRef); err != nil {
		return 0, err
	}
	return n, nil
}

// allowedChange reports whether a later revision may touch object num.
func allowedChange(part *document, num, size int, root, info Ref) error {
	_, inUse := part.offsets[num]
	_, isPacked := part.packed[num]
	switch {
	case num == 0:
		return nil
	case num >= size && (inUse || isPacked):
		return nil // a new object
	case !inUse && !isPacked:
		return laterChange("object %d was deleted", num)
	case num == root.Num || num == info.Num:
		return nil // checked by sameCatalog; the info dictionary does not render
	}
	return laterChange("object %d of the signed revision was rewritten", num)
}

// sameCatalog checks that the catalog differs between the revisions only
// in /DSS.
func sameCatalog(signed, full *document, root Ref) error {
	before, err := signed.object(root)
	if err != nil {
		return laterChange("%v", err)
	}
	after, err := full.object(root)
	if err != nil {
		return laterChange("%v", err)
	}
	index := func(d Dict) map[string]string {
		m := map[string]string{}
		for _, e := range d {
			if e.key != "DSS" {
				m[e.key] = string(bytes.Join(bytes.Fields(e.raw), []byte(" ")))
			}
		}
		return m
	}
	b, a := index(before), index(after)
	if len(a) != len(b) {
		return laterChange("the catalog gained or lost entries besides /DSS")
	}
	for k, v := range b {
		if a[k] != v {
			return laterChange("the catalog's /%s changed", k)
		}
	}
	return nil
}

// AppendDSS appends a revision with a /DSS holding certs (DER), as a
// PAdES B-LT signer adds validation data after signing.
func AppendDSS(b []byte, certs [][]byte) ([]byte, error) {
	d, err := open(b)
	if err != nil {
		return nil, err
	}
	root, rootRef, err := d.root()
	if err != nil {
		return nil, err
	}
	size, err := strconv.Atoi(string(bytes.TrimSpace(d.trailer.Get("Size"))))
	if err != nil || size <= 0 {
		return nil, malformed("the trailer has no usable /Size")
	}
	u := update{d: d, next: size, objs: map[int][]byte{}, gens: map[int]int{}}
	dss := u.alloc()
	var refs [][]byte
	for _, c := range certs {
		n := u.alloc()
		u.put(n, 0, fmt.Appendf(nil, "<</Length %d>>\nstream\n%s\nendstream", len(c), c))
		refs = append(refs, []byte(strconv.Itoa(n)+" 0 R"))
	}
	u.put(dss, 0, fmt.Appendf(nil, "<</Type /DSS /Certs %s>>", joinArray(refs)))
	root = append(Dict(nil), root...).set("DSS", []byte(strconv.Itoa(dss)+" 0 R"))
	u.put(rootRef.Num, rootRef.Gen, root.bytes())
	return u.write(b), nil
}
