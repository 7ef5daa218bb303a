package doctor

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"ndikiosk/config"
	"ndikiosk/internal/mailpittest"
)

// TestDoctorNotify: doctor logs in to the mail relay without sending
// anything, and fails a relay without STARTTLS or with a certificate this
// machine does not trust.
func TestDoctorNotify(t *testing.T) {
	tlsRelay := mailpittest.Start(t, mailpittest.Options{STARTTLS: true})
	plain := mailpittest.Start(t, mailpittest.Options{})
	smtp := func(mp *mailpittest.Server, ca string) config.NotifyConfig {
		return config.NotifyConfig{MaxAttempts: 8, SMTP: config.SMTPConfig{Host: mp.SMTPHost, Port: mp.SMTPPort, From: "a@b.sg",
			StartTLS: "required", CAFile: ca, Timeout: config.Duration{Duration: 5 * time.Second}}}
	}
	for _, c := range []struct {
		name string
		n    config.NotifyConfig
		want string
		fail bool
	}{
		{"off", config.NotifyConfig{MaxAttempts: 8}, "ok   notify: host notification is off", false},
		{"trusted STARTTLS", smtp(tlsRelay, tlsRelay.CAFile), "ok   notify.smtp: the relay 127.0.0.1 answers (STARTTLS", false},
		{"no STARTTLS", smtp(plain, ""), "FAIL notify.smtp: mail server 127.0.0.1:", true},
		{"untrusted certificate", smtp(tlsRelay, ""), "FAIL notify.smtp: mail server 127.0.0.1:", true},
		{"missing CA file", smtp(tlsRelay, "/nonexistent/ca.pem"), "FAIL notify: notify.smtp.ca_file", true},
		{"webhook", config.NotifyConfig{Webhook: config.WebhookConfig{URL: "https://hooks.example.sg/in", Secret: strings.Repeat("s", 32)}},
			"ok   notify.webhook: set (not called", false},
	} {
		var out bytes.Buffer
		d := &doctor{out: &out, now: time.Now()}
		d.notify(&config.Config{Notify: c.n})
		if !strings.Contains(out.String(), c.want) || (d.failed > 0) != c.fail {
			t.Errorf("%s: %d failed\n%s", c.name, d.failed, out.String())
		}
	}
	if n, _ := tlsRelay.Count(); n != 0 {
		t.Fatalf("doctor sent %d mails", n)
	}
}
