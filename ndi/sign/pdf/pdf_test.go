package pdf

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fakeDER is a DER SEQUENCE of n zero bytes' content, standing in for CMS.
func fakeDER(n int) []byte {
	b := []byte{0x30, 0x82, byte(n >> 8), byte(n)}
	return append(b, bytes.Repeat([]byte{7}, n)...)
}

func prepared(t *testing.T, doc []byte, f Field) []byte {
	t.Helper()
	p, err := Prepare(doc, f)
	if err != nil {
		t.Fatal(err)
	}
	out, err := p.Embed(fakeDER(300))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestPrepareKeepsTheOriginalAndReadsBack(t *testing.T) {
	doc := Sample(3, 20_000)
	when := time.Date(2026, 12, 3, 6, 0, 0, 0, time.UTC)
	p, err := Prepare(doc, Field{Page: 2, X: 0.5, Y: 0.1, Signer: "Tan Ah Kow", Time: when})
	if err != nil {
		t.Fatal(err)
	}
	signed, err := p.Embed(fakeDER(300))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(signed, doc) {
		t.Fatal("the original is not a prefix of the signed file")
	}
	s, err := LastSignature(signed)
	if err != nil {
		t.Fatal(err)
	}
	r := s.ByteRange
	if r != p.ByteRange() || r[0] != 0 || r[2]+r[3] != int64(len(signed)) {
		t.Fatalf("byte range %v for a %d-byte file (prepared %v)", r, len(signed), p.ByteRange())
	}
	if !bytes.Equal(s.Contents, fakeDER(300)) {
		t.Fatalf("contents %d bytes, want the 304 embedded", len(s.Contents))
	}
	if s.RevisionEnd != int64(len(doc)) {
		t.Fatalf("revision before the signature ends at %d, the original is %d bytes", s.RevisionEnd, len(doc))
	}
	cov := p.Covered()
	if int64(len(cov)) != r[1]+r[3] || !bytes.Equal(cov[:r[1]], signed[:r[1]]) || !bytes.Equal(cov[r[1]:], signed[r[2]:]) {
		t.Fatal("Covered is not the file without the contents")
	}
	// The update must itself be a readable revision: open it and find the
	// widget on page 2 and the field in the AcroForm.
	d, err := open(signed)
	if err != nil {
		t.Fatal(err)
	}
	root, _, err := d.root()
	if err != nil {
		t.Fatal(err)
	}
	_, page, _, err := d.page(root, 2)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(page.Get("Annots"), []byte(" 0 R")) {
		t.Fatalf("page 2 /Annots = %q", page.Get("Annots"))
	}
	form, _, err := d.resolve(root.Get("AcroForm"))
	if err != nil || string(form.Get("SigFlags")) != "3" || string(form.Get("Fields")) != string(page.Get("Annots")) {
		t.Fatalf("AcroForm %q, err %v", form.bytes(), err)
	}
	if !bytes.Contains(signed, []byte("/M (D:20261203060000Z)")) {
		t.Fatal("signing time not written")
	}
	if pdfinfo, err := exec.LookPath("pdfinfo"); err == nil {
		path := filepath.Join(t.TempDir(), "s.pdf")
		os.WriteFile(path, signed, 0o600)
		out, err := exec.Command(pdfinfo, path).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "Pages:           3") || strings.Contains(string(out), "Syntax Error") {
			t.Fatalf("pdfinfo: %v\n%s", err, out)
		}
	}
}

func TestSecondSignatureAppendsToTheFirst(t *testing.T) {
	once := prepared(t, Sample(1, 0), Field{Page: 1, X: 0.1, Y: 0.1})
	twice := prepared(t, once, Field{Page: 1, X: 0.5, Y: 0.1, Name: "Signature2"})
	s, err := LastSignature(twice)
	if err != nil {
		t.Fatal(err)
	}
	if s.RevisionEnd != int64(len(once)) {
		t.Fatalf("revision end %d, want %d", s.RevisionEnd, len(once))
	}
	d, err := open(twice)
	if err != nil {
		t.Fatal(err)
	}
	root, _, _ := d.root()
	form, _, _ := d.resolve(root.Get("AcroForm"))
	if items, _ := arrayItems(form.Get("Fields")); len(items) != 2 {
		t.Fatalf("fields %q, want two", form.Get("Fields"))
	}
}

func TestPrepareRefusesBadInput(t *testing.T) {
	doc := Sample(1, 0)
	xrefStream := []byte("%PDF-1.5\n1 0 obj\n<</Type /XRef /Size 2>>\nstream\n\nendstream\nendobj\nstartxref\n9\n%%EOF\n")
	cases := []struct {
		name string
		doc  []byte
		f    Field
		want error
	}{
		{"not a PDF", []byte("hello"), Field{Page: 1}, ErrMalformed},
		{"truncated", doc[:len(doc)/2], Field{Page: 1}, ErrMalformed},
		{"page 0", doc, Field{Page: 0}, nil},
		{"x out of range", doc, Field{Page: 1, X: 1}, nil},
		{"y negative", doc, Field{Page: 1, Y: -0.1}, nil},
		{"xref stream without a length", xrefStream, Field{Page: 1}, ErrMalformed},
		{"xref stream in LZW", bytes.Replace(xrefStream, []byte("/Size 2>>"), []byte("/Size 2 /Length 0 /Filter /LZWDecode>>"), 1), Field{Page: 1}, ErrUnsupported},
		{"encrypted", bytes.Replace(doc, []byte("/Root 1 0 R>>"), []byte("/Root 1 0 R /Encrypt 9 0 R>>"), 1), Field{Page: 1}, ErrUnsupported},
		{"bad startxref", bytes.Replace(doc, []byte("startxref\n"), []byte("startxref\n9"), 1), Field{Page: 1}, ErrMalformed},
	}
	for _, c := range cases {
		_, err := Prepare(c.doc, c.f)
		if err == nil || (c.want != nil && !errors.Is(err, c.want)) {
			t.Errorf("%s: err %v, want %v", c.name, err, c.want)
		}
	}
	var pe *PageError
	if _, err := Prepare(doc, Field{Page: 2}); !errors.As(err, &pe) || pe.Pages != 1 {
		t.Errorf("page 2 of 1: %v", err)
	}
	if err := Check(doc, 1); err != nil {
		t.Errorf("Check: %v", err)
	}
}

func TestEmbedRefusesAnOversizedSignature(t *testing.T) {
	p, err := Prepare(Sample(1, 0), Field{Page: 1, ContentsSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Embed(fakeDER(200)); err == nil {
		t.Fatal("a 204-byte signature went into 100 bytes of room")
	}
}

func TestLastSignatureRefusesForgedRanges(t *testing.T) {
	signed := prepared(t, Sample(1, 0), Field{Page: 1})
	s, _ := LastSignature(signed)
	r := s.ByteRange
	swap := func(from, to string) []byte {
		return bytes.Replace(append([]byte(nil), signed...), []byte(from), []byte(to), 1)
	}
	br := func(a, b, c, d int64) string {
		return "/ByteRange [" + strings.Join([]string{itoa(a), itoa(b), itoa(c), itoa(d)}, " ") + "]"
	}
	idx := bytes.Index(signed, []byte("/ByteRange ["))
	end := idx + bytes.IndexByte(signed[idx:], ']') + 1
	current := string(signed[idx:end])
	cases := map[string][]byte{
		"no header":         signed[5:],
		"unsigned":          Sample(1, 0),
		"beyond the file":   swap(current, pad(br(0, r[1], r[2], r[3]+1000), len(current))),
		"gap not contents":  swap(current, pad(br(0, r[1]-10, r[2], r[3]), len(current))),
		"not starting at 0": swap(current, pad(br(5, r[1], r[2], r[3]), len(current))),
		"three numbers":     swap(current, pad("/ByteRange [0 1 2]", len(current))),
		"odd hex":           swap("<3082", "<308"),
		"not DER":           swap("<3082", "<4082"),
	}
	for name, b := range cases {
		if _, err := LastSignature(b); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

func pad(s string, n int) string {
	if len(s) >= n {
		return s
	}
	return s[:len(s)-1] + strings.Repeat(" ", n-len(s)) + "]"
}

func FuzzLastSignature(f *testing.F) {
	f.Add(Sample(1, 0))
	p, _ := Prepare(Sample(1, 0), Field{Page: 1, ContentsSize: 64})
	signed, _ := p.Embed(fakeDER(20))
	f.Add(signed)
	withDSS, _ := AppendDSS(signed, [][]byte{[]byte("cert")})
	f.Add(withDSS)
	f.Add([]byte("%PDF-1.7\n<</ByteRange [0 1 2 3] /Contents <30>>>"))
	f.Add([]byte("%PDF-1.7\n%%EOF\n<</ByteRange [0 27 45 3] /Contents <3080a080040100000000000000>>>"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := LastSignature(b)
		if err != nil {
			return
		}
		r := s.ByteRange
		if r[0] != 0 || r[1]+(r[2]-r[1]) > int64(len(b)) || r[2]+r[3] > int64(len(b)) || s.RevisionEnd > s.Dict {
			t.Fatalf("accepted an impossible signature %+v in %d bytes", s, len(b))
		}
		Check(b, 1)
		AfterSignature(b, r[2]+r[3])
	})
}

// build writes a PDF of the given object bodies (numbered from 1), with a
// classic cross-reference table and trailer.
func build(objs ...string) []byte {
	var w bytes.Buffer
	w.WriteString("%PDF-1.4\n")
	var offs []int
	for i, o := range objs {
		offs = append(offs, w.Len())
		w.WriteString(strconv.Itoa(i+1) + " 0 obj\n" + o + "\nendobj\n")
	}
	x := w.Len()
	w.WriteString("xref\n0 " + strconv.Itoa(len(objs)+1) + "\n0000000000 65535 f \n")
	for _, o := range offs {
		w.WriteString(strings.Repeat("0", 10-len(strconv.Itoa(o))) + strconv.Itoa(o) + " 00000 n \n")
	}
	w.WriteString("trailer\n<< /Size " + strconv.Itoa(len(objs)+1) + " /Root 1 0 R /ID [<01> <02>] >>\nstartxref\n" + strconv.Itoa(x) + "\n%%EOF")
	return w.Bytes()
}

// Annotations and form fields kept as objects of their own are extended
// where they are; a nested page tree with an inherited media box is walked.
func TestPrepareExtendsIndirectArrays(t *testing.T) {
	doc := build(
		"<< /Type /Catalog /Pages 2 0 R /AcroForm 6 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 2 /MediaBox [0 0 595 842] >>",
		"<< /Type /Pages /Parent 2 0 R /Kids [4 0 R 5 0 R] /Count 2 >>",
		"<< /Type /Page /Parent 3 0 R >>",
		"<< /Type /Page /Parent 3 0 R /Annots 7 0 R /MediaBox [100 100 300 300] >>",
		"<< /Fields 8 0 R /DA (/Helv 0 Tf 0 g) >>",
		"[ ]",
		"[9 0 R]",
		"<< /FT /Tx /T (name) >>",
	)
	if !bytes.HasSuffix(doc, []byte("%%EOF")) {
		t.Fatal("the sample should end without a line end")
	}
	p, err := Prepare(doc, Field{Page: 2, X: 0.5, Y: 0.25, Width: 10, Height: 10})
	if err != nil {
		t.Fatal(err)
	}
	signed, _ := p.Embed(fakeDER(10))
	d, err := open(signed)
	if err != nil {
		t.Fatal(err)
	}
	annots, _ := d.raw(Ref{7, 0})
	fields, _ := d.raw(Ref{8, 0})
	form, _ := d.object(Ref{6, 0})
	if string(annots) != "[11 0 R]" || string(fields) != "[9 0 R 11 0 R]" || string(form.Get("SigFlags")) != "3" || string(form.Get("DA")) != "(/Helv 0 Tf 0 g)" {
		t.Fatalf("annots %q, fields %q, form %q", annots, fields, form.bytes())
	}
	widget, _ := d.object(Ref{11, 0}) // 10 is the /Sig dictionary
	if string(widget.Get("Rect")) != "[200 150 210 160]" || string(widget.Get("P")) != "5 0 R" {
		t.Fatalf("widget %q", widget.bytes())
	}
	if string(d.trailer.Get("ID")) != "[<01> <02>]" || string(d.trailer.Get("Prev")) == "" {
		t.Fatalf("trailer %q", d.trailer.bytes())
	}
	s, err := LastSignature(signed)
	if err != nil || s.RevisionEnd != int64(len(doc))+1 {
		t.Fatalf("revision end %d (original %d bytes, no final line end): %v", s.RevisionEnd, len(doc), err)
	}
	// A page tree that loops is refused, not followed forever.
	loop := build("<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [2 0 R] /Count 1 >>")
	if _, err := Prepare(loop, Field{Page: 1}); !errors.Is(err, ErrMalformed) {
		t.Fatalf("looping page tree: %v", err)
	}
	deep := "[" + strings.Repeat("[", 100) + strings.Repeat("]", 100) + "]"
	if _, err := Prepare(build("<< /Type /Catalog /Pages 2 0 R /X "+deep+" >>"), Field{Page: 1}); !errors.Is(err, ErrMalformed) {
		t.Fatalf("deep nesting: %v", err)
	}
}

func FuzzPrepare(f *testing.F) {
	f.Add(Sample(1, 0), 1)
	f.Add(build("<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [] >> >>", "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 10 10] /Annots [] >>"), 1)
	f.Fuzz(func(t *testing.T, doc []byte, page int) {
		p, err := Prepare(doc, Field{Page: page, ContentsSize: 32})
		if err != nil {
			return
		}
		signed, err := p.Embed(fakeDER(20))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(signed, doc) {
			t.Fatal("the original is not a prefix")
		}
		s, err := LastSignature(signed)
		if err != nil || s.ByteRange != p.ByteRange() {
			t.Fatalf("cannot read back what was written: %v", err)
		}
	})
}

// qpdf rewrites the sample with object streams and a cross-reference
// stream (as pdfTeX and many office suites write PDFs): the writer reads
// the packed catalog and page, and qpdf finds the update sound.
func TestPrepareOnObjectStreams(t *testing.T) {
	qpdf, err := exec.LookPath("qpdf")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("qpdf is missing: scripts/install-deps installs it")
		}
		t.Skip("qpdf not installed")
	}
	dir := t.TempDir()
	in, packed := filepath.Join(dir, "in.pdf"), filepath.Join(dir, "packed.pdf")
	os.WriteFile(in, Sample(3, 5000), 0o600)
	if out, err := exec.Command(qpdf, "--object-streams=generate", "--compress-streams=y", in, packed).CombinedOutput(); err != nil {
		t.Fatalf("qpdf: %v\n%s", err, out)
	}
	doc, _ := os.ReadFile(packed)
	if !bytes.Contains(doc, []byte("/XRef")) || !bytes.Contains(doc, []byte("/ObjStm")) {
		t.Fatal("qpdf wrote no object streams")
	}
	p, err := Prepare(doc, Field{Page: 3, X: 0.2, Y: 0.2})
	if err != nil {
		t.Fatal(err)
	}
	signed, _ := p.Embed(fakeDER(100))
	out := filepath.Join(dir, "signed.pdf")
	os.WriteFile(out, signed, 0o600)
	check, err := exec.Command(qpdf, "--check", out).CombinedOutput()
	if err != nil || !bytes.Contains(check, []byte("No syntax or stream encoding errors")) {
		t.Fatalf("qpdf --check: %v\n%s", err, check)
	}
	shown, err := exec.Command(qpdf, "--show-npages", out).CombinedOutput()
	if err != nil || strings.TrimSpace(string(shown)) != "3" {
		t.Fatalf("qpdf --show-npages: %v %s", err, shown)
	}
	d, err := open(signed)
	if err != nil {
		t.Fatal(err)
	}
	root, _, _ := d.root()
	if _, pg, _, err := d.page(root, 3); err != nil || !bytes.Contains(pg.Get("Annots"), []byte(" 0 R")) {
		t.Fatalf("page 3 after the update: %v", err)
	}
	if s, err := LastSignature(signed); err != nil || s.RevisionEnd != int64(len(doc)) {
		t.Fatalf("read back: %+v %v", s, err)
	}
}

func TestTrimDERTakesBERIndefiniteLengths(t *testing.T) {
	ber := []byte{0x30, 0x80, 0x06, 0x01, 0x2a, 0xa0, 0x80, 0x04, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}
	padded := append(append([]byte(nil), ber...), make([]byte, 40)...)
	got, err := trimDER(padded)
	if err != nil || !bytes.Equal(got, ber) {
		t.Fatalf("trimDER = % x, %v; want % x", got, err, ber)
	}
	for name, b := range map[string][]byte{
		"no end":               {0x30, 0x80, 0x04, 0x01, 0x01},
		"indefinite primitive": {0x30, 0x80, 0x04, 0x80, 0x00, 0x00, 0x00, 0x00},
		"too long":             {0x30, 0x84, 0x7f, 0xff, 0xff, 0xff, 0x00},
		"deep":                 bytes.Repeat([]byte{0x30, 0x80}, 100),
	} {
		if _, err := trimDER(b); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestAfterSignatureAllowsValidationDataOnly(t *testing.T) {
	doc := Sample(2, 0)
	signed := prepared(t, doc, Field{Page: 1})
	end := int64(len(signed))
	if n, err := AfterSignature(signed, end); n != 0 || err != nil {
		t.Fatalf("nothing after: %d %v", n, err)
	}
	dss, err := AppendDSS(signed, [][]byte{[]byte("cert one"), []byte("cert two")})
	if err != nil {
		t.Fatal(err)
	}
	dss2, _ := AppendDSS(dss, [][]byte{[]byte("ocsp")})
	for want, b := range map[int][]byte{1: dss, 2: dss2} {
		if n, err := AfterSignature(b, end); n != want || err != nil {
			t.Fatalf("%d DSS updates: %d %v", want, n, err)
		}
	}
	if !bytes.HasPrefix(dss, signed) {
		t.Fatal("AppendDSS changed the signed bytes")
	}
	// Changes that are not validation data.
	rewrite := func(b []byte, num int, f func(Dict) Dict) []byte {
		d, err := open(b)
		if err != nil {
			t.Fatal(err)
		}
		obj, err := d.object(Ref{num, 0})
		if err != nil {
			t.Fatal(err)
		}
		size, _ := strconv.Atoi(string(d.trailer.Get("Size")))
		u := update{d: d, next: size, objs: map[int][]byte{}, gens: map[int]int{}}
		u.put(num, 0, f(append(Dict(nil), obj...)).bytes())
		return u.write(b)
	}
	d, _ := open(signed)
	root, rootRef, _ := d.root()
	pageRef, _, _, _ := d.page(root, 1)
	freed := append([]byte(nil), dss...)
	freed = append(freed, fmt.Sprintf("xref\n%d 1\n0000000000 00001 f\r\ntrailer\n<</Size 99 /Root %s /Prev %d>>\nstartxref\n%d\n%%%%EOF\n",
		pageRef.Num, rootRef, mustOpen(t, dss).startxref, len(dss))...)
	cases := map[string][]byte{
		"page rewritten":   rewrite(signed, pageRef.Num, func(p Dict) Dict { return p.set("Rotate", []byte("90")) }),
		"catalog action":   rewrite(signed, rootRef.Num, func(c Dict) Dict { return c.set("OpenAction", []byte("[3 0 R /Fit]")) }),
		"catalog pages":    rewrite(dss, rootRef.Num, func(c Dict) Dict { return c.set("Pages", []byte("9 0 R")) }),
		"object freed":     freed,
		"junk after":       append(append([]byte(nil), signed...), "junk\n"...),
		"junk after a DSS": append(append([]byte(nil), dss...), "junk\n"...),
	}
	for name, b := range cases {
		_, err := AfterSignature(b, end)
		if !errors.Is(err, ErrLaterChange) {
			t.Errorf("%s: %v", name, err)
		}
		t.Logf("%s: %v", name, err)
	}
}

func mustOpen(t *testing.T, b []byte) *document {
	t.Helper()
	d, err := open(b)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
