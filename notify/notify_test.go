package notify

import (
	"context"
	"flag"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"ndikiosk/internal/mailpittest"
	"ndikiosk/internal/pgtest"
	"ndikiosk/internal/seal"
	"ndikiosk/kiosk"
	"ndikiosk/pgstore"
)

var server *pgtest.Server

func TestMain(m *testing.M) {
	if os.Getenv(workerEnv) != "" {
		os.Exit(workerMain())
	}
	// Fuzzing (FuzzVerify) needs no database: neither the coordinator nor
	// its workers start one.
	flag.Parse()
	fuzz, worker := flag.Lookup("test.fuzz"), flag.Lookup("test.fuzzworker")
	if fuzz != nil && fuzz.Value.String() != "" || worker != nil && worker.Value.String() == "true" {
		os.Exit(m.Run())
	}
	os.Exit(pgtest.Main(m, &server))
}

// open is a fresh hub database with its key.
func open(t *testing.T) (*pgstore.DB, string, []byte) {
	t.Helper()
	ctx := context.Background()
	url, err := server.NewDatabase(ctx)
	if err != nil {
		t.Fatal(err)
	}
	key := seal.NewKey()
	db, err := pgstore.Open(ctx, url, key)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	return db, url, key
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// fast are options for tests: short waits, no randomness worth waiting for.
func fast(o Options) Options {
	o.MinBackoff, o.MaxBackoff, o.Poll, o.Log = time.Millisecond, 2*time.Millisecond, 20*time.Millisecond, quiet
	if o.MaxAttempts == 0 {
		o.MaxAttempts = 3
	}
	return o
}

var arrival = time.Date(2026, 12, 3, 6, 2, 31, 0, time.UTC) // 14:02 in Singapore

// checkIn records a visitor checked in at a kiosk, as the engine does.
func checkIn(t testing.TB, db *pgstore.DB, ref, name, host string) int64 {
	t.Helper()
	id, err := db.Save(context.Background(), kiosk.Visit{KioskID: "lobby-1", Site: "Tower A", Mode: kiosk.ModeVisitor, TxnRef: ref,
		StartedAt: arrival, DecidedAt: arrival, Outcome: kiosk.OutcomeCheckedIn, MaskedID: "*****567D", Name: name, Host: host,
		Purpose: "Meeting", PersonKey: db.PersonKey("S1234567D")})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func saveHost(t testing.TB, db *pgstore.DB, name, email string) {
	t.Helper()
	if _, err := db.SaveHost(context.Background(), pgstore.Host{Site: "Tower A", Name: name, Email: email}, arrival); err != nil {
		t.Fatal(err)
	}
}

// drain runs Once until nothing is due, or fails the test after limit rounds.
func drain(t *testing.T, w *Worker, limit int) {
	t.Helper()
	for i := 0; i < limit; i++ {
		n, err := w.Once(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			if pending(t, w.db) == 0 {
				return
			}
			time.Sleep(5 * time.Millisecond) // a retry's backoff
		}
	}
	t.Fatalf("still %d rows pending after %d rounds", pending(t, w.db), limit)
}

func pending(t testing.TB, db *pgstore.DB) int {
	var n int
	if err := db.Pool().QueryRow(context.Background(), `SELECT count(*) FROM notify_outbox WHERE state = 'pending'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

type outboxRow struct {
	state, lastError string
	attempts         int
}

func rowOf(t *testing.T, db *pgstore.DB, visitID int64, channel string) outboxRow {
	t.Helper()
	var r outboxRow
	if err := db.Pool().QueryRow(context.Background(), `SELECT state, last_error, attempts FROM notify_outbox WHERE visit_id = $1 AND channel = $2`,
		visitID, channel).Scan(&r.state, &r.lastError, &r.attempts); err != nil {
		t.Fatal(err)
	}
	return r
}

func smtpFor(mp *mailpittest.Server) *SMTP {
	return &SMTP{Host: mp.SMTPHost, Port: mp.SMTPPort, From: "reception@tower-a.example.sg", TLS: mp.TLSConfig(), Timeout: 10 * time.Second}
}

func TestTriggerQueuesOneRowAChannelForArrivalsWithAHost(t *testing.T) {
	db, _, _ := open(t)
	ctx := context.Background()
	in := checkIn(t, db, "ref-in", "TAN AH KOW", "Ms Tan")
	noHost := checkIn(t, db, "ref-nohost", "LIM BEE", "")
	walk, err := db.WalkIn(ctx, "Tower A", "Jane Rider", "Ms Tan", "Delivery", arrival)
	if err != nil {
		t.Fatal(err)
	}
	age, err := db.Save(ctx, kiosk.Visit{KioskID: "k", Mode: kiosk.ModeAge, TxnRef: "ref-age", StartedAt: arrival, DecidedAt: arrival,
		Outcome: kiosk.OutcomeEligible, Host: "Ms Tan"})
	if err != nil {
		t.Fatal(err)
	}
	count := func(id int64) int {
		var n int
		db.Pool().QueryRow(ctx, `SELECT count(*) FROM notify_outbox WHERE visit_id = $1`, id).Scan(&n)
		return n
	}
	if count(in) != 2 || count(walk) != 2 || count(noHost) != 0 || count(age) != 0 {
		t.Fatalf("rows: checked-in %d, walk-in %d, no host %d, age check %d; want 2, 2, 0, 0", count(in), count(walk), count(noHost), count(age))
	}
	// No name is copied into the outbox.
	var cols string
	db.Pool().QueryRow(ctx, `SELECT string_agg(column_name, ',') FROM information_schema.columns WHERE table_name = 'notify_outbox'`).Scan(&cols)
	if strings.Contains(cols, "name") {
		t.Fatalf("the outbox has a name column: %s", cols)
	}
	// Checking out (an update) queues nothing more.
	if err := db.CheckOut(ctx, in, arrival.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if count(in) != 2 {
		t.Fatalf("check-out queued more rows: %d", count(in))
	}
}

func TestHostGetsOneMailWithNameSiteKioskAndTimeButNoIdentity(t *testing.T) {
	db, _, _ := open(t)
	mp := mailpittest.Start(t, mailpittest.Options{STARTTLS: true, RequireSTARTTLS: true})
	saveHost(t, db, "Ms Tan Li Ling", "tan.liling@tower-a.example.sg")
	id := checkIn(t, db, "ref-1", "TAN AH KOW", "Ms Tan Li Ling")
	w := New(db, fast(Options{SMTP: smtpFor(mp)}))
	drain(t, w, 10)
	if r := rowOf(t, db, id, ChannelEmail); r.state != StateSent || r.attempts != 1 {
		t.Fatalf("email row %+v, want sent at the first attempt", r)
	}
	if r := rowOf(t, db, id, ChannelWebhook); r.state != StateSkipped || !strings.Contains(r.lastError, "not set up") {
		t.Fatalf("webhook row %+v, want skipped (not set up)", r)
	}
	msgs, err := mp.Messages()
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 {
		t.Fatalf("%d messages, want 1", len(msgs))
	}
	m, err := mp.Message(msgs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.To) != 1 || m.To[0].Address != "tan.liling@tower-a.example.sg" || m.From.Address != "reception@tower-a.example.sg" {
		t.Fatalf("from %v to %v", m.From, m.To)
	}
	if m.Subject != "Your visitor has arrived: TAN AH KOW" {
		t.Fatalf("subject %q", m.Subject)
	}
	for _, want := range []string{"TAN AH KOW has arrived", "Tower A", "lobby-1", "Thu 3 Dec 2026, 14:02 (Singapore time)", "Dear Ms Tan Li Ling"} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("the mail does not say %q:\n%s", want, m.Text)
		}
	}
	raw, _ := mp.Raw(msgs[0].ID)
	for _, never := range []string{"567D", "S1234567D", "*****"} {
		if strings.Contains(string(raw), never) {
			t.Errorf("the mail carries %q", never)
		}
	}
	for _, h := range []string{"\r\nDate: ", "\r\nMessage-ID: <notify-", "\r\nMIME-Version: 1.0", "charset=UTF-8"} {
		if !strings.Contains(string(raw), h) {
			t.Errorf("header %q missing", strings.TrimSpace(h))
		}
	}
}

func TestWalkInAndNonASCIINameMail(t *testing.T) {
	db, _, _ := open(t)
	mp := mailpittest.Start(t, mailpittest.Options{STARTTLS: true})
	saveHost(t, db, "Ms Tan", "tan@tower-a.example.sg")
	if _, err := db.WalkIn(context.Background(), "Tower A", "陈大文 Zoë", "Ms Tan", "Delivery", arrival); err != nil {
		t.Fatal(err)
	}
	drain(t, New(db, fast(Options{SMTP: smtpFor(mp)})), 10)
	msgs, _ := mp.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages", len(msgs))
	}
	m, _ := mp.Message(msgs[0].ID)
	if m.Subject != "Your visitor has arrived: 陈大文 Zoë (walk-in)" {
		t.Fatalf("subject %q", m.Subject)
	}
	if !strings.Contains(m.Text, "walk-in (not verified with Singpass)") || !strings.Contains(m.Text, "registered by staff") {
		t.Fatalf("walk-in not said:\n%s", m.Text)
	}
	raw, _ := mp.Raw(msgs[0].ID)
	if !strings.Contains(string(raw), "Subject: =?utf-8?q?") {
		t.Fatalf("subject not an encoded word:\n%s", raw)
	}
}

func TestHostWithoutEmailIsSkipped(t *testing.T) {
	db, _, _ := open(t)
	mp := mailpittest.Start(t, mailpittest.Options{})
	saveHost(t, db, "Reception", "")
	id := checkIn(t, db, "ref-1", "TAN AH KOW", "Reception")
	unknown := checkIn(t, db, "ref-2", "LIM BEE", "Someone not listed")
	s := smtpFor(mp)
	s.NoTLS = true
	drain(t, New(db, fast(Options{SMTP: s})), 10)
	for _, v := range []int64{id, unknown} {
		if r := rowOf(t, db, v, ChannelEmail); r.state != StateSkipped || !strings.Contains(r.lastError, "no email") {
			t.Fatalf("visit %d: %+v, want skipped for no email", v, r)
		}
	}
	if n, _ := mp.Count(); n != 0 {
		t.Fatalf("%d messages sent", n)
	}
}

func TestServerWithoutSTARTTLSIsRetriedThenDeadThenReplayed(t *testing.T) {
	db, _, _ := open(t)
	plain := mailpittest.Start(t, mailpittest.Options{}) // offers no STARTTLS
	saveHost(t, db, "Ms Tan", "tan@tower-a.example.sg")
	id := checkIn(t, db, "ref-1", "TAN AH KOW", "Ms Tan")
	s := smtpFor(plain)
	s.Username, s.Password = "reception", "hunter2-very-secret"
	w := New(db, fast(Options{SMTP: s, MaxAttempts: 3}))
	drain(t, w, 50)
	r := rowOf(t, db, id, ChannelEmail)
	if r.state != StateDead || r.attempts != 3 || !strings.Contains(r.lastError, "does not offer STARTTLS") {
		t.Fatalf("row %+v, want dead after 3 attempts for no STARTTLS", r)
	}
	if strings.Contains(r.lastError, "hunter2") {
		t.Fatal("the password is in the outbox")
	}
	if n, _ := plain.Count(); n != 0 {
		t.Fatalf("%d messages went out in clear", n)
	}
	dead, err := DeadLetters(context.Background(), db, 0)
	if err != nil || len(dead) != 1 || dead[0].VisitID != id || dead[0].Channel != ChannelEmail || dead[0].Host != "Ms Tan" {
		t.Fatalf("dead letters %+v, %v", dead, err)
	}
	// The operator fixes the relay (here: one with STARTTLS) and replays.
	good := mailpittest.Start(t, mailpittest.Options{STARTTLS: true})
	w.o.SMTP = smtpFor(good)
	if err := Replay(context.Background(), db, dead[0].ID); err != nil {
		t.Fatal(err)
	}
	if err := Replay(context.Background(), db, dead[0].ID); err != kiosk.ErrNotFound {
		t.Fatalf("replaying a row no longer dead: %v", err)
	}
	drain(t, w, 10)
	if r := rowOf(t, db, id, ChannelEmail); r.state != StateSent || r.attempts != 1 {
		t.Fatalf("after replay %+v", r)
	}
	if n, _ := good.Count(); n != 1 {
		t.Fatalf("%d messages after replay", n)
	}
}

func TestUntrustedCertificateIsNotSentTo(t *testing.T) {
	db, _, _ := open(t)
	mp := mailpittest.Start(t, mailpittest.Options{STARTTLS: true})
	saveHost(t, db, "Ms Tan", "tan@tower-a.example.sg")
	id := checkIn(t, db, "ref-1", "TAN AH KOW", "Ms Tan")
	s := smtpFor(mp)
	s.TLS = nil // the system's roots: the throwaway certificate is not among them
	drain(t, New(db, fast(Options{SMTP: s, MaxAttempts: 2})), 20)
	if r := rowOf(t, db, id, ChannelEmail); r.state != StateDead || !strings.Contains(r.lastError, "STARTTLS") {
		t.Fatalf("row %+v", r)
	}
	if n, _ := mp.Count(); n != 0 {
		t.Fatalf("%d messages sent to an untrusted server", n)
	}
}

func TestHeaderInjectionIsRefused(t *testing.T) {
	db, _, _ := open(t)
	mp := mailpittest.Start(t, mailpittest.Options{STARTTLS: true})
	saveHost(t, db, "Ms Tan", "tan@tower-a.example.sg")
	// A name straight into the database, as a buggy or hostile writer
	// could: the kiosk cleans names, the sender must not rely on it.
	id := checkIn(t, db, "ref-1", "EVIL\r\nBcc: victim@example.com", "Ms Tan")
	ok := checkIn(t, db, "ref-2", "TAN AH KOW", "Ms Tan")
	drain(t, New(db, fast(Options{SMTP: smtpFor(mp)})), 10)
	if r := rowOf(t, db, id, ChannelEmail); r.state != StateDead || r.attempts != 1 || !strings.Contains(r.lastError, "header injection") {
		t.Fatalf("injected row %+v, want dead at once", r)
	}
	if strings.Contains(rowOf(t, db, id, ChannelEmail).lastError, "EVIL") {
		t.Fatal("the name is in the outbox's error")
	}
	if r := rowOf(t, db, ok, ChannelEmail); r.state != StateSent {
		t.Fatalf("the next mail in the batch: %+v", r)
	}
	msgs, _ := mp.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages, want only the clean one", len(msgs))
	}
	for _, m := range msgs {
		for _, to := range m.To {
			if to.Address == "victim@example.com" {
				t.Fatal("the injected Bcc got mail")
			}
		}
	}
	// build refuses every header value with a line break.
	s := smtpFor(mp)
	for _, l := range []letter{
		{to: "tan@x.sg\r\nBcc: a@b.c", msg: Message{Name: "A"}},
		{to: "tan@x.sg", msg: Message{Name: "A", Site: "S\nX-Evil: 1"}},
		{to: "tan@x.sg", msg: Message{Name: "A", Host: "H\r"}},
		{to: "not an address", msg: Message{Name: "A"}},
	} {
		if _, err := s.build(l, time.Now()); err == nil || !isPermanent(err) {
			t.Errorf("build(%q) = %v, want a permanent refusal", l.to+l.msg.Site+l.msg.Host, err)
		}
	}
}

// receiver is a webhook endpoint on loopback that checks each signature
// and answers with the status its script gives.
type receiver struct {
	*httptest.Server
	secret []byte
	mu     sync.Mutex
	status []int          // answered in turn; 200 once they run out
	got    []Payload      // verified deliveries
	seen   map[string]int // Ndikiosk-Delivery → times
	bad    []string       // signatures that did not verify
	hdr    []http.Header  // every request's headers
	calls  atomic.Int64
}

func newReceiver(t *testing.T, status ...int) *receiver {
	r := &receiver{secret: []byte("0123456789abcdef0123456789abcdef-secret"), status: status, seen: map[string]int{}}
	r.Server = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	r.calls.Add(1)
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.hdr = append(r.hdr, req.Header.Clone())
	if err := Verify(r.secret, req.Header.Get(SignatureHeader), body, time.Now(), 5*time.Minute); err != nil {
		r.bad = append(r.bad, err.Error())
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	st := http.StatusOK
	if len(r.status) > 0 {
		st, r.status = r.status[0], r.status[1:]
	}
	if st/100 == 2 {
		var p Payload
		if err := jsonUnmarshal(body, &p); err != nil {
			r.bad = append(r.bad, err.Error())
		}
		r.got = append(r.got, p)
		r.seen[req.Header.Get(DeliveryHeader)]++
	}
	w.WriteHeader(st)
}

func (r *receiver) hook() *Webhook {
	return &Webhook{URL: r.URL + "/hooks/visitor", Secret: r.secret, Timeout: 5 * time.Second}
}

func TestWebhookSignedRetriedOn500AndDelivered(t *testing.T) {
	db, _, _ := open(t)
	rc := newReceiver(t, 500, 503)
	id := checkIn(t, db, "ref-1", "TAN AH KOW", "Ms Tan")
	drain(t, New(db, fast(Options{Webhook: rc.hook(), MaxAttempts: 5})), 50)
	if r := rowOf(t, db, id, ChannelWebhook); r.state != StateSent || r.attempts != 3 {
		t.Fatalf("row %+v, want sent at the third attempt", r)
	}
	if r := rowOf(t, db, id, ChannelEmail); r.state != StateSkipped {
		t.Fatalf("email row %+v, want skipped", r)
	}
	if len(rc.bad) != 0 || len(rc.got) != 1 {
		t.Fatalf("bad signatures %v, deliveries %d", rc.bad, len(rc.got))
	}
	p := rc.got[0]
	want := Payload{Event: "visitor.arrived", Delivery: p.Delivery, ID: id, Site: "Tower A", Kiosk: "lobby-1", Host: "Ms Tan", Name: "TAN AH KOW", At: "2026-12-03T14:02:31+08:00"} // the delivery: TestWebhookDeliveryIdIsSigned
	if p != want {
		t.Fatalf("payload %+v\nwant    %+v", p, want)
	}
	// Every retry carried the same delivery id.
	ids := map[string]bool{}
	for _, h := range rc.hdr {
		ids[h.Get(DeliveryHeader)] = true
	}
	if len(ids) != 1 || rc.calls.Load() != 3 {
		t.Fatalf("delivery ids %v over %d calls", ids, rc.calls.Load())
	}
}

func TestWebhook400IsDeadAtOnceAndReplayWorks(t *testing.T) {
	db, _, _ := open(t)
	rc := newReceiver(t, 400)
	id := checkIn(t, db, "ref-1", "TAN AH KOW", "Ms Tan")
	w := New(db, fast(Options{Webhook: rc.hook(), MaxAttempts: 5}))
	drain(t, w, 20)
	r := rowOf(t, db, id, ChannelWebhook)
	if r.state != StateDead || r.attempts != 1 || !strings.Contains(r.lastError, "(400)") {
		t.Fatalf("row %+v, want dead at once for 400", r)
	}
	if strings.Contains(r.lastError, rc.URL) || strings.Contains(r.lastError, string(rc.secret)) {
		t.Fatalf("the error names the URL or the secret: %s", r.lastError)
	}
	n, err := ReplayAll(context.Background(), db)
	if err != nil || n != 1 {
		t.Fatalf("replayed %d, %v", n, err)
	}
	drain(t, w, 20)
	if r := rowOf(t, db, id, ChannelWebhook); r.state != StateSent {
		t.Fatalf("after replay %+v", r)
	}
	if len(rc.got) != 1 {
		t.Fatalf("%d deliveries", len(rc.got))
	}
}

func TestWebhookStatusClasses(t *testing.T) {
	for _, c := range []struct {
		status int
		dead   bool
	}{{408, false}, {429, false}, {500, false}, {302, true}, {401, true}, {404, true}, {410, true}} {
		db, _, _ := open(t)
		rc := newReceiver(t, c.status)
		id := checkIn(t, db, "ref-1", "TAN AH KOW", "Ms Tan")
		w := New(db, fast(Options{Webhook: rc.hook(), MaxAttempts: 5}))
		if _, err := w.Once(context.Background()); err != nil {
			t.Fatal(err)
		}
		r := rowOf(t, db, id, ChannelWebhook)
		if got := r.state == StateDead; got != c.dead {
			t.Errorf("status %d: row %+v, dead %v want %v", c.status, r, got, c.dead)
		}
	}
}

func TestVerifyRefusesForgeriesAndReplays(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	body := []byte(`{"event":"visitor.arrived","id":1}`)
	now := time.Unix(1_800_000_000, 0)
	good := Sign(secret, now, body)
	if err := Verify(secret, good, body, now.Add(time.Minute), 5*time.Minute); err != nil {
		t.Fatalf("a good signature: %v", err)
	}
	for name, c := range map[string]struct {
		header string
		body   []byte
		secret []byte
		at     time.Time
		want   error
	}{
		"body changed":     {good, []byte(`{"event":"visitor.arrived","id":2}`), secret, now, ErrSignature},
		"other secret":     {good, body, []byte("another-secret-another-secret-xx"), now, ErrSignature},
		"replayed later":   {good, body, secret, now.Add(6 * time.Minute), ErrSignatureStale},
		"from the future":  {good, body, secret, now.Add(-6 * time.Minute), ErrSignatureStale},
		"empty":            {"", body, secret, now, ErrSignatureFormat},
		"no v1":            {"t=1800000000", body, secret, now, ErrSignatureFormat},
		"bad time":         {"t=abc,v1=00", body, secret, now, ErrSignatureFormat},
		"garbage":          {"hello", body, secret, now, ErrSignatureFormat},
		"time swapped in":  {strings.Replace(good, "t=1800000000", "t=1800000060", 1), body, secret, now, ErrSignature},
		"truncated digest": {good[:len(good)-2], body, secret, now, ErrSignature},
	} {
		if err := Verify(c.secret, c.header, c.body, c.at, 5*time.Minute); err != c.want {
			t.Errorf("%s: %v, want %v", name, err, c.want)
		}
	}
	// A rotation: two v1 values, one good.
	rot := good + ",v1=" + strings.Repeat("0", 64)
	if err := Verify(secret, rot, body, now, time.Minute); err != nil {
		t.Fatalf("rotation header: %v", err)
	}
}

func TestTwoWorkersNeverSendARowTwice(t *testing.T) {
	db, _, _ := open(t)
	rc := newReceiver(t)
	const visits = 150
	for i := range visits {
		checkIn(t, db, "ref-"+itoa(i), "VISITOR "+itoa(i), "Ms Tan")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	for i := range 2 {
		w := New(db, fast(Options{Webhook: rc.hook(), ID: "replica-" + itoa(i), Batch: 7, Workers: 2}))
		wg.Go(func() { w.Run(ctx) })
	}
	deadline := time.Now().Add(60 * time.Second)
	for pending(t, db) > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	wg.Wait()
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.seen) != visits {
		t.Fatalf("%d distinct deliveries, want %d", len(rc.seen), visits)
	}
	for id, n := range rc.seen {
		if n != 1 {
			t.Errorf("delivery %s sent %d times", id, n)
		}
	}
}

func TestPurgeKeepsPendingRows(t *testing.T) {
	db, _, _ := open(t)
	ctx := context.Background()
	a := checkIn(t, db, "ref-1", "A", "Ms Tan")
	drain(t, New(db, fast(Options{})), 10) // nothing set up: both rows skipped
	b := checkIn(t, db, "ref-2", "B", "Ms Tan")
	n, err := Purge(ctx, db, time.Now().Add(time.Hour))
	if err != nil || n != 2 {
		t.Fatalf("purged %d, %v; want the 2 skipped rows", n, err)
	}
	var left int
	db.Pool().QueryRow(ctx, `SELECT count(*) FROM notify_outbox WHERE visit_id = $1`, a).Scan(&left)
	if left != 0 || pending(t, db) != 2 {
		t.Fatalf("left %d of visit a, %d pending", left, pending(t, db))
	}
	// The visit's own purge takes its rows along.
	if _, err := db.Purge(ctx, arrival.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	db.Pool().QueryRow(ctx, `SELECT count(*) FROM notify_outbox WHERE visit_id = $1`, b).Scan(&left)
	if left != 0 {
		t.Fatalf("%d rows outlived their visit", left)
	}
}

func TestBackoffGrowsAndStaysInRange(t *testing.T) {
	w := New(nil, Options{MinBackoff: 30 * time.Second, MaxBackoff: time.Hour})
	for attempt, hi := range map[int]time.Duration{1: 30 * time.Second, 2: time.Minute, 3: 2 * time.Minute, 7: 32 * time.Minute, 8: time.Hour, 20: time.Hour} {
		for range 50 {
			if d := w.backoff(attempt); d < hi/2 || d > hi {
				t.Fatalf("attempt %d: %v outside [%v, %v]", attempt, d, hi/2, hi)
			}
		}
	}
}

// TestNewVisitAndReplayWakeTheWorker: with polling set to an hour, only
// the database's wake-up (the trigger's NOTIFY, Replay's) can get a
// notification out.
func TestNewVisitAndReplayWakeTheWorker(t *testing.T) {
	db, _, _ := open(t)
	rc := newReceiver(t, 400)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	o := fast(Options{Webhook: rc.hook()})
	o.Poll = time.Hour
	w := New(db, o)
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(20 * time.Second); !ok(); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("no %s within 20 s", what)
			}
		}
	}
	// The first loop pass may run before LISTEN is in place: wait for it.
	waitFor("LISTEN", func() bool {
		var n int
		db.Pool().QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'LISTEN ndikiosk_notify%'`).Scan(&n)
		return n > 0
	})
	id := checkIn(t, db, "ref-1", "TAN AH KOW", "Ms Tan")
	waitFor("first attempt", func() bool { return rowOf(t, db, id, ChannelWebhook).state == StateDead })
	dead, _ := DeadLetters(context.Background(), db, 1)
	if err := Replay(context.Background(), db, dead[0].ID); err != nil {
		t.Fatal(err)
	}
	waitFor("replayed delivery", func() bool { return rowOf(t, db, id, ChannelWebhook).state == StateSent })
}

func TestSandboxVisitsSaySo(t *testing.T) {
	m := Message{Name: "TAN AH KOW", Host: "Ms Tan", Site: "Tower A", Kiosk: "lobby-1", Sandbox: true, At: arrival}
	if !strings.HasPrefix(m.subject(), "[Sandbox test] ") || !strings.Contains(m.text(), "not a real Singpass check") {
		t.Fatalf("subject %q\n%s", m.subject(), m.text())
	}
	b, _ := payload(m)
	if !strings.Contains(string(b), `"sandbox":true`) {
		t.Fatalf("payload %s", b)
	}
	m.Sandbox = false
	if b, _ := payload(m); strings.Contains(string(b), "sandbox") || strings.Contains(m.subject(), "Sandbox") {
		t.Fatalf("a real visit marked sandbox: %s", b)
	}
}

// TestSilentServersTimeOutAndAreRetried: a "mail server" that accepts the
// connection and never greets, and a webhook that never answers, cost
// one timeout each and are retried, never a stuck worker.
func TestSilentServersTimeOutAndAreRetried(t *testing.T) {
	db, _, _ := open(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var conns []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c) // held open, silent
			mu.Unlock()
		}
	}()
	defer func() {
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	}()
	release := make(chan struct{})
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	defer hook.Close()
	defer close(release)
	saveHost(t, db, "Ms Tan", "tan@tower-a.example.sg")
	id := checkIn(t, db, "ref-1", "TAN AH KOW", "Ms Tan")
	addr := ln.Addr().(*net.TCPAddr)
	o := fast(Options{
		SMTP:    &SMTP{Host: "127.0.0.1", Port: addr.Port, From: "reception@tower-a.example.sg", Timeout: 300 * time.Millisecond},
		Webhook: &Webhook{URL: hook.URL, Secret: []byte(strings.Repeat("s", 32)), Timeout: 300 * time.Millisecond},
	})
	o.MaxAttempts = 5
	w := New(db, o)
	if _, err := w.Once(context.Background()); err != nil {
		t.Fatal(err)
	}
	mail, web := rowOf(t, db, id, ChannelEmail), rowOf(t, db, id, ChannelWebhook)
	if mail.state != StatePending || mail.attempts != 1 || !strings.Contains(mail.lastError, "greeting") {
		t.Fatalf("email row %+v, want pending for a retry after a greeting timeout", mail)
	}
	if web.state != StatePending || web.attempts != 1 || !strings.Contains(web.lastError, "timed out") {
		t.Fatalf("webhook row %+v, want pending for a retry after a timeout", web)
	}
}

// TestBatchHandsBackWhatItCannotSendWithinHalfTheLease: with a lease too
// short for the batch, each pass sends one row a channel and hands the
// rest back untried: every row is still sent exactly once, at its first
// counted attempt.
func TestBatchHandsBackWhatItCannotSendWithinHalfTheLease(t *testing.T) {
	db, _, _ := open(t)
	mp := mailpittest.Start(t, mailpittest.Options{STARTTLS: true})
	rc := newReceiver(t)
	saveHost(t, db, "Ms Tan", "tan@tower-a.example.sg")
	var ids []int64
	for i := range 4 {
		ids = append(ids, checkIn(t, db, "ref-"+itoa(i), "VISITOR "+itoa(i), "Ms Tan"))
	}
	o := fast(Options{SMTP: smtpFor(mp), Webhook: rc.hook(), Batch: 8})
	o.Lease = time.Nanosecond // half of it is gone before the first send
	w := New(db, o)
	if n, err := w.Once(context.Background()); err != nil || n != 8 {
		t.Fatalf("claimed %d, %v", n, err)
	}
	if got := pending(t, db); got != 6 {
		t.Fatalf("%d rows pending after one pass, want 6 (one a channel sent)", got)
	}
	drain(t, w, 20)
	for _, id := range ids {
		for _, ch := range []string{ChannelEmail, ChannelWebhook} {
			if r := rowOf(t, db, id, ch); r.state != StateSent || r.attempts != 1 {
				t.Errorf("visit %d %s: %+v, want sent at its first counted attempt", id, ch, r)
			}
		}
	}
	if n, _ := mp.Count(); n != 4 || len(rc.seen) != 4 {
		t.Fatalf("%d mails, %d webhooks; want 4 each", n, len(rc.seen))
	}
}
