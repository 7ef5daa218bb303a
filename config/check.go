package config

import (
	"fmt"
	"maps"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"ndikiosk/kiosk"
	"ndikiosk/ndi"
	"ndikiosk/ndi/fapi"
)

// problems collects what is wrong with a config, by key name.
type problems []string

func (p *problems) add(format string, args ...any) { *p = append(*p, fmt.Sprintf(format, args...)) }

// oneOf checks that v is one of the allowed values.
func (p *problems) oneOf(key, v string, allowed ...string) {
	if !slices.Contains(allowed, v) {
		p.add("%s is %q; want %s", key, v, strings.Join(allowed, ", "))
	}
}

// between checks a count or a duration against its range.
func between[T int | time.Duration | float64](p *problems, key string, v, lo, hi T) {
	if v < lo || v > hi {
		p.add("%s %v is out of range %v-%v", key, v, lo, hi)
	}
}

// required reports each empty value as missing.
func (p *problems) required(why string, kv ...string) {
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			p.add("missing %s%s", kv[i], why)
		}
	}
}

func (c *Config) check() []string {
	p := problems(slices.Clone(c.envProblems))
	c.checkKiosk(&p)
	if !c.hub && (c.Notify.SMTP.Host != "" || c.Notify.Webhook.URL != "") {
		p.add("[notify] is the hub's: hosts are told of their visitors by `ndikiosk hub`; a kiosk tells no one itself (remove [notify] here)")
	}
	if c.Remote() {
		c.checkRemote(&p)
		return p
	}
	if c.hub {
		c.checkHub(&p)
	}
	if c.Sandbox && !c.SandboxUnsafe {
		c.checkSandbox(&p)
	}
	if c.Face.Enabled {
		c.checkFace(&p)
	}
	c.checkSign(&p)
	switch c.Kiosk.Provider {
	case ProviderVerify:
		c.checkVerify(&p)
	case ProviderFAPI:
		c.checkFAPI(&p)
	default:
		p.add("kiosk.provider is %q; want \"verify\" or \"fapi\"", c.Kiosk.Provider)
	}
	return p
}

func (c *Config) checkKiosk(p *problems) {
	k := c.Kiosk
	p.oneOf("kiosk.mode", k.Mode, kiosk.ModeAge, kiosk.ModeVisitor)
	if k.Mode == kiosk.ModeVisitor && !c.Visitor.FreeText && (len(c.Visitor.Hosts) == 0 || len(c.Visitor.Purposes) == 0) {
		p.add("visitor mode needs visitor.hosts and visitor.purposes, or visitor.free_text = true")
	}
	if k.Language != "" {
		p.oneOf("kiosk.language", k.Language, Languages...)
	}
	checkLocal(p, k)
	if c.Admin.PINHash != "" {
		if _, err := kiosk.ParsePINHash(c.Admin.PINHash); err != nil {
			p.add("%v", err)
		}
	}
	if k.Logo != "" {
		if err := checkLogo(k.Logo); err != nil {
			p.add("kiosk.logo: %v", err)
		}
	}
	between(p, "kiosk.retention_days", k.RetentionDays, 1, 3650)
	between(p, "kiosk.min_age", k.MinAge, 1, 120)
	between(p, "kiosk.result_timeout", k.ResultTimeout.Duration, 2*time.Second, 5*time.Minute)
	if k.ResultTimeout.Duration >= 2*time.Second {
		between(p, "kiosk.result_min", k.ResultMin.Duration, 2*time.Second, k.ResultTimeout.Duration)
	}
	between(p, "kiosk.confirm_timeout", k.ConfirmTimeout.Duration, 15*time.Second, 10*time.Minute)
	between(p, "admin.max_tries", c.Admin.MaxTries, 3, 20)
	between(p, "admin.lock_minutes", c.Admin.LockMinutes, 1, 24*60)
	if _, _, err := net.SplitHostPort(k.Listen); err != nil {
		p.add("kiosk.listen %q is not host:port", k.Listen)
	}
	if !strings.HasPrefix(k.CallbackPath, "/") {
		p.add("kiosk.callback_path must start with /")
	}
	if !validKioskID(k.ID) {
		p.add("kiosk.id %q must be 1-40 characters of A-Z a-z 0-9 _ -", k.ID)
	}
	if _, err := kiosk.ParseTrustedProxies(k.TrustedProxies); err != nil {
		p.add("kiosk.trusted_proxies: %v", err)
	}
	if (k.TLSCert == "") != (k.TLSKey == "") {
		p.add("kiosk.tls_cert and kiosk.tls_key go together")
	}
}

// checkLocal checks the [kiosk.local.LANG] tables: one of the four screen
// languages each, and text that fits on one screen line or two.
func checkLocal(p *problems, k KioskConfig) {
	for _, code := range slices.Sorted(maps.Keys(k.Local)) {
		if !slices.Contains(Languages, code) {
			p.add("kiosk.local.%s: %q is not a screen language; want %s", code, code, strings.Join(Languages, ", "))
		}
	}
	texts := map[string]string{"kiosk.contact": k.Contact, "kiosk.alternative": k.Alternative}
	for code, l := range k.Local {
		texts["kiosk.local."+code+".contact"], texts["kiosk.local."+code+".alternative"] = l.Contact, l.Alternative
	}
	for _, key := range slices.Sorted(maps.Keys(texts)) {
		if n := utf8.RuneCountInString(texts[key]); n > maxWording {
			p.add("%s is %d characters; at most %d fit on the screen", key, n, maxWording)
		}
	}
}

// maxWording is the longest contact or alternative, in characters.
const maxWording = 200

func (c *Config) checkFace(p *problems) {
	f := c.Face
	between(p, "face.threshold", f.Threshold, 0.01, 1)
	between(p, "face.retries", *f.Retries, 0, 5)
	between(p, "face.countdown", f.Countdown.Duration, time.Second, 10*time.Second)
	if f.Width != 0 || f.Height != 0 {
		between(p, "face.width", f.Width, 160, 4096)
		between(p, "face.height", f.Height, 120, 4096)
	}
	if c.Sandbox {
		return
	}
	p.required(" (face.enabled is true)", "face.client_id", f.ClientID, "face.client_secret", f.ClientSecret,
		"face.service_id", f.ServiceID, "face.cert", f.Cert)
	if f.BaseURL == "" && f.Environment == "" {
		p.add("missing face.base_url (or face.environment)")
	}
}

func (c *Config) checkVerify(p *problems) {
	v := c.EffectiveVerify()
	if v.Environment != "" {
		p.oneOf("verify.environment", v.Environment, "test", "production")
	}
	for _, a := range v.Attributes {
		if !ndi.KnownAttribute(a) {
			p.add("verify.attributes: %q is not a Verify attribute", a)
		}
	}
	if c.Kiosk.Mode == kiosk.ModeAge && !slices.Contains(v.Attributes, "dob") {
		p.add("verify.attributes must include \"dob\" in age mode")
	}
	if v.QRLifetime.Duration < 30*time.Second || v.QRLifetime.Duration > 10*time.Minute {
		p.add("verify.qr_lifetime must be between 30s and 10m")
	}
	if v.QRLead.Duration < time.Second || v.QRLead.Duration >= v.QRLifetime.Duration/2 {
		p.add("verify.qr_lead must be at least 1s and less than half of verify.qr_lifetime")
	}
	between(p, "verify.exchange_timeout", v.ExchangeTimeout.Duration, 2*time.Second, time.Minute)
	if c.Sandbox {
		return
	}
	if v.CallbackURL != "" {
		p.publicURL("verify.callback_url", v.CallbackURL)
	}
	p.required("", "verify.client_id", v.ClientID, "verify.client_secret", v.ClientSecret,
		"verify.private_key", v.PrivateKey, "verify.ndi_cert", v.NDICert, "verify.callback_url", v.CallbackURL,
		"verify.token_url (or verify.environment)", v.TokenURL, "verify.person_url (or verify.environment)", v.PersonURL)
}

// checkScopes: every scope is one the kiosk reads, a Singpass Login app
// (user.identity) asks for nothing Myinfo's, and the mode gets what it
// decides on.
func (c *Config) checkScopes(p *problems, scopes []string) {
	for _, s := range scopes {
		if !fapi.ValidScope(s) {
			hint := ""
			if s == "partialuinfin" {
				hint = " (Myinfo has no partial UIN/FIN: ask for uinfin, which the kiosk masks on arrival)"
			}
			p.add("fapi.scopes: %q is not a Myinfo data item the kiosk reads%s", s, hint)
		}
	}
	login := fapi.LoginOnly(scopes)
	if err := fapi.CheckScopes(scopes); err != nil && login {
		p.add("fapi.scopes: %v", err)
	}
	switch {
	case c.Kiosk.Mode == kiosk.ModeAge && login:
		p.add("fapi.scopes: age mode needs the date of birth, which only Myinfo gives (uinfin, dob); Singpass Login's user.identity has none")
	case c.Kiosk.Mode == kiosk.ModeAge && !slices.Contains(scopes, "dob"):
		p.add("fapi.scopes must include \"dob\" in age mode")
	case c.Kiosk.Mode == kiosk.ModeVisitor && login && !slices.Contains(scopes, "name"):
		p.add("fapi.scopes: visitor mode with Singpass Login asks for name too (user.identity, name)")
	}
}

func (c *Config) checkFAPI(p *problems) {
	f := c.EffectiveFAPI()
	c.checkScopes(p, f.Scopes)
	if !strings.HasPrefix(f.JWKSPath, "/") {
		p.add("fapi.jwks_path must start with /")
	}
	if f.JWKSPath == c.CallbackPath() || strings.HasPrefix(f.JWKSPath, SandboxPrefix+"/") {
		p.add("fapi.jwks_path must differ from the callback path and the sandbox")
	}
	if f.QRLead.Duration < time.Second || f.QRLead.Duration > 25*time.Second {
		p.add("fapi.qr_lead must be between 1s and 25s (a request_uri lives about 60 s)")
	}
	between(p, "fapi.exchange_timeout", f.ExchangeTimeout.Duration, 2*time.Second, time.Minute)
	if f.Environment != "" {
		p.oneOf("fapi.environment", f.Environment, "staging", "production")
	}
	if c.Sandbox {
		return
	}
	p.required("", "fapi.client_id", f.ClientID, "fapi.issuer (or fapi.environment)", f.Issuer, "fapi.redirect_uri", f.RedirectURI)
	if f.RedirectURI == "" {
		return
	}
	p.publicURL("fapi.redirect_uri", f.RedirectURI)
	if containsProductName(f.RedirectURI) {
		p.add("fapi.redirect_uri must not contain \"singpass\", \"corppass\" or \"myinfo\" (the Developer Portal refuses it)")
	}
}

// checkSandbox refuses sandbox mode where it could be mistaken for the real
// thing: with real credentials in the config (they would be ignored), or
// on an address other people can reach (anyone could fake a scan).
func (c *Config) checkSandbox(p *problems) {
	v, f := c.Verify, c.FAPI
	for _, set := range []struct{ table, value string }{{"[verify]", v.ClientID + v.ClientSecret + v.PrivateKey + v.NDICert + v.CallbackURL},
		{"[fapi]", f.ClientID + f.Issuer + f.RedirectURI + f.SigningKey + f.EncryptionKey},
		{"[face]", c.Face.ClientID + c.Face.ClientSecret + c.Face.BaseURL},
		{"[sign]", c.Sign.ClientID + c.Sign.BaseURL + c.Sign.SignJWKSURL + c.Sign.Roots + c.Sign.SigningKey}} {
		if set.value != "" {
			p.add("sandbox mode would ignore the %s credentials in this config: remove sandbox = true (or NDIKIOSK_SANDBOX) to use them, "+
				"or set sandbox_unsafe = true to run the sandbox anyway", set.table)
		}
	}
	if host, _, err := net.SplitHostPort(c.Kiosk.Listen); err == nil && !loopback(host) {
		p.add("sandbox mode listens on %s, which other machines can reach: anyone there could fake a scan. Listen on 127.0.0.1, "+
			"or set sandbox_unsafe = true for a demo with phones on this network", c.Kiosk.Listen)
	}
}

// loopback reports whether host names this machine only.
func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// publicURL checks a URL Singpass or the visitor's phone opens: https, or
// http on this machine only (a local test against the standalone sandbox).
func (p *problems) publicURL(key, raw string) {
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
		p.add("%s must be an absolute https URL", key)
	case u.Scheme == "http" && !loopback(u.Hostname()):
		p.add("%s %q must be https: Singpass sends the visitor's code there", key, raw)
	}
}
