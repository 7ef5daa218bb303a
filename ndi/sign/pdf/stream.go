package pdf

import (
	"bytes"
	"compress/zlib"
	"io"
	"strconv"
)

// maxDecoded bounds what one stream may inflate to: a small file must not
// expand into gigabytes.
const maxDecoded = 64 << 20

// streamAt reads the stream object at off ("n g obj << … >> stream … endstream")
// and returns its dictionary and decoded data. Only FlateDecode (with or
// without PNG predictors) and unfiltered streams are understood.
func (d *document) streamAt(off int64) (Dict, []byte, error) {
	b := d.b
	i := skip(b, int(off))
	for k := 0; k < 2; k++ { // object number and generation
		j := regular(b, i)
		if _, err := strconv.Atoi(string(b[i:j])); err != nil || j == i {
			return nil, nil, malformed("object expected at %d", off)
		}
		i = skip(b, j)
	}
	if !bytes.HasPrefix(b[i:], []byte("obj")) {
		return nil, nil, malformed("object expected at %d", off)
	}
	dict, end, err := dictAt(b, i+3)
	if err != nil {
		return nil, nil, err
	}
	data, err := d.streamData(dict, end)
	return dict, data, err
}

func dictAt(b []byte, i int) (Dict, int, error) { return dict(b, i, 0) }

// streamData returns the decoded data of the stream whose dictionary ends
// at end.
func (d *document) streamData(dict Dict, end int) ([]byte, error) {
	b := d.b
	i := skip(b, end)
	if !bytes.HasPrefix(b[i:], []byte("stream")) {
		return nil, malformed("stream expected at %d", i)
	}
	i += len("stream")
	if i < len(b) && b[i] == '\r' {
		i++
	}
	if i < len(b) && b[i] == '\n' {
		i++
	}
	n, err := d.integer(dict.Get("Length"))
	if err != nil || n < 0 || n > len(b)-i {
		return nil, malformed("stream /Length does not fit the file")
	}
	raw := b[i : i+n]
	switch f := string(bytes.TrimSpace(dict.Get("Filter"))); f {
	case "":
		return raw, nil
	case "/FlateDecode", "[/FlateDecode]", "[ /FlateDecode ]":
	default:
		return nil, errUnsupported("stream filter " + clip([]byte(f)))
	}
	zr, err := zlib.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, malformed("bad FlateDecode stream")
	}
	out, err := io.ReadAll(io.LimitReader(zr, maxDecoded+1))
	if err != nil || len(out) > maxDecoded {
		return nil, malformed("bad or oversized FlateDecode stream")
	}
	return unpredict(out, dict.Get("DecodeParms"))
}

// integer reads a direct integer or one held by an indirect object.
func (d *document) integer(raw []byte) (int, error) {
	if r, ok := parseRef(raw); ok {
		v, err := d.raw(r)
		if err != nil {
			return 0, err
		}
		raw = v
	}
	return strconv.Atoi(string(bytes.TrimSpace(raw)))
}

// unpredict undoes PNG predictors (DecodeParms /Predictor 10–15).
func unpredict(data, parms []byte) ([]byte, error) {
	if parms == nil {
		return data, nil
	}
	p, _, err := dict(parms, 0, 0)
	if err != nil {
		return nil, err
	}
	pred, _ := strconv.Atoi(string(bytes.TrimSpace(p.Get("Predictor"))))
	if pred <= 1 {
		return data, nil
	}
	if pred < 10 {
		return nil, errUnsupported("TIFF predictor")
	}
	cols := 1
	if c := p.Get("Columns"); c != nil {
		if cols, err = strconv.Atoi(string(bytes.TrimSpace(c))); err != nil || cols < 1 || cols > 1<<16 {
			return nil, malformed("bad /Columns")
		}
	}
	row := cols + 1
	if len(data)%row != 0 {
		return nil, malformed("predicted data is not whole rows")
	}
	out := make([]byte, 0, len(data)/row*cols)
	prev := make([]byte, cols)
	for r := 0; r < len(data); r += row {
		cur := append([]byte(nil), data[r+1:r+row]...)
		for x := range cur {
			var left, upLeft byte
			if x > 0 {
				left, upLeft = cur[x-1], prev[x-1]
			}
			switch data[r] {
			case 0:
			case 1:
				cur[x] += left
			case 2:
				cur[x] += prev[x]
			case 3:
				cur[x] += byte((int(left) + int(prev[x])) / 2)
			case 4:
				cur[x] += paeth(left, prev[x], upLeft)
			default:
				return nil, malformed("bad PNG filter type %d", data[r])
			}
		}
		out = append(out, cur...)
		prev = cur
	}
	return out, nil
}

func paeth(a, b, c byte) byte {
	p := int(a) + int(b) - int(c)
	pa, pb, pc := abs(p-int(a)), abs(p-int(b)), abs(p-int(c))
	switch {
	case pa <= pb && pa <= pc:
		return a
	case pb <= pc:
		return b
	}
	return c
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// xrefStream reads a cross-reference stream at off into d and returns its
// dictionary, which serves as the trailer.
func (d *document) xrefStream(off int64) (Dict, error) {
	dict, data, err := d.streamAt(off)
	if err != nil {
		return nil, err
	}
	if string(bytes.TrimSpace(dict.Get("Type"))) != "/XRef" {
		return nil, malformed("no cross-reference at offset %d", off)
	}
	widths, index, err := xrefLayout(dict)
	if err != nil {
		return nil, err
	}
	entry := widths[0] + widths[1] + widths[2]
	pos := 0
	for k := 0; k < len(index); k += 2 {
		first, n := int(index[k]), int(index[k+1])
		if first < 0 || n < 0 || first+n > maxObjects || pos+n*entry > len(data) {
			return nil, malformed("cross-reference stream shorter than its /Index")
		}
		for j := 0; j < n; j++ {
			d.streamEntry(first+j, data[pos:pos+entry], widths)
			pos += entry
		}
	}
	return dict, nil
}

// xrefLayout reads a cross-reference stream's /W and /Index.
func xrefLayout(dict Dict) ([3]int, []float64, error) {
	var widths [3]int
	w, err := numbers(dict.Get("W"))
	if err != nil || len(w) != 3 {
		return widths, nil, malformed("cross-reference stream /W is not three numbers")
	}
	for i, v := range w {
		if v < 0 || v > 8 {
			return widths, nil, malformed("cross-reference stream /W out of range")
		}
		widths[i] = int(v)
	}
	if widths[0]+widths[1]+widths[2] == 0 {
		return widths, nil, malformed("cross-reference stream /W is all zero")
	}
	size, err := strconv.Atoi(string(bytes.TrimSpace(dict.Get("Size"))))
	if err != nil || size < 0 || size > maxObjects {
		return widths, nil, malformed("cross-reference stream /Size")
	}
	index := []float64{0, float64(size)}
	if raw := dict.Get("Index"); raw != nil {
		if index, err = numbers(raw); err != nil || len(index)%2 != 0 {
			return widths, nil, malformed("cross-reference stream /Index")
		}
	}
	return widths, index, nil
}

// streamEntry records one cross-reference stream entry, unless a newer
// section already gave the object.
func (d *document) streamEntry(num int, e []byte, w [3]int) {
	field := func(b []byte) int64 {
		var v int64
		for _, c := range b {
			v = v<<8 | int64(c)
		}
		return v
	}
	typ := int64(1)
	if w[0] > 0 {
		typ = field(e[:w[0]])
	}
	f2, f3 := field(e[w[0]:w[0]+w[1]]), field(e[w[0]+w[1]:])
	if _, known := d.gens[num]; known {
		return
	}
	switch typ {
	case 0:
		d.gens[num] = int(f3)
	case 1:
		d.gens[num] = int(f3)
		if f2 > 0 && f2 < int64(len(d.b)) {
			d.offsets[num] = f2
		}
	case 2:
		d.gens[num] = 0
		d.packed[num] = packed{stream: int(f2), index: int(f3)}
	}
}

// packed is where an object kept in an object stream lives.
type packed struct{ stream, index int }

// unpack returns the raw bytes of object num from its object stream.
func (d *document) unpack(num int) ([]byte, error) {
	p := d.packed[num]
	off, ok := d.offsets[p.stream]
	if !ok {
		return nil, malformed("object stream %d is not in the cross-reference", p.stream)
	}
	dict, data, err := d.streamAt(off)
	if err != nil {
		return nil, err
	}
	n, err1 := strconv.Atoi(string(bytes.TrimSpace(dict.Get("N"))))
	first, err2 := strconv.Atoi(string(bytes.TrimSpace(dict.Get("First"))))
	if err1 != nil || err2 != nil || n < 0 || first < 0 || first > len(data) || p.index >= n {
		return nil, malformed("object stream %d header", p.stream)
	}
	head := bytes.Fields(data[:first])
	if len(head) < 2*n {
		return nil, malformed("object stream %d header is short", p.stream)
	}
	if got, _ := strconv.Atoi(string(head[2*p.index])); got != num {
		return nil, malformed("object %d is not at its index in object stream %d", num, p.stream)
	}
	rel, err := strconv.Atoi(string(head[2*p.index+1]))
	if err != nil || rel < 0 || first+rel >= len(data) {
		return nil, malformed("object stream %d offset", p.stream)
	}
	s, e, err := value(data, first+rel, 0)
	if err != nil {
		return nil, err
	}
	return data[s:e], nil
}
