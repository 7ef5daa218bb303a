package app

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"ndikiosk/dashboard"
)

// TestHubDashboardUpload: a hosts CSV well within the dashboard's own
// limit (dashboard.MaxUpload), but past the 64 KiB the hub's server puts
// on the kiosks' requests, is imported when posted to the hub itself; a
// plain form past 64 KiB is still refused.
func TestHubDashboardUpload(t *testing.T) {
	h, scheme := visitorHub(t)
	ctx := context.Background()
	const pw = "correct horse battery"
	if err := h.Dashboard.Accounts().Add(ctx, "ann", dashboard.Admin, pw); err != nil {
		t.Fatal(err)
	}
	base := scheme + h.Addr()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	field := func(path string) string {
		resp, err := c.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		m := csrf.FindSubmatch(b)
		if m == nil {
			t.Fatalf("%s: no csrf field (HTTP %d)", path, resp.StatusCode)
		}
		return string(m[1])
	}
	resp, err := c.PostForm(base+"/dashboard/signin", url.Values{"csrf": {field("/dashboard/signin")}, "name": {"ann"}, "password": {pw}})
	if err != nil || resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in: %v %v", resp, err)
	}
	resp.Body.Close()
	token := field("/dashboard/hosts")

	var csv strings.Builder
	csv.WriteString("site,name,email\n")
	for i := range 4000 {
		fmt.Fprintf(&csv, "HQ,Host number %d,host%d@example.com\n", i, i)
	}
	if csv.Len() <= 64<<10 || csv.Len() > dashboard.MaxUpload/2 {
		t.Fatalf("the CSV is %d bytes", csv.Len())
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("csrf", token)
	fw, _ := mw.CreateFormFile("file", "hosts.csv")
	fw.Write([]byte(csv.String()))
	mw.Close()
	resp, err = c.Post(base+"/dashboard/hosts/import", mw.FormDataContentType(), &body)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("a %d KB hosts CSV through the hub: HTTP %d: %s", csv.Len()>>10, resp.StatusCode, regexp.MustCompile(`<[^>]+>`).ReplaceAllString(string(b), ""))
	}
	names, err := h.Store.HostNames(ctx, "HQ")
	if err != nil || len(names) != 4000 {
		t.Fatalf("hosts imported: %d, %v", len(names), err)
	}

	resp, err = c.PostForm(base+"/dashboard/hosts", url.Values{"csrf": {token}, "site": {"HQ"}, "name": {"x"},
		"email": {strings.Repeat("a", 70<<10)}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("a 70 KB form: HTTP %d", resp.StatusCode)
	}
}
