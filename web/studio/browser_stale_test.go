package studio_test

import (
	"fmt"
	"net/url"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/web/internal/browsertest"
)

// A YAML error the repairs cannot get round (a stray list item under nodes: nothing can be
// read) keeps the last graph, under a banner naming the error, with a button to go to it;
// fixing it brings the live graph back.
func TestBrowserGraphKeptOnSyntaxError(t *testing.T) {
	e := newEnv(t)
	p := &page{T: t, Ctx: browsertest.New(t, 1400, 950)}
	p.Do("open cheese-shop", chromedp.Navigate(e.url+"/studio/?edit=cheese-shop.yaml&key="+url.QueryEscape(designerKey)))
	eval[bool](p, browsertest.TrackErrors)
	p.Wait("the graph", `document.querySelectorAll("#graph .node").length === 21`)
	assert.False(t, eval[bool](p, browsertest.Visible("graph-stale")))

	line := eval[int](p, cm+`.getValue().split("\n").indexOf("nodes:")`)
	require.Positive(t, line)
	p.Do("break the YAML", chromedp.Evaluate[chromedp.Void](fmt.Sprintf(cm+`.replaceRange("- x\n", {line: %d, ch: 0})`, line+1)))
	p.Wait("the banner", browsertest.Visible("graph-stale"))
	assert.Equal(t, 21, eval[int](p, `document.querySelectorAll("#graph .node").length`), "the last graph stays")
	assert.True(t, eval[bool](p, `document.getElementById("graph").classList.contains("stale")`))
	text := eval[string](p, `document.getElementById("graph-stale-text").textContent`)
	assert.Contains(t, text, "The graph shows the last version that could be drawn")
	assert.Contains(t, text, "cheese-shop.yaml:")
	assert.Contains(t, eval[string](p, `document.getElementById("diags").textContent`), "YAML syntax")
	p.Shot("studio-16-graph-kept")

	p.Do("go to the error", chromedp.Evaluate[chromedp.Void](cm+`.setCursor({line: 0, ch: 0})`), chromedp.Click(chromedp.ID("graph-stale-go")))
	errLine := eval[int](p, `Number(/cheese-shop\.yaml:(\d+):/.exec(document.getElementById("graph-stale-text").textContent)[1])`)
	assert.Equal(t, errLine-1, eval[int](p, cm+`.getCursor().line`))

	p.Do("undo", chromedp.Evaluate[chromedp.Void](cm+`.focus()`), chromedp.KeyEvent("z", chromedp.KeyModifiers(kb.ModifierCtrl)))
	p.Wait("the banner goes", `document.getElementById("graph-stale").hidden && !document.getElementById("graph").classList.contains("stale")`)
	assert.Equal(t, "(none)", eval[string](p, `document.getElementById("diag-count").textContent`))
	assert.Empty(t, eval[[]string](p, `window.__errors`), "no script errors")
}
