package notify

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"ndikiosk/internal/mailpittest"
	"ndikiosk/pgstore"
)

// workerEnv, when set, makes the test binary a worker process (workerMain)
// configured by the JSON in it: what the kill -9 test starts and kills.
const workerEnv = "NOTIFY_TEST_WORKER"

type workerSpec struct {
	URL      string
	Key      string // hex
	SMTPHost string
	SMTPPort int
	CAFile   string
	ID       string
	Lease    time.Duration
}

func workerMain() int {
	var s workerSpec
	if err := json.Unmarshal([]byte(os.Getenv(workerEnv)), &s); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	key, _ := hex.DecodeString(s.Key)
	ctx := context.Background()
	db, err := pgstore.Open(ctx, s.URL, key)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	cas, err := LoadCAs(s.CAFile)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	smtp := &SMTP{Host: s.SMTPHost, Port: s.SMTPPort, From: "reception@tower-a.example.sg", Timeout: 10 * time.Second}
	smtp.TLS = mailTLS(cas)
	New(db, Options{SMTP: smtp, ID: s.ID, Lease: s.Lease, Batch: 20, Workers: 2, Poll: 100 * time.Millisecond, Log: quiet}).Run(ctx)
	return 0
}

// killRun is one kill -9 run's figures.
type killRun struct {
	Queued, Delivered, Duplicates, Lost int
	Reclaimed                           int           // rows the killed worker held that the other took over after the lease
	KilledAt                            int           // messages in Mailpit when the first worker was killed
	FirstHalf                           time.Duration // start to the kill
	Elapsed                             time.Duration // start to an empty outbox
}

// killHalfway queues n notifications, starts a worker process, kills it
// with SIGKILL once half have arrived in Mailpit, starts another (a
// different replica, which must wait out the dead one's leases) and waits
// until the outbox is empty.
func killHalfway(t *testing.T, n int) killRun {
	db, url, key := open(t)
	mp := mailpittest.Start(t, mailpittest.Options{STARTTLS: true, RequireSTARTTLS: true})
	saveHost(t, db, "Ms Tan", "tan@tower-a.example.sg")
	for i := range n {
		checkIn(t, db, "ref-"+strconv.Itoa(i), "VISITOR "+strconv.Itoa(i), "Ms Tan")
	}
	spec := workerSpec{URL: url, Key: hex.EncodeToString(key), SMTPHost: mp.SMTPHost, SMTPPort: mp.SMTPPort, CAFile: mp.CAFile,
		Lease: 3 * time.Second}
	start := func(id string) *exec.Cmd {
		spec.ID = id
		b, _ := json.Marshal(spec)
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), workerEnv+"="+string(b))
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	began := time.Now()
	first := start("replica-a")
	var r killRun
	r.Queued = n
	deadline := time.Now().Add(5 * time.Minute)
	for {
		c, err := mp.Count()
		if err != nil {
			t.Fatal(err)
		}
		if c >= n/2 {
			break
		}
		if time.Now().After(deadline) {
			first.Process.Kill()
			t.Fatalf("only %d of %d mails in 5 minutes", c, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := first.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	r.FirstHalf = time.Since(began)
	first.Wait()
	r.KilledAt, _ = mp.Count()
	second := start("replica-b")
	defer func() { second.Process.Kill(); second.Wait() }()
	for pending(t, db) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d rows still pending", pending(t, db))
		}
		time.Sleep(50 * time.Millisecond)
	}
	r.Elapsed = time.Since(began)
	msgs, err := mp.Messages()
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]int{}
	for _, m := range msgs {
		ids[m.MessageID]++
	}
	r.Delivered, r.Duplicates, r.Lost = len(ids), len(msgs)-len(ids), n-len(ids)
	db.Pool().QueryRow(context.Background(), `SELECT count(*) FROM notify_outbox WHERE channel = 'email' AND attempts > 1`).Scan(&r.Reclaimed)
	counts, _ := Counts(context.Background(), db)
	if counts[ChannelEmail][StateSent] != n {
		t.Errorf("outbox says %v, want %d email rows sent", counts[ChannelEmail], n)
	}
	return r
}

// TestKilledWorkerLosesNothing: a worker process killed -9 halfway
// through the queue; another drains it; every notification arrives.
// NOTIFY_BENCH_N sets the queue's length (bench/notify uses 1,000).
func TestKilledWorkerLosesNothing(t *testing.T) {
	n := 100
	if v, err := strconv.Atoi(os.Getenv("NOTIFY_BENCH_N")); err == nil && v > 0 {
		n = v
	}
	r := killHalfway(t, n)
	t.Logf("queued %d, killed -9 at %d in Mailpit after %.1f s (%.0f mails/s), %d claimed by the killed worker and taken over, delivered %d distinct, lost %d, duplicates %d, %.1f s in all (3 s of it the dead worker's leases)",
		r.Queued, r.KilledAt, r.FirstHalf.Seconds(), float64(r.KilledAt)/r.FirstHalf.Seconds(), r.Reclaimed, r.Delivered, r.Lost, r.Duplicates, r.Elapsed.Seconds())
	if r.Lost != 0 || r.Delivered != n {
		t.Fatalf("lost %d of %d", r.Lost, n)
	}
	if r.KilledAt >= n {
		t.Fatalf("the worker was killed after it had sent everything (%d): the test proved nothing", r.KilledAt)
	}
}
