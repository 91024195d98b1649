package studio_test

import (
	"net/url"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"

	"github.com/switchboard-sim/switchboard/web/internal/browsertest"
)

// In headless Chromium: the designer link signs in with a session cookie that scripts
// cannot read; Sign out (a same-origin form POST) revokes it, so the page is signed out
// and its API calls are refused, with no script or CSP errors on the way.
func TestBrowserSignOutRevokes(t *testing.T) {
	e := newEnv(t)
	p := &page{T: t, Ctx: browsertest.New(t, 1200, 800)}
	p.Do("open the designer link", chromedp.Navigate(e.url+"/studio/?key="+url.QueryEscape(designerKey)))
	eval[bool](p, browsertest.TrackErrors)
	p.Wait("the library", `document.querySelectorAll("#lib-rows tr").length === 8`)
	assert.NotContains(t, eval[string](p, `document.cookie`), "switchboard_studio", "HttpOnly: scripts cannot read the session")
	p.Do("sign out", chromedp.Click(chromedp.CSS(`form.signout button`)))
	p.Wait("the sign-in page", browsertest.Visible("secret"))
	status := eval[int](p, `(() => { const x = new XMLHttpRequest(); x.open("GET", "/api/studio/me", false); x.send(); return x.status; })()`)
	assert.Equal(t, 401, status, "the session is gone")
	p.Do("back to the studio", chromedp.Navigate(e.url+"/studio/"))
	p.Wait("still signed out", browsertest.Visible("secret"))
}
