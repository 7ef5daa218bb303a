// Command notifyhub is the kill -9 figure with the real hub binary: N
// visits (default 1,000) with a host are committed to a throwaway
// PostgreSQL, so the outbox holds N email rows; `ndikiosk hub` (sandbox
// hub, [notify.smtp] from NDIKIOSK_NOTIFY_SMTP_* variables, pointing at
// Mailpit with STARTTLS required and the throwaway CA as ca_file) starts
// sending them, is killed with SIGKILL once Mailpit holds half, and is
// started again on the same address: it takes its own claims back at once
// and sends the rest. Lost and duplicates are counted by distinct
// Message-ID in Mailpit. bench/notify runs it; see BENCHMARKS.md
// ("Notifications").
package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"ndikiosk/config"
	"ndikiosk/internal/mailpittest"
	"ndikiosk/internal/pgtest"
	"ndikiosk/internal/seal"
	"ndikiosk/kiosk"
	"ndikiosk/pgstore"
)

func main() {
	bin := flag.String("bin", "", "the ndikiosk binary (required)")
	n := flag.Int("n", 1000, "notifications queued")
	listen := flag.String("listen", "127.0.0.1:48180", "the hub's address")
	dir := flag.String("dir", "/tmp/notifybench", "scratch folder (emptied first)")
	flag.Parse()
	if *bin == "" {
		fmt.Fprintln(os.Stderr, "-bin is required")
		os.Exit(2)
	}
	if err := run(*bin, *n, *listen, *dir); err != nil {
		fmt.Fprintln(os.Stderr, "notifyhub:", err)
		os.Exit(1)
	}
}

func run(bin string, n int, listen, dir string) error {
	os.RemoveAll(dir)
	if err := os.MkdirAll(filepath.Join(dir, "mailpit"), 0o755); err != nil {
		return err
	}
	ctx := context.Background()
	pg, err := pgtest.Start(ctx)
	if err != nil {
		return err
	}
	defer pg.Stop()
	url, err := pg.NewDatabase(ctx)
	if err != nil {
		return err
	}
	mp, err := mailpittest.StartDir(filepath.Join(dir, "mailpit"), mailpittest.Options{STARTTLS: true, RequireSTARTTLS: true})
	if err != nil {
		return err
	}
	defer mp.Stop()
	db, err := queue(ctx, url, filepath.Join(dir, "hub"), n)
	if err != nil {
		return err
	}
	defer db.Close()
	env := append(os.Environ(), "HOME="+dir,
		"NDIKIOSK_NOTIFY_SMTP_HOST="+mp.SMTPHost, "NDIKIOSK_NOTIFY_SMTP_PORT="+strconv.Itoa(mp.SMTPPort),
		"NDIKIOSK_NOTIFY_SMTP_FROM=reception@tower-a.example.sg", "NDIKIOSK_NOTIFY_SMTP_CA_FILE="+mp.CAFile)
	args := []string{"hub", "--database", url, "--data-dir", filepath.Join(dir, "hub"), "--listen", listen}
	began := time.Now()
	first, err := start(bin, args, env, filepath.Join(dir, "hub-1.log"), listen)
	if err != nil {
		return err
	}
	if err := until(5*time.Minute, func() bool { c, _ := mp.Count(); return c >= n/2 }); err != nil {
		first.Process.Kill()
		return fmt.Errorf("half the mails did not arrive: %w", err)
	}
	first.Process.Kill() // SIGKILL
	first.Wait()
	killedAt, _ := mp.Count()
	halfway := time.Since(began)
	var held int
	db.Pool().QueryRow(ctx, `SELECT count(*) FROM notify_outbox WHERE state = 'pending' AND locked_until > now()`).Scan(&held)
	restarted := time.Now()
	second, err := start(bin, args, env, filepath.Join(dir, "hub-2.log"), listen)
	if err != nil {
		return err
	}
	defer func() { second.Process.Signal(os.Interrupt); second.Wait() }()
	err = until(5*time.Minute, func() bool {
		var pending int
		db.Pool().QueryRow(ctx, `SELECT count(*) FROM notify_outbox WHERE state = 'pending'`).Scan(&pending)
		return pending == 0
	})
	if err != nil {
		return fmt.Errorf("the outbox did not drain: %w", err)
	}
	rest := time.Since(restarted)
	msgs, err := mp.Messages()
	if err != nil {
		return err
	}
	ids := map[string]int{}
	for _, m := range msgs {
		ids[m.MessageID]++
	}
	fmt.Printf("queued %d; hub killed -9 at %d in Mailpit after %.1f s, holding %d claimed rows; restarted, drained in %.1f s\n",
		n, killedAt, halfway.Seconds(), held, rest.Seconds())
	fmt.Printf("delivered %d distinct, lost %d, duplicates %d\n", len(ids), n-len(ids), len(msgs)-len(ids))
	if len(ids) != n {
		return fmt.Errorf("%d lost", n-len(ids))
	}
	return nil
}

// queue makes the hub's key and database and commits n visits whose host
// has an email: the trigger queues one email row each.
func queue(ctx context.Context, url, dataDir string, n int) (*pgstore.DB, error) {
	key := seal.NewKey()
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dataDir, config.HubKeyFile), key, 0o600); err != nil {
		return nil, err
	}
	db, err := pgstore.Open(ctx, url, key)
	if err != nil {
		return nil, err
	}
	at := time.Now()
	if _, err := db.SaveHost(ctx, pgstore.Host{Site: "Tower A", Name: "Ms Tan", Email: "tan@tower-a.example.sg"}, at); err != nil {
		return nil, err
	}
	for i := range n {
		ref := "bench-" + strconv.Itoa(i)
		if _, err := db.Save(ctx, kiosk.Visit{KioskID: "lobby-1", Site: "Tower A", Mode: kiosk.ModeVisitor, TxnRef: ref, StartedAt: at,
			DecidedAt: at, Outcome: kiosk.OutcomeCheckedIn, Name: "VISITOR " + strconv.Itoa(i), Host: "Ms Tan"}); err != nil {
			return nil, err
		}
	}
	return db, nil
}

func start(bin string, args, env []string, logPath, listen string) (*exec.Cmd, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd := exec.Command(bin, args...)
	cmd.Env, cmd.Stdout, cmd.Stderr = env, logf, logf
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	err = until(60*time.Second, func() bool {
		resp, err := http.Get("http://" + listen + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return nil, fmt.Errorf("the hub did not answer /healthz (log %s): %w", logPath, err)
	}
	return cmd, nil
}

func until(limit time.Duration, ok func() bool) error {
	for deadline := time.Now().Add(limit); !ok(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			return fmt.Errorf("not within %s", limit)
		}
	}
	return nil
}
