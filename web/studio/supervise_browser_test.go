package studio_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/web/internal/browsertest"
)

// The floor end to end in headless Chromium, two tabs of one browser: a trainee takes a
// call; a supervisor opens the board, sees the call, listens, whispers; the trainee's page
// shows the whisper apart from the coach's notes; after the call the trainee's debrief
// shows "coached at m:ss: …".
func TestBrowserSuperviseListenWhisper(t *testing.T) {
	e := newEnv(t)
	tr := &page{T: t, Ctx: browsertest.New(t, 1100, 900)}
	sup := &page{T: t, Ctx: browsertest.New(t, 1200, 900)} // a browser of its own: its own cookies

	tr.Do("open the trainee's page", chromedp.Navigate(e.url+"/"))
	eval[bool](tr, browsertest.TrackErrors)
	tr.Wait("the scenario list", `document.querySelector('input[name="scenario"][value="cheese-shop"]') !== null`)
	tr.Do("start", chromedp.Click(chromedp.CSS(`input[name="scenario"][value="cheese-shop"]`)),
		chromedp.Focus(chromedp.ID("trainee")), chromedp.KeyEvent("Robin"), chromedp.Click(chromedp.ID("start")))
	tr.Wait("the phone rings", browsertest.Visible("phone"))
	tr.Do("answer", chromedp.Click(chromedp.ID("answer")))
	tr.Wait("a word", `document.querySelector("#transcript .customer .words") && document.querySelector("#transcript .customer .words").textContent !== ""`)

	sup.Do("open the board with the supervisor link", chromedp.Navigate(e.url+"/supervise?key="+url.QueryEscape(supervisorKey)))
	eval[bool](sup, browsertest.TrackErrors)
	sup.Wait("the call on the board", `[...document.querySelectorAll("#calls-body tr")].some((r) => r.textContent.includes("Robin"))`)
	row := eval[string](sup, `document.querySelector("#calls-body tr").textContent`)
	assert.Contains(t, row, "Robin")
	assert.Contains(t, row, "The empty cheese counter", "the scenario's title")
	assert.NotContains(t, eval[string](sup, `location.href`), "key=", "the secret leaves the address bar")
	sup.ShotAndAxe("supervise-1-board")

	// The board comes once a second: the row and its Listen button are updated in place,
	// so the button keeps the keyboard focus (and a click is not lost) across an update.
	sup.Do("focus Listen", chromedp.Focus(chromedp.CSS(`#calls-body tr button.listen`)))
	eval[bool](sup, `(() => { window.__listenBtn = document.activeElement; window.__status = document.getElementById("board-status").textContent; return true; })()`)
	sup.Wait("an update of the board", `document.getElementById("board-status").textContent !== window.__status`)
	assert.True(t, eval[bool](sup, `document.activeElement === window.__listenBtn && document.activeElement.classList.contains("listen") && document.activeElement.isConnected`),
		"the focused Listen button is the same element after an update")
	sup.Do("listen", chromedp.Click(chromedp.CSS(`#calls-body tr button.listen`)))
	sup.Wait("the customer's words", `document.querySelector("#listen-log .customer .text") && document.querySelector("#listen-log .customer .text").textContent.length > 5`)
	sup.Do("whisper", chromedp.Focus(chromedp.ID("whisper-text")), chromedp.KeyEvent("Tell him the truth about the Manchego."),
		chromedp.Click(chromedp.CSS(`#whisper-form button[type=submit]`)))
	sup.Wait("the whisper in the supervisor's log", `document.querySelector("#listen-log .whisper") !== null`)
	assert.Contains(t, eval[string](sup, `document.querySelector("#listen-log .whisper").textContent`), "Tell him the truth about the Manchego.")
	sup.ShotAndAxe("supervise-2-listen")

	tr.Wait("the whisper on the trainee's page", `document.querySelector("#coachbox .whisper") !== null`)
	assert.Equal(t, "Tell him the truth about the Manchego.", eval[string](tr, `document.querySelector("#coachbox .whisper").textContent`))
	assert.True(t, strings.HasPrefix(eval[string](tr, `getComputedStyle(document.querySelector("#coachbox .whisper"), "::before").content.replaceAll('"', "")`), "Supervisor"),
		"labelled as the supervisor's, not as a coach note")
	tr.Shot("supervise-3-trainee-whisper")

	tr.Do("hang up", chromedp.Click(chromedp.ID("hangup")))
	if !eval[bool](tr, browsertest.Visible("endview")) && eval[string](tr, `document.getElementById("hangup-text").textContent`) == "Hang up anyway?" {
		tr.Do("hang up anyway", chromedp.Click(chromedp.ID("hangup")))
	}
	tr.Wait("the end view", browsertest.Visible("endview"))
	href := eval[string](tr, `document.getElementById("debrief-link").href`)
	tr.Do("open the debrief", chromedp.Navigate(href))
	tr.Wait("the debrief", browsertest.Visible("debrief"))
	coached := eval[string](tr, `(document.querySelector("#d-transcript li.coached") || {textContent: ""}).textContent`)
	assert.Regexp(t, `coached at 0:\d\d: Tell him the truth about the Manchego\.`, coached)
	tr.Shot("supervise-4-debrief")
	assert.Empty(t, eval[[]string](tr, `window.__errors`))
	assert.Empty(t, eval[[]string](sup, `window.__errors`))
	sup.Wait("the listener is told the call ended", `document.getElementById("listen-state").textContent.includes("Not listening")`)
	require.True(t, strings.Contains(eval[string](sup, `document.getElementById("listen-log").textContent`), "The call ended"))
}
