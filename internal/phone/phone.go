// Package phone plays a visitor's phone browser against the sandbox's
// Singpass pages, for tests that need the browser's side of FAPI.
package phone

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"time"
)

var (
	ticketField = regexp.MustCompile(`name="ticket" value="([0-9a-f]+)"`)
	formAction  = regexp.MustCompile(`<form method="post" action="([^"]+)"`)
)

// Page is the Singpass page a phone's browser shows after opening a code.
type Page struct {
	browser *http.Client
	ticket  string
	action  string
}

// Open opens an authorisation URL as the phone's browser does.
func Open(authURL string) (*Page, error) {
	browser := &http.Client{Timeout: 20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := browser.Get(authURL)
	if err != nil {
		return nil, err
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	ticket, action := ticketField.FindSubmatch(page), formAction.FindSubmatch(page)
	if resp.StatusCode != http.StatusOK || ticket == nil || action == nil {
		return nil, fmt.Errorf("the Singpass page answered %d: %.300s", resp.StatusCode, page)
	}
	u, err := url.Parse(authURL)
	if err != nil {
		return nil, err
	}
	post, _ := u.Parse(string(action[1]))
	return &Page{browser: browser, ticket: string(ticket[1]), action: post.String()}, nil
}

// Allow picks persona and taps Allow. It returns where Singpass redirects
// the browser, without going there.
func (p *Page) Allow(persona string) (string, error) {
	resp, err := p.browser.PostForm(p.action, url.Values{"ticket": {p.ticket}, "persona": {persona}, "decision": {"allow"}})
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") == "" {
		return "", errors.New("Allow did not redirect the browser: HTTP " + resp.Status)
	}
	return resp.Header.Get("Location"), nil
}

// Approve opens an authorisation URL, picks persona on the Singpass page
// and taps Allow: Open, then Allow.
func Approve(authURL, persona string) (string, error) {
	p, err := Open(authURL)
	if err != nil {
		return "", err
	}
	return p.Allow(persona)
}
