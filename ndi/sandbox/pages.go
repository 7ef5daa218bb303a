package sandbox

import (
	"encoding/json"
	"html/template"
	"ndikiosk/ndi"
	"net/http"
	"slices"
	"time"
)

var pages = template.Must(template.New("phone").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Singpass sandbox</title>
<style>
 body{font-family:system-ui,sans-serif;margin:0;background:#f4f4f6;color:#1b1b1f}
 header{background:#c8102e;color:#fff;padding:14px 18px;font-size:1.2rem;font-weight:600}
 main{padding:16px;max-width:560px;margin:auto}
 .card{background:#fff;border-radius:10px;padding:14px;margin-bottom:14px;box-shadow:0 1px 3px #0002}
 label.p{display:flex;gap:10px;align-items:flex-start;padding:9px 4px;border-bottom:1px solid #eee}
 label.p small{color:#666;display:block}
 .err{border-left:5px solid #c8102e} .ok{border-left:5px solid #1a7f37}
 button{font-size:1.05rem;padding:12px 20px;border-radius:8px;border:0;margin:6px 6px 0 0}
 .allow{background:#c8102e;color:#fff} .deny{background:#ddd}
 code{word-break:break-all}
</style></head><body>
<header>Singpass sandbox · phone</header><main>
{{if .Error}}<div class="card err"><b>Cannot continue.</b><p>{{.Error}}</p></div>{{end}}
{{if .Result}}{{if .Result.CallbackError}}<div class="card err"><b>The kiosk could not be reached.</b>
 <p>{{.Result.CallbackError}}</p><p>The sandbox called <code>{{.Result.CallbackURL}}</code></p>
 {{else}}<div class="card ok"><b>{{if eq .Result.Decision "allow"}}Shared.{{else}}Declined.{{end}}</b>
 <p>The kiosk answered (HTTP {{.Result.CallbackStatus}}): {{.Result.CallbackBody}}</p>
{{end}}<p><a href="{{.Home}}">Scan again</a></p></div>{{end}}
{{if .Personas}}
<div class="card"><p>{{if .Ticket}}<b>{{.ClientID}}</b> asks to see:{{else}}This page plays the Singpass app for testing. Pick a test person, then tap <b>Allow</b> to scan the code on the kiosk screen now. <b>{{.ClientID}}</b> will see:{{end}}</p>
<p><code>{{range $i, $a := .Attributes}}{{if $i}}, {{end}}{{$a}}{{end}}</code></p></div>
<form method="post" action="{{.Action}}">
<input type="hidden" name="ticket" value="{{.Ticket}}">
<div class="card">{{range $i, $p := .Personas}}
<label class="p"><input type="radio" name="persona" value="{{$p.ID}}"{{if eq $i 0}} checked{{end}}>
<span>{{$p.Name}}<small>{{$p.Label}} · {{$p.Masked}}{{if $p.DOB}} · born {{$p.DOB}}{{end}}{{if $p.Face}} · Face: {{$p.Face}}{{end}}</small></span></label>{{end}}
</div>
<div class="card"><label>Simulate a fault:
<select name="fault"><option value="">none</option>{{range .Faults}}<option>{{.}}</option>{{end}}</select></label></div>
<button class="allow" name="decision" value="allow">Allow</button>
<button class="deny" name="decision" value="deny">Deny</button>
</form>{{end}}
</main></body></html>`))

type personaRow struct {
	ID, Name, Label, Masked, DOB, Face string
}

type pageData struct {
	Error      string
	Result     *ScanResult
	Personas   []personaRow
	Attributes []string
	ClientID   string
	Ticket     string
	Action     string
	Home       string
	Faults     []string
}

func (s *Sandbox) render(w http.ResponseWriter, status int, d pageData) {
	d.Home = s.opt.Prefix + "/"
	d.Action = s.opt.Prefix + "/consent"
	if d.ClientID == "" {
		d.ClientID, d.Attributes = s.opt.Client.ID, s.opt.Client.Attributes
		if s.opt.FAPI != nil && (d.ClientID == "" || s.fapiShown()) {
			d.ClientID, d.Attributes = s.opt.FAPI.ID, s.opt.FAPI.Scopes
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	pages.Execute(w, d)
}

func (s *Sandbox) consentPage(w http.ResponseWriter, ticket string) {
	var rows []personaRow
	for _, p := range Personas(s.opt.Now()) {
		rows = append(rows, personaRow{ID: p.ID, Name: p.Name, Label: p.Label, Masked: ndi.MaskID(p.ID), DOB: p.DOB, Face: p.Face})
	}
	faults := Faults
	if s.opt.FAPI != nil {
		faults = append(slices.Clone(Faults), FAPIFaults...)
	}
	d := pageData{Personas: rows, Ticket: ticket, Faults: faults}
	s.mu.Lock()
	if t, ok := s.tickets[ticket]; ok && t.par != nil {
		// What this authorisation asked for, as Singpass's consent shows it.
		d.ClientID = s.opt.FAPI.ID
		for _, sc := range t.par.scope {
			if sc != "openid" {
				d.Attributes = append(d.Attributes, sc)
			}
		}
	}
	s.mu.Unlock()
	s.render(w, http.StatusOK, d)
}

// phonePage is the sandbox's home: the consent form that scans whatever QR
// the kiosk shows now.
func (s *Sandbox) phonePage(w http.ResponseWriter, r *http.Request) { s.consentPage(w, "") }

// landing is where a real phone lands after scanning the kiosk's QR with its
// camera: the code is checked and consumed, then consent is asked.
func (s *Sandbox) landing(w http.ResponseWriter, r *http.Request) {
	q, err := s.acceptQR(s.QRBaseURL() + "?" + r.URL.RawQuery)
	if err != nil {
		s.render(w, http.StatusBadRequest, pageData{Error: err.Error()})
		return
	}
	id := randomToken(16)
	expires := s.opt.Now().Add(5 * time.Minute)
	if q.Expiry.Before(expires) {
		expires = q.Expiry
	}
	s.mu.Lock()
	prune(s.tickets, s.opt.Now(), ticketExpiry)
	s.tickets[id] = ticket{qr: q, expires: expires}
	s.mu.Unlock()
	s.consentPage(w, id)
}

func (s *Sandbox) consent(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		s.render(w, http.StatusBadRequest, pageData{Error: "unreadable form"})
		return
	}
	var (
		res ScanResult
		err error
	)
	persona, decision, fault := r.PostForm.Get("persona"), r.PostForm.Get("decision"), r.PostForm.Get("fault")
	if id := r.PostForm.Get("ticket"); id != "" {
		s.mu.Lock()
		t, ok := s.tickets[id]
		delete(s.tickets, id)
		s.mu.Unlock()
		if !ok || s.opt.Now().After(t.expires) {
			s.render(w, http.StatusBadRequest, pageData{Error: "This code has expired or was already used. Scan the kiosk's current code."})
			return
		}
		if t.par != nil {
			// The phone's browser goes on to the kiosk's redirect URI, as
			// it would after approving in the Singpass app.
			redirect, err := s.decideFAPI(t.par, persona, decision, fault)
			if err != nil {
				s.render(w, http.StatusConflict, pageData{Error: err.Error()})
				return
			}
			http.Redirect(w, r, redirect, http.StatusFound)
			return
		}
		res, err = s.decide(r.Context(), t.qr, persona, decision, fault)
	} else {
		res, err = s.Scan(r.Context(), persona, decision, fault)
	}
	if err != nil {
		s.render(w, http.StatusConflict, pageData{Error: err.Error()})
		return
	}
	s.render(w, http.StatusOK, pageData{Result: &res})
}

// scanAPI is POST {prefix}/scan for scripts and tests: form fields persona,
// decision (allow or deny) and optionally fault; it answers JSON.
func (s *Sandbox) scanAPI(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	w.Header().Set("Content-Type", "application/json")
	if err := r.ParseForm(); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]string{"error": "unreadable form"})
		return
	}
	persona, decision, fault := r.PostForm.Get("persona"), r.PostForm.Get("decision"), r.PostForm.Get("fault")
	var (
		res ScanResult
		err error
	)
	if qr := r.PostForm.Get("qr"); qr != "" {
		res, err = s.ScanURL(r.Context(), qr, persona, decision, fault)
	} else {
		res, err = s.Scan(r.Context(), persona, decision, fault)
	}
	if err != nil {
		w.WriteHeader(http.StatusConflict)
		json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
		return
	}
	json.NewEncoder(w).Encode(res)
}
