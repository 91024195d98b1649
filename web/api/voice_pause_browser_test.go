package api

import (
	"os"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/engine"
)

// pauseYAML has one line with a 1.5 s pause after its first word, said sadly.
const pauseYAML = `id: pause
title: A pause
brief: The customer hesitates.
persona: {name: Lee, wpm: 180}
start: ring
nodes:
  ring:
    ring: true
    transitions:
      - {when: 'event == "answer"', to: a}
  a:
    say:
      - {text: "Well... {pause 1.5s} I suppose so.", emotion: sad}
    transitions:
      - {when: 'event == "say"', to: z}
  z:
    end: {outcome: resolved, title: Done}
`

// TestBrowserVoicePausesAndEmotion: a line with a {pause} is spoken in two pieces with the
// pause's silence between them, and its emotion (sad) lowers rate and pitch; the words on
// screen wait for the pause too.
func TestBrowserVoicePausesAndEmotion(t *testing.T) {
	var diags engine.Diagnostics
	sc := engine.LoadBytes(os.DirFS("testdata"), "pause.yaml", []byte(pauseYAML), &diags)
	require.False(t, diags.HasErrors(), diags.Error())
	ts := newTestServer(t, Options{Scenarios: []*engine.Scenario{sc}})
	p := &page{T: t, Ctx: newBrowser(t, 1100, 900)}
	p.Do("open the page", chromedp.Navigate(ts.http.URL+"/"))
	eval[bool](p, trackErrors)
	p.Wait("the scenario list", `document.querySelectorAll('input[name="scenario"]').length > 0`)
	eval[bool](p, stubVoice)
	eval[bool](p, `new MutationObserver(() => { const w = document.querySelector("#transcript .customer .words"); if (w) (window.__shown = window.__shown || []).push({text: w.textContent, at: performance.now()}); })
		.observe(document.getElementById("transcript"), {childList: true, subtree: true, characterData: true}); true`)
	p.Do("voice on, start", chromedp.Click(chromedp.ID("voice")), chromedp.Click(chromedp.ID("start")))
	p.Wait("the phone rings", visible("phone"))
	p.Do("answer", chromedp.KeyEvent("\r"))
	p.Wait("the line ends", `document.getElementById("state").dataset.state === "turn"`)
	p.Wait("both pieces are spoken", `window.__speech.filter((s) => s.text).length === 2`)

	type utterance struct {
		Text        string
		Rate, Pitch float64
		At          float64
	}
	spoken := eval[[]utterance](p, `window.__speech.filter((s) => s.text)`)
	require.Len(t, spoken, 2)
	assert.Equal(t, "Well...", spoken[0].Text)
	assert.Equal(t, "I suppose so.", spoken[1].Text)
	for _, u := range spoken {
		assert.Equal(t, 0.85, u.Rate, "180 wpm is rate 1, sad × 0.85")
		assert.Equal(t, 0.85, u.Pitch, "sad × 0.85")
	}
	firstEnd := eval[float64](p, `window.__speech.find((s) => s.end).at`)
	assert.InDelta(t, 1500, spoken[1].At-firstEnd, 250, "the voice is silent for the pause")

	type shown struct {
		Text string
		At   float64
	}
	seen := eval[[]shown](p, `window.__shown`)
	var well, i float64
	for _, s := range seen {
		if s.Text == "Well..." && well == 0 {
			well = s.At
		}
		if s.Text == "Well... I" && i == 0 {
			i = s.At
		}
	}
	require.NotZero(t, well)
	require.NotZero(t, i)
	// The words arrive on the server's schedule (pause 1.5 s, then a word's time, 333 ms:
	// 1,833 ms apart), but the page shows each one when the browser gets to it: on a busy
	// machine the first can show late, which shortens the gap (seen: 1,461 ms at load 10).
	// The bounds still tell a pause (≥ 1.1 s) from none (333 ms) and from a doubled one.
	gap := i - well
	assert.GreaterOrEqual(t, gap, 1100.0, "the second word shows after the pause (1.5 s) and a word's time (333 ms)")
	assert.LessOrEqual(t, gap, 2600.0, "the second word shows after the pause (1.5 s) and a word's time (333 ms)")
	assert.Empty(t, eval[[]string](p, `window.__errors`))
}
