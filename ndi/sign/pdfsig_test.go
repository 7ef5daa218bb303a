package sign_test

import (
	"bytes"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"software.sslmate.com/src/go-pkcs12"

	"ndikiosk/internal/pdfsigtest"
	"ndikiosk/ndi/pki"
	"ndikiosk/ndi/sandbox"
	"ndikiosk/ndi/sign"
)

// tool finds a program the test needs: see pdfsigtest.Tool.
func tool(t *testing.T, name, pkg string) string { return pdfsigtest.Tool(t, name, pkg) }

// poppler's pdfsig, trusting only the sandbox's root through its own NSS
// database, finds the sandbox's signature valid and its certificate
// trusted; with a tampered file or a rogue signer it says otherwise.
func TestPdfsigAcceptsTheSandboxSignature(t *testing.T) {
	r := newRig(t, false)
	checker := pdfsigtest.New(t, r.sb.SignRoot())
	dir := t.TempDir()
	check := func(name, fault string, doc []byte) string {
		req := r.request(t, doc)
		if _, err := r.sb.SignAs(ctx, req.ID, persona, "sign", fault); err != nil {
			t.Fatal(err)
		}
		res, err := r.c.Result(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		signed, err := r.c.Download(ctx, res.SignedDocURL)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.c.Verify(signed, doc); err != nil && fault == "" {
			t.Fatalf("%s: %v", name, err)
		}
		path := filepath.Join(dir, name+".pdf")
		os.WriteFile(path, signed, 0o600)
		return checker.Report(path)
	}
	out := check("good", "", agreement())
	t.Log(out)
	for _, want := range []string{"Signature #1", "Signature Validation: Signature is Valid.",
		"Certificate Validation: Certificate is Trusted.", "Total document signed", "ETSI.CAdES.detached"} {
		if !strings.Contains(out, want) {
			t.Fatalf("pdfsig on a good signature lacks %q:\n%s", want, out)
		}
	}
	if out := check("tampered", sandbox.SignFaultTampered, agreement()); strings.Contains(out, "Signature is Valid.") {
		t.Fatalf("pdfsig finds a tampered file valid:\n%s", out)
	}
	if out := check("rogue", sandbox.SignFaultWrongSigner, agreement()); strings.Contains(out, "Certificate is Trusted.") {
		t.Fatalf("pdfsig trusts a rogue signer:\n%s", out)
	}
	if out := check("dss", sandbox.SignFaultValidationData, agreement()); !strings.Contains(out, "Signature is Valid.") ||
		!strings.Contains(out, "Certificate is Trusted.") {
		t.Fatalf("pdfsig on a signature followed by a DSS revision:\n%s", out)
	}
	// An agreement written with object streams and a cross-reference
	// stream, as many producers write them.
	qpdf := tool(t, "qpdf", "qpdf")
	plain, packed := filepath.Join(dir, "plain.pdf"), filepath.Join(dir, "packed.pdf")
	os.WriteFile(plain, agreement(), 0o600)
	if out, err := exec.Command(qpdf, "--object-streams=generate", plain, packed).CombinedOutput(); err != nil {
		t.Fatalf("qpdf: %v\n%s", err, out)
	}
	doc, _ := os.ReadFile(packed)
	if out := check("packed", "", doc); !strings.Contains(out, "Signature is Valid.") || !strings.Contains(out, "Certificate is Trusted.") {
		t.Fatalf("pdfsig on a signed object-stream PDF:\n%s", out)
	}
}

// A signature that poppler itself writes (pdfsig -add-signature, with its
// own incremental update and CMS from NSS) passes VerifyPDF: the verifier
// is not merely consistent with the sandbox's writer.
func TestVerifyAcceptsPopplersOwnSignature(t *testing.T) {
	pdfsig := tool(t, "pdfsig", "poppler-utils")
	certutil := tool(t, "certutil", "libnss3-tools")
	pk12util := tool(t, "pk12util", "libnss3-tools")
	now := time.Now()
	caKey, ca, err := sandbox.NewSignCA(now)
	if err != nil {
		t.Fatal(err)
	}
	key, err := pki.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "POPPLER SIGNER"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	p12, err := pkcs12.Modern.Encode(key, cert, []*x509.Certificate{ca}, "pw")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	nss := "sql:" + filepath.Join(dir, "nss")
	os.Mkdir(filepath.Join(dir, "nss"), 0o700)
	os.WriteFile(filepath.Join(dir, "s.p12"), p12, 0o600)
	for _, c := range [][]string{
		{certutil, "-N", "-d", nss, "--empty-password"},
		{pk12util, "-i", filepath.Join(dir, "s.p12"), "-d", nss, "-W", "pw"},
	} {
		if out, err := exec.Command(c[0], c[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", c, err, out)
		}
	}
	nicks, err := exec.Command(pdfsig, "-nssdir", nss, "-list-nicks").CombinedOutput()
	if err != nil || len(strings.Fields(string(nicks))) == 0 {
		t.Fatalf("pdfsig -list-nicks: %v\n%s", err, nicks)
	}
	lines := strings.Split(strings.TrimSpace(string(nicks)), "\n")
	nick := strings.TrimSpace(lines[len(lines)-1]) // after the "Certificate nicknames available:" line
	doc := agreement()
	in, out := filepath.Join(dir, "in.pdf"), filepath.Join(dir, "out.pdf")
	os.WriteFile(in, doc, 0o600)
	// poppler 22.12 writes adbe.pkcs7.detached only (-etsi is not
	// supported with -add-signature), as BER of indefinite length.
	args := []string{"-nssdir", nss, "-add-signature", "-nick", nick, "-reason", "test", in, out}
	if b, err := exec.Command(pdfsig, args...).CombinedOutput(); err != nil {
		t.Fatalf("pdfsig %v: %v\n%s", args, err, b)
	}
	signed, _ := os.ReadFile(out)
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	v, err := sign.VerifyPDF(signed, doc, sign.VerifyOptions{Roots: roots, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if v.Signer.Subject.CommonName != "POPPLER SIGNER" {
		t.Fatalf("signer %q", v.Signer.Subject.CommonName)
	}
	signed[bytes.Index(signed, []byte("agreement"))] = 'A' // the page text, inside the signed range
	if _, err := sign.VerifyPDF(signed, doc, sign.VerifyOptions{Roots: roots, Now: now}); !errors.Is(err, sign.ErrTampered) {
		t.Fatalf("one byte changed: %v", err)
	}
}
