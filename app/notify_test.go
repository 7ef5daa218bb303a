package app

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"ndikiosk/config"
	"ndikiosk/internal/mailpittest"
	"ndikiosk/notify"
	"ndikiosk/pgstore"
)

// TestHubTellsTheHost: a hub with [notify.smtp] and [notify.webhook]
// tells the host of a walk-in by mail (Mailpit, STARTTLS with a private
// CA from ca_file) and by a signed webhook, without being asked to.
func TestHubTellsTheHost(t *testing.T) {
	mp := mailpittest.Start(t, mailpittest.Options{STARTTLS: true, RequireSTARTTLS: true})
	secret := strings.Repeat("k", 40)
	var mu sync.Mutex
	var hooks []notify.Payload
	var bad []error
	rx := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		if err := notify.Verify([]byte(secret), r.Header.Get(notify.SignatureHeader), body, time.Now(), time.Minute); err != nil {
			bad = append(bad, err)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		hooks = append(hooks, notify.Payload{Name: string(body)})
	}))
	defer rx.Close()

	cfg := config.SandboxHub(newDatabase(t))
	cfg.Kiosk.Listen, cfg.Kiosk.DataDir = "127.0.0.1:0", t.TempDir()
	cfg.Hub.KeyFile = filepath.Join(cfg.Kiosk.DataDir, config.HubKeyFile)
	cfg.Notify.SMTP = config.SMTPConfig{Host: mp.SMTPHost, Port: mp.SMTPPort, From: "reception@tower-a.example.sg", StartTLS: "required",
		CAFile: mp.CAFile, Timeout: config.Duration{Duration: 10 * time.Second}}
	cfg.Notify.Webhook = config.WebhookConfig{URL: rx.URL + "/in", Secret: secret, Timeout: config.Duration{Duration: 5 * time.Second}}
	h := startHub(t, cfg)
	ctx := context.Background()
	if _, err := h.Store.SaveHost(ctx, pgstore.Host{Site: "Tower A", Name: "Ms Tan", Email: "tan@tower-a.example.sg"}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Store.WalkIn(ctx, "Tower A", "Jane Rider", "Ms Tan", "Delivery", time.Now()); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		n, _ := mp.Count()
		mu.Lock()
		got := len(hooks)
		mu.Unlock()
		if n == 1 && got == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 20 s: %d mails, %d webhooks, bad signatures %v", n, got, bad)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(hooks[0].Name, `"walk_in":true`) || !strings.Contains(hooks[0].Name, `"name":"Jane Rider"`) {
		t.Fatalf("webhook body %s", hooks[0].Name)
	}
}

func TestHubRefusesAnUnreadableCAFile(t *testing.T) {
	cfg := config.SandboxHub(newDatabase(t))
	cfg.Kiosk.Listen, cfg.Kiosk.DataDir = "127.0.0.1:0", t.TempDir()
	cfg.Hub.KeyFile = filepath.Join(cfg.Kiosk.DataDir, config.HubKeyFile)
	cfg.Notify.SMTP = config.SMTPConfig{Host: "smtp.example.sg", Port: 587, From: "a@b.sg", StartTLS: "required",
		CAFile: filepath.Join(t.TempDir(), "missing.pem"), Timeout: config.Duration{Duration: 10 * time.Second}}
	if _, err := NewHub(cfg, Options{Version: "test"}); err == nil || !strings.Contains(err.Error(), "notify.smtp.ca_file") {
		t.Fatalf("NewHub: %v", err)
	}
}
