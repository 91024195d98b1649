package studio_test

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/web/internal/browsertest"
)

type page = browsertest.Page

func eval[T any](p *page, expr string) T { return browsertest.Eval[T](p, expr) }

// cm is the page's CodeMirror editor, in JavaScript.
const cm = `document.querySelector(".CodeMirror").CodeMirror`

// The studio end to end in headless Chromium: refused without the secret, signed in by the
// designer link; a new scenario; an error typed and seen at its line; fixed by undo; the
// graph updating; the tests run; saved to disk; played from a node with the debug panel;
// recorded as a test; and an edit on disk reloaded into the editor.
func TestBrowserStudio(t *testing.T) {
	e := newEnv(t)
	p := &page{T: t, Ctx: browsertest.New(t, 1400, 950)}

	p.Do("open the studio without a secret", chromedp.Navigate(e.url+"/studio/"))
	p.Wait("the sign-in page", browsertest.Visible("secret"))
	assert.Contains(t, eval[string](p, `document.body.textContent`), "designer link")
	p.Shot("studio-1-signin")

	p.Do("open the designer link", chromedp.Navigate(e.url+"/studio/?key="+url.QueryEscape(designerKey)))
	eval[bool](p, browsertest.TrackErrors)
	p.Wait("the library", `document.querySelectorAll("#lib-rows tr").length === 8`)
	assert.NotContains(t, eval[string](p, `location.href`), "key=", "the secret leaves the address bar")
	assert.Equal(t, "designer", eval[string](p, `document.getElementById("role").textContent`))
	assert.Equal(t, 8, eval[int](p, `document.querySelectorAll("#lib-rows .badge.ok").length / 3`), "clean, tests pass, live")
	p.Shot("studio-2-library")

	// A new scenario from the template opens in the editor.
	p.Do("create a scenario", chromedp.Focus(chromedp.ID("new-id")), chromedp.KeyEvent("lost-parcel"),
		chromedp.Focus(chromedp.ID("new-title")), chromedp.KeyEvent("The lost parcel"), chromedp.Click(chromedp.CSS(`#new-form button[type=submit]`)))
	p.Wait("the editor", `document.querySelector(".CodeMirror") !== null && document.querySelectorAll("#graph .node").length === 5`)
	assert.Equal(t, "(none)", eval[string](p, `document.getElementById("diag-count").textContent`))
	assert.Equal(t, 1, eval[int](p, `document.querySelectorAll("#graph .node.start").length`))
	assert.Equal(t, 1, eval[int](p, `document.querySelectorAll("#graph .node.resolved").length`))
	assert.Equal(t, 2, eval[int](p, `document.querySelectorAll("#graph .node.lost").length`))

	// Type an error: a transition to a node that does not exist.
	line := eval[int](p, cm+`.getValue().split("\n").findIndex((l) => l.includes("to: thanks"))`)
	require.Positive(t, line)
	col := eval[int](p, fmt.Sprintf(cm+`.getLine(%d).indexOf("thanks")`, line))
	p.Do("type an error", chromedp.Evaluate[chromedp.Void](fmt.Sprintf(cm+`.focus(); `+cm+`.setCursor({line: %d, ch: %d})`, line, col+len("thanks"))),
		chromedp.KeyEvent("x"))
	p.Wait("the diagnostic", `document.querySelectorAll("#diags li.error").length > 0`)
	diag := eval[string](p, `document.querySelector("#diags li.error").textContent`)
	assert.Contains(t, diag, fmt.Sprintf("lost-parcel.yaml:%d:%d", line+1, col+1), "at the right line and column")
	assert.Contains(t, diag, `did you mean "thanks"`)
	p.Wait("the lint mark in the gutter", `document.querySelector(".CodeMirror-lint-marker-error") !== null`)
	// One mistake, one error: the misspelt target is drawn as a broken arrow to the node
	// it most likely means, which is not also called unreachable.
	p.Wait("the graph is still drawn", `document.querySelectorAll("#graph .node").length === 5`)
	p.Wait("the graph shows the broken arrow", `document.querySelectorAll("#graph .edge.broken").length === 1`)
	assert.Equal(t, 0, eval[int](p, `document.querySelectorAll("#graph .node.unreachable, #graph .node.deadend").length`), "no knock-on marks")
	assert.Equal(t, 1, eval[int](p, `document.querySelectorAll("#diags li.error").length`), "no knock-on errors")
	assert.Contains(t, eval[string](p, `document.getElementById("file-state").textContent`), "unsaved")
	p.Shot("studio-3-error")

	// Clicking the diagnostic puts the cursor there.
	p.Do("move away, then click the diagnostic", chromedp.Evaluate[chromedp.Void](cm+`.setCursor({line: 0, ch: 0})`),
		chromedp.Click(chromedp.CSS(`#diags li.error button`)))
	assert.Equal(t, line, eval[int](p, cm+`.getCursor().line`))
	assert.Equal(t, col, eval[int](p, cm+`.getCursor().ch`))

	// Undo with the keyboard fixes it.
	p.Do("undo", chromedp.KeyEvent("z", chromedp.KeyModifiers(kb.ModifierCtrl)))
	p.Wait("no problems", `document.getElementById("diag-count").textContent === "(none)"`)

	// Add a node: the graph grows.
	p.Do("add a node", chromedp.Evaluate[chromedp.Void](cm+`.replaceRange("  escalate:\n    say: Let me get my manager.\n    end: {title: Escalated, outcome: escalated}\n", {line: `+cm+`.lastLine()})`))
	p.Wait("the new node is drawn, unreachable", `document.querySelectorAll("#graph .node.escalated.unreachable").length === 1`)
	p.Wait("and reported", `document.getElementById("diags").textContent.includes("ending escalate is never reached")`)
	p.Do("undo it", chromedp.Evaluate[chromedp.Void](cm+`.focus()`), chromedp.KeyEvent("z", chromedp.KeyModifiers(kb.ModifierCtrl)))
	p.Wait("back to five nodes", `document.querySelectorAll("#graph .node").length === 5 && document.getElementById("diag-count").textContent === "(none)"`)
	p.Shot("studio-4-graph")

	// A YAML syntax error (a key indented one space too far back) is reported at its line,
	// and the graph stays drawn.
	bad := eval[int](p, cm+`.getValue().split("\n").findIndex((l) => /^    transitions:/.test(l))`)
	require.Positive(t, bad)
	p.Do("break the indentation", chromedp.Evaluate[chromedp.Void](fmt.Sprintf(cm+`.replaceRange("", {line: %d, ch: 0}, {line: %d, ch: 1})`, bad, bad)))
	p.Wait("the YAML error", fmt.Sprintf(`document.getElementById("diags").textContent.includes("lost-parcel.yaml:%d:4error: bad indentation")`, bad+1))
	assert.Equal(t, 5, eval[int](p, `document.querySelectorAll("#graph .node").length`), "the graph is still drawn")
	p.Shot("studio-4b-yaml-error")
	p.Do("undo it", chromedp.Evaluate[chromedp.Void](cm+`.focus()`), chromedp.KeyEvent("z", chromedp.KeyModifiers(kb.ModifierCtrl)))
	p.Wait("clean again", `document.getElementById("diag-count").textContent === "(none)"`)

	// The highlighter: an apostrophe inside plain text does not start a string.
	tok := func(src string, ch int) string {
		return eval[string](p, fmt.Sprintf(`String(CodeMirror(document.createElement("div"), {value: %q, mode: "switchboard-yaml"}).getTokenTypeAt({line: 0, ch: %d}))`, src, ch))
	}
	assert.Equal(t, "null", tok("say: I can't find it, don't worry", 20), "plain text after an apostrophe")
	assert.Equal(t, "string", tok("say: 'Quoted text'", 9))
	assert.Equal(t, "string", tok(`- {when: 'true', to: done}`, 12))

	// Run the tests.
	p.Do("run the tests", chromedp.Click(chromedp.CSS(`[data-panel="tests"]`)), chromedp.Click(chromedp.ID("run-tests")))
	p.Wait("the results", `document.getElementById("tests-summary").textContent === "3 passed, 0 failed"`)
	p.Shot("studio-5-tests")

	// Change the title and save with Ctrl+S: the file on disk has it.
	p.Do("edit the title", chromedp.Evaluate[chromedp.Void](`(() => { const c = `+cm+`; const l = c.getValue().split("\n").findIndex((x) => x.startsWith("title:")); c.replaceRange("title: \"The parcel that went astray\"", {line: l, ch: 0}, {line: l}); c.focus(); })()`),
		chromedp.KeyEvent("s", chromedp.KeyModifiers(kb.ModifierCtrl)))
	p.Wait("saved", `document.getElementById("file-state").textContent === "saved"`)
	disk, err := os.ReadFile(filepath.Join(e.dir, "lost-parcel.yaml"))
	require.NoError(t, err)
	assert.Contains(t, string(disk), `title: "The parcel that went astray"`)
	assert.Equal(t, eval[string](p, cm+`.getValue()`), string(disk))
	assert.Equal(t, "The parcel that went astray", traineeTitles(t, e)["lost-parcel"])

	// Play from a node with the debug panel.
	p.Do("open Play", chromedp.Click(chromedp.CSS(`[data-panel="play"]`)))
	p.Do("start at ask", chromedp.SetValue(chromedp.ID("play-node"), "ask"),
		chromedp.Evaluate[chromedp.Void](`document.getElementById("play-node").dispatchEvent(new Event("change"))`),
		chromedp.Click(chromedp.CSS(`#play-form button[type=submit]`)))
	p.Wait("the debug panel", `document.getElementById("dbg-node").textContent === "ask"`)
	p.Wait("the graph marks the current node", `document.querySelector('#graph .node.current[data-node="ask"]') !== null`)
	p.Wait("the choices", `document.querySelectorAll("#choices button").length === 2`)
	// Suggestions come in an order shuffled per call: pick the helpful one by its text.
	p.Do("pick the helpful reply", chromedp.Evaluate[chromedp.Void](`[...document.querySelectorAll("#choices button")].find((b) => b.textContent.startsWith("Hello!")).click()`))
	p.Wait("the guard that fired", `document.getElementById("dbg-trace").textContent.includes('said("help") && said("greet")  → thanks  = true')`)
	assert.Equal(t, "thanks", eval[string](p, `document.getElementById("dbg-node").textContent`))
	assert.Contains(t, eval[string](p, `document.getElementById("dbg-scores").textContent`), "courtesy2")
	p.Wait("the end", `document.getElementById("call-status").textContent.startsWith("ended: thanks")`)
	p.Shot("studio-6-play")

	// A call from the start can be recorded as a test, which lands in the test file.
	p.Do("play from the start", chromedp.SetValue(chromedp.ID("play-node"), ""),
		chromedp.Click(chromedp.CSS(`#play-form button[type=submit]`)))
	p.Wait("ringing", browsertest.Visible("answer"))
	p.Do("answer", chromedp.Click(chromedp.ID("answer")))
	p.Wait("the question", `document.querySelectorAll("#choices button").length === 2`)
	assert.False(t, eval[bool](p, `document.getElementById("say").disabled`), "the reply box is open during a call")
	p.Do("say something unhelpful", chromedp.Focus(chromedp.ID("say")), chromedp.KeyEvent("Sorry, no idea.\r"))
	p.Wait("the end", `document.getElementById("call-status").textContent.startsWith("ended: annoyed")`)
	assert.True(t, eval[bool](p, `document.getElementById("say").disabled && document.getElementById("hangup").disabled && document.querySelector("#say-form button").disabled`),
		"after the end, nothing can be sent")
	p.Do("record it", chromedp.Focus(chromedp.ID("record-name")), chromedp.Evaluate[chromedp.Void](`document.getElementById("record-name").value = "an unhelpful answer loses the customer"`),
		chromedp.Click(chromedp.CSS(`#record-form button[type=submit]`)))
	p.Wait("the test file has it", `document.getElementById("tab-tests").getAttribute("aria-selected") === "true" && `+cm+`.getValue().includes("an unhelpful answer loses the customer")`)
	p.Do("run the tests", chromedp.Click(chromedp.CSS(`[data-panel="tests"]`)), chromedp.Click(chromedp.ID("run-tests")))
	p.Wait("four pass", `document.getElementById("tests-summary").textContent === "4 passed, 0 failed"`)
	p.Do("save the tests", chromedp.Click(chromedp.ID("save")))
	p.Wait("saved", `document.getElementById("file-state").textContent === "saved"`)
	tests, err := os.ReadFile(filepath.Join(e.dir, "lost-parcel.test.yaml"))
	require.NoError(t, err)
	assert.Contains(t, string(tests), "an unhelpful answer loses the customer")

	// An edit made on disk with another editor shows up within a second.
	p.Do("back to the scenario", chromedp.Click(chromedp.ID("tab-scenario")))
	edited := strings.Replace(string(disk), "Great, thank you so much.", "Brilliant, thanks a lot.", 1)
	start := time.Now()
	require.NoError(t, os.WriteFile(filepath.Join(e.dir, "lost-parcel.yaml"), []byte(edited), 0o644))
	p.Wait("the editor reloads", cm+`.getValue().includes("Brilliant, thanks a lot.")`)
	t.Logf("an edit on disk reached the editor in %v", time.Since(start))
	assert.Less(t, time.Since(start), 2*time.Second)
	p.Wait("and counts as saved", `document.getElementById("file-state").textContent === "saved"`)

	// Revisions: the versions replaced are listed. The server keeps the replaced version
	// when its rescan notices the edit; on a loaded machine that can take a while, so the
	// test first waits for the server's list (and says what it holds if it never has two).
	var revs struct {
		Revisions []struct {
			ID   string `json:"id"`
			Size int    `json:"size"`
		} `json:"revisions"`
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		require.Equal(t, 200, e.call("GET", "/api/studio/revisions/lost-parcel.yaml", designerKey, nil, &revs))
		if len(revs.Revisions) >= 2 || time.Now().After(deadline) {
			break
		}
	}
	require.GreaterOrEqual(t, len(revs.Revisions), 2, "the server's revisions of lost-parcel.yaml: %+v", revs.Revisions)
	if len(revs.Revisions) > 2 {
		t.Logf("more revisions than the two edits: %+v", revs.Revisions) // what a loaded machine did, for the record
	}
	p.Do("open revisions", chromedp.Click(chromedp.CSS(`[data-panel="revisions"]`)))
	// The replaced version is recorded as the change is noticed; under load the list may
	// be fetched first: opening the panel again fetches it again.
	p.Wait("two revisions", `(() => { if (document.querySelectorAll("#revisions li a").length >= 2) return true;
		if (!window.__revs || Date.now() - window.__revs > 500) { window.__revs = Date.now(); document.querySelector('[data-panel="revisions"]').click(); }
		return false; })()`)
	p.Do("view one", chromedp.Click(chromedp.CSS(`#revisions li a`)))
	p.Wait("its diff to the editor", `document.getElementById("rev-diff").textContent.includes("Brilliant, thanks a lot.")`)
	p.Do("its text", chromedp.Click(chromedp.CSS(`[data-rev-mode="source"]`)))
	p.Wait("its source", `document.getElementById("rev-source").textContent.includes("The parcel that went astray")`)
	p.Shot("studio-7-revisions")

	assert.Empty(t, eval[[]string](p, `window.__errors`), "no script errors")
}

// A graph of 60 nodes is laid out without overlapping nodes.
func TestBrowserLargeGraphLayout(t *testing.T) {
	e := newEnv(t)
	var b strings.Builder
	b.WriteString("id: big\ntitle: Big\nbrief: A long chain with branches.\nstart: n0\nnodes:\n")
	const n = 60
	for i := range n {
		fmt.Fprintf(&b, "  n%d:\n    say: Step %d.\n    transitions:\n", i, i)
		if i+1 < n {
			fmt.Fprintf(&b, "      - {when: 'said(\"yes\")', to: n%d}\n", i+1)
		}
		if i+3 < n {
			fmt.Fprintf(&b, "      - {when: 'said(\"skip\")', to: n%d}\n", i+3)
		}
		fmt.Fprintf(&b, "      - {when: 'true', to: end%d}\n", i%3)
	}
	for i := range 3 {
		fmt.Fprintf(&b, "  end%d:\n    end: {title: End, outcome: %s}\n", i, []string{"resolved", "lost", "escalated"}[i])
	}
	b.WriteString("intents:\n  \"yes\": [\"yes\"]\n  skip: [\"skip\"]\n  rude: [\"shut up\"]\n")
	b.WriteString("rules:\n  - id: rude\n    when: said(\"rude\")\n    to: end1\n")
	require.NoError(t, e.lib.Save("big.yaml", []byte(b.String()), ""))
	ent, _ := e.lib.Entry("big.yaml")
	require.False(t, ent.Draft, "%v", ent.Diags)

	p := &page{T: t, Ctx: browsertest.New(t, 1400, 950)}
	p.Do("open it", chromedp.Navigate(e.url+"/studio/?edit=big.yaml&key="+url.QueryEscape(designerKey)))
	p.Wait("the graph", `document.querySelectorAll("#graph .node").length === 63`)
	overlaps := eval[int](p, `(() => {
		const r = [...document.querySelectorAll("#graph .node rect")].map((x) => x.getBoundingClientRect());
		let n = 0;
		for (let i = 0; i < r.length; i++) for (let j = i + 1; j < r.length; j++) {
			const a = r[i], b = r[j];
			if (a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1) n++;
		}
		return n; })()`)
	assert.Zero(t, overlaps, "no two nodes overlap")
	eval[bool](p, browsertest.TrackErrors)

	// A large graph is fitted to its box on first draw: every node and the rules badge are
	// inside the box, and ids stay readable (at least 9 px on screen).
	inside := `(() => {
		const b = document.getElementById("graph").getBoundingClientRect();
		return [...document.querySelectorAll("#graph .node rect, #graph .badge rect")].every((x) => {
			const r = x.getBoundingClientRect();
			return r.left >= b.left - 0.5 && r.right <= b.right + 0.5 && r.top >= b.top - 0.5 && r.bottom <= b.bottom + 0.5; }); })()`
	assert.True(t, eval[bool](p, inside), "the first draw of a large graph fits it in view")
	assert.True(t, eval[bool](p, `document.querySelector("#graph svg").classList.contains("far")`), "zoomed out: the far style is on")
	assert.Zero(t, eval[int](p, `[...document.querySelectorAll("#graph .edge text")].filter((x) => x.getBoundingClientRect().width > 0).length`), "edge labels are hidden when zoomed out")

	// The global rule that moves the call is a dashed edge from the rules badge.
	assert.Equal(t, 1, eval[int](p, `document.querySelectorAll('#graph .edge.rule[data-to="end1"]').length`), "the global rule is drawn as an edge")
	assert.Equal(t, "7 4", eval[string](p, `getComputedStyle(document.querySelector("#graph .edge.rule path")).strokeDasharray.replace(/px|,/g, "")`))
	p.Shot("studio-8-large-graph-fitted")

	// Zoomed out to 0.3, labels are hidden and node ids are still 9 px.
	zoomTo := func(k float64) {
		eval[bool](p, fmt.Sprintf(`(() => { const g = document.getElementById("graph"); while (Number(g.dataset.zoom) < %g) document.getElementById("zoom-in").click(); return true; })()`, k))
	}
	zoomTo(0.3)
	assert.True(t, eval[bool](p, `document.querySelector("#graph svg").classList.contains("far")`), "still zoomed out")
	assert.GreaterOrEqual(t, eval[float64](p, `Math.min(...[...document.querySelectorAll("#graph .node text.id")].map((x) => x.getBoundingClientRect().height))`), 9.0, "node ids keep a readable size")
	p.Shot("studio-8-large-graph-far")

	// Zoom in, then Fit brings the whole graph back.
	zoomTo(1)
	assert.False(t, eval[bool](p, inside), "zoomed in, the graph is larger than its box")
	assert.False(t, eval[bool](p, `document.querySelector("#graph svg").classList.contains("far")`), "zoomed in: labels are shown")
	p.Shot("studio-8-large-graph-zoomed")
	p.Do("fit", chromedp.Click(chromedp.ID("zoom-fit")))
	assert.True(t, eval[bool](p, inside), "Fit brings every node into view")

	// Drag with the mouse pans the view; a drag is not a click on a node.
	at := func() [2]float64 {
		r := eval[[]float64](p, `(() => { const r = document.querySelector('#graph .node[data-node="n30"] rect').getBoundingClientRect(); return [r.left, r.top]; })()`)
		return [2]float64{r[0], r[1]}
	}
	zoomTo(0.5)
	before := at()
	line := eval[int](p, cm+`.getCursor().line`)
	gb := eval[[]float64](p, `(() => { const r = document.getElementById("graph").getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2]; })()`)
	held := func(p *input.DispatchMouseEventParams) {
		p.Button, p.Buttons, p.ClickCount = input.MouseButtonLeft, 1, 1
	} // the left button is down
	p.Do("drag", chromedp.MouseEvent(input.DispatchMouseEventTypeMousePressed, gb[0], gb[1], held),
		chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, gb[0]-60, gb[1]-20, held),
		chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, gb[0]-150, gb[1]-40, held),
		chromedp.MouseEvent(input.DispatchMouseEventTypeMouseReleased, gb[0]-150, gb[1]-40, held))
	after := at()
	assert.InDelta(t, before[0]-150, after[0], 1, "the drag moved the view left by 150 px")
	assert.InDelta(t, before[1]-40, after[1], 1, "and up by 40 px")
	assert.Equal(t, line, eval[int](p, cm+`.getCursor().line`), "a drag does not jump to a node's source")
	p.Shot("studio-8-large-graph-dragged")

	// Arrow keys pan when the graph has focus.
	p.Do("focus the graph and press Right", chromedp.Focus(chromedp.ID("graph")), chromedp.KeyEvent(kb.ArrowRight))
	assert.InDelta(t, after[0]-60, at()[0], 1, "ArrowRight moves the view 60 px")

	p.Do("fit", chromedp.Click(chromedp.ID("zoom-fit")))
	p.Do("click a node", chromedp.Click(chromedp.CSS(`#graph .node[data-node="n30"]`)))
	assert.Equal(t, strings.Count(b.String()[:strings.Index(b.String(), "  n30:")], "\n"), eval[int](p, cm+`.getCursor().line`), "the click jumps to the node's source")
	p.Shot("studio-8-large-graph")
	assert.Empty(t, eval[[]string](p, `window.__errors`), "no script errors")
}

// Try a reply: a designer types a sentence and sees each intent it means, the words that
// matched, and the phrase a negation stopped; editing the lexicon in the editor changes
// the answer before saving.
func TestBrowserTryAReply(t *testing.T) {
	e := newEnv(t)
	p := &page{T: t, Ctx: browsertest.New(t, 1400, 950)}
	p.Do("open cheese-shop", chromedp.Navigate(e.url+"/studio/?edit=cheese-shop.yaml&key="+url.QueryEscape(designerKey)))
	eval[bool](p, browsertest.TrackErrors)
	p.Wait("the editor", `document.querySelector(".CodeMirror") !== null && document.querySelectorAll("#graph .node").length > 5`)
	p.Do("open Try a reply", chromedp.Click(chromedp.CSS(`[data-panel="try"]`)))
	p.Wait("the panel", `!document.getElementById("panel-try").hidden`)

	p.Do("try a negated apology", chromedp.Focus(chromedp.ID("try-text")),
		chromedp.KeyEvent("well im not sorry, we just dont have any manchego"), chromedp.KeyEvent(kb.Enter))
	p.Wait("the answer", `document.getElementById("try-summary").textContent !== ""`)
	assert.Equal(t, "Understood as out_of_stock, next_week.", eval[string](p, `document.getElementById("try-summary").textContent`)) // next_week: any answer to "will you have it next week?"
	hits := eval[[]string](p, `[...document.querySelectorAll("#try-results li.hit")].map((li) => li.textContent)`)
	assert.Contains(t, hits, "✓out_of_stock: 'dont have'phrase “dont have”")
	blocked := eval[[]string](p, `[...document.querySelectorAll("#try-results li.blocked")].map((li) => li.textContent)`)
	assert.Contains(t, blocked, "✗apology: 'sorry'phrase “sorry”negated by \"not\"")
	assert.Equal(t, "Read as: well i am not sorry we just do not have any manchego",
		eval[string](p, `document.querySelector("#try-results li.reading").textContent`), "the words as the pipeline reads them")
	p.Shot("studio-9-try-a-reply")

	// A trap declared as an exception.
	eval[bool](p, `(document.getElementById("try-text").value = "") === ""`)
	p.Do("try a non-apology", chromedp.Focus(chromedp.ID("try-text")),
		chromedp.KeyEvent("sorry you feel that way"), chromedp.KeyEvent(kb.Enter))
	p.Wait("the exception", `document.getElementById("try-summary").textContent === "Not understood as any intent."`)
	assert.Contains(t, eval[string](p, `document.getElementById("try-results").textContent`), `exception "sorry you feel that way"`)

	// The unsaved lexicon in the editor is what is tried.
	assert.True(t, eval[bool](p, `(() => { const v = `+cm+`.getValue(); `+cm+`.setValue(v.replace('phrases: ["gouda",', 'phrases: ["gorgonzola", "gouda",')); return `+cm+`.getValue() !== v; })()`), "the editor's lexicon changed")
	eval[bool](p, `(document.getElementById("try-text").value = "") === ""`)
	p.Do("try it", chromedp.Focus(chromedp.ID("try-text")),
		chromedp.KeyEvent("how about some gorgonzola"), chromedp.KeyEvent(kb.Enter))
	p.Wait("the new phrase", `document.getElementById("try-summary").textContent === "Understood as alternative."`)
	p.Shot("studio-10-try-unsaved")
	assert.Empty(t, eval[[]string](p, `window.__errors`), "no script errors")
	// A phrase whose words are there, with others in the way.
	eval[bool](p, `(document.getElementById("try-text").value = "") === ""`)
	p.Do("try a near miss", chromedp.Focus(chromedp.ID("try-text")),
		chromedp.KeyEvent("let me go and check"), chromedp.KeyEvent(kb.Enter))
	p.Wait("the near miss", `document.querySelector("#try-results li.near") !== null`)
	assert.Contains(t, eval[string](p, `document.querySelector("#try-results li.near").textContent`), "'go and' stands between the words ofphrase “let me check”")
}

// The shipped slow-clerk scenario's two global rules that move the call are drawn as dashed
// edges from the "global rules" badge to their targets.
func TestBrowserGlobalRuleEdges(t *testing.T) {
	e := newEnv(t)
	p := &page{T: t, Ctx: browsertest.New(t, 1400, 950)}
	p.Do("open slow-clerk", chromedp.Navigate(e.url+"/studio/?edit=slow-clerk.yaml&key="+url.QueryEscape(designerKey)))
	eval[bool](p, browsertest.TrackErrors)
	p.Wait("the graph", `document.querySelectorAll("#graph .node").length > 5`)
	p.Wait("the rules badge", `document.querySelector("#graph .badge") !== null`)
	assert.Equal(t, []string{"cut_off", "walked"}, eval[[]string](p, `[...document.querySelectorAll("#graph .edge.rule")].map((g) => g.dataset.to).sort()`))
	assert.Equal(t, []string{"rule talked-over", "rule too-slow"}, eval[[]string](p, `[...document.querySelectorAll("#graph .edge.rule text")].map((x) => x.textContent).sort()`))
	p.Do("fit", chromedp.Click(chromedp.ID("zoom-fit")))
	p.Shot("studio-11-global-rule-edges")

	// Zoomed in with the wheel around the badge (which stays under the pointer) and dragged
	// so the badge is in the middle, the dashed edges and their labels read.
	eval[bool](p, `(() => { const g = document.getElementById("graph");
		while (Number(g.dataset.zoom) < 1) {
			const r = document.querySelector("#graph .badge rect").getBoundingClientRect();
			g.dispatchEvent(new WheelEvent("wheel", {deltaY: -100, clientX: r.left + r.width / 2, clientY: r.top + r.height / 2, bubbles: true, cancelable: true}));
		}
		return true; })()`)
	c := eval[[]float64](p, `(() => { const b = document.getElementById("graph").getBoundingClientRect(), r = document.querySelector("#graph .badge rect").getBoundingClientRect();
		return [b.left + b.width / 2, b.top + b.height / 2, r.left + r.width / 2, r.top + r.height / 2]; })()`)
	held := func(p *input.DispatchMouseEventParams) {
		p.Button, p.Buttons, p.ClickCount = input.MouseButtonLeft, 1, 1
	}
	p.Do("drag the badge to the middle", chromedp.MouseEvent(input.DispatchMouseEventTypeMousePressed, c[2], c[3], held),
		chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, (c[0]+c[2])/2, (c[1]+c[3])/2, held),
		chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, c[0], c[1], held),
		chromedp.MouseEvent(input.DispatchMouseEventTypeMouseReleased, c[0], c[1], held))
	assert.InDelta(t, c[0], eval[float64](p, `(() => { const r = document.querySelector("#graph .badge rect").getBoundingClientRect(); return r.left + r.width / 2; })()`), 1, "the badge followed the drag")
	p.Shot("studio-11-global-rule-edges-zoomed")
	assert.Empty(t, eval[[]string](p, `window.__errors`), "no script errors")
}

// Impact: with three recorded calls of parcel, a designer edits the intents in the editor
// (unsaved), runs Impact and sees the one call whose ending would change, linked to its
// debrief.
func TestBrowserImpact(t *testing.T) {
	e := newEnv(t)
	recordParcelCalls(t, e)
	p := &page{T: t, Ctx: browsertest.New(t, 1400, 950)}
	p.Do("open parcel", chromedp.Navigate(e.url+"/studio/?edit=parcel.yaml&key="+url.QueryEscape(designerKey)))
	eval[bool](p, browsertest.TrackErrors)
	p.Wait("the editor", `document.querySelector(".CodeMirror") !== null && document.querySelectorAll("#graph .node").length === 5`)
	p.Do("open Impact", chromedp.Click(chromedp.CSS(`[data-panel="impact"]`)))
	p.Wait("the panel", browsertest.Visible("run-impact"))

	// The saved text changes nothing (the calls may still be being written: run until 3).
	p.Wait("three calls, none changed", `(() => { if (!window.__ran || Date.now() - window.__ran > 300) { window.__ran = Date.now(); document.getElementById("run-impact").click(); }
		return document.getElementById("impact-summary").textContent === "3 calls replayed: 0 would change."; })()`)
	assert.Equal(t, 0, eval[int](p, `document.querySelectorAll("#impact-calls li.changed").length`))

	// Understanding "Huh." as help: the rude call now ends at thanks.
	assert.True(t, eval[bool](p, `(() => { const v = `+cm+`.getValue(); `+cm+`.setValue(v.replace('help: ["i can",', 'help: ["huh", "i can",')); return `+cm+`.getValue() !== v; })()`), "the editor's intents changed")
	p.Do("run", chromedp.Click(chromedp.ID("run-impact")))
	p.Wait("one call changes", `document.getElementById("impact-summary").textContent === "3 calls replayed: 1 would change."`)
	rows := eval[[]string](p, `[...document.querySelectorAll("#impact-calls > li.changed")].map((li) => li.textContent)`)
	require.Len(t, rows, 1)
	assert.Contains(t, rows[0], "Kim")
	assert.Contains(t, rows[0], "ending annoyed → thanks")
	assert.Contains(t, rows[0], "outcome lost → resolved")
	assert.True(t, strings.HasPrefix(eval[string](p, `document.querySelector("#impact-calls a").getAttribute("href")`), "/debrief.html#id="), "linked to the debrief")
	assert.Contains(t, eval[string](p, `document.getElementById("file-state").textContent`), "unsaved")
	p.Shot("studio-12-impact")
	assert.Empty(t, eval[[]string](p, `window.__errors`), "no script errors")
}
