package app

import (
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
	o, err := notify.FromConfig(cfg.Notify)
	if err != nil {
		return nil, err
	}
	host, _ := os.Hostname()
	o.ID, o.RetentionDays, o.Log = host+"/"+addr, cfg.Kiosk.RetentionDays, log.With("part", "notify")
	log.Info("host notification", "email", o.SMTP != nil, "webhook", o.Webhook != nil, "max_attempts", o.MaxAttempts)
	return notify.New(db, o), nil
}
