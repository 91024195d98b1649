package accounts_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/web/accounts"
)

// TestAccessControl asks every endpoint as every kind of caller: nobody, two trainees,
// a supervisor's account, the supervisor secret and a wrong secret. A trainee never
// sees another trainee's calls, and never reaches a supervisor's endpoint.
func TestAccessControl(t *testing.T) {
	e := newEnv(t, true)
	teamID := e.team("Cohort")
	ann, annID := e.signUp(e.invite(accounts.RoleTrainee, teamID), "ann", "Ann")
	bob, _ := e.signUp(e.invite(accounts.RoleTrainee, teamID), "bob", "Bob")
	sup, _ := e.signUp(e.invite(accounts.RoleSupervisor, ""), "sue", "Sue")
	annCall := ann.call("cheese-shop", "cheese-shop")
	e.finish(annCall, 0.9)
	bobCall := bob.call("cheese-shop", "")
	e.finish(bobCall, 0.4)

	callers := map[string]*client{
		"nobody":       e.browser(),
		"ann":          ann,
		"bob":          bob,
		"supervisor":   sup,
		"secret":       e.script(supervisorSecret),
		"wrong secret": e.script("not-the-secret-at-all"),
	}
	type want map[string]int
	all := func(code int) want {
		return want{"nobody": code, "ann": code, "bob": code, "supervisor": code, "secret": code, "wrong secret": code}
	}
	// Responses by caller; each request runs fresh for each caller.
	for _, tc := range []struct {
		method, path string
		body         any
		want         want
	}{
		{"GET", "/api/account/me", nil, want{"nobody": 401, "ann": 200, "bob": 200, "supervisor": 200, "secret": 401, "wrong secret": 401}},
		{"GET", "/api/me/calls", nil, want{"nobody": 401, "ann": 200, "bob": 200, "supervisor": 200, "secret": 401, "wrong secret": 401}},
		{"GET", "/api/me/tracks", nil, want{"nobody": 401, "ann": 200, "bob": 200, "supervisor": 200, "secret": 401, "wrong secret": 401}},
		{"GET", "/api/me/calls/" + annCall + "/debrief", nil, want{"nobody": 401, "ann": 200, "bob": 404, "supervisor": 404, "secret": 401, "wrong secret": 401}},
		{"GET", "/api/me/calls/" + bobCall + "/debrief", nil, want{"nobody": 401, "ann": 404, "bob": 200, "supervisor": 404, "secret": 401, "wrong secret": 401}},
		{"GET", "/api/teams", nil, want{"nobody": 401, "ann": 403, "bob": 403, "supervisor": 200, "secret": 200, "wrong secret": 401}},
		{"POST", "/api/teams", map[string]string{"name": "New"}, want{"nobody": 401, "ann": 403, "bob": 403, "supervisor": 201, "secret": 201, "wrong secret": 401}},
		{"PUT", "/api/teams/" + teamID + "/track", map[string]string{"track": "basics"}, want{"nobody": 401, "ann": 403, "bob": 403, "supervisor": 200, "secret": 200, "wrong secret": 401}},
		{"GET", "/api/teams/" + teamID + "/matrix", nil, want{"nobody": 401, "ann": 403, "bob": 403, "supervisor": 200, "secret": 200, "wrong secret": 401}},
		{"GET", "/api/teams/" + teamID + "/matrix?format=csv", nil, want{"nobody": 401, "ann": 403, "bob": 403, "supervisor": 200, "secret": 200, "wrong secret": 401}},
		{"POST", "/api/invites", map[string]string{"role": "trainee"}, want{"nobody": 401, "ann": 403, "bob": 403, "supervisor": 201, "secret": 201, "wrong secret": 401}},
		{"GET", "/api/me/tracks/basics/xapi", nil, want{"nobody": 401, "ann": 200, "bob": 200, "supervisor": 200, "secret": 401, "wrong secret": 401}},
		{"GET", "/api/me/progress", nil, want{"nobody": 401, "ann": 200, "bob": 200, "supervisor": 200, "secret": 401, "wrong secret": 401}},
		{"GET", "/api/teams/" + teamID + "/progress", nil, want{"nobody": 401, "ann": 403, "bob": 403, "supervisor": 200, "secret": 200, "wrong secret": 401}},
		{"GET", "/api/teams/" + teamID + "/progress?format=csv", nil, want{"nobody": 401, "ann": 403, "bob": 403, "supervisor": 200, "secret": 200, "wrong secret": 401}},
		{"GET", "/api/teams/nope/progress", nil, want{"nobody": 401, "ann": 403, "bob": 403, "supervisor": 404, "secret": 404, "wrong secret": 401}},
		{"PUT", "/api/accounts/" + annID + "/track", map[string]string{"track": "basics"}, want{"nobody": 401, "ann": 403, "bob": 403, "supervisor": 200, "secret": 200, "wrong secret": 401}},
		{"GET", "/api/tracks", nil, all(200)},
		{"GET", "/api/invites/nope", nil, all(404)},
	} {
		for name, c := range callers {
			code, body := c.do(tc.method, tc.path, tc.body)
			assert.Equal(t, tc.want[name], code, "%s %s as %s: %s", tc.method, tc.path, name, body)
			if (tc.path == "/api/me/calls" || tc.path == "/api/me/progress") && code == 200 {
				if other, ok := map[string]string{"ann": bobCall, "bob": annCall}[name]; ok {
					assert.NotContains(t, string(body), `"`+other+`"`, "%s sees only their own calls", name)
					own := map[string]string{"ann": annCall, "bob": bobCall}[name]
					assert.Contains(t, string(body), `"`+own+`"`, "%s sees their own call", name)
				}
			}
		}
	}
	// Revoking: last, since it signs people out.
	for _, name := range []string{"nobody", "bob", "wrong secret"} {
		code, _ := callers[name].do("POST", "/api/accounts/"+annID+"/revoke", nil)
		assert.Contains(t, []int{401, 403}, code, name)
	}
	ann.json("GET", "/api/account/me", nil, http.StatusOK, nil)
	code, _ := sup.do("POST", "/api/accounts/"+annID+"/revoke", nil)
	require.Equal(t, 200, code)
	ann.json("GET", "/api/account/me", nil, http.StatusUnauthorized, nil)
}

// TestCrossOriginWritesAreRefused: a supervisor's browser cannot be made to create an
// invite or a team from another site, nor sign in from one.
func TestCrossOriginWritesAreRefused(t *testing.T) {
	e := newEnv(t, true)
	sup, _ := e.signUp(e.invite(accounts.RoleSupervisor, ""), "sue", "Sue")
	for _, path := range []string{"/api/invites", "/api/teams", "/api/account/sign-in"} {
		req, err := http.NewRequest("POST", e.srv.URL+path, strings.NewReader(`{"name":"x","role":"trainee"}`))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", "https://evil.example")
		resp, err := sup.c.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusForbidden, resp.StatusCode, path)
	}
}
