package verify

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestBaseStringTokenShape(t *testing.T) {
	form := map[string]string{"grant_type": "authorization_code", "code": "C", "redirect_uri": "https://kiosk.example/cb",
		"client_id": "ID", "client_secret": "S", "state": "ST"}
	got := BaseString("post", "https://test.api.myinfo.gov.sg/sgverify/v2/token", form,
		PKISign{AppID: "ID", Nonce: "N", SignatureMethod: "RS256", Timestamp: "T"})
	want := "POST&https://test.api.myinfo.gov.sg/sgverify/v2/token&app_id=ID&client_id=ID&client_secret=S&code=C" +
		"&grant_type=authorization_code&nonce=N&redirect_uri=https://kiosk.example/cb&signature_method=RS256&state=ST&timestamp=T"
	if got != want {
		t.Fatalf("base string\n got %s\nwant %s", got, want)
	}
}

func TestBaseStringPersonShape(t *testing.T) {
	q := map[string]string{"client_id": "ID", "attributes": "uinfin,name,dob", "txnNo": "X"}
	got := BaseString("GET", "https://test.api.myinfo.gov.sg/sgverify/v2/person/S1234567A", q,
		PKISign{AppID: "ID", Nonce: "N", SignatureMethod: "RS256", Timestamp: "T"})
	want := "GET&https://test.api.myinfo.gov.sg/sgverify/v2/person/S1234567A&app_id=ID&attributes=uinfin,name,dob" +
		"&client_id=ID&nonce=N&signature_method=RS256&timestamp=T&txnNo=X"
	if got != want {
		t.Fatalf("base string\n got %s\nwant %s", got, want)
	}
}

func TestPKISignRoundTrip(t *testing.T) {
	key, other := testKeys(t)
	params := map[string]string{"client_id": "ID", "attributes": "dob"}
	now := time.UnixMilli(1763800000000)
	h, err := SignPKI(key, "ID", "GET", "https://h/person/S1", params, now)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, `PKI_SIGN timestamp="1763800000000",nonce="`) || strings.Contains(h, ", ") {
		t.Fatalf("header %s", h)
	}
	p, bearer, err := ParseAuthorization(h + ",Bearer abc.def.ghi")
	if err != nil || bearer != "abc.def.ghi" || p.AppID != "ID" {
		t.Fatalf("parse: %+v %q %v", p, bearer, err)
	}
	if err := p.Verify(&key.PublicKey, "GET", "https://h/person/S1", params); err != nil {
		t.Fatalf("verify: %v", err)
	}
	if err := p.Verify(&other.PublicKey, "GET", "https://h/person/S1", params); err == nil {
		t.Fatal("verified with the wrong key")
	}
	params["attributes"] = "dob,name"
	if err := p.Verify(&key.PublicKey, "GET", "https://h/person/S1", params); err == nil {
		t.Fatal("verified with changed parameters")
	}
}

func TestParseAuthorizationRejects(t *testing.T) {
	for _, h := range []string{
		"Bearer abc",
		`PKI_SIGN timestamp="1",nonce="n",app_id="a",signature_method="HS256",signature="s"`,
		`PKI_SIGN timestamp="1",nonce="n",app_id="a",signature_method="RS256"`,
		`PKI_SIGN timestamp=1,nonce="n",app_id="a",signature_method="RS256",signature="s"`,
		`PKI_SIGN timestamp="1",timestamp="2",nonce="n",app_id="a",signature_method="RS256",signature="s"`,
	} {
		if _, _, err := ParseAuthorization(h); !errors.Is(err, ErrBadAuthorization) {
			t.Errorf("%s: want ErrBadAuthorization, got %v", h, err)
		}
	}
}
