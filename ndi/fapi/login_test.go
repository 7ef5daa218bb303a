package fapi

import (
	"context"
	"errors"
	"strings"
	"testing"

	"ndikiosk/ndi"
	"ndikiosk/ndi/sandbox"
)

// loginEnv is a Singpass Login app without Myinfo: the sandbox plays an
// issuer whose discovery has no userinfo endpoint.
func loginEnv(t *testing.T, scopes ...string) *env {
	return newEnvWith(t, func(o *sandbox.Options) {
		o.FAPI.Scopes = []string{LoginIdentity, "name", "email", "mobileno"}
		o.FAPI.LoginOnly = true
	}, scopes...)
}

// TestLoginWithoutMyinfo: with user.identity the person comes from the ID
// token's sub_attributes, no userinfo call is made (the discovery document
// names none), and the person key stands for the identity number.
func TestLoginWithoutMyinfo(t *testing.T) {
	e := loginEnv(t, LoginIdentity, "name", "mobileno")
	id := persona(t, "Adult citizen")
	p, err := e.visit(t, "Adult citizen", "")
	if err != nil {
		t.Fatal(err)
	}
	if string(p.UINFIN.Value) != id || p.Subject() != id || p.MaskedID() != ndi.MaskID(id) || p.Name.String() != "TAN WEI MING" ||
		!strings.HasSuffix(p.MobileNo.String(), "91234567") || p.Email.Present() || p.DOB.Present() {
		t.Fatalf("person %+v", p.Redacted())
	}
	// A Singpass account without Myinfo data still logs in.
	if p, err := e.visit(t, "Singpass user without a Myinfo profile", ""); err != nil || !p.UINFIN.Present() {
		t.Fatalf("Login without a Myinfo profile: %v", err)
	}
	// The ID token's checks still hold.
	if _, err := e.visit(t, "Adult citizen", sandbox.FaultBadToken); !errors.Is(err, ndi.ErrBadToken) {
		t.Fatalf("a token sealed with the wrong key: %v", err)
	}
}

// TestLoginNeedsIdentityNumber: a Login app whose ID token carries no
// identity number (user.identity not approved, or not released) is refused
// rather than keyed on nothing.
func TestLoginNeedsIdentityNumber(t *testing.T) {
	if _, err := personFromIDToken(&claims{Sub: "x"}); !errors.Is(err, ndi.ErrBadResponse) {
		t.Fatalf("no sub_attributes: %v", err)
	}
	if _, err := personFromIDToken(&claims{Sub: "x", SubAttributes: &subAttributes{Name: "TAN"}}); !errors.Is(err, ndi.ErrBadResponse) {
		t.Fatalf("no identity number: %v", err)
	}
	if _, err := personFromIDToken(&claims{Sub: "x", SubAttributes: &subAttributes{IdentityNumber: strings.Repeat("S", 21)}}); err == nil {
		t.Fatal("an overlong identity number was taken")
	}
	p, err := personFromIDToken(&claims{Sub: "x", SubAttributes: &subAttributes{IdentityNumber: "s1234567d", MobileNo: "81234567"}})
	if err != nil || p.Subject() != "S1234567D" || p.MobileNo.String() != "81234567" {
		t.Fatalf("%v %+v", err, p)
	}
}

// TestMyinfoNeedsUserinfoEndpoint: a Myinfo app against an issuer with no
// userinfo endpoint is told so, before any authorisation.
func TestMyinfoNeedsUserinfoEndpoint(t *testing.T) {
	e := loginEnv(t, "uinfin", "name")
	_, err := e.client.Authorize(context.Background(), newState())
	if err == nil || !strings.Contains(err.Error(), "userinfo_endpoint") {
		t.Fatalf("authorize against a Login-only issuer: %v", err)
	}
}

func TestLoginScopeChecks(t *testing.T) {
	for _, bad := range [][]string{{LoginIdentity, "dob"}, {LoginIdentity, "uinfin"}, {LoginIdentity, "regadd"}, {"user.identityx"}} {
		if err := CheckScopes(bad); err == nil {
			t.Errorf("scopes %q taken", bad)
		}
	}
	for _, good := range [][]string{{LoginIdentity}, {LoginIdentity, "name", "email", "mobileno"}, {"uinfin", "name", "dob"}} {
		if err := CheckScopes(good); err != nil {
			t.Errorf("scopes %q: %v", good, err)
		}
	}
	if LoginOnly([]string{"uinfin", "name"}) || !LoginOnly([]string{"name", LoginIdentity}) {
		t.Fatal("LoginOnly")
	}
}
