package sandbox

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"time"

	"github.com/smallstep/pkcs7"
)

// The sandbox's time-stamping authority puts an RFC 3161 signature
// timestamp on each signature (PAdES B-T, as Sign's signatures carry).

var (
	oidTSTInfo        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 1, 4}
	oidTimeStampToken = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 14}
	oidSHA256         = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidSandboxPolicy  = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 1} // made up: a sandbox policy
)

type messageImprint struct {
	HashAlgorithm pkix.AlgorithmIdentifier
	HashedMessage []byte
}

type tstInfo struct {
	Version        int
	Policy         asn1.ObjectIdentifier
	MessageImprint messageImprint
	SerialNumber   *big.Int
	GenTime        time.Time `asn1:"generalized"`
}

// newTSA makes the time-stamping key and its certificate from the CA.
func newTSA(caKey *rsa.PrivateKey, ca *x509.Certificate, now time.Time) (*ecdsa.PrivateKey, *x509.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{SerialNumber: serial(), Subject: pkix.Name{CommonName: "ndikiosk sandbox Sign TSA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(5 * 365 * 24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	return key, cert, err
}

// timestamp is a TimeStampToken over signature (the signer's signature
// value), at now.
func (s *Sandbox) timestamp(signature []byte, now time.Time) ([]byte, error) {
	sum := sha256.Sum256(signature)
	tst, err := asn1.Marshal(tstInfo{Version: 1, Policy: oidSandboxPolicy, SerialNumber: serial(), GenTime: now.UTC().Truncate(time.Second),
		MessageImprint: messageImprint{HashAlgorithm: pkix.AlgorithmIdentifier{Algorithm: oidSHA256}, HashedMessage: sum[:]}})
	if err != nil {
		return nil, err
	}
	sd, err := pkcs7.NewSignedData(tst)
	if err != nil {
		return nil, err
	}
	sd.SetDigestAlgorithm(pkcs7.OIDDigestAlgorithmSHA256)
	sd.GetSignedData().ContentInfo.ContentType = oidTSTInfo
	certSum := sha256.Sum256(s.sign.tsa.Raw)
	essV2 := pkcs7.Attribute{Type: oidSigningCertificateV2, Value: signingCertificateV2{Certs: []essCertIDv2{{Hash: certSum[:]}}}}
	if err := sd.AddSignerChain(s.sign.tsa, s.sign.tsaKey, []*x509.Certificate{s.sign.ca}, pkcs7.SignerInfoConfig{ExtraSignedAttributes: []pkcs7.Attribute{essV2}}); err != nil {
		return nil, err
	}
	return sd.Finish()
}

// stamp adds the signature timestamp to the SignedData's signer; with
// wrong, the token is for other bytes.
func (s *Sandbox) stamp(sd *pkcs7.SignedData, now time.Time, wrong bool) error {
	si := &sd.GetSignedData().SignerInfos[0]
	sig := si.EncryptedDigest
	if wrong {
		sig = []byte("some other signature")
	}
	tok, err := s.timestamp(sig, now)
	if err != nil {
		return err
	}
	return si.SetUnauthenticatedAttributes([]pkcs7.Attribute{{Type: oidTimeStampToken, Value: asn1.RawValue{FullBytes: tok}}})
}
