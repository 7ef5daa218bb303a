package kiosk

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// The status page says what an endpoint's answer means in words: a token
// API's 404 to a plain GET is the server answering, not a fault; a 503 is
// a fault; a refused connection, an unknown name and an untrusted
// certificate each say what to check.
func TestProbeSaysWhatAnswersMean(t *testing.T) {
	answer := func(code int) string {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(code) }))
		t.Cleanup(s.Close)
		return s.URL
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String()
	l.Close()
	tlsServer := httptest.NewTLSServer(http.NotFoundHandler())
	t.Cleanup(tlsServer.Close)
	cases := []struct {
		ep      Endpoint
		healthy bool
		words   string
	}{
		{Endpoint{URL: answer(404)}, true, "refuses a plain visit with HTTP 404, as expected"},
		{Endpoint{URL: answer(405)}, true, "HTTP 405, as expected"},
		{Endpoint{URL: answer(200)}, true, "OK: it answers"},
		{Endpoint{URL: answer(200), Want: 200}, true, "OK: it answers"},
		{Endpoint{URL: answer(404), Want: 200}, false, "HTTP 404 where 200 was expected"},
		{Endpoint{URL: answer(503)}, false, "reports a fault of its own (HTTP 503)"},
		{Endpoint{URL: closed}, false, "connection refused"},
		{Endpoint{URL: "http://no-such-host.invalid/token"}, false, "no-such-host.invalid cannot be looked up"},
		{Endpoint{URL: tlsServer.URL}, false, "certificate was refused"},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var eps []Endpoint
	for _, c := range cases {
		eps = append(eps, c.ep)
	}
	got := Probe(ctx, &http.Client{}, eps)
	for i, c := range cases {
		if got[i].Healthy != c.healthy || !strings.Contains(got[i].Detail, c.words) || strings.Contains(got[i].Detail, "reachable (") {
			t.Errorf("%s: healthy %v, %q; want %v, %q", c.ep.URL, got[i].Healthy, got[i].Detail, c.healthy, c.words)
		}
	}
}
