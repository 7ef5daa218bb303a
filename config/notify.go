package config

import (
	"net/mail"
	"net/url"
	"strings"
	"time"
)

// NotifyConfig is the [notify] table: how the hub tells a host that their
// visitor has arrived (package notify). Each channel is off until its
// sub-table is filled in.
type NotifyConfig struct {
	MaxAttempts int           `toml:"max_attempts"` // attempts before a notification is a dead letter; default 8
	SMTP        SMTPConfig    `toml:"smtp"`
	Webhook     WebhookConfig `toml:"webhook"`
}

// SMTPConfig is [notify.smtp]: email through the venue's mail relay.
type SMTPConfig struct {
	Host     string   `toml:"host"`     // the relay; "" turns email off
	Port     int      `toml:"port"`     // default 587
	Username string   `toml:"username"` // "" for no AUTH
	Password string   `toml:"password"` // or NDIKIOSK_NOTIFY_SMTP_PASSWORD
	From     string   `toml:"from"`     // the sender's address
	StartTLS string   `toml:"starttls"` // "required" (default) or "none" (a relay on loopback only)
	CAFile   string   `toml:"ca_file"`  // certificates to trust for STARTTLS (a private relay); default the system's
	Timeout  Duration `toml:"timeout"`  // per connection and message; default 30s
}

// WebhookConfig is [notify.webhook]: a signed JSON POST.
type WebhookConfig struct {
	URL     string   `toml:"url"`     // https://…; http only on loopback; "" turns the webhook off
	Secret  string   `toml:"secret"`  // at least 32 bytes, or NDIKIOSK_NOTIFY_WEBHOOK_SECRET
	Timeout Duration `toml:"timeout"` // default 10s
}

// STARTTLS settings.
const (
	StartTLSRequired = "required"
	StartTLSNone     = "none"
)

// MinWebhookSecret is the shortest webhook secret, in bytes.
const MinWebhookSecret = 32

func (c *Config) notifyDefaults() {
	n := &c.Notify
	n.MaxAttempts = or(n.MaxAttempts, 8)
	if n.SMTP.Host != "" {
		n.SMTP.Port = or(n.SMTP.Port, 587)
		n.SMTP.StartTLS = or(n.SMTP.StartTLS, StartTLSRequired)
	}
	n.SMTP.Timeout.Duration = or(n.SMTP.Timeout.Duration, 30*time.Second)
	n.Webhook.Timeout.Duration = or(n.Webhook.Timeout.Duration, 10*time.Second)
}

// checkNotify checks [notify] on the hub. No message carries a secret:
// the password and the webhook secret are named, never shown.
func (c *Config) checkNotify(p *problems) {
	n := c.Notify
	between(p, "notify.max_attempts", n.MaxAttempts, 1, 50)
	if s := n.SMTP; s.Host != "" || s.From != "" || s.Username != "" || s.Password != "" {
		checkSMTP(p, s)
	}
	if w := n.Webhook; w.URL != "" || w.Secret != "" {
		checkWebhook(p, w)
	}
}

func checkSMTP(p *problems, s SMTPConfig) {
	if s.Host == "" || strings.ContainsAny(s.Host, " /:\r\n") {
		p.add("notify.smtp.host %q is not a host name or address (the relay, e.g. smtp.example.sg)", s.Host)
	}
	between(p, "notify.smtp.port", s.Port, 1, 65535)
	if a, err := mail.ParseAddress(s.From); err != nil || a.Address != s.From || strings.ContainsAny(s.From, "\r\n") {
		p.add("notify.smtp.from %q is not one email address (reception@example.sg)", s.From)
	}
	switch s.StartTLS {
	case StartTLSRequired:
	case StartTLSNone:
		if !loopback(s.Host) {
			p.add("notify.smtp.starttls = \"none\" is allowed only for a relay on this machine (127.0.0.1): mail to %s would cross the network in clear", s.Host)
		}
	default:
		p.add("notify.smtp.starttls is %q; want \"required\" or \"none\"", s.StartTLS)
	}
	if (s.Username == "") != (s.Password == "") {
		p.add("notify.smtp.username and notify.smtp.password go together (the password may come from NDIKIOSK_NOTIFY_SMTP_PASSWORD)")
	}
	if strings.ContainsAny(s.Username, "\r\n") {
		p.add("notify.smtp.username has a line break")
	}
	between(p, "notify.smtp.timeout", s.Timeout.Duration, time.Second, 5*time.Minute)
}

func checkWebhook(p *problems, w WebhookConfig) {
	u, err := url.Parse(w.URL)
	switch {
	case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
		p.add("notify.webhook.url is not an https:// address")
	case u.Scheme == "http" && !loopback(u.Hostname()):
		p.add("notify.webhook.url: https only (http only to this machine): the visitor's name would cross the network in clear")
	case u.User != nil:
		p.add("notify.webhook.url carries a user name or password: the receiver checks the signature instead")
	}
	if len(w.Secret) < MinWebhookSecret {
		p.add("notify.webhook.secret is %d bytes; want at least %d (e.g. from `openssl rand -hex 32`; or NDIKIOSK_NOTIFY_WEBHOOK_SECRET)",
			len(w.Secret), MinWebhookSecret)
	}
	between(p, "notify.webhook.timeout", w.Timeout.Duration, time.Second, 2*time.Minute)
}
