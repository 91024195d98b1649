package studio_test

import (
	"bufio"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/web"
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
				Calls []web.FloorCall `json:"calls"`
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
