// Package pdfsigtest checks signed PDFs with poppler's pdfsig for tests:
// an NSS database that trusts only the given root, then pdfsig's report.
// Outside CI a missing tool skips the test; in CI, where
// scripts/install-deps installs it, it fails.
package pdfsigtest

import (
	"crypto/x509"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"ndikiosk/ndi/pki"
)

// Tool finds a program the test needs (Debian package pkg).
func Tool(t testing.TB, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is missing: scripts/install-deps installs %s", name, pkg)
		}
		t.Skipf("%s not installed (Debian package %s)", name, pkg)
	}
	return p
}

// Checker runs pdfsig against an NSS database that trusts root alone.
type Checker struct {
	pdfsig string
	nss    string
}

// New makes the NSS database in a temporary folder of t.
func New(t testing.TB, root *x509.Certificate) *Checker {
	t.Helper()
	c := &Checker{pdfsig: Tool(t, "pdfsig", "poppler-utils")}
	certutil := Tool(t, "certutil", "libnss3-tools")
	dir := t.TempDir()
	nss := filepath.Join(dir, "nss")
	os.Mkdir(nss, 0o700)
	rootPath := filepath.Join(dir, "root.pem")
	os.WriteFile(rootPath, pki.CertPEM(root), 0o600)
	for _, args := range [][]string{
		{"-N", "-d", "sql:" + nss, "--empty-password"},
		{"-A", "-d", "sql:" + nss, "-n", "ndikiosk sandbox sign root", "-t", "CT,C,C", "-i", rootPath},
	} {
		if out, err := exec.Command(certutil, args...).CombinedOutput(); err != nil {
			t.Fatalf("certutil %v: %v\n%s", args, err, out)
		}
	}
	c.nss = "sql:" + nss
	return c
}

// Report is pdfsig's report on the PDF at path.
func (c *Checker) Report(path string) string {
	out, _ := exec.Command(c.pdfsig, "-nssdir", c.nss, path).CombinedOutput()
	return string(out)
}

// Valid reports whether pdfsig finds the last signature of the PDF at
// path valid, over the whole document, by a certificate it trusts; the
// report says why not.
func (c *Checker) Valid(path string) (bool, string) {
	out := c.Report(path)
	for _, want := range []string{"Signature Validation: Signature is Valid.", "Certificate Validation: Certificate is Trusted.",
		"Total document signed"} {
		if !strings.Contains(out, want) {
			return false, out
		}
	}
	return true, out
}
