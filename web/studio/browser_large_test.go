package studio_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/web/internal/browsertest"
)

// fortyNodes is a branching scenario of 36 line nodes in 9 steps of 4 and 4 endings, with
// ids of a designer's lengths (some long), for the readability of a large graph.
func fortyNodes() string {
	stems := []string{"ask_order_number", "check_address", "apologise_for_the_delay", "offer_refund",
		"confirm_delivery_window", "escalate_to_supervisor_desk", "explain", "hold_music_check_in", "recap"}
	id := func(step, lane int) string { return fmt.Sprintf("%s_%d", stems[step], lane) }
	var b strings.Builder
	b.WriteString("id: forty\ntitle: Forty nodes\nbrief: A parcel that went astray, in many branches.\nstart: " + id(0, 0) + "\nnodes:\n")
	for step := range 9 {
		for lane := range 4 {
			fmt.Fprintf(&b, "  %s:\n    say: Step %d, lane %d — where is my parcel?\n    transitions:\n", id(step, lane), step, lane)
			if step == 0 && lane < 3 { // the first step's lanes are reached one from another
				fmt.Fprintf(&b, "      - {when: 'said(\"again\")', to: %s}\n", id(0, lane+1))
			}
			if step < 8 {
				fmt.Fprintf(&b, "      - {when: 'said(\"yes\")', to: %s}\n", id(step+1, lane))
				fmt.Fprintf(&b, "      - {when: 'said(\"no\")', to: %s}\n", id(step+1, (lane+1)%4))
			} else {
				fmt.Fprintf(&b, "      - {when: 'true', to: end_%d}\n", lane)
			}
		}
	}
	for i, o := range []string{"resolved", "lost", "escalated", "resolved"} {
		fmt.Fprintf(&b, "  end_%d:\n    end: {title: End %d, outcome: %s}\n", i, i, o)
	}
	b.WriteString("intents:\n  \"yes\": [\"yes\"]\n  \"no\": [\"no\"]\n  again: [\"again\"]\n")
	return b.String()
}

// A graph of 40 nodes fitted to its box stays readable: edge labels hidden, every node id at
// least 10 px high on screen and inside its box (long ids shortened with "…"); the full id
// shows on hover and on keyboard focus; the find box centres a node at a readable zoom.
func TestBrowserFortyNodesReadable(t *testing.T) {
	e := newEnv(t)
	require.NoError(t, e.lib.Save("forty.yaml", []byte(fortyNodes()), ""))
	ent, _ := e.lib.Entry("forty.yaml")
	require.False(t, ent.Draft, "%v", ent.Diags)

	p := &page{T: t, Ctx: browsertest.New(t, 1400, 950)}
	p.Do("open it", chromedp.Navigate(e.url+"/studio/?edit=forty.yaml&key="+url.QueryEscape(designerKey)))
	eval[bool](p, browsertest.TrackErrors)
	p.Wait("the graph", `document.querySelectorAll("#graph .node").length === 40`)

	inside := `(() => {
		const b = document.getElementById("graph").getBoundingClientRect();
		return [...document.querySelectorAll("#graph .node rect")].every((x) => {
			const r = x.getBoundingClientRect();
			return r.left >= b.left - 0.5 && r.right <= b.right + 0.5 && r.top >= b.top - 0.5 && r.bottom <= b.bottom + 0.5; }); })()`
	assert.True(t, eval[bool](p, inside), "fitted: every node in view")
	zoom := eval[float64](p, `Number(document.getElementById("graph").dataset.zoom)`)
	t.Logf("40 nodes fitted at zoom %.3f", zoom)
	assert.Less(t, zoom, 0.6, "zoomed out")
	assert.Zero(t, eval[int](p, `[...document.querySelectorAll("#graph .edge text, #graph .node .sub")].filter((x) => x.getBoundingClientRect().width > 0).length`), "edge labels and second lines hidden")
	assert.GreaterOrEqual(t, eval[float64](p, `Math.min(...[...document.querySelectorAll("#graph .node text.id")].map((x) => x.getBoundingClientRect().height))`), 9.99, "ids at least 10 px high")
	overflow := eval[[]string](p, `[...document.querySelectorAll("#graph .node")].filter((g) => {
		const r = g.querySelector("rect").getBoundingClientRect(), t = g.querySelector("text.id").getBoundingClientRect();
		return t.right > r.right + 0.5 || t.left < r.left - 0.5; }).map((g) => g.dataset.node)`)
	assert.Empty(t, overflow, "no id spills out of its box")
	short := eval[[]string](p, `[...document.querySelectorAll("#graph .node text.id")].filter((x) => x.textContent !== x.dataset.full).map((x) => x.textContent + "|" + x.dataset.full)`)
	require.NotEmpty(t, short, "long ids are shortened")
	for _, s := range short {
		shown, full, _ := strings.Cut(s, "|")
		head, tail, ok := strings.Cut(shown, "…")
		assert.True(t, ok && strings.HasPrefix(full, head) && strings.HasSuffix(full, tail), "%q shortens %q, keeping its start and end", shown, full)
		assert.GreaterOrEqual(t, len([]rune(shown)), 6, "%q keeps enough to tell it apart", shown)
	}
	labels := eval[[]string](p, `[...document.querySelectorAll("#graph .node text.id")].map((x) => x.textContent)`)
	seen := map[string]bool{}
	for _, l := range labels {
		assert.False(t, seen[l], "%q is shown on two nodes: they cannot be told apart", l)
		seen[l] = true
	}
	assert.Contains(t, eval[[]string](p, `[...document.querySelectorAll("#graph .node text.id")].map((x) => x.textContent)`), "recap_2", "short ids are whole")
	p.ShotAndAxe("studio-15-forty-fitted") // and -screen; shortened ids are hidden from the accessible name, which has the full one

	// Hover: the full id and line over the node.
	c := eval[[]float64](p, `(() => { const r = document.querySelector('#graph .node[data-node="escalate_to_supervisor_desk_2"] rect').getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2]; })()`)
	p.Do("hover a node", chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, c[0], c[1]))
	p.Wait("the tip", browsertest.Visible("graph-tip"))
	assert.Equal(t, "escalate_to_supervisor_desk_2 lineStep 5, lane 2 — where is my parcel?", eval[string](p, `document.getElementById("graph-tip").textContent`))
	tipBottom := eval[float64](p, `document.getElementById("graph-tip").getBoundingClientRect().bottom`)
	assert.Less(t, tipBottom, c[1], "the tip is above the node")
	p.ShotScreen("studio-15-forty-hover")
	p.Do("move away", chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, 5, 5))
	p.Wait("no tip", `document.getElementById("graph-tip").hidden`)

	// Keyboard focus shows it too.
	p.Do("focus a node", chromedp.Focus(chromedp.CSS(`#graph .node[data-node="confirm_delivery_window_1"]`)))
	p.Wait("the tip on focus", `!document.getElementById("graph-tip").hidden && document.getElementById("graph-tip").textContent.startsWith("confirm_delivery_window_1 ")`)

	// Find: part of an id centres the node at zoom 1, marked and focused, its id whole.
	p.Do("find", chromedp.Focus(chromedp.ID("node-find")), chromedp.KeyEvent("offer_refund_3"), chromedp.KeyEvent(kb.Enter))
	p.Wait("centred", `Number(document.getElementById("graph").dataset.zoom) >= 1`)
	got := eval[[]float64](p, `(() => { const b = document.getElementById("graph").getBoundingClientRect(), r = document.querySelector('#graph .node[data-node="offer_refund_3"] rect').getBoundingClientRect();
		return [b.left + b.width / 2, b.top + b.height / 2, r.left + r.width / 2, r.top + r.height / 2]; })()`)
	assert.InDelta(t, got[0], got[2], 1, "centred across")
	assert.InDelta(t, got[1], got[3], 1, "centred down")
	assert.True(t, eval[bool](p, `document.querySelector('#graph .node[data-node="offer_refund_3"]').classList.contains("found")`))
	assert.Equal(t, "offer_refund_3", eval[string](p, `document.activeElement.dataset.node`))
	assert.Equal(t, "offer_refund_3", eval[string](p, `document.querySelector('#graph .node[data-node="offer_refund_3"] text.id').textContent`))
	assert.True(t, eval[bool](p, `getComputedStyle(document.querySelector('#graph .node[data-node="offer_refund_3"] .sub')).display !== "none"`), "zoomed in: the second line shows")
	p.ShotScreen("studio-15-forty-found")
	if v := p.Axe(); len(v) > 0 {
		t.Errorf("axe-core violations with the find box used:\n  %s", strings.Join(v, "\n  "))
	}

	// A part of an id finds the first node containing it; nothing found says so.
	eval[bool](p, `(document.getElementById("node-find").value = "HOLD_MUSIC") !== ""`)
	p.Do("find a part", chromedp.Click(chromedp.CSS(`#find-form button`)))
	p.Wait("found", `document.activeElement && document.activeElement.dataset && document.activeElement.dataset.node === "hold_music_check_in_0"`)
	eval[bool](p, `(document.getElementById("node-find").value = "nowhere") !== ""`)
	p.Do("find nothing", chromedp.Click(chromedp.CSS(`#find-form button`)))
	assert.Equal(t, "No node matches “nowhere”.", eval[string](p, `document.getElementById("find-msg").textContent`))
	assert.Equal(t, 40, eval[int](p, `document.querySelectorAll("#node-ids option").length`), "the find box offers every id")
	assert.Empty(t, eval[[]string](p, `window.__errors`), "no script errors")
}
