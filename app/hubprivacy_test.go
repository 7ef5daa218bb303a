package app

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"ndikiosk/config"
	"ndikiosk/kiosk"
	"ndikiosk/ndi/sandbox"
	"ndikiosk/remote"
)

// lockedBuffer collects log output written from many goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// secrets are what must never reach PostgreSQL or a log, with what each is.
type secrets map[string]string

func (s secrets) add(what, v string) {
	if len(v) >= 6 {
		s[v] = what
	}
}

// person adds every way a persona's id, names, date of birth and contact
// details could be written.
func (s secrets) person(p sandbox.Persona) {
	who := p.Label + " " + p.ID
	s.add(who+": UIN/FIN", p.ID)
	s.add(who+": UIN/FIN", strings.ToLower(p.ID))
	for _, n := range []string{p.Name, p.HanyuPinyinName, p.AliasName} {
		s.add(who+": name", n)
	}
	if d, err := time.Parse("2006-01-02", p.DOB); err == nil {
		for _, layout := range []string{"2006-01-02", "20060102", "02/01/2006", "02-01-2006", "2 Jan 2006", "02 Jan 2006"} {
			s.add(who+": date of birth", d.Format(layout))
		}
	}
	s.add(who+": mobile", p.Mobile)
	s.add(who+": email", p.Email)
}

// find lists the secrets in text, as written and (for pg_dump's bytea
// columns, written as \x hex) hex-encoded.
func (s secrets) find(where, text string) []string {
	var out []string
	lower := strings.ToLower(text)
	for v, what := range s {
		switch {
		case strings.Contains(text, v):
			out = append(out, fmt.Sprintf("%s: %s %q", where, what, v))
		case strings.Contains(lower, hex.EncodeToString([]byte(v))):
			out = append(out, fmt.Sprintf("%s: %s %q hex-encoded", where, what, v))
		}
	}
	return out
}

type privacyRun struct {
	provider, mode string
}

// TestHubPrivacyEveryPersona drives a visit for every sandbox persona, one
// kiosk each, through a Verify and a Myinfo (FAPI) hub in age and in visitor
// mode, with a deny-list entry, then dumps each database with pg_dump and
// searches it, the hub's and the kiosks' logs and PostgreSQL's own log for
// every persona's UIN/FIN, names, date of birth (in the usual spellings),
// mobile and email, for the authorisation codes the sandbox issued, the
// kiosks' enrolment tokens and credentials, the hub's key, and anything
// shaped like a JWT or JWE (access and ID tokens) — as text and as the hex
// pg_dump writes bytea in.
func TestHubPrivacyEveryPersona(t *testing.T) {
	personas := sandbox.Personas(time.Now())
	for _, run := range []privacyRun{{config.ProviderVerify, kiosk.ModeAge}, {config.ProviderVerify, kiosk.ModeVisitor},
		{config.ProviderFAPI, kiosk.ModeAge}, {config.ProviderFAPI, kiosk.ModeVisitor}} {
		t.Run(run.provider+"-"+run.mode, func(t *testing.T) {
			s := secrets{}
			for _, p := range personas {
				s.person(p)
			}
			hubLog, kioskLog := &lockedBuffer{}, &lockedBuffer{}
			h, database := privacyHub(t, run, hubLog)
			named := privacyVisits(t, h, run, personas, s, kioskLog)

			key, err := os.ReadFile(h.Config.Hub.KeyFile)
			if err != nil {
				t.Fatal(err)
			}
			s.add("the hub's log key", hex.EncodeToString(key))
			dump, err := exec.Command(pg.Server(t).Bin("pg_dump"), "--dbname="+database, "--no-owner").CombinedOutput()
			if err != nil {
				t.Fatalf("pg_dump: %v\n%s", err, dump)
			}
			if !strings.Contains(string(dump), "COPY public.visits") || !strings.Contains(string(dump), "COPY public.deny_list") {
				t.Fatal("the dump lacks the visit log's tables")
			}
			serverLog, _ := os.ReadFile(filepath.Join(pg.Server(t).Dir, "server.log"))
			var leaks []string
			for where, text := range map[string]string{"pg_dump": string(dump), "hub log": hubLog.String(),
				"kiosk logs": kioskLog.String(), "PostgreSQL's log": string(serverLog)} {
				leaks = append(leaks, s.find(where, text)...)
				if i := strings.Index(text, "eyJ"); i >= 0 {
					leaks = append(leaks, fmt.Sprintf("%s: something shaped like a JWT or JWE: %.40q", where, text[i:]))
				}
			}
			for _, l := range leaks {
				t.Error(l)
			}
			t.Logf("%d secrets searched for in a %d-byte dump, %d bytes of hub log, %d of kiosk logs; %d visits kept names sealed",
				len(s), len(dump), len(hubLog.String()), len(kioskLog.String()), named)
		})
	}
}

// privacyHub runs a sandbox hub logging into log at debug level.
func privacyHub(t *testing.T, run privacyRun, log *lockedBuffer) (*Hub, string) {
	t.Helper()
	database := newDatabase(t)
	cfg := config.SandboxHub(database)
	cfg.Kiosk.Listen, cfg.Kiosk.DataDir = "127.0.0.1:0", t.TempDir()
	cfg.Kiosk.Provider, cfg.Kiosk.Mode = run.provider, run.mode
	cfg.Hub.KeyFile = filepath.Join(cfg.Kiosk.DataDir, config.HubKeyFile)
	h, err := NewHub(cfg, Options{Version: "test", Log: slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { h.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); h.Close(); <-done })
	return h, database
}

// privacyVisits scans each persona at a kiosk of its own, confirms in
// visitor mode, denies the first visitor, and adds the codes, tokens and
// credentials seen to s. It returns how many visits hold a name, which the
// log must keep sealed (a check that the search had something to find).
func privacyVisits(t *testing.T, h *Hub, run privacyRun, personas []sandbox.Persona, s secrets, kioskLog *lockedBuffer) int {
	t.Helper()
	ctx := context.Background()
	base := "http://" + h.Addr()
	for i, p := range personas {
		id := fmt.Sprintf("k%02d", i)
		token, err := h.Registry.Enrol(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		s.add(id+": enrolment token", token)
		dir := t.TempDir()
		c, err := remote.New(remote.Options{URL: base, Token: token, DataDir: dir, Log: slog.New(slog.NewTextHandler(kioskLog, &slog.HandlerOptions{Level: slog.LevelDebug}))})
		if err != nil {
			t.Fatal(err)
		}
		sc := watch(c)
		rctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { c.Run(rctx); close(done) }()
		t.Cleanup(func() { cancel(); <-done })
		sc.await(t, id+"'s code", isQR)
		res := postScan(t, base, url.Values{"kiosk": {id}, "persona": {p.ID}, "decision": {"allow"}})
		if cb, err := url.Parse(res.CallbackURL); err == nil {
			s.add(p.Label+": authorisation code", cb.Query().Get("code"))
		}
		got := sc.await(t, p.Label+"'s outcome", func(sc kiosk.Screen) bool {
			return sc.Phase == kiosk.PhaseResult || sc.Phase == kiosk.PhaseUnavailable || sc.Phase == kiosk.PhaseConfirm
		})
		if got.Phase == kiosk.PhaseConfirm {
			if err := c.Confirm("Reception", "Meeting"); err != nil {
				t.Fatalf("%s: confirm: %v", p.Label, err)
			}
			sc.await(t, p.Label+"'s check-in", func(sc kiosk.Screen) bool { return sc.Phase == kiosk.PhaseResult })
		}
		cred, err := os.ReadFile(filepath.Join(dir, remote.CredentialFile))
		if err != nil {
			t.Fatal(err)
		}
		s.add(id+": credential", strings.TrimSpace(string(cred)))
	}
	visits, err := h.Store.Visits(ctx, kiosk.VisitFilter{})
	if err != nil || len(visits) < len(personas)/2 {
		t.Fatalf("%d visits logged for %d personas: %v", len(visits), len(personas), err)
	}
	named, denied := 0, false
	for _, v := range visits {
		if v.Name != "" {
			named++
		}
		if len(v.PersonKey) > 0 && !denied { // visitor mode: people are known by a keyed hash
			if _, err := h.Store.DenyVisitor(ctx, v.ID, true, "privacy test", time.Now()); err != nil {
				t.Fatal(err)
			}
			denied = true
		}
	}
	if run.mode == kiosk.ModeVisitor && !denied {
		t.Fatal("no visitor could be put on the deny list")
	}
	if run.mode == kiosk.ModeVisitor && named == 0 {
		t.Fatal("no visitor's name reached the log: the search would prove nothing")
	}
	return named
}
