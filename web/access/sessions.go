package access

import (
	"crypto/rand"
	"encoding/base64"
	"net"
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Sessions and sign-in throttling.
const (
	sessionBytes = 32                  // random bytes in a session id
	SessionAge   = 30 * 24 * time.Hour // a session lasts this long after sign-in
	// MaxSessions bounds the sessions kept; past it, the oldest is dropped.
	MaxSessions = 10_000
	// SignInRate and SignInBurst Throttle sign-in attempts (form and designer link) per
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

// Sessions holds the signed-in browsers. Safe for concurrent use.
type Sessions struct {
	mu   sync.Mutex
	byID map[string]session
}

func NewSessions() *Sessions { return &Sessions{byID: map[string]session{}} }

// Create starts a session for role and returns its id.
func (st *Sessions) Create(role Role, now time.Time) string {
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
	st.byID[id] = session{role: role, expires: now.Add(SessionAge)}
	return id
}

// Role returns the role of a live session, RoleNone for an unknown or expired one.
func (st *Sessions) Role(id string, now time.Time) Role {
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

// Revoke ends a session.
func (st *Sessions) Revoke(id string) {
	st.mu.Lock()
	delete(st.byID, id)
	st.mu.Unlock()
}

// Throttle limits sign-in attempts per client IP address.
type Throttle struct {
	mu  sync.Mutex
	per map[string]*rate.Limiter
}

func NewThrottle() *Throttle { return &Throttle{per: map[string]*rate.Limiter{}} }

// Allow reports whether the client of r may try a secret now.
func (t *Throttle) Allow(r *http.Request) bool {
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
