package config

import (
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/BurntSushi/toml"
)

// HubConfig is the [hub] table. On the hub (`ndikiosk hub`) it says where
// the hub listens, the public HTTPS address Singpass and phones reach, and
// its PostgreSQL; on a kiosk it names the hub to connect to and the
// enrolment token.
type HubConfig struct {
	Listen    string `toml:"listen"`     // hub: its HTTP(S) address; default kiosk.listen
	PublicURL string `toml:"public_url"` // hub: https://NAME, the one front door; callbacks and the JWKS are under it
	Database  string `toml:"database"`   // hub: postgres://… (or NDIKIOSK_HUB_DATABASE, to keep the password out of the file)
	KeyFile   string `toml:"key_file"`   // hub: the visit log key, 64 bytes; default DATA_DIR/hub.key, made on first start

	URL   string `toml:"url"`   // kiosk: the hub to connect to, https://NAME
	Token string `toml:"token"` // kiosk: the enrolment token from `ndikiosk hub enrol`, traded once for a credential
}

// HubKeyFile is the default name of the hub's visit log key.
const HubKeyFile = "hub.key"

// SandboxHub is the hub's configuration with no config file: sandbox
// mode, the visit log in the PostgreSQL at database (a URL).
func SandboxHub(database string) *Config {
	c := &Config{Sandbox: true, hub: true}
	c.envProblems = c.applyEnv()
	if c.Hub.Database == "" {
		c.Hub.Database = database
	}
	c.applyDefaults()
	c.hubDefaults()
	return c
}

// hubDefaults: [hub] listen is where the hub listens (the same place
// kiosk.listen names on a kiosk), and the key file is in the data folder.
func (c *Config) hubDefaults() {
	if c.Hub.Listen != "" {
		c.Kiosk.Listen = c.Hub.Listen
	}
	c.Hub.Listen = c.Kiosk.Listen
	if c.Hub.KeyFile == "" {
		c.Hub.KeyFile = filepath.Join(c.Kiosk.DataDir, HubKeyFile)
	}
	c.notifyDefaults()
}

// IsHub reports whether the config is the hub's (LoadHub, SandboxHub).
func (c *Config) IsHub() bool { return c.hub }

// Remote reports whether this kiosk is a hub's screen: it connects to
// [hub] url and holds no Singpass key of its own.
func (c *Config) Remote() bool { return !c.hub && c.Hub.URL != "" }

func (c *Config) checkHub(p *problems) {
	h := c.Hub
	if h.Database == "" {
		p.add("hub.database is missing: the hub keeps its visit log in PostgreSQL (postgres://USER@HOST/DB, or NDIKIOSK_HUB_DATABASE)")
	} else if u, err := url.Parse(h.Database); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		p.add("hub.database is not a postgres:// URL")
	}
	switch {
	case h.PublicURL == "" && !c.Sandbox:
		p.add("hub.public_url is missing: the https:// address on a domain name where Singpass and phones reach the hub")
	case h.PublicURL != "":
		if why := publicProblem(h.PublicURL, c.Sandbox); why != "" {
			p.add("hub.public_url %q: %s", h.PublicURL, why)
		}
	}
	if h.URL != "" || h.Token != "" {
		p.add("hub.url and hub.token are a kiosk's settings; the hub's own address is hub.public_url")
	}
	c.checkNotify(p)
}

// publicProblem says why u cannot be the hub's front door: Singpass
// refuses localhost and IP addresses and wants https. The sandbox is
// local, so it may be plain http on loopback.
func publicProblem(u string, sandbox bool) string {
	pu, err := url.Parse(u)
	if err != nil || pu.Host == "" {
		return "not an absolute URL"
	}
	if pu.Path != "" && pu.Path != "/" || pu.RawQuery != "" {
		return "give the address alone (https://NAME), without a path"
	}
	host := pu.Hostname()
	if sandbox || loopback(host) && pu.Scheme == "http" {
		// The sandbox, or a hub on this machine behind a local relay or
		// for development: Singpass itself would refuse it.
		return ""
	}
	switch {
	case pu.Scheme != "https":
		return "Singpass calls back over https only"
	case net.ParseIP(host) != nil:
		return "Singpass refuses IP addresses: use a domain name"
	case host == "localhost" || strings.HasSuffix(host, ".localhost") || !strings.Contains(host, "."):
		return "Singpass refuses localhost and bare host names: use a public domain name"
	}
	return ""
}

func (c *Config) checkRemote(p *problems) {
	u, err := url.Parse(c.Hub.URL)
	switch {
	case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
		p.add("hub.url %q is not an https:// address", c.Hub.URL)
	case u.Scheme == "http" && !loopback(u.Hostname()):
		p.add("hub.url %q: a kiosk talks to its hub over https (http only on this machine, for development)", c.Hub.URL)
	}
	if c.Sandbox {
		p.add("sandbox is the hub's setting: a kiosk with hub.url shows whatever its hub runs")
	}
	if c.Verify.ClientSecret != "" || c.Verify.PrivateKey != "" || c.FAPI.SigningKey != "" {
		p.add("a kiosk with hub.url holds no Singpass credentials: remove the [verify] and [fapi] keys (the hub has them)")
	}
}

// IsHubFile reports whether the config file at path is a hub's: its [hub]
// table names a database (or NDIKIOSK_HUB_DATABASE does). The operator
// commands (export, deny, allow, doctor) then work on the hub's log.
func IsHubFile(path string) bool {
	if os.Getenv(EnvPrefix+"HUB_DATABASE") != "" {
		return true
	}
	var f struct {
		Hub struct {
			Database string `toml:"database"`
		} `toml:"hub"`
	}
	_, err := toml.DecodeFile(path, &f)
	return err == nil && f.Hub.Database != ""
}
