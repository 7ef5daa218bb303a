package app_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"ndikiosk/config"
	. "ndikiosk/kiosk"
	"ndikiosk/ndi/sandbox"
	"ndikiosk/storage"
)

func visitorRig(t *testing.T, provider ...string) *rig {
	p := config.ProviderVerify
	if len(provider) > 0 {
		p = provider[0]
	}
	return newRigWith(t, p, func(k *config.Config) {
		k.Kiosk.Mode, k.Kiosk.ConfirmTimeout.Duration = ModeVisitor, time.Minute
		k.Visitor.Hosts, k.Visitor.Purposes = []string{"Ms Lee (Finance)", "Mr Ong (IT)"}, []string{"Meeting", "Delivery"}
	})
}

func visits(t *testing.T, r *rig) []Visit {
	vs, err := r.store.Visits(context.Background(), VisitFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return vs
}

func TestVisitorCheckInAndOut(t *testing.T) { forProviders(t, testVisitorCheckInAndOut) }

func testVisitorCheckInAndOut(t *testing.T, provider string) {
	r := visitorRig(t, provider)
	idAttr := map[string]string{config.ProviderVerify: "partialuinfin", config.ProviderFAPI: "uinfin"}[provider]
	s := r.visit(t, "Comma and percent in name", "allow", "")
	if s.Phase != PhaseConfirm || len(s.Hosts) != 2 || len(s.Purposes) != 2 {
		t.Fatalf("confirm screen %+v", s)
	}
	want := []Particular{{Attribute: "name", Label: "Name", Value: "TAN, AH KOW 100% (JOHN)"},
		{Attribute: idAttr, Label: "NRIC/FIN", Value: "*****468" + personaID(t, "Comma and percent in name")[8:]},
		{Attribute: "mobileno", Label: "Mobile number", Value: "—"}}
	for i, p := range want {
		if i >= len(s.Particulars) || s.Particulars[i] != p {
			t.Fatalf("particulars %+v, want %+v", s.Particulars, want)
		}
	}
	if err := r.engine.Confirm("Someone else", "Meeting"); !errors.Is(err, ErrChoice) {
		t.Fatalf("a host not on the list: %v", err)
	}
	if err := r.engine.Confirm("Ms Lee (Finance)", "Meeting"); err != nil {
		t.Fatal(err)
	}
	s = r.engine.Screen()
	if s.Outcome != OutcomeCheckedIn || s.Name != "TAN, AH KOW 100% (JOHN)" {
		t.Fatalf("welcome %+v", s)
	}
	vs := visits(t, r)
	if len(vs) != 1 || vs[0].Host != "Ms Lee (Finance)" || vs[0].Purpose != "Meeting" || vs[0].Name != s.Name ||
		len(vs[0].PersonKey) != 32 || !vs[0].CheckedOutAt.IsZero() {
		t.Fatalf("logged %+v", vs)
	}
	// Scanning again the same day asks whether to check out; "no" and no
	// answer change nothing.
	r.clock.Add(2 * time.Hour)
	r.engine.Cancel()
	s = r.visit(t, "Comma and percent in name", "allow", "")
	if s.Phase != PhaseCheckOut || s.Name != "TAN, AH KOW 100% (JOHN)" || s.MaskedID != vs[0].MaskedID ||
		!s.Until.Equal(r.clock.Now().Add(time.Minute)) {
		t.Fatalf("check-out question %+v", s)
	}
	r.engine.CheckOut(false)
	if s := r.engine.Screen(); s.Phase != PhaseQR {
		t.Fatalf("after no: %+v", s)
	}
	if s := r.visit(t, "Comma and percent in name", "allow", ""); s.Phase != PhaseCheckOut {
		t.Fatalf("asked again: %+v", s)
	}
	r.clock.Add(time.Minute)
	if s := r.waitQR(t); s.Phase != PhaseQR {
		t.Fatalf("after no answer: %+v", s)
	}
	if vs := visits(t, r); len(vs) != 1 || !vs[0].CheckedOutAt.IsZero() {
		t.Fatalf("no and no answer changed the log: %+v", vs)
	}
	if s := r.visit(t, "Comma and percent in name", "allow", ""); s.Phase != PhaseCheckOut {
		t.Fatalf("asked a third time: %+v", s)
	}
	r.engine.CheckOut(true)
	s = r.engine.Screen()
	if s.Outcome != OutcomeCheckedOut || s.Name != "TAN, AH KOW 100% (JOHN)" || s.MaskedID != vs[0].MaskedID {
		t.Fatalf("goodbye %+v", s)
	}
	r.engine.CheckOut(true) // a second tap finds nothing to answer
	vs = visits(t, r)
	if len(vs) != 1 || !vs[0].CheckedOutAt.Equal(vs[0].StartedAt.Add(2*time.Hour+time.Minute)) {
		t.Fatalf("after check-out %+v", vs)
	}
	// A third scan is a new visit.
	r.engine.Cancel()
	if s := r.visit(t, "Comma and percent in name", "allow", ""); s.Phase != PhaseConfirm {
		t.Fatalf("third scan %+v", s)
	}
}

func TestVisitorCancelAndTimeoutKeepNothing(t *testing.T) {
	forProviders(t, testVisitorCancelAndTimeoutKeepNothing)
}

func testVisitorCancelAndTimeoutKeepNothing(t *testing.T, provider string) {
	r := visitorRig(t, provider)
	r.visit(t, "Adult citizen", "allow", "")
	r.engine.Cancel()
	if s := r.waitQR(t); s.Phase != PhaseQR || len(s.Particulars) != 0 {
		t.Fatalf("after cancel %+v", s)
	}
	if err := r.engine.Confirm("Ms Lee (Finance)", "Meeting"); err == nil {
		t.Fatal("a cancelled visit could still be confirmed")
	}
	r.visit(t, "Adult citizen", "allow", "")
	r.clock.Add(61 * time.Second)
	r.engine.Step()
	if s := r.engine.Screen(); s.Phase != PhaseResult || s.Outcome != OutcomeTimedOut {
		t.Fatalf("after the confirm timeout %+v", s)
	}
	r.clock.Add(r.kiosk.Config.Kiosk.ResultTimeout.Duration)
	if s := r.waitQR(t); s.Phase != PhaseQR {
		t.Fatalf("after the timed-out message %+v", s)
	}
	if vs := visits(t, r); len(vs) != 0 {
		t.Fatalf("unconfirmed visits were stored: %+v", vs)
	}
}

func TestDenyList(t *testing.T) { forProviders(t, testDenyList) }

func testDenyList(t *testing.T, provider string) {
	r := visitorRig(t, provider)
	id := personaID(t, "Adult permanent resident")
	if err := r.store.Deny(context.Background(), r.store.PersonKey(id), "test", time.Now()); err != nil {
		t.Fatal(err)
	}
	s := r.visit(t, "Adult permanent resident", "allow", "")
	if s.Outcome != OutcomeRefused || s.Name != "" {
		t.Fatalf("denied visitor %+v", s)
	}
	vs := visits(t, r)
	if len(vs) != 1 || vs[0].Outcome != OutcomeRefused || vs[0].Reason != "deny-list" || vs[0].Name != "" {
		t.Fatalf("logged %+v", vs)
	}
}

func TestRefusalsAndErrorsAreLogged(t *testing.T) { forProviders(t, testRefusalsAndErrorsAreLogged) }

func testRefusalsAndErrorsAreLogged(t *testing.T, provider string) {
	r := newRigWith(t, provider, nil)
	unavailable := map[string]string{config.ProviderVerify: "verify-person-500", config.ProviderFAPI: "fapi-userinfo-500"}[provider]
	r.visit(t, "Adult citizen", "deny", "")
	r.engine.Cancel()
	r.visit(t, "Adult citizen", "allow", sandbox.FaultPerson500)
	r.engine.Cancel()
	r.visit(t, "Adult citizen", "allow", sandbox.FaultGarbledJWE)
	got := map[Outcome]string{}
	for _, v := range visits(t, r) {
		got[v.Outcome] = v.Reason
	}
	if got[OutcomeUnverified] != "reported-access_denied" || got[OutcomeUnavailable] != unavailable || got[OutcomeError] != "bad-response" {
		t.Fatalf("logged outcomes %v", got)
	}
}

// TestNoPersonalDataInTheFile runs visits in both modes, then searches the
// raw database files for identity numbers and names.
func TestNoPersonalDataInTheFile(t *testing.T) { forProviders(t, testNoPersonalDataInTheFile) }

func testNoPersonalDataInTheFile(t *testing.T, provider string) {
	labels := []string{"Adult citizen", "Comma and percent in name", "Chinese script name", "Foreigner (FIN)"}
	var dirs []string
	age := newRigWith(t, provider, nil)
	for _, l := range labels {
		age.engine.Cancel()
		age.visit(t, l, "allow", "")
	}
	vis := visitorRig(t, provider)
	for _, l := range labels {
		vis.engine.Cancel()
		vis.visit(t, l, "allow", "")
		if err := vis.engine.Confirm("Mr Ong (IT)", "Delivery"); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(visits(t, vis)); n != len(labels) {
		t.Fatalf("%d visitor visits logged", n)
	}
	dirs = append(dirs, age.dataDir, vis.dataDir)
	for _, dir := range dirs {
		var raw []byte
		for _, f := range []string{storage.DBFile, storage.DBFile + "-wal", storage.DBFile + "-shm"} {
			b, _ := os.ReadFile(filepath.Join(dir, f))
			raw = append(raw, b...)
		}
		if len(raw) < 4096 {
			t.Fatalf("no database in %s", dir)
		}
		for _, p := range sandbox.Personas(time.Now()) {
			for _, secret := range []string{p.ID, p.ID[1:8], p.Name, p.DOB} {
				if secret != "" && bytes.Contains(raw, []byte(secret)) {
					t.Errorf("%s: the database holds %q (%s) in clear", dir, secret, p.Label)
				}
			}
		}
	}
}

// TestLoginOnlyVisitor: a venue with a Singpass Login app and no Myinfo
// approval registers visitors from the ID token alone (user.identity,
// name, mobileno): the sandbox's discovery names no userinfo endpoint, the
// visitor confirms the same particulars, and the log keys them alike.
func TestLoginOnlyVisitor(t *testing.T) {
	r := newRigWith(t, config.ProviderFAPI, func(k *config.Config) {
		k.Kiosk.Mode, k.Kiosk.ConfirmTimeout.Duration = ModeVisitor, time.Minute
		k.Visitor.Hosts, k.Visitor.Purposes = []string{"Ms Lee (Finance)"}, []string{"Meeting"}
		k.FAPI.Scopes = []string{"user.identity", "name", "mobileno"}
	})
	id := personaID(t, "Adult citizen")
	s := r.visit(t, "Adult citizen", "allow", "")
	want := []Particular{{Attribute: "user.identity", Label: "NRIC/FIN", Value: "*****" + id[5:]},
		{Attribute: "name", Label: "Name", Value: "TAN WEI MING"}, {Attribute: "mobileno", Label: "Mobile number", Value: "+65 ****4567"}}
	if s.Phase != PhaseConfirm || len(s.Particulars) != len(want) {
		t.Fatalf("confirm screen %+v", s)
	}
	for i, p := range want {
		if s.Particulars[i] != p {
			t.Fatalf("particulars %+v, want %+v", s.Particulars, want)
		}
	}
	if err := r.engine.Confirm("Ms Lee (Finance)", "Meeting"); err != nil {
		t.Fatal(err)
	}
	vs := visits(t, r)
	if len(vs) != 1 || vs[0].Name != "TAN WEI MING" || vs[0].MaskedID != "*****"+id[5:] || len(vs[0].PersonKey) != 32 {
		t.Fatalf("logged %+v", vs)
	}
	// The same person is the same person key as under Myinfo's uinfin:
	// the deny list carries over when a venue changes its app.
	if string(vs[0].PersonKey) != string(r.store.PersonKey(id)) {
		t.Fatal("the Login visit's person key is not the identity number's")
	}
	// Someone without a Myinfo profile can still check in with Login.
	r.clock.Add(time.Minute)
	r.waitQR(t)
	if s := r.visit(t, "Singpass user without a Myinfo profile", "allow", ""); s.Phase != PhaseConfirm {
		t.Fatalf("Login without Myinfo data: %+v", s)
	}
}
