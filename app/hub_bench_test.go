package app

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"ndikiosk/config"
	"ndikiosk/kiosk"
)

// BenchmarkCallbackToDecisionHub is BenchmarkCallbackToDecision through the
// hub: from the callback accepted by the kiosk's engine on the hub (its
// checking screen) to the decision screen arriving at the kiosk, a
// remote.Client on the other end of the WebSocket. In between: the sandbox
// exchange on loopback, the visit committed to PostgreSQL (synchronous
// commit on), the screen encoded, sent and decoded. Run it with the
// standalone one in the same process (-bench CallbackToDecision) to get the
// ratio issue 14 asks for (p99 ≤ 2× standalone).
func BenchmarkCallbackToDecisionHub(b *testing.B) {
	cfg := config.SandboxHub(newDatabase(b))
	cfg.Kiosk.Listen, cfg.Kiosk.DataDir = "127.0.0.1:0", b.TempDir()
	cfg.Hub.KeyFile = filepath.Join(cfg.Kiosk.DataDir, config.HubKeyFile)
	h, err := NewHub(cfg, Options{Version: "bench", Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { h.Run(ctx); close(done) }()
	defer func() { stop(); h.Close(); <-done }()
	token, err := h.Registry.Enrol(ctx, "lobby-1")
	if err != nil {
		b.Fatal(err)
	}
	base := "http://" + h.Addr()
	c, sc, _ := startRemote(b, base, token)
	sc.await(b, "code", isQR)
	eng := h.Hub.Engine("lobby-1")
	if eng == nil {
		b.Fatal("the kiosk's engine is not on the hub")
	}
	accepted := make(chan time.Time, 1)
	eng.Subscribe(func(s kiosk.Screen) {
		if s.Phase == kiosk.PhaseChecking {
			accepted <- time.Now()
		}
	})
	decided := make(chan time.Time, 1)
	codes := make(chan string, 64)
	c.Subscribe(func(s kiosk.Screen) {
		switch {
		case s.Phase == kiosk.PhaseResult:
			decided <- time.Now()
		case isQR(s):
			select {
			case codes <- s.QR:
			default:
			}
		}
	})
	form := url.Values{"kiosk": {"lobby-1"}, "persona": {personaID(b, "Adult citizen")}, "decision": {"allow"}}
	var lat []time.Duration
	last := ""
	for b.Loop() {
		c.Cancel()
		fresh(b, codes, last)
		res := postScan(b, base, form)
		if res.CallbackStatus != http.StatusOK {
			b.Fatalf("scan: %+v", res)
		}
		last = res.State
		t0, t1 := <-accepted, <-decided
		lat = append(lat, t1.Sub(t0))
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

// fresh waits for a code at the kiosk other than the one whose state was
// last scanned.
func fresh(tb testing.TB, codes chan string, lastState string) {
	tb.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case qr := <-codes:
			u, err := url.Parse(qr)
			if err == nil && (lastState == "" || u.Query().Get("state") != lastState) && len(codes) == 0 {
				return
			}
		case <-deadline:
			tb.Fatal("no fresh code at the kiosk in 20 s")
		}
	}
}
