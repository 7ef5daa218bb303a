package sandbox

import (
	"html/template"
	"net/http"

	"ndikiosk/ndi"
)

var signPage = template.Must(template.New("sign").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign with Singpass sandbox</title>
<style>
 body{font-family:system-ui,sans-serif;margin:0;background:#f4f4f6;color:#1b1b1f}
 header{background:#c8102e;color:#fff;padding:14px 18px;font-size:1.2rem;font-weight:600}
 main{padding:16px;max-width:560px;margin:auto}
 .card{background:#fff;border-radius:10px;padding:14px;margin-bottom:14px;box-shadow:0 1px 3px #0002}
 .err{border-left:5px solid #c8102e} .ok{border-left:5px solid #1a7f37}
 button{font-size:1.05rem;padding:12px 20px;border-radius:8px;border:0;margin:6px 6px 0 0}
 .allow{background:#c8102e;color:#fff} .deny{background:#ddd}
 label.p{display:block;padding:6px 0}
</style></head><body>
<header>Sign with Singpass sandbox · phone</header><main>
{{if .Error}}<div class="card err" id="error"><b>Cannot continue.</b><p>{{.Error}}</p></div>{{end}}
{{if .Done}}<div class="card ok" id="done"><p>{{.Done}}</p>{{if .Redirect}}<p><a id="back" href="{{.Redirect}}">Return to the organisation</a></p>{{end}}</div>{{end}}
{{if .DocName}}<form method="post">
<div class="card"><p><b>{{.ClientID}}</b> asks you to sign</p><p id="docname" style="font-size:1.2rem">{{.DocName}}</p>
<p>Signature on page {{.Page}}.</p></div>
<div class="card">{{range $i, $p := .Personas}}
<label class="p"><input type="radio" name="persona" value="{{$p.ID}}"{{if eq $i 0}} checked{{end}}> {{$p.Name}} <small>{{$p.Masked}}</small></label>{{end}}</div>
<div class="card"><label>Simulate a fault:
<select name="fault"><option value="">none</option>{{range .Faults}}<option>{{.}}</option>{{end}}</select></label></div>
<button class="allow" id="sign" name="decision" value="sign">Sign</button>
<button class="deny" id="decline" name="decision" value="decline">Return without signing</button>
</form>{{end}}
</main></body></html>`))

type signPageData struct {
	Error, Done, Redirect string
	ClientID, DocName     string
	Page                  int
	Personas              []personaRow
	Faults                []string
}

func (s *Sandbox) renderSign(w http.ResponseWriter, status int, d signPageData) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	signPage.Execute(w, d)
}

// signPortal is the page signing_url opens on the visitor's phone. Opening
// it starts the signing session: the request can no longer be cancelled.
func (s *Sandbox) signPortal(w http.ResponseWriter, r *http.Request) {
	now := s.opt.Now()
	s.mu.Lock()
	req, ok := s.sign.requests[r.PathValue("id")]
	var d signPageData
	switch {
	case !ok:
		d.Error = "There is no such signing request."
	case req.state != "":
		d.Error = "This signing request is " + req.state + " already."
	case !now.Before(req.expires):
		d.Error = "This signing request has expired."
	default:
		req.started = true
		d = signPageData{ClientID: s.opt.Sign.ID, DocName: req.docName, Page: req.place.Page, Faults: SignFaults}
	}
	s.mu.Unlock()
	if d.Error != "" {
		s.renderSign(w, http.StatusBadRequest, d)
		return
	}
	for _, p := range Personas(now) {
		d.Personas = append(d.Personas, personaRow{ID: p.ID, Name: p.Name, Masked: ndi.MaskID(p.ID)})
	}
	s.renderSign(w, http.StatusOK, d)
}

// signPortalPost takes the visitor's decision and sends the browser back to
// the relying party, as the Sign portal does.
func (s *Sandbox) signPortalPost(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	if err := r.ParseForm(); err != nil {
		s.renderSign(w, http.StatusBadRequest, signPageData{Error: "unreadable form"})
		return
	}
	out, err := s.SignAs(r.Context(), r.PathValue("id"), r.PostForm.Get("persona"), r.PostForm.Get("decision"), r.PostForm.Get("fault"))
	if err != nil {
		s.renderSign(w, http.StatusBadRequest, signPageData{Error: err.Error()})
		return
	}
	done := "Signed."
	if r.PostForm.Get("decision") == "decline" {
		done = "Not signed."
	}
	s.renderSign(w, http.StatusOK, signPageData{Done: done, Redirect: out.RedirectURL})
}
