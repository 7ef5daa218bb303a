package kiosk

import (
	"context"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

const pinIterations = 210_000

// HashPIN makes the salted hash that goes into admin.pin_hash:
// pbkdf2-sha256$ITERATIONS$SALT$HASH (base64).
func HashPIN(pin string) (string, error) {
	if len(pin) < 4 || len(pin) > 12 || strings.Trim(pin, "0123456789") != "" {
		return "", errors.New("a PIN is 4 to 12 digits")
	}
	salt := make([]byte, 16)
	rand.Read(salt)
	key, err := pbkdf2.Key(sha256.New, pin, salt, pinIterations, 32)
	if err != nil {
		return "", err
	}
	enc := base64.RawStdEncoding
	return fmt.Sprintf("pbkdf2-sha256$%d$%s$%s", pinIterations, enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// pinHash is a parsed admin.pin_hash.
type pinHash struct {
	iterations int
	salt, key  []byte
}

// ParsePINHash checks the form of a pin_hash value.
func ParsePINHash(s string) (pinHash, error) {
	parts := strings.Split(s, "$")
	bad := errors.New("admin.pin_hash is not a hash made by `ndikiosk hash-pin`")
	if len(parts) != 4 || parts[0] != "pbkdf2-sha256" {
		return pinHash{}, bad
	}
	n, err := strconv.Atoi(parts[1])
	if err != nil || n < 10_000 {
		return pinHash{}, bad
	}
	enc := base64.RawStdEncoding
	salt, err1 := enc.DecodeString(parts[2])
	key, err2 := enc.DecodeString(parts[3])
	if err1 != nil || err2 != nil || len(salt) < 8 || len(key) != 32 {
		return pinHash{}, bad
	}
	return pinHash{iterations: n, salt: salt, key: key}, nil
}

// ErrLocked is returned while the PIN pad is locked after wrong tries.
var ErrLocked = errors.New("locked after too many wrong PINs")

// ErrWrongPIN is returned for a wrong PIN.
var ErrWrongPIN = errors.New("wrong PIN")

// PINLock checks admin PINs and locks after MaxTries wrong ones in a row.
type PINLock struct {
	hash     pinHash
	maxTries int
	lockFor  time.Duration
	now      func() time.Time

	mu          sync.Mutex
	wrong       int
	lockedUntil time.Time
	file        string // where the count and the lock survive a restart; "" keeps them in memory
}

// pinState is what PersistTo keeps on disk.
type pinState struct {
	Wrong       int       `json:"wrong"`
	LockedUntil time.Time `json:"locked_until"`
}

// PersistTo keeps the count of wrong PINs and the lock in file, so that a
// power cycle does not give five more tries. A file that cannot be read
// locks the pad for one lock period: whoever removed or damaged it gains
// nothing.
func (l *PINLock) PersistTo(file string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.file = file
	b, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	var st pinState
	if err == nil {
		err = json.Unmarshal(b, &st)
	}
	if err != nil || st.Wrong < 0 || st.Wrong >= l.maxTries || st.LockedUntil.After(l.now().Add(l.lockFor)) {
		l.wrong, l.lockedUntil = 0, l.now().Add(l.lockFor)
		l.save()
		return fmt.Errorf("admin PIN state %s was unreadable: the pad is locked for %s", file, l.lockFor)
	}
	l.wrong, l.lockedUntil = st.Wrong, st.LockedUntil
	return nil
}

// save writes the state; l.mu is held. A failed write is not fatal: the
// lock still holds in memory.
func (l *PINLock) save() {
	if l.file == "" {
		return
	}
	b, _ := json.Marshal(pinState{Wrong: l.wrong, LockedUntil: l.lockedUntil})
	tmp := l.file + ".tmp"
	if os.WriteFile(tmp, b, 0o600) == nil {
		os.Rename(tmp, l.file)
	}
}

// NewPINLock returns a lock for a pin_hash that locks for lockFor after
// maxTries wrong PINs in a row.
func NewPINLock(hash string, maxTries int, lockFor time.Duration, now func() time.Time) (*PINLock, error) {
	h, err := ParsePINHash(hash)
	if err != nil {
		return nil, err
	}
	if maxTries <= 0 || lockFor <= 0 {
		return nil, errors.New("the PIN lock needs a number of tries and a lock time")
	}
	if now == nil {
		now = time.Now
	}
	return &PINLock{hash: h, maxTries: maxTries, lockFor: lockFor, now: now}, nil
}

// LockedUntil is when a locked pad opens again; zero when it is open.
func (l *PINLock) LockedUntil() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.now().Before(l.lockedUntil) {
		return l.lockedUntil
	}
	return time.Time{}
}

// Check tries a PIN. It returns nil, ErrWrongPIN (with tries left) or
// ErrLocked (with when it opens again).
func (l *PINLock) Check(pin string) (triesLeft int, lockedUntil time.Time, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if now.Before(l.lockedUntil) {
		return 0, l.lockedUntil, ErrLocked
	}
	key, err := pbkdf2.Key(sha256.New, pin, l.hash.salt, l.hash.iterations, len(l.hash.key))
	defer l.save()
	if err == nil && subtle.ConstantTimeCompare(key, l.hash.key) == 1 {
		l.wrong = 0
		return l.maxTries, time.Time{}, nil
	}
	l.wrong++
	if l.wrong >= l.maxTries {
		l.wrong = 0
		l.lockedUntil = now.Add(l.lockFor)
		return 0, l.lockedUntil, ErrLocked
	}
	return l.maxTries - l.wrong, time.Time{}, ErrWrongPIN
}

// Status is what the admin status page shows.
type Status struct {
	Version       string
	Mode          string
	Sandbox       bool
	Listen        string
	CallbackURL   string
	DataDir       string
	DatabaseBytes int64
	Endpoints     []Endpoint
}

// Endpoint is one NDI endpoint's health.
type Endpoint struct {
	Name, URL string
	// Want is the HTTP status a healthy endpoint answers a plain GET
	// with; 0: any answer under 500 (token and person APIs refuse a bare
	// GET with 401, 404 or 405, which still shows the server is there).
	Want      int
	Reachable bool
	Healthy   bool
	Code      int    // the HTTP status; 0 without an answer
	Detail    string // what the answer means, in words a venue operator reads
}

// Probe asks each endpoint for anything at all and says in words what the
// answer means.
func Probe(ctx context.Context, client *http.Client, eps []Endpoint) []Endpoint {
	out := make([]Endpoint, len(eps))
	var wg sync.WaitGroup
	for i, ep := range eps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ep.Reachable, ep.Healthy, ep.Code = false, false, 0
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, ep.URL, nil)
			if err == nil {
				var resp *http.Response
				if resp, err = client.Do(req); err == nil {
					io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
					resp.Body.Close()
					ep.Reachable, ep.Code = true, resp.StatusCode
				}
			}
			ep.Healthy, ep.Detail = describe(ep, err)
			out[i] = ep
		}()
	}
	wg.Wait()
	return out
}

// describe says what a probe's answer (code) or error means and whether
// the endpoint looks healthy.
func describe(ep Endpoint, err error) (bool, string) {
	var dns *net.DNSError
	var unknownCA x509.UnknownAuthorityError
	var invalid x509.CertificateInvalidError
	var hostname x509.HostnameError
	code := ep.Code
	switch {
	case err == nil && ep.Want != 0 && code == ep.Want, err == nil && ep.Want == 0 && code < 300:
		return true, "OK: it answers"
	case err == nil && ep.Want == 0 && code < 500:
		// A token or person API takes only the kiosk's signed POSTs: its
		// "not found" or "not allowed" to a plain visit proves the server
		// and the way to it work, not that the path is right.
		return true, fmt.Sprintf("OK: the server answers (it refuses a plain visit with HTTP %d, as expected; "+
			"a wrong path in the config would show up as failed checks, not here)", code)
	case err == nil && code >= 500:
		return false, fmt.Sprintf("FAULT: the server answers but reports a fault of its own (HTTP %d); "+
			"visitors may see \"unavailable\" until it is fixed", code)
	case err == nil:
		return false, fmt.Sprintf("WRONG ANSWER: HTTP %d where %d was expected; check the address in the config", code, ep.Want)
	case errors.As(err, &dns):
		return false, "NOT REACHABLE: the name " + dns.Name + " cannot be looked up; check this machine's internet connection and DNS"
	case errors.Is(err, syscall.ECONNREFUSED):
		return false, "NOT REACHABLE: nothing answers at this address (connection refused)"
	case errors.As(err, &unknownCA), errors.As(err, &invalid), errors.As(err, &hostname):
		return false, "NOT TRUSTED: its certificate was refused; check this machine's date and time, or a proxy that intercepts HTTPS"
	case errors.Is(err, context.DeadlineExceeded), isTimeout(err):
		return false, "NOT REACHABLE: no answer in time; check the network, a proxy or a firewall"
	}
	return false, "NOT REACHABLE: " + err.Error()
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// Admin is what the admin screens may do: read and export the log, check
// visitors out, delete visits, see the status, and quit.
type Admin struct {
	Mode     string // ModeAge or ModeVisitor: what the visits list shows
	Store    VisitStore
	Now      func() time.Time                          // the kiosk's clock: what "today" is
	CheckOut func(ctx context.Context, id int64) error // staff check-out (Engine.StaffCheckOut)
	Lock     *PINLock
	Status   func(ctx context.Context) Status
	Export   func(ctx context.Context, w io.Writer, f VisitFilter) error
	Quit     func()
}

// Today is midnight in Singapore today.
func (a *Admin) Today() time.Time { return startOfDay(a.Now()) }

// DeleteAll removes every visit logged so far.
func (a *Admin) DeleteAll(ctx context.Context) (int64, error) {
	return a.Store.Purge(ctx, a.Now().Add(time.Millisecond))
}
