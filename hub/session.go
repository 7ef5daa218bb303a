package hub

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"image"
	"image/jpeg"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"ndikiosk/kiosk"
)

// Channel limits: a message is a screen or a tap, except a Face still.
const (
	maxMessage   = 4 << 20
	writeTimeout = 10 * time.Second
	pingEvery    = 15 * time.Second
)

// session is one connected kiosk: its channel and the engine that runs
// its screens.
type session struct {
	h      *Hub
	id     string
	conn   *websocket.Conn
	engine *kiosk.Engine
	ctx    context.Context
	cancel context.CancelFunc
	since  time.Time // when it connected
	agent  string    // the kiosk's version, as its client says (User-Agent)

	mu      sync.Mutex
	screen  *kiosk.Screen // the newest screen not yet sent
	queue   []Msg         // replies and still requests, in order
	wake    chan struct{}
	stills  map[uint64]chan Msg
	nextSeq uint64
}

func bearer(r *http.Request) string {
	a := r.Header.Get("Authorization")
	if t, ok := strings.CutPrefix(a, "Bearer "); ok {
		return strings.TrimSpace(t)
	}
	return ""
}

// connect is a kiosk's channel: authenticated by its credential, then
// served until either side goes.
func (h *Hub) connect(w http.ResponseWriter, r *http.Request) {
	id, err := h.reg.Authenticate(r.Context(), bearer(r))
	if errors.Is(err, ErrRefused) {
		h.log.Warn("kiosk connection refused: unknown or revoked credential")
		http.Error(w, "unknown or revoked kiosk credential", http.StatusUnauthorized)
		return
	}
	if err != nil {
		h.log.Error("kiosk connection: registry unavailable", "error", err.Error())
		http.Error(w, "the hub cannot check kiosks now", http.StatusServiceUnavailable)
		return
	}
	o, err := h.reg.Overrides(r.Context(), id)
	if err != nil {
		http.Error(w, "the hub cannot read this kiosk's settings now", http.StatusServiceUnavailable)
		return
	}
	conn, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	conn.SetReadLimit(maxMessage)
	ctx, cancel := context.WithCancel(context.Background())
	s := &session{h: h, id: id, conn: conn, ctx: ctx, cancel: cancel, wake: make(chan struct{}, 1), stills: map[uint64]chan Msg{},
		since: time.Now(), agent: r.Header.Get("User-Agent")}
	st := h.settings(id, o)
	var cam kiosk.Camera
	if st.Face {
		cam = remoteCamera{s}
	}
	onQR := func(string) {}
	if h.cfg.Sandbox != nil {
		onQR = h.cfg.Sandbox.Show
	}
	// The engine exists before the session is published: a callback or a
	// sandbox scan that finds the session (h.local) finds its engine.
	s.engine, err = h.newEngine(ctx, id, o, cam, onQR)
	if err != nil {
		cancel()
		h.log.Error("kiosk engine", "kiosk", id, "error", err.Error())
		conn.Close(websocket.StatusInternalError, "the hub cannot run this kiosk: "+err.Error())
		return
	}
	if !h.adopt(s) {
		s.engine.Close()
		cancel()
		conn.Close(websocket.StatusGoingAway, "the hub is stopping")
		return
	}
	defer h.drop(s)
	defer s.engine.Close() // before drop: Hub.Close waits for the engines to stop
	h.log.Info("kiosk connected", "kiosk", id)
	s.send(Msg{Type: MsgHello, Settings: &st})
	go s.writeLoop()
	s.engine.Subscribe(s.push)
	go s.engine.Run()
	go s.pingLoop()
	s.readLoop()
	h.log.Info("kiosk disconnected", "kiosk", id)
}

// adopt registers s as its kiosk's session; one that was there before (a
// kiosk that reconnected before the hub noticed it had gone) is closed.
func (h *Hub) adopt(s *session) bool {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return false
	}
	old := h.sessions[s.id]
	h.sessions[s.id] = s
	h.wg.Add(1)
	h.mu.Unlock()
	if old != nil {
		old.close()
	}
	return true
}

func (h *Hub) drop(s *session) {
	s.close()
	h.mu.Lock()
	if h.sessions[s.id] == s {
		delete(h.sessions, s.id)
	}
	h.mu.Unlock()
	h.wg.Done()
}

// settings are the hub's defaults with the kiosk's overrides.
func (h *Hub) settings(id string, o Overrides) Settings {
	st := h.cfg.Defaults
	st.KioskID = id
	if o.MinAge != 0 {
		st.MinAge = o.MinAge
	}
	if o.Venue != "" {
		st.Venue = o.Venue
	}
	if o.Language != "" {
		st.Language = o.Language
	}
	return st
}

func (s *session) close() {
	s.cancel()
	s.conn.Close(websocket.StatusGoingAway, "closed by the hub")
}

// push keeps the newest screen for the writer: a kiosk that falls behind
// skips screens, never shows an old one.
func (s *session) push(sc kiosk.Screen) {
	s.mu.Lock()
	s.screen = &sc
	s.mu.Unlock()
	s.poke()
}

func (s *session) send(m Msg) {
	s.mu.Lock()
	s.queue = append(s.queue, m)
	s.mu.Unlock()
	s.poke()
}

func (s *session) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *session) writeLoop() {
	defer s.close()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-s.wake:
		}
		s.mu.Lock()
		queue, sc := s.queue, s.screen
		s.queue, s.screen = nil, nil
		s.mu.Unlock()
		if sc != nil {
			queue = append(queue, Msg{Type: MsgScreen, Screen: sc})
		}
		for _, m := range queue {
			if err := s.write(m); err != nil {
				return
			}
		}
	}
}

func (s *session) write(m Msg) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(s.ctx, writeTimeout)
	defer cancel()
	return s.conn.Write(ctx, websocket.MessageText, b)
}

func (s *session) pingLoop() {
	t := time.NewTicker(pingEvery)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(s.ctx, writeTimeout)
			err := s.conn.Ping(ctx)
			// A revocation whose notification this replica missed (its
			// listening connection was down) is caught here.
			live, lerr := s.h.reg.Live(ctx, s.id)
			cancel()
			if err != nil || (lerr == nil && !live) {
				s.close()
				return
			}
		}
	}
}

// readLoop takes the kiosk's taps until the channel closes.
func (s *session) readLoop() {
	for {
		_, b, err := s.conn.Read(s.ctx)
		if err != nil {
			return
		}
		var m Msg
		if json.Unmarshal(b, &m) != nil {
			s.h.log.Warn("kiosk sent an unreadable message", "kiosk", s.id)
			continue
		}
		s.handle(m)
	}
}

func (s *session) handle(m Msg) {
	e := s.engine
	switch m.Type {
	case MsgCancel:
		e.Cancel()
	case MsgConfirm:
		// Confirm waits for the visit log: not on the read loop, so that a
		// slow database does not stop the kiosk's other taps.
		go func() {
			err := e.Confirm(m.Host, m.Purpose)
			s.send(Msg{Type: MsgReply, Seq: m.Seq, Error: confirmErrorName(err)})
		}()
	case MsgDismiss:
		e.Dismiss()
	case MsgCheckOut:
		// Writes the check-out: not on the read loop.
		go e.CheckOut(m.Yes)
	case MsgFaceRetry:
		e.FaceRetry()
	case MsgPause:
		e.Pause()
	case MsgResume:
		e.Resume()
	case MsgNoSingpass:
		e.NoSingpass()
	case MsgStill:
		s.mu.Lock()
		ch := s.stills[m.Seq]
		delete(s.stills, m.Seq)
		s.mu.Unlock()
		if ch != nil {
			ch <- m
		}
	default:
		s.h.log.Warn("kiosk sent an unknown message", "kiosk", s.id, "type", m.Type)
	}
}

// remoteCamera is the Face step's camera on the hub: each frame is a still
// the kiosk takes with its own camera when asked.
type remoteCamera struct{ s *session }

func (c remoteCamera) Frame(ctx context.Context) (image.Image, error) {
	s := c.s
	ch := make(chan Msg, 1)
	s.mu.Lock()
	s.nextSeq++
	seq := s.nextSeq
	s.stills[seq] = ch
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.stills, seq)
		s.mu.Unlock()
	}()
	s.send(Msg{Type: MsgFrame, Seq: seq})
	select {
	case m := <-ch:
		if m.Error != "" {
			return nil, errors.New("the kiosk's camera: " + m.Error)
		}
		return jpeg.Decode(bytes.NewReader(m.JPEG))
	case <-ctx.Done():
		return nil, errors.New("the kiosk sent no still in time")
	case <-s.ctx.Done():
		return nil, errors.New("the kiosk disconnected")
	}
}

func (c remoteCamera) Close() error { return nil }
