package studio_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/engine/journal"
	"github.com/switchboard-sim/switchboard/scenarios"
	"github.com/switchboard-sim/switchboard/web/access"
	"github.com/switchboard-sim/switchboard/web/api"
	"github.com/switchboard-sim/switchboard/web/library"
	"github.com/switchboard-sim/switchboard/web/peers"
	"github.com/switchboard-sim/switchboard/web/studio"
)

// noPeers is a registry with no other instance.
type noPeers struct{}

func (noPeers) Heartbeat(context.Context, peers.Instance, time.Time) error { return nil }
func (noPeers) RemoveInstance(context.Context, string) error               { return nil }
func (noPeers) Instances(context.Context, time.Time) ([]peers.Instance, error) {
	return nil, nil
}
func (noPeers) CallOwner(context.Context, string, time.Time, time.Time) (peers.Instance, bool, error) {
	return peers.Instance{}, false, nil
}

// TestSuperviseForPeers: a supervisor's websocket forwarded by a peer instance (with the
// peers' token) is served for the role the peer vouches for, without a studio secret; a
// forwarded request without a role that may supervise is refused 403, one with a wrong
// token 401, and a person's role header counts for nothing.
func TestSuperviseForPeers(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "scenarios")
	_, err := library.Seed(dir, scenarios.FS, scenarios.Root)
	require.NoError(t, err)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	lib, err := library.Open(dir, filepath.Join(root, "revisions"), log)
	require.NoError(t, err)
	lib.WaitForTests()
	jr := journal.NewMemory()
	srv, err := api.New(api.Options{Journal: jr, Logger: log, Scenarios: lib.Published()})
	require.NoError(t, err)
	studioH, err := studio.New(studio.Options{Library: lib, Calls: srv, Journal: jr, Logger: log,
		Secrets: access.Secrets{Designer: designerKey, Supervisor: supervisorKey}})
	require.NoError(t, err)
	const token = "studio-test-peers-token-0123456789"
	p, err := peers.New(peers.Config{Registry: noPeers{}, Name: "owner", URL: "http://owner.invalid:1", Token: token, TTL: time.Minute})
	require.NoError(t, err)
	// The same studio and calls behind the peers' guard, as serve mounts them.
	st := httptest.NewServer(p.Guard(studioH.Mount(srv.Handler())))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitFor)
		defer cancel()
		assert.NoError(t, srv.Shutdown(ctx))
		st.CloseClientConnections()
		st.Close()
	})
	e := &env{t: t, url: st.URL, dir: dir, lib: lib, srv: srv, jr: jr}

	var started struct{ ID, Token, WS string }
	require.Equal(t, http.StatusCreated, e.call("POST", "/api/calls", "", map[string]any{"scenario": "boutique", "trainee": "Ada"}, &started))
	trainee := e.dial(t, started.WS)
	trainee.until("ring")

	dial := func(h http.Header) int {
		ws, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(st.URL, "http")+"/ws/supervise/"+started.ID, h)
		if ws != nil {
			defer ws.Close()
			_, data, err := ws.ReadMessage()
			require.NoError(t, err)
			assert.Contains(t, string(data), `"type":"ring"`)
		}
		require.NotNil(t, resp, "%v", err)
		resp.Body.Close()
		return resp.StatusCode
	}
	peer := func(role string) http.Header {
		return http.Header{peers.HeaderToken: {token}, peers.HeaderForwarded: {"other"}, peers.HeaderRole: {role}}
	}
	assert.Equal(t, http.StatusSwitchingProtocols, dial(peer("supervisor")))
	assert.Equal(t, http.StatusSwitchingProtocols, dial(peer("designer")))
	assert.Equal(t, http.StatusForbidden, dial(peer("")))
	assert.Equal(t, http.StatusForbidden, dial(peer("admin")))
	wrong := peer("supervisor")
	wrong.Set(peers.HeaderToken, token+"x")
	assert.Equal(t, http.StatusUnauthorized, dial(wrong))
	assert.Equal(t, http.StatusUnauthorized, dial(http.Header{peers.HeaderRole: {"supervisor"}}), "a person's role header")
	assert.Equal(t, http.StatusSwitchingProtocols, dial(http.Header{"Authorization": {"Bearer " + supervisorKey}}), "a person with the secret")
}
