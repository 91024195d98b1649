package studio

import (
	"crypto/rand"
	"encoding/base64"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Sessions and sign-in throttling.
const (
	sessionBytes = 32                  // random bytes in a session id
	sessionAge   = 30 * 24 * time.Hour // a session lasts this long after sign-in
	// MaxSessions bounds the sessions kept; past it, the oldest is dropped.
	MaxSessions = 10_000
	// SignInRate and SignInBurst throttle sign-in attempts (form and designer link) per
	// client IP address: a burst of SignInBurst, then one every 1/SignInRate seconds.
	SignInRate  = rate.Limit(1.0 / 3) // one attempt every 3 s…
	SignInBurst = 5                   // …after 5 at once
	maxLimiters = 10_000              // IP addresses tracked; the table is reset past it
)

// session is a signed-in browser: the cookie holds only its random id, so sign-out (or a
// restart) revokes it, and the secret never sits in the browser.
type session struct {
	role    Role
	expires time.Time
}

// sessionStore holds the sessions of the studio. Safe for concurrent use.
type sessionStore struct {
	mu   sync.Mutex
	byID map[string]session
}

func newSessionStore() *sessionStore { return &sessionStore{byID: map[string]session{}} }

// create starts a session for role and returns its id.
func (st *sessionStore) create(role Role, now time.Time) string {
	b := make([]byte, sessionBytes)
	_, _ = rand.Read(b)
	id := base64.RawURLEncoding.EncodeToString(b)
	st.mu.Lock()
	defer st.mu.Unlock()
	if len(st.byID) >= MaxSessions {
		var oldest string
		for k, v := range st.byID {
			if !v.expires.After(now) {
				delete(st.byID, k)
				continue
			}
			if oldest == "" || v.expires.Before(st.byID[oldest].expires) {
				oldest = k
			}
		}
		if len(st.byID) >= MaxSessions {
			delete(st.byID, oldest)
		}
	}
	st.byID[id] = session{role: role, expires: now.Add(sessionAge)}
	return id
}

// role returns the role of a live session, RoleNone for an unknown or expired one.
func (st *sessionStore) role(id string, now time.Time) Role {
	if id == "" {
		return RoleNone
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	s, ok := st.byID[id]
	if !ok {
		return RoleNone
	}
	if !s.expires.After(now) {
		delete(st.byID, id)
		return RoleNone
	}
	return s.role
}

// revoke ends a session.
func (st *sessionStore) revoke(id string) {
	st.mu.Lock()
	delete(st.byID, id)
	st.mu.Unlock()
}

// throttle limits sign-in attempts per client IP address.
type throttle struct {
	mu  sync.Mutex
	per map[string]*rate.Limiter
}

func newThrottle() *throttle { return &throttle{per: map[string]*rate.Limiter{}} }

// allow reports whether the client of r may try a secret now.
func (t *throttle) allow(r *http.Request) bool {
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		ip = r.RemoteAddr
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	l, ok := t.per[ip]
	if !ok {
		if len(t.per) >= maxLimiters {
			t.per = map[string]*rate.Limiter{}
		}
		l = rate.NewLimiter(SignInRate, SignInBurst)
		t.per[ip] = l
	}
	return l.Allow()
}

// requestRole returns the role a request carries: "Authorization: Bearer SECRET" (for
// scripts) or the session cookie.
func (s *Studio) requestRole(r *http.Request) Role {
	if a, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		return s.secrets.roleOf(strings.TrimSpace(a))
	}
	if c, err := r.Cookie(CookieName); err == nil {
		return s.sessions.role(c.Value, time.Now())
	}
	return RoleNone
}

// signIn starts a session for role and sets its cookie: HttpOnly, SameSite=Lax, and
// Secure behind TLS or when the server's public URL is https.
func (s *Studio) signIn(w http.ResponseWriter, r *http.Request, role Role) {
	id := s.sessions.create(role, time.Now())
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: id, Path: "/", MaxAge: int(sessionAge / time.Second),
		HttpOnly: true, Secure: s.secure || r.TLS != nil, SameSite: http.SameSiteLaxMode})
}

// signOut revokes the request's session and clears its cookie.
func (s *Studio) signOut(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(CookieName); err == nil {
		s.sessions.revoke(c.Value)
	}
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: "/", MaxAge: -1,
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
	u, err := url.Parse(o)
	if err != nil || u.Host == "" {
		return false
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	for _, want := range []*url.URL{{Scheme: scheme, Host: r.Host}, s.origin} {
		if want != nil && strings.EqualFold(u.Scheme, want.Scheme) && strings.EqualFold(hostPort(u), hostPort(want)) {
			return true
		}
	}
	return false
}

// hostPort returns u's host with its port, the scheme's default port made explicit.
func hostPort(u *url.URL) string {
	port := u.Port()
	if port == "" {
		switch strings.ToLower(u.Scheme) {
		case "https", "wss":
			port = "443"
		default:
			port = "80"
		}
	}
	return net.JoinHostPort(u.Hostname(), port)
}
