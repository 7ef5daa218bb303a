package sign

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"math/big"
	"time"

	"github.com/smallstep/pkcs7"
)

var (
	oidTimeStampToken = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 14}
	imprintHashes     = map[string]crypto.Hash{
		"2.16.840.1.101.3.4.2.1": crypto.SHA256,
		"2.16.840.1.101.3.4.2.2": crypto.SHA384,
		"2.16.840.1.101.3.4.2.3": crypto.SHA512,
	}
)

type tstInfo struct {
	Version        int
	Policy         asn1.ObjectIdentifier
	MessageImprint struct {
		HashAlgorithm pkix.AlgorithmIdentifier
		HashedMessage []byte
	}
	SerialNumber *big.Int
	GenTime      time.Time `asn1:"generalized"`
}

// signatureTimestamp reads the RFC 3161 signature timestamp of the
// signer, when there is one: its own CMS signature must verify and its
// imprint must be of this signature's value, or the CMS was damaged
// (ErrTampered). The time counts (trusted) only when the TSA's
// certificate chains to one of tsaRoots for time-stamping.
func signatureTimestamp(p7 *pkcs7.PKCS7, tsaRoots *x509.CertPool) (at time.Time, trusted bool, err error) {
	si := p7.Signers[0]
	var tok []byte
	for _, a := range si.UnauthenticatedAttributes {
		if a.Type.Equal(oidTimeStampToken) {
			tok = a.Value.Bytes
			break
		}
	}
	if tok == nil {
		return time.Time{}, false, nil
	}
	ts, err := pkcs7.Parse(tok)
	if err != nil || len(ts.Signers) != 1 {
		return time.Time{}, false, fmt.Errorf("%w: the signature timestamp is unreadable", ErrTampered)
	}
	if err := ts.Verify(); err != nil {
		return time.Time{}, false, fmt.Errorf("%w: the signature timestamp does not verify: %v", ErrTampered, err)
	}
	var info tstInfo
	if _, err := asn1.Unmarshal(ts.Content, &info); err != nil {
		return time.Time{}, false, fmt.Errorf("%w: the signature timestamp's TSTInfo is unreadable", ErrTampered)
	}
	h, ok := imprintHashes[info.MessageImprint.HashAlgorithm.Algorithm.String()]
	if !ok {
		return time.Time{}, false, fmt.Errorf("%w: the signature timestamp uses an unknown hash", ErrTampered)
	}
	d := h.New()
	d.Write(si.EncryptedDigest)
	if !bytes.Equal(d.Sum(nil), info.MessageImprint.HashedMessage) {
		return time.Time{}, false, fmt.Errorf("%w: the signature timestamp is for another signature", ErrTampered)
	}
	if tsaRoots == nil {
		return info.GenTime, false, nil
	}
	tsa := ts.GetOnlySigner()
	pool := x509.NewCertPool()
	for _, c := range ts.Certificates {
		pool.AddCert(c)
	}
	if tsa == nil {
		return time.Time{}, false, fmt.Errorf("%w: the timestamp carries no TSA certificate", ErrUntrustedSigner)
	}
	if _, err := tsa.Verify(x509.VerifyOptions{Roots: tsaRoots, Intermediates: pool, CurrentTime: info.GenTime,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping}}); err != nil {
		return time.Time{}, false, fmt.Errorf("%w: the time-stamping authority: %v", ErrUntrustedSigner, err)
	}
	return info.GenTime, true, nil
}
