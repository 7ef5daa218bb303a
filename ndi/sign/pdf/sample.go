package pdf

import (
	"bytes"
	"fmt"
)

// Sample returns a small valid PDF of pages Letter-size pages, each with a
// line of text, padded with a comment stream to at least size bytes: test
// and benchmark material, and the sandbox's demonstration agreement.
func Sample(pages, size int) []byte {
	if pages < 1 {
		pages = 1
	}
	var w bytes.Buffer
	w.WriteString("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	var offs []int
	obj := func(body string) {
		offs = append(offs, w.Len())
		fmt.Fprintf(&w, "%d 0 obj\n%s\nendobj\n", len(offs), body)
	}
	obj("<</Type /Catalog /Pages 2 0 R>>")
	kids := ""
	for i := 0; i < pages; i++ {
		kids += fmt.Sprintf("%d 0 R ", 4+2*i)
	}
	obj(fmt.Sprintf("<</Type /Pages /Kids [%s] /Count %d /MediaBox [0 0 612 792]>>", kids, pages))
	obj("<</Type /Font /Subtype /Type1 /BaseFont /Helvetica>>")
	pad := max(0, size-w.Len()-400*pages-200)
	for i := 0; i < pages; i++ {
		text := fmt.Sprintf("BT /F1 18 Tf 72 700 Td (Visitor agreement, page %d of %d) Tj ET\n", i+1, pages)
		if i == 0 && pad > 0 {
			filler := bytes.Repeat([]byte("% the terms of the visit, repeated for size\n"), pad/44+1)
			text += string(filler[:pad])
		}
		obj(fmt.Sprintf("<</Type /Page /Parent 2 0 R /Resources <</Font <</F1 3 0 R>>>> /Contents %d 0 R>>", 5+2*i))
		obj(fmt.Sprintf("<</Length %d>>\nstream\n%s\nendstream", len(text), text))
	}
	xref := w.Len()
	fmt.Fprintf(&w, "xref\n0 %d\n0000000000 65535 f\r\n", len(offs)+1)
	for _, o := range offs {
		fmt.Fprintf(&w, "%010d 00000 n\r\n", o)
	}
	fmt.Fprintf(&w, "trailer\n<</Size %d /Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n", len(offs)+1, xref)
	return w.Bytes()
}
