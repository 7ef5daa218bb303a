// Package remote is a kiosk's side of the hub: it connects out to the hub,
// renders the screens the kiosk's engine on the hub sends, and sends the
// visitor's taps back. It stands in for the engine behind the UI (it
// implements ui.Engine), so the screens are the same in both shapes. A
// kiosk in this shape holds no Singpass key and no visit data.
package remote

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image/jpeg"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"ndikiosk/hub"
	"ndikiosk/kiosk"
)

// File names in the kiosk's data folder.
const (
	CredentialFile = "hub-credential" // 0600: this kiosk's credential from its enrolment
	SettingsFile   = "hub-settings.json"
)

// Options set up a client.
type Options struct {
	URL        string       // the hub, https://hub.example.sg
	Token      string       // the enrolment token, for the first connection
	DataDir    string       // where the credential and the last settings are kept
	Version    string       // this kiosk's version, sent to the hub as User-Agent ndikiosk/VERSION; "" sends "ndikiosk/unknown"
	Camera     kiosk.Camera // this kiosk's camera (Face); may be nil
	HTTPClient *http.Client // nil: a client with a 15 s timeout
	Now        func() time.Time
	Log        *slog.Logger
	// Fallback are the settings used until the hub first answers (the
	// last ones it sent are kept in SettingsFile and used after that).
	Fallback hub.Settings
}

// Client is a kiosk connected to its hub.
type Client struct {
	o Options

	mu       sync.Mutex
	subs     []func(kiosk.Screen)
	screen   kiosk.Screen
	settings hub.Settings
	conn     *websocket.Conn
	replies  map[uint64]chan hub.Msg
	seq      uint64
	stopped  bool // OutOfService: nothing more is shown
	hello    chan struct{}
	helloed  bool
	watchdog *time.Timer
}

// New makes a client; Run connects it.
func New(o Options) (*Client, error) {
	if o.URL == "" {
		return nil, errors.New("[hub] url is missing")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 15 * time.Second}
	}
	c := &Client{o: o, settings: o.Fallback, replies: map[uint64]chan hub.Msg{}, hello: make(chan struct{})}
	if b, err := os.ReadFile(filepath.Join(o.DataDir, SettingsFile)); err == nil {
		var st hub.Settings
		if json.Unmarshal(b, &st) == nil {
			c.settings = st
		}
	}
	c.screen = kiosk.Screen{Phase: kiosk.PhaseStarting}
	return c, nil
}

// userAgent is what the kiosk tells the hub it runs: the dashboard's
// kiosks page shows it.
func (c *Client) userAgent() string {
	v := c.o.Version
	if v == "" {
		v = "unknown"
	}
	return "ndikiosk/" + v
}

// Settings are the hub's settings for this kiosk: the last ones it sent,
// or the fallback.
func (c *Client) Settings() hub.Settings {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.settings
}

// WaitHello waits up to d for the hub's first hello, so that the screens
// start with the hub's settings; false if it did not come.
func (c *Client) WaitHello(d time.Duration) bool {
	select {
	case <-c.hello:
		return true
	case <-time.After(d):
		return false
	}
}

// Subscribe registers fn for every screen, starting with the current one.
func (c *Client) Subscribe(fn func(kiosk.Screen)) {
	c.mu.Lock()
	c.subs = append(c.subs, fn)
	s := c.screen
	c.mu.Unlock()
	fn(s)
}

// Screen is the screen shown now.
func (c *Client) Screen() kiosk.Screen {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.screen
}

func (c *Client) publish(s kiosk.Screen) {
	c.mu.Lock()
	if c.stopped {
		c.mu.Unlock()
		return
	}
	s.Seq = c.screen.Seq + 1
	c.screen = s
	subs := append([]func(kiosk.Screen){}, c.subs...)
	c.armWatchdog(s)
	c.mu.Unlock()
	for _, fn := range subs {
		fn(s)
	}
}

// unavailable is the screen while the hub cannot be reached: the
// operator's alternative, and no code.
func (c *Client) unavailable() {
	c.mu.Lock()
	st := c.settings
	c.mu.Unlock()
	c.publish(kiosk.Screen{Phase: kiosk.PhaseUnavailable, Outcome: kiosk.OutcomeUnavailable, Contact: st.Contact,
		Alternative: st.Alternative, Local: st.Local, Message: "The kiosk cannot reach its hub."})
}

// staleAfter is how long past its replacement time a code may stay on
// screen with nothing new from the hub: then the hub is taken as gone.
const staleAfter = 20 * time.Second

// armWatchdog makes sure a code is never shown longer than it can be
// scanned: if the hub sends nothing by the time the code should have been
// replaced (plus staleAfter), the kiosk shows the unavailable screen and
// reconnects. c.mu is held.
func (c *Client) armWatchdog(s kiosk.Screen) {
	if c.watchdog != nil {
		c.watchdog.Stop()
		c.watchdog = nil
	}
	if s.Phase != kiosk.PhaseQR || s.NextQR.IsZero() {
		return
	}
	d := s.NextQR.Sub(c.o.Now()) + staleAfter
	seq := s.Seq
	c.watchdog = time.AfterFunc(d, func() {
		c.mu.Lock()
		stale := c.screen.Seq == seq
		conn := c.conn
		c.mu.Unlock()
		if stale {
			c.o.Log.Warn("the hub sent no new code in time: showing the alternative and reconnecting")
			c.unavailable()
			if conn != nil {
				conn.Close(websocket.StatusGoingAway, "no new code from the hub")
			}
		}
	})
}

// Run connects to the hub and keeps connecting until ctx ends, backing
// off with jitter between attempts.
func (c *Client) Run(ctx context.Context) error {
	backoff := 250 * time.Millisecond
	for ctx.Err() == nil {
		connected, err := c.session(ctx)
		if ctx.Err() != nil {
			break
		}
		if connected {
			backoff = 250 * time.Millisecond
		}
		wait := backoff
		var refused *refusedError
		if errors.As(err, &refused) {
			wait = 30 * time.Second // an operator must act: don't hammer the hub
		}
		c.o.Log.Warn("hub connection", "error", err.Error(), "retry_in", wait.String())
		c.unavailable()
		select {
		case <-ctx.Done():
		case <-time.After(jitter(wait)):
		}
		backoff = min(2*backoff, 4*time.Second)
	}
	c.mu.Lock()
	if c.watchdog != nil {
		c.watchdog.Stop()
	}
	c.mu.Unlock()
	return nil
}

// jitter spreads d over [d/2, 3d/2), so that a fleet that lost its hub
// does not come back all at once.
func jitter(d time.Duration) time.Duration {
	return d/2 + time.Duration(rand.Int64N(int64(d)))
}

type refusedError struct{ msg string }

func (e *refusedError) Error() string { return e.msg }

// session connects once and serves the channel until it closes; it
// reports whether it got connected.
func (c *Client) session(ctx context.Context) (bool, error) {
	cred, err := c.credential(ctx)
	if err != nil {
		return false, err
	}
	h := http.Header{}
	h.Set("Authorization", "Bearer "+cred)
	h.Set("User-Agent", c.userAgent())
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	conn, resp, err := websocket.Dial(dctx, strings.TrimRight(c.o.URL, "/")+hub.ConnectPath,
		&websocket.DialOptions{HTTPClient: c.o.HTTPClient, HTTPHeader: h})
	cancel()
	if err != nil {
		if resp != nil && resp.StatusCode == http.StatusUnauthorized {
			// Revoked, or re-enrolled elsewhere: a new token in the config
			// is tried next time.
			os.Remove(filepath.Join(c.o.DataDir, CredentialFile))
			if c.o.Token != "" {
				// The token in the config is tried at once: after a
				// re-enrolment it is the operator's new one (a used one is
				// refused, and then the kiosk waits).
				return false, errors.New("the hub refused this kiosk's credential (revoked?): trying the token in [hub] token")
			}
			return false, &refusedError{"the hub refused this kiosk's credential (revoked?): enrol it again with `ndikiosk hub enrol` and put the new token in [hub] token"}
		}
		return false, fmt.Errorf("connect to %s: %w", c.o.URL, err)
	}
	conn.SetReadLimit(1 << 20)
	c.mu.Lock()
	c.conn = conn
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.conn = nil
		for seq, ch := range c.replies {
			close(ch)
			delete(c.replies, seq)
		}
		c.mu.Unlock()
		conn.Close(websocket.StatusNormalClosure, "")
	}()
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	go c.ping(sctx, conn)
	for {
		_, b, err := conn.Read(sctx)
		if err != nil {
			return true, fmt.Errorf("the hub connection closed: %w", err)
		}
		var m hub.Msg
		if json.Unmarshal(b, &m) != nil {
			continue
		}
		c.handle(sctx, m)
	}
}

// ping finds a hub that went away without closing the connection (a
// replica killed behind a load balancer, a network that dropped).
func (c *Client) ping(ctx context.Context, conn *websocket.Conn) {
	t := time.NewTicker(4 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			pctx, cancel := context.WithTimeout(ctx, 4*time.Second)
			err := conn.Ping(pctx)
			cancel()
			if err != nil && ctx.Err() == nil {
				conn.Close(websocket.StatusGoingAway, "the hub does not answer")
				return
			}
		}
	}
}

func (c *Client) handle(ctx context.Context, m hub.Msg) {
	switch m.Type {
	case hub.MsgHello:
		if m.Settings == nil {
			return
		}
		c.mu.Lock()
		c.settings = *m.Settings
		first := !c.helloed
		c.helloed = true
		c.mu.Unlock()
		if b, err := json.Marshal(m.Settings); err == nil {
			writeFile(filepath.Join(c.o.DataDir, SettingsFile), b, 0o600)
		}
		if first {
			close(c.hello)
		}
	case hub.MsgScreen:
		if m.Screen != nil {
			c.publish(*m.Screen)
		}
	case hub.MsgReply:
		c.mu.Lock()
		ch := c.replies[m.Seq]
		delete(c.replies, m.Seq)
		c.mu.Unlock()
		if ch != nil {
			ch <- m
		}
	case hub.MsgFrame:
		go c.still(ctx, m.Seq)
	}
}

// still answers the hub's request for a photo with one from the camera.
func (c *Client) still(ctx context.Context, seq uint64) {
	reply := hub.Msg{Type: hub.MsgStill, Seq: seq}
	cam := c.Camera()
	if cam == nil {
		reply.Error = "this kiosk has no camera"
	} else if img, err := cam.Frame(ctx); err != nil {
		reply.Error = err.Error()
	} else {
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
			reply.Error = err.Error()
		}
		reply.JPEG = buf.Bytes()
	}
	c.send(reply)
}

func (c *Client) send(m hub.Msg) error {
	c.mu.Lock()
	conn := c.conn
	c.mu.Unlock()
	if conn == nil {
		return errors.New("not connected to the hub")
	}
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return conn.Write(ctx, websocket.MessageText, b)
}

// Cancel abandons the current visit.
func (c *Client) Cancel() { c.send(hub.Msg{Type: hub.MsgCancel}) }

// Dismiss closes the result on show at the visitor's tap.
func (c *Client) Dismiss() { c.send(hub.Msg{Type: hub.MsgDismiss}) }

// CheckOut answers "Check out now?".
func (c *Client) CheckOut(yes bool) { c.send(hub.Msg{Type: hub.MsgCheckOut, Yes: yes}) }

// NoSingpass asks the hub to call staff to this kiosk (its dashboard's
// alerts) and reports whether it is connected to ask. The UI's tap does
// not wait for the write.
func (c *Client) NoSingpass() bool {
	if !c.Connected() {
		return false
	}
	go c.send(hub.Msg{Type: hub.MsgNoSingpass})
	return true
}

// FaceRetry starts another Face attempt.
func (c *Client) FaceRetry() { c.send(hub.Msg{Type: hub.MsgFaceRetry}) }

// Pause asks the hub to retire the codes while staff use the kiosk; the
// code on screen is wiped here at once.
func (c *Client) Pause() {
	c.send(hub.Msg{Type: hub.MsgPause})
	c.publish(kiosk.Screen{Phase: kiosk.PhasePaused})
}

// Resume asks for a fresh code.
func (c *Client) Resume() { c.send(hub.Msg{Type: hub.MsgResume}) }

// Camera is this kiosk's camera, for the Face preview.
func (c *Client) Camera() kiosk.Camera {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.o.Camera
}

// SetCamera sets the camera once the hub has said whether it uses Face.
func (c *Client) SetCamera(cam kiosk.Camera) {
	c.mu.Lock()
	c.o.Camera = cam
	c.mu.Unlock()
}

// OutOfService shows the unavailable screen for good.
func (c *Client) OutOfService() {
	c.unavailable()
	c.mu.Lock()
	c.stopped = true
	c.mu.Unlock()
}

// Confirm sends the visitor's host and purpose and waits for the hub's
// answer.
func (c *Client) Confirm(host, purpose string) error {
	c.mu.Lock()
	c.seq++
	seq := c.seq
	ch := make(chan hub.Msg, 1)
	c.replies[seq] = ch
	c.mu.Unlock()
	if err := c.send(hub.Msg{Type: hub.MsgConfirm, Seq: seq, Host: host, Purpose: purpose}); err != nil {
		c.mu.Lock()
		delete(c.replies, seq)
		c.mu.Unlock()
		return err
	}
	select {
	case m, ok := <-ch:
		if !ok {
			return errors.New("the hub connection closed")
		}
		return hub.ConfirmError(m.Error)
	case <-time.After(15 * time.Second):
		c.mu.Lock()
		delete(c.replies, seq)
		c.mu.Unlock()
		return errors.New("the hub did not answer")
	}
}

// credential is this kiosk's credential: kept from its enrolment, or got
// now with the enrolment token.
func (c *Client) credential(ctx context.Context) (string, error) {
	path := filepath.Join(c.o.DataDir, CredentialFile)
	if b, err := os.ReadFile(path); err == nil && len(bytes.TrimSpace(b)) > 0 {
		return string(bytes.TrimSpace(b)), nil
	}
	if c.o.Token == "" {
		return "", &refusedError{"this kiosk is not enrolled: make a token with `ndikiosk hub enrol --kiosk ID` and put it in [hub] token (or NDIKIOSK_HUB_TOKEN)"}
	}
	body, _ := json.Marshal(map[string]string{"token": c.o.Token})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(c.o.URL, "/")+hub.EnrolPath, bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", c.userAgent())
	resp, err := c.o.HTTPClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("enrol with %s: %w", c.o.URL, err)
	}
	defer resp.Body.Close()
	var out struct {
		KioskID    string `json:"kiosk_id"`
		Credential string `json:"credential"`
		Error      string `json:"error"`
	}
	json.NewDecoder(http.MaxBytesReader(nil, resp.Body, 16<<10)).Decode(&out)
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		return "", &refusedError{"the hub refused the enrolment token: " + out.Error}
	case resp.StatusCode != http.StatusOK || out.Credential == "":
		return "", fmt.Errorf("enrol with %s: HTTP %d %s", c.o.URL, resp.StatusCode, out.Error)
	}
	if err := writeFile(path, []byte(out.Credential+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("keep the hub credential: %w", err)
	}
	c.o.Log.Info("enrolled with the hub", "kiosk", out.KioskID)
	return out.Credential, nil
}

// writeFile writes through a temporary file and a rename, so that a crash
// leaves the old file or the new one.
func writeFile(path string, b []byte, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp := path + ".new"
	if err := os.WriteFile(tmp, b, mode); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// Connected reports whether the channel to the hub is open now.
func (c *Client) Connected() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.conn != nil
}

// Health is the kiosk's /healthz in this shape: on this machine only it
// says whether the hub is connected and what the screen shows.
func (c *Client) Health(version string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := map[string]any{"status": "ok", "version": version, "role": "kiosk"}
		if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
			if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
				h["hub"] = map[bool]string{true: "connected", false: "disconnected"}[c.Connected()]
				h["phase"] = c.Screen().Phase.String()
				h["kiosk_id"] = c.Settings().KioskID
			}
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		json.NewEncoder(w).Encode(h)
	})
}
