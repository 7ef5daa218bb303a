package kiosk_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"ndikiosk/kiosk"
	"ndikiosk/ndi"
)

// fuzzProvider makes codes locally and refuses every exchange.
type fuzzProvider struct{}

func (fuzzProvider) NewCode(_ context.Context, state string, d time.Duration) (kiosk.Code, error) {
	now := time.Now()
	return kiosk.Code{URL: "https://example.sg/qr?state=" + state, Start: now, Expiry: now.Add(d), AcceptUntil: now.Add(d)}, nil
}
func (fuzzProvider) Exchange(context.Context, ndi.Callback) (*ndi.Person, error) {
	return nil, ndi.ErrCodeRejected
}
func (fuzzProvider) Remote() bool { return false }

// fuzzStore keeps nothing.
type fuzzStore struct{}

func (fuzzStore) PersonKey(string) []byte                          { return []byte("k") }
func (fuzzStore) Save(context.Context, kiosk.Visit) (int64, error) { return 1, nil }
func (fuzzStore) OpenVisit(context.Context, []byte, time.Time) (kiosk.Visit, error) {
	return kiosk.Visit{}, kiosk.ErrNotFound
}
func (fuzzStore) CheckOut(context.Context, int64, time.Time) error { return nil }
func (fuzzStore) Denied(context.Context, []byte) (bool, error)     { return false, nil }
func (fuzzStore) Visits(context.Context, kiosk.VisitFilter) ([]kiosk.Visit, error) {
	return nil, nil
}
func (fuzzStore) Purge(context.Context, time.Time) (int64, error) { return 0, nil }

// FuzzCallbackRequest sends arbitrary queries to the callback (Verify) or
// redirect (FAPI) path of the kiosk's server: it must never panic, always
// answer with one of the statuses the phone page knows, and never accept a
// state it did not issue.
func FuzzCallbackRequest(f *testing.F) {
	e := testEngine(f)
	h := kiosk.NewHandler(e, kiosk.ServerConfig{CallbackPath: "/callback", Version: "fuzz"})
	for _, q := range []string{"code=abc&state=k1-0123", "error=access_denied&state=k1-x", "error=503&state=k1-x",
		"code=a&code=b&state=s", "state=%zz", "code=\x00&state=k1", strings.Repeat("a", 5000), "iss=https%3A%2F%2Fx&code=c&state=s"} {
		f.Add(q)
	}
	known := map[int]bool{200: true, 400: true, 404: true, 409: true, 410: true, 429: true, 503: true}
	f.Fuzz(func(t *testing.T, query string) {
		req := httptest.NewRequest(http.MethodGet, "/callback", nil)
		req.URL.RawQuery = query
		req.RemoteAddr = "192.0.2.7:4000"
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if !known[w.Code] {
			t.Fatalf("status %d for %q", w.Code, query)
		}
		if w.Code == 200 {
			t.Fatalf("a made-up state was accepted: %q", query)
		}
	})
}
