package sandbox

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"ndikiosk/ndi"
	"ndikiosk/ndi/pki"
	"ndikiosk/ndi/verify"
)

func mustJSON(t *testing.T, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type phoneRig struct {
	sb        *Sandbox
	base      string
	kioskKey  *pki.PrivateKey
	callbacks chan url.Values
}

func newPhoneRig(t *testing.T) *phoneRig {
	key, err := pki.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	r := &phoneRig{kioskKey: &pki.PrivateKey{Key: key}, callbacks: make(chan url.Values, 4)}
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	r.base = srv.URL
	r.sb, err = New(Options{Prefix: "/sandbox", PublicURL: srv.URL + "/sandbox", Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Client: Client{ID: "CLIENT", Secret: "s", CallbackURL: srv.URL + "/cb", PublicKey: &key.PublicKey, Attributes: []string{"dob", "name"}}})
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle("/sandbox/", r.sb)
	mux.HandleFunc("/cb", func(w http.ResponseWriter, req *http.Request) {
		r.callbacks <- req.URL.Query()
		io.WriteString(w, "Thank you, kiosk here")
	})
	return r
}

func (r *phoneRig) qr(t *testing.T, state string) string {
	now := time.Now()
	u, err := verify.SignQR(verify.QR{BaseURL: r.sb.QRBaseURL(), Callback: r.base + "/cb", ClientID: "CLIENT", Nonce: ndi.NewNonce(),
		Type: verify.Dynamic, State: state, Start: now, Expiry: now.Add(time.Minute)}, r.kioskKey.Key)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func fetch(t *testing.T, method, u string, form url.Values) (int, string) {
	t.Helper()
	var resp *http.Response
	var err error
	if method == "GET" {
		resp, err = http.Get(u)
	} else {
		resp, err = http.PostForm(u, form)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestPhoneLandingAndConsent walks the path of a real phone: the camera
// opens the QR's URL, the person picks a persona and allows.
func TestPhoneLandingAndConsent(t *testing.T) {
	r := newPhoneRig(t)
	status, page := fetch(t, "GET", r.qr(t, "st-1"), nil)
	if status != 200 || !strings.Contains(page, "<b>CLIENT</b> asks to see") || !strings.Contains(page, "dob, name") {
		t.Fatalf("landing: %d\n%s", status, page)
	}
	m := regexp.MustCompile(`name="ticket" value="([0-9a-f]+)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no ticket on the consent page")
	}
	adult := Personas(time.Now())[0]
	form := url.Values{"ticket": {m[1]}, "persona": {adult.ID}, "decision": {"allow"}}
	status, page = fetch(t, "POST", r.base+"/sandbox/consent", form)
	if status != 200 || !strings.Contains(page, "Shared.") || !strings.Contains(page, "Thank you, kiosk here") {
		t.Fatalf("consent: %d\n%s", status, page)
	}
	cb := <-r.callbacks
	if cb.Get("state") != "st-1" || len(cb.Get("code")) < 32 {
		t.Fatalf("callback %v", cb)
	}
	if status, page = fetch(t, "POST", r.base+"/sandbox/consent", form); status != 400 || !strings.Contains(page, "already used") {
		t.Fatalf("second use of a ticket: %d", status)
	}
}

func TestPhonePageScansTheShownCode(t *testing.T) {
	r := newPhoneRig(t)
	status, body := fetch(t, "POST", r.base+"/sandbox/scan", url.Values{"persona": {"x"}, "decision": {"allow"}})
	if status != 409 || !strings.Contains(body, "no QR code is on the kiosk screen") {
		t.Fatalf("scan with nothing shown: %d %s", status, body)
	}
	r.sb.Show(r.qr(t, "st-2"))
	status, page := fetch(t, "GET", r.base+"/sandbox/", nil)
	if status != 200 || strings.Count(page, `type="radio"`) != len(Personas(time.Now())) {
		t.Fatalf("phone page: %d", status)
	}
	status, page = fetch(t, "POST", r.base+"/sandbox/consent", url.Values{"persona": {Personas(time.Now())[0].ID}, "decision": {"deny"}})
	if status != 200 || !strings.Contains(page, "Declined.") {
		t.Fatalf("deny: %d\n%s", status, page)
	}
	if cb := <-r.callbacks; cb.Get("error") != "access_denied" || cb.Get("state") != "st-2" {
		t.Fatalf("deny callback %v", cb)
	}
	r.sb.Show(r.qr(t, "st-3"))
	for _, form := range []url.Values{
		{"persona": {"S0000000A"}, "decision": {"allow"}},
		{"persona": {Personas(time.Now())[0].ID}, "decision": {"maybe"}},
		{"persona": {Personas(time.Now())[0].ID}, "decision": {"allow"}, "fault": {"meteor"}},
	} {
		if status, _ := fetch(t, "POST", r.base+"/sandbox/scan", form); status != 409 {
			t.Errorf("%v: %d, want 409", form, status)
		}
	}
}

func TestLandingRefusesForeignQR(t *testing.T) {
	r := newPhoneRig(t)
	other, _ := pki.NewKey()
	now := time.Now()
	forged, _ := verify.SignQR(verify.QR{BaseURL: r.sb.QRBaseURL(), Callback: r.base + "/cb", ClientID: "CLIENT", Nonce: ndi.NewNonce(),
		Type: verify.Dynamic, State: "x", Start: now, Expiry: now.Add(time.Minute)}, other)
	if status, page := fetch(t, "GET", forged, nil); status != 400 || !strings.Contains(page, "signature does not verify") {
		t.Fatalf("forged QR: %d", status)
	}
	wrongCallback, _ := verify.SignQR(verify.QR{BaseURL: r.sb.QRBaseURL(), Callback: "https://evil.example/cb", ClientID: "CLIENT",
		Nonce: ndi.NewNonce(), Type: verify.Dynamic, State: "x", Start: now, Expiry: now.Add(time.Minute)}, r.kioskKey.Key)
	if _, err := r.sb.ScanURL(context.Background(), wrongCallback, Personas(now)[0].ID, "allow", ""); err == nil ||
		!strings.Contains(err.Error(), "not the registered callback") {
		t.Fatalf("unregistered callback: %v", err)
	}
}

func TestPageText(t *testing.T) {
	got := pageText("<!doctype html><html><head><style>p{color:red}</style><title>k</title></head><body><p>Thank you &amp; goodbye.\n Look at the kiosk.</p></body></html>")
	if got != "Thank you & goodbye. Look at the kiosk." {
		t.Fatalf("pageText = %q", got)
	}
}

// A page on another site must not make a visitor's browser scan or consent
// on the kiosk: the browser's Origin gives it away.
func TestCrossOriginPostsRefused(t *testing.T) {
	r := newPhoneRig(t)
	r.sb.Show(r.qr(t, "st-9"))
	form := url.Values{"persona": {Personas(time.Now())[0].ID}, "decision": {"allow"}}
	for _, origin := range []string{"http://evil.example", "null", "http://192.168.1.5:8080"} {
		req, _ := http.NewRequest("POST", r.base+"/sandbox/scan", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", origin)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("Origin %s: %d, want 403", origin, resp.StatusCode)
		}
	}
	// DNS rebinding: a name the attacker points at this machine makes Host
	// and Origin agree; only addresses and localhost are trusted.
	req, _ := http.NewRequest("POST", r.base+"/sandbox/scan", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Host = "rebind.example:80"
	req.Header.Set("Origin", "http://rebind.example:80")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("rebound name: %v %v", resp, err)
	}
	select {
	case cb := <-r.callbacks:
		t.Fatalf("a cross-origin scan reached the kiosk: %v", cb)
	default:
	}
	// The kiosk's own phone page (same origin) still works.
	req, _ = http.NewRequest("POST", r.base+"/sandbox/scan", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", r.base)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("same-origin scan: %d", resp.StatusCode)
	}
}
