package notify

import (
	"context"
	"crypto/tls"
	"fmt"

	"ndikiosk/config"
)

// FromConfig is a worker's channels and attempts from the hub's [notify]
// table (checked by config); it reads ca_file.
func FromConfig(n config.NotifyConfig) (Options, error) {
	o := Options{MaxAttempts: n.MaxAttempts}
	if s := n.SMTP; s.Host != "" {
		cas, err := LoadCAs(s.CAFile)
		if err != nil {
			return o, fmt.Errorf("notify.smtp.ca_file: %w", err)
		}
		o.SMTP = &SMTP{Host: s.Host, Port: s.Port, Username: s.Username, Password: s.Password, From: s.From,
			NoTLS: s.StartTLS == config.StartTLSNone, Timeout: s.Timeout.Duration}
		if cas != nil {
			o.SMTP.TLS = &tls.Config{RootCAs: cas, MinVersion: tls.VersionTLS12}
		}
	}
	if w := n.Webhook; w.URL != "" {
		o.Webhook = &Webhook{URL: w.URL, Secret: []byte(w.Secret), Timeout: w.Timeout.Duration}
	}
	return o, nil
}

// Check connects to the mail server as a send would (EHLO, STARTTLS unless
// NoTLS, AUTH) and quits without sending anything, for doctor.
func (s *SMTP) Check(ctx context.Context) error {
	ss, err := s.dial(ctx)
	if err != nil {
		return err
	}
	ss.close()
	return nil
}
