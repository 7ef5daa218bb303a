// Package config is the kiosk's configuration: the TOML schema, the
// NDIKIOSK_* environment overrides, validation, and every default. A new
// config key goes here (and into packaging/ndikiosk.example.toml); the app
// package builds a running kiosk from a Config.
package config

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"ndikiosk/kiosk"
	"ndikiosk/ndi"
	"ndikiosk/ndi/fapi"
	"ndikiosk/ndi/verify"
)

// Duration reads TOML strings such as "2m" or "90s".
type Duration struct{ time.Duration }

// UnmarshalText parses a Go duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("%q is not a duration (use e.g. \"90s\" or \"2m\")", b)
	}
	d.Duration = v
	return nil
}

// MarshalText writes the duration back as text.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// Config is the kiosk's configuration file.
type Config struct {
	// Sandbox runs the kiosk against the embedded Singpass sandbox; the
	// [verify] endpoints, keys and credentials are then made up locally.
	Sandbox bool          `toml:"sandbox"`
	Kiosk   KioskConfig   `toml:"kiosk"`
	Visitor VisitorConfig `toml:"visitor"`
	Admin   AdminConfig   `toml:"admin"`
	Face    FaceSettings  `toml:"face"`
	Verify  VerifyConfig  `toml:"verify"`
	FAPI    FAPIConfig    `toml:"fapi"`

	path string // the file it came from; empty for built-in sandbox defaults
}

// KioskConfig is the [kiosk] table.
type KioskConfig struct {
	ID           string `toml:"id"`            // names this kiosk in the visit log; default "kiosk1"
	Venue        string `toml:"venue"`         // shown on screen
	Mode         string `toml:"mode"`          // "age" or "visitor"
	Provider     string `toml:"provider"`      // "verify" (default): Singpass Verify; "fapi": Singpass Myinfo (FAPI 2.0)
	MinAge       int    `toml:"min_age"`       // age mode threshold; default 18
	Listen       string `toml:"listen"`        // callback server address; default 127.0.0.1:8080
	CallbackPath string `toml:"callback_path"` // default /callback
	DataDir      string `toml:"data_dir"`      // default: the user's data folder
	Contact      string `toml:"contact"`       // who to contact when Verify is unavailable
	Alternative  string `toml:"alternative"`   // the non-Verify way, e.g. "Please approach the counter"

	TLSCert string `toml:"tls_cert"` // serve HTTPS with this certificate (PEM), for sites without a reverse proxy
	TLSKey  string `toml:"tls_key"`  // and its key

	RetentionDays  int      `toml:"retention_days"`  // visits older than this are deleted; default 30
	ResultTimeout  Duration `toml:"result_timeout"`  // how long a result stays on screen; default 8s
	ConfirmTimeout Duration `toml:"confirm_timeout"` // visitor mode: time to confirm; default 60s
	Language       string   `toml:"language"`        // screen language: en, zh, ms or ta; default: the system's
	HideCursor     bool     `toml:"hide_cursor"`     // hide the mouse pointer (touchscreens)
}

// AdminConfig is the [admin] table.
type AdminConfig struct {
	PINHash     string `toml:"pin_hash"`     // from `ndikiosk hash-pin`; required to run outside sandbox mode
	MaxTries    int    `toml:"max_tries"`    // wrong PINs before the pad locks; default 5
	LockMinutes int    `toml:"lock_minutes"` // how long it stays locked; default 5
}

// FaceSettings is the [face] table: the SingPass Face check.
type FaceSettings struct {
	Enabled         bool     `toml:"enabled"`
	Threshold       float64  `toml:"threshold"` // pass at a compare score above 0 and ≥ this; default 0.70
	Retries         *int     `toml:"retries"`   // further attempts after a failed one; default 2
	Countdown       Duration `toml:"countdown"` // default 3s
	Camera          string   `toml:"camera"`    // v4l2:/dev/video0 (default), still:PATH or synthetic (sandbox default)
	Width           int      `toml:"width"`     // camera resolution; default 640×480
	Height          int      `toml:"height"`
	Environment     string   `toml:"environment"` // "staging" or "production" fills base_url
	BaseURL         string   `toml:"base_url"`
	ClientID        string   `toml:"client_id"`
	ClientSecret    string   `toml:"client_secret"`
	ServiceID       string   `toml:"service_id"`
	Cert            string   `toml:"cert"` // the Face service's certificate (from the onboarding welcome package)
	TransactionType string   `toml:"transaction_type"`
	UserPath        string   `toml:"user_path"` // the eligibility call's path; default /user
}

// SandboxPIN is the admin PIN in sandbox mode when the config sets none.
const SandboxPIN = "1234"

// VisitorConfig is the [visitor] table.
type VisitorConfig struct {
	Hosts    []string `toml:"hosts"`     // whom visitors may see
	Purposes []string `toml:"purposes"`  // why they come
	FreeText bool     `toml:"free_text"` // allow typing a host or purpose not on the lists
}

// VerifyConfig is the [verify] table.
type VerifyConfig struct {
	Environment        string   `toml:"environment"` // "test" or "production" fill token_url and person_url
	ClientID           string   `toml:"client_id"`
	ClientSecret       string   `toml:"client_secret"`
	PrivateKey         string   `toml:"private_key"` // PEM or PKCS#12
	PrivateKeyPassword string   `toml:"private_key_password"`
	NDICert            string   `toml:"ndi_cert"` // Verify's certificate or public key
	CallbackURL        string   `toml:"callback_url"`
	TokenURL           string   `toml:"token_url"`
	PersonURL          string   `toml:"person_url"`
	QRBaseURL          string   `toml:"qr_base_url"` // default https://app.singpass.gov.sg/sgverify
	Attributes         []string `toml:"attributes"`  // default by mode
	QRLifetime         Duration `toml:"qr_lifetime"` // default 120s
	QRLead             Duration `toml:"qr_lead"`     // show the next code this long before expiry; default 10s
	ExchangeTimeout    Duration `toml:"exchange_timeout"`
}

// FAPIConfig is the [fapi] table: Singpass Myinfo under the FAPI 2.0
// profile, for venues without Verify credentials (kiosk.provider = "fapi").
type FAPIConfig struct {
	Environment     string   `toml:"environment"` // "staging" or "production" fills issuer
	Issuer          string   `toml:"issuer"`
	ClientID        string   `toml:"client_id"`
	RedirectURI     string   `toml:"redirect_uri"`   // registered on the Singpass Developer Portal; served at its path
	SigningKey      string   `toml:"signing_key"`    // P-256 key, PEM or JWK; made here on first start; default <data_dir>/fapi/signing.pem
	EncryptionKey   string   `toml:"encryption_key"` // likewise; default <data_dir>/fapi/encryption.pem
	PreviousKeys    []string `toml:"previous_keys"`  // retired encryption keys still published and used to decrypt during a rotation
	JWKSPath        string   `toml:"jwks_path"`      // where this kiosk publishes its public keys; default /.well-known/jwks.json
	Scopes          []string `toml:"scopes"`         // Myinfo data items; default by mode
	ACRValues       string   `toml:"acr_values"`     // only if the client is whitelisted for it
	QRLead          Duration `toml:"qr_lead"`        // show the next code this long before the request_uri expires; default 10s
	ExchangeTimeout Duration `toml:"exchange_timeout"`
}

// Providers.
const (
	ProviderVerify = "verify"
	ProviderFAPI   = "fapi"
)

// Sandbox client registration used whenever the kiosk makes its own sandbox.
const (
	SandboxClientID     = "STG2-SGVERIFY-NDIKIOSK-SANDBOX"
	SandboxClientSecret = "sandbox-client-secret"
	SandboxPrefix       = "/sandbox"
	SandboxFAPIClientID = "ndikiosk-sandbox-myinfo"
)

// Load reads a config file. Every problem is reported at once, by key name.
func Load(path string) (*Config, error) {
	var c Config
	md, err := toml.DecodeFile(path, &c)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	c.path = path
	var problems []string
	for _, k := range md.Undecoded() {
		problems = append(problems, "unknown key "+k.String())
	}
	problems = append(problems, c.applyEnv()...)
	c.applyDefaults()
	problems = append(problems, c.check()...)
	if len(problems) > 0 {
		return nil, fmt.Errorf("config %s:\n  - %s", path, strings.Join(problems, "\n  - "))
	}
	c.resolvePaths()
	return &c, nil
}

// SandboxDefaults is the configuration `ndikiosk` uses with no config file.
func SandboxDefaults() *Config {
	c := &Config{Sandbox: true}
	c.applyEnv() // a bad variable is reported by Validate's checks or ignored
	c.applyDefaults()
	return c
}

// Path is the file the config came from, or "" for built-in defaults.
func (c *Config) Path() string { return c.path }

func (c *Config) applyDefaults() {
	k := &c.Kiosk
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&k.ID, "kiosk1")
	def(&k.Mode, kiosk.ModeAge)
	def(&k.Provider, ProviderVerify)
	def(&k.Listen, "127.0.0.1:8080")
	def(&k.CallbackPath, "/callback")
	def(&k.DataDir, DefaultDataDir())
	def(&k.Contact, "the venue staff")
	def(&k.Alternative, "Please approach the counter.")
	if k.MinAge == 0 {
		k.MinAge = 18
	}
	if k.RetentionDays == 0 {
		k.RetentionDays = 30
	}
	if k.ResultTimeout.Duration == 0 {
		k.ResultTimeout.Duration = 8 * time.Second
	}
	if k.ConfirmTimeout.Duration == 0 {
		k.ConfirmTimeout.Duration = 60 * time.Second
	}
	fs := &c.Face
	if fs.Threshold == 0 {
		fs.Threshold = 0.70
	}
	if fs.Retries == nil {
		two := 2
		fs.Retries = &two
	}
	if fs.Countdown.Duration == 0 {
		fs.Countdown.Duration = 3 * time.Second
	}
	vis := &c.Visitor
	if len(vis.Hosts) == 0 && len(vis.Purposes) == 0 && !vis.FreeText && c.Sandbox {
		vis.Hosts = []string{"Reception", "Ms Tan Li Ling (Finance)", "Mr Rajesh Kumar (IT)"}
		vis.Purposes = []string{"Meeting", "Delivery", "Interview", "Contractor work"}
	}
	v := &c.Verify
	switch v.Environment {
	case "test":
		def(&v.TokenURL, verify.TestTokenURL)
		def(&v.PersonURL, verify.TestPersonURL)
	case "production":
		def(&v.TokenURL, verify.ProdTokenURL)
		def(&v.PersonURL, verify.ProdPersonURL)
	}
	def(&v.QRBaseURL, verify.QRBaseURL)
	if v.QRLifetime.Duration == 0 {
		v.QRLifetime.Duration = 120 * time.Second
	}
	if v.QRLead.Duration == 0 {
		v.QRLead.Duration = 10 * time.Second
	}
	if v.ExchangeTimeout.Duration == 0 {
		v.ExchangeTimeout.Duration = 15 * time.Second
	}
	f := &c.FAPI
	switch f.Environment {
	case "staging":
		def(&f.Issuer, fapi.StagingIssuer)
	case "production":
		def(&f.Issuer, fapi.ProductionIssuer)
	}
	def(&f.JWKSPath, "/.well-known/jwks.json")
	if f.QRLead.Duration == 0 {
		f.QRLead.Duration = 10 * time.Second
	}
	if f.ExchangeTimeout.Duration == 0 {
		f.ExchangeTimeout.Duration = 15 * time.Second
	}
}

// EffectiveVerify is the [verify] table as used: in sandbox mode the
// credentials and endpoints are the local sandbox's, on the kiosk's own
// server (so they follow kiosk.listen).
func (c *Config) EffectiveVerify() VerifyConfig {
	v := c.Verify
	v.Attributes = c.requested(v.Attributes, DefaultAttributes)
	if c.Sandbox {
		base := c.BaseURL()
		v.ClientID, v.ClientSecret = SandboxClientID, SandboxClientSecret
		v.CallbackURL = base + c.Kiosk.CallbackPath
		v.TokenURL = base + SandboxPrefix + "/token"
		v.PersonURL = base + SandboxPrefix + "/person"
		v.QRBaseURL = base + SandboxPrefix + "/sgverify"
	}
	return v
}

// requested is what the kiosk asks Singpass for: the configured list or
// the mode's default, plus uinfin with Face.
func (c *Config) requested(list []string, byMode func(string) []string) []string {
	if len(list) == 0 {
		list = byMode(c.Kiosk.Mode)
	}
	if c.Face.Enabled && !slices.Contains(list, "uinfin") {
		// SingPass Face identifies people by UIN/FIN; asked for only then.
		list = append(slices.Clone(list), "uinfin")
	}
	return list
}

// Validate checks the config again, after command-line overrides.
func (c *Config) Validate() error {
	if p := c.check(); len(p) > 0 {
		where := c.path
		if where == "" {
			where = "(built-in sandbox defaults)"
		}
		return fmt.Errorf("config %s:\n  - %s", where, strings.Join(p, "\n  - "))
	}
	return nil
}

// DefaultAttributes is what a mode asks Verify for when the config is silent:
// the date of birth only for age checks (plus the masked id for the log).
func DefaultAttributes(mode string) []string {
	if mode == kiosk.ModeVisitor {
		return []string{"name", "partialuinfin", "mobileno"}
	}
	return []string{"partialuinfin", "dob"}
}

func (c *Config) check() []string {
	var p []string
	k, v := c.Kiosk, c.EffectiveVerify()
	switch k.Mode {
	case kiosk.ModeAge:
	case kiosk.ModeVisitor:
		if !c.Visitor.FreeText && (len(c.Visitor.Hosts) == 0 || len(c.Visitor.Purposes) == 0) {
			p = append(p, "visitor mode needs visitor.hosts and visitor.purposes, or visitor.free_text = true")
		}
	default:
		p = append(p, fmt.Sprintf("kiosk.mode is %q; want \"age\" or \"visitor\"", k.Mode))
	}
	switch k.Language {
	case "", "en", "zh", "ms", "ta":
	default:
		p = append(p, fmt.Sprintf("kiosk.language is %q; want en, zh, ms or ta", k.Language))
	}
	if f := c.Face; f.Enabled {
		if f.Threshold < 0 || f.Threshold > 1 {
			p = append(p, "face.threshold must be between 0 and 1")
		}
		if f.Retries != nil && (*f.Retries < 0 || *f.Retries > 5) {
			p = append(p, "face.retries must be between 0 and 5")
		}
		if !c.Sandbox {
			for _, r := range []struct{ name, v string }{{"face.client_id", f.ClientID}, {"face.client_secret", f.ClientSecret},
				{"face.service_id", f.ServiceID}, {"face.cert", f.Cert}} {
				if r.v == "" {
					p = append(p, "missing "+r.name+" (face.enabled is true)")
				}
			}
			if f.BaseURL == "" && f.Environment == "" {
				p = append(p, "missing face.base_url (or face.environment)")
			}
		}
	}
	if c.Admin.PINHash != "" {
		if _, err := kiosk.ParsePINHash(c.Admin.PINHash); err != nil {
			p = append(p, err.Error())
		}
	}
	if k.RetentionDays < 1 || k.RetentionDays > 3650 {
		p = append(p, fmt.Sprintf("kiosk.retention_days %d is out of range 1-3650", k.RetentionDays))
	}
	if k.MinAge < 1 || k.MinAge > 120 {
		p = append(p, fmt.Sprintf("kiosk.min_age %d is out of range 1-120", k.MinAge))
	}
	if _, _, err := net.SplitHostPort(k.Listen); err != nil {
		p = append(p, fmt.Sprintf("kiosk.listen %q is not host:port", k.Listen))
	}
	if !strings.HasPrefix(k.CallbackPath, "/") {
		p = append(p, "kiosk.callback_path must start with /")
	}
	if v.Environment != "" && v.Environment != "test" && v.Environment != "production" {
		p = append(p, fmt.Sprintf("verify.environment is %q; want \"test\" or \"production\"", v.Environment))
	}
	if !validKioskID(k.ID) {
		p = append(p, fmt.Sprintf("kiosk.id %q must be 1-40 characters of A-Z a-z 0-9 _ -", k.ID))
	}
	switch k.Provider {
	case ProviderVerify:
		for _, a := range v.Attributes {
			if !ndi.KnownAttribute(a) {
				p = append(p, fmt.Sprintf("verify.attributes: %q is not a Verify attribute", a))
			}
		}
		if k.Mode == kiosk.ModeAge && !slices.Contains(v.Attributes, "dob") {
			p = append(p, "verify.attributes must include \"dob\" in age mode")
		}
	case ProviderFAPI:
		p = append(p, c.checkFAPI()...)
	default:
		p = append(p, fmt.Sprintf("kiosk.provider is %q; want \"verify\" or \"fapi\"", k.Provider))
	}
	if (k.TLSCert == "") != (k.TLSKey == "") {
		p = append(p, "kiosk.tls_cert and kiosk.tls_key go together")
	}
	if k.Provider != ProviderVerify {
		return p
	}
	if v.QRLifetime.Duration < 30*time.Second || v.QRLifetime.Duration > 10*time.Minute {
		p = append(p, "verify.qr_lifetime must be between 30s and 10m")
	}
	if v.QRLead.Duration < time.Second || v.QRLead.Duration >= v.QRLifetime.Duration/2 {
		p = append(p, "verify.qr_lead must be at least 1s and less than half of verify.qr_lifetime")
	}
	if c.Sandbox {
		return p
	}
	required := []struct{ name, value string }{
		{"verify.client_id", v.ClientID}, {"verify.client_secret", v.ClientSecret},
		{"verify.private_key", v.PrivateKey}, {"verify.ndi_cert", v.NDICert},
		{"verify.callback_url", v.CallbackURL}, {"verify.token_url (or verify.environment)", v.TokenURL},
		{"verify.person_url (or verify.environment)", v.PersonURL},
	}
	for _, r := range required {
		if r.value == "" {
			p = append(p, "missing "+r.name)
		}
	}
	return p
}

func (c *Config) resolvePaths() {
	dir := filepath.Dir(c.path)
	paths := []*string{&c.Verify.PrivateKey, &c.Verify.NDICert, &c.Kiosk.DataDir, &c.Kiosk.TLSCert, &c.Kiosk.TLSKey, &c.Face.Cert,
		&c.FAPI.SigningKey, &c.FAPI.EncryptionKey}
	for i := range c.FAPI.PreviousKeys {
		paths = append(paths, &c.FAPI.PreviousKeys[i])
	}
	for _, p := range paths {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
}

// SandboxDir is where sandbox keys live.
func (c *Config) SandboxDir() string { return filepath.Join(c.Kiosk.DataDir, "sandbox") }

// CameraSetting is face.camera with its default: the synthetic camera in
// sandbox mode, the first V4L2 device otherwise.
func (c *Config) CameraSetting() string {
	switch {
	case c.Face.Camera != "":
		return c.Face.Camera
	case c.Sandbox:
		return "synthetic"
	}
	return "v4l2:/dev/video0"
}

// BaseURL is the kiosk's own server as seen from this machine.
func (c *Config) BaseURL() string {
	if c.Kiosk.TLSCert != "" {
		return "https://" + c.Kiosk.Listen
	}
	return "http://" + c.Kiosk.Listen
}

// DefaultDataDir is the per-user data folder: $XDG_DATA_HOME/ndikiosk or
// ~/.local/share/ndikiosk on Linux, %LocalAppData%\ndikiosk on Windows,
// ~/Library/Application Support/ndikiosk on macOS.
func DefaultDataDir() string {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" && runtime.GOOS != "windows" {
		return filepath.Join(d, "ndikiosk")
	}
	home, err := os.UserHomeDir()
	switch {
	case runtime.GOOS == "windows":
		if d := os.Getenv("LocalAppData"); d != "" {
			return filepath.Join(d, "ndikiosk")
		}
	case err != nil:
	case runtime.GOOS == "darwin":
		return filepath.Join(home, "Library", "Application Support", "ndikiosk")
	default:
		return filepath.Join(home, ".local", "share", "ndikiosk")
	}
	return filepath.Join(os.TempDir(), "ndikiosk")
}

// Overrides are command-line values that replace the config's.
type Overrides struct {
	DataDir, Listen, Mode, Provider string
	MinAge                          int
}

// Override applies the non-empty overrides; Validate checks the result.
func (c *Config) Override(o Overrides) {
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&c.Kiosk.DataDir, o.DataDir)
	set(&c.Kiosk.Listen, o.Listen)
	set(&c.Kiosk.Mode, o.Mode)
	set(&c.Kiosk.Provider, o.Provider)
	if o.MinAge != 0 {
		c.Kiosk.MinAge = o.MinAge
	}
}
