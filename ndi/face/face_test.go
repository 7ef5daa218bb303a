package face_test

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"ndikiosk/internal/testclock"
	"ndikiosk/ndi"
	"ndikiosk/ndi/face"
	"ndikiosk/ndi/pki"
	"ndikiosk/ndi/sandbox"
)

var (
	once          sync.Once
	ndiKey, other *rsa.PrivateKey
)

func setup(t *testing.T, tweak func(*face.Config)) (*face.Client, *sandbox.Sandbox, *testclock.Clock) {
	once.Do(func() {
		ndiKey, _ = pki.NewKey()
		other, _ = pki.NewKey()
	})
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	clk := testclock.New(time.Now())
	sb, err := sandbox.New(sandbox.Options{Prefix: "/sandbox", PublicURL: srv.URL + "/sandbox", Key: ndiKey, Now: clk.Now,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Client: sandbox.Client{ID: "C", Secret: "S", CallbackURL: srv.URL + "/cb", PublicKey: &other.PublicKey}})
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle("/sandbox/", sb)
	cfg := face.Config{BaseURL: sb.FaceURL(), ClientID: sandbox.DefaultFaceClient.ID, ClientSecret: sandbox.DefaultFaceClient.Secret,
		ServiceID: sandbox.DefaultFaceClient.ServiceID, ServiceKey: &ndiKey.PublicKey, Now: clk.Now}
	if tweak != nil {
		tweak(&cfg)
	}
	c, err := face.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c, sb, clk
}

func persona(t *testing.T, label string) string {
	p, ok := sandbox.PersonaByLabel(label, time.Now())
	if !ok {
		t.Fatalf("no persona %q", label)
	}
	return p.ID
}

func photo(t *testing.T, size int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, size, size))
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			img.Set(x, y, color.RGBA{uint8(x * 7), uint8(y * 13), uint8((x ^ y) * 31), 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 100}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestCompareAndRegistration(t *testing.T) {
	c, sb, _ := setup(t, nil)
	ctx := context.Background()
	img := photo(t, 64)
	cases := []struct {
		label      string
		registered bool
		score      float64
		err        error
	}{
		{"Adult citizen", true, 0.93, nil},
		{"Adult permanent resident", true, 0.12, nil},
		{"Foreigner (FIN)", false, 0, face.ErrRequest},
		{"Very long name", false, 0, face.ErrUnavailable},
	}
	for _, cs := range cases {
		id := persona(t, cs.label)
		reg, err := c.Registered(ctx, id)
		if reg != cs.registered || (err != nil) != (cs.label == "Very long name") {
			t.Errorf("%s: registered %v %v", cs.label, reg, err)
		}
		score, err := c.Compare(ctx, id, img)
		if score != cs.score || !errors.Is(err, cs.err) && !(cs.err == nil && err == nil) {
			t.Errorf("%s: score %v err %v", cs.label, score, err)
		}
	}
	if n := sb.FaceOAuthCalls(); n != 1 {
		t.Fatalf("%d OAuth calls for 8 requests; the token is not cached", n)
	}
}

func TestTokenRefreshedBeforeExpiry(t *testing.T) {
	c, sb, clk := setup(t, nil)
	id := persona(t, "Adult citizen")
	for i := 0; i < 5; i++ {
		c.Registered(context.Background(), id)
	}
	clk.Add(29*time.Minute + 30*time.Second) // within the last minute of 1800 s
	if _, err := c.Registered(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	if n := sb.FaceOAuthCalls(); n != 2 {
		t.Fatalf("%d OAuth calls, want 2 (one refresh)", n)
	}
}

func TestValidateIsOneShot(t *testing.T) {
	c, _, _ := setup(t, nil)
	ctx := context.Background()
	for _, tc := range []struct {
		label  string
		passed bool
	}{{"Adult citizen", true}, {"Adult permanent resident", false}} {
		id := persona(t, tc.label)
		tok, err := c.SessionToken(ctx, id)
		if err != nil || len(tok) != 64 {
			t.Fatalf("session token %q %v", tok, err)
		}
		res, err := c.Validate(ctx, id, tok, "127.0.0.1", "ndikiosk")
		if err != nil || res.Passed != tc.passed {
			t.Fatalf("%s: validate %+v %v", tc.label, res, err)
		}
		_, err = c.Validate(ctx, id, tok, "127.0.0.1", "ndikiosk")
		var api *ndi.APIError
		if !errors.Is(err, face.ErrTokenUsed) || !errors.As(err, &api) || api.Status != 400 || api.Detail != "Invalid token" {
			t.Fatalf("second validate: %v", err)
		}
	}
}

func TestImageLimitsAndFormats(t *testing.T) {
	c, sb, _ := setup(t, nil)
	id := persona(t, "Adult citizen")
	if _, err := c.Compare(context.Background(), id, make([]byte, face.MaxImageBytes+1)); !errors.Is(err, face.ErrImageTooLarge) {
		t.Fatalf("client-side limit: %v", err)
	}
	// The service enforces its own limit too, whatever a client does.
	if status := postRaw(t, sb, id, append(photo(t, 64), make([]byte, 2_100_000)...)); status != 413 {
		t.Fatalf("service-side limit: HTTP %d", status)
	}
	if _, err := c.Compare(context.Background(), id, []byte("GIF89a not a jpeg")); !errors.Is(err, face.ErrRequest) ||
		!strings.Contains(err.Error(), "JPEG or PNG") {
		t.Fatalf("a GIF: %v", err)
	}
}

func TestWrongCertificateAndCredentials(t *testing.T) {
	c, _, _ := setup(t, func(cfg *face.Config) { cfg.ServiceKey = &other.PublicKey })
	if _, err := c.Registered(context.Background(), persona(t, "Adult citizen")); !errors.Is(err, face.ErrBadResponse) {
		t.Fatalf("answer signed by another key: %v", err)
	}
	c, _, _ = setup(t, func(cfg *face.Config) { cfg.ClientSecret = "guess" })
	_, err := c.Registered(context.Background(), persona(t, "Adult citizen"))
	var api *ndi.APIError
	if !errors.Is(err, face.ErrUnauthorised) || !errors.As(err, &api) || api.API != "oauth" || api.Detail != "Client authentication failed" {
		t.Fatalf("wrong secret: %v", err)
	}
	c, _, _ = setup(t, func(cfg *face.Config) { cfg.ServiceID = "OTHER" })
	if _, err := c.Registered(context.Background(), persona(t, "Adult citizen")); !errors.Is(err, face.ErrUnauthorised) {
		t.Fatalf("unregistered service id: %v", err)
	}
}

// postRaw sends a compare request by hand, past the client's own checks.
func postRaw(t *testing.T, sb *sandbox.Sandbox, userID string, img []byte) int {
	fc := sandbox.DefaultFaceClient
	req, _ := http.NewRequest("POST", sb.FaceURL()+"/oauth/token/", strings.NewReader("grant_type=client_credentials"))
	req.SetBasicAuth(fc.ID, fc.Secret)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	body, _ := json.Marshal(map[string]string{"service_id": fc.ServiceID, "user_id": userID, "image": base64.StdEncoding.EncodeToString(img)})
	req, _ = http.NewRequest("POST", sb.FaceURL()+"/compare/", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
