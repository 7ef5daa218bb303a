package config

import (
	"fmt"
	"ndikiosk/kiosk"
	"ndikiosk/ndi"
	"ndikiosk/ndi/fapi"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
)

var kioskIDRule = regexp.MustCompile(`^[A-Za-z0-9_-]{1,40}$`)

func validKioskID(id string) bool { return kioskIDRule.MatchString(id) }

// DefaultScopes is what a mode asks Myinfo for when [fapi] is silent.
// Myinfo has no partial UIN/FIN: uinfin is asked for and masked on arrival.
func DefaultScopes(mode string) []string {
	if mode == kiosk.ModeVisitor {
		return []string{"name", "uinfin", "mobileno"}
	}
	return []string{"uinfin", "dob"}
}

// EffectiveFAPI is the [fapi] table as used: scopes by mode (plus uinfin
// for Face), key files under the data folder by default, and in sandbox
// mode the local sandbox as issuer on the kiosk's own server.
func (c *Config) EffectiveFAPI() FAPIConfig {
	f := c.FAPI
	f.Scopes = c.requested(f.Scopes, DefaultScopes)
	dir := filepath.Join(c.Kiosk.DataDir, "fapi")
	if f.SigningKey == "" {
		f.SigningKey = filepath.Join(dir, "signing.pem")
	}
	if f.EncryptionKey == "" {
		f.EncryptionKey = filepath.Join(dir, "encryption.pem")
	}
	if c.Sandbox {
		base := c.BaseURL()
		f.Issuer = base + SandboxPrefix + "/fapi"
		f.ClientID = SandboxFAPIClientID
		f.RedirectURI = base + c.Kiosk.CallbackPath
	}
	return f
}

// CallbackPath is the path the kiosk's server answers callbacks on: the
// redirect URI's path with FAPI, kiosk.callback_path with Verify.
func (c *Config) CallbackPath() string {
	if c.Kiosk.Provider == ProviderFAPI && !c.Sandbox {
		if u, err := url.Parse(c.FAPI.RedirectURI); err == nil && u.Path != "" {
			return u.Path
		}
	}
	return c.Kiosk.CallbackPath
}

func (c *Config) checkFAPI() []string {
	var p []string
	f := c.EffectiveFAPI()
	for _, s := range f.Scopes {
		if !fapi.ValidScope(s) {
			hint := ""
			if s == "partialuinfin" {
				hint = " (Myinfo has no partial UIN/FIN: ask for uinfin, which the kiosk masks on arrival)"
			}
			p = append(p, fmt.Sprintf("fapi.scopes: %q is not a Myinfo data item the kiosk reads%s", s, hint))
		}
	}
	if c.Kiosk.Mode == kiosk.ModeAge && !slices.Contains(f.Scopes, "dob") {
		p = append(p, "fapi.scopes must include \"dob\" in age mode")
	}
	if !strings.HasPrefix(f.JWKSPath, "/") {
		p = append(p, "fapi.jwks_path must start with /")
	}
	if f.JWKSPath == c.CallbackPath() || strings.HasPrefix(f.JWKSPath, SandboxPrefix+"/") {
		p = append(p, "fapi.jwks_path must differ from the callback path and the sandbox")
	}
	if f.QRLead.Duration < time.Second || f.QRLead.Duration > 25*time.Second {
		p = append(p, "fapi.qr_lead must be between 1s and 25s (a request_uri lives about 60 s)")
	}
	if f.Environment != "" && f.Environment != "staging" && f.Environment != "production" {
		p = append(p, fmt.Sprintf("fapi.environment is %q; want \"staging\" or \"production\"", f.Environment))
	}
	if c.Sandbox {
		return p
	}
	for _, r := range []struct{ name, v string }{{"fapi.client_id", f.ClientID},
		{"fapi.issuer (or fapi.environment)", f.Issuer}, {"fapi.redirect_uri", f.RedirectURI}} {
		if r.v == "" {
			p = append(p, "missing "+r.name)
		}
	}
	if f.RedirectURI != "" {
		u, err := url.Parse(f.RedirectURI)
		switch {
		case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
			p = append(p, "fapi.redirect_uri must be an absolute https URL")
		case containsProductName(f.RedirectURI):
			p = append(p, "fapi.redirect_uri must not contain \"singpass\", \"corppass\" or \"myinfo\" (the Developer Portal refuses it)")
		}
	}
	return p
}

func containsProductName(s string) bool {
	s = strings.ToLower(s)
	return strings.Contains(s, "singpass") || strings.Contains(s, "corppass") || strings.Contains(s, "myinfo")
}

// SandboxScopes are the Myinfo items the sandbox approves for its client:
// every one the kiosk can read.
func SandboxScopes() []string {
	var out []string
	for _, a := range ndi.Attributes {
		if fapi.ValidScope(a) {
			out = append(out, a)
		}
	}
	return out
}
