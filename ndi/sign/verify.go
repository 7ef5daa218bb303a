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
	Signer      *x509.Certificate   // the signer's certificate
	Chain       []*x509.Certificate // signer first, root last
	SigningTime time.Time           // the CMS signing-time, when present
	Timestamp   time.Time           // the signature timestamp's time, when present
	// TimestampTrusted: the timestamp's authority chains to a TSA root,
	// and the signer's chain was checked at its time.
	TimestampTrusted bool
	ByteRange        [4]int64
	OriginalSHA256   [32]byte // of the revision before the signature: the PDF sent
	// LaterRevisions counts revisions after the signature that add only
	// validation data (/DSS, as PAdES B-LT does).
	LaterRevisions int
}

// revisionEnd reports whether b ends a revision: %%EOF and a line end.
func revisionEnd(b []byte) bool {
	return bytes.HasSuffix(bytes.TrimRight(b, "\r\n"), []byte("%%EOF"))
}

// Verify checks a signed PDF against the PDF that was sent for signing,
// with the client's roots, at the client's now (see VerifyPDF).
func (c *Client) Verify(signed, original []byte) (Verified, error) {
	return VerifyPDF(signed, original, VerifyOptions{Roots: c.cfg.Roots, Intermediates: c.cfg.Intermediates,
		TSARoots: c.cfg.TSARoots, Now: c.cfg.Now()})
}

// VerifyOptions are the trust anchors and time of a verification.
type VerifyOptions struct {
	Roots         *x509.CertPool // the signer's certificate must chain to one of these
	Intermediates *x509.CertPool // optional help for chain building
	// TSARoots, when set, make a signature timestamp whose authority
	// chains to one of them the time the signer's chain is checked at.
	TSARoots *x509.CertPool
	Now      time.Time // the time otherwise (see VerifyPDF); time.Now when zero
}

// VerifyPDF checks that the last signature of signed is a valid CMS
// signature over every byte of the file but its own /Contents (revisions
// after it may add validation data, /DSS, and nothing else), that the
// revision before it is exactly original (up to line ends after %%EOF) (nothing added between the two),
// and that the signer's certificate chains to one of opt.Roots: at the
// time of a signature timestamp from a trusted TSA, else at the CMS
// signing-time when stated, else at opt.Now. A signature timestamp that is
// present must verify and be for this signature. Each failure wraps one
// of ErrNoSignature, ErrCoverage, ErrNotOriginal, ErrTampered and
// ErrUntrustedSigner.
func VerifyPDF(signed, original []byte, opt VerifyOptions) (Verified, error) {
	if opt.Now.IsZero() {
		opt.Now = time.Now()
	}
	if opt.Roots == nil {
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
	covered := make([]byte, 0, r[1]+r[3])
	covered = append(append(covered, signed[:r[1]]...), signed[r[2]:end]...)
	p7, err := checkCMS(sig.Contents, covered)
	if err != nil {
		return Verified{}, err
	}
	if err := sameOriginal(signed, original, sig); err != nil {
		return Verified{}, err
	}
	v.OriginalSHA256 = sha256.Sum256(original)
	if err := v.chain(p7, opt); err != nil {
		return Verified{}, err
	}
	return v, nil
}

// checkCMS parses the CMS and checks its one signer's signature over
// covered.
func checkCMS(der, covered []byte) (*pkcs7.PKCS7, error) {
	p7, err := pkcs7.Parse(der)
	if err != nil {
		return nil, fmt.Errorf("%w: the CMS signature is unreadable: %v", ErrTampered, err)
	}
	if len(p7.Signers) != 1 {
		return nil, fmt.Errorf("%w: %d signers in the CMS, want one", ErrTampered, len(p7.Signers))
	}
	p7.Content = covered
	if err := p7.Verify(); err != nil {
		var st *pkcs7.SigningTimeNotValidError
		if errors.As(err, &st) {
			return nil, fmt.Errorf("%w: %v", ErrUntrustedSigner, err)
		}
		var md *pkcs7.MessageDigestMismatchError
		if errors.As(err, &md) {
			return nil, fmt.Errorf("%w: the digest of the signed bytes does not match", ErrTampered)
		}
		return nil, fmt.Errorf("%w: %v", ErrTampered, err)
	}
	return p7, nil
}

// chain dates the signature (trusted timestamp, else signing-time, else
// opt.Now) and checks the signer's chain to opt.Roots at that time.
func (v *Verified) chain(p7 *pkcs7.PKCS7, opt VerifyOptions) error {
	v.Signer = p7.GetOnlySigner()
	if v.Signer == nil {
		return fmt.Errorf("%w: the CMS does not carry the signer's certificate", ErrUntrustedSigner)
	}
	at := opt.Now
	if p7.UnmarshalSignedAttribute(pkcs7.OIDAttributeSigningTime, &v.SigningTime) == nil && !v.SigningTime.IsZero() {
		at = v.SigningTime
	}
	var err error
	if v.Timestamp, v.TimestampTrusted, err = signatureTimestamp(p7, opt.TSARoots); err != nil {
		return err
	}
	if v.TimestampTrusted {
		at = v.Timestamp
	}
	pool := x509.NewCertPool()
	if opt.Intermediates != nil {
		pool = opt.Intermediates.Clone()
	}
	for _, c := range p7.Certificates {
		pool.AddCert(c)
	}
	chains, err := v.Signer.Verify(x509.VerifyOptions{Roots: opt.Roots, Intermediates: pool, CurrentTime: at,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUntrustedSigner, err)
	}
	v.Chain = chains[0]
	return nil
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
