package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"ndikiosk/kiosk"
	"ndikiosk/remote"
)

// sim is one simulated kiosk: a remote.Client and what it shows.
type sim struct {
	id string
	c  *remote.Client
	f  *fleet

	mu       sync.Mutex
	qrState  string // the state of the code on screen; "" when none
	qrURL    string // that code
	scanned  string // the state last scanned
	busy     bool   // a scan is in flight: waiting for its result
	queued   bool   // on the free list
	sentAt   time.Time
	resulted bool
}

// fleet is every simulated kiosk and the load's tallies.
type fleet struct {
	kiosks []*sim
	free   chan *sim // kiosks that show a code nobody scanned yet
	onQR   chan struct{}

	mu       sync.Mutex
	acked    map[string]time.Duration // state → scan sent to result at the kiosk
	unsaved  map[string]bool          // states whose result said "not recorded"
	outcomes map[kiosk.Outcome]int
	accepted int
	refused  map[int]int
	scanErrs int
}

func connectFleet(ctx context.Context, o options, pool *pgxpool.Pool) (*fleet, error) {
	ids, tokens, err := enrol(ctx, pool, o.kiosks)
	if err != nil {
		return nil, err
	}
	f := &fleet{free: make(chan *sim, o.kiosks), onQR: make(chan struct{}, o.kiosks*4), acked: map[string]time.Duration{}, unsaved: map[string]bool{},
		outcomes: map[kiosk.Outcome]int{}, refused: map[int]int{}}
	t0 := time.Now()
	for i, id := range ids {
		c, err := remote.New(remote.Options{URL: "http://" + o.listen, Token: tokens[i], DataDir: filepath.Join(o.dir, "kiosks", id), Log: quiet()})
		if err != nil {
			return nil, err
		}
		s := &sim{id: id, c: c, f: f}
		f.kiosks = append(f.kiosks, s)
		c.Subscribe(s.screen)
		go c.Run(ctx)
	}
	for deadline := time.After(120 * time.Second); f.showingQR() < len(f.kiosks); {
		select {
		case <-f.onQR:
		case <-deadline:
			return nil, fmt.Errorf("after 120 s only %d of %d kiosks show a code", f.showingQR(), len(f.kiosks))
		}
	}
	fmt.Printf("fleet: %d kiosks enrolled, connected and showing the hub's code after %.1f s\n", len(f.kiosks), time.Since(t0).Seconds())
	return f, nil
}

func (f *fleet) showingQR() int {
	n := 0
	for _, s := range f.kiosks {
		s.mu.Lock()
		if s.qrState != "" {
			n++
		}
		s.mu.Unlock()
	}
	return n
}

func stateOf(qr string) string {
	u, err := url.Parse(qr)
	if err != nil {
		return ""
	}
	return u.Query().Get("state")
}

// screen follows the kiosk's screens: a fresh code frees it for the next
// scan; a result acknowledges the scan in flight.
func (s *sim) screen(sc kiosk.Screen) {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	switch sc.Phase {
	case kiosk.PhaseQR:
		s.qrState, s.qrURL = stateOf(sc.QR), sc.QR
		if s.qrState != "" && !s.busy && !s.queued && s.qrState != s.scanned {
			s.queued = true
			s.f.free <- s
		}
		select {
		case s.f.onQR <- struct{}{}:
		default:
		}
	case kiosk.PhaseResult:
		s.qrState = ""
		if s.busy && !s.resulted {
			s.resulted = true
			s.busy = false
			s.f.ack(s.scanned, sc.Outcome, now.Sub(s.sentAt))
		}
	default:
		s.qrState = ""
	}
}

func (f *fleet) ack(state string, out kiosk.Outcome, d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.acked[state] = d
	f.outcomes[out]++
	if out == kiosk.OutcomeNotRecorded {
		f.unsaved[state] = true
	}
}

// scan has the sandbox scan the code kiosk s shows, as a phone would.
// With byQR it scans the code the kiosk shows (a separate sandbox);
// otherwise it names the kiosk, and the hub's sandbox scans its code.
func (f *fleet) scan(client *http.Client, base, persona string, byQR bool, s *sim) {
	s.mu.Lock()
	s.queued, s.busy, s.resulted, s.sentAt = false, true, false, time.Now()
	s.scanned = s.qrState
	qr := s.qrURL
	s.mu.Unlock()
	form := url.Values{"kiosk": {s.id}, "decision": {"allow"}, "persona": {persona}}
	if byQR {
		form = url.Values{"qr": {qr}, "decision": {"allow"}, "persona": {persona}}
	}
	res, status, err := postScan(client, base, form)
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case err != nil:
		f.scanErrs++
	case status != http.StatusOK || res.CallbackStatus != http.StatusOK:
		f.refused[max(status, res.CallbackStatus)]++
	default:
		f.accepted++
		s.mu.Lock()
		// The scan used the hub's code of the moment; the state the kiosk
		// showed is the same unless the code rotated in between.
		if res.State != s.scanned {
			if d, ok := f.acked[s.scanned]; ok {
				delete(f.acked, s.scanned)
				f.acked[res.State] = d
			}
			if f.unsaved[s.scanned] {
				delete(f.unsaved, s.scanned)
				f.unsaved[res.State] = true
			}
			s.scanned = res.State
		}
		s.mu.Unlock()
		return
	}
	s.mu.Lock()
	s.busy = false
	s.mu.Unlock()
}

// procStat is a process's CPU time and memory from /proc.
type procStat struct {
	cpu, childCPU time.Duration
	rssKB, hwmKB  int64
	pssKB, thread int64
}

func readProc(pid int) (procStat, error) {
	var p procStat
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return p, err
	}
	// Fields after the command name, which is in parentheses.
	i := lastIndex(b, ')')
	var state string
	var f [20]int64
	fmt.Sscan(string(b[i+2:]), &state, &f[0], &f[1], &f[2], &f[3], &f[4], &f[5], &f[6], &f[7], &f[8], &f[9], &f[10], &f[11], &f[12], &f[13], &f[14], &f[15], &f[16])
	// utime and stime are fields 14 and 15 of the whole line: 12th and 13th after state.
	p.cpu = time.Duration(f[10]+f[11]) * time.Second / clockTicks
	p.childCPU = time.Duration(f[12]+f[13]) * time.Second / clockTicks
	p.thread = f[16]
	status, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	p.rssKB = kbField(status, "VmRSS:")
	p.hwmKB = kbField(status, "VmHWM:")
	rollup, _ := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	p.pssKB = kbField(rollup, "Pss:")
	return p, nil
}

// clockTicks is USER_HZ, 100 on Linux.
const clockTicks = 100

func lastIndex(b []byte, c byte) int { return bytes.LastIndexByte(b, c) }

// kbField is the number after name in a /proc file of "Name: N kB" lines.
func kbField(b []byte, name string) int64 {
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, name); ok {
			var v int64
			fmt.Sscan(rest, &v)
			return v
		}
	}
	return 0
}
