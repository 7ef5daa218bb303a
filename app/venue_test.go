package app

import (
	"context"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"ndikiosk/config"
	"ndikiosk/kiosk"
	"ndikiosk/pgstore"
)

// visitorHub is a sandbox hub in visitor mode at the site "HQ", with a
// kiosk connected to it.
func visitorHub(t *testing.T) (*Hub, string) {
	t.Helper()
	cfg := config.SandboxHub(newDatabase(t))
	cfg.Kiosk.Listen, cfg.Kiosk.DataDir = "127.0.0.1:0", t.TempDir()
	cfg.Kiosk.Mode, cfg.Kiosk.Venue = kiosk.ModeVisitor, "HQ"
	cfg.Hub.KeyFile = filepath.Join(cfg.Kiosk.DataDir, config.HubKeyFile)
	return startHub(t, cfg), "http://"
}

// TestHubVenue: on a hub the kiosk offers the site's host list from the
// dashboard's table, stamps the site on its visits, checks an invited
// visitor in without choosing, and "No Singpass?" raises an alert for the
// staff.
func TestHubVenue(t *testing.T) {
	h, scheme := visitorHub(t)
	ctx := context.Background()
	now := time.Now()
	for _, host := range []pgstore.Host{{Site: "HQ", Name: "Ms Lee", Email: "lee@example.com"}, {Site: "HQ", Name: "Mr Tan"},
		{Site: "Annex", Name: "Dr Ong"}} {
		if _, err := h.Store.SaveHost(ctx, host, now); err != nil {
			t.Fatal(err)
		}
	}
	token, err := h.Registry.Enrol(ctx, "lobby-1")
	if err != nil {
		t.Fatal(err)
	}
	base := scheme + h.Addr()
	c, sc, _ := startRemote(t, base, token)
	sc.await(t, "code", isQR)

	// Someone not invited chooses from the site's hosts.
	postScan(t, base, url.Values{"kiosk": {"lobby-1"}, "persona": {personaID(t, "Adult citizen")}, "decision": {"allow"}})
	got := sc.await(t, "confirm", func(s kiosk.Screen) bool { return s.Phase == kiosk.PhaseConfirm })
	if !slices.Equal(got.Hosts, []string{"Mr Tan", "Ms Lee"}) {
		t.Fatalf("hosts offered: %q", got.Hosts)
	}
	if err := c.Confirm("Reception", "Meeting"); err == nil {
		t.Fatal("a host from the config file, not the site's list, was taken")
	}
	if err := c.Confirm("Ms Lee", "Meeting"); err != nil {
		t.Fatal(err)
	}
	sc.await(t, "welcome", func(s kiosk.Screen) bool { return s.Phase == kiosk.PhaseResult && s.Outcome == kiosk.OutcomeCheckedIn })
	sc.await(t, "code", isQR)

	// An invited visitor: straight in, with the invitation's host.
	if _, err := h.Store.Invite(ctx, pgstore.Invitation{Site: "HQ", Day: now, Name: "maria  clara santos", Host: "Mr Tan",
		Purpose: "Interview", CreatedBy: "test"}, now); err != nil {
		t.Fatal(err)
	}
	postScan(t, base, url.Values{"kiosk": {"lobby-1"}, "persona": {personaID(t, "Foreigner (FIN)")}, "decision": {"allow"}})
	got = sc.await(t, "result", func(s kiosk.Screen) bool { return s.Phase == kiosk.PhaseResult || s.Phase == kiosk.PhaseConfirm })
	if got.Phase != kiosk.PhaseResult || got.Outcome != kiosk.OutcomeCheckedIn || got.Host != "Mr Tan" {
		t.Fatalf("invited visitor: phase %s outcome %s host %q", got.Phase, got.Outcome, got.Host)
	}
	on, err := h.Store.OnSite(ctx, "HQ", now)
	if err != nil || len(on) != 2 {
		t.Fatalf("on site: %d, %v", len(on), err)
	}
	for _, v := range on {
		if v.Site != "HQ" || v.KioskID != "lobby-1" {
			t.Errorf("visit %d: site %q kiosk %q", v.ID, v.Site, v.KioskID)
		}
	}
	if v := on[1]; v.Name != "MARIA CLARA SANTOS" || v.Host != "Mr Tan" || v.Purpose != "Interview" {
		t.Errorf("invited visit: %q %q %q", v.Name, v.Host, v.Purpose)
	}
	invs, err := h.Store.Invitations(ctx, "HQ", now)
	if err != nil || len(invs) != 1 || invs[0].VisitID != on[1].ID {
		t.Fatalf("the invitation is not marked used by the visit: %+v %v", invs, err)
	}

	// "No Singpass?" calls staff, once for two taps.
	if first, second := c.NoSingpass(), c.NoSingpass(); !first || !second {
		t.Fatal("a connected kiosk says it cannot call staff")
	}
	var alerts []pgstore.Alert
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if alerts, err = h.Store.OpenAlerts(ctx); err != nil || len(alerts) > 0 {
			break
		}
	}
	time.Sleep(300 * time.Millisecond) // the second tap's message, had it raised another
	alerts, err = h.Store.OpenAlerts(ctx)
	if err != nil || len(alerts) != 1 || alerts[0].KioskID != "lobby-1" || alerts[0].Site != "HQ" {
		t.Fatalf("alerts: %+v %v", alerts, err)
	}
	if resp, err := http.Get(base + "/healthz"); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("hub health after the visits: %v", err)
	}
}
