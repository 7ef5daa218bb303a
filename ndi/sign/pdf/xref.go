package pdf

import (
	"bytes"
	"strconv"
)

// document is a PDF's newest cross-reference: where each live object
// starts, and the newest trailer.
type document struct {
	b         []byte
	offsets   map[int]int64  // object number → byte offset (in-use objects only)
	packed    map[int]packed // object number → place in an object stream
	gens      map[int]int
	trailer   Dict
	startxref int64
}

// maxObjects bounds what a cross-reference table may declare.
const maxObjects = 1 << 22

// open reads the cross-reference chain from the last startxref back
// through /Prev; newer sections win.
func open(b []byte) (*document, error) {
	if !bytes.HasPrefix(b, []byte("%PDF-")) {
		return nil, malformed("no %%PDF- header")
	}
	tail := b[max(0, len(b)-1024):]
	k := bytes.LastIndex(tail, []byte("startxref"))
	if k < 0 {
		return nil, malformed("no startxref near the end of the file")
	}
	i := skip(tail, k+len("startxref"))
	j := regular(tail, i)
	off, err := strconv.ParseInt(string(tail[i:j]), 10, 64)
	if err != nil || off <= 0 || off >= int64(len(b)) {
		return nil, malformed("startxref offset is not inside the file")
	}
	if !bytes.Contains(tail[j:], []byte("%%EOF")) {
		return nil, malformed("no %%%%EOF after startxref: the file is cut short")
	}
	d := &document{b: b, offsets: map[int]int64{}, packed: map[int]packed{}, gens: map[int]int{}, startxref: off}
	seen := map[int64]bool{}
	for off != 0 {
		if seen[off] || len(seen) > 1000 {
			return nil, malformed("cross-reference /Prev chain loops")
		}
		seen[off] = true
		tr, err := d.section(off)
		if err != nil {
			return nil, err
		}
		if d.trailer == nil {
			d.trailer = tr
		}
		off = 0
		if p := tr.Get("Prev"); p != nil {
			if off, err = strconv.ParseInt(string(bytes.TrimSpace(p)), 10, 64); err != nil || off <= 0 || off >= int64(len(b)) {
				return nil, malformed("trailer /Prev is not an offset inside the file")
			}
		}
	}
	if d.trailer.Get("Encrypt") != nil {
		return nil, errUnsupported("encrypted PDF")
	}
	return d, nil
}

func errUnsupported(what string) error {
	return &unsupported{what}
}

type unsupported struct{ what string }

func (u *unsupported) Error() string { return ErrUnsupported.Error() + ": " + u.what }
func (u *unsupported) Unwrap() error { return ErrUnsupported }

// section reads one classic cross-reference section at off and returns its
// trailer; entries already known (from newer sections) are kept.
func (d *document) section(off int64) (Dict, error) {
	b := d.b
	i := skip(b, int(off))
	if !bytes.HasPrefix(b[i:], []byte("xref")) {
		return d.xrefStream(off)
	}
	i += 4
	for {
		i = skip(b, i)
		if bytes.HasPrefix(b[i:], []byte("trailer")) {
			tr, _, err := dict(b, i+len("trailer"), 0)
			if err != nil {
				return nil, err
			}
			// A hybrid file lists its compressed objects in a stream too.
			if x := tr.Get("XRefStm"); x != nil {
				xo, err := strconv.ParseInt(string(bytes.TrimSpace(x)), 10, 64)
				if err != nil || xo <= 0 || xo >= int64(len(b)) {
					return nil, malformed("trailer /XRefStm is not an offset inside the file")
				}
				if _, err := d.xrefStream(xo); err != nil {
					return nil, err
				}
			}
			return tr, nil
		}
		first, n, next, err := subsectionHeader(b, i)
		if err != nil {
			return nil, err
		}
		if i, err = d.entries(next, first, n); err != nil {
			return nil, err
		}
	}
}

func subsectionHeader(b []byte, i int) (first, n, next int, err error) {
	j := regular(b, i)
	first, err1 := strconv.Atoi(string(b[i:j]))
	k := skip(b, j)
	l := regular(b, k)
	n, err2 := strconv.Atoi(string(b[k:l]))
	if err1 != nil || err2 != nil || first < 0 || n < 0 || first+n > maxObjects {
		return 0, 0, 0, malformed("bad xref subsection header at %d", i)
	}
	return first, n, l, nil
}

// entries reads n entries ("offset gen n|f") numbered from first.
func (d *document) entries(i, first, n int) (int, error) {
	for k := 0; k < n; k++ {
		var f [3][]byte
		for x := range f {
			i = skip(d.b, i)
			e := regular(d.b, i)
			f[x] = d.b[i:e]
			i = e
		}
		off, err1 := strconv.ParseInt(string(f[0]), 10, 64)
		gen, err2 := strconv.Atoi(string(f[1]))
		if err1 != nil || err2 != nil || (string(f[2]) != "n" && string(f[2]) != "f") {
			return 0, malformed("bad xref entry for object %d", first+k)
		}
		num := first + k
		if _, known := d.gens[num]; known {
			continue
		}
		d.gens[num] = gen
		if string(f[2]) == "n" {
			if off <= 0 || off >= int64(len(d.b)) {
				return 0, malformed("object %d is outside the file", num)
			}
			d.offsets[num] = off
		}
	}
	return i, nil
}

// object returns the dictionary of object r.
func (d *document) object(r Ref) (Dict, error) {
	raw, err := d.raw(r)
	if err != nil {
		return nil, err
	}
	dd, _, err := dict(raw, 0, 0)
	return dd, err
}

// resolve returns the dictionary a raw value names: a direct dictionary or
// a reference to one.
func (d *document) resolve(raw []byte) (Dict, *Ref, error) {
	if r, ok := parseRef(raw); ok {
		dd, err := d.object(r)
		return dd, &r, err
	}
	dd, _, err := dict(raw, 0, 0)
	return dd, nil, err
}

// page finds page n (from 1) through the page tree, with its inherited
// media box.
func (d *document) page(root Dict, n int) (Ref, Dict, []float64, error) {
	pagesRef, ok := parseRef(root.Get("Pages"))
	if !ok {
		return Ref{}, nil, nil, malformed("the catalog has no /Pages reference")
	}
	count := 0
	seen := map[int]bool{}
	var walk func(r Ref, box []float64, depth int) (Ref, Dict, []float64, error)
	walk = func(r Ref, box []float64, depth int) (Ref, Dict, []float64, error) {
		if seen[r.Num] || depth > maxDepth {
			return Ref{}, nil, nil, malformed("the page tree loops or is too deep")
		}
		seen[r.Num] = true
		node, err := d.object(r)
		if err != nil {
			return Ref{}, nil, nil, err
		}
		if mb := node.Get("MediaBox"); mb != nil {
			if box, err = numbers(mb); err != nil || len(box) != 4 {
				return Ref{}, nil, nil, malformed("bad /MediaBox")
			}
		}
		if string(bytes.TrimSpace(node.Get("Type"))) == "/Page" {
			count++
			if count == n {
				return r, node, box, nil
			}
			return Ref{}, nil, nil, nil
		}
		kids, err := arrayItems(node.Get("Kids"))
		if err != nil {
			return Ref{}, nil, nil, malformed("page tree node %d has no /Kids", r.Num)
		}
		for _, k := range kids {
			kr, ok := parseRef(k)
			if !ok {
				return Ref{}, nil, nil, malformed("a /Kids entry is not a reference")
			}
			if pr, pd, pb, err := walk(kr, box, depth+1); err != nil || pd != nil {
				return pr, pd, pb, err
			}
		}
		return Ref{}, nil, nil, nil
	}
	r, pg, box, err := walk(pagesRef, nil, 0)
	if err == nil && pg == nil {
		err = &PageError{Page: n, Pages: count}
	}
	if err == nil && box == nil {
		err = malformed("page %d has no /MediaBox", n)
	}
	return r, pg, box, err
}

// PageError means the page asked for is not in the document.
type PageError struct{ Page, Pages int }

func (e *PageError) Error() string {
	return "pdf: page " + strconv.Itoa(e.Page) + " asked for, the document has " + strconv.Itoa(e.Pages)
}
