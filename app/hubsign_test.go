package app

import (
	"context"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"ndikiosk/config"
	"ndikiosk/kiosk"
)

// TestHubSignsAgreement: a hub holding [sign] runs the signing step for a
// remote kiosk: the sign screen with its QR reaches the kiosk through the
// channel, the visitor signs on the sandbox's page, the hub polls, and
// the visit is in PostgreSQL with its signed PDF.
func TestHubSignsAgreement(t *testing.T) {
	cfg := config.SandboxHub(newDatabase(t))
	cfg.Kiosk.Listen, cfg.Kiosk.DataDir = "127.0.0.1:0", t.TempDir()
	cfg.Hub.KeyFile = filepath.Join(cfg.Kiosk.DataDir, config.HubKeyFile)
	cfg.Override(config.Overrides{Mode: kiosk.ModeVisitor, SignDemo: true})
	h := startHub(t, cfg)
	ctx := context.Background()
	token, err := h.Registry.Enrol(ctx, "lobby-1")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + h.Addr()
	c, sc, _ := startRemote(t, base, token)
	sc.await(t, "code", isQR)
	postScan(t, base, url.Values{"kiosk": {"lobby-1"}, "persona": {personaID(t, "Adult citizen")}, "decision": {"allow"}})
	confirm := sc.await(t, "confirm screen", func(s kiosk.Screen) bool { return s.Phase == kiosk.PhaseConfirm })
	if err := c.Confirm(confirm.Hosts[0], confirm.Purposes[0]); err != nil {
		t.Fatal(err)
	}
	s := sc.await(t, "sign screen", func(s kiosk.Screen) bool { return s.Phase == kiosk.PhaseSign })
	if !strings.HasPrefix(s.SignURL, base+config.SandboxPrefix+"/sign/portal/") || s.DocName == "" || s.Until.IsZero() {
		t.Fatalf("sign screen on the kiosk: %+v", s)
	}
	id := s.SignURL[strings.LastIndex(s.SignURL, "/")+1:]
	// Sign's webhook reaches the hub, which takes it (and hands it to the
	// waiting engine); a forged one is refused.
	out, err := h.Identity.Sandbox.SignAs(ctx, id, personaID(t, "Adult citizen"), "sign", "")
	if err != nil || !out.Webhook || out.WebhookStatus != http.StatusOK {
		t.Fatalf("signing: %+v %v", out, err)
	}
	resp, err := http.Post(base+SignWebhookPath, "application/json", strings.NewReader(`{"token":"e30.e30.AAAA"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("a forged webhook: HTTP %d", resp.StatusCode)
	}
	got := sc.await(t, "result", func(s kiosk.Screen) bool { return s.Phase == kiosk.PhaseResult })
	if got.Outcome != kiosk.OutcomeCheckedIn || got.Reason != "" {
		t.Fatalf("result %+v", got)
	}
	n := 0
	if err := h.Store.Documents(ctx, kiosk.VisitFilter{}, func(_ int64, doc []byte) error {
		if !strings.HasPrefix(string(doc), "%PDF") {
			t.Error("the stored document is not a PDF")
		}
		n++
		return nil
	}); err != nil || n != 1 {
		t.Fatalf("%d documents in PostgreSQL: %v", n, err)
	}
}
