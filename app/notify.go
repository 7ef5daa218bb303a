package app

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"

	"ndikiosk/config"
	"ndikiosk/notify"
	"ndikiosk/pgstore"
)

// newNotifier is the hub's host-notification worker from [notify]. Its
// claims are named by host and listen address, so that a replica
// restarted after a crash takes its own rows back at once.
func newNotifier(cfg *config.Config, db *pgstore.DB, addr string, log *slog.Logger) (*notify.Worker, error) {
	n := cfg.Notify
	host, _ := os.Hostname()
	o := notify.Options{MaxAttempts: n.MaxAttempts, ID: host + "/" + addr, RetentionDays: cfg.Kiosk.RetentionDays,
		Log: log.With("part", "notify")}
	if s := n.SMTP; s.Host != "" {
		cas, err := notify.LoadCAs(s.CAFile)
		if err != nil {
			return nil, fmt.Errorf("notify.smtp.ca_file: %w", err)
		}
		o.SMTP = &notify.SMTP{Host: s.Host, Port: s.Port, Username: s.Username, Password: s.Password, From: s.From,
			NoTLS: s.StartTLS == config.StartTLSNone, Timeout: s.Timeout.Duration}
		if cas != nil {
			o.SMTP.TLS = &tls.Config{RootCAs: cas, MinVersion: tls.VersionTLS12}
		}
	}
	if w := n.Webhook; w.URL != "" {
		o.Webhook = &notify.Webhook{URL: w.URL, Secret: []byte(w.Secret), Timeout: w.Timeout.Duration}
	}
	log.Info("host notification", "email", o.SMTP != nil, "webhook", o.Webhook != nil, "max_attempts", o.MaxAttempts)
	return notify.New(db, o), nil
}
