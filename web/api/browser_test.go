package api

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/engine"
	"github.com/switchboard-sim/switchboard/web/internal/browsertest"
)

// Browser helpers live in web/internal/browsertest, shared with the studio's tests.
type page = browsertest.Page

func newBrowser(t *testing.T, width, height int) context.Context {
	return browsertest.New(t, width, height)
}

func eval[T any](p *page, expr string) T { return browsertest.Eval[T](p, expr) }

var visible = browsertest.Visible

const trackErrors = browsertest.TrackErrors

// markup is a trainee message that must show as text, never run or render.
const markup = `<script>document.title="pwned"</script><img src=x onerror="document.title='pwned'">`

func TestBrowserCallFromRingToScores(t *testing.T) {
	ts := newTestServer(t, Options{})
	p := &page{T: t, Ctx: newBrowser(t, 1100, 900)}

	p.Do("open the page", chromedp.Navigate(ts.http.URL+"/"))
	eval[bool](p, trackErrors)
	p.Wait("the scenario list", `document.querySelectorAll('input[name="scenario"]').length > 0`)
	assert.Equal(t, "Live test call", eval[string](p, `document.querySelector('#scenario-list .title').textContent`))
	assert.Contains(t, eval[string](p, `document.querySelector('#scenario-list').textContent`), "Lesson: Answer fast")
	p.Shot("1-pick")

	// Keyboard only: the name, coach mode, start — then the focus sits on Answer.
	p.Do("fill the form", chromedp.Focus(chromedp.ID("trainee")), chromedp.KeyEvent("Robin"),
		chromedp.Click(chromedp.ID("coach")), chromedp.Focus(chromedp.ID("start")), chromedp.KeyEvent("\r"))
	p.Wait("the phone rings", visible("phone"))
	assert.Equal(t, "answer", eval[string](p, `document.activeElement.id`), "the Answer button has the focus")
	assert.Equal(t, "Ringing", eval[string](p, `document.getElementById("state-text").textContent`))
	assert.Equal(t, "Pat · Live test call", eval[string](p, `document.getElementById("phone-text").textContent`))
	assert.Equal(t, "P", eval[string](p, `document.getElementById("ring-initials").textContent`))
	p.Shot("2-ringing")

	p.Do("answer with Enter", chromedp.KeyEvent("\r"))
	p.Wait("the phone stops", "!"+visible("phone"))
	assert.Equal(t, "say", eval[string](p, `document.activeElement.id`), "the reply box has the focus")

	// The customer's words stream in: at some point part of the line is shown.
	p.Wait("words stream in", `(() => { const w = document.querySelector("#transcript .customer .words");
		return w && w.textContent.split(" ").length >= 2 && w.textContent.split(" ").length < 8; })()`)
	assert.Contains(t, eval[string](p, `document.querySelector("#transcript .customer .words").textContent`), "Hello, Robin")
	p.Shot("3-streaming")

	// Typing while the customer speaks interrupts the line; the reply is injected markup.
	// Pasted rather than typed key by key: the line is only 2 s long.
	eval[bool](p, fmt.Sprintf(`((e) => { e.value = %s; e.dispatchEvent(new InputEvent("input", {inputType: "insertFromPaste"})); return true; })(document.getElementById("say"))`, strconv.Quote(markup)))
	p.Do("send over the customer", chromedp.KeyEvent("\r"))
	p.Wait("the line shows as cut", `document.querySelector("#transcript .customer.cut .cutmark") !== null`)
	cutmark := eval[string](p, `document.querySelector("#transcript .customer.cut .cutmark").textContent`)
	assert.Regexp(t, `^cut off after \d+ of 10 words$`, cutmark)
	p.Wait("the reply shows", `document.querySelector("#transcript .trainee .text") !== null`)
	assert.Equal(t, markup, eval[string](p, `document.querySelector("#transcript .trainee .text").textContent`), "typed markup shows literally")
	assert.Equal(t, 0, eval[int](p, `document.querySelectorAll("#transcript img, #transcript script, #coachbox img").length`))
	assert.Equal(t, "spoke over the customer", eval[string](p, `document.querySelector("#transcript .trainee .flag").textContent`))
	p.Wait("coach feedback", `document.getElementById("coachbox").textContent.includes("You spoke over Pat.")`)
	p.Shot("4-interrupted")

	// Let the customer finish, then apologise and refund.
	p.Wait("the next line ends", `document.querySelectorAll("#transcript .customer").length === 2 && document.querySelector("#announce").textContent.includes("money back")`)
	p.Do("apologise", chromedp.Focus(chromedp.ID("say")), chromedp.KeyEvent("I'm so sorry, I'll refund you right away."), chromedp.KeyEvent("\r"))
	p.Wait("the end view", visible("endview"))
	assert.Equal(t, "Refunded", eval[string](p, `document.getElementById("outcome").textContent`))
	assert.Equal(t, "✓ Passed", eval[string](p, `document.getElementById("verdict").textContent`))
	assert.Equal(t, "Pat got the refund.", eval[string](p, `document.getElementById("end-text").textContent`))
	rows := eval[[]string](p, `[...document.querySelectorAll("#scores tbody tr")].map((r) => r.textContent)`)
	assert.Equal(t, []string{"Care2 / 2100%"}, rows)
	fb := eval[string](p, `document.getElementById("feedback-list").textContent`)
	assert.Contains(t, fb, "You spoke over Pat.")
	assert.Contains(t, fb, "Good apology.")
	assert.NotEqual(t, "pwned", eval[string](p, `document.title`))
	assert.Empty(t, eval[[]string](p, `window.__errors`), "uncaught errors on the page")
	p.Shot("5-end")
}

func TestBrowserHangUpOnAPhone(t *testing.T) {
	ts := newTestServer(t, Options{})
	p := &page{T: t, Ctx: newBrowser(t, 1100, 900)}
	p.Do("open the page as a phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulatePortrait),
		chromedp.Navigate(ts.http.URL+"/"))
	eval[bool](p, trackErrors)
	p.Wait("the scenario list", `document.querySelectorAll('input[name="scenario"]').length > 0`)
	// Readable on a phone: nothing is wider than the screen.
	assert.LessOrEqual(t, eval[int](p, `document.documentElement.scrollWidth`), 390)
	p.Do("start", chromedp.Click(chromedp.ID("start")))
	p.Wait("the phone rings", visible("phone"))
	assert.LessOrEqual(t, eval[int](p, `document.documentElement.scrollWidth`), 390)
	p.Shot("6-phone-ringing")
	p.Do("answer", chromedp.Click(chromedp.ID("answer")))
	p.Wait("a word", `document.querySelector("#transcript .customer .words") && document.querySelector("#transcript .customer .words").textContent !== ""`)
	// Mid-sentence, Hang up asks once.
	p.Do("hang up", chromedp.Click(chromedp.ID("hangup")))
	assert.Equal(t, "Hang up anyway?", eval[string](p, `document.getElementById("hangup-text").textContent`))
	assert.Contains(t, eval[string](p, `document.getElementById("hangup-note").textContent`), "Pat is still talking")
	assert.False(t, eval[bool](p, visible("endview")))
	p.Do("hang up anyway", chromedp.Click(chromedp.ID("hangup")))
	p.Wait("the end view", visible("endview"))
	assert.Equal(t, "You hung up", eval[string](p, `document.getElementById("outcome").textContent`))
	assert.Equal(t, "✗ Not passed", eval[string](p, `document.getElementById("verdict").textContent`))
	assert.Equal(t, "You hung up.", eval[string](p, `[...document.querySelectorAll("#transcript .event span:last-child")].pop().textContent`))
	assert.Empty(t, eval[[]string](p, `window.__errors`))
	p.Shot("7-phone-end")
}

// TestBrowserAccessibleNames checks that every control has a name a screen reader reads.
func TestBrowserAccessibleNames(t *testing.T) {
	ts := newTestServer(t, Options{})
	p := &page{T: t, Ctx: newBrowser(t, 1100, 900)}
	p.Do("open the page", chromedp.Navigate(ts.http.URL+"/"))
	p.Wait("the scenario list", `document.querySelectorAll('input[name="scenario"]').length > 0`)
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
	p := &page{T: t, Ctx: newBrowser(t, 1100, 900)}
	p.Do("open the page", chromedp.Navigate(ts.http.URL+"/"))
	p.Wait("the scenario list", `document.querySelectorAll('input[name="scenario"]').length > 0`)
	p.Do("start", chromedp.Focus(chromedp.ID("trainee")), chromedp.KeyEvent("Robin"), chromedp.Click(chromedp.ID("start")))
	p.Wait("the phone rings", visible("phone"))
	p.Do("answer", chromedp.Click(chromedp.ID("answer")))
	p.Wait("the greeting is spoken", `[...document.querySelectorAll("#transcript .customer .words")].some((w) => w.textContent.includes("what now?"))`)

	// Reload the tab mid-call: the page reconnects by itself and rebuilds the call.
	p.Do("reload", chromedp.Reload())
	eval[bool](p, trackErrors)
	p.Wait("the call is back", `document.querySelector("#transcript .customer .words") !== null &&
		document.querySelector("#transcript .customer .words").textContent.startsWith("Hello, Robin")`)
	assert.Equal(t, "You answered the phone.", eval[string](p, `document.querySelector("#transcript .event span:last-child").textContent`))
	assert.False(t, eval[bool](p, visible("pick")), "the call view, not the picker")
	p.Shot("8-after-reload")
	// The greeting's 800 ms timer brings a nudge; reply once it is over, not over it.
	p.Wait("the nudge ends", `document.querySelectorAll("#transcript .customer").length === 2 && document.getElementById("state").dataset.state === "turn"`)
	p.Do("apologise", chromedp.Focus(chromedp.ID("say")), chromedp.KeyEvent("So sorry, here is a refund."), chromedp.KeyEvent("\r"))
	p.Wait("the end view", visible("endview"))
	assert.Equal(t, 1, eval[int](p, `document.querySelectorAll("#transcript .trainee").length`), "the reply was applied once")

	// The debrief.
	href := eval[string](p, `document.getElementById("debrief-link").href`)
	assert.Contains(t, href, "/debrief.html#id=")
	p.Do("open the debrief", chromedp.Navigate(href))
	p.Wait("the debrief", visible("debrief"))
	eval[bool](p, trackErrors)
	assert.Equal(t, "Debrief: Live test call", eval[string](p, `document.getElementById("d-title").textContent`))
	assert.Contains(t, eval[string](p, `document.getElementById("d-verdict").textContent`), "Passed")
	assert.Equal(t, []string{"Care2 / 2"}, eval[[]string](p, `[...document.querySelectorAll("#chart li")].map((li) => li.textContent)`), "one bar per score axis, 0…max")
	assert.GreaterOrEqual(t, eval[int](p, `document.querySelectorAll("#timeline svg g.fired").length`), 1, "fired rules on the timeline")
	assert.Contains(t, eval[string](p, `document.getElementById("fired").textContent`), "Good apology.")
	assert.Contains(t, eval[string](p, `document.getElementById("quiet").textContent`), "interrupting", "a rule that never fired")
	lines := eval[[]string](p, `[...document.querySelectorAll("#d-transcript li")].map((li) => li.textContent)`)
	require.NotEmpty(t, lines)
	assert.Contains(t, strings.Join(lines, "\n"), "YouSo sorry, here is a refund.")
	assert.Equal(t, []string{"Pat (annoyed)", "Pat", "Pat"}, eval[[]string](p, `[...document.querySelectorAll("#d-transcript .customer .who")].map((e) => e.textContent)`),
		"the annoyed greeting shows its emotion beside the customer's name")
	assert.Equal(t, []string{"understood as refund: 'refund'; apology: 'sorry'"},
		eval[[]string](p, `[...document.querySelectorAll("#d-transcript .understood")].map((e) => e.textContent)`),
		"the debrief says what the reply was understood as")
	p.Shot("9-debrief")

	p.Do("open the history", chromedp.Navigate(ts.http.URL+"/history.html"))
	p.Wait("the history row", `document.querySelectorAll("#history li").length === 1 &&
		!document.querySelector("#history li").textContent.includes("…")`)
	row := eval[string](p, `document.querySelector("#history li").textContent`)
	assert.Contains(t, row, "Live test call")
	assert.Contains(t, row, "✓ passed — Refunded")
	assert.Contains(t, row, "100%")
	p.Shot("10-history")
}

func TestBrowserDebriefWithoutToken(t *testing.T) {
	ts := newTestServer(t, Options{})
	r := ts.start(t, `{"scenario":"live"}`)
	p := &page{T: t, Ctx: newBrowser(t, 800, 600)}
	p.Do("open a debrief with a wrong token", chromedp.Navigate(ts.http.URL+"/debrief.html#id="+r.ID+"&token=wrong"))
	p.Wait("the error", `document.getElementById("load-error").textContent !== ""`)
	assert.Contains(t, eval[string](p, `document.getElementById("load-error").textContent`), "wrong call token")
	assert.False(t, eval[bool](p, visible("debrief")))
}

// TestBrowserDebriefShowsPointsNotEarned: a reply that took a way on worth nothing, where
// another was worth a care point, shows "Not earned here" and the strong answer.
func TestBrowserDebriefShowsPointsNotEarned(t *testing.T) {
	ts := newTestServer(t, Options{})
	r, c := ts.answered(t, `{"scenario":"live"}`)
	c.until("line_end")
	c.send(map[string]any{"type": "say", "id": "s1", "text": "what is the problem exactly"})
	c.until("trainee")
	c.send(map[string]any{"type": "hangup", "id": "h1"})
	c.until("end")
	p := &page{T: t, Ctx: newBrowser(t, 900, 900)}
	p.Do("open the debrief", chromedp.Navigate(ts.http.URL+"/debrief.html#id="+r.ID+"&token="+r.Token))
	p.Wait("the debrief", visible("debrief"))
	eval[bool](p, trackErrors)
	assert.Equal(t, []string{"Not earned here: 1 care point"},
		eval[[]string](p, `[...document.querySelectorAll("#d-transcript .missed")].map((e) => e.textContent)`))
	assert.Contains(t, eval[[]string](p, `[...document.querySelectorAll("#quiet li")].map((e) => e.textContent)`),
		"apology — Good apology. (a good move you never made)", "a rule that adds points and never fired")
	// The good moves never made come first; the habits avoided are one item, details folded.
	top := eval[[]string](p, `[...document.querySelectorAll("#quiet > li")].map((e) => e.textContent)`)
	require.NotEmpty(t, top)
	assert.True(t, strings.HasPrefix(top[0], "apology"), "a good move never made first: %q", top)
	assert.True(t, strings.HasPrefix(top[len(top)-1], "Habits you avoided: speech, shouting"), "the habits avoided last, in one item: %q", top)
	assert.Equal(t, 1, eval[int](p, `document.querySelectorAll("#quiet > li.avoided").length`))
	assert.False(t, eval[bool](p, `document.querySelector("#quiet details").open`), "their details are folded")
	p.Shot("debrief-not-earned")
}

// recordSends makes the page keep every client message it sends in window.__sent.
const recordSends = `window.__sent = []; (() => { const send = WebSocket.prototype.send;
	WebSocket.prototype.send = function (d) { try { window.__sent.push(JSON.parse(d)); } catch (_) {} return send.call(this, d); }; })(); true`

// sentTypes lists the types of the client messages sent so far.
const sentTypes = `window.__sent.map((m) => m.type)`

// TestBrowserTypingIsTalking checks the typing message (issue 11): sent at the first
// keystroke of a reply, not again while the reply grows, again after the box was cleared
// and typing starts anew, and never shown in the call log.
func TestBrowserTypingIsTalking(t *testing.T) {
	ts := newTestServer(t, Options{})
	p := &page{T: t, Ctx: newBrowser(t, 1100, 900)}
	p.Do("open the page", chromedp.Navigate(ts.http.URL+"/"))
	eval[bool](p, trackErrors)
	eval[bool](p, recordSends)
	p.Wait("the scenario list", `document.querySelectorAll('input[name="scenario"]').length > 0`)
	p.Do("start", chromedp.Click(chromedp.ID("start")))
	p.Wait("the phone rings", visible("phone"))
	assert.Empty(t, eval[[]string](p, sentTypes), "nothing is sent while the phone rings")
	p.Do("answer", chromedp.KeyEvent("\r"))
	p.Wait("the greeting ends", `document.getElementById("state").dataset.state === "turn" && document.querySelectorAll("#transcript .customer").length === 1`)
	assert.Equal(t, []string{"answer"}, eval[[]string](p, sentTypes))

	p.Do("first keystroke", chromedp.KeyEvent("I"))
	assert.Equal(t, []string{"answer", "typing"}, eval[[]string](p, sentTypes), "typing at the first keystroke")
	p.Do("more keys", chromedp.KeyEvent("'m so"))
	assert.Equal(t, []string{"answer", "typing"}, eval[[]string](p, sentTypes), "one typing per reply")
	p.Do("clear the box", chromedp.KeyEvent(strings.Repeat(kb.Backspace, 6)))
	assert.Equal(t, "", eval[string](p, `document.getElementById("say").value`))
	p.Do("start anew", chromedp.KeyEvent("Sorry, a refund for you."))
	assert.Equal(t, []string{"answer", "typing", "typing"}, eval[[]string](p, sentTypes), "typing again after the box was cleared")
	p.Do("send", chromedp.KeyEvent("\r"))
	p.Wait("the end view", visible("endview"))
	assert.Equal(t, []string{"answer", "typing", "typing", "say"}, eval[[]string](p, sentTypes))
	assert.Equal(t, 1, eval[int](p, `document.querySelectorAll("#transcript .trainee").length`), "typing is never a bubble")
	assert.Equal(t, "Sorry, a refund for you.", eval[string](p, `document.querySelector("#transcript .trainee .text").textContent`))
	assert.Equal(t, "", eval[string](p, `document.getElementById("call-error").textContent`))
	assert.Empty(t, eval[[]string](p, `window.__errors`))
}

// TestBrowserKeyboardOnlyCall plays a whole call with the keyboard alone: Tab to Start,
// Enter to answer, a number key to pick the suggested reply, then Try this call again.
func TestBrowserKeyboardOnlyCall(t *testing.T) {
	ts := newTestServer(t, Options{})
	p := &page{T: t, Ctx: newBrowser(t, 1100, 900)}
	p.Do("open the page", chromedp.Navigate(ts.http.URL+"/"))
	eval[bool](p, trackErrors)
	eval[bool](p, recordSends)
	p.Wait("the scenario list", `document.querySelectorAll('input[name="scenario"]').length > 0`)
	tabTo(p, "trainee")
	p.Do("type a name", chromedp.KeyEvent("Robin"))
	tabTo(p, "start")
	p.Do("start with Enter", chromedp.KeyEvent("\r"))
	p.Wait("the phone rings", visible("phone"))
	assert.Equal(t, "answer", eval[string](p, `document.activeElement.id`))
	p.Do("answer with Enter", chromedp.KeyEvent("\r"))
	p.Wait("suggestions after the line", visible("suggest"))
	assert.Equal(t, "turn", eval[string](p, `document.getElementById("state").dataset.state`), "suggestions show once the customer has finished")
	refund := eval[int](p, `[...document.querySelectorAll("#choices button")].findIndex((b) => b.textContent.includes("refund")) + 1`)
	require.Positive(t, refund)
	// A number typed in the reply box is text; out of it, it picks a suggestion.
	tabTo(p, "send")
	p.Do("press the suggestion's number", chromedp.KeyEvent(fmt.Sprint(refund)))
	p.Wait("the end view", visible("endview"))
	assert.Equal(t, "choose", eval[string](p, `window.__sent.at(-1).type`))
	assert.Equal(t, "end-h", eval[string](p, `document.activeElement.id`), "the focus moves to the result")
	assert.Equal(t, "✓ Passed", eval[string](p, `document.getElementById("verdict").textContent`))

	tabTo(p, "retry")
	p.Do("try this call again", chromedp.KeyEvent("\r"))
	p.Wait("the phone rings again", visible("phone"))
	assert.Equal(t, "Pat · Live test call", eval[string](p, `document.getElementById("phone-text").textContent`))
	calls := eval[[]string](p, `JSON.parse(localStorage.getItem("switchboard.history")).map((c) => c.scenario + "/" + c.trainee)`)
	assert.Equal(t, []string{"live/Robin", "live/Robin"}, calls, "the same scenario and name")
	assert.Empty(t, eval[[]string](p, `window.__errors`))
}

// tabTo presses Tab until the element with this id has the focus.
func tabTo(p *page, id string) {
	p.T.Helper()
	for range 30 {
		if eval[string](p, `document.activeElement ? document.activeElement.id : ""`) == id {
			return
		}
		p.Do("tab", chromedp.KeyEvent(kb.Tab))
	}
	p.T.Fatalf("Tab never reached #%s", id)
}

// TestBrowserAsides: "mm" typed while the customer talks is listening, not talking over
// her (her line goes on to its end, the suggestions come as usual), "sorry, what was
// that?" once she has finished gets her line again, and "ok so..." opens a reply she
// waits for; none is judged as a reply. Saved as testoutput/asides.png.
func TestBrowserAsides(t *testing.T) {
	tour, diags := engine.LoadFile("testdata/tour.yaml")
	require.False(t, diags.HasErrors(), diags.Error())
	ts := newTestServer(t, Options{Scenarios: []*engine.Scenario{tour}})
	p := &page{T: t, Ctx: newBrowser(t, 1100, 900)}
	p.Do("open the page", chromedp.Navigate(ts.http.URL+"/"))
	eval[bool](p, trackErrors)
	p.Wait("the scenario list", `document.querySelectorAll('input[name="scenario"]').length === 1`)
	p.Do("suggestions always", chromedp.Click(chromedp.CSS(`input[name="suggestions"][value="always"]`)))
	p.Do("start", chromedp.Click(chromedp.ID("start")))
	p.Wait("the phone rings", visible("phone"))
	p.Do("answer", chromedp.Click(chromedp.ID("answer")))
	p.Wait("the customer speaks", `document.getElementById("state").dataset.state === "speaking" &&
		document.querySelector("#transcript .customer .words").textContent.split(" ").length >= 2`)
	paste(p, "mm")
	p.Wait("the aside shows", `[...document.querySelectorAll("#transcript .trainee .flag")].some((f) => f.textContent === "listening, not judged")`)
	p.Wait("her line goes on to its end", `document.getElementById("state").dataset.state === "turn"`)
	greeting := "Hello there, the kettle I bought from you yesterday has already stopped working."
	assert.Equal(t, greeting, eval[string](p, `document.querySelector("#transcript .customer .words").textContent`), "every word, not cut")
	assert.False(t, eval[bool](p, `document.querySelector("#transcript .customer").classList.contains("cut")`))
	p.Wait("the suggestions", `document.querySelectorAll("#choices button").length === 3`)

	paste(p, "sorry, what was that?")
	p.Wait("she says it again", `document.querySelectorAll("#transcript .customer").length === 2 &&
		document.getElementById("state").dataset.state === "turn"`)
	assert.Equal(t, []string{greeting, greeting}, eval[[]string](p, `[...document.querySelectorAll("#transcript .customer .words")].map((e) => e.textContent)`))
	assert.Equal(t, []string{"listening, not judged", "asked to repeat, not judged"}, eval[[]string](p, `[...document.querySelectorAll("#transcript .trainee .flag")].map((f) => f.textContent)`))
	p.Wait("the suggestions again", `document.querySelectorAll("#choices button").length === 3`)

	// "ok so..." opens a reply: she waits for the rest, the suggestions stay.
	paste(p, "ok so...")
	p.Wait("the lead-in shows", `[...document.querySelectorAll("#transcript .trainee .flag")].some((f) => f.textContent === "lead-in, read with your next message")`)
	assert.Equal(t, 2, eval[int](p, `document.querySelectorAll("#transcript .customer").length`), "she says nothing to it")
	assert.Equal(t, "turn", eval[string](p, `document.getElementById("state").dataset.state`))
	assert.Equal(t, 3, eval[int](p, `document.querySelectorAll("#choices button").length`))
	p.Shot("asides")
	assert.Equal(t, "", eval[string](p, `document.getElementById("call-error").textContent`))
	assert.Empty(t, eval[[]string](p, `window.__errors`))
}
