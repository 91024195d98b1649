package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/web/library"
	"github.com/switchboard-sim/switchboard/web/storage/pgjournal/pgtest"
)

// TestServeSharesLibraryOnPostgres: instances B and C on one database, each with its own
// data folder (the shipped library seeded into each). B creates the studio's secrets; C
// reads the same ones from the database, and a browser signed in on B is signed in on C.
// A designer saves a new scenario through B's studio API; C offers it within a second
// (the delay is logged) and a trainee plays it on C. A draft with errors saved on B
// reaches C's studio but trainees on C keep the published version; a save on C based on
// the version B replaced is a conflict. A track saved on B is served by C.
func TestServeSharesLibraryOnPostgres(t *testing.T) {
	dbURL := pgtest.Schema(t)
	env := []string{"SWITCHBOARD_DATABASE=" + dbURL}
	b := startServe(t, env, "--data", t.TempDir())
	var link string
	select {
	case link = <-b.studio:
	case <-time.After(readyWait):
		t.Fatal("B printed no designer link")
	}
	u, err := url.Parse(link)
	require.NoError(t, err)
	designer := u.Query().Get("key")
	require.NotEmpty(t, designer, "the first instance created the secrets and printed the link: %s", link)
	c := startServe(t, env, "--data", t.TempDir())
	select {
	case cl := <-c.studio:
		assert.NotContains(t, cl, "key=", "C did not create secrets, so it prints none")
	case <-time.After(readyWait):
		t.Fatal("C printed no designer line")
	}

	// The secret and sessions are shared.
	assert.Equal(t, http.StatusOK, studioReq(t, "GET", c.url+"/api/studio/me", designer, nil, nil), "B's secret works on C")
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	browser := &http.Client{Jar: jar}
	resp, err := browser.Get(link)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	resp, err = browser.Get(c.url + "/api/studio/me") // the cookie jar ignores ports: same cookie
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode, "signed in on B, recognised by C")

	// Both instances offer the shipped library.
	var listB, listC []struct{ ID, Title string }
	require.Equal(t, http.StatusOK, getJSON(t, b.url+"/api/scenarios", &listB))
	require.Equal(t, http.StatusOK, getJSON(t, c.url+"/api/scenarios", &listC))
	require.NotEmpty(t, listB)
	assert.Equal(t, listB, listC)

	// A designer saves a new scenario on B; C offers it within a second.
	live, err := os.ReadFile("../../web/api/testdata/live.yaml")
	require.NoError(t, err)
	src := strings.Replace(string(live), "id: live", "id: shared-live", 1)
	var saved struct{ Hash string }
	put := time.Now()
	require.Equal(t, http.StatusOK, studioReq(t, "PUT", b.url+"/api/studio/files/team/shared-live.yaml", designer,
		map[string]string{"source": src, "base": ""}, &saved))
	savedAt := time.Now()
	offered := func(base string) bool {
		var list []struct{ ID, Title string }
		getJSON(t, base+"/api/scenarios", &list)
		for _, s := range list {
			if s.ID == "shared-live" {
				return true
			}
		}
		return false
	}
	for !offered(c.url) {
		require.Less(t, time.Since(savedAt), library.SharedApplyWithin, "C did not offer the scenario saved on B within a second")
		time.Sleep(5 * time.Millisecond)
	}
	delay := time.Since(savedAt)
	t.Logf("saved on B in %v; offered by C %v after the save returned", savedAt.Sub(put).Round(time.Millisecond), delay.Round(time.Millisecond))

	// A trainee plays it on C.
	call := startCall(t, c.url, `{"scenario":"shared-live","trainee":"Kim"}`)
	ws := dialCall(t, c.url, call.WS, 0)
	ws.until("ring", "")
	ws.send(`{"type":"answer","id":"a1"}`)
	ws.until("line_end", "greet")
	ws.send(`{"type":"say","id":"s1","text":"I am so sorry, here is a refund."}`)
	assert.Equal(t, "refunded", ws.until("end", "").Ending)

	// A draft with errors saved on B reaches C's studio; trainees on C keep the published
	// version.
	broken := strings.Replace(src, "to: refunded", "to: refundd", 1)
	var draft struct{ Hash string }
	require.Equal(t, http.StatusOK, studioReq(t, "PUT", b.url+"/api/studio/files/team/shared-live.yaml", designer,
		map[string]string{"source": broken, "base": saved.Hash}, &draft))
	deadline := time.Now().Add(library.SharedApplyWithin)
	for {
		var got struct {
			Exists bool
			Hash   string
		}
		studioReq(t, "GET", c.url+"/api/studio/files/team/shared-live.yaml", designer, nil, &got)
		if got.Hash == draft.Hash {
			break
		}
		require.True(t, time.Now().Before(deadline), "C's studio did not get the draft within a second")
		time.Sleep(5 * time.Millisecond)
	}
	var entries struct {
		Scenarios []struct {
			Path          string `json:"path"`
			Draft         bool   `json:"draft"`
			PublishedHash string `json:"published_hash"`
		} `json:"scenarios"`
	}
	require.Equal(t, http.StatusOK, studioReq(t, "GET", c.url+"/api/studio/scenarios", designer, nil, &entries))
	found := false
	for _, e := range entries.Scenarios {
		if e.Path == "team/shared-live.yaml" {
			found = true
			assert.True(t, e.Draft, "C's studio shows the draft")
			assert.NotEmpty(t, e.PublishedHash, "and that a published version is still offered")
		}
	}
	assert.True(t, found)
	assert.True(t, offered(c.url), "trainees on C keep the published version")
	call2 := startCall(t, c.url, `{"scenario":"shared-live"}`)
	ws2 := dialCall(t, c.url, call2.WS, 0)
	ws2.until("ring", "")
	ws2.send(`{"type":"answer","id":"a1"}`)
	ws2.until("line_end", "greet")
	ws2.send(`{"type":"say","id":"s1","text":"Sorry, a refund for you."}`)
	assert.Equal(t, "refunded", ws2.until("end", "").Ending, "the published version, not the draft, is played")

	// A save on C from the version B replaced is refused: no silent overwrite.
	assert.Equal(t, http.StatusConflict, studioReq(t, "PUT", c.url+"/api/studio/files/team/shared-live.yaml", designer,
		map[string]string{"source": src + "\n# C's edit\n", "base": saved.Hash}, nil))

	// Revisions are shared: C lists the version B replaced.
	var revs struct {
		Revisions []struct{ Hash string } `json:"revisions"`
	}
	require.Equal(t, http.StatusOK, studioReq(t, "GET", c.url+"/api/studio/revisions/team/shared-live.yaml", designer, nil, &revs))
	require.NotEmpty(t, revs.Revisions)
	assert.Equal(t, saved.Hash, revs.Revisions[0].Hash)

	// Tracks are files of the library: one saved on B is served by C.
	require.Equal(t, http.StatusOK, studioReq(t, "PUT", b.url+"/api/studio/files/tracks/shared-track.yaml", designer,
		map[string]string{"source": "id: shared-track\ntitle: Shared track\nsteps:\n  - scenario: shared-live\n", "base": ""}, nil))
	trackSaved := time.Now()
	for {
		var ts []struct{ ID string }
		require.Equal(t, http.StatusOK, getJSON(t, c.url+"/api/tracks", &ts))
		found := false
		for _, tr := range ts {
			found = found || tr.ID == "shared-track"
		}
		if found {
			break
		}
		require.Less(t, time.Since(trackSaved), library.SharedApplyWithin, "C did not serve the track saved on B within a second")
		time.Sleep(5 * time.Millisecond)
	}
	t.Logf("track saved on B, served by C %v after the save returned", time.Since(trackSaved).Round(time.Millisecond))

	assert.Equal(t, 0, c.stop(syscall.SIGTERM), c.logs())
	assert.Equal(t, 0, b.stop(syscall.SIGTERM), b.logs())
}

// studioReq sends a studio API request with the designer secret and decodes the answer
// into out (when not nil); it returns the status.
func studioReq(t *testing.T, method, u, secret string, body, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(t, err)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, u, rd)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+secret)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	if out != nil && resp.StatusCode == http.StatusOK {
		require.NoError(t, json.NewDecoder(resp.Body).Decode(out))
	}
	return resp.StatusCode
}
