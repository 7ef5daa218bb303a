// Command hubload measures one hub process with a fleet of simulated
// kiosks: remote.Client, the kiosk's real side of the channel, without a
// window. It starts a throwaway PostgreSQL (internal/pgtest: fsync and
// synchronous_commit on), the real ndikiosk binary as a sandbox hub, enrols
// the kiosks in the hub's registry, connects them all, and then
//
//   - idle: the hub's CPU time (utime+stime from /proc/PID/stat) over a
//     window with every kiosk on its QR screen, and its memory
//     (/proc/PID/status VmRSS and VmHWM, smaps_rollup Pss);
//   - load: scans at a fixed rate (POST /sandbox/scan kiosk=ID on the hub:
//     the sandbox scans that kiosk's code and calls the hub back), each on
//     a kiosk that shows a fresh code; a visit counts as acknowledged when
//     its result reaches the kiosk. After the run every acknowledged visit
//     is looked up in PostgreSQL by its state (txn_ref): any missing is lost.
//
// bench/hub runs it; see BENCHMARKS.md ("Hub").
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"ndikiosk/hub"
	"ndikiosk/internal/pgtest"
)

type options struct {
	bin       string
	dir       string
	kiosks    int
	listen    string
	idle      time.Duration
	rate      float64
	duration  time.Duration
	resultMin time.Duration
	persona   string
	database  string
	separate  string // the sandbox's own address: Singpass's side out of the hub's process
}

func main() {
	var o options
	flag.StringVar(&o.bin, "bin", "", "the ndikiosk binary (required)")
	flag.StringVar(&o.dir, "dir", "/tmp/hubbench/run", "scratch folder (emptied first)")
	flag.IntVar(&o.kiosks, "kiosks", 500, "simulated kiosks")
	flag.StringVar(&o.listen, "listen", "127.0.0.1:48080", "the hub's address")
	flag.DurationVar(&o.idle, "idle", 60*time.Second, "idle measuring window (0: skip)")
	flag.Float64Var(&o.rate, "rate", 200, "visits a second in the load phase (0: skip)")
	flag.DurationVar(&o.duration, "duration", 60*time.Second, "load phase length")
	flag.DurationVar(&o.resultMin, "result-min", 2*time.Second, "the hub's kiosk.result_min and result_timeout for the run: a kiosk shows one result at a time, for at least this long (2s is the least the config allows)")
	flag.StringVar(&o.persona, "persona", "", "sandbox persona id (default: the adult citizen)")
	flag.StringVar(&o.database, "database", "", "use this PostgreSQL (postgres://…) instead of starting one")
	flag.StringVar(&o.separate, "sandbox", "", "run the Singpass sandbox as a process of its own on this address (its CPU apart from the hub's); default: in the hub (sandbox = true)")
	flag.Parse()
	if o.bin == "" {
		fmt.Fprintln(os.Stderr, "hubload: -bin is required")
		os.Exit(2)
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "hubload:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	os.RemoveAll(o.dir)
	if err := os.MkdirAll(o.dir, 0o700); err != nil {
		return err
	}
	url := o.database
	pgPid := 0
	var err error
	if url == "" {
		pg, err := pgtest.Start(ctx)
		if err != nil {
			return err
		}
		defer pg.Stop()
		if url, err = pg.NewDatabase(ctx); err != nil {
			return err
		}
		pgPid = postmaster(pg.Dir)
	}
	var sb *proc
	if o.separate != "" {
		if sb, err = startSandbox(o); err != nil {
			return err
		}
		defer sb.stop()
	}
	h, err := startHub(o, url)
	if err != nil {
		return err
	}
	defer h.stop()
	h.sandbox = sb
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return err
	}
	defer pool.Close()
	report(pool)
	f, err := connectFleet(ctx, o, pool)
	if err != nil {
		return err
	}
	if o.idle > 0 {
		if err := idlePhase(h, f, o.idle); err != nil {
			return err
		}
	}
	if o.rate > 0 {
		if err := loadPhase(ctx, o, h, f, pool, pgPid); err != nil {
			return err
		}
	}
	return nil
}

// report says how PostgreSQL commits.
func report(pool *pgxpool.Pool) {
	var sc, fsync string
	pool.QueryRow(context.Background(), `SHOW synchronous_commit`).Scan(&sc)
	pool.QueryRow(context.Background(), `SHOW fsync`).Scan(&fsync)
	fmt.Printf("PostgreSQL: synchronous_commit=%s fsync=%s\n", sc, fsync)
}

// proc is a process under test: the hub, or the separate sandbox.
type proc struct {
	cmd     *exec.Cmd
	base    string
	sandbox *proc // the hub's separate sandbox, if any
}

// scanBase is where scans are posted: the sandbox in the hub, or the
// separate one.
func (h *proc) scanBase() string {
	if h.sandbox != nil {
		return h.sandbox.base
	}
	return h.base
}

func startHub(o options, database string) (*proc, error) {
	args := []string{"hub", "--database", database, "--data-dir", filepath.Join(o.dir, "hub"), "--listen", o.listen}
	if o.separate != "" {
		cfg, err := hubConfig(o, database)
		if err != nil {
			return nil, err
		}
		args = []string{"hub", "--config", cfg}
	}
	return start(o, "hub", "http://"+o.listen, "/healthz", o.bin, args...)
}

// hubConfig is a hub on the separate sandbox: the kiosk config the
// sandbox wrote, with a [hub] table.
func hubConfig(o options, database string) (string, error) {
	b, err := os.ReadFile(filepath.Join(o.dir, "sandbox", "kiosk.toml"))
	if err != nil {
		return "", err
	}
	text := strings.Replace(string(b), "[kiosk]\n", fmt.Sprintf("[kiosk]\ndata_dir = %q\n", filepath.Join(o.dir, "hub")), 1)
	text += fmt.Sprintf("\n[hub]\nlisten = %q\npublic_url = %q\ndatabase = %q\n", o.listen, "http://"+o.listen, database)
	path := filepath.Join(o.dir, "sandbox", "hub.toml") // beside the keys kiosk.toml names relatively
	return path, os.WriteFile(path, []byte(text), 0o600)
}

func startSandbox(o options) (*proc, error) {
	return start(o, "sandbox", "http://"+o.separate, "/sandbox/", o.bin, "sandbox", "--listen", o.separate,
		"--dir", filepath.Join(o.dir, "sandbox"), "--callback", "http://"+o.listen+"/callback")
}

// start runs bin with the run's result times and waits for ready to answer.
func start(o options, name, base, ready, bin string, args ...string) (*proc, error) {
	logf, err := os.Create(filepath.Join(o.dir, name+".log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "HOME="+o.dir,
		"NDIKIOSK_KIOSK_RESULT_MIN="+o.resultMin.String(), "NDIKIOSK_KIOSK_RESULT_TIMEOUT="+o.resultMin.String())
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	h := &proc{cmd: cmd, base: base}
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		resp, err := http.Get(base + ready)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				fmt.Printf("%s: pid %d on %s (log %s)\n", name, cmd.Process.Pid, base, logf.Name())
				return h, nil
			}
		}
	}
	h.stop()
	return nil, fmt.Errorf("%s did not answer %s in 60 s; see %s", name, ready, logf.Name())
}

// postmaster is the PostgreSQL server's process id (data/postmaster.pid).
func postmaster(dir string) int {
	b, _ := os.ReadFile(filepath.Join(dir, "data", "postmaster.pid"))
	var pid int
	fmt.Sscan(string(b), &pid)
	return pid
}

func (h *proc) stop() {
	h.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { h.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		h.cmd.Process.Kill()
		<-done
	}
}

// enrol makes one enrolment token a kiosk.
func enrol(ctx context.Context, pool *pgxpool.Pool, n int) ([]string, []string, error) {
	reg := hub.NewRegistry(pool, nil)
	ids, tokens := make([]string, n), make([]string, n)
	for i := range n {
		ids[i] = fmt.Sprintf("sim-%04d", i)
		t, err := reg.Enrol(ctx, ids[i])
		if err != nil {
			return nil, nil, err
		}
		tokens[i] = t
	}
	return ids, tokens, nil
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
