// Package config is the kiosk's configuration: the TOML schema, the
// NDIKIOSK_* environment overrides, validation, and every default. A new
// config key goes here (and into packaging/ndikiosk.example.toml); the app
// package builds a running kiosk from a Config.
package config

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"ndikiosk/kiosk"
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
	Hub     HubConfig     `toml:"hub"`
	Notify  NotifyConfig  `toml:"notify"` // the hub's host notifications
	Sign    SignSettings  `toml:"sign"`   // visitor agreements signed with Sign with Singpass

	// SignDemo (--sign-demo, sandbox mode) turns signing on with a built-in
	// sample agreement when [sign] names no document.
	SignDemo bool `toml:"-"`

	// SandboxUnsafe lets sandbox mode run with credentials in the config or
	// on an address other than loopback (a demo with phones on the LAN).
	// Anyone who can reach the kiosk can then fake a scan.
	SandboxUnsafe bool `toml:"sandbox_unsafe"`

	path        string   // the file it came from; empty for built-in sandbox defaults
	hub         bool     // the hub's config (AsHub), not a kiosk's
	envProblems []string // NDIKIOSK_* variables that could not be used
}

// KioskConfig is the [kiosk] table.
type KioskConfig struct {
	ID           string `toml:"id"`            // names this kiosk in the visit log; default "kiosk1"
	Venue        string `toml:"venue"`         // shown on screen
	Logo         string `toml:"logo"`          // the venue's logo over its name (PNG or JPEG), visitor mode
	Mode         string `toml:"mode"`          // "age" or "visitor"
	Provider     string `toml:"provider"`      // "verify" (default): Singpass Verify; "fapi": Singpass Myinfo (FAPI 2.0)
	MinAge       int    `toml:"min_age"`       // age mode threshold; default 18
	Listen       string `toml:"listen"`        // callback server address; default 127.0.0.1:8080
	CallbackPath string `toml:"callback_path"` // default /callback
	DataDir      string `toml:"data_dir"`      // default: the user's data folder
	Contact      string `toml:"contact"`       // who to contact when Singpass is unavailable; default: the kiosk's own wording, translated
	Alternative  string `toml:"alternative"`   // the non-Singpass way, e.g. "Please approach the counter."; likewise
	// Local is contact and alternative by screen language ([kiosk.local.zh]
	// and so on: en, zh, ms, ta); a language without its own shows the two
	// above.
	Local map[string]Local `toml:"local"`

	TLSCert string `toml:"tls_cert"` // serve HTTPS with this certificate (PEM), for sites without a reverse proxy
	TLSKey  string `toml:"tls_key"`  // and its key

	// TrustedProxies are the reverse proxies or relays in front of the
	// kiosk (IPs or CIDR ranges): only from them is X-Forwarded-For believed.
	TrustedProxies []string `toml:"trusted_proxies"`

	RetentionDays  int      `toml:"retention_days"`  // visits older than this are deleted; default 30
	ResultTimeout  Duration `toml:"result_timeout"`  // how long a result stays on screen; default 8s
	ResultMin      Duration `toml:"result_min"`      // no other visitor's result replaces one sooner; default 4s
	ConfirmTimeout Duration `toml:"confirm_timeout"` // visitor mode: time to confirm, or to answer "Check out now?"; default 60s
	Language       string   `toml:"language"`        // screen language: en, zh, ms or ta; default: the system's
	HideCursor     bool     `toml:"hide_cursor"`     // hide the mouse pointer (touchscreens)
}

// Local is one language's [kiosk.local.LANG] table.
type Local struct {
	Contact     string `toml:"contact"`
	Alternative string `toml:"alternative"`
}

// Languages are the screen languages' codes, for kiosk.language and the
// [kiosk.local.LANG] tables.
var Languages = []string{"en", "zh", "ms", "ta"}

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
func Load(path string) (*Config, error) { return load(path, false) }

// LoadHub reads the hub's config file (`ndikiosk hub`): a kiosk's tables
// for what every kiosk of the fleet does by default, and [hub].
func LoadHub(path string) (*Config, error) { return load(path, true) }

func load(path string, hub bool) (*Config, error) {
	c := Config{hub: hub}
	md, err := toml.DecodeFile(path, &c)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	c.path = path
	var problems []string
	for _, k := range md.Undecoded() {
		problems = append(problems, "unknown key "+k.String())
	}
	problems = append(problems, explicitZeros(&c, md)...)
	c.envProblems = c.applyEnv()
	c.applyDefaults()
	if hub {
		c.hubDefaults()
	}
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
	c.envProblems = c.applyEnv() // reported by Validate
	c.applyDefaults()
	return c
}

// Path is the file the config came from, or "" for built-in defaults.
func (c *Config) Path() string { return c.path }

func (c *Config) applyDefaults() {
	c.kioskDefaults()
	fs := &c.Face
	fs.Threshold = or(fs.Threshold, 0.70)
	if fs.Retries == nil {
		two := 2
		fs.Retries = &two
	}
	fs.Countdown.Duration = or(fs.Countdown.Duration, 3*time.Second)
	a := &c.Admin
	a.MaxTries, a.LockMinutes = or(a.MaxTries, 5), or(a.LockMinutes, 5)
	vis := &c.Visitor
	if len(vis.Hosts) == 0 && len(vis.Purposes) == 0 && !vis.FreeText && c.Sandbox {
		vis.Hosts = []string{"Reception", "Ms Tan Li Ling (Finance)", "Mr Rajesh Kumar (IT)"}
		vis.Purposes = []string{"Meeting", "Delivery", "Interview", "Contractor work"}
	}
	v := &c.Verify
	switch v.Environment {
	case "test":
		v.TokenURL, v.PersonURL = or(v.TokenURL, verify.TestTokenURL), or(v.PersonURL, verify.TestPersonURL)
	case "production":
		v.TokenURL, v.PersonURL = or(v.TokenURL, verify.ProdTokenURL), or(v.PersonURL, verify.ProdPersonURL)
	}
	v.QRBaseURL = or(v.QRBaseURL, verify.QRBaseURL)
	v.QRLifetime.Duration = or(v.QRLifetime.Duration, 120*time.Second)
	v.QRLead.Duration = or(v.QRLead.Duration, 10*time.Second)
	v.ExchangeTimeout.Duration = or(v.ExchangeTimeout.Duration, 15*time.Second)
	f := &c.FAPI
	switch f.Environment {
	case "staging":
		f.Issuer = or(f.Issuer, fapi.StagingIssuer)
	case "production":
		f.Issuer = or(f.Issuer, fapi.ProductionIssuer)
	}
	c.signDefaults()
	f.JWKSPath = or(f.JWKSPath, "/.well-known/jwks.json")
	f.QRLead.Duration = or(f.QRLead.Duration, 10*time.Second)
	f.ExchangeTimeout.Duration = or(f.ExchangeTimeout.Duration, 15*time.Second)
}

func (c *Config) kioskDefaults() {
	k := &c.Kiosk
	k.ID, k.Mode, k.Provider = or(k.ID, "kiosk1"), or(k.Mode, kiosk.ModeAge), or(k.Provider, ProviderVerify)
	dataDir := DefaultDataDir()
	if c.Sandbox {
		// Sandbox visits never mix with a real log.
		dataDir += "-sandbox"
	}
	k.Listen, k.CallbackPath, k.DataDir = or(k.Listen, "127.0.0.1:8080"), or(k.CallbackPath, "/callback"), or(k.DataDir, dataDir)
	// Contact and alternative have no default here: left empty, every
	// screen language says its own (a default in English would hide them).
	k.MinAge, k.RetentionDays = or(k.MinAge, 18), or(k.RetentionDays, 30)
	k.ResultTimeout.Duration = or(k.ResultTimeout.Duration, 8*time.Second)
	k.ResultMin.Duration = or(k.ResultMin.Duration, 4*time.Second)
	k.ConfirmTimeout.Duration = or(k.ConfirmTimeout.Duration, 60*time.Second)
}

// or is v, or def when v is the zero value (the key was not set).
func or[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
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
	if c.Face.Enabled && !slices.Contains(list, "uinfin") && !fapi.LoginOnly(list) {
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

func (c *Config) resolvePaths() {
	dir := filepath.Dir(c.path)
	paths := []*string{&c.Hub.KeyFile, &c.Verify.PrivateKey, &c.Verify.NDICert, &c.Kiosk.DataDir, &c.Kiosk.TLSCert, &c.Kiosk.TLSKey, &c.Kiosk.Logo,
		&c.Face.Cert, &c.Notify.SMTP.CAFile,
		&c.FAPI.SigningKey, &c.FAPI.EncryptionKey, &c.Sign.Document, &c.Sign.Roots, &c.Sign.TSARoots, &c.Sign.SigningKey}
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
	if c.hub && c.Hub.PublicURL != "" {
		return strings.TrimRight(c.Hub.PublicURL, "/")
	}
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
	SignDemo                        bool // --sign-demo: sandbox mode's sample agreement, when [sign] names none
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
	if o.SignDemo {
		c.SignDemo = true
		c.signDefaults()
	}
}

// explicitZeros reports counts and durations the file sets to zero: zero
// means "not set" to the defaults, so a written 0 would silently become
// the default instead of what the file says. (Face's width, height and
// retries take 0 as a value.)
func explicitZeros(c *Config, md toml.MetaData) []string {
	var problems []string
	v := reflect.ValueOf(c).Elem()
	for i := 0; i < v.NumField(); i++ {
		table := strings.Split(v.Type().Field(i).Tag.Get("toml"), ",")[0]
		if f := v.Field(i); f.Kind() == reflect.Struct && f.Type() != reflect.TypeOf(Duration{}) {
			problems = append(problems, tableZeros(f, md, table)...)
		}
	}
	return problems
}

// tableZeros is explicitZeros for one table and its sub-tables ([notify.smtp]).
func tableZeros(f reflect.Value, md toml.MetaData, path ...string) []string {
	var problems []string
	for j := 0; j < f.NumField(); j++ {
		key := strings.Split(f.Type().Field(j).Tag.Get("toml"), ",")[0]
		fv := f.Field(j)
		if fv.Kind() == reflect.Struct && fv.Type() != reflect.TypeOf(Duration{}) {
			problems = append(problems, tableZeros(fv, md, append(slices.Clone(path), key)...)...)
			continue
		}
		numeric := fv.Kind() == reflect.Int || fv.Kind() == reflect.Float64 || fv.Type() == reflect.TypeOf(Duration{})
		if !numeric || !fv.IsZero() || !md.IsDefined(append(slices.Clone(path), key)...) || (path[0] == "face" && (key == "width" || key == "height")) {
			continue
		}
		problems = append(problems, fmt.Sprintf("%s.%s is 0: leave it out for the default, or give a value in its range", strings.Join(path, "."), key))
	}
	return problems
}
