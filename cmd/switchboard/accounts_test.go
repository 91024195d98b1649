package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestServeTeamSetUp follows the README's team set-up against the real binary: with
// --anonymous=false a call needs an account; the supervisor secret makes a team and an
// invite; the trainee signs up and takes the first step of the shipped foundations track;
// after a restart the account (kept in the SQLite journal) still signs in and its call
// is still in its history.
func TestServeTeamSetUp(t *testing.T) {
	const secret = "a-supervisor-secret-for-tests"
	data := filepath.Join(t.TempDir(), "data")
	env := []string{"SWITCHBOARD_SUPERVISOR_SECRET=" + secret, "SWITCHBOARD_ANONYMOUS=false"}
	p := startServe(t, env, "--data", data)

	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	do := func(c *http.Client, method, path string, auth bool, body any, out any) int {
		t.Helper()
		b, _ := json.Marshal(body)
		req, err := http.NewRequest(method, p.url+path, bytes.NewReader(b))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		if auth {
			req.Header.Set("Authorization", "Bearer "+secret)
		}
		resp, err := c.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		if out != nil {
			require.NoError(t, json.NewDecoder(resp.Body).Decode(out))
		}
		return resp.StatusCode
	}

	var tracks []struct{ ID string }
	require.Equal(t, http.StatusOK, do(http.DefaultClient, "GET", "/api/tracks", false, nil, &tracks))
	assert.Len(t, tracks, 2, "the shipped tracks are seeded into the data folder")

	assert.Equal(t, http.StatusUnauthorized, do(http.DefaultClient, "POST", "/api/calls", false,
		map[string]string{"scenario": "ignored-phone", "trainee": "Anon"}, nil), "no anonymous calls")

	var team struct{ ID string }
	require.Equal(t, http.StatusCreated, do(http.DefaultClient, "POST", "/api/teams", true, map[string]string{"name": "Cohort", "track": "foundations"}, &team))
	var inv struct{ Token string }
	require.Equal(t, http.StatusCreated, do(http.DefaultClient, "POST", "/api/invites", true, map[string]string{"role": "trainee", "team": team.ID}, &inv))
	require.Equal(t, http.StatusCreated, do(browser, "POST", "/api/invites/"+inv.Token+"/accept", false,
		map[string]string{"login": "ann", "name": "Ann", "password": "long enough password"}, nil))
	var call struct{ ID string }
	require.Equal(t, http.StatusCreated, do(browser, "POST", "/api/calls", false,
		map[string]string{"scenario": "ignored-phone", "track": "foundations", "step": "ignored-phone"}, &call))
	assert.Equal(t, http.StatusForbidden, do(browser, "POST", "/api/calls", false,
		map[string]string{"scenario": "boutique", "track": "foundations", "step": "boutique"}, nil), "a locked step")
	assert.Equal(t, 0, p.stop(syscall.SIGTERM))

	p = startServe(t, env, "--data", data)
	jar2, _ := cookiejar.New(nil)
	phone := &http.Client{Jar: jar2}
	require.Equal(t, http.StatusOK, do(phone, "POST", "/api/account/sign-in", false, map[string]string{"login": "ann", "password": "long enough password"}, nil))
	var calls []struct{ ID, Step string }
	require.Equal(t, http.StatusOK, do(phone, "GET", "/api/me/calls", false, nil, &calls))
	require.Len(t, calls, 1)
	assert.Equal(t, call.ID, calls[0].ID)
	assert.Equal(t, "ignored-phone", calls[0].Step)
	assert.Equal(t, http.StatusOK, do(browser, "GET", "/api/account/me", false, nil, nil), "the first browser's session survives the restart")
}

// TestServeStudioSavesATrack: a track saved in the studio is what trainees get at once —
// the server reloads its tracks whenever the library changes.
func TestServeStudioSavesATrack(t *testing.T) {
	const designer = "a-designer-secret-for-tests"
	p := startServe(t, []string{"SWITCHBOARD_DESIGNER_SECRET=" + designer}, "--data", filepath.Join(t.TempDir(), "data"))
	tracks := func() []string {
		t.Helper()
		resp, err := http.Get(p.url + "/api/tracks")
		require.NoError(t, err)
		defer resp.Body.Close()
		var ts []struct{ ID string }
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&ts))
		var ids []string
		for _, tr := range ts {
			ids = append(ids, tr.ID)
		}
		return ids
	}
	require.Len(t, tracks(), 2)

	body, _ := json.Marshal(map[string]string{"source": "id: quick-start\ntitle: Quick start\nsteps:\n  - scenario: ignored-phone\n", "base": ""})
	req, err := http.NewRequest("PUT", p.url+"/api/studio/files/tracks/quick-start.yaml", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+designer)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, tracks(), "quick-start", "the saved track is served without a restart")
	assert.Equal(t, 0, p.stop(syscall.SIGTERM))
}
