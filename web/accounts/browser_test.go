package accounts_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/engine"
	"github.com/switchboard-sim/switchboard/engine/journal"
	"github.com/switchboard-sim/switchboard/engine/track"
	"github.com/switchboard-sim/switchboard/web/accounts"
	"github.com/switchboard-sim/switchboard/web/api"
	"github.com/switchboard-sim/switchboard/web/internal/browsertest"
)

// TestBrowserInviteToTrackProgress is the whole path in headless Chromium: a supervisor's
// invite → the trainee signs up → takes the first step and fails (hangs up) → retries and
// passes → the second step unlocks → the supervisor signs in and sees it in the matrix.
func TestBrowserInviteToTrackProgress(t *testing.T) {
	var scs []*engine.Scenario
	for _, f := range []string{"testdata/live.yaml", "testdata/live2.yaml"} {
		sc, diags := engine.Load(os.DirFS("."), f)
		require.NotNil(t, sc, diags.Error())
		scs = append(scs, sc)
	}
	var diags engine.Diagnostics
	tr := track.LoadBytes("tracks/first.yaml", []byte(`id: first
title: First calls
description: Two short calls.
steps:
  - {scenario: live, title: The broken kettle, repeat: until-passed}
  - {scenario: live2, title: The second kettle, unlock: {after: [live]}}
`), track.CatalogOf(scs), &diags)
	require.Empty(t, diags, diags.Error())

	jr := journal.NewMemory()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	calls, err := api.New(api.Options{Scenarios: scs, Journal: jr, Logger: quiet})
	require.NoError(t, err)
	svc := accounts.NewService(accounts.NewMemory(), accounts.Options{Argon2: cheap})
	h := accounts.NewHandler(accounts.HandlerOptions{Service: svc, Journal: jr, Secrets: []string{supervisorSecret},
		Anonymous: false, Logger: quiet, Tracks: func() []*track.Track { return []*track.Track{tr} },
		Scenarios: func() []*engine.Scenario { return scs }})
	srv := httptest.NewServer(h.Mount(calls.Handler()))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		assert.NoError(t, calls.Shutdown(ctx))
		srv.Close()
	})
	e := &env{t: t, srv: srv, svc: svc, jr: jr}
	var tm accounts.Team
	e.script(supervisorSecret).json("POST", "/api/teams", map[string]string{"name": "Kettle cohort", "track": "first"}, http.StatusCreated, &tm)
	teamID := tm.ID
	invite := e.invite(accounts.RoleTrainee, teamID)
	supToken := e.invite(accounts.RoleSupervisor, "")
	e.browser().json("POST", "/api/invites/"+supToken+"/accept", map[string]string{"login": "sue", "name": "Sue", "password": password}, http.StatusCreated, nil)

	p := &browsertest.Page{T: t, Ctx: browsertest.New(t, 1000, 900)}
	eval := func(expr string) string { return browsertest.Eval[string](p, expr) }
	visible := browsertest.Visible

	// Sign up through the invite link.
	p.Do("open the invite", chromedp.Navigate(srv.URL+"/account/invite.html#"+invite))
	browsertest.Eval[bool](p, browsertest.TrackErrors)
	p.Wait("the invite is checked", `document.getElementById("invite-about").textContent.includes("Kettle cohort")`)
	p.ShotAndAxe("accounts-1-invite")
	p.Do("sign up", chromedp.SendKeys("#name", "Ann Trainee"), chromedp.SendKeys("#login", "ann"),
		chromedp.SendKeys("#password", password), chromedp.Click(`#invite-form button[type=submit]`))
	p.Wait("my track", `location.pathname === "/account/track.html" && document.querySelectorAll(".step").length === 2`)
	stepStates := `[...document.querySelectorAll(".step")].map((s) => s.dataset.state).join(",")`
	assert.Equal(t, "open,locked", eval(stepStates))
	assert.Contains(t, eval(`document.querySelector('.step[data-step="live2"]').textContent`), "waits for live")
	assert.Equal(t, 0, browsertest.Eval[int](p, `document.querySelectorAll('.step[data-step="live2"] a').length`), "a locked step cannot be taken")
	p.Shot("accounts-2-track-start")

	takeAndEnd := func(step string, pass bool) {
		p.Do("take the step "+step, chromedp.Click(`.step[data-step="`+step+`"] a`))
		p.Wait("the phone rings", visible("phone"))
		p.Do("answer", chromedp.Click("#answer"))
		p.Wait("the customer speaks", `document.querySelector("#transcript .customer .words") !== null`)
		if pass {
			p.Wait("the line ends", `document.querySelector("#announce").textContent.includes("what now")`)
			p.Do("apologise and refund", chromedp.Focus("#say"), chromedp.KeyEvent("I'm so sorry, here is a refund."), chromedp.KeyEvent("\r"))
		} else {
			p.Do("hang up", chromedp.Click("#hangup"))
			if eval(`document.getElementById("hangup-text").textContent`) == "Hang up anyway?" {
				p.Do("hang up anyway", chromedp.Click("#hangup"))
			}
		}
		p.Wait("the end view", visible("endview"))
	}

	takeAndEnd("live", false)
	assert.Equal(t, "✗ Not passed", eval(`document.getElementById("verdict").textContent`))
	p.Do("back to my track", chromedp.Navigate(srv.URL+"/account/track.html"))
	p.Wait("my track", `document.querySelectorAll(".step").length === 2`)
	assert.Equal(t, "failed,locked", eval(stepStates))

	// The supervisor's matrix before the pass (asked with the secret, as a script would).
	matrix := func() []string {
		var m struct {
			Rows []struct{ Progress track.Progress }
		}
		code, b := e.script(supervisorSecret).do("GET", "/api/teams/"+teamID+"/matrix", nil)
		require.Equal(t, http.StatusOK, code)
		require.NoError(t, json.Unmarshal(b, &m))
		require.Len(t, m.Rows, 1)
		var out []string
		for _, s := range m.Rows[0].Progress.Steps {
			out = append(out, string(s.State))
		}
		return out
	}
	assert.Equal(t, []string{"failed", "locked"}, matrix())

	takeAndEnd("live", true)
	assert.Equal(t, "✓ Passed", eval(`document.getElementById("verdict").textContent`))
	p.Do("back to my track", chromedp.Navigate(srv.URL+"/account/track.html"))
	p.Wait("my track", `document.querySelectorAll(".step").length === 2`)
	assert.Equal(t, "passed,open", eval(stepStates), "the second step unlocked")
	assert.Contains(t, eval(`document.querySelector('.step[data-step="live2"] a').textContent`), "next")
	p.Wait("both calls in my history", `document.querySelectorAll("#calls li a").length === 2`)
	// Scores over time: an SVG with a titled point per call and axis, the table fallback,
	// and the weakest skill with the scenario that practises it.
	// The hung-up call said nothing: it is void and enters no score.
	p.Wait("the chart", `document.querySelectorAll('svg.chart g[data-axis="care"] circle').length === 1`)
	assert.Contains(t, eval(`document.querySelector("svg.chart title").textContent`), "over 1 call")
	assert.Contains(t, eval(`document.querySelector('svg.chart g[data-axis="care"] circle title').textContent`), "care: ")
	assert.Equal(t, 2, browsertest.Eval[int](p, `document.querySelectorAll("table.scores tr").length`), "a header and a row per counted call")
	assert.Contains(t, eval(`document.querySelector("#weakest li").textContent`), "practise it with")
	assert.Zero(t, browsertest.Eval[int](p, `document.querySelectorAll('a[href^="/account/completion.html"]').length`), "no completion page before the track is complete")
	p.ShotAndAxe("accounts-3-track-unlocked")

	// My own debrief opens without the call's token.
	p.Do("open a debrief", chromedp.Click(`#calls li a`))
	p.Wait("the debrief", `document.getElementById("d-title") && document.getElementById("d-title").textContent.startsWith("Debrief")`)
	assert.Equal(t, "✓ Passed", eval(`document.getElementById("d-verdict").textContent.slice(0, 8)`))

	// The second step passed completes the track: the printable completion page.
	p.Do("back to my track", chromedp.Navigate(srv.URL+"/account/track.html"))
	p.Wait("my track", `document.querySelectorAll(".step").length === 2`)
	takeAndEnd("live2", true)
	p.Do("back to my track", chromedp.Navigate(srv.URL+"/account/track.html"))
	p.Wait("the completion link", `document.querySelector('a[href="/account/completion.html#track=first"]') !== null`)
	p.Wait("two points on the line", `document.querySelectorAll('svg.chart g[data-axis="care"] circle').length === 2`)
	assert.Contains(t, eval(`document.querySelector('svg.chart g[data-axis="care"] polyline').getAttribute("points")`), " ", "a line through both calls")
	p.Shot("accounts-5a-track-complete")
	p.Do("open the completion page", chromedp.Click(`a[href="/account/completion.html#track=first"]`))
	p.Wait("the completion page", `!document.getElementById("cert").hidden`)
	assert.Equal(t, "Ann Trainee", eval(`document.getElementById("cert-name").textContent`))
	assert.Equal(t, "First calls", eval(`document.getElementById("cert-track").textContent`))
	assert.Equal(t, 2, browsertest.Eval[int](p, `document.querySelectorAll("#cert-steps tr").length`))
	p.ShotAndAxe("accounts-5-completion")
	media := func(m string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: m})
			return err
		})
	}
	p.Do("print media", media("print"))
	assert.Equal(t, "none", eval(`getComputedStyle(document.querySelector("header.top")).display`), "no navigation on paper")
	assert.Equal(t, "none", eval(`getComputedStyle(document.getElementById("print").parentElement).display`))
	p.Shot("accounts-6-completion-print")
	p.Do("screen media", media(""))

	// The supervisor signs in (in this browser, after the trainee signs out) and sees the matrix.
	assert.Equal(t, []string{"passed", "passed"}, matrix())
	p.Do("the account page", chromedp.Navigate(srv.URL+"/account/"))
	p.Wait("signed in", visible("signed-in"))
	p.Do("sign out", chromedp.Click("#sign-out"))
	p.Wait("the sign-in form", visible("sign-in"))
	p.Do("sign in as the supervisor", chromedp.SendKeys("#login", "sue"), chromedp.SendKeys("#password", password),
		chromedp.Click(`#sign-in-form button[type=submit]`))
	p.Wait("the matrix", `location.pathname === "/account/team.html" && document.querySelector("table.matrix tr[data-account]") !== null`)
	cells := eval(`[...document.querySelectorAll('#matrix table.matrix tr[data-account="ann"] td')].map((c) => c.dataset.state).join(",")`)
	assert.Equal(t, "passed,passed", cells)
	assert.Contains(t, eval(`document.querySelector('#matrix table.matrix tr[data-account="ann"] td').textContent`), "best 100% · 2×")
	assert.NotEmpty(t, eval(`document.getElementById("csv").getAttribute("href")`))
	p.Wait("the team's progress", `document.querySelector("table.weeks tr th") !== null && document.querySelector('#team-progress li[data-axis="care"]') !== null`)
	assert.Contains(t, eval(`document.querySelector('table.rules tr[data-account="ann"]').textContent`), "Ann Trainee")
	assert.Equal(t, 2, browsertest.Eval[int](p, `document.querySelectorAll("table.weeks tr").length`), "one week of calls")
	assert.Contains(t, eval(`document.getElementById("progress-csv").getAttribute("href")`), "/progress?format=csv")
	p.ShotAndAxe("accounts-4-matrix")

	// One trainee gets her own track, on the Teams page.
	p.Do("assign Ann's own track", chromedp.SetValue("#assign-track", "first"), chromedp.Click(`#assign button[type=submit]`))
	p.Wait("assigned", `document.getElementById("assign-done").textContent === "Assigned." && document.querySelector('#matrix tr[data-account="ann"] th .hint') !== null`)
	assert.Equal(t, "own track: First calls", eval(`document.querySelector('#matrix tr[data-account="ann"] th .hint').textContent`))
	acc, err := svc.Store().AccountByLogin(context.Background(), "ann")
	require.NoError(t, err)
	assert.Equal(t, "first", acc.Track)
	p.Shot("accounts-7-assigned")
	assert.Empty(t, browsertest.Eval[[]string](p, `window.__errors`), "uncaught errors on the pages")
}
