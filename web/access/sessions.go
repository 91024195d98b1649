package access

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
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

// Sessions holds the signed-in browsers: in memory (one instance), or in a SessionStore
// that every instance shares (NewSharedSessions). Safe for concurrent use.
type Sessions struct {
	mu    sync.Mutex
	byID  map[string]session
	store SessionStore // nil: in memory
}

// SessionStore keeps studio sessions where every instance sees them (PostgreSQL). Only a
// hash of a session id is given to it (HashSessionID), never the id in the cookie.
type SessionStore interface {
	// CreateStudioSession stores a session.
	CreateStudioSession(ctx context.Context, idHash, role string, created, expires time.Time) error
	// StudioSessionRole returns the role of a session that has not expired at now, or "".
	StudioSessionRole(ctx context.Context, idHash string, now time.Time) (string, error)
	// RevokeStudioSession removes a session (and may sweep expired ones).
	RevokeStudioSession(ctx context.Context, idHash string) error
}

// storeTimeout bounds one call to a SessionStore.
const storeTimeout = 5 * time.Second

// NewSessions returns sessions kept in memory: a restart signs everybody out, and other
// instances do not know them.
func NewSessions() *Sessions { return &Sessions{byID: map[string]session{}} }

// NewSharedSessions returns sessions kept in st: a browser signed in on one instance is
// signed in on every instance sharing st, a sign-out ends the session everywhere, and
// sessions survive restarts. When st cannot be reached, nobody is signed in (sign-in
// fails with an error; requests carry no role).
func NewSharedSessions(st SessionStore) *Sessions { return &Sessions{store: st} }

// HashSessionID is what a SessionStore keeps of a session id: its hex SHA-256.
func HashSessionID(id string) string {
	h := sha256.Sum256([]byte(id))
	return hex.EncodeToString(h[:])
}

// Create starts a session for role and returns its id.
func (st *Sessions) Create(role Role, now time.Time) (string, error) {
	b := make([]byte, sessionBytes)
	_, _ = rand.Read(b)
	id := base64.RawURLEncoding.EncodeToString(b)
	if st.store != nil {
		ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
		defer cancel()
		if err := st.store.CreateStudioSession(ctx, HashSessionID(id), role.String(), now, now.Add(SessionAge)); err != nil {
			return "", fmt.Errorf("storing the session: %w", err)
		}
		return id, nil
	}
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
	return id, nil
}

// Role returns the role of a live session, RoleNone for an unknown or expired one (or
// when the shared store cannot be reached).
func (st *Sessions) Role(id string, now time.Time) Role {
	if id == "" || len(id) > 2*sessionBytes {
		return RoleNone
	}
	if st.store != nil {
		ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
		defer cancel()
		r, err := st.store.StudioSessionRole(ctx, HashSessionID(id), now)
		if err != nil {
			return RoleNone
		}
		switch r {
		case RoleDesigner.String():
			return RoleDesigner
		case RoleSupervisor.String():
			return RoleSupervisor
		}
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
func (st *Sessions) Revoke(id string) error {
	if st.store != nil {
		ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
		defer cancel()
		if err := st.store.RevokeStudioSession(ctx, HashSessionID(id)); err != nil {
			return fmt.Errorf("revoking the session: %w", err)
		}
		return nil
	}
	st.mu.Lock()
	delete(st.byID, id)
	st.mu.Unlock()
	return nil
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
