package kiosk

import (
	"context"
	"log/slog"
	"time"
)

// KeepFor deletes visits older than days now and then once a day, until ctx
// ends. Singpass's key principles and the PDPC guidelines both ask that
// personal data be kept no longer than the purpose needs.
func KeepFor(ctx context.Context, store VisitStore, days int, now func() time.Time, log *slog.Logger) {
	purge := func() {
		cutoff := now().AddDate(0, 0, -days)
		n, err := store.Purge(ctx, cutoff)
		if err != nil {
			log.Error("retention purge failed", "error", err.Error())
			return
		}
		if n > 0 {
			log.Info("retention purge", "deleted", n, "older_than_days", days)
		}
	}
	purge()
	t := time.NewTicker(24 * time.Hour)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			purge()
		}
	}
}
