package studio_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/web/internal/browsertest"
)

// Coverage on the graph: the designer runs cheese-shop's tests; the summary names what
// they exercise; the node and ending no test reaches are hatched and marked ✗ (not only
// coloured), covered ones ✓; edges likewise; the list of what is not covered jumps to the
// line; an edit marks the coverage as stale; Hide removes the overlay.
func TestBrowserCoverageOverlay(t *testing.T) {
	e := newEnv(t)
	// The shipped tests reach every ending; without this one, walked_out is reached by none.
	dropTestCase(t, e, "cheese-shop.test.yaml", "honest, but offering nothing twice, and he walks out")
	// and without these two, nothing enters pressed.
	dropTestCase(t, e, "cheese-shop.test.yaml", `"'id have to check the back' is a stall"`)
	dropTestCase(t, e, "cheese-shop.test.yaml", `"praising his cheese board instead of answering is a dodge"`)
	p := &page{T: t, Ctx: browsertest.New(t, 1400, 1000)}
	p.Do("open cheese-shop", chromedp.Navigate(e.url+"/studio/?edit=cheese-shop.yaml&key="+url.QueryEscape(designerKey)))
	eval[bool](p, browsertest.TrackErrors)
	p.Wait("the graph", `document.querySelectorAll("#graph .node").length === 21`)
	assert.Zero(t, eval[int](p, `document.querySelectorAll("#graph .cov-yes, #graph .cov-no").length`), "no overlay before a run")
	assert.False(t, eval[bool](p, browsertest.Visible("cov-bar")))

	p.Do("run the tests", chromedp.Click(chromedp.CSS(`[data-panel="tests"]`)), chromedp.Click(chromedp.ID("run-tests")))
	p.Wait("the results", `document.getElementById("tests-summary").textContent === "43 passed, 0 failed"`)
	assert.Equal(t, "The tests exercise 12/13 nodes, 23/32 transitions, 7/8 endings, 13/31 rules.", eval[string](p, `document.getElementById("cov-summary").textContent`))
	assert.True(t, eval[bool](p, browsertest.Visible("graph")), "the graph stays in view on the Tests tab")
	assert.Equal(t, "Coverage: 12/13 nodes, 23/32 transitions, 7/8 endings, 13/31 rules", eval[string](p, `document.getElementById("cov-bar-text").textContent`))

	// Not covered: hatched, ✗, and said in the accessible name and the tooltip.
	assert.Equal(t, []string{"pressed", "walked_out"}, eval[[]string](p, `[...document.querySelectorAll("#graph .node.cov-no")].map((g) => g.dataset.node).sort()`))
	assert.Equal(t, 2, eval[int](p, `document.querySelectorAll("#graph .node.cov-no rect.hatch").length`))
	assert.Equal(t, "✗", eval[string](p, `document.querySelector('#graph .node[data-node="pressed"] .covmark text').textContent`))
	assert.Contains(t, eval[string](p, `document.querySelector('#graph .node[data-node="pressed"]').getAttribute("aria-label")`), "not covered by any test")
	assert.Contains(t, eval[string](p, `document.querySelector('#graph .node[data-node="pressed"] title').textContent`), "not covered by any test")
	assert.Equal(t, 19, eval[int](p, `document.querySelectorAll("#graph .node.cov-yes").length`))
	assert.Equal(t, "✓", eval[string](p, `document.querySelector('#graph .node.start .covmark text').textContent`))
	assert.Zero(t, eval[int](p, `document.querySelectorAll("#graph .node.cov-yes rect.hatch").length`))
	// Edges: every drawn edge is marked, its label starting with ✓ or ✗, and the line style
	// differs (dotted when not covered).
	assert.Zero(t, eval[int](p, `[...document.querySelectorAll("#graph .edge")].filter((g) => !g.classList.contains("cov-yes") && !g.classList.contains("cov-no")).length`))
	assert.True(t, eval[bool](p, `[...document.querySelectorAll('#graph .edge.cov-no[data-to="pressed"]')].length >= 4`))
	assert.True(t, eval[bool](p, `[...document.querySelectorAll("#graph .edge.cov-no text")].every((x) => x.textContent.startsWith("✗ "))`))
	assert.True(t, eval[bool](p, `[...document.querySelectorAll("#graph .edge.cov-yes text")].every((x) => x.textContent.startsWith("✓ "))`))
	assert.NotEqual(t, "none", eval[string](p, `getComputedStyle(document.querySelector("#graph .edge.cov-no path")).strokeDasharray`))
	// The global rules listed under the graph say whether the tests fired them.
	assert.Equal(t, 13, eval[int](p, `document.querySelectorAll("#rules .rulecov.cov-yes").length`))
	assert.Contains(t, eval[string](p, `document.getElementById("rules").textContent`), fmt.Sprintf("slow-answer: event == \"answer\" && ringing > 10 (rules/time.yaml:%d) ✗ never fired in the tests", slowAnswerLine(t, e)))
	p.Do("fit", chromedp.Click(chromedp.ID("zoom-fit")))
	p.ShotAndAxe("studio-13-coverage") // and -screen: no axe-core violation with the overlay on
	// Zoomed in around "pressed": the marks and labels read.
	eval[bool](p, `(() => { const g = document.getElementById("graph"); while (Number(g.dataset.zoom) < 0.9) document.getElementById("zoom-in").click(); return true; })()`)
	c := eval[[]float64](p, `(() => { const b = document.getElementById("graph").getBoundingClientRect(), r = document.querySelector('#graph .node[data-node="pressed"] rect').getBoundingClientRect();
		return [b.left + b.width / 2 - (r.left + r.width / 2), b.top + b.height / 2 - (r.top + r.height / 2)]; })()`)
	p.Do("centre pressed", chromedp.Focus(chromedp.ID("graph")))
	eval[bool](p, fmt.Sprintf(`(() => { const l = document.querySelector("#graph g.view"); const m = /translate\(([-\d.e]+),([-\d.e]+)\) scale\(([-\d.e]+)\)/.exec(l.getAttribute("transform")); l.setAttribute("transform", "translate(" + (Number(m[1]) + %f) + "," + (Number(m[2]) + %f) + ") scale(" + m[3] + ")"); return true; })()`, c[0], c[1]))
	p.ShotScreen("studio-13-coverage-zoomed")

	// The list of what is not covered: click one to go to its line. Lines are found in the
	// shipped file, so an edit of its lexicon does not break the test.
	src, _ := e.lib.File("cheese-shop.yaml")
	lines := strings.Split(string(src), "\n")
	lineOf := func(prefix string) int {
		for i, l := range lines {
			if strings.HasPrefix(l, prefix) {
				return i + 1
			}
		}
		t.Fatalf("no line %q in cheese-shop.yaml", prefix)
		return 0
	}
	pressed, walked := lineOf("  pressed:"), lineOf("  walked_out:")
	missed := eval[[]string](p, `[...document.querySelectorAll("#cov-missed li")].map((li) => li.textContent)`)
	assert.Contains(t, missed, fmt.Sprintf("node pressed — never entered cheese-shop.yaml:%d", pressed))
	assert.Contains(t, missed, fmt.Sprintf("ending walked_out — never reached cheese-shop.yaml:%d", walked))
	assert.Contains(t, missed, fmt.Sprintf("rule slow-answer — never fired rules/time.yaml:%d", slowAnswerLine(t, e)))
	var edge int
	for _, m := range missed {
		if n, err := fmt.Sscanf(m, "transition ask_manchego → pressed — never taken cheese-shop.yaml:%d", &edge); n == 1 && err == nil {
			break
		}
	}
	require.Positive(t, edge, "the untaken transition ask_manchego → pressed is listed: %v", missed)
	assert.Contains(t, lines[edge-1], "to: pressed", "at its line")
	assert.Len(t, missed, 1+1+9+18) // node, ending, transitions, rules
	assert.Zero(t, eval[int](p, `document.querySelectorAll('#cov-missed li[data-name="slow-answer"] button').length`), "a pack's rule is not a link into this file")
	p.Do("click the missed ending", chromedp.Click(chromedp.CSS(`#cov-missed li[data-name="walked_out"] button`)))
	assert.Equal(t, walked-1, eval[int](p, cm+`.getCursor().line`), "the click jumps to the ending's line")

	// An edit makes the coverage stale (said, not hidden); Hide removes the overlay.
	assert.False(t, eval[bool](p, browsertest.Visible("cov-stale")))
	p.Do("edit", chromedp.Evaluate[chromedp.Void](cm+`.replaceRange("# a comment\n", {line: 0, ch: 0})`))
	p.Wait("stale", browsertest.Visible("cov-stale"))
	p.Do("hide", chromedp.Click(chromedp.ID("cov-hide")))
	p.Wait("no overlay", `document.querySelectorAll("#graph .cov-yes, #graph .cov-no").length === 0`)
	assert.False(t, eval[bool](p, browsertest.Visible("coverage")))
	assert.Empty(t, eval[[]string](p, `window.__errors`), "no script errors")
}

// slowAnswerLine is the line of the time pack's slow-answer rule, found in the shipped
// file so that an edit of the pack does not break the test.
func slowAnswerLine(t *testing.T, e *env) int {
	t.Helper()
	src, ok := e.lib.File("rules/time.yaml")
	require.True(t, ok, "the time pack is in the library")
	for i, l := range strings.Split(string(src), "\n") {
		if strings.HasPrefix(l, "  - id: slow-answer") {
			return i + 1
		}
	}
	t.Fatal("no slow-answer rule in rules/time.yaml")
	return 0
}
