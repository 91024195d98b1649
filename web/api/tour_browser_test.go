package api

import (
	"fmt"
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/switchboard-sim/switchboard/engine"
	"github.com/switchboard-sim/switchboard/scenarios"
)

// The trainee's screens at a desktop's and a phone's width (issue 14).
var tourSizes = []struct {
	name          string
	width, height int
	phone         bool
}{
	{"1280", 1280, 800, false},
	{"390", 390, 844, true},
}

// libraryAndTour loads the shipped library and the tour scenario (testdata/tour.yaml).
func libraryAndTour(t *testing.T) []*engine.Scenario {
	t.Helper()
	paths, err := engine.FindScenarios(scenarios.FS, scenarios.Root)
	require.NoError(t, err)
	var out []*engine.Scenario
	for _, p := range paths {
		sc, diags := engine.Load(scenarios.FS, p)
		require.False(t, diags.HasErrors(), diags.Error())
		out = append(out, sc)
	}
	tour, diags := engine.LoadFile("testdata/tour.yaml")
	require.False(t, diags.HasErrors(), diags.Error())
	return append(out, tour)
}

// paste puts text into the reply box as a paste would (one input event) and sends it.
func paste(p *page, text string) {
	p.T.Helper()
	eval[bool](p, fmt.Sprintf(`((e) => { e.focus(); e.value = %s; e.dispatchEvent(new InputEvent("input", {inputType: "insertFromPaste"})); return true; })(document.getElementById("say"))`, strconv.Quote(text)))
	p.Do("send", chromedp.KeyEvent("\r"))
}

// TestBrowserTour walks every trainee page and state — pick, ringing, speaking, your
// turn, suggestions after a hint, interrupted, end, debrief, history — at 1280 and 390
// px wide. Each is saved as testoutput/tour-WIDTH-STATE.png and must pass axe-core with
// no violation, and nothing may be wider than the screen.
func TestBrowserTour(t *testing.T) {
	for _, size := range tourSizes {
		t.Run(size.name, func(t *testing.T) {
			ts := newTestServer(t, Options{Scenarios: libraryAndTour(t)})
			p := &page{T: t, Ctx: newBrowser(t, size.width, size.height)}
			if size.phone {
				p.Do("emulate a phone", chromedp.EmulateViewport(int64(size.width), int64(size.height), chromedp.EmulateMobile, chromedp.EmulatePortrait))
			}
			state := func(name string) {
				t.Helper()
				p.ShotAndAxe("tour-" + size.name + "-" + name)
				assert.LessOrEqual(t, eval[int](p, `document.documentElement.scrollWidth`), size.width, "%s: nothing wider than the screen", name)
			}
			// composerInView: the reply box is on screen (the dock sticks to the bottom).
			composerInView := func(what string) {
				t.Helper()
				assert.True(t, eval[bool](p, `((r) => r.top >= 0 && r.bottom <= innerHeight)(document.getElementById("say").getBoundingClientRect())`), "%s: the reply box is in view", what)
			}

			p.Do("open the page", chromedp.Navigate(ts.http.URL+"/"))
			eval[bool](p, trackErrors)
			p.Wait("the scenario cards", `document.querySelectorAll('input[name="scenario"]').length === 9`)
			p.Do("pick the tour", chromedp.Click(chromedp.CSS(`input[value="tour"]`)))
			card := eval[string](p, `document.querySelector('input[value="tour"]').closest("label").textContent`)
			for _, want := range []string{"The broken kettle", "Beginner", "about 60 s", "Caller: Dana Whitfield", "listening", "refunds", "Not tried yet"} {
				assert.Contains(t, card, want)
			}
			assert.Equal(t, []string{"never", "on_request", "always"}, eval[[]string](p, `[...document.querySelectorAll('input[name="suggestions"]')].map((i) => i.value)`))
			p.Do("suggestions on request, coach on", chromedp.Click(chromedp.CSS(`input[name="suggestions"][value="on_request"]`)),
				chromedp.Click(chromedp.ID("coach")), chromedp.Focus(chromedp.ID("trainee")), chromedp.KeyEvent("Robin"))
			state("1-pick")

			p.Do("start", chromedp.Click(chromedp.ID("start")))
			p.Wait("the phone rings", visible("phone"))
			assert.Equal(t, "Dana Whitfield · The broken kettle", eval[string](p, `document.getElementById("phone-text").textContent`))
			assert.Equal(t, "DW", eval[string](p, `document.getElementById("avatar").textContent`))
			assert.False(t, eval[bool](p, visible("dock")), "no reply box or Hang up while it rings")
			assert.True(t, eval[bool](p, `document.getElementById("brief-box").open`), "the brief is open while it rings")
			state("2-ringing")

			p.Do("answer", chromedp.Click(chromedp.ID("answer")))
			p.Wait("the customer speaks", `document.getElementById("state").dataset.state === "speaking" &&
				document.querySelector("#transcript .customer .words").textContent.split(" ").length >= 3`)
			assert.Equal(t, "Dana Whitfield is speaking…", eval[string](p, `document.getElementById("state-text").textContent`))
			assert.False(t, eval[bool](p, visible("suggest")), "no suggestions while the customer speaks")
			assert.False(t, eval[bool](p, `document.getElementById("brief-box").open`), "the brief folds away once answered")
			state("3-speaking")

			p.Wait("your turn", `document.getElementById("state").dataset.state === "turn"`)
			assert.True(t, eval[bool](p, visible("hint")), "Need a hint? in on_request mode")
			assert.False(t, eval[bool](p, visible("suggest")), "no suggestions before a hint")
			composerInView("your turn")
			state("4-turn")

			p.Do("ask for a hint", chromedp.Click(chromedp.ID("hint")))
			p.Wait("the suggestions", visible("suggest"))
			assert.Equal(t, 3, eval[int](p, `document.querySelectorAll("#choices button").length`))
			assert.Equal(t, "Hint used", eval[string](p, `document.querySelector("#transcript .hintmark span:last-child").textContent`))
			assert.Equal(t, "1 hint used", eval[string](p, `document.getElementById("hints-used").textContent`))
			composerInView("suggestions")
			state("5-suggestions")

			// A reply that does not fix anything; then talk over the next line, once she has
			// been talking for more than 2 s (engine.OverlapStartMS: typing begun sooner
			// goes on from the reply before, and is no interruption): 8 words at 200 wpm.
			paste(p, "Let me have a look at that for you.")
			p.Wait("the next line streams", `document.querySelectorAll("#transcript .customer").length === 2 &&
				document.querySelectorAll("#transcript .customer")[1].querySelector(".words").textContent.split(" ").length >= 8`)
			assert.False(t, eval[bool](p, visible("suggest")), "suggestions fold away with the next line")
			paste(p, "Sorry, I will send you a replacement today.")
			p.Wait("the line is cut", `document.querySelector("#transcript .customer.cut .cutmark") !== null`)
			p.Wait("the coach note", `document.getElementById("coachbox").textContent.includes("You spoke over Dana Whitfield")`)
			assert.Contains(t, eval[string](p, `document.getElementById("mood-text").textContent`), "Mood: ")
			composerInView("interrupted")
			state("6-interrupted")

			p.Wait("the end", visible("endview"))
			assert.Equal(t, "Kettle put right", eval[string](p, `document.getElementById("outcome").textContent`))
			assert.Contains(t, eval[string](p, `document.getElementById("end-meta").textContent`), "1 hint used")
			assert.Regexp(t, `call time \d+:\d\d\b`, eval[string](p, `document.getElementById("end-meta").textContent`))
			assert.Equal(t, "end-h", eval[string](p, `document.activeElement.id`))
			rows := eval[[]string](p, `[...document.querySelectorAll("#scores tbody tr")].map((r) => r.textContent)`)
			assert.Equal(t, []string{"Care2 / 2100%", "Listening0 / 10%"}, rows)
			assert.Contains(t, eval[string](p, `document.getElementById("takeaways").textContent`), "You spoke over Dana Whitfield")
			state("7-end")

			p.Do("open the debrief", chromedp.Click(chromedp.ID("debrief-link")))
			p.Wait("the debrief", visible("debrief"))
			eval[bool](p, trackErrors)
			assert.Equal(t, "Kettle put right", eval[string](p, `document.getElementById("d-outcome").textContent`))
			model := eval[string](p, `[...document.querySelectorAll("#d-transcript .trainee")].map((li) => li.querySelector(".model") ? li.querySelector(".model").textContent : "").join("|")`)
			assert.Contains(t, model, "I'll send you a new one today", "the model reply beside the turn that lost a point")
			assert.Contains(t, eval[string](p, `document.getElementById("d-transcript").textContent`), "Lost 1 listening")
			assert.Regexp(t, `^\d+:\d\d$`, eval[string](p, `[...document.querySelectorAll("#d-meta dd")][3].textContent`), "durations like 0:57")
			small := eval[[]string](p, `[...document.querySelectorAll("#chart *, #timeline *")].filter((e) => e.childNodes.length && [...e.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim()) &&
				e.getClientRects().length && parseFloat(getComputedStyle(e).fontSize) < 12).map((e) => e.textContent + " " + getComputedStyle(e).fontSize)`)
			assert.Empty(t, small, "chart text is at least 12 px")
			state("8-debrief")

			p.Do("open the history", chromedp.Navigate(ts.http.URL+"/history.html"))
			p.Wait("the history", `document.querySelectorAll("#history li").length === 1 && !document.querySelector("#history li").textContent.includes("…")`)
			assert.Contains(t, eval[string](p, `document.querySelector("#history li").textContent`), "Kettle put right")
			state("9-history")

			p.Do("back to the picker", chromedp.Navigate(ts.http.URL+"/"))
			p.Wait("the scenario cards", `document.querySelectorAll('input[name="scenario"]').length === 9`)
			assert.Equal(t, "Robin", eval[string](p, `document.getElementById("trainee").value`), "the name is remembered")
			last := eval[string](p, `document.querySelector('input[value="tour"]').closest("label").querySelector(".last").textContent`)
			assert.Regexp(t, `^Your last try: (✓ passed|✗ not passed), \d+%$`, last)
			state("10-pick-after")
			assert.Empty(t, eval[[]string](p, `window.__errors`))
		})
	}
}
