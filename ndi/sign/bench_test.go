package sign_test

import (
	"testing"

	"ndikiosk/ndi/sign"
	"ndikiosk/ndi/sign/pdf"
)

// A 200 kB agreement through Initiate Sign Request to its signing URL:
// the client's JWT, the upload, the sandbox's checks (JWT against the RP's
// cached JWKS, PDF parse, page lookup) and the answer.
func BenchmarkRequest200kB(b *testing.B) {
	r := newRig(b, false)
	doc := pdf.Sample(3, 200_000)
	r.request(b, doc) // fetches and caches the RP's JWKS
	b.SetBytes(int64(len(doc)))
	b.ResetTimer()
	for b.Loop() {
		if _, err := r.c.Request(ctx, doc, "Visitor agreement", sign.Place{Page: 1, X: 0.1, Y: 0.1}); err != nil {
			b.Fatal(err)
		}
	}
}

// Verification of a signed 2 MB PDF: find the signature, check the byte
// range, the CMS (SHA-256 over 2 MB, RSA-2048), the original prefix and
// the chain.
func BenchmarkVerify2MB(b *testing.B) {
	r := newRig(b, false)
	doc := pdf.Sample(5, 2_000_000)
	signed := r.signed(b, doc)
	b.SetBytes(int64(len(signed)))
	b.ResetTimer()
	for b.Loop() {
		if _, err := r.c.Verify(signed, doc); err != nil {
			b.Fatal(err)
		}
	}
}

// The sandbox's side of a signature on a 2 MB PDF: incremental update and
// CMS (what SignAs spends besides the webhook).
func BenchmarkPrepareAndEmbed2MB(b *testing.B) {
	doc := pdf.Sample(5, 2_000_000)
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		p, err := pdf.Prepare(doc, pdf.Field{Page: 1, X: 0.1, Y: 0.1})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := p.Embed([]byte{0x30, 0}); err != nil {
			b.Fatal(err)
		}
	}
}
