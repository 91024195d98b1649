// Package browsertest drives pages in the system's headless Chromium for tests (via
// chromedp). Without a browser the tests skip, unless SWITCHBOARD_REQUIRE_BROWSER is set
// (.ci/run sets it, after installing Chromium), in which case they fail.
//
// A Page belongs to one test goroutine.
package browsertest

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// Browser tests drive the real page in the system's headless Chromium. Without a browser
// they skip, unless SWITCHBOARD_REQUIRE_BROWSER is set (.ci/run sets it, after installing
// Chromium), in which case they fail.

const (
	browserWait = 20 * time.Second // one step of a browser test
	// ScreenshotDir is where Shot saves screenshots of the key screens, for people to look
	// at (relative to the test's package folder; git ignores it).
	ScreenshotDir = "testoutput"
)

// chromiumNames are the executables tried, in order.
var chromiumNames = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"}

// New starts a headless Chromium and returns a context for one tab in it.
func New(t *testing.T, width, height int) context.Context {
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

// Page is one browser tab on a test server.
type Page struct {
	T   *testing.T
	Ctx context.Context
}

// Do runs actions, one after another, with a per-step timeout. An action that Chrome
// refuses because the tab is between two pages ("Not attached to an active page": it did
// not run) is tried again until the timeout.
func (p *Page) Do(what string, actions ...chromedp.Action[chromedp.Void]) {
	p.T.Helper()
	ctx, cancel := context.WithTimeout(p.Ctx, browserWait)
	defer cancel()
	for _, a := range actions {
		for {
			err := chromedp.Do(ctx, a)
			if err != nil && strings.Contains(err.Error(), "Not attached to an active page") && ctx.Err() == nil {
				time.Sleep(50 * time.Millisecond)
				continue
			}
			require.NoError(p.T, err, what)
			break
		}
	}
}

// Wait polls a JavaScript condition until it is truthy. A page that navigates meanwhile
// (e.g. after a form was sent) is polled again. On failure the page is saved as a
// screenshot named after the test, to see what it showed.
func (p *Page) Wait(what, cond string) {
	p.T.Helper()
	deadline := time.Now().Add(browserWait)
	for {
		ctx, cancel := context.WithDeadline(p.Ctx, deadline)
		err := chromedp.Do(ctx, chromedp.Poll[chromedp.Void](cond, chromedp.WithPollingInterval(20*time.Millisecond)))
		cancel()
		if err == nil {
			return
		}
		if navigating(err) && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		// The screenshot is a help, not the failure: the poll's error is the one reported.
		if shotErr := p.shot("failed-"+strings.ReplaceAll(p.T.Name(), "/", "-"), true); shotErr != nil {
			p.T.Logf("no screenshot of the failure: %v", shotErr)
		}
		require.NoError(p.T, err, what)
	}
}

// navigating reports whether err is Chrome saying the tab is between two pages: a
// navigation replaced the page's JavaScript context under the action, which did not run.
// Chrome says so in several ways, depending on when the action meets the navigation.
func navigating(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "navigated or closed") ||
		strings.Contains(msg, "Cannot find context with specified id") ||
		strings.Contains(msg, "Execution context was destroyed") ||
		strings.Contains(msg, "Not attached to an active page")
}

// Eval evaluates a JavaScript expression. One that Chrome refuses because the tab is
// between two pages (it did not run) is tried again until the step's timeout.
func Eval[T any](p *Page, expr string) T {
	p.T.Helper()
	ctx, cancel := context.WithTimeout(p.Ctx, browserWait)
	defer cancel()
	for {
		v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
		if err != nil && strings.Contains(err.Error(), "Not attached to an active page") && ctx.Err() == nil {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		require.NoError(p.T, err, expr)
		return v
	}
}

// Shot saves a screenshot of the page as testoutput/NAME.png.
func (p *Page) Shot(name string) {
	p.T.Helper()
	require.NoError(p.T, p.shot(name, true))
}

// shot saves a screenshot of the whole page (full) or of the screen as
// testoutput/NAME.png. A tab between two pages is asked again until the step's timeout.
func (p *Page) shot(name string, full bool) error {
	ctx, cancel := context.WithTimeout(p.Ctx, browserWait)
	defer cancel()
	for {
		var png []byte
		var err error
		if full {
			png, err = chromedp.Run(ctx, chromedp.FullScreenshot(100))
		} else {
			png, err = chromedp.Run(ctx, chromedp.CaptureScreenshot())
		}
		if err != nil && navigating(err) && ctx.Err() == nil {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		if err != nil {
			return fmt.Errorf("screenshot %s: %w", name, err)
		}
		if err := os.MkdirAll(ScreenshotDir, 0o755); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(ScreenshotDir, name+".png"), png, 0o644)
	}
}

// Visible is a JavaScript condition: the element with this id is rendered (not hidden by
// an attribute, by CSS or by a hidden ancestor).
func Visible(id string) string {
	return fmt.Sprintf(`((e) => e !== null && e.getClientRects().length > 0)(document.getElementById(%q))`, id)
}

// TrackErrors records uncaught page errors in window.__errors.
const TrackErrors = `window.__errors = []; window.addEventListener("error", (e) => window.__errors.push(String(e.message))); true`

// axeSource is axe-core's built file (see axe/README.md: version, licence). It is embedded
// here, in a package only tests import, and never served by the product.
//
//go:embed axe/axe.min.js
var axeSource string

// AxeRules are the axe-core rule tags checked: WCAG 2.0, 2.1 and 2.2 levels A and AA, and
// axe's best practices.
var AxeRules = []string{"wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"}

// Axe runs axe-core on the page as it is now and returns one line per violation and
// element ("rule: help — selector"); none means the page passed.
func (p *Page) Axe() []string {
	p.T.Helper()
	ctx, cancel := context.WithTimeout(p.Ctx, browserWait)
	defer cancel()
	loaded, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`typeof window.axe === "object"`))
	require.NoError(p.T, err)
	if !loaded {
		_, err := chromedp.Run(ctx, chromedp.Evaluate[bool](axeSource+"\n;true"))
		require.NoError(p.T, err, "loading axe-core")
	}
	tags, _ := json.Marshal(AxeRules)
	out, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`axe.run(document, {runOnly: {type: "tag", values: `+string(tags)+`},
		resultTypes: ["violations"]}).then((r) => r.violations.flatMap((v) =>
		v.nodes.map((n) => v.id + ": " + v.help + " — " + n.target.join(" ") + (n.failureSummary ? " (" + n.failureSummary.replace(/\s+/g, " ") + ")" : ""))))`,
		chromedp.EvalAwaitPromise))
	require.NoError(p.T, err, "running axe-core")
	return out
}

// ShotScreen saves a screenshot of what the screen shows (the viewport, not the whole
// page) as testoutput/NAME.png.
func (p *Page) ShotScreen(name string) {
	p.T.Helper()
	require.NoError(p.T, p.shot(name, false))
}

// ShotAndAxe saves a screenshot of the whole page (NAME.png) and of the screen
// (NAME-screen.png), and asserts that axe-core finds no violation.
func (p *Page) ShotAndAxe(name string) {
	p.T.Helper()
	p.Shot(name)
	p.ShotScreen(name + "-screen")
	if v := p.Axe(); len(v) > 0 {
		p.T.Errorf("axe-core violations on %s:\n  %s", name, strings.Join(v, "\n  "))
	}
}
