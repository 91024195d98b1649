package studio_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/web/access"
	"github.com/switchboard-sim/switchboard/web/api"
	"github.com/switchboard-sim/switchboard/web/studio"
)

// TestStudioSecurityHeaders: the studio's pages, its sign-in page and its API carry the
// trainee pages' strict policy: no plugins, no <base>, forms and websockets to this origin
// only, no framing, nosniff, no referrer.
func TestStudioSecurityHeaders(t *testing.T) {
	e := newEnv(t)
	for _, p := range []string{"/studio/", "/studio/studio.js", "/studio/sign-in", "/api/studio/me"} {
		req, err := http.NewRequest(http.MethodGet, e.url+p, nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+designerKey)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, p)
		csp := resp.Header.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'self'", "script-src 'self'", "object-src 'none'", "base-uri 'none'",
			"form-action 'self'", "frame-ancestors 'none'", "connect-src 'self';"} {
			assert.Contains(t, csp, want, p)
		}
		for _, d := range strings.Split(csp, ";") {
			d = strings.TrimSpace(d)
			if strings.HasPrefix(d, "connect-src") {
				assert.Equal(t, "connect-src 'self'", d, "%s: websockets to this origin only, not any ws: host", p)
			}
		}
		assert.NotContains(t, csp, "ws:", p)
		assert.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"), p)
		assert.Equal(t, "no-referrer", resp.Header.Get("Referrer-Policy"), p)
		assert.Equal(t, "DENY", resp.Header.Get("X-Frame-Options"), p)
	}
}

// TestSavePathEdgeCasesAnswerClearly: bad names get 400 bad_path, a file over 1 MiB gets
// 413, a directory symlink that leads outside gets 400 outside; no answer names a server
// path.
func TestSavePathEdgeCasesAnswerClearly(t *testing.T) {
	e := newEnv(t)
	outside := t.TempDir()
	require.NoError(t, os.Symlink(outside, filepath.Join(e.dir, "evil")))
	for _, tc := range []struct {
		name, path string
		source     string
		status     int
		code       string
	}{
		{"NUL", "a%00b.yaml", "id: x", 400, "bad_path"},
		{"300-byte name", strings.Repeat("n", 300) + ".yaml", "id: x", 400, "bad_path"},
		{"newline", "a%0Ab.yaml", "id: x", 400, "bad_path"},
		{"right-to-left override", "invoice%E2%80%AElmth.yaml", "id: x", 400, "bad_path"},
		{"Windows device name", "CON.yaml", "id: x", 400, "bad_path"},
		{"under testdata", "testdata/x.yaml", "id: x", 400, "bad_path"},
		{"hidden folder", ".git/x.yaml", "id: x", 400, "bad_path"},
		{"over 1 MiB", "big.yaml", strings.Repeat("#", 1<<20+1), 413, "too_large"},
		{"through a symlink", "evil/x.yaml", "id: x", 400, "outside"},
	} {
		var res api.APIError
		status := e.call("PUT", "/api/studio/files/"+tc.path, designerKey, map[string]string{"source": tc.source, "base": ""}, &res)
		assert.Equal(t, tc.status, status, tc.name)
		assert.Equal(t, tc.code, res.Error.Code, tc.name)
		assert.NotContains(t, res.Error.Message, e.dir, tc.name)
		assert.NotContains(t, res.Error.Message, outside, tc.name)
	}
	entries, err := os.ReadDir(outside)
	require.NoError(t, err)
	assert.Empty(t, entries, "nothing was written outside the folder")
}

// TestMeShowsNoServerPathToSupervisors: the folder's absolute path is for designers.
func TestMeShowsNoServerPathToSupervisors(t *testing.T) {
	e := newEnv(t)
	var me map[string]string
	require.Equal(t, 200, e.call("GET", "/api/studio/me", supervisorKey, nil, &me))
	assert.Equal(t, "supervisor", me["role"])
	assert.NotContains(t, me, "folder")
	for _, v := range me {
		assert.NotContains(t, v, e.dir)
	}
	require.Equal(t, 200, e.call("GET", "/api/studio/me", designerKey, nil, &me))
	assert.Equal(t, e.dir, me["folder"])
}

// signInCookie opens the designer link and returns the session cookie it sets.
func signInCookie(t *testing.T, e *env) *http.Cookie {
	t.Helper()
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Get(e.url + "/studio/?key=" + url.QueryEscape(designerKey))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	for _, c := range resp.Cookies() {
		if c.Name == access.CookieName {
			return c
		}
	}
	t.Fatal("no session cookie")
	return nil
}

func withCookie(t *testing.T, method, u string, c *http.Cookie, hdr map[string]string) int {
	t.Helper()
	req, err := http.NewRequest(method, u, nil)
	require.NoError(t, err)
	req.AddCookie(c)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

// TestSessionsAreRevocable: the cookie holds a random session id, not the secret; a
// cross-site or origin-less sign-out is refused; a same-origin sign-out revokes the
// session, so a copy of the cookie stops working too.
func TestSessionsAreRevocable(t *testing.T) {
	e := newEnv(t)
	c := signInCookie(t, e)
	assert.NotContains(t, c.Value, designerKey, "the cookie is not the secret")
	assert.GreaterOrEqual(t, len(c.Value), 40)
	assert.True(t, c.HttpOnly)
	assert.False(t, c.Secure, "plain http without an https base URL")
	assert.Equal(t, http.StatusOK, withCookie(t, "GET", e.url+"/api/studio/me", c, nil))

	assert.Equal(t, http.StatusForbidden, withCookie(t, "POST", e.url+"/studio/sign-out", c, map[string]string{"Origin": "https://evil.example"}))
	assert.Equal(t, http.StatusForbidden, withCookie(t, "POST", e.url+"/studio/sign-out", c, nil), "no Origin, no Sec-Fetch-Site")
	assert.Equal(t, http.StatusForbidden, withCookie(t, "POST", e.url+"/studio/sign-out", c, map[string]string{"Sec-Fetch-Site": "cross-site"}))
	assert.Equal(t, http.StatusOK, withCookie(t, "GET", e.url+"/api/studio/me", c, nil), "still signed in")
	assert.NotEqual(t, http.StatusSeeOther, withCookie(t, "GET", e.url+"/studio/sign-out", c, nil), "never by GET")
	assert.Equal(t, http.StatusOK, withCookie(t, "GET", e.url+"/api/studio/me", c, nil), "still signed in")

	assert.Equal(t, http.StatusSeeOther, withCookie(t, "POST", e.url+"/studio/sign-out", c, map[string]string{"Origin": e.url}))
	assert.Equal(t, http.StatusUnauthorized, withCookie(t, "GET", e.url+"/api/studio/me", c, nil), "the session is revoked server-side")
	assert.Equal(t, http.StatusUnauthorized, withCookie(t, "GET", e.url+"/studio/", c, nil))
}

// TestOriginCheckComparesSchemeHostAndPort: a change with the session cookie from the same
// host but another scheme or port is refused.
func TestOriginCheckComparesSchemeHostAndPort(t *testing.T) {
	e := newEnv(t)
	c := signInCookie(t, e)
	u, err := url.Parse(e.url)
	require.NoError(t, err)
	for _, o := range []string{"https://" + u.Host, "http://" + u.Hostname() + ":1", "http://" + u.Hostname()} {
		assert.Equal(t, http.StatusForbidden, withCookie(t, "POST", e.url+"/api/studio/restore", c, map[string]string{"Origin": o, "Content-Type": "application/json"}), o)
	}
	// The same origin gets past the check (and fails later, on the empty body).
	assert.Equal(t, http.StatusBadRequest, withCookie(t, "POST", e.url+"/api/studio/restore", c, map[string]string{"Origin": e.url, "Content-Type": "application/json"}))
}

// TestSignInIsThrottled: after a burst of wrong secrets from one address, further tries
// (even the right secret) are answered 429 for a while.
func TestSignInIsThrottled(t *testing.T) {
	e := newEnv(t)
	statuses := []int{}
	for range access.SignInBurst + 1 {
		resp, err := http.PostForm(e.url+"/studio/sign-in", url.Values{"secret": {"wrong-guess-0123456789"}})
		require.NoError(t, err)
		resp.Body.Close()
		statuses = append(statuses, resp.StatusCode)
	}
	assert.Equal(t, http.StatusUnauthorized, statuses[0])
	assert.Equal(t, http.StatusTooManyRequests, statuses[len(statuses)-1], "%v", statuses)
	resp, err := http.PostForm(e.url+"/studio/sign-in", url.Values{"secret": {designerKey}})
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	resp, err = http.Get(e.url + "/studio/?key=" + url.QueryEscape(designerKey))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode, "the designer link is throttled too")
}

// TestSecureCookieBehindAnHTTPSBaseURL: behind a TLS-terminating proxy the server sees
// http, but with --base-url https://… the session cookie is Secure and the public origin
// may make changes.
func TestSecureCookieBehindAnHTTPSBaseURL(t *testing.T) {
	e := newEnv(t)
	st, err := studio.New(studio.Options{Library: e.lib, Calls: e.srv, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Secrets: access.Secrets{Designer: designerKey, Supervisor: supervisorKey}, BaseURL: "https://training.example"})
	require.NoError(t, err)
	rec := httptest.NewRecorder()
	st.ServeHTTP(rec, httptest.NewRequest("GET", "http://10.0.0.5:8080/studio/?key="+url.QueryEscape(designerKey), nil))
	require.Equal(t, http.StatusSeeOther, rec.Code)
	cookies := rec.Result().Cookies()
	require.Len(t, cookies, 1)
	assert.True(t, cookies[0].Secure)

	req := httptest.NewRequest("POST", "http://10.0.0.5:8080/api/studio/restore", strings.NewReader("{}"))
	req.Header.Set("Origin", "https://training.example")
	req.Header.Set("Content-Type", "application/json")
	req.AddCookie(cookies[0])
	rec = httptest.NewRecorder()
	st.ServeHTTP(rec, req)
	assert.NotEqual(t, http.StatusForbidden, rec.Code, "the public origin is the studio's own")
	req.Header.Set("Origin", "http://training.example")
	rec = httptest.NewRecorder()
	st.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusForbidden, rec.Code, "not its scheme")
}

// sessionStore is an access.SessionStore in memory that can be made to fail.
type sessionStore struct {
	mu    sync.Mutex
	down  bool
	roles map[string]string
}

func (s *sessionStore) CreateStudioSession(_ context.Context, h, role string, _, _ time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		return errors.New("connection refused")
	}
	s.roles[h] = role
	return nil
}

func (s *sessionStore) StudioSessionRole(_ context.Context, h string, _ time.Time) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		return "", errors.New("connection refused")
	}
	return s.roles[h], nil
}

func (s *sessionStore) RevokeStudioSession(_ context.Context, h string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.roles, h)
	return nil
}

// TestSharedSessions: with a shared session store (PostgreSQL with several instances), a
// session started on one studio is recognised by another; while the store is down,
// sign-in answers 503 and a session cookie carries no role (fail closed).
func TestSharedSessions(t *testing.T) {
	e := newEnv(t)
	store := &sessionStore{roles: map[string]string{}}
	mk := func() *studio.Studio {
		st, err := studio.New(studio.Options{Library: e.lib, Calls: e.srv, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
			Secrets: access.Secrets{Designer: designerKey, Supervisor: supervisorKey}, Sessions: store})
		require.NoError(t, err)
		return st
	}
	a, b := mk(), mk()
	rec := httptest.NewRecorder()
	a.ServeHTTP(rec, httptest.NewRequest("GET", "/studio/?key="+url.QueryEscape(supervisorKey), nil))
	require.Equal(t, http.StatusSeeOther, rec.Code)
	cookies := rec.Result().Cookies()
	require.Len(t, cookies, 1)
	me := func(st *studio.Studio) int {
		req := httptest.NewRequest("GET", "/api/studio/me", nil)
		req.AddCookie(cookies[0])
		rec := httptest.NewRecorder()
		st.ServeHTTP(rec, req)
		return rec.Code
	}
	assert.Equal(t, http.StatusOK, me(b), "signed in on A, recognised by B")
	store.mu.Lock()
	store.down = true
	store.mu.Unlock()
	assert.Equal(t, http.StatusUnauthorized, me(b), "no role while the store is down")
	rec = httptest.NewRecorder()
	a.ServeHTTP(rec, httptest.NewRequest("GET", "/studio/?key="+url.QueryEscape(designerKey), nil))
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
	assert.Empty(t, rec.Result().Cookies(), "no cookie for a session that was not stored")
	store.mu.Lock()
	store.down = false
	store.mu.Unlock()
	assert.Equal(t, http.StatusOK, me(a))
}
