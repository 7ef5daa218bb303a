package dashboard

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"ndikiosk/kiosk"
	"ndikiosk/ndi"
	"ndikiosk/pgstore"
)

// seedToday saves n checked-in visits today through Save, as the hub
// does, on 32 connections (synchronous_commit off for the seeding only);
// every tenth is checked out.
func (r *rig) seedToday(n int) {
	r.t.Helper()
	ctx := context.Background()
	conn, err := pgx.ConnectConfig(ctx, r.db.Pool().Config().ConnConfig.Copy())
	if err != nil {
		r.t.Fatal(err)
	}
	conn.Exec(ctx, `ALTER DATABASE `+pgx.Identifier{conn.Config().Database}.Sanitize()+` SET synchronous_commit = off`)
	conn.Close(ctx)
	r.db.Pool().Reset()
	start := r.clock.Now().Add(-10 * time.Hour)
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for w := 0; w < 32; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < n; i += 32 {
				at := start.Add(time.Duration(i) * 3 * time.Second)
				uin := fmt.Sprintf("S%07dA", i)
				v := kiosk.Visit{KioskID: fmt.Sprintf("lobby-%d", i%20), Site: []string{"HQ", "Annex", "Depot"}[i%3], Mode: kiosk.ModeVisitor,
					TxnRef: fmt.Sprintf("txn-%d", i), StartedAt: at, DecidedAt: at, Outcome: kiosk.OutcomeCheckedIn, MaskedID: "*****" + uin[5:],
					Name: fmt.Sprintf("VISITOR NUMBER %d", i), Host: fmt.Sprintf("Host %d", i%50), Purpose: "Meeting", PersonKey: r.db.PersonKey(uin)}
				if i%10 == 0 {
					v.CheckedOutAt = at.Add(time.Hour)
				}
				if _, err := r.db.Save(ctx, v); err != nil {
					errs <- err
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		r.t.Fatal(err)
	}
	r.db.Pool().Exec(ctx, `VACUUM ANALYZE visits`)
}

// BenchmarkVisitsPage10k renders dashboard pages server-side (over
// loopback HTTP, signed in) with 10,000 visits today. Target (issue 15):
// ≤ 200 ms for a page of the visit list.
func BenchmarkVisitsPage10k(b *testing.B) {
	r := newRig(b)
	now := r.clock.Now()
	y, m, d := now.In(ndi.SGT).Date()
	r.clock.Add(time.Date(y, m, d, 23, 0, 0, 0, ndi.SGT).Sub(now)) // ten hours of visits, all today
	r.seedToday(10_000)
	r.operator("ada", Admin)
	c := r.client()
	c.mustSignIn("ada")
	for _, page := range []string{"/dashboard/visits", "/dashboard/visits?page=150", "/dashboard/visits?site=Annex&host=Host+7&kiosk=lobby-7",
		"/dashboard/onsite?site=HQ", "/dashboard/rollcall/print"} {
		b.Run(page, func(b *testing.B) {
			for b.Loop() {
				resp, err := c.http.Get(r.srv.URL + page)
				if err != nil {
					b.Fatal(err)
				}
				n, _ := io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK || n < 1000 {
					b.Fatalf("HTTP %d, %d bytes", resp.StatusCode, n)
				}
			}
		})
	}
}

// BenchmarkHosts5000 imports a CSV of pgstore.MaxHostsCSV hosts through
// the dashboard's upload (multipart, parsed, checked, one transaction of
// upserts) and renders the hosts page and its CSV download with that many.
func BenchmarkHosts5000(b *testing.B) {
	r := newRig(b)
	r.operator("ada", Admin)
	c := r.client()
	c.mustSignIn("ada")
	var csv bytes.Buffer
	csv.WriteString("site,name,email\n")
	for i := 0; i < pgstore.MaxHostsCSV; i++ {
		fmt.Fprintf(&csv, "%s,Host number %d,host%d@example.sg\n", []string{"HQ", "Annex", "Depot"}[i%3], i, i)
	}
	b.Run("import", func(b *testing.B) {
		for b.Loop() {
			if resp, body := c.upload("/dashboard/hosts/import", url.Values{"csrf": {c.csrf}}, csv.Bytes()); resp.StatusCode != http.StatusSeeOther {
				b.Fatalf("HTTP %d\n%s", resp.StatusCode, body)
			}
		}
	})
	for _, page := range []string{"/dashboard/hosts", "/dashboard/hosts?site=HQ", "/dashboard/hosts.csv"} {
		b.Run(page, func(b *testing.B) {
			for b.Loop() {
				resp, err := c.http.Get(r.srv.URL + page)
				if err != nil {
					b.Fatal(err)
				}
				n, _ := io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK || n < 100_000 {
					b.Fatalf("HTTP %d, %d bytes", resp.StatusCode, n)
				}
			}
		})
	}
}
