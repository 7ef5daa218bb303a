package config

import (
	"crypto/x509"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"ndikiosk/kiosk"
	"ndikiosk/ndi/sign"
	"ndikiosk/ndi/sign/pdf"
)

// SignSettings is the [sign] table: visitors sign the venue's agreement
// with Sign with Singpass (Document Signing V3) after confirming host and
// purpose (visitor mode only). It is on when document is set (or, in
// sandbox mode, with --sign-demo).
type SignSettings struct {
	Document    string   `toml:"document"`      // the agreement (PDF), read and checked at start
	DocName     string   `toml:"doc_name"`      // its title, on the phone and the kiosk; default the file's name
	Page        int      `toml:"page"`          // the page the signature goes on, from 1; default 1
	X           *float64 `toml:"x"`             // the signature's place, fractions of the page from its bottom-left; default 0.1
	Y           *float64 `toml:"y"`             // default 0.1
	ClientID    string   `toml:"client_id"`     // registered with Sign
	Environment string   `toml:"environment"`   // "staging" or "production" fills base_url
	BaseURL     string   `toml:"base_url"`      // Sign V3's API base
	SignJWKSURL string   `toml:"sign_jwks_url"` // Sign's JWKS, which signs its webhooks
	Roots       string   `toml:"roots"`         // PEM file of Singpass's signing root(s): a signer must chain to one
	TSARoots    string   `toml:"tsa_roots"`     // optional PEM file of time-stamping roots
	SigningKey  string   `toml:"signing_key"`   // P-256 key signing requests to Sign; default <data_dir>/sign/signing.pem, made on first start
	JWKSPath    string   `toml:"jwks_path"`     // where the kiosk publishes that key for Sign; default /sign/jwks
	Timeout     Duration `toml:"timeout"`       // how long the sign screen waits; default 3m; then the request is cancelled
	Unsigned    string   `toml:"unsigned"`      // "refuse" (default): not checked in, nothing kept; "record": checked in, reason agreement-not-signed
}

// What [sign] unsigned may say.
const (
	UnsignedRefuse = "refuse"
	UnsignedRecord = "record"
)

// MaxDocName is the longest agreement title, in characters.
const MaxDocName = 100

// SignEnabled reports whether visitors sign an agreement.
func (c *Config) SignEnabled() bool { return c.Sign.Document != "" || c.SignDemo }

func (c *Config) signDefaults() {
	s := &c.Sign
	s.Page = or(s.Page, 1)
	for _, p := range []**float64{&s.X, &s.Y} {
		if *p == nil {
			v := 0.1
			*p = &v
		}
	}
	switch s.Environment {
	case "staging":
		s.BaseURL = or(s.BaseURL, sign.Staging)
	case "production":
		s.BaseURL = or(s.BaseURL, sign.Production)
	}
	s.JWKSPath = or(s.JWKSPath, "/sign/jwks")
	s.Timeout.Duration = or(s.Timeout.Duration, 3*time.Minute)
	s.Unsigned = or(s.Unsigned, UnsignedRefuse)
	if s.DocName == "" && s.Document != "" {
		s.DocName = strings.TrimSuffix(filepath.Base(s.Document), filepath.Ext(s.Document))
	}
	if s.DocName == "" && c.SignDemo {
		s.DocName = "Visitor agreement (sandbox sample)"
	}
}

// EffectiveSign is [sign] as used: the signing key under the data folder
// by default.
func (c *Config) EffectiveSign() SignSettings {
	s := c.Sign
	if s.SigningKey == "" {
		s.SigningKey = filepath.Join(c.Kiosk.DataDir, "sign", "signing.pem")
	}
	return s
}

// Place is where the signature goes, as ndi/sign takes it.
func (s SignSettings) Place() sign.Place { return sign.Place{Page: s.Page, X: *s.X, Y: *s.Y} }

func (c *Config) checkSign(p *problems) {
	if !c.SignEnabled() {
		return
	}
	s := c.Sign
	if c.SignDemo && !c.Sandbox {
		p.add("--sign-demo is for sandbox mode: a real kiosk names its agreement in [sign] document")
	}
	if c.Kiosk.Mode != kiosk.ModeVisitor {
		p.add("[sign] is for visitor mode (kiosk.mode = \"visitor\"): visitors sign the agreement after confirming their visit")
		return
	}
	c.checkAgreement(p)
	between(p, "sign.timeout", s.Timeout.Duration, 30*time.Second, 30*time.Minute)
	p.oneOf("sign.unsigned", s.Unsigned, UnsignedRefuse, UnsignedRecord)
	if !strings.HasPrefix(s.JWKSPath, "/") || s.JWKSPath == c.CallbackPath() || strings.HasPrefix(s.JWKSPath, SandboxPrefix+"/") ||
		(c.Kiosk.Provider == ProviderFAPI && s.JWKSPath == c.FAPI.JWKSPath) {
		p.add("sign.jwks_path %q must start with / and differ from the callback path, fapi.jwks_path and the sandbox", s.JWKSPath)
	}
	if s.Environment != "" {
		p.oneOf("sign.environment", s.Environment, "staging", "production")
	}
	if !c.Sandbox {
		c.checkSignService(p)
	}
}

// checkAgreement checks the agreement, its title and the signature's place.
func (c *Config) checkAgreement(p *problems) {
	s := c.Sign
	between(p, "sign.page", s.Page, 1, 10000)
	for _, v := range []struct {
		key string
		v   float64
	}{{"sign.x", *s.X}, {"sign.y", *s.Y}} {
		if v.v < 0 || v.v >= 1 || math.Abs(v.v*1e4-math.Round(v.v*1e4)) > 1e-6 {
			p.add("%s %v: want a fraction of the page in [0, 1) with at most four decimals", v.key, v.v)
		}
	}
	if s.Document != "" {
		if err := CheckAgreement(c.abs(s.Document), s.Page); err != nil {
			p.add("sign.document: %v", err)
		}
	}
	checkDocName(p, s.DocName)
}

// checkSignService checks how the kiosk reaches Sign and what it trusts.
func (c *Config) checkSignService(p *problems) {
	s := c.Sign
	p.required(" ([sign] document is set)", "sign.client_id", s.ClientID, "sign.base_url (or sign.environment)", s.BaseURL,
		"sign.sign_jwks_url", s.SignJWKSURL, "sign.roots", s.Roots)
	if s.BaseURL != "" {
		p.publicURL("sign.base_url", s.BaseURL)
	}
	if s.SignJWKSURL != "" {
		p.publicURL("sign.sign_jwks_url", s.SignJWKSURL)
	}
	for _, r := range [][2]string{{"sign.roots", s.Roots}, {"sign.tsa_roots", s.TSARoots}} {
		if r[1] == "" {
			continue
		}
		if _, err := LoadRoots(c.abs(r[1])); err != nil {
			p.add("%s: %v", r[0], err)
		}
	}
}

func checkDocName(p *problems, name string) {
	n := utf8.RuneCountInString(name)
	switch {
	case strings.TrimSpace(name) == "":
		p.add("sign.doc_name is empty: the visitor must see what they sign")
	case n > MaxDocName:
		p.add("sign.doc_name is %d characters; at most %d", n, MaxDocName)
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		p.add("sign.doc_name has a control character")
	}
}

// CheckAgreement reads the agreement at path and checks that Sign can take
// it and the kiosk's PDF writer can sign it on page: a readable,
// unencrypted PDF under Sign's size limit with that page.
func CheckAgreement(path string, page int) error {
	doc, err := ReadAgreement(path)
	if err != nil {
		return err
	}
	if err := pdf.Check(doc, page); err != nil {
		var pe *pdf.PageError
		switch {
		case errors.As(err, &pe):
			return fmt.Errorf("%s: %v (sign.page)", path, err)
		case errors.Is(err, pdf.ErrUnsupported):
			return fmt.Errorf("%s cannot be signed: %v (an encrypted PDF, or one using features the kiosk does not read; save it again without a password)", path, err)
		}
		return fmt.Errorf("%s is not a PDF the kiosk can read: %v", path, err)
	}
	return nil
}

// ReadAgreement reads the agreement's bytes, refusing a folder, an empty
// file and one at or over Sign's limit.
func ReadAgreement(path string) ([]byte, error) {
	st, err := os.Stat(path)
	switch {
	case err != nil:
		return nil, fmt.Errorf("%s cannot be read: %w", path, errors.Unwrap(err))
	case st.IsDir():
		return nil, fmt.Errorf("%s is a folder; want a PDF file", path)
	case st.Size() == 0:
		return nil, fmt.Errorf("%s is empty", path)
	case st.Size() >= sign.MaxPDF:
		return nil, fmt.Errorf("%s is %d bytes; Sign takes PDFs under %d MB", path, st.Size(), sign.MaxPDF>>20)
	}
	doc, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s cannot be read: %w", path, errors.Unwrap(err))
	}
	return doc, nil
}

// LoadRoots reads a PEM file of one or more CA certificates.
func LoadRoots(path string) (*x509.CertPool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s cannot be read: %w", path, errors.Unwrap(err))
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("%s holds no PEM certificate", path)
	}
	return pool, nil
}

// abs is path as resolvePaths will make it: relative to the config file.
func (c *Config) abs(path string) string {
	if c.path == "" || filepath.IsAbs(path) {
		return path
	}
	return filepath.Join(filepath.Dir(c.path), path)
}
