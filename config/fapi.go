package config

import (
	"ndikiosk/kiosk"
	"ndikiosk/ndi"
	"ndikiosk/ndi/fapi"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
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

func containsProductName(s string) bool {
	s = strings.ToLower(s)
	return strings.Contains(s, "singpass") || strings.Contains(s, "corppass") || strings.Contains(s, "myinfo")
}

// SandboxScopes are the Myinfo items the sandbox approves for its client
// (every one the kiosk can read), and Singpass Login's user.identity.
func SandboxScopes() []string {
	out := []string{fapi.LoginIdentity}
	for _, a := range ndi.Attributes {
		if fapi.ValidScope(a) {
			out = append(out, a)
		}
	}
	return out
}
