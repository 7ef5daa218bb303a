package pgstore

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"ndikiosk/kiosk"
)

func TestHostsAndImport(t *testing.T) {
	d, _, _ := newDB(t)
	ctx := context.Background()
	if _, err := d.SaveHost(ctx, Host{Site: "HQ", Name: "Ms Lee", Email: "lee@example.com"}, t0); err != nil {
		t.Fatal(err)
	}
	// The same name in other case is the same host: its email changes.
	if _, err := d.SaveHost(ctx, Host{Site: "HQ", Name: "ms lee", Email: "lee2@example.com"}, t0); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []Host{{Site: "HQ", Name: ""}, {Site: strings.Repeat("x", MaxField+1), Name: "X"}, {Site: "HQ", Name: strings.Repeat("x", MaxField+1)},
		{Site: "HQ", Name: "X", Email: "not an address"}, {Site: "HQ", Name: "X", Email: "a@example.com\r\nBcc: b@example.com"},
		{Site: "HQ", Name: "X", Email: "Eve <eve@example.com>"}} {
		if _, err := d.SaveHost(ctx, bad, t0); err == nil {
			t.Errorf("host %+v taken", bad)
		}
	}
	if e, err := d.HostEmail(ctx, "HQ", "MS LEE"); err != nil || e != "lee2@example.com" {
		t.Fatalf("email %q %v", e, err)
	}
	if e, err := d.HostEmail(ctx, "Annex", "Ms Lee"); err != nil || e != "" {
		t.Fatalf("another site's host: %q %v", e, err)
	}

	// A CSV with a bad row is taken whole or not at all.
	bad := "site,name,email\nHQ,Mr Tan,tan@example.com\nHQ,,x@example.com\n"
	if _, err := d.ImportHosts(ctx, strings.NewReader(bad), t0); err == nil || !strings.Contains(err.Error(), "line 3") {
		t.Fatalf("bad CSV: %v", err)
	}
	if hs, _ := d.Hosts(ctx, "HQ"); len(hs) != 1 {
		t.Fatalf("a refused CSV left %d hosts", len(hs))
	}
	good := "site,name,email\nHQ,Mr Tan,tan@example.com\nAnnex,\"Dr Ong, PhD\",\n HQ , \u202eMs Lee , lee3@example.com\n"
	n, err := d.ImportHosts(ctx, strings.NewReader(good), t0)
	if err != nil || n != 3 {
		t.Fatalf("import: %d %v", n, err)
	}
	hs, _ := d.Hosts(ctx, "")
	var got []string
	for _, h := range hs {
		got = append(got, h.Site+"/"+h.Name+"/"+h.Email)
	}
	if strings.Join(got, "|") != "Annex/Dr Ong, PhD/|HQ/Mr Tan/tan@example.com|HQ/Ms Lee/lee3@example.com" {
		t.Fatalf("hosts %q", got)
	}
	names, _ := d.HostNames(ctx, "HQ")
	if strings.Join(names, "|") != "Mr Tan|Ms Lee" {
		t.Fatalf("host names %q", names)
	}
	if err := d.RemoveHost(ctx, hs[0].ID); err != nil {
		t.Fatal(err)
	}
	if err := d.RemoveHost(ctx, hs[0].ID); !errors.Is(err, kiosk.ErrNotFound) {
		t.Fatalf("removed twice: %v", err)
	}
}

func TestInvitations(t *testing.T) {
	d, _, _ := newDB(t)
	ctx := context.Background()
	// An earlier visit: an invitation made from it matches the person,
	// whatever the name on it.
	earlier := visit(d, 1, "TAN AH KOW", "S1234567D")
	earlier.Site = "HQ"
	eid, err := d.Save(ctx, earlier)
	if err != nil {
		t.Fatal(err)
	}
	tomorrow := t0.Add(24 * time.Hour)
	byPerson, err := d.Invite(ctx, Invitation{FromVisit: eid, Day: tomorrow, Host: "Ms Lee", Note: "bring the contract"}, t0)
	if err != nil {
		t.Fatal(err)
	}
	byName, err := d.Invite(ctx, Invitation{Site: "HQ", Day: tomorrow, Name: "Siti  binte Ahmad", Host: "Mr Tan", Purpose: "Interview"}, t0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Invite(ctx, Invitation{Site: "HQ", Day: t0.Add(-24 * time.Hour), Name: "LATE", Host: "Mr Tan"}, t0); !errors.Is(err, ErrPastDay) {
		t.Fatalf("an invitation for yesterday: %v", err)
	}
	if _, err := d.Invite(ctx, Invitation{Site: "HQ", Day: tomorrow, Name: "X", Host: ""}, t0); err == nil {
		t.Fatal("an invitation without a host was taken")
	}
	// Not today, not at another site.
	if _, err := d.Invited(ctx, "HQ", d.PersonKey("S1234567D"), "TAN AH KOW", t0); !errors.Is(err, kiosk.ErrNotFound) {
		t.Fatalf("matched a day early: %v", err)
	}
	if _, err := d.Invited(ctx, "Annex", nil, "SITI BINTE AHMAD", tomorrow); !errors.Is(err, kiosk.ErrNotFound) {
		t.Fatalf("matched at another site: %v", err)
	}
	in, err := d.Invited(ctx, "HQ", d.PersonKey("S1234567D"), "TAN AH KOW (NEW NAME)", tomorrow)
	if err != nil || in.ID != byPerson || in.Host != "Ms Lee" {
		t.Fatalf("by person: %+v %v", in, err)
	}
	// A name invitation made out to a name does not match someone else
	// invited by person key, and the name is matched whatever the spacing
	// and case.
	in, err = d.Invited(ctx, "HQ", d.PersonKey("S7654321A"), "SITI BINTE AHMAD", tomorrow)
	if err != nil || in.ID != byName || in.Purpose != "Interview" {
		t.Fatalf("by name: %+v %v", in, err)
	}
	if _, err := d.Invited(ctx, "HQ", d.PersonKey("S7654321A"), "TAN AH KOW", tomorrow); !errors.Is(err, kiosk.ErrNotFound) {
		t.Fatalf("someone else with the name of a person invitation matched: %v", err)
	}
	if err := d.Arrived(ctx, byName, 99); err != nil {
		t.Fatal(err)
	}
	if err := d.Arrived(ctx, byName, 100); !errors.Is(err, kiosk.ErrNotFound) {
		t.Fatalf("used twice: %v", err)
	}
	if _, err := d.Invited(ctx, "HQ", nil, "SITI BINTE AHMAD", tomorrow); !errors.Is(err, kiosk.ErrNotFound) {
		t.Fatalf("a used invitation matched again: %v", err)
	}
	if err := d.CancelInvitation(ctx, byName); !errors.Is(err, kiosk.ErrNotFound) {
		t.Fatalf("a used invitation was cancelled: %v", err)
	}
	list, err := d.Invitations(ctx, "HQ", tomorrow)
	if err != nil || len(list) != 2 || list[0].Name != "TAN AH KOW" || list[0].Note != "bring the contract" || !list[0].ByPerson ||
		list[1].Name != "Siti binte Ahmad" || list[1].VisitID != 99 {
		t.Fatalf("invitations: %+v %v", list, err)
	}
	// Names and notes are sealed in the table.
	var raw []byte
	if err := d.pool.QueryRow(ctx, `SELECT name || COALESCE(note, ''::bytea) FROM invitations WHERE id = $1`, byPerson).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), "TAN") || strings.Contains(string(raw), "contract") {
		t.Fatal("an invitation's name or note is stored in clear")
	}
	// Purged with the retention rule: the day before the cutoff goes.
	if _, err := d.Purge(ctx, tomorrow.Add(48*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if list, _ := d.Invitations(ctx, "HQ", tomorrow); len(list) != 0 {
		t.Fatalf("%d invitations outlived the retention cutoff", len(list))
	}
}

func TestWalkInOnSiteAlerts(t *testing.T) {
	d, _, _ := newDB(t)
	ctx := context.Background()
	conn, err := d.pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "LISTEN "+EventsChannel); err != nil {
		t.Fatal(err)
	}
	in := visit(d, 1, "TAN AH KOW", "S1234567D")
	in.Site = "HQ"
	if _, err := d.Save(ctx, in); err != nil {
		t.Fatal(err)
	}
	if _, err := d.WalkIn(ctx, "HQ", "", "Ms Lee", "", t0); err == nil {
		t.Fatal("a walk-in without a name was taken")
	}
	wid, err := d.WalkIn(ctx, "HQ", " Courier\u0007 Rider ", "Ms Lee", "Delivery", t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	other := visit(d, 3, "LIM", "S2222222B")
	other.Site = "Annex"
	d.Save(ctx, other)
	on, err := d.OnSite(ctx, "HQ", t0.Add(2*time.Hour))
	if err != nil || len(on) != 2 || on[1].ID != wid || on[1].Outcome != kiosk.OutcomeWalkIn || on[1].Name != "Courier Rider" || on[1].MaskedID != "" {
		t.Fatalf("on site: %+v %v", on, err)
	}
	if all, _ := d.OnSite(ctx, "", t0.Add(2*time.Hour)); len(all) != 3 {
		t.Fatalf("on site anywhere: %d", len(all))
	}
	if err := d.CheckOut(ctx, wid, t0.Add(3*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if on, _ := d.OnSite(ctx, "HQ", t0.Add(3*time.Hour)); len(on) != 1 {
		t.Fatalf("a walk-in checked out is still on site: %d", len(on))
	}
	// Yesterday's visitors are not on site today.
	if on, _ := d.OnSite(ctx, "HQ", t0.Add(24*time.Hour)); len(on) != 0 {
		t.Fatalf("yesterday's visitors on site: %d", len(on))
	}
	// Every visit written or changed was announced, by id, without a name.
	var events []string
	for len(events) < 4 {
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		n, err := conn.Conn().WaitForNotification(wctx)
		cancel()
		if err != nil {
			t.Fatalf("after %d events: %v", len(events), err)
		}
		events = append(events, n.Payload)
	}
	for _, e := range events {
		if !strings.Contains(e, `"kind" : "visit"`) && !strings.Contains(e, `"kind":"visit"`) || strings.Contains(e, "TAN") || strings.Contains(e, "Courier") {
			t.Errorf("event %s", e)
		}
	}

	// Alerts: two taps at once are one alert; handled, it closes.
	var wg sync.WaitGroup
	ids := make([]int64, 8)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ids[i], _ = d.RaiseAlert(ctx, "lobby-1", "HQ", t0)
		}()
	}
	wg.Wait()
	for _, id := range ids {
		if id == 0 || id != ids[0] {
			t.Fatalf("alert ids %v", ids)
		}
	}
	open, err := d.OpenAlerts(ctx)
	if err != nil || len(open) != 1 {
		t.Fatalf("open alerts %+v %v", open, err)
	}
	if err := d.HandleAlert(ctx, open[0].ID, "alice", t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := d.HandleAlert(ctx, open[0].ID, "bob", t0.Add(time.Minute)); !errors.Is(err, kiosk.ErrNotFound) {
		t.Fatalf("handled twice: %v", err)
	}
	if id, _ := d.RaiseAlert(ctx, "lobby-1", "HQ", t0.Add(2*time.Minute)); id == open[0].ID {
		t.Fatal("a new tap after the alert was handled got the old alert")
	}
	sites, err := d.Sites(ctx)
	if err != nil || strings.Join(sites, "|") != "Annex|HQ" {
		t.Fatalf("sites %q %v", sites, err)
	}
}
