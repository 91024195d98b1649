package api

import (
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// stubVoice replaces the browser's speechSynthesis and SpeechSynthesisUtterance (headless Chromium has no voices) with
// one that records every utterance — text, rate, voice, when it started and how much of
// the line was on screen then — and "speaks" it at its rate, firing word boundaries and
// the end (recorded as {end: true}). It
// also records the frequencies of the tones played with WebAudio.
const stubVoice = `(() => {
	window.__speech = []; window.__tones = [];
	const voices = [{name: "Stub Alice", lang: "en-GB"}, {name: "Stub Bob", lang: "en-US"}, {name: "Stub Jacques", lang: "fr-FR"}];
	let timers = [];
	const stub = {
		getVoices: () => voices,
		cancel() { timers.forEach(clearTimeout); timers = []; window.__speech.push({cancel: true, at: performance.now()}); },
		speak(u) {
			const last = [...document.querySelectorAll("#transcript .customer .words")].pop();
			window.__speech.push({text: u.text, rate: u.rate, pitch: u.pitch, voice: u.voice ? u.voice.name : "", lang: u.lang,
				at: performance.now(), shown: last ? last.textContent : null});
			const perWord = 60000 / (180 * u.rate); // the client's model: 180 wpm at rate 1
			let i = 0;
			const words = u.text.split(" ");
			words.forEach((w, k) => {
				const at = i; i += w.length + 1;
				timers.push(setTimeout(() => u.onboundary && u.onboundary({name: "word", charIndex: at}), k * perWord));
			});
			timers.push(setTimeout(() => { window.__speech.push({end: true, at: performance.now()}); if (u.onend) u.onend({}); }, words.length * perWord));
		},
	};
	Object.defineProperty(window, "speechSynthesis", {configurable: true, value: stub});
	// The real utterance accepts only real voices; the stub's are plain objects.
	window.SpeechSynthesisUtterance = class { constructor(text) { Object.assign(this, {text, rate: 1, pitch: 1, voice: null, lang: ""}); } };
	const start = OscillatorNode.prototype.start;
	OscillatorNode.prototype.start = function (...a) { window.__tones.push(this.frequency.value); return start.apply(this, a); };
	new MutationObserver((ms) => { for (const m of ms) for (const n of m.addedNodes) if (n.classList && n.classList.contains("customer")) (window.__lines = window.__lines || []).push(performance.now()); })
		.observe(document.getElementById("transcript"), {childList: true});
	return true;
})()`

// TestBrowserVoice checks the voice path with a stubbed speechSynthesis: each customer
// line is spoken as it starts, at a rate derived from the persona's words per minute, in
// an English voice chosen for the persona (the same for every line), following the word
// display; a cut stops the voice; the ring and the hang-up tones are played.
func TestBrowserVoice(t *testing.T) {
	ts := newTestServer(t, Options{})
	p := &page{T: t, Ctx: newBrowser(t, 1100, 900)}
	p.Do("open the page", chromedp.Navigate(ts.http.URL+"/"))
	eval[bool](p, trackErrors)
	p.Wait("the scenario list", `document.querySelectorAll('input[name="scenario"]').length > 0`)
	eval[bool](p, stubVoice)
	p.Do("voice on, start", chromedp.Focus(chromedp.ID("trainee")), chromedp.KeyEvent("Robin"),
		chromedp.Click(chromedp.ID("voice")), chromedp.Click(chromedp.ID("start")))
	p.Wait("the phone rings", visible("phone"))
	p.Wait("the ring tone", `window.__tones.includes(440) && window.__tones.includes(480)`)
	p.Do("answer", chromedp.KeyEvent("\r"))
	p.Wait("the greeting ends", `document.getElementById("state").dataset.state === "turn"`)
	p.Wait("the nudge is spoken", `window.__speech.filter((s) => s.text).length === 2`)

	type utterance struct {
		Text, Voice, Lang, Shown string
		Rate, At                 float64
	}
	spoken := eval[[]utterance](p, `window.__speech.filter((s) => s.text)`)
	lines := eval[[]float64](p, `window.__lines`)
	require.Len(t, spoken, 2)
	require.GreaterOrEqual(t, len(lines), 2)
	assert.Equal(t, "Hello, Robin, my kettle broke after one day, what now?", spoken[0].Text, "the whole line, at once")
	for i, u := range spoken {
		rate := 1.67 // Pat speaks at 300 wpm: rate 300/180
		if i == 0 {
			rate = 1.8 // the greeting is annoyed: × 1.08
		}
		assert.InDelta(t, rate, u.Rate, 0.001, "line %d", i)
		assert.Contains(t, []string{"Stub Alice", "Stub Bob"}, u.Voice, "an English voice")
		assert.Equal(t, spoken[0].Voice, u.Voice, "the same voice for the same persona")
		assert.Equal(t, "", u.Shown, "speech starts with the line, before its first word shows")
		assert.InDelta(t, lines[i], u.At, 250, "spoken when the line starts (ms; slack for a loaded machine)")
	}
	assert.NotEmpty(t, eval[string](p, `document.querySelector("#transcript .customer").dataset.spoken || ""`), "word boundaries follow the display")

	// Interrupt the next line: the voice stops; hang up: the busy tone plays.
	p.Wait("the nudge ends", `document.getElementById("state").dataset.state === "turn" && document.querySelectorAll("#transcript .customer").length === 2`)
	paste(p, "what?")
	p.Wait("the next line starts", `window.__speech.filter((s) => s.text).length === 3 && document.querySelectorAll("#transcript .customer").length === 3`)
	paste(p, "what do you mean")
	p.Wait("the cut", `document.querySelectorAll("#transcript .customer")[2].classList.contains("cut")`)
	assert.True(t, eval[bool](p, `(() => { const s = window.__speech, third = s.indexOf(s.filter((x) => x.text)[2]); return s[third + 1] && s[third + 1].cancel === true; })()`), "a cut stops the voice")
	eval[bool](p, `document.getElementById("hangup").click(); document.getElementById("hangup").click(); true`)
	p.Wait("the end", visible("endview"))
	p.Wait("the hang-up tone", `window.__tones.includes(620)`)
	assert.Empty(t, eval[[]string](p, `window.__errors`))
}

// TestBrowserVoiceWithoutVoices turns the voice on in headless Chromium, which has no
// voices: the call works, silently, without errors.
func TestBrowserVoiceWithoutVoices(t *testing.T) {
	ts := newTestServer(t, Options{})
	p := &page{T: t, Ctx: newBrowser(t, 1100, 900)}
	p.Do("open the page", chromedp.Navigate(ts.http.URL+"/"))
	eval[bool](p, trackErrors)
	p.Wait("the scenario list", `document.querySelectorAll('input[name="scenario"]').length > 0`)
	assert.Equal(t, 0, eval[int](p, `window.speechSynthesis ? speechSynthesis.getVoices().length : 0`), "no voices here")
	p.Do("voice on, start", chromedp.Click(chromedp.ID("voice")), chromedp.Click(chromedp.ID("start")))
	p.Wait("the phone rings", visible("phone"))
	p.Do("answer", chromedp.KeyEvent("\r"))
	p.Wait("the greeting ends", `document.getElementById("state").dataset.state === "turn"`)
	p.Do("refund", chromedp.KeyEvent("sorry, here is a refund\r"))
	p.Wait("the end", visible("endview"))
	assert.Equal(t, "✓ Passed", eval[string](p, `document.getElementById("verdict").textContent`))
	assert.Empty(t, eval[[]string](p, `window.__errors`))
}

// TestBrowserVoiceHints plays the tour scenario, whose persona asks for a female en-GB
// voice at pitch 1.1: the stub's voices include one that fits, and the client takes it.
func TestBrowserVoiceHints(t *testing.T) {
	ts := newTestServer(t, Options{Scenarios: libraryAndTour(t)})
	p := &page{T: t, Ctx: newBrowser(t, 1100, 900)}
	p.Do("open the page", chromedp.Navigate(ts.http.URL+"/"))
	eval[bool](p, trackErrors)
	p.Wait("the scenario list", `document.querySelectorAll('input[name="scenario"]').length > 0`)
	eval[bool](p, stubVoice)
	eval[bool](p, `speechSynthesis.getVoices().push({name: "Stub Fiona Female", lang: "en-GB"}, {name: "Stub Daniel Male", lang: "en-GB"}); true`)
	p.Do("voice on, start the tour", chromedp.Click(chromedp.CSS(`input[value="tour"]`)), chromedp.Click(chromedp.ID("voice")), chromedp.Click(chromedp.ID("start")))
	p.Wait("the phone rings", visible("phone"))
	p.Do("answer", chromedp.KeyEvent("\r"))
	p.Wait("the greeting is spoken", `window.__speech.some((s) => s.text)`)
	type utterance struct {
		Voice, Lang string
		Rate, Pitch float64
	}
	u := eval[utterance](p, `window.__speech.find((s) => s.text)`)
	assert.Equal(t, utterance{Voice: "Stub Fiona Female", Lang: "en-GB", Rate: 1.11, Pitch: 1.1}, u, "200 wpm: rate 1.11")
	assert.Empty(t, eval[[]string](p, `window.__errors`))
}
