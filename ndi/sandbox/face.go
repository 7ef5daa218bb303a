package sandbox

import (
	"bytes"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"image"
	_ "image/jpeg" // compare takes JPEG
	_ "image/png"  // and PNG
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"ndikiosk/ndi/jose"
)

// Face outcomes a persona can have with the sandbox's Face service.
const (
	FaceMatch         = ""               // compare scores 0.93, validate passes
	FaceNoMatch       = "no-match"       // compare scores 0.12
	FaceNotRegistered = "not-registered" // the user call says false; compare refuses
	FaceDown          = "down"           // the service answers 503
)

// FaceClient is the relying party registered with the Face service.
type FaceClient struct {
	ID, Secret, ServiceID string
}

// DefaultFaceClient is used when Options.Face is empty.
var DefaultFaceClient = FaceClient{ID: "ndikiosk-sandbox-face", Secret: "sandbox-face-secret", ServiceID: "NDIKIOSK-SANDBOX"}

type faceState struct {
	oauthCalls atomic.Int64
	tokens     map[string]time.Time // OAuth tokens → expiry
	sessions   map[string]*faceSession
}

type faceSession struct {
	user    string
	used    bool
	expires time.Time
}

// FaceURL is the Face service's base URL.
func (s *Sandbox) FaceURL() string { return s.opt.PublicURL + "/face" }

// FaceOAuthCalls counts the OAuth token requests served, so tests can check
// that clients cache their token.
func (s *Sandbox) FaceOAuthCalls() int64 { return s.face.oauthCalls.Load() }

func (s *Sandbox) mountFace() {
	p := s.opt.Prefix + "/face"
	s.mux.HandleFunc("POST "+p+"/oauth/token/", s.faceOAuth)
	s.mux.HandleFunc("POST "+p+"/user", s.faceAPI(s.faceUser))
	s.mux.HandleFunc("POST "+p+"/verify/token", s.faceAPI(s.faceSession))
	s.mux.HandleFunc("POST "+p+"/verify/validate", s.faceAPI(s.faceValidate))
	s.mux.HandleFunc("POST "+p+"/compare/", s.faceAPI(s.faceCompare))
}

func (s *Sandbox) faceOAuth(w http.ResponseWriter, r *http.Request) {
	s.face.oauthCalls.Add(1)
	c := s.opt.Face
	id, secret, ok := r.BasicAuth()
	w.Header().Set("Content-Type", "application/json")
	if !ok || id != c.ID || subtle.ConstantTimeCompare([]byte(secret), []byte(c.Secret)) != 1 || r.FormValue("grant_type") != "client_credentials" {
		w.WriteHeader(http.StatusUnauthorized)
		json.NewEncoder(w).Encode(map[string]string{"error": "invalid_client", "error_description": "Client authentication failed"})
		return
	}
	tok := randomToken(32)
	s.mu.Lock()
	prune(s.face.tokens, s.opt.Now(), at)
	s.face.tokens[tok] = s.opt.Now().Add(30 * time.Minute)
	s.mu.Unlock()
	json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "token_type": "bearer", "expires_in": 1800})
}

// faceReply sends a JWS whose payload claim is the JSON of v, as the
// service does for successes and errors alike.
func (s *Sandbox) faceReply(w http.ResponseWriter, status int, v any) {
	payload, _ := json.Marshal(v)
	now := s.opt.Now()
	jws, err := jose.SignJSON(map[string]any{"iss": s.FaceURL(), "aud": s.opt.Face.ID, "sub": "verify", "iat": now.Unix(),
		"nbf": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(), "jti": randomToken(12), "payload": string(payload)}, s.opt.Key)
	if err != nil {
		http.Error(w, "cannot sign", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/jwt")
	w.WriteHeader(status)
	w.Write(jws)
}

func detail(msg string) map[string]any {
	return map[string]any{"detail": []map[string]string{{"msg": msg}}}
}

type faceRequest struct {
	ServiceID string `json:"service_id"`
	UserID    string `json:"user_id"`
	Token     string `json:"token"`
	Image     string `json:"image"`
}

// faceAPI checks the bearer token, the service id and the user, then hands
// over to the call with the persona's outcome.
func (s *Sandbox) faceAPI(next func(http.ResponseWriter, faceRequest, Persona)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 8<<20)
		tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		s.mu.Lock()
		exp, ok := s.face.tokens[tok]
		s.mu.Unlock()
		if !ok || s.opt.Now().After(exp) {
			s.faceReply(w, http.StatusUnauthorized, map[string]string{"error_description": "Invalid or expired access token"})
			return
		}
		var req faceRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			status := http.StatusBadRequest
			if strings.Contains(err.Error(), "too large") {
				status = http.StatusRequestEntityTooLarge
			}
			s.faceReply(w, status, detail("body is not valid JSON or is too large"))
			return
		}
		if req.ServiceID != s.opt.Face.ServiceID {
			s.faceReply(w, http.StatusForbidden, detail("service_id is not registered for this client"))
			return
		}
		p, ok := s.Persona(req.UserID)
		if !ok {
			p = Persona{ID: req.UserID, Face: FaceNotRegistered}
		}
		if p.Face == FaceDown {
			s.faceReply(w, http.StatusServiceUnavailable, detail("service temporarily unavailable"))
			return
		}
		next(w, req, p)
	}
}

func (s *Sandbox) faceUser(w http.ResponseWriter, _ faceRequest, p Persona) {
	s.faceReply(w, http.StatusOK, map[string]bool{"registered": p.Face != FaceNotRegistered})
}

func (s *Sandbox) faceSession(w http.ResponseWriter, req faceRequest, p Persona) {
	if p.Face == FaceNotRegistered {
		s.faceReply(w, http.StatusBadRequest, detail("user is not registered for face verification"))
		return
	}
	tok := randomToken(32)
	s.mu.Lock()
	s.face.sessions[tok] = &faceSession{user: req.UserID, expires: s.opt.Now().Add(10 * time.Minute)}
	s.mu.Unlock()
	s.faceReply(w, http.StatusOK, map[string]string{"token": tok})
}

func (s *Sandbox) faceValidate(w http.ResponseWriter, req faceRequest, p Persona) {
	s.mu.Lock()
	sess, ok := s.face.sessions[req.Token]
	valid := ok && !sess.used && sess.user == req.UserID && s.opt.Now().Before(sess.expires)
	if ok {
		sess.used = true // validate is one-shot, whatever it answers
	}
	s.mu.Unlock()
	if !valid {
		s.faceReply(w, http.StatusBadRequest, detail("Invalid token"))
		return
	}
	score, passed := faceScore(p)
	reason := "match"
	if !passed {
		reason = "face does not match"
	}
	s.faceReply(w, http.StatusOK, map[string]any{"passed": passed, "reason": reason,
		"extra_data": map[string]any{"face_matcher": map[string]float64{"score": score}}})
}

func (s *Sandbox) faceCompare(w http.ResponseWriter, req faceRequest, p Persona) {
	raw, err := base64.StdEncoding.DecodeString(req.Image)
	switch {
	case err != nil:
		s.faceReply(w, http.StatusBadRequest, detail("image is not base64 (send it without a data: prefix)"))
		return
	case len(raw) > 2_000_000:
		s.faceReply(w, http.StatusRequestEntityTooLarge, detail("image too large"))
		return
	}
	if _, format, err := image.DecodeConfig(bytes.NewReader(raw)); err != nil || (format != "jpeg" && format != "png") {
		s.faceReply(w, http.StatusBadRequest, detail("image must be a JPEG or PNG"))
		return
	}
	if p.Face == FaceNotRegistered {
		s.faceReply(w, http.StatusBadRequest, detail("user is not registered for face verification"))
		return
	}
	score, _ := faceScore(p)
	s.faceReply(w, http.StatusOK, map[string]float64{"score": score})
}

func faceScore(p Persona) (float64, bool) {
	if p.Face == FaceNoMatch {
		return 0.12, false
	}
	return 0.93, true
}
