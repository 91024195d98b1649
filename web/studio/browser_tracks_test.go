package studio_test

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/web/internal/browsertest"
)

// Tracks in real Chromium: the library lists them; one opens in the editor; a misspelt
// scenario id typed there is reported at its line and column with "did you mean"; undo
// clears it; Ctrl+S saves the track to disk.
func TestBrowserTrackEditor(t *testing.T) {
	e := newEnv(t)
	p := &page{T: t, Ctx: browsertest.New(t, 1400, 950)}
	p.Do("open the library", chromedp.Navigate(e.url+"/studio/?key="+url.QueryEscape(designerKey)))
	eval[bool](p, browsertest.TrackErrors)
	p.Wait("the tracks", `document.querySelectorAll("#track-rows tr[data-path]").length === 2`)
	assert.Equal(t, 2, eval[int](p, `document.querySelectorAll("#track-rows .badge.ok").length`), "both clean")
	p.Shot("studio-track-0-library")

	p.Do("open foundations", chromedp.Click(chromedp.CSS(`#track-rows tr[data-path="tracks/foundations.yaml"] a`)))
	p.Wait("the editor, checked", `document.querySelector(".CodeMirror") !== null && document.getElementById("diag-count").textContent === "(none)"`)
	assert.True(t, eval[bool](p, `document.getElementById("tab-tests").hidden`), "a track has no test file")
	assert.False(t, eval[bool](p, browsertest.Visible("panel-graph")), "nor a graph")

	line := eval[int](p, cm+`.getValue().split("\n").findIndex((l) => l.includes("scenario: gift-wrap"))`)
	require.Positive(t, line)
	col := eval[int](p, fmt.Sprintf(cm+`.getLine(%d).indexOf("gift-wrap")`, line))
	p.Do("misspell a scenario id", chromedp.Evaluate[chromedp.Void](fmt.Sprintf(cm+`.focus(); `+cm+`.setCursor({line: %d, ch: %d})`, line, col+len("gift-wr"))),
		chromedp.KeyEvent(kb.Delete))
	p.Wait("the diagnostic", `document.querySelectorAll("#diags li.error").length > 0`)
	diag := eval[string](p, `document.querySelector("#diags li.error").textContent`)
	assert.Contains(t, diag, fmt.Sprintf("tracks/foundations.yaml:%d:%d", line+1, col+1))
	assert.Contains(t, diag, `did you mean "gift-wrap"`)
	p.Wait("the lint mark in the gutter", `document.querySelector(".CodeMirror-lint-marker-error") !== null`)
	p.Shot("studio-track-1-error")

	p.Do("undo", chromedp.KeyEvent("z", chromedp.KeyModifiers(kb.ModifierCtrl)))
	p.Wait("no problems", `document.getElementById("diag-count").textContent === "(none)"`)
	p.Do("add a comment and save", chromedp.Evaluate[chromedp.Void](cm+`.replaceRange("# edited in the studio\n", {line: 0, ch: 0})`),
		chromedp.KeyEvent("s", chromedp.KeyModifiers(kb.ModifierCtrl)))
	p.Wait("saved", `document.getElementById("file-state").textContent === "saved"`)
	b, err := os.ReadFile(filepath.Join(e.dir, "tracks", "foundations.yaml"))
	require.NoError(t, err)
	assert.Contains(t, string(b), "# edited in the studio\n")
	p.Shot("studio-track-2-saved")
	assert.Empty(t, eval[[]string](p, `window.__errors`), "no script errors")
}
