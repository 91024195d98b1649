package accounts_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/engine"
	"github.com/switchboard-sim/switchboard/engine/journal"
	"github.com/switchboard-sim/switchboard/engine/track"
	"github.com/switchboard-sim/switchboard/scenarios"
	"github.com/switchboard-sim/switchboard/web/accounts"
)

// cheap argon2 parameters keep the tests fast; the format and checks are the same.
var cheap = accounts.Argon2Params{MemoryKiB: 64, Time: 1, Threads: 1}

const (
	supervisorSecret = "the-supervisor-secret-0123"
	password         = "correct horse battery"
)

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// env is a test server: the accounts handler over a stand-in for the call API that
// records each call in a memory journal, as the real one does.
type env struct {
	t     *testing.T
	srv   *httptest.Server
	clock *fakeClock
	svc   *accounts.Service
	jr    *journal.Memory
	track *track.Track
	more  []*track.Track // further tracks offered, under mu
	n     int
	mu    sync.Mutex
}

func testTrack(t *testing.T) *track.Track {
	var diags engine.Diagnostics
	tr := track.LoadBytes("tracks/t.yaml", []byte(`id: basics
title: Basics
steps:
  - {scenario: cheese-shop, repeat: until-passed}
  - {scenario: gift-wrap}
`), track.Catalog{
		"cheese-shop": {ID: "cheese-shop", Title: "Cheese", Pass: 0.8},
		"gift-wrap":   {ID: "gift-wrap", Title: "Gift", Pass: 0.8},
	}, &diags)
	require.Empty(t, diags)
	return tr
}

var (
	shippedMu sync.Mutex
	shippedSc = map[string]*engine.Scenario{}
)

// shipped loads a shipped scenario once.
func shipped(t *testing.T, id string) *engine.Scenario {
	shippedMu.Lock()
	defer shippedMu.Unlock()
	if sc, ok := shippedSc[id]; ok {
		return sc
	}
	sc, diags := engine.LoadWith(scenarios.FS, scenarios.Root+"/"+id+".yaml", engine.LoadOptions{Packs: scenarios.Packs})
	require.NotNil(t, sc, diags.Error())
	shippedSc[id] = sc
	return sc
}

func newEnv(t *testing.T, anonymous bool) *env {
	e := &env{t: t, clock: &fakeClock{t: time.Date(2026, 12, 4, 21, 0, 0, 0, time.UTC)}, jr: journal.NewMemory(), track: testTrack(t)}
	e.svc = accounts.NewService(accounts.NewMemory(), accounts.Options{Now: e.clock.Now, Argon2: cheap})
	calls := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct{ Scenario, Trainee string }
		require.NoError(t, json.NewDecoder(r.Body).Decode(&req))
		e.mu.Lock()
		e.n++
		id := fmt.Sprintf("call%d", e.n)
		e.mu.Unlock()
		sc := shipped(t, req.Scenario)
		require.NoError(t, e.jr.Create(r.Context(), journal.Call{ID: id, ScenarioID: req.Scenario, Title: req.Scenario, Trainee: req.Trainee,
			Hash: sc.Hash, Sources: sc.Sources, Seed: 1, Created: e.clock.Now()}))
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(map[string]string{"id": id, "trainee": req.Trainee})
	})
	mux := http.NewServeMux()
	mux.Handle("POST /api/calls", calls)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
	h := accounts.NewHandler(accounts.HandlerOptions{Service: e.svc, Journal: e.jr, Secrets: []string{supervisorSecret},
		Anonymous: anonymous, Tracks: func() []*track.Track {
			e.mu.Lock()
			defer e.mu.Unlock()
			return append([]*track.Track{e.track}, e.more...)
		},
		Scenarios: func() []*engine.Scenario {
			return []*engine.Scenario{shipped(t, "cheese-shop"), shipped(t, "gift-wrap")}
		}})
	e.srv = httptest.NewServer(h.Mount(mux))
	t.Cleanup(e.srv.Close)
	return e
}

// client is one browser (its own cookie jar) or script (a bearer secret).
type client struct {
	e      *env
	c      *http.Client
	bearer string
}

func (e *env) browser() *client {
	jar, _ := cookiejar.New(nil)
	return &client{e: e, c: &http.Client{Jar: jar}}
}

func (e *env) script(secret string) *client { return &client{e: e, c: &http.Client{}, bearer: secret} }

func (c *client) do(method, path string, body any) (int, []byte) {
	c.e.t.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, err := http.NewRequest(method, c.e.srv.URL+path, rd)
	require.NoError(c.e.t, err)
	req.Header.Set("Content-Type", "application/json")
	if c.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.bearer)
	}
	resp, err := c.c.Do(req)
	require.NoError(c.e.t, err)
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	return resp.StatusCode, buf.Bytes()
}

func (c *client) json(method, path string, body any, wantStatus int, out any) {
	c.e.t.Helper()
	code, b := c.do(method, path, body)
	require.Equal(c.e.t, wantStatus, code, "%s %s: %s", method, path, b)
	if out != nil {
		require.NoError(c.e.t, json.Unmarshal(b, out), string(b))
	}
}

// invite makes an invite as the supervisor secret and returns its token.
func (e *env) invite(role, team string) string {
	var inv struct{ Token, Link string }
	e.script(supervisorSecret).json("POST", "/api/invites", map[string]string{"role": role, "team": team}, http.StatusCreated, &inv)
	require.Contains(e.t, inv.Link, "/account/invite.html#"+inv.Token)
	return inv.Token
}

// signUp accepts an invite in a new browser, which is then signed in.
func (e *env) signUp(token, login, name string) (*client, string) {
	b := e.browser()
	var acc struct{ ID string }
	b.json("POST", "/api/invites/"+token+"/accept", map[string]string{"login": login, "name": name, "password": password}, http.StatusCreated, &acc)
	return b, acc.ID
}

func (e *env) team(name string) string {
	var tm accounts.Team
	e.script(supervisorSecret).json("POST", "/api/teams", map[string]string{"name": name, "track": "basics"}, http.StatusCreated, &tm)
	return tm.ID
}

// finish ends a call with an overall score.
func (e *env) finish(id string, overall float64) {
	require.NoError(e.t, e.jr.Finish(context.Background(), id, journal.Result{Ended: e.clock.Now(), End: engine.EndInfo{Overall: overall, Passed: overall >= 0.8}}))
}

// finishScored ends a call with axis scores (axis → normalized; every axis assessed) and
// the global rules that fired.
func (e *env) finishScored(id string, overall float64, scores map[string]float64, fired ...string) {
	var as []engine.AxisScore
	for a, v := range scores {
		as = append(as, engine.AxisScore{Axis: a, Normalized: v, Weight: 1, Assessed: true})
	}
	require.NoError(e.t, e.jr.Finish(context.Background(), id, journal.Result{Ended: e.clock.Now(), Fired: fired,
		End: engine.EndInfo{Overall: overall, Passed: overall >= 0.8, Scores: as}}))
}

func (c *client) call(scenario, step string) string {
	c.e.t.Helper()
	body := map[string]string{"scenario": scenario, "trainee": "typed name"}
	if step != "" {
		body["track"], body["step"] = "basics", step
	}
	var res struct{ ID, Trainee string }
	c.json("POST", "/api/calls", body, http.StatusCreated, &res)
	return res.ID
}

func TestInviteSignUpSignInAndSessions(t *testing.T) {
	e := newEnv(t, true)
	teamID := e.team("Cohort 1")
	token := e.invite(accounts.RoleTrainee, teamID)

	var inv map[string]any
	e.browser().json("GET", "/api/invites/"+token, nil, http.StatusOK, &inv)
	assert.Equal(t, "trainee", inv["role"])
	assert.Equal(t, "Cohort 1", inv["team_name"])

	// Bad input is refused with the reason, and leaves the invite usable.
	b := e.browser()
	code, body := b.do("POST", "/api/invites/"+token+"/accept", map[string]string{"login": "ann", "name": "Ann", "password": "short"})
	assert.Equal(t, http.StatusBadRequest, code)
	assert.Contains(t, string(body), "at least 10 characters")

	ann, annID := e.signUp(token, "Ann@Example.org", "Ann")
	var me map[string]any
	ann.json("GET", "/api/account/me", nil, http.StatusOK, &me)
	assert.Equal(t, "ann@example.org", me["login"])
	assert.Equal(t, "Cohort 1", me["team_name"])
	assert.Equal(t, "basics", me["track"])
	assert.NotContains(t, string(mustJSON(me)), "argon2", "the password hash is never sent")

	// The invite is used up.
	code, _ = e.browser().do("POST", "/api/invites/"+token+"/accept", map[string]string{"login": "bob", "name": "Bob", "password": password})
	assert.Equal(t, http.StatusGone, code)

	// Sign in on a second device; sign out there; the first stays signed in.
	phone := e.browser()
	phone.json("POST", "/api/account/sign-in", map[string]string{"login": "ann@example.org", "password": password}, http.StatusOK, nil)
	phone.json("GET", "/api/account/me", nil, http.StatusOK, nil)
	phone.json("POST", "/api/account/sign-out", nil, http.StatusOK, nil)
	phone.json("GET", "/api/account/me", nil, http.StatusUnauthorized, nil)
	ann.json("GET", "/api/account/me", nil, http.StatusOK, nil)

	// A supervisor revokes every session of Ann's.
	phone.json("POST", "/api/account/sign-in", map[string]string{"login": "ann@example.org", "password": password}, http.StatusOK, nil)
	var rev map[string]int
	e.script(supervisorSecret).json("POST", "/api/accounts/"+annID+"/revoke", nil, http.StatusOK, &rev)
	assert.Equal(t, 2, rev["revoked"])
	ann.json("GET", "/api/account/me", nil, http.StatusUnauthorized, nil)
	phone.json("GET", "/api/account/me", nil, http.StatusUnauthorized, nil)
}

func mustJSON(v any) []byte { b, _ := json.Marshal(v); return b }

func TestCookieIsHttpOnlyAndSameSite(t *testing.T) {
	e := newEnv(t, true)
	token := e.invite(accounts.RoleTrainee, "")
	b, _ := json.Marshal(map[string]string{"login": "ann", "name": "Ann", "password": password})
	resp, err := http.Post(e.srv.URL+"/api/invites/"+token+"/accept", "application/json", bytes.NewReader(b))
	require.NoError(t, err)
	resp.Body.Close()
	require.Len(t, resp.Cookies(), 1)
	c := resp.Cookies()[0]
	assert.Equal(t, accounts.CookieName, c.Name)
	assert.True(t, c.HttpOnly)
	assert.Equal(t, http.SameSiteLaxMode, c.SameSite)
	assert.Equal(t, "/", c.Path)
	assert.Equal(t, int(accounts.SessionTTL/time.Second), c.MaxAge)
}

func TestInviteExpires(t *testing.T) {
	e := newEnv(t, true)
	token := e.invite(accounts.RoleTrainee, "")
	e.clock.Add(accounts.InviteTTL - time.Second)
	e.browser().json("GET", "/api/invites/"+token, nil, http.StatusOK, nil)
	e.clock.Add(time.Second)
	code, body := e.browser().do("GET", "/api/invites/"+token, nil)
	assert.Equal(t, http.StatusGone, code)
	assert.Contains(t, string(body), "expired")
	code, _ = e.browser().do("POST", "/api/invites/"+token+"/accept", map[string]string{"login": "ann", "name": "Ann", "password": password})
	assert.Equal(t, http.StatusGone, code)
	code, _ = e.browser().do("GET", "/api/invites/not-a-token", nil)
	assert.Equal(t, http.StatusNotFound, code)
}

func TestSessionExpires(t *testing.T) {
	e := newEnv(t, true)
	ann, _ := e.signUp(e.invite(accounts.RoleTrainee, ""), "ann", "Ann")
	e.clock.Add(accounts.SessionTTL - time.Second)
	ann.json("GET", "/api/account/me", nil, http.StatusOK, nil)
	e.clock.Add(time.Second)
	ann.json("GET", "/api/account/me", nil, http.StatusUnauthorized, nil)
}

func TestSignInIsThrottled(t *testing.T) {
	e := newEnv(t, true)
	e.signUp(e.invite(accounts.RoleTrainee, ""), "ann", "Ann")
	b := e.browser()
	wrong := map[string]string{"login": "ann", "password": "wrong password!"}
	for i := range accounts.SignInPerLoginBurst {
		code, body := b.do("POST", "/api/account/sign-in", wrong)
		require.Equal(t, http.StatusUnauthorized, code, "attempt %d: %s", i+1, body)
		assert.Contains(t, string(body), "wrong login or password")
	}
	// The login's bucket is empty: even the right password waits.
	code, body := b.do("POST", "/api/account/sign-in", map[string]string{"login": "ann", "password": password})
	assert.Equal(t, http.StatusTooManyRequests, code, string(body))
	// One attempt comes back every 30 s.
	e.clock.Add(30 * time.Second)
	b.json("POST", "/api/account/sign-in", map[string]string{"login": "ann", "password": password}, http.StatusOK, nil)

	// An unknown login answers like a wrong password.
	code, body = e.browser().do("POST", "/api/account/sign-in", map[string]string{"login": "nobody", "password": password})
	assert.Equal(t, http.StatusUnauthorized, code)
	assert.Contains(t, string(body), "wrong login or password")
}

func TestAnonymousPractice(t *testing.T) {
	on := newEnv(t, true)
	var res map[string]string
	on.browser().json("POST", "/api/calls", map[string]string{"scenario": "cheese-shop", "trainee": "Typed"}, http.StatusCreated, &res)
	assert.Equal(t, "Typed", res["trainee"], "anonymous calls keep the typed name")

	off := newEnv(t, false)
	code, body := off.browser().do("POST", "/api/calls", map[string]string{"scenario": "cheese-shop", "trainee": "Typed"})
	assert.Equal(t, http.StatusUnauthorized, code)
	assert.Contains(t, string(body), "does not allow anonymous practice")
	ann, _ := off.signUp(off.invite(accounts.RoleTrainee, ""), "ann", "Ann")
	ann.json("POST", "/api/calls", map[string]string{"scenario": "cheese-shop", "trainee": "Someone Else"}, http.StatusCreated, &res)
	assert.Equal(t, "Ann", res["trainee"], "a signed-in trainee's calls carry their account's name")
}

// TestTrackProgressAndMatrix: a trainee works through a track (fail, retry, pass, the
// next step unlocks) on two devices, and the supervisor's matrix follows.
func TestTrackProgressAndMatrix(t *testing.T) {
	e := newEnv(t, true)
	teamID := e.team("Cohort 1")
	ann, _ := e.signUp(e.invite(accounts.RoleTrainee, teamID), "ann", "Ann")
	e.signUp(e.invite(accounts.RoleTrainee, teamID), "=cmd", "=HYPERLINK(\"x\")")

	// The second step is locked.
	code, body := ann.do("POST", "/api/calls", map[string]string{"scenario": "gift-wrap", "track": "basics", "step": "gift-wrap"})
	assert.Equal(t, http.StatusForbidden, code)
	assert.Contains(t, string(body), "still locked: it waits for cheese-shop")
	// A step of another scenario is refused.
	code, _ = ann.do("POST", "/api/calls", map[string]string{"scenario": "gift-wrap", "track": "basics", "step": "cheese-shop"})
	assert.Equal(t, http.StatusBadRequest, code)

	e.finish(ann.call("cheese-shop", "cheese-shop"), 0.5)
	states := func(c *client) []track.State {
		var ts []struct {
			ID       string
			Assigned bool
			Progress track.Progress
		}
		c.json("GET", "/api/me/tracks", nil, http.StatusOK, &ts)
		require.Len(t, ts, 1)
		assert.True(t, ts[0].Assigned)
		var out []track.State
		for _, s := range ts[0].Progress.Steps {
			out = append(out, s.State)
		}
		return out
	}
	assert.Equal(t, []track.State{track.StateFailed, track.StateLocked}, states(ann))

	// Retry on another device, pass: the next step unlocks there and here.
	phone := e.browser()
	phone.json("POST", "/api/account/sign-in", map[string]string{"login": "ann", "password": password}, http.StatusOK, nil)
	e.finish(phone.call("cheese-shop", "cheese-shop"), 0.9)
	assert.Equal(t, []track.State{track.StatePassed, track.StateOpen}, states(ann))
	gift := ann.call("gift-wrap", "gift-wrap")
	e.finish(gift, 0.7)

	var calls []struct {
		ID, Step string
		Overall  float64
	}
	phone.json("GET", "/api/me/calls", nil, http.StatusOK, &calls)
	require.Len(t, calls, 3, "history follows the trainee across devices")
	assert.Equal(t, 0.7, calls[2].Overall)

	var m struct {
		Rows []struct {
			Name     string
			Progress track.Progress
		}
	}
	e.script(supervisorSecret).json("GET", "/api/teams/"+teamID+"/matrix", nil, http.StatusOK, &m)
	require.Len(t, m.Rows, 2)
	var annRow track.Progress
	for _, r := range m.Rows {
		if r.Name == "Ann" {
			annRow = r.Progress
		}
	}
	require.Len(t, annRow.Steps, 2)
	assert.Equal(t, 2, annRow.Steps[0].Attempts)
	assert.Equal(t, 0.9, annRow.Steps[0].Best)
	assert.Equal(t, track.StatePassed, annRow.Steps[0].State)
	assert.Equal(t, track.StateDone, annRow.Steps[1].State)
	assert.True(t, annRow.Complete)

	var sts []struct {
		Verb   struct{ ID string }
		Object struct{ ID string }
	}
	ann.json("GET", "/api/me/tracks/basics/xapi", nil, http.StatusOK, &sts)
	require.Len(t, sts, 3, "passed, failed (done), satisfied")
	assert.Equal(t, "http://adlnet.gov/expapi/verbs/passed", sts[0].Verb.ID)
	assert.Equal(t, "http://adlnet.gov/expapi/verbs/failed", sts[1].Verb.ID)
	assert.Equal(t, "https://w3id.org/xapi/adl/verbs/satisfied", sts[2].Verb.ID)

	code, body = e.script(supervisorSecret).do("GET", "/api/teams/"+teamID+"/matrix?format=csv", nil)
	require.Equal(t, http.StatusOK, code)
	recs, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	require.NoError(t, err)
	assert.Equal(t, []string{"trainee", "login", "track", "step", "scenario", "state", "best", "attempts", "passed"}, recs[0])
	assert.Contains(t, recs, []string{"Ann", "ann", "basics", "cheese-shop", "cheese-shop", "passed", "0.90", "2", "true"})
	assert.Contains(t, recs, []string{"Ann", "ann", "basics", "gift-wrap", "gift-wrap", "done", "0.70", "1", "false"})
	assert.Contains(t, string(body), `'=HYPERLINK`, "a formula-looking name is defused")
	assert.Contains(t, string(body), `'=cmd`)
	assert.False(t, strings.Contains(string(body), "\n=HYPERLINK"))
}

// TestAHungUpCallPassesNoStep: a call that ended lost (the trainee hung up on the customer
// after one good line, overall 100%) failed by its own verdict, and passes no track step
// either (an outside supervisor saw it marked passed in the matrix).
func TestAHungUpCallPassesNoStep(t *testing.T) {
	e := newEnv(t, true)
	teamID := e.team("Cohort 1")
	ann, _ := e.signUp(e.invite(accounts.RoleTrainee, teamID), "ann", "Ann")
	id := ann.call("cheese-shop", "cheese-shop")
	require.NoError(t, e.jr.Finish(context.Background(), id, journal.Result{Ended: e.clock.Now(),
		End: engine.EndInfo{Ending: "hangup", Outcome: engine.OutcomeLost, Overall: 1, Passed: false}}))
	var ts []struct{ Progress track.Progress }
	ann.json("GET", "/api/me/tracks", nil, http.StatusOK, &ts)
	require.Len(t, ts, 1)
	assert.Equal(t, track.StateFailed, ts[0].Progress.Steps[0].State)
	assert.Equal(t, track.StateLocked, ts[0].Progress.Steps[1].State)
	assert.Equal(t, 1, ts[0].Progress.Steps[0].Attempts)

	e.finish(ann.call("cheese-shop", "cheese-shop"), 0.9)
	ann.json("GET", "/api/me/tracks", nil, http.StatusOK, &ts)
	assert.Equal(t, track.StatePassed, ts[0].Progress.Steps[0].State)

	// The history says how each call stands against its step's pass mark.
	var calls []struct {
		Overall    float64
		Passed     bool
		StepPassed *bool `json:"step_passed"`
	}
	ann.json("GET", "/api/me/calls", nil, http.StatusOK, &calls)
	require.Len(t, calls, 2)
	require.NotNil(t, calls[0].StepPassed)
	assert.False(t, *calls[0].StepPassed, "the hung-up call passed no step")
	require.NotNil(t, calls[1].StepPassed)
	assert.True(t, *calls[1].StepPassed)
}

// TestTracksDoNotShowServerPaths: the trainees' track listings do not show where the
// track files are on the server (an outside supervisor saw /tmp/... in GET /api/tracks).
func TestTracksDoNotShowServerPaths(t *testing.T) {
	e := newEnv(t, true)
	teamID := e.team("Cohort 1")
	ann, _ := e.signUp(e.invite(accounts.RoleTrainee, teamID), "ann", "Ann")
	for _, path := range []string{"/api/tracks", "/api/me/tracks"} {
		code, body := ann.do("GET", path, nil)
		require.Equal(t, http.StatusOK, code, path)
		assert.Contains(t, string(body), `"basics"`, path)
		assert.NotContains(t, string(body), `"path"`, path)
	}
}
