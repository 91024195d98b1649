package web

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Browser tests drive the real page in the system's headless Chromium. Without a browser
// they skip, unless SWITCHBOARD_REQUIRE_BROWSER is set (.ci/run sets it, after installing
// Chromium), in which case they fail.

const (
	browserWait   = 20 * time.Second // one step of a browser test
	screenshotDir = "testoutput"     // screenshots of the key screens, for people to look at
)

// chromiumNames are the executables tried, in order.
var chromiumNames = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"}

// newBrowser starts a headless Chromium and returns a context for one tab in it.
func newBrowser(t *testing.T, width, height int) context.Context {
	t.Helper()
	if testing.Short() {
		t.Skip("browser tests need Chromium")
	}
	var path string
	for _, name := range chromiumNames {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		if os.Getenv("SWITCHBOARD_REQUIRE_BROWSER") != "" {
			t.Fatalf("no Chromium found (tried %v) and SWITCHBOARD_REQUIRE_BROWSER is set", chromiumNames)
		}
		t.Skipf("no Chromium found (tried %v); install it to run the browser tests", chromiumNames)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.WindowSize(width, height),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
	})
	require.NoError(t, chromedp.Do(ctx), "starting %s", path) // the first run starts the browser
	return ctx
}

// page is one browser tab on a test server.
type page struct {
	t   *testing.T
	ctx context.Context
}

// do runs actions with a per-step timeout.
func (p *page) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, browserWait)
	defer cancel()
	require.NoError(p.t, chromedp.Do(ctx, actions...), what)
}

// wait polls a JavaScript condition until it is truthy.
func (p *page) wait(what, cond string) {
	p.t.Helper()
	p.do(what, chromedp.Poll[chromedp.Void](cond, chromedp.WithPollingTimeout(browserWait), chromedp.WithPollingInterval(20*time.Millisecond)))
}

// eval evaluates a JavaScript expression.
func eval[T any](p *page, expr string) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, browserWait)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	require.NoError(p.t, err, expr)
	return v
}

// shot saves a screenshot of the page as testoutput/NAME.png.
func (p *page) shot(name string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, browserWait)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	require.NoError(p.t, err)
	require.NoError(p.t, os.MkdirAll(screenshotDir, 0o755))
	require.NoError(p.t, os.WriteFile(filepath.Join(screenshotDir, name+".png"), png, 0o644))
}

// visible is a JavaScript condition: the element with this id is rendered (not hidden by
// an attribute, by CSS or by a hidden ancestor).
func visible(id string) string {
	return fmt.Sprintf(`((e) => e !== null && e.getClientRects().length > 0)(document.getElementById(%q))`, id)
}

// trackErrors records uncaught page errors in window.__errors.
const trackErrors = `window.__errors = []; window.addEventListener("error", (e) => window.__errors.push(String(e.message))); true`

// markup is a trainee message that must show as text, never run or render.
const markup = `<script>document.title="pwned"</script><img src=x onerror="document.title='pwned'">`

func TestBrowserCallFromRingToScores(t *testing.T) {
	ts := newTestServer(t, Options{})
	p := &page{t: t, ctx: newBrowser(t, 1100, 900)}

	p.do("open the page", chromedp.Navigate(ts.http.URL+"/"))
	eval[bool](p, trackErrors)
	p.wait("the scenario list", `document.querySelectorAll('input[name="scenario"]').length > 0`)
	assert.Equal(t, "Live test call", eval[string](p, `document.querySelector('#scenario-list .title').textContent`))
	assert.Contains(t, eval[string](p, `document.querySelector('#scenario-list').textContent`), "Lesson: Answer fast")
	p.shot("1-pick")

	// Keyboard only: the name, coach mode, start — then the focus sits on Answer.
	p.do("fill the form", chromedp.Focus(chromedp.ID("trainee")), chromedp.KeyEvent("Robin"),
		chromedp.Click(chromedp.ID("coach")), chromedp.Focus(chromedp.ID("start")), chromedp.KeyEvent("\r"))
	p.wait("the phone rings", visible("phone"))
	assert.Equal(t, "answer", eval[string](p, `document.activeElement.id`), "the Answer button has the focus")
	assert.Equal(t, "The phone is ringing.", eval[string](p, `document.getElementById("status").textContent`))
	p.shot("2-ringing")

	p.do("answer with Enter", chromedp.KeyEvent("\r"))
	p.wait("the phone stops", "!"+visible("phone"))
	assert.Equal(t, "say", eval[string](p, `document.activeElement.id`), "the reply box has the focus")

	// The customer's words stream in: at some point part of the line is shown.
	p.wait("words stream in", `(() => { const w = document.querySelector("#transcript .customer .words");
		return w && w.textContent.split(" ").length >= 2 && w.textContent.split(" ").length < 8; })()`)
	assert.Contains(t, eval[string](p, `document.querySelector("#transcript .customer .words").textContent`), "Hello, Robin")
	p.shot("3-streaming")

	// Typing while the customer speaks interrupts the line; the reply is injected markup.
	p.do("type over the customer", chromedp.KeyEvent(markup), chromedp.KeyEvent("\r"))
	p.wait("the line shows as cut", `document.querySelector("#transcript .customer.cut .cutmark") !== null`)
	cutmark := eval[string](p, `document.querySelector("#transcript .customer.cut .cutmark").textContent`)
	assert.Regexp(t, `^\(cut off after \d+ of 10 words\)$`, cutmark)
	p.wait("the reply shows", `document.querySelector("#transcript .trainee .text") !== null`)
	assert.Equal(t, markup, eval[string](p, `document.querySelector("#transcript .trainee .text").textContent`), "typed markup shows literally")
	assert.Equal(t, 0, eval[int](p, `document.querySelectorAll("#transcript img, #transcript script, #coachbox img").length`))
	assert.Equal(t, "(spoke over the customer)", eval[string](p, `document.querySelector("#transcript .trainee .flag").textContent`))
	p.wait("coach feedback", `document.getElementById("coachbox").textContent.includes("You spoke over Pat.")`)
	p.shot("4-interrupted")

	// Let the customer finish, then apologise and refund.
	p.wait("the next line ends", `document.querySelectorAll("#transcript .customer").length === 2 && document.querySelector("#announce").textContent.includes("money back")`)
	p.do("apologise", chromedp.Focus(chromedp.ID("say")), chromedp.KeyEvent("I'm so sorry, I'll refund you right away."), chromedp.KeyEvent("\r"))
	p.wait("the end view", visible("endview"))
	assert.Equal(t, "Outcome: resolved (refunded)", eval[string](p, `document.getElementById("outcome").textContent`))
	assert.Equal(t, "Passed", eval[string](p, `document.getElementById("verdict").textContent`))
	assert.Equal(t, "Pat got the refund.", eval[string](p, `document.getElementById("end-text").textContent`))
	rows := eval[[]string](p, `[...document.querySelectorAll("#scores tbody tr")].map((r) => r.textContent)`)
	assert.Equal(t, []string{"care2 / 2100%"}, rows)
	fb := eval[string](p, `document.getElementById("feedback-list").textContent`)
	assert.Contains(t, fb, "You spoke over Pat.")
	assert.Contains(t, fb, "Good apology.")
	assert.NotEqual(t, "pwned", eval[string](p, `document.title`))
	assert.Empty(t, eval[[]string](p, `window.__errors`), "uncaught errors on the page")
	p.shot("5-end")
}

func TestBrowserHangUpOnAPhone(t *testing.T) {
	ts := newTestServer(t, Options{})
	p := &page{t: t, ctx: newBrowser(t, 1100, 900)}
	p.do("open the page as a phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulatePortrait),
		chromedp.Navigate(ts.http.URL+"/"))
	eval[bool](p, trackErrors)
	p.wait("the scenario list", `document.querySelectorAll('input[name="scenario"]').length > 0`)
	// Readable on a phone: nothing is wider than the screen.
	assert.LessOrEqual(t, eval[int](p, `document.documentElement.scrollWidth`), 390)
	p.do("start", chromedp.Click(chromedp.ID("start")))
	p.wait("the phone rings", visible("phone"))
	assert.LessOrEqual(t, eval[int](p, `document.documentElement.scrollWidth`), 390)
	p.shot("6-phone-ringing")
	p.do("answer", chromedp.Click(chromedp.ID("answer")))
	p.wait("a word", `document.querySelector("#transcript .customer .words") && document.querySelector("#transcript .customer .words").textContent !== ""`)
	p.do("hang up", chromedp.Click(chromedp.ID("hangup")))
	p.wait("the end view", visible("endview"))
	assert.Equal(t, "Outcome: lost (hangup)", eval[string](p, `document.getElementById("outcome").textContent`))
	assert.Equal(t, "Not passed", eval[string](p, `document.getElementById("verdict").textContent`))
	assert.Equal(t, "You hung up.", eval[string](p, `[...document.querySelectorAll("#transcript .event")].pop().textContent`))
	assert.Empty(t, eval[[]string](p, `window.__errors`))
	p.shot("7-phone-end")
}

// TestBrowserAccessibleNames checks that every control has a name a screen reader reads.
func TestBrowserAccessibleNames(t *testing.T) {
	ts := newTestServer(t, Options{})
	p := &page{t: t, ctx: newBrowser(t, 1100, 900)}
	p.do("open the page", chromedp.Navigate(ts.http.URL+"/"))
	p.wait("the scenario list", `document.querySelectorAll('input[name="scenario"]').length > 0`)
	unnamed := eval[[]string](p, `[...document.querySelectorAll("button, input, textarea, select")].filter((e) => {
		const id = e.id && document.querySelector('label[for="' + e.id + '"]');
		const wrapped = e.closest("label");
		return !(id || wrapped || e.getAttribute("aria-label") || (e.tagName === "BUTTON" && e.textContent.trim()));
	}).map((e) => e.outerHTML)`)
	assert.Empty(t, unnamed, "controls without an accessible name")
	assert.Equal(t, "en", eval[string](p, `document.documentElement.lang`))
	regions := eval[[]string](p, `[...document.querySelectorAll("[aria-live], [role=status], [role=alert]")].map((e) => e.id)`)
	for _, id := range []string{"status", "announce", "coachbox", "start-error", "call-error"} {
		assert.Contains(t, regions, id, fmt.Sprintf("#%s is announced to screen readers", id))
	}
}

func TestBrowserReloadMidCallThenDebriefAndHistory(t *testing.T) {
	ts := newTestServer(t, Options{})
	p := &page{t: t, ctx: newBrowser(t, 1100, 900)}
	p.do("open the page", chromedp.Navigate(ts.http.URL+"/"))
	p.wait("the scenario list", `document.querySelectorAll('input[name="scenario"]').length > 0`)
	p.do("start", chromedp.Focus(chromedp.ID("trainee")), chromedp.KeyEvent("Robin"), chromedp.Click(chromedp.ID("start")))
	p.wait("the phone rings", visible("phone"))
	p.do("answer", chromedp.Click(chromedp.ID("answer")))
	p.wait("the greeting is spoken", `document.getElementById("announce").textContent.includes("what now?")`)

	// Reload the tab mid-call: the page reconnects by itself and rebuilds the call.
	p.do("reload", chromedp.Reload())
	eval[bool](p, trackErrors)
	p.wait("the call is back", `document.querySelector("#transcript .customer .words") !== null &&
		document.querySelector("#transcript .customer .words").textContent.startsWith("Hello, Robin")`)
	assert.Equal(t, "You answered the phone.", eval[string](p, `document.querySelector("#transcript .event").textContent`))
	assert.False(t, eval[bool](p, visible("pick")), "the call view, not the picker")
	p.shot("8-after-reload")
	p.do("apologise", chromedp.Focus(chromedp.ID("say")), chromedp.KeyEvent("So sorry, here is a refund."), chromedp.KeyEvent("\r"))
	p.wait("the end view", visible("endview"))
	assert.Equal(t, 1, eval[int](p, `document.querySelectorAll("#transcript .trainee").length`), "the reply was applied once")

	// The debrief.
	href := eval[string](p, `document.getElementById("debrief-link").href`)
	assert.Contains(t, href, "/debrief.html#id=")
	p.do("open the debrief", chromedp.Navigate(href))
	p.wait("the debrief", visible("debrief"))
	eval[bool](p, trackErrors)
	assert.Equal(t, "Debrief: Live test call", eval[string](p, `document.getElementById("d-title").textContent`))
	assert.Contains(t, eval[string](p, `document.getElementById("d-verdict").textContent`), "Passed")
	assert.Equal(t, 1, eval[int](p, `document.querySelectorAll("#chart svg rect.bar").length`), "one bar per score axis")
	assert.GreaterOrEqual(t, eval[int](p, `document.querySelectorAll("#timeline svg g.fired").length`), 1, "fired rules on the timeline")
	assert.Contains(t, eval[string](p, `document.getElementById("fired").textContent`), "Good apology.")
	assert.Contains(t, eval[string](p, `document.getElementById("quiet").textContent`), "interrupting", "a rule that never fired")
	lines := eval[[]string](p, `[...document.querySelectorAll("#d-transcript li")].map((li) => li.textContent)`)
	require.NotEmpty(t, lines)
	assert.Contains(t, strings.Join(lines, "\n"), "You:So sorry, here is a refund.")
	p.shot("9-debrief")

	p.do("open the history", chromedp.Navigate(ts.http.URL+"/history.html"))
	p.wait("the history row", `document.querySelectorAll("#history tbody tr").length === 1 &&
		!document.querySelector("#history tbody tr").textContent.includes("…")`)
	row := eval[string](p, `document.querySelector("#history tbody tr").textContent`)
	assert.Contains(t, row, "Live test call")
	assert.Contains(t, row, "resolved, passed")
	assert.Contains(t, row, "100%")
	p.shot("10-history")
}

func TestBrowserDebriefWithoutToken(t *testing.T) {
	ts := newTestServer(t, Options{})
	r := ts.start(t, `{"scenario":"live"}`)
	p := &page{t: t, ctx: newBrowser(t, 800, 600)}
	p.do("open a debrief with a wrong token", chromedp.Navigate(ts.http.URL+"/debrief.html#id="+r.ID+"&token=wrong"))
	p.wait("the error", `document.getElementById("load-error").textContent !== ""`)
	assert.Contains(t, eval[string](p, `document.getElementById("load-error").textContent`), "wrong call token")
	assert.False(t, eval[bool](p, visible("debrief")))
}
