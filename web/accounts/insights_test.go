package accounts_test

import (
	"bytes"
	"encoding/csv"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/engine"
	"github.com/switchboard-sim/switchboard/engine/journal"
	"github.com/switchboard-sim/switchboard/engine/track"
	"github.com/switchboard-sim/switchboard/web/accounts"
)

// TestMyProgress: a trainee's axis scores over time and weakest skills, each with the
// scenario that weights it most; another trainee's calls never enter them.
func TestMyProgress(t *testing.T) {
	e := newEnv(t, true)
	teamID := e.team("Cohort")
	ann, _ := e.signUp(e.invite(accounts.RoleTrainee, teamID), "ann", "Ann")
	bob, _ := e.signUp(e.invite(accounts.RoleTrainee, teamID), "bob", "Bob")

	e.finishScored(ann.call("cheese-shop", "cheese-shop"), 0.5, map[string]float64{"honesty": 0.2, "helpfulness": 0.8})
	e.clock.t = e.clock.t.Add(8 * 24 * time.Hour)
	e.finishScored(ann.call("cheese-shop", "cheese-shop"), 0.9, map[string]float64{"honesty": 0.6, "helpfulness": 1})
	e.finishScored(ann.call("gift-wrap", ""), 0.6, map[string]float64{"urgency": 0.9, "service": 0.3})
	// A void call (never answered) enters no average.
	require.NoError(t, e.jr.Finish(t.Context(), ann.call("gift-wrap", ""), journal.Result{Ended: e.clock.Now(),
		End: engine.EndInfo{Note: "never answered", Scores: []engine.AxisScore{{Axis: "service", Normalized: 0, Assessed: true}}}}))
	ann.call("gift-wrap", "") // still open
	bobCall := bob.call("gift-wrap", "")
	e.finishScored(bobCall, 0.1, map[string]float64{"urgency": 0.0})

	var p struct {
		Axes   []string
		Points []struct {
			Call     string
			Scenario string
			Scores   map[string]float64
		}
		Weakest []struct {
			Axis     string
			Average  float64
			Calls    int
			Practice *struct{ Scenario, Title string }
		}
	}
	ann.json("GET", "/api/me/progress", nil, http.StatusOK, &p)
	assert.Equal(t, []string{"helpfulness", "honesty", "service", "urgency"}, p.Axes)
	require.Len(t, p.Points, 3, "finished, non-void calls only")
	assert.Equal(t, 0.2, p.Points[0].Scores["honesty"])
	for _, pt := range p.Points {
		assert.NotEqual(t, bobCall, pt.Call)
	}
	require.Len(t, p.Weakest, accounts.MaxWeakest)
	assert.Equal(t, "service", p.Weakest[0].Axis)
	assert.InDelta(t, 0.3, p.Weakest[0].Average, 1e-9)
	require.NotNil(t, p.Weakest[0].Practice)
	assert.Equal(t, "gift-wrap", p.Weakest[0].Practice.Scenario)
	assert.Equal(t, "honesty", p.Weakest[1].Axis)
	assert.InDelta(t, 0.4, p.Weakest[1].Average, 1e-9)
	assert.Equal(t, 2, p.Weakest[1].Calls)
	assert.Equal(t, "cheese-shop", p.Weakest[1].Practice.Scenario)
	assert.Equal(t, "helpfulness", p.Weakest[2].Axis)

	// A trainee with no call yet gets empty lists, not null.
	cid, _ := e.signUp(e.invite(accounts.RoleTrainee, teamID), "cid", "Cid")
	code, body := cid.do("GET", "/api/me/progress", nil)
	require.Equal(t, http.StatusOK, code)
	assert.JSONEq(t, `{"axes":[],"points":[],"weakest":[]}`, string(body))
}

// TestTeamProgress: the team's weakest axes, each trainee's most-fired rules and the
// weekly trend, as JSON and CSV.
func TestTeamProgress(t *testing.T) {
	e := newEnv(t, true)
	teamID := e.team("Cohort")
	other := e.team("Other")
	ann, _ := e.signUp(e.invite(accounts.RoleTrainee, teamID), "ann", "Ann")
	bob, _ := e.signUp(e.invite(accounts.RoleTrainee, teamID), "bob", "=Bob")
	eve, _ := e.signUp(e.invite(accounts.RoleTrainee, other), "eve", "Eve")

	// 2026-12-04 is a Friday of ISO week 49.
	e.finishScored(ann.call("cheese-shop", ""), 0.4, map[string]float64{"honesty": 0.2}, "interrupting", "interrupting", "silence")
	e.finishScored(bob.call("cheese-shop", ""), 0.6, map[string]float64{"honesty": 0.4, "helpfulness": 0.9}, "silence")
	e.clock.t = e.clock.t.Add(7 * 24 * time.Hour)
	e.finishScored(ann.call("cheese-shop", ""), 0.9, map[string]float64{"honesty": 0.9}, "silence")
	e.finishScored(eve.call("cheese-shop", ""), 0.0, map[string]float64{"honesty": 0.0}, "rude")

	var p struct {
		Weakest []struct {
			Axis    string
			Average float64
			Calls   int
		}
		Rules []struct {
			Name  string
			Rules []struct {
				Rule  string
				Count int
			}
		}
		Weeks []struct {
			Week    string
			Average float64
			Calls   int
		}
	}
	e.script(supervisorSecret).json("GET", "/api/teams/"+teamID+"/progress", nil, http.StatusOK, &p)
	require.Len(t, p.Weakest, 2)
	assert.Equal(t, "honesty", p.Weakest[0].Axis)
	assert.InDelta(t, 0.5, p.Weakest[0].Average, 1e-9, "Eve's team is not this one")
	assert.Equal(t, 3, p.Weakest[0].Calls)
	require.Len(t, p.Rules, 2)
	byName := map[string][]struct {
		Rule  string
		Count int
	}{}
	for _, r := range p.Rules {
		byName[r.Name] = r.Rules
	}
	require.Len(t, byName["Ann"], 2)
	assert.Equal(t, "interrupting", byName["Ann"][0].Rule)
	assert.Equal(t, 2, byName["Ann"][0].Count)
	assert.Equal(t, "silence", byName["Ann"][1].Rule)
	assert.Equal(t, 2, byName["Ann"][1].Count)
	require.Len(t, p.Weeks, 2)
	assert.Equal(t, "2026-W49", p.Weeks[0].Week)
	assert.InDelta(t, 0.5, p.Weeks[0].Average, 1e-9)
	assert.Equal(t, 2, p.Weeks[0].Calls)
	assert.Equal(t, "2026-W50", p.Weeks[1].Week)
	assert.InDelta(t, 0.9, p.Weeks[1].Average, 1e-9)

	code, body := e.script(supervisorSecret).do("GET", "/api/teams/"+teamID+"/progress?format=csv", nil)
	require.Equal(t, http.StatusOK, code)
	recs, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	require.NoError(t, err)
	assert.Equal(t, []string{"section", "trainee", "login", "item", "average", "count"}, recs[0])
	assert.Contains(t, recs, []string{"weak_axis", "", "", "honesty", "0.50", "3"})
	assert.Contains(t, recs, []string{"rule", "Ann", "ann", "interrupting", "", "2"})
	assert.Contains(t, recs, []string{"rule", "'=Bob", "bob", "silence", "", "1"})
	assert.Contains(t, recs, []string{"week", "", "", "2026-W50", "0.90", "1"})
	assert.NotContains(t, string(body), "rude")
}

// TestAssignTrackToTrainee: a supervisor gives one trainee their own track, which
// overrides the team's for them only, and clears it again.
func TestAssignTrackToTrainee(t *testing.T) {
	e := newEnv(t, true)
	var diags engine.Diagnostics
	gift := track.LoadBytes("tracks/gift.yaml", []byte("id: gift-first\ntitle: Gift first\nsteps:\n  - {scenario: gift-wrap}\n"),
		track.Catalog{"gift-wrap": {ID: "gift-wrap", Title: "Gift", Pass: 0.8}}, &diags)
	require.Empty(t, diags)
	e.mu.Lock()
	e.more = []*track.Track{gift}
	e.mu.Unlock()
	teamID := e.team("Cohort")
	ann, annID := e.signUp(e.invite(accounts.RoleTrainee, teamID), "ann", "Ann")
	bob, _ := e.signUp(e.invite(accounts.RoleTrainee, teamID), "bob", "Bob")
	_, supID := e.signUp(e.invite(accounts.RoleSupervisor, ""), "sue", "Sue")
	sup := e.script(supervisorSecret)

	assigned := func(c *client) (me string, first string) {
		var m struct{ Track string }
		c.json("GET", "/api/account/me", nil, http.StatusOK, &m)
		var ts []struct {
			ID       string
			Assigned bool
		}
		c.json("GET", "/api/me/tracks", nil, http.StatusOK, &ts)
		require.Len(t, ts, 2)
		if ts[0].Assigned {
			first = ts[0].ID
		}
		return m.Track, first
	}
	me, first := assigned(ann)
	assert.Equal(t, "basics", me, "the team's track")
	assert.Equal(t, "basics", first)

	sup.json("PUT", "/api/accounts/"+annID+"/track", map[string]string{"track": "gift-first"}, http.StatusOK, nil)
	me, first = assigned(ann)
	assert.Equal(t, "gift-first", me, "her own track overrides the team's")
	assert.Equal(t, "gift-first", first)
	me, _ = assigned(bob)
	assert.Equal(t, "basics", me, "only hers")
	var m struct {
		Rows []struct{ Login, Track string }
	}
	sup.json("GET", "/api/teams/"+teamID+"/matrix", nil, http.StatusOK, &m)
	for _, r := range m.Rows {
		assert.Equal(t, map[string]string{"ann": "gift-first", "bob": ""}[r.Login], r.Track, r.Login)
	}

	code, body := sup.do("PUT", "/api/accounts/"+annID+"/track", map[string]string{"track": "gift-frist"})
	assert.Equal(t, http.StatusNotFound, code)
	assert.Contains(t, string(body), `no track has the id \"gift-frist\"`)
	code, _ = sup.do("PUT", "/api/accounts/nobody/track", map[string]string{"track": "basics"})
	assert.Equal(t, http.StatusNotFound, code)
	code, body = sup.do("PUT", "/api/accounts/"+supID+"/track", map[string]string{"track": "basics"})
	assert.Equal(t, http.StatusBadRequest, code, "a supervisor has no track")
	assert.Contains(t, string(body), "only a trainee")

	sup.json("PUT", "/api/accounts/"+annID+"/track", map[string]string{"track": ""}, http.StatusOK, nil)
	me, _ = assigned(ann)
	assert.Equal(t, "basics", me, "cleared: the team's track again")
}

// TestSignInSweepsExpiredSessions: a sign-in removes the sessions that have expired
// (at most once every SweepEvery), so the store does not keep them forever.
func TestSignInSweepsExpiredSessions(t *testing.T) {
	e := newEnv(t, true)
	e.signUp(e.invite(accounts.RoleTrainee, ""), "ann", "Ann") // session 1
	e.browser().json("POST", "/api/account/sign-in", map[string]string{"login": "ann", "password": password}, http.StatusOK, nil)
	e.clock.t = e.clock.t.Add(accounts.SessionTTL + 2*time.Hour) // both expired
	e.browser().json("POST", "/api/account/sign-in", map[string]string{"login": "ann", "password": password}, http.StatusOK, nil)
	n, err := e.svc.Store().DeleteExpiredSessions(t.Context(), e.clock.Now().Add(2*accounts.SessionTTL))
	require.NoError(t, err)
	assert.Equal(t, 1, n, "only the new session was left: the sign-in swept the two expired ones")
}
