package studio_test

import (
	"bufio"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/web/live"
)

// dialAs opens a websocket with a secret ("" for none) and returns the handshake status.
func (e *env) dialAs(t *testing.T, path, secret string) (*websocket.Conn, int) {
	t.Helper()
	hdr := http.Header{}
	if secret != "" {
		hdr.Set("Authorization", "Bearer "+secret)
	}
	ws, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(e.url, "http")+path, hdr)
	if resp == nil {
		require.NoError(t, err)
	}
	resp.Body.Close()
	if ws != nil {
		t.Cleanup(func() { ws.Close() })
	}
	return ws, resp.StatusCode
}

func TestSupervisorAccess(t *testing.T) {
	e := newEnv(t)
	var started struct{ ID, Token, WS string }
	require.Equal(t, http.StatusCreated, e.call("POST", "/api/calls", "", map[string]any{"scenario": "boutique", "trainee": "Ada"}, &started))
	trainee := e.dial(t, started.WS)
	trainee.until("ring")

	// A wrong secret, no secret, or the trainee's call token are refused.
	for _, secret := range []string{"", "not-the-secret-0123456789", started.Token} {
		_, status := e.dialAs(t, "/ws/supervise/"+started.ID, secret)
		assert.Equal(t, http.StatusUnauthorized, status, "secret %q", secret)
		assert.Equal(t, http.StatusUnauthorized, e.call("GET", "/api/supervise/floor", secret, nil, nil))
	}
	// The page asks for a sign-in without a secret.
	assert.Equal(t, http.StatusUnauthorized, e.call("GET", "/supervise", "", nil, nil))
	assert.Equal(t, http.StatusOK, e.call("GET", "/supervise", supervisorKey, nil, nil))

	// The supervisor and the designer secrets may listen; the trainee is not disturbed.
	for _, key := range []string{supervisorKey, designerKey} {
		ws, status := e.dialAs(t, "/ws/supervise/"+started.ID, key)
		require.Equal(t, http.StatusSwitchingProtocols, status)
		_, data, err := ws.ReadMessage()
		require.NoError(t, err)
		assert.Contains(t, string(data), `"type":"ring"`)
	}
	trainee.send(map[string]any{"type": "answer"})
	trainee.until("line_start")

	// The floor lists the call.
	req, err := http.NewRequest("GET", e.url+"/api/supervise/floor?watch=apology", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+supervisorKey)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			var ev struct {
				Calls []live.FloorCall `json:"calls"`
			}
			require.NoError(t, json.Unmarshal([]byte(data), &ev))
			require.Len(t, ev.Calls, 1)
			assert.Equal(t, "Ada", ev.Calls[0].Trainee)
			assert.Equal(t, "boutique", ev.Calls[0].ScenarioID)
			assert.Equal(t, 2, ev.Calls[0].Listeners)
			break
		}
	}
}

func TestReviewAndNotes(t *testing.T) {
	e := newEnv(t)
	var started struct{ ID, Token, WS string }
	require.Equal(t, http.StatusCreated, e.call("POST", "/api/calls", "", map[string]any{"scenario": "boutique", "trainee": "Ada"}, &started))
	trainee := e.dial(t, started.WS)
	trainee.send(map[string]any{"type": "hangup"})
	end := trainee.until("end")
	outcome := end["outcome"].(string)

	type row struct {
		ID, Trainee, Outcome string
		Open, Passed         bool
	}
	// The result is recorded just after the end is sent.
	require.Eventually(t, func() bool {
		var rows []row
		e.call("GET", "/api/supervise/calls?trainee=Ada", supervisorKey, nil, &rows)
		return len(rows) == 1 && !rows[0].Open
	}, waitFor, 20*time.Millisecond)
	today := time.Now().UTC().Format(time.DateOnly)
	tomorrow := time.Now().UTC().AddDate(0, 0, 1).Format(time.DateOnly)
	for q, want := range map[string]int{
		"trainee=Ada": 1, "trainee=Bob": 0, "scenario=boutique": 1, "scenario=cheese-shop": 0,
		"outcome=" + outcome: 1, "outcome=nope": 0, "passed=false": 1, "passed=true": 0,
		"from=" + today + "&to=" + today: 1, "from=" + tomorrow: 0, "to=2000-01-01": 0,
	} {
		var rows []row
		require.Equal(t, http.StatusOK, e.call("GET", "/api/supervise/calls?"+q, supervisorKey, nil, &rows), q)
		assert.Len(t, rows, want, q)
	}
	assert.Equal(t, http.StatusBadRequest, e.call("GET", "/api/supervise/calls?from=yesterday", supervisorKey, nil, nil))
	assert.Equal(t, http.StatusBadRequest, e.call("GET", "/api/supervise/calls?passed=maybe", supervisorKey, nil, nil))
	assert.Equal(t, http.StatusUnauthorized, e.call("GET", "/api/supervise/calls", "wrong-secret-0123456789", nil, nil))

	// Notes: the supervisor adds one; the trainee sees it in the debrief.
	notes := "/api/supervise/calls/" + started.ID + "/notes"
	assert.Equal(t, http.StatusUnauthorized, e.call("POST", notes, "", map[string]any{"at_ms": 1000, "text": "x"}, nil))
	assert.Equal(t, http.StatusBadRequest, e.call("POST", notes, supervisorKey, map[string]any{"at_ms": 1000, "text": "  "}, nil))
	assert.Equal(t, http.StatusNotFound, e.call("POST", "/api/supervise/calls/nope/notes", supervisorKey, map[string]any{"at_ms": 0, "text": "x"}, nil))
	require.Equal(t, http.StatusCreated, e.call("POST", notes, supervisorKey, map[string]any{"at_ms": 42_000, "text": "Stay on the line until the customer is done."}, nil))
	var rec struct {
		Notes []struct {
			At     int64
			Text   string
			Author string
		}
	}
	require.Equal(t, http.StatusOK, e.call("GET", "/api/calls/"+started.ID+"/debrief?token="+started.Token, "", nil, &rec))
	require.Len(t, rec.Notes, 1, "the trainee's debrief has the note")
	assert.Equal(t, int64(42_000), rec.Notes[0].At)
	assert.Equal(t, "Stay on the line until the customer is done.", rec.Notes[0].Text)
	assert.Equal(t, "supervisor", rec.Notes[0].Author)
	rec.Notes = nil
	require.Equal(t, http.StatusOK, e.call("GET", "/api/studio/calls/"+started.ID+"/debrief", supervisorKey, nil, &rec))
	assert.Len(t, rec.Notes, 1)
}
