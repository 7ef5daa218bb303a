package hub

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"ndikiosk/kiosk"
)

// Config is the hub's setup, made by package app from the hub's config
// file and its Singpass identity.
type Config struct {
	CallbackPath   string
	JWKSPath       string // FAPI: the hub's public keys
	JWKS           []byte
	Version        string
	TrustedProxies []netip.Prefix
	Sandbox        Sandbox // the embedded Singpass sandbox; nil outside sandbox mode
	SandboxPrefix  string
	Defaults       Settings // every kiosk's settings unless its row overrides them
	// Routes are further public routes by pattern: the signing step's
	// JWKS and the page a phone returns to after signing.
	Routes map[string]http.Handler
}

// Sandbox is the embedded Singpass sandbox as the hub uses it: its routes,
// and a scan of a given code (what the sandbox's phone does for the kiosk
// named in POST /sandbox/scan).
type Sandbox interface {
	http.Handler
	Show(qrURL string)
}

// EngineFactory builds the engine for a kiosk that connected: its id, its
// overrides, the camera that asks the kiosk for stills (nil without Face),
// and what to tell of each code it shows (the sandbox's camera).
type EngineFactory func(ctx context.Context, kioskID string, o Overrides, cam kiosk.Camera, onQR func(string)) (*kiosk.Engine, error)

// Hub serves the fleet: kiosks connect to it, one engine runs here for
// each, and Singpass's callbacks (or the phone's FAPI redirects) reach the
// engine that issued the code, on this replica or, through the relay, on
// another.
type Hub struct {
	cfg       Config
	reg       *Registry
	newEngine EngineFactory
	relay     *Relay // nil: one hub, no replicas
	log       *slog.Logger

	mu       sync.Mutex
	sessions map[string]*session
	closed   bool
	wg       sync.WaitGroup
}

// New makes a hub. relay may be nil (a single hub).
func New(cfg Config, reg *Registry, newEngine EngineFactory, relay *Relay, log *slog.Logger) *Hub {
	if log == nil {
		log = slog.Default()
	}
	h := &Hub{cfg: cfg, reg: reg, newEngine: newEngine, relay: relay, log: log, sessions: map[string]*session{}}
	if relay != nil {
		relay.serve(h)
	}
	return h
}

// Handler is the hub's HTTP routes: the public ones (callback, JWKS,
// /healthz, the sandbox in sandbox mode) and the kiosks' (enrol, connect).
func (h *Hub) Handler() http.Handler {
	sc := kiosk.ServerConfig{CallbackPath: h.cfg.CallbackPath, Version: h.cfg.Version, JWKSPath: h.cfg.JWKSPath,
		JWKS: h.cfg.JWKS, TrustedProxies: h.cfg.TrustedProxies, Routes: h.cfg.Routes}
	if h.cfg.Sandbox != nil {
		sc.Sandbox, sc.SandboxPrefix = h.sandboxScan(h.cfg.Sandbox), h.cfg.SandboxPrefix
	}
	mux := http.NewServeMux()
	mux.Handle("/", kiosk.NewRoutes(h, h.health, sc))
	mux.HandleFunc("POST "+EnrolPath, h.enrol)
	mux.HandleFunc("GET "+ConnectPath, h.connect)
	return mux
}

func (h *Hub) health(local bool) map[string]any {
	m := map[string]any{"status": "ok", "version": h.cfg.Version, "role": "hub"}
	if local {
		h.mu.Lock()
		m["kiosks_connected"] = len(h.sessions)
		h.mu.Unlock()
	}
	return m
}

// kioskOf is the kiosk a code's state belongs to: states are
// KIOSKID-NONCE (kiosk.Engine.newState).
func kioskOf(state string) string {
	i := strings.LastIndexByte(state, '-')
	if i <= 0 {
		return ""
	}
	return state[:i]
}

func (h *Hub) local(kioskID string) *session {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.sessions[kioskID]
}

// Engine is the engine serving kiosk id on this replica; nil when the
// kiosk is not connected here.
func (h *Hub) Engine(id string) *kiosk.Engine {
	if s := h.local(id); s != nil {
		return s.engine
	}
	return nil
}

// Awaits reports whether a kiosk on this replica awaits state.
func (h *Hub) Awaits(state string) bool {
	s := h.local(kioskOf(state))
	return s != nil && s.engine.Awaits(state)
}

// Callback hands a callback to the engine that issued its code: here, or
// on the replica its kiosk is connected to.
func (h *Hub) Callback(q url.Values) kiosk.Verdict {
	id := kioskOf(kiosk.CallbackState(q))
	if id == "" {
		return kiosk.Verdict{Status: http.StatusBadRequest, Message: "This link is not valid."}
	}
	if s := h.local(id); s != nil {
		return s.engine.Callback(q)
	}
	if h.relay != nil {
		ctx, cancel := context.WithTimeout(context.Background(), relayWait)
		defer cancel()
		if v, ok := h.relay.forward(ctx, id, q); ok {
			return v
		}
	}
	return kiosk.Verdict{Status: http.StatusNotFound, Message: "This code is no longer valid. Please scan the code on the kiosk screen again."}
}

// sandboxScan wraps the sandbox so that POST /sandbox/scan with kiosk=ID
// scans the code that kiosk shows now.
func (h *Hub) sandboxScan(sb Sandbox) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == h.cfg.SandboxPrefix+"/scan" {
			r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
			if err := r.ParseForm(); err == nil && r.PostForm.Get("kiosk") != "" && r.PostForm.Get("qr") == "" {
				s := h.local(r.PostForm.Get("kiosk"))
				if s == nil {
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(http.StatusConflict)
					json.NewEncoder(w).Encode(map[string]string{"error": "no kiosk " + r.PostForm.Get("kiosk") + " is connected to this hub"})
					return
				}
				r.PostForm.Set("qr", s.engine.Screen().QR)
			}
		}
		sb.ServeHTTP(w, r)
	})
}

// enrol trades an enrolment token for the kiosk's credential.
func (h *Hub) enrol(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	var req struct {
		Token string `json:"token"`
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]string{"error": "send {\"token\": \"ndk-enrol-…\"}"})
		return
	}
	id, cred, err := h.reg.Redeem(r.Context(), req.Token)
	switch {
	case errors.Is(err, ErrRefused):
		h.log.Warn("enrolment refused")
		w.WriteHeader(http.StatusUnauthorized)
		json.NewEncoder(w).Encode(map[string]string{"error": "this enrolment token is not valid: it may be used, expired or revoked; make a new one with `ndikiosk hub enrol`"})
		return
	case err != nil:
		h.log.Error("enrolment failed", "error", err.Error())
		w.WriteHeader(http.StatusServiceUnavailable)
		json.NewEncoder(w).Encode(map[string]string{"error": "the hub cannot enrol kiosks now; try again"})
		return
	}
	h.log.Info("kiosk enrolled", "kiosk", id)
	json.NewEncoder(w).Encode(map[string]string{"kiosk_id": id, "credential": cred})
}

// Revoked closes kiosk id's session on this replica, if it has one.
func (h *Hub) Revoked(id string) {
	if s := h.local(id); s != nil {
		h.log.Info("kiosk revoked: disconnecting it", "kiosk", id)
		s.close()
	}
}

// Close disconnects every kiosk and stops their engines.
func (h *Hub) Close() {
	h.mu.Lock()
	h.closed = true
	var all []*session
	for _, s := range h.sessions {
		all = append(all, s)
	}
	h.mu.Unlock()
	for _, s := range all {
		s.close()
	}
	h.wg.Wait()
	if h.relay != nil {
		h.relay.Close()
	}
}

// Connected lists the kiosks connected to this replica.
func (h *Hub) Connected() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for id := range h.sessions {
		out = append(out, id)
	}
	return out
}

// relayWait is how long a replica waits for the one that holds a kiosk to
// answer a forwarded callback.
const relayWait = 5 * time.Second

// KioskState is what the operators' dashboard shows of a kiosk connected
// to this replica.
type KioskState struct {
	ID      string
	Since   time.Time   // when it connected
	Phase   kiosk.Phase // what its screen shows now
	Agent   string      // its client's User-Agent: the kiosk's version when it sends one
	Version string      // the version of the hub running its engine
}

// Kiosks lists the kiosks connected to this replica, by id.
func (h *Hub) Kiosks() []KioskState {
	h.mu.Lock()
	all := make([]*session, 0, len(h.sessions))
	for _, s := range h.sessions {
		all = append(all, s)
	}
	h.mu.Unlock()
	out := make([]KioskState, 0, len(all))
	for _, s := range all {
		out = append(out, KioskState{ID: s.id, Since: s.since, Phase: s.engine.Screen().Phase, Agent: s.agent, Version: h.cfg.Version})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}
