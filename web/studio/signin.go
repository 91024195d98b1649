package studio

import (
	"net/http"
	"strings"
	"time"

	"github.com/switchboard-sim/switchboard/web/access"
	"github.com/switchboard-sim/switchboard/web/api"
)

// requestRole returns the role a request carries: "Authorization: Bearer SECRET" (for
// scripts) or the session cookie.
func (s *Studio) requestRole(r *http.Request) access.Role {
	if a, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		return s.secrets.RoleOf(strings.TrimSpace(a))
	}
	if c, err := r.Cookie(access.CookieName); err == nil {
		return s.sessions.Role(c.Value, time.Now())
	}
	return access.RoleNone
}

// signIn starts a session for role and sets its cookie: HttpOnly, SameSite=Lax, and
// Secure behind TLS or when the server's public URL is https. When the session cannot be
// stored (a shared store that is down) it answers 503 and returns false.
func (s *Studio) signIn(w http.ResponseWriter, r *http.Request, role access.Role) bool {
	id, err := s.sessions.Create(role, time.Now())
	if err != nil {
		s.log.Error("studio: sign-in", "err", err)
		s.signInPage(w, http.StatusServiceUnavailable, "Signing in is not possible right now (the database does not answer). Try again in a minute.")
		return false
	}
	http.SetCookie(w, &http.Cookie{Name: access.CookieName, Value: id, Path: "/", MaxAge: int(access.SessionAge / time.Second),
		HttpOnly: true, Secure: s.secure || r.TLS != nil, SameSite: http.SameSiteLaxMode})
	return true
}

// signOut revokes the request's session and clears its cookie.
func (s *Studio) signOut(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(access.CookieName); err == nil {
		if err := s.sessions.Revoke(c.Value); err != nil {
			s.log.Error("studio: sign-out", "err", err) // the cookie is cleared below all the same
		}
	}
	http.SetCookie(w, &http.Cookie{Name: access.CookieName, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: s.secure || r.TLS != nil, SameSite: http.SameSiteLaxMode})
}

// sameOrigin reports whether a request comes from the studio's own origin: scheme, host
// and port all match the request's own (its Host, http or https as it arrived) or the
// server's public URL (BaseURL, for a TLS-terminating proxy). A request without Origin passes when Sec-Fetch-Site does not say
// otherwise (scripts and old browsers); strict refuses it unless Sec-Fetch-Site says
// same-origin.
func (s *Studio) sameOrigin(r *http.Request, strict bool) bool {
	o := r.Header.Get("Origin")
	if o == "" || o == "null" {
		site := r.Header.Get("Sec-Fetch-Site")
		if strict {
			return site == "same-origin"
		}
		return o == "" && (site == "" || site == "same-origin" || site == "none")
	}
	return api.OwnOrigin(r, o, s.origin)
}
