package pdf

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Field places a signature: on page Page (from 1), its lower-left corner at
// X and Y as fractions of the page's width and height from the bottom-left
// corner (as Sign V3's x and y are), Width by Height points.
type Field struct {
	Page          int
	X, Y          float64
	Width, Height float64 // 160 by 48 when zero
	Name          string  // the field's name; "Signature1" when empty
	Signer        string  // /Name of the signature dictionary
	Reason        string
	Time          time.Time // /M; time.Now when zero
	// ContentsSize is the room, in bytes, for the CMS signature; 16384
	// when zero.
	ContentsSize int
}

// Prepared is a PDF with an empty signature appended, waiting for its CMS.
type Prepared struct {
	b         []byte
	byteRange [4]int64
}

// Check reports whether Prepare can add a signature to page of pdf.
func Check(pdf []byte, page int) error {
	d, err := open(pdf)
	if err != nil {
		return err
	}
	root, _, err := d.root()
	if err != nil {
		return err
	}
	_, _, _, err = d.page(root, page)
	return err
}

func (d *document) root() (Dict, Ref, error) {
	r, ok := parseRef(d.trailer.Get("Root"))
	if !ok {
		return nil, Ref{}, malformed("the trailer has no /Root reference")
	}
	root, err := d.object(r)
	return root, r, err
}

// Prepare appends to pdf an incremental update with a signature field on
// f.Page and a /Sig dictionary whose /Contents is a zero-filled
// placeholder. pdf itself is not changed and is a prefix of the result.
func Prepare(pdf []byte, f Field) (*Prepared, error) {
	f.defaults()
	if f.Page < 1 || f.X < 0 || f.X >= 1 || f.Y < 0 || f.Y >= 1 {
		return nil, fmt.Errorf("pdf: signature place page %d, x %g, y %g: page from 1, x and y in [0, 1)", f.Page, f.X, f.Y)
	}
	d, err := open(pdf)
	if err != nil {
		return nil, err
	}
	root, rootRef, err := d.root()
	if err != nil {
		return nil, err
	}
	pageRef, page, box, err := d.page(root, f.Page)
	if err != nil {
		return nil, err
	}
	size, err := strconv.Atoi(string(bytes.TrimSpace(d.trailer.Get("Size"))))
	if err != nil || size <= 0 || size > maxObjects {
		return nil, malformed("the trailer has no usable /Size")
	}
	u := update{d: d, next: size, objs: map[int][]byte{}, gens: map[int]int{}}
	sig, widget, ap := u.alloc(), u.alloc(), u.alloc()
	llx := box[0] + f.X*(box[2]-box[0])
	lly := box[1] + f.Y*(box[3]-box[1])
	u.put(sig, 0, []byte(sigDict(f)))
	u.put(widget, 0, fmt.Appendf(nil, "<</Type /Annot /Subtype /Widget /FT /Sig /T %s /F 132 /Rect [%s %s %s %s] /P %s /V %d 0 R /AP <</N %d 0 R>>>>",
		pdfString(f.Name), num(llx), num(lly), num(llx+f.Width), num(lly+f.Height), pageRef, sig, ap))
	u.put(ap, 0, appearance(f))
	if err := u.addAnnot(pageRef, page, widget); err != nil {
		return nil, err
	}
	if err := u.addField(rootRef, root, widget); err != nil {
		return nil, err
	}
	return u.finish(pdf)
}

func (f *Field) defaults() {
	if f.Width == 0 {
		f.Width = 160
	}
	if f.Height == 0 {
		f.Height = 48
	}
	if f.Name == "" {
		f.Name = "Signature1"
	}
	if f.Time.IsZero() {
		f.Time = time.Now()
	}
	if f.ContentsSize == 0 {
		f.ContentsSize = 16384
	}
}

// placeholder marks where the byte range goes; its width is fixed so that
// filling it in moves nothing.
const placeholder = "/ByteRange [0 0000000000 0000000000 0000000000]"

func sigDict(f Field) string {
	t := f.Time.UTC().Format("20060102150405")
	s := "<</Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached " + placeholder +
		" /Contents <" + strings.Repeat("0", 2*f.ContentsSize) + "> /M (D:" + t + "Z)"
	if f.Signer != "" {
		s += " /Name " + pdfString(f.Signer)
	}
	if f.Reason != "" {
		s += " /Reason " + pdfString(f.Reason)
	}
	return s + ">>"
}

// appearance is a framed box for the widget, with no text (text would need
// a font resource).
func appearance(f Field) []byte {
	content := fmt.Sprintf("q 0.1 0.3 0.6 RG 1.5 w 1 1 %s %s re S Q", num(f.Width-2), num(f.Height-2))
	return fmt.Appendf(nil, "<</Type /XObject /Subtype /Form /BBox [0 0 %s %s] /Length %d>>\nstream\n%s\nendstream",
		num(f.Width), num(f.Height), len(content), content)
}

func num(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// pdfString writes s as a hex string, so that no character needs escaping.
func pdfString(s string) string {
	return "<FEFF" + strings.ToUpper(hex.EncodeToString(utf16be(s))) + ">"
}

func utf16be(s string) []byte {
	var out []byte
	for _, r := range s {
		if r > 0xFFFF {
			r -= 0x10000
			hi, lo := 0xD800+(r>>10), 0xDC00+(r&0x3FF)
			out = append(out, byte(hi>>8), byte(hi), byte(lo>>8), byte(lo))
			continue
		}
		out = append(out, byte(r>>8), byte(r))
	}
	return out
}

// update collects the objects an incremental update writes.
type update struct {
	d    *document
	next int
	objs map[int][]byte
	gens map[int]int
}

func (u *update) alloc() int {
	u.next++
	return u.next - 1
}

func (u *update) put(n, gen int, body []byte) {
	u.objs[n] = body
	u.gens[n] = gen
}

// addAnnot adds widget to the page's /Annots: a direct array is extended in
// the page; an indirect one is rewritten as its own object.
func (u *update) addAnnot(pageRef Ref, page Dict, widget int) error {
	ref := []byte(fmt.Sprintf("%d 0 R", widget))
	raw := page.Get("Annots")
	if r, ok := parseRef(raw); ok {
		arr, err := u.d.raw(r)
		if err != nil {
			return err
		}
		items, err := arrayItems(arr)
		if err != nil {
			return err
		}
		u.put(r.Num, r.Gen, joinArray(append(items, ref)))
		return nil
	}
	var items [][]byte
	if raw != nil {
		var err error
		if items, err = arrayItems(raw); err != nil {
			return err
		}
	}
	page = append(Dict(nil), page...).set("Annots", joinArray(append(items, ref)))
	u.put(pageRef.Num, pageRef.Gen, page.bytes())
	return nil
}

// addField lists widget in the catalog's /AcroForm /Fields and sets
// /SigFlags 3 (signatures exist; append only).
func (u *update) addField(rootRef Ref, root Dict, widget int) error {
	ref := []byte(fmt.Sprintf("%d 0 R", widget))
	var form Dict
	var formRef *Ref
	if raw := root.Get("AcroForm"); raw != nil {
		var err error
		if form, formRef, err = u.d.resolve(raw); err != nil {
			return err
		}
	}
	var fields [][]byte
	var fieldsRef *Ref
	if raw := form.Get("Fields"); raw != nil {
		arr := raw
		if r, ok := parseRef(raw); ok {
			fieldsRef = &r
			var err error
			if arr, err = u.d.raw(r); err != nil {
				return err
			}
		}
		var err error
		if fields, err = arrayItems(arr); err != nil {
			return err
		}
	}
	fields = append(fields, ref)
	form = append(Dict(nil), form...).set("SigFlags", []byte("3"))
	if fieldsRef != nil {
		u.put(fieldsRef.Num, fieldsRef.Gen, joinArray(fields))
	} else {
		form = form.set("Fields", joinArray(fields))
	}
	if formRef != nil {
		u.put(formRef.Num, formRef.Gen, form.bytes())
		return nil
	}
	root = append(Dict(nil), root...).set("AcroForm", form.bytes())
	u.put(rootRef.Num, rootRef.Gen, root.bytes())
	return nil
}

// raw returns the bytes of object r's value ("n g obj <value>", or its
// place in an object stream).
func (d *document) raw(r Ref) ([]byte, error) {
	if _, ok := d.packed[r.Num]; ok && r.Gen == 0 {
		return d.unpack(r.Num)
	}
	off, ok := d.offsets[r.Num]
	if !ok {
		return nil, malformed("object %d is not in the cross-reference table", r.Num)
	}
	i := skip(d.b, int(off))
	head := fmt.Sprintf("%d %d obj", r.Num, r.Gen)
	if !bytes.HasPrefix(d.b[i:], []byte(head)) {
		return nil, malformed("object %d is not where the table says", r.Num)
	}
	s, e, err := value(d.b, i+len(head), 0)
	if err != nil {
		return nil, err
	}
	return d.b[s:e], nil
}

func joinArray(items [][]byte) []byte {
	return append(append([]byte("["), bytes.Join(items, []byte(" "))...), ']')
}

// finish writes the update, then fills in the byte range.
func (u *update) finish(pdf []byte) (*Prepared, error) {
	return fill(u.write(pdf), len(pdf))
}

// write returns pdf with the objects, a cross-reference section for them
// and a trailer chained to the previous one appended.
func (u *update) write(pdf []byte) []byte {
	var w bytes.Buffer
	w.Grow(len(pdf) + 64<<10)
	w.Write(pdf)
	if len(pdf) > 0 && pdf[len(pdf)-1] != '\n' && pdf[len(pdf)-1] != '\r' {
		w.WriteByte('\n')
	}
	nums := make([]int, 0, len(u.objs))
	for n := range u.objs {
		nums = append(nums, n)
	}
	sortInts(nums)
	offsets := map[int]int{}
	for _, n := range nums {
		offsets[n] = w.Len()
		fmt.Fprintf(&w, "%d %d obj\n%s\nendobj\n", n, u.gens[n], u.objs[n])
	}
	xref := w.Len()
	w.WriteString("xref\n")
	for i := 0; i < len(nums); {
		j := i
		for j+1 < len(nums) && nums[j+1] == nums[j]+1 {
			j++
		}
		fmt.Fprintf(&w, "%d %d\n", nums[i], j-i+1)
		for k := i; k <= j; k++ {
			fmt.Fprintf(&w, "%010d %05d n\r\n", offsets[nums[k]], u.gens[nums[k]])
		}
		i = j + 1
	}
	tr := Dict{{"Size", []byte(strconv.Itoa(u.next))}, {"Root", u.d.trailer.Get("Root")},
		{"Prev", []byte(strconv.FormatInt(u.d.startxref, 10))}}
	for _, k := range []string{"Info", "ID"} {
		if v := u.d.trailer.Get(k); v != nil {
			tr = append(tr, entry{k, v})
		}
	}
	fmt.Fprintf(&w, "trailer\n%s\nstartxref\n%d\n%%%%EOF\n", tr.bytes(), xref)
	return w.Bytes()
}

func sortInts(a []int) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j] < a[j-1]; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}

// fill writes the byte range around the /Contents placeholder found after
// from.
func fill(b []byte, from int) (*Prepared, error) {
	p := bytes.Index(b[from:], []byte(placeholder))
	if p < 0 {
		return nil, malformed("placeholder lost")
	}
	p += from
	c := bytes.Index(b[p:], []byte("/Contents <"))
	if c < 0 {
		return nil, malformed("placeholder lost")
	}
	start := p + c + len("/Contents ")
	end := start + bytes.IndexByte(b[start:], '>') + 1
	br := [4]int64{0, int64(start), int64(end), int64(len(b) - end)}
	s := fmt.Sprintf("/ByteRange [0 %-10d %-10d %-10d]", br[1], br[2], br[3])
	copy(b[p:], s)
	return &Prepared{b: b, byteRange: br}, nil
}

// ByteRange is the signed ranges: [start1 length1 start2 length2].
func (p *Prepared) ByteRange() [4]int64 { return p.byteRange }

// Covered returns the bytes the signature covers: everything but the
// /Contents hex string.
func (p *Prepared) Covered() []byte {
	r := p.byteRange
	out := make([]byte, 0, r[1]+r[3])
	out = append(out, p.b[:r[1]]...)
	return append(out, p.b[r[2]:]...)
}

// Embed writes the DER signature into the placeholder and returns the
// signed PDF.
func (p *Prepared) Embed(der []byte) ([]byte, error) {
	r := p.byteRange
	room := int(r[2]-r[1]-2) / 2
	if len(der) > room {
		return nil, fmt.Errorf("pdf: the signature is %d bytes, the placeholder holds %d", len(der), room)
	}
	out := append([]byte(nil), p.b...)
	hex.Encode(out[r[1]+1:], der)
	return out, nil
}
