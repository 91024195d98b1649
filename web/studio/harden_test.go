package studio_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/web"
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
		var res web.APIError
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
