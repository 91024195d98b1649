package api

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/engine/journal"
	"github.com/switchboard-sim/switchboard/web/live"
	"github.com/switchboard-sim/switchboard/web/peers"
	"github.com/switchboard-sim/switchboard/web/protocol"
)

// testRegistry is a peers.Registry in memory whose instances' URLs the test sets once the
// servers listen, and whose call owners it names.
type testRegistry struct {
	mu     sync.Mutex
	insts  map[string]peers.Instance
	urls   map[string]string
	owners map[string]string
}

func newTestRegistry() *testRegistry {
	return &testRegistry{insts: map[string]peers.Instance{}, urls: map[string]string{}, owners: map[string]string{}}
}

func (g *testRegistry) Heartbeat(_ context.Context, inst peers.Instance, _ time.Time) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.insts[inst.Name] = inst
	return nil
}

func (g *testRegistry) RemoveInstance(_ context.Context, name string) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.insts, name)
	return nil
}

func (g *testRegistry) withURL(i peers.Instance) peers.Instance {
	if u, ok := g.urls[i.Name]; ok {
		i.URL = u
	}
	return i
}

func (g *testRegistry) Instances(_ context.Context, seenSince time.Time) ([]peers.Instance, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []peers.Instance
	for _, n := range []string{"a", "b"} {
		if i, ok := g.insts[n]; ok && !i.Seen.Before(seenSince) {
			out = append(out, g.withURL(i))
		}
	}
	return out, nil
}

func (g *testRegistry) CallOwner(_ context.Context, callID string, _, seenSince time.Time) (peers.Instance, bool, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	i, ok := g.insts[g.owners[callID]]
	if !ok || i.Seen.Before(seenSince) {
		return peers.Instance{}, false, nil
	}
	return g.withURL(i), true, nil
}

func (g *testRegistry) set(m map[string]string, k, v string) {
	g.mu.Lock()
	m[k] = v
	g.mu.Unlock()
}

const peersToken = "api-test-peers-token-0123456789"

// peerServer is an owned test server with peers (registry reg, instance name), serving
// supervisors too (the role a peer vouches for is required of forwarded requests).
func peerServer(t *testing.T, j journal.Journal, reg *testRegistry, name string) *testServer {
	t.Helper()
	p, err := peers.New(peers.Config{Registry: reg, Name: name, URL: "http://" + name + ".invalid:1", Token: peersToken, TTL: time.Minute})
	require.NoError(t, err)
	require.NoError(t, p.Register(context.Background()))
	ts := newTestServer(t, Options{Journal: j, Ownership: &live.Ownership{Instance: name, TTL: time.Minute}, Peers: p})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ws/supervise/{id}", func(w http.ResponseWriter, r *http.Request) {
		if peers.Forwarded(r) && peers.Role(r) != "supervisor" {
			WriteError(w, http.StatusForbidden, protocol.CodeForbidden, "no role")
			return
		}
		ts.ServeSupervisor(w, r, r.PathValue("id"), "supervisor")
	})
	mux.Handle("/", ts.Handler())
	ts.serve.set(p.Guard(mux))
	reg.set(reg.urls, name, ts.url)
	return ts
}

// TestForwardToTheLiveOwner: two instances share a journal. A trainee whose websocket
// reaches B, for a call A owns, is forwarded to A and takes the call to its end; B
// checks the call token first. A supervisor on B listens to A's call and whispers; the
// trainee hears it. B's board lists A's calls with A's name. Once A cannot be reached, B
// answers 503 owned_elsewhere and reports A on the board as not answering. A request
// that claims to come from a peer with a wrong token is refused.
func TestForwardToTheLiveOwner(t *testing.T) {
	j := journal.NewMemory()
	reg := newTestRegistry()
	a := peerServer(t, j, reg, "a")
	b := peerServer(t, j, reg, "b")

	r := a.start(t, `{"scenario":"live","trainee":"Kim"}`)
	reg.set(reg.owners, r.ID, "a")
	status, code := refusedWS(t, b, "/ws/calls/"+r.ID+"?token=wrong")
	assert.Equal(t, http.StatusUnauthorized, status, "B checks the token before forwarding")
	assert.Equal(t, protocol.CodeUnauthorized, code)

	tr := b.dial(t, r.WS, nil)
	tr.until("ring")
	assert.Equal(t, 1, a.LiveCalls())
	assert.Zero(t, b.LiveCalls(), "B forwards; it does not take the call")

	// B's board has A's call.
	board := b.Board(context.Background(), time.Now(), nil)
	assert.Equal(t, "b", board.Instance)
	require.Len(t, board.Instances, 2)
	assert.Equal(t, InstanceStatus{Name: "a", URL: a.url, Calls: 1}, board.Instances[1])
	require.Len(t, board.Calls, 1)
	assert.Equal(t, r.ID, board.Calls[0].ID)
	assert.Equal(t, "a", board.Calls[0].Instance)
	assert.Equal(t, "Kim", board.Calls[0].Trainee)

	// A supervisor connected to B listens to the call and whispers.
	sup := b.dial(t, "/ws/supervise/"+r.ID, nil)
	sup.until("ring")
	tr.send(map[string]any{"type": "answer", "id": "a1"})
	sup.until("trainee")
	sup.send(map[string]any{"type": "whisper", "id": "w-1", "text": "Apologise first."})
	assert.Equal(t, "Apologise first.", tr.until("whisper").Text)
	tr.until("line_end")
	tr.send(map[string]any{"type": "say", "id": "s1", "text": "I'm sorry, here is a refund."})
	tr.until("end")
	assert.Equal(t, websocket.CloseNormalClosure, tr.closeCode())
	assert.Equal(t, websocket.CloseNormalClosure, sup.closeCode())

	// A forged peer request is refused; the peers' board is for peers only.
	for _, h := range []http.Header{
		{peers.HeaderForwarded: {"b"}, peers.HeaderToken: {"wrong-token-0123456789abcdef"}, peers.HeaderRole: {"supervisor"}},
		{peers.HeaderForwarded: {"b"}},
		{},
	} {
		req, _ := http.NewRequest(http.MethodGet, a.url+"/api/peer/board", nil)
		req.Header = h
		resp, err := a.client.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "%v", h)
	}
	_, resp, err := websocket.DefaultDialer.Dial(a.wsURL("/ws/supervise/"+r.ID), http.Header{peers.HeaderForwarded: {"b"}, peers.HeaderRole: {"supervisor"}})
	require.Error(t, err)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)

	// A second call of A's, with A unreachable: 503 owned_elsewhere, and the board says so.
	r2 := a.start(t, `{"scenario":"live","trainee":"Lee"}`)
	reg.set(reg.owners, r2.ID, "a")
	reg.set(reg.urls, "a", "http://127.0.0.1:1")
	status, code = refusedWS(t, b, r2.WS)
	assert.Equal(t, http.StatusServiceUnavailable, status)
	assert.Equal(t, protocol.CodeOwnedElsewhere, code)
	began := time.Now()
	board = b.Board(context.Background(), time.Now(), nil)
	assert.Less(t, time.Since(began), peers.GetTimeout+time.Second)
	require.Len(t, board.Instances, 2)
	assert.NotEmpty(t, board.Instances[1].Error, "A did not answer")
	assert.Empty(t, board.Calls, "A's calls are missing, not an error")
}
