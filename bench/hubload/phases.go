package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"ndikiosk/ndi/sandbox"
)

// idlePhase measures the hub with every kiosk connected and on its QR
// screen: codes rotate, pings go both ways, nothing else happens.
func idlePhase(h *proc, f *fleet, window time.Duration) error {
	pid := h.cmd.Process.Pid
	time.Sleep(10 * time.Second) // the connection burst settles
	a, err := readProc(pid)
	if err != nil {
		return err
	}
	t0 := time.Now()
	time.Sleep(window)
	b, err := readProc(pid)
	if err != nil {
		return err
	}
	wall := time.Since(t0)
	fmt.Printf("idle, %d kiosks connected (%d on a code), %.0f s: hub CPU %.2f %% of one core; RSS %.1f MB (peak %.1f MB), PSS %.1f MB, %d threads\n",
		len(f.kiosks), f.showingQR(), wall.Seconds(), 100*(b.cpu-a.cpu).Seconds()/wall.Seconds(),
		float64(b.rssKB)/1024, float64(b.hwmKB)/1024, float64(b.pssKB)/1024, b.thread)
	return nil
}

// loadPhase scans at o.rate a second for o.duration, each scan on a kiosk
// that shows a fresh code, then checks every acknowledged visit against
// PostgreSQL.
func loadPhase(ctx context.Context, o options, h *proc, f *fleet, pool *pgxpool.Pool, pgPid int) error {
	persona := o.persona
	if persona == "" {
		p, ok := sandbox.PersonaByLabel("Adult citizen", time.Now())
		if !ok {
			return fmt.Errorf("no adult citizen persona")
		}
		persona = p.ID
	}
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	pid := h.cmd.Process.Pid
	a, _ := readProc(pid)
	others0 := otherCPU(h, pgPid)
	t0 := time.Now()
	sent, starved := pace(ctx, o, f, client, h.scanBase(), persona, h.sandbox != nil)
	sendWall := time.Since(t0)
	waitResults(f, 20*time.Second)
	b, _ := readProc(pid)
	others1 := otherCPU(h, pgPid)
	wall := time.Since(t0)

	f.mu.Lock()
	acked := make(map[string]time.Duration, len(f.acked))
	for k, v := range f.acked {
		acked[k] = v
	}
	accepted, refused, scanErrs, outcomes := f.accepted, f.refused, f.scanErrs, f.outcomes
	recorded, unsaved := []string{}, []string{}
	for st := range acked {
		if f.unsaved[st] {
			unsaved = append(unsaved, st)
		} else {
			recorded = append(recorded, st)
		}
	}
	f.mu.Unlock()
	var rows int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM visits`).Scan(&rows); err != nil {
		return err
	}
	foundRecorded, err := found(ctx, pool, recorded)
	if err != nil {
		return err
	}
	foundUnsaved, err := found(ctx, pool, unsaved)
	if err != nil {
		return err
	}
	var lat []time.Duration
	for _, d := range acked {
		lat = append(lat, d)
	}
	slices.Sort(lat)
	fmt.Printf("load: %d scans sent in %.1f s (%.1f/s asked; %d ticks found no free kiosk); callbacks accepted %d, refused %v, scan errors %d\n",
		sent, sendWall.Seconds(), o.rate, starved, accepted, refused, scanErrs)
	fmt.Printf("load: %d results at the kiosks (%v) = %.1f visits/s; scan→result at the kiosk p50 %.0f ms, p99 %.0f ms, max %.0f ms\n",
		len(acked), outcomes, float64(len(acked))/sendWall.Seconds(), ms(pct(lat, 50)), ms(pct(lat, 99)), ms(pct(lat, 100)))
	fmt.Printf("load: PostgreSQL holds %d visits; results that said recorded: %d, of them not in PostgreSQL (lost): %d; "+
		"results that said \"not recorded\" (the write failed or timed out, visitor told): %d, of them in PostgreSQL after all: %d\n",
		rows, len(recorded), len(recorded)-foundRecorded, len(unsaved), foundUnsaved)
	fmt.Printf("load: hub CPU %.1f %% of one core over %.0f s (%.2f ms a visit); RSS %.1f MB (peak %.1f MB)\n",
		100*(b.cpu-a.cpu).Seconds()/wall.Seconds(), wall.Seconds(), ms(b.cpu-a.cpu)/float64(max(1, len(acked))), float64(b.rssKB)/1024, float64(b.hwmKB)/1024)
	for _, k := range []string{"sandbox", "postgres", "load generator"} {
		if d := others1[k] - others0[k]; d > 0 {
			fmt.Printf("load: %s CPU %.1f %% of one core (%.2f ms a visit)\n", k, 100*d.Seconds()/wall.Seconds(), ms(d)/float64(max(1, len(acked))))
		}
	}
	fmt.Printf("load: machine load average %s", loadavg())
	return nil
}

// pace sends scans at the rate asked, each on a kiosk from the free list;
// a tick with no free kiosk is counted, not made up later.
func pace(ctx context.Context, o options, f *fleet, client *http.Client, base, persona string, byQR bool) (sent, starved int) {
	tick := time.NewTicker(time.Duration(float64(time.Second) / o.rate))
	defer tick.Stop()
	end := time.After(o.duration)
	inflight := make(chan struct{}, 256)
	var wg sync.WaitGroup
	defer wg.Wait() // every scan sent has its answer
	for {
		select {
		case <-ctx.Done():
			return
		case <-end:
			return
		case <-tick.C:
		}
		select {
		case s := <-f.free:
			select {
			case inflight <- struct{}{}:
			default:
				starved++ // too many scans in flight: the hub is behind
				f.free <- s
				continue
			}
			sent++
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-inflight }()
				f.scan(client, base, persona, byQR, s)
			}()
		default:
			starved++
		}
	}
}

// waitResults waits until no scan is in flight, or up to d.
func waitResults(f *fleet, d time.Duration) {
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		busy := 0
		for _, s := range f.kiosks {
			s.mu.Lock()
			if s.busy {
				busy++
			}
			s.mu.Unlock()
		}
		if busy == 0 {
			return
		}
	}
}

// found counts how many of states are visits in PostgreSQL (txn_ref).
func found(ctx context.Context, pool *pgxpool.Pool, states []string) (int, error) {
	var n int
	err := pool.QueryRow(ctx, `SELECT count(DISTINCT txn_ref) FROM visits WHERE txn_ref = ANY($1)`, states).Scan(&n)
	return n, err
}

func postScan(client *http.Client, base string, form url.Values) (sandbox.ScanResult, int, error) {
	var res sandbox.ScanResult
	resp, err := client.PostForm(base+"/sandbox/scan", form)
	if err != nil {
		return res, 0, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	json.Unmarshal(b, &res)
	return res, resp.StatusCode, nil
}

func pct(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	i := len(d) * p / 100
	if i >= len(d) {
		i = len(d) - 1
	}
	return d[i]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// otherCPU is the CPU time so far of the separate sandbox, the PostgreSQL
// server (postmaster, its live backends, and those that ended), and this
// load generator.
func otherCPU(h *proc, pgPid int) map[string]time.Duration {
	m := map[string]time.Duration{}
	if h.sandbox != nil {
		p, _ := readProc(h.sandbox.cmd.Process.Pid)
		m["sandbox"] = p.cpu
	}
	if pgPid > 0 {
		m["postgres"] = treeCPU(pgPid)
	}
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	m["load generator"] = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	return m
}

// treeCPU is pid's CPU time with that of its children, live and reaped.
func treeCPU(pid int) time.Duration {
	p, err := readProc(pid)
	if err != nil {
		return 0
	}
	total := p.cpu + p.childCPU
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	for _, f := range strings.Fields(string(b)) {
		var c int
		fmt.Sscan(f, &c)
		if cp, err := readProc(c); err == nil {
			total += cp.cpu
		}
	}
	return total
}

func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	return string(b)
}
