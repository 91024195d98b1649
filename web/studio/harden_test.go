package studio_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
