package dashboard

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
)

// The sign-in form has no session yet: its CSRF token is a random value
// in a cookie of its own that the form must repeat (double submit), on
// top of the origin check.
func (d *Dashboard) signinCookie() string {
	if d.o.Secure {
		return "__Host-ndikiosk_signin"
	}
	return "ndikiosk_signin"
}

type signInData struct {
	Name, Next, CSRF string
}

// safeNext keeps a redirect after sign-in inside the dashboard.
func safeNext(next string) string {
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || !strings.HasPrefix(next, Prefix+"/") || strings.ContainsAny(next, "\\\r\n") {
		return Prefix + "/onsite"
	}
	return next
}

func (d *Dashboard) signInPage(w http.ResponseWriter, r *http.Request) {
	headers(w)
	if s, err := d.session(r, false); err == nil && s != nil {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	d.showSignIn(w, r, http.StatusOK, "", r.URL.Query().Get("next"), "")
}

func (d *Dashboard) showSignIn(w http.ResponseWriter, r *http.Request, status int, name, next, msg string) {
	token := newToken()
	d.setCookie(w, d.signinCookie(), token, 3600)
	v := signInData{Name: name, Next: safeNext(next), CSRF: token}
	d.renderSignIn(w, r, status, v, msg)
}

func (d *Dashboard) renderSignIn(w http.ResponseWriter, r *http.Request, status int, v signInData, msg string) {
	d.render(w, r, nil, status, "signin", "Sign in", struct {
		signInData
		Error string
	}{v, msg})
}

func (d *Dashboard) signIn(w http.ResponseWriter, r *http.Request) {
	headers(w)
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if !d.sameOrigin(r) || r.ParseForm() != nil {
		d.fail(w, r, nil, http.StatusForbidden, "This form did not come from the dashboard.")
		return
	}
	c, err := r.Cookie(d.signinCookie())
	if err != nil || !validCSRF(c.Value, r.PostForm.Get("csrf")) {
		d.showSignIn(w, r, http.StatusForbidden, "", r.PostForm.Get("next"), "This form has expired: please sign in again.")
		return
	}
	name, next := strings.TrimSpace(r.PostForm.Get("name")), r.PostForm.Get("next")
	token, err := d.accounts.SignIn(r.Context(), name, r.PostForm.Get("password"), d.o.ClientIP(r))
	var locked *LockedError
	switch {
	case errors.As(err, &locked):
		d.o.Log.Warn("dashboard: sign-in locked", "client", d.o.ClientIP(r))
		d.showSignIn(w, r, http.StatusTooManyRequests, "", next, locked.Error())
		return
	case errors.Is(err, ErrSignIn):
		d.o.Log.Warn("dashboard: sign-in failed", "client", d.o.ClientIP(r))
		d.showSignIn(w, r, http.StatusUnauthorized, name, next, "That name and password do not match an operator.")
		return
	case errors.Is(err, ErrBusy):
		d.o.Log.Warn("dashboard: sign-in refused: too many at once", "client", d.o.ClientIP(r))
		d.showSignIn(w, r, http.StatusServiceUnavailable, name, next, "The hub is busy; try again in a moment.")
		return
	case err != nil:
		d.o.Log.Error("dashboard: sign-in", "error", err.Error())
		d.showSignIn(w, r, http.StatusServiceUnavailable, name, next, "The hub's database cannot be reached; try again.")
		return
	}
	d.setCookie(w, d.signinCookie(), "", -1)
	d.setCookie(w, d.cookieName(), token, int(AbsoluteTimeout.Seconds()))
	d.o.Log.Info("dashboard: operator signed in", "operator", name)
	http.Redirect(w, r, safeNext(next), http.StatusSeeOther)
}

func (d *Dashboard) signOut(w http.ResponseWriter, r *http.Request, s *Session) {
	if err := d.accounts.SignOut(r.Context(), s.token); err != nil {
		d.failErr(w, r, s, err, "Signing out failed; try again.")
		return
	}
	d.setCookie(w, d.cookieName(), "", -1)
	http.Redirect(w, r, Prefix+"/signin", http.StatusSeeOther)
}
