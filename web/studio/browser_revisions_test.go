package studio_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/web/internal/browsertest"
	"github.com/switchboard-sim/switchboard/web/library"
)

// Revisions in the browser: each version marked "passed lint" or with its lint errors, and
// "live"; opening one shows the line diff to the editor's (unsaved) text, then what that
// revision changed from the one before, then its text.
func TestBrowserRevisionDiff(t *testing.T) {
	e := newEnv(t)
	src, _ := e.lib.File("cheese-shop.yaml")
	good := strings.Replace(string(src), "title: ", "title: Revised — ", 1)
	require.NoError(t, e.lib.Save("cheese-shop.yaml", []byte(good), hashOf(src)))
	bad := good + "nonsense_key: 1\n"
	require.NoError(t, e.lib.Save("cheese-shop.yaml", []byte(bad), hashOf([]byte(good))))

	p := &page{T: t, Ctx: browsertest.New(t, 1400, 1000)}
	p.Do("open cheese-shop", chromedp.Navigate(e.url+"/studio/?edit=cheese-shop.yaml&key="+url.QueryEscape(designerKey)))
	eval[bool](p, browsertest.TrackErrors)
	p.Wait("the editor", `document.querySelector(".CodeMirror") !== null && document.querySelectorAll("#graph .node").length === 21`)
	// An unsaved edit in the editor (which holds the draft): Edwin becomes Edwina.
	require.True(t, eval[bool](p, `(() => { const v = `+cm+`.getValue(); `+cm+`.setValue(v.replace("  name: Edwin\n", "  name: Edwina\n")); return `+cm+`.getValue() !== v; })()`))

	p.Do("open Revisions", chromedp.Click(chromedp.CSS(`[data-panel="revisions"]`)))
	p.Wait("the list", `document.querySelectorAll("#revisions li[data-rev]").length === 2`)
	assert.Equal(t, "The saved file ✗ 1 lint error", eval[string](p, `document.querySelector("#revisions .rev-current").textContent`))
	rows := eval[[]string](p, `[...document.querySelectorAll("#revisions li[data-rev]")].map((li) => [...li.querySelectorAll(".badge")].map((b) => b.textContent).join(" "))`)
	assert.Equal(t, []string{"✓ passed lint ● live", "✓ passed lint"}, rows, "the newest revision is what trainees get")

	p.Do("open the newest revision", chromedp.Click(chromedp.CSS(`#revisions li[data-rev] a`)))
	p.Wait("the diff to the editor", `!document.getElementById("rev-diff").hidden && document.getElementById("rev-diff-summary").textContent.includes("the text in the editor")`)
	assert.Contains(t, eval[string](p, `document.getElementById("rev-diff-summary").textContent`), "+2 lines, −1 line.")
	assert.Equal(t, []string{"−  name: Edwin", "+  name: Edwina", "+nonsense_key: 1"}, eval[[]string](p, `[...document.querySelectorAll("#rev-diff tr.add, #rev-diff tr.del")].map((r) => r.querySelector(".op").textContent + r.querySelector(".t").textContent)`))
	assert.Equal(t, 2, eval[int](p, `document.querySelectorAll("#rev-diff tr.hunk").length`), "two changes far apart: two hunks")
	assert.Equal(t, 8+4, eval[int](p, `document.querySelectorAll("#rev-diff tbody tr:not(.hunk)").length`), "3 lines of context each side of a changed line, none after the last line: %v", eval[[]string](p, `[...document.querySelectorAll("#rev-diff tbody tr")].map((r) => r.textContent)`))
	p.ShotAndAxe("studio-14-revision-diff")

	p.Do("what it changed", chromedp.Click(chromedp.CSS(`[data-rev-mode="previous"]`)))
	p.Wait("the previous diff", `document.querySelector('[data-rev-mode="previous"]').getAttribute("aria-pressed") === "true" && document.getElementById("rev-diff").textContent.includes("Revised")`)
	assert.Equal(t, []string{"−title: The empty cheese counter", "+title: Revised — The empty cheese counter"}, eval[[]string](p, `[...document.querySelectorAll("#rev-diff tr.add, #rev-diff tr.del")].map((r) => r.querySelector(".op").textContent + r.querySelector(".t").textContent)`))
	assert.Equal(t, []string{"", "2"}, eval[[]string](p, `[...document.querySelector("#rev-diff tr.add").querySelectorAll(".n")].map((x) => x.textContent)`), "line numbers of the old and new text")
	p.Shot("studio-14-revision-previous")

	p.Do("its text", chromedp.Click(chromedp.CSS(`[data-rev-mode="source"]`)))
	p.Wait("the text", browsertest.Visible("rev-source"))
	assert.Equal(t, good, eval[string](p, `document.getElementById("rev-source").textContent`))
	assert.False(t, eval[bool](p, browsertest.Visible("rev-diff")))
	assert.Empty(t, eval[[]string](p, `window.__errors`), "no script errors")
}

func hashOf(b []byte) string { return library.HashOf(b) }
