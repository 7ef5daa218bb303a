package sign

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"github.com/smallstep/pkcs7"

	"ndikiosk/ndi/sign/pdf"
)

// Verified is what a successful verification established.
type Verified struct {
	Signer         *x509.Certificate   // the signer's certificate
	Chain          []*x509.Certificate // signer first, root last
	SigningTime    time.Time           // the CMS signing-time, when present
	ByteRange      [4]int64
	OriginalSHA256 [32]byte // of the revision before the signature: the PDF sent
	// LaterRevisions counts revisions after the signature that add only
	// validation data (/DSS, as PAdES B-LT does).
	LaterRevisions int
}

// revisionEnd reports whether b ends a revision: %%EOF and a line end.
func revisionEnd(b []byte) bool {
	return bytes.HasSuffix(bytes.TrimRight(b, "\r\n"), []byte("%%EOF"))
}

// Verify checks a signed PDF against the PDF that was sent for signing,
// with the client's roots (see VerifyPDF).
func (c *Client) Verify(signed, original []byte) (Verified, error) {
	return VerifyPDF(signed, original, c.cfg.Roots, c.cfg.Intermediates, c.cfg.Now())
}

// VerifyPDF checks that the last signature of signed is a valid CMS
// signature over every byte of the file but its own /Contents (revisions
// after it may add validation data, /DSS, and nothing else), that the
// revision before it is exactly original (up to line ends after %%EOF) (nothing added between the two),
// and that the signer's certificate chains to one of roots (at the signing
// time when the CMS states one, else at now). Each failure wraps one of
// ErrNoSignature, ErrCoverage, ErrNotOriginal, ErrTampered and
// ErrUntrustedSigner.
func VerifyPDF(signed, original []byte, roots, intermediates *x509.CertPool, now time.Time) (Verified, error) {
	if roots == nil {
		return Verified{}, fmt.Errorf("%w: no roots configured", ErrUntrustedSigner)
	}
	sig, err := pdf.LastSignature(signed)
	if err != nil {
		return Verified{}, fmt.Errorf("%w: %v", ErrNoSignature, err)
	}
	r := sig.ByteRange
	end := r[2] + r[3]
	if r[0] != 0 || end > int64(len(signed)) || (end < int64(len(signed)) && !revisionEnd(signed[:end])) {
		return Verified{}, fmt.Errorf("%w: byte range %v of a %d-byte file", ErrCoverage, r, len(signed))
	}
	later, err := pdf.AfterSignature(signed, end)
	if err != nil {
		return Verified{}, fmt.Errorf("%w: %v", ErrCoverage, err)
	}
	v := Verified{ByteRange: r, LaterRevisions: later}
	p7, err := pkcs7.Parse(sig.Contents)
	if err != nil {
		return Verified{}, fmt.Errorf("%w: the CMS signature is unreadable: %v", ErrTampered, err)
	}
	if len(p7.Signers) != 1 {
		return Verified{}, fmt.Errorf("%w: %d signers in the CMS, want one", ErrTampered, len(p7.Signers))
	}
	covered := make([]byte, 0, r[1]+r[3])
	covered = append(append(covered, signed[:r[1]]...), signed[r[2]:end]...)
	p7.Content = covered
	if err := p7.Verify(); err != nil {
		var st *pkcs7.SigningTimeNotValidError
		if errors.As(err, &st) {
			return Verified{}, fmt.Errorf("%w: %v", ErrUntrustedSigner, err)
		}
		var md *pkcs7.MessageDigestMismatchError
		if errors.As(err, &md) {
			return Verified{}, fmt.Errorf("%w: the digest of the signed bytes does not match", ErrTampered)
		}
		return Verified{}, fmt.Errorf("%w: %v", ErrTampered, err)
	}
	if err := sameOriginal(signed, original, sig); err != nil {
		return Verified{}, err
	}
	v.OriginalSHA256 = sha256.Sum256(original)
	v.Signer = p7.GetOnlySigner()
	if v.Signer == nil {
		return Verified{}, fmt.Errorf("%w: the CMS does not carry the signer's certificate", ErrUntrustedSigner)
	}
	at := now
	if p7.UnmarshalSignedAttribute(pkcs7.OIDAttributeSigningTime, &v.SigningTime) == nil && !v.SigningTime.IsZero() {
		at = v.SigningTime
	}
	pool := x509.NewCertPool()
	if intermediates != nil {
		pool = intermediates.Clone()
	}
	for _, c := range p7.Certificates {
		pool.AddCert(c)
	}
	chains, err := v.Signer.Verify(x509.VerifyOptions{Roots: roots, Intermediates: pool, CurrentTime: at,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	if err != nil {
		return Verified{}, fmt.Errorf("%w: %v", ErrUntrustedSigner, err)
	}
	v.Chain = chains[0]
	return v, nil
}

// sameOriginal checks that original is the file up to the signature's
// revision, with no other revision between them.
func sameOriginal(signed, original []byte, sig pdf.Signature) error {
	n := int64(len(original))
	switch {
	case n == 0:
		return fmt.Errorf("%w: no original to compare with", ErrNotOriginal)
	case n > sig.Dict || !bytes.HasPrefix(signed, original):
		return fmt.Errorf("%w: the bytes before the signature differ from the PDF sent", ErrNotOriginal)
	case bytes.Contains(signed[n:sig.Dict], []byte("%%EOF")):
		return fmt.Errorf("%w: another revision sits between the PDF sent and the signature", ErrNotOriginal)
	}
	// The revision before the signature ends at its %%EOF; the PDF sent may
	// differ from it by line ends only.
	lo, hi := min(n, sig.RevisionEnd), max(n, sig.RevisionEnd)
	if len(bytes.Trim(signed[lo:hi], "\r\n \t")) != 0 {
		return fmt.Errorf("%w: the PDF sent is not the whole revision before the signature", ErrNotOriginal)
	}
	return nil
}
