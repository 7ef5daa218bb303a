package sign

import (
	"context"
	"crypto/x509"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"ndikiosk/ndi/fapi"
	"ndikiosk/ndi/jose"
)

// Webhook claims and delivery rules, against a JWKS served on loopback by
// a stand-in for Sign that the test holds the key of.
func TestWebhookClaimsAndDelivery(t *testing.T) {
	signKey, _ := fapi.NewKey()
	rpKey, _ := fapi.NewKey()
	fetches := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetches++
		b, _ := jose.MarshalJWKS([]jose.PublicJWK{{Key: &signKey.Private.PublicKey, Kid: signKey.Kid, Use: "sig", Alg: jose.ES256}})
		w.Write(b)
	}))
	defer srv.Close()
	now := time.Now()
	c, err := New(Config{BaseURL: Staging, ClientID: "a", Key: rpKey, JWKSURL: srv.URL, Roots: x509.NewCertPool(),
		Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	token := func(claims map[string]any) []byte {
		base := map[string]any{"request_type": "signed_doc_url", "signed_doc_url": "https://sign.example/doc/1",
			"request_id": "signv3-1", "iat": now.Unix(), "exp": now.Add(2 * time.Minute).Unix()}
		for k, v := range claims {
			if v == nil {
				delete(base, k)
			} else {
				base[k] = v
			}
		}
		tok, err := jose.SignES256JSON(base, signKey.Private, jose.Header{Typ: "JWT", Kid: signKey.Kid})
		if err != nil {
			t.Fatal(err)
		}
		return []byte(`{"token":"` + string(tok) + `"}`)
	}
	ctx := context.Background()
	cases := map[string]struct {
		claims map[string]any
		want   error
	}{
		"other request type":  {map[string]any{"request_type": "status"}, ErrWebhookClaims},
		"no request id":       {map[string]any{"request_id": nil}, ErrWebhookClaims},
		"no document URL":     {map[string]any{"signed_doc_url": ""}, ErrWebhookClaims},
		"expired":             {map[string]any{"exp": now.Add(-time.Minute).Unix()}, ErrWebhookExpired},
		"issued in an hour":   {map[string]any{"iat": now.Add(time.Hour).Unix(), "exp": now.Add(time.Hour + time.Minute).Unix()}, ErrWebhookExpired},
		"a day long":          {map[string]any{"exp": now.Add(24 * time.Hour).Unix()}, ErrWebhookExpired},
		"no iat":              {map[string]any{"iat": nil}, ErrWebhookExpired},
		"request id a number": {map[string]any{"request_id": 7}, ErrWebhookClaims},
	}
	for name, tc := range cases {
		if _, err := c.Webhook(ctx, token(tc.claims)); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
	}
	n, err := c.Webhook(ctx, token(nil))
	if err != nil || n.RequestID != "signv3-1" || !n.Expires.Equal(time.Unix(now.Add(2*time.Minute).Unix(), 0)) {
		t.Fatalf("%+v %v", n, err)
	}
	// Another token for the same request (a retry signed anew) is a replay.
	if _, err := c.Webhook(ctx, token(map[string]any{"iat": now.Unix() - 1})); !errors.Is(err, ErrWebhookReplayed) {
		t.Fatalf("second token for the request: %v", err)
	}
	// An unknown kid refetches the JWKS at most once a minute.
	stranger, _ := fapi.NewKey()
	odd, _ := jose.SignES256JSON(map[string]any{"request_type": "signed_doc_url"}, stranger.Private, jose.Header{Kid: stranger.Kid})
	before := fetches
	for i := 0; i < 5; i++ {
		if _, err := c.Webhook(ctx, []byte(`{"token":"`+string(odd)+`"}`)); !errors.Is(err, ErrWebhookKey) {
			t.Fatalf("unknown kid: %v", err)
		}
	}
	if fetches != before {
		t.Fatalf("%d JWKS fetches for five unknown kids within a minute", fetches-before)
	}
	now = now.Add(2 * time.Minute)
	c.Webhook(ctx, []byte(`{"token":"`+string(odd)+`"}`))
	if fetches != before+1 {
		t.Fatalf("no refetch after a minute (%d)", fetches-before)
	}
}
