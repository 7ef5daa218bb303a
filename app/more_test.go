package app_test

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ndikiosk/app"
	"ndikiosk/config"
	. "ndikiosk/kiosk"
	"ndikiosk/ndi/pki"
	"ndikiosk/ndi/sandbox"
	"ndikiosk/storage"
)

// fullStore fails every write the way a full disk does.
type fullStore struct{ VisitStore }

func (fullStore) Save(context.Context, Visit) (int64, error) {
	return 0, &StoreError{Reason: "the disk is full", Action: "free space"}
}

// TestStorageFailureRefusesTheVisit: a log that cannot be written refuses
// the visit, says why when it knows, and the kiosk recovers by itself.
func TestStorageFailureRefusesTheVisit(t *testing.T) {
	cases := map[string]struct {
		wrap func(VisitStore) VisitStore
		want string
	}{
		"disk full": {func(s VisitStore) VisitStore { return fullStore{s} },
			"This visit could not be recorded: the disk is full. Please approach the counter."},
		"database closed": {func(s VisitStore) VisitStore { s.(*storage.DB).Close(); return s },
			"This visit could not be recorded. Please approach the counter."},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			r := newRig(t, nil, c.wrap)
			s := r.visit(t, "Adult citizen", "allow", "")
			if s.Outcome != OutcomeNotRecorded || s.Message != c.want {
				t.Fatalf("screen %+v", s)
			}
			r.clock.Add(10 * time.Second)
			r.waitQR(t) // back on a code by itself
		})
	}
}

func TestInFlightBound(t *testing.T) {
	r := newRig(t, exchangeTimeout(10*time.Second))
	id := personaID(t, "Adult citizen")
	for i := 0; i < 4; i++ { // the engine runs at most four at once
		res, err := r.scan(id, "allow", sandbox.FaultSlow)
		if err != nil || res.CallbackStatus != 200 {
			t.Fatalf("scan %d: %+v %v", i, res, err)
		}
		r.engine.Cancel() // the slow exchange keeps running
	}
	res, err := r.scan(id, "allow", "")
	if err != nil || res.CallbackStatus != 503 {
		t.Fatalf("fifth exchange while four run: %+v %v", res, err)
	}
	time.Sleep(3200 * time.Millisecond) // the slow ones finish (token and person 1.5 s each)
	r.engine.Cancel()
	if s := r.visit(t, "Adult citizen", "allow", ""); s.Outcome != OutcomeEligible {
		t.Fatalf("after the slow ones: %+v", s)
	}
}

func TestForgeryFloodIsThrottled(t *testing.T) {
	r := newRig(t, nil)
	codes := map[int]int{}
	for i := 0; i < 30; i++ {
		status, _ := get(t, r.base+"/callback?code=x&state=kiosk1-forged")
		codes[status]++
	}
	if codes[404] != 20 || codes[429] != 10 {
		t.Fatalf("statuses %v", codes)
	}
}

type purgeCounter struct {
	VisitStore
	cutoffs chan time.Time
}

func (p purgeCounter) Purge(_ context.Context, cutoff time.Time) (int64, error) {
	p.cutoffs <- cutoff
	return 0, nil
}

func TestRetentionPurgesAtStart(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	pc := purgeCounter{cutoffs: make(chan time.Time, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go KeepFor(ctx, pc, 30, func() time.Time { return now }, quietLog())
	select {
	case c := <-pc.cutoffs:
		if !c.Equal(now.AddDate(0, 0, -30)) {
			t.Fatalf("cutoff %v", c)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no purge at start-up")
	}
}

func TestRetentionDeletesOldVisits(t *testing.T) {
	r := newRig(t, nil)
	r.visit(t, "Adult citizen", "allow", "")
	ctx, cancel := context.WithCancel(context.Background())
	go KeepFor(ctx, r.store, 30, func() time.Time { return time.Now().AddDate(0, 0, 31) }, quietLog())
	defer cancel()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if vs, _ := r.store.Visits(context.Background(), VisitFilter{}); len(vs) == 0 {
			return
		}
	}
	t.Fatal("a 31-day-old visit survived a 30-day retention")
}

// TestTLSSandboxMode runs a whole visit over HTTPS: the kiosk serves its
// callback and the sandbox with kiosk.tls_cert, and everything that calls
// it trusts that certificate.
func TestTLSSandboxMode(t *testing.T) {
	dir := t.TempDir()
	key, _ := pki.NewKey()
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	cert, _ := x509.ParseCertificate(der)
	os.WriteFile(filepath.Join(dir, "tls.crt"), pki.CertPEM(cert), 0o600)
	os.WriteFile(filepath.Join(dir, "tls.key"), pki.KeyPEM(key), 0o600)
	cfgFile := filepath.Join(dir, "kiosk.toml")
	os.WriteFile(cfgFile, []byte(`sandbox = true
[kiosk]
listen = "127.0.0.1:0"
data_dir = "data"
tls_cert = "tls.crt"
tls_key = "tls.key"
`), 0o600)
	cfg, err := config.Load(cfgFile)
	if err != nil {
		t.Fatal(err)
	}
	k, err := app.New(cfg, app.Options{Log: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	if !strings.HasPrefix(cfg.EffectiveVerify().CallbackURL, "https://") {
		t.Fatalf("callback %s", cfg.EffectiveVerify().CallbackURL)
	}
	go k.Run(context.Background())
	sb, engine := k.Identity.Sandbox, k.Engine
	for deadline := time.Now().Add(10 * time.Second); engine.Screen().Phase != PhaseQR && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	res, err := sb.ScanURL(context.Background(), engine.Screen().QR, personaID(t, "Adult citizen"), "allow", "")
	if err != nil || res.CallbackStatus != 200 || !strings.HasPrefix(res.CallbackURL, "https://") {
		t.Fatalf("scan over TLS: %+v %v", res, err)
	}
	for deadline := time.Now().Add(10 * time.Second); engine.Screen().Phase == PhaseChecking && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if s := engine.Screen(); s.Outcome != OutcomeEligible {
		t.Fatalf("visit over TLS: %+v", s)
	}
	// Plain HTTP is not served.
	if resp, err := http.Get("http://" + k.Addr() + "/healthz"); err == nil && resp.StatusCode == 200 {
		t.Fatal("plain HTTP answered on a TLS listener")
	}
}

// A TLS file that is missing stops the kiosk at start with one line that
// names the key, instead of a screen showing codes nobody can answer.
func TestMissingTLSFileStopsStart(t *testing.T) {
	dir := t.TempDir()
	keys, err := sandbox.LoadOrCreateKeys(filepath.Join(dir, "keys"), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	hash, _ := HashPIN("482916")
	cfgFile := filepath.Join(dir, "kiosk.toml")
	os.WriteFile(cfgFile, []byte(fmt.Sprintf(`[kiosk]
listen = "127.0.0.1:0"
data_dir = "data"
tls_cert = "gone.crt"
tls_key = "gone.key"
[admin]
pin_hash = %q
[verify]
environment = "test"
client_id = "c"
client_secret = "s"
private_key = %q
ndi_cert = %q
callback_url = "https://kiosk.example.sg/callback"
`, hash, keys.KioskKeyPath, keys.NDICertPath)), 0o600)
	cfg, err := config.Load(cfgFile)
	if err != nil {
		t.Fatal(err)
	}
	k, err := app.New(cfg, app.Options{Log: quietLog()})
	if err == nil {
		k.Close()
		t.Fatal("started without its TLS certificate")
	}
	if !strings.Contains(err.Error(), "kiosk.tls_cert") || !strings.Contains(err.Error(), "gone.crt") {
		t.Fatalf("error %q does not name the setting and the file", err)
	}
	// The data folder is free again for the next try.
	release, err := storage.Lock(filepath.Join(dir, "data"))
	if err != nil {
		t.Fatalf("the failed start kept the data folder: %v", err)
	}
	release()
}

// Five wrong PINs lock the pad, and a restart (a power cycle) does not
// give five more tries.
func TestPINLockSurvivesARestart(t *testing.T) {
	r := newRig(t, nil)
	for i := 0; i < 5; i++ {
		r.kiosk.PINLock.Check("0000")
	}
	if _, _, err := r.kiosk.PINLock.Check(config.SandboxPIN); !errors.Is(err, ErrLocked) {
		t.Fatalf("after five wrong PINs: %v", err)
	}
	r.kiosk.Close()
	conf := config.SandboxDefaults()
	conf.Kiosk.Listen, conf.Kiosk.DataDir = "127.0.0.1:0", r.dataDir
	k, err := app.New(conf, app.Options{Log: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	if _, until, err := k.PINLock.Check(config.SandboxPIN); !errors.Is(err, ErrLocked) || until.IsZero() {
		t.Fatalf("after a restart the right PIN opened a locked pad: %v", err)
	}
	// A damaged state file locks the pad rather than resetting it.
	k.Close()
	os.WriteFile(filepath.Join(r.dataDir, app.PINStateFile), []byte("{"), 0o600)
	if k, err = app.New(conf, app.Options{Log: quietLog()}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := k.PINLock.Check(config.SandboxPIN); !errors.Is(err, ErrLocked) {
		t.Fatalf("a damaged PIN state file gave fresh tries: %v", err)
	}
}

// Stopping the kiosk with a visit in flight drops the visit: the exchange
// cut short by the stop says nothing about Singpass, so no outage is
// logged.
func TestStopDropsTheVisitInFlight(t *testing.T) {
	r := newRig(t, nil)
	res, err := r.scan(personaID(t, "Adult citizen"), "allow", sandbox.FaultSlow)
	if err != nil || res.CallbackStatus != 200 {
		t.Fatalf("scan: %+v %v", res, err)
	}
	if err := r.kiosk.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := storage.Open(r.dataDir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	vs, err := db.Visits(context.Background(), VisitFilter{})
	if err != nil || len(vs) != 0 {
		t.Fatalf("after a stop mid-visit the log holds %+v (%v)", vs, err)
	}
}
