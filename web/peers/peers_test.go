package peers

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// memRegistry is a Registry in memory; owners maps a call to its owner's name.
type memRegistry struct {
	mu     sync.Mutex
	insts  map[string]Instance
	owners map[string]string
}

func newMem() *memRegistry {
	return &memRegistry{insts: map[string]Instance{}, owners: map[string]string{}}
}

func (m *memRegistry) Heartbeat(_ context.Context, inst Instance, forgetBefore time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if old, ok := m.insts[inst.Name]; ok {
		inst.Started = old.Started
	}
	m.insts[inst.Name] = inst
	for n, i := range m.insts {
		if i.Seen.Before(forgetBefore) {
			delete(m.insts, n)
		}
	}
	return nil
}

func (m *memRegistry) RemoveInstance(_ context.Context, name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.insts, name)
	return nil
}

func (m *memRegistry) Instances(_ context.Context, seenSince time.Time) ([]Instance, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Instance
	for _, i := range m.insts {
		if !i.Seen.Before(seenSince) {
			out = append(out, i)
		}
	}
	sortByName(out)
	return out, nil
}

func sortByName(is []Instance) {
	for i := range is {
		for j := i + 1; j < len(is); j++ {
			if is[j].Name < is[i].Name {
				is[i], is[j] = is[j], is[i]
			}
		}
	}
}

func (m *memRegistry) CallOwner(_ context.Context, callID string, _, seenSince time.Time) (Instance, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	i, ok := m.insts[m.owners[callID]]
	if !ok || i.Seen.Before(seenSince) {
		return Instance{}, false, nil
	}
	return i, true, nil
}

func (m *memRegistry) setOwner(call, name string) {
	m.mu.Lock()
	m.owners[call] = name
	m.mu.Unlock()
}

const testToken = "0123456789abcdef-test-token"

// instance is one test instance: its Peers, behind Guard, serving h.
type instance struct {
	p  *Peers
	ts *httptest.Server
}

func newInstance(t *testing.T, reg Registry, name string, h http.Handler) *instance {
	t.Helper()
	in := &instance{}
	in.ts = httptest.NewUnstartedServer(nil)
	p, err := New(Config{Registry: reg, Name: name, URL: "http://" + in.ts.Listener.Addr().String(), Token: testToken, TTL: 3 * time.Second})
	require.NoError(t, err)
	in.p = p
	in.ts.Config.Handler = p.Guard(h)
	in.ts.Start()
	t.Cleanup(in.ts.Close)
	require.NoError(t, p.Register(context.Background()))
	return in
}

// echo reports what reached it: path, query, host, origin, the forwarding headers.
func echo(w http.ResponseWriter, r *http.Request) {
	_ = json.NewEncoder(w).Encode(map[string]any{
		"path": r.URL.Path, "query": r.URL.RawQuery, "host": r.Host, "origin": r.Header.Get("Origin"),
		"forwarded": Forwarded(r), "by": r.Header.Get(HeaderForwarded), "role": Role(r),
		"token_seen": r.Header.Get(HeaderToken) != "",
	})
}

func TestGuard(t *testing.T) {
	t.Parallel()
	in := newInstance(t, newMem(), "a", http.HandlerFunc(echo))
	var nilPeers *Peers
	bare := httptest.NewServer(nilPeers.Guard(http.HandlerFunc(echo)))
	t.Cleanup(bare.Close)
	for _, tc := range []struct {
		name    string
		url     string
		headers map[string]string
		status  int
		fwd     bool
	}{
		{"a person", in.ts.URL, map[string]string{HeaderRole: "designer"}, 200, false},
		{"a peer", in.ts.URL, map[string]string{HeaderToken: testToken, HeaderForwarded: "b", HeaderRole: "supervisor"}, 200, true},
		{"forwarded without a token", in.ts.URL, map[string]string{HeaderForwarded: "b"}, 401, false},
		{"a wrong token", in.ts.URL, map[string]string{HeaderToken: testToken + "x", HeaderForwarded: "b"}, 401, false},
		{"a token's prefix", in.ts.URL, map[string]string{HeaderToken: testToken[:10], HeaderForwarded: "b"}, 401, false},
		{"a token without the forwarded header", in.ts.URL, map[string]string{HeaderToken: testToken}, 401, false},
		{"a peer's request to an instance without peers", bare.URL, map[string]string{HeaderToken: testToken, HeaderForwarded: "b"}, 401, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", tc.url+"/x", nil)
			for k, v := range tc.headers {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			require.Equal(t, tc.status, resp.StatusCode)
			var got map[string]any
			require.NoError(t, json.NewDecoder(resp.Body).Decode(&got))
			if tc.status != 200 {
				assert.Contains(t, got, "error")
				return
			}
			assert.Equal(t, tc.fwd, got["forwarded"])
			assert.Equal(t, false, got["token_seen"], "the token stops at the guard")
			if tc.fwd {
				assert.Equal(t, "supervisor", got["role"])
			} else {
				assert.Equal(t, "", got["role"], "a person's role header is ignored")
			}
		})
	}
	// Two tokens are refused too.
	req, _ := http.NewRequest("GET", in.ts.URL+"/x", nil)
	req.Header.Add(HeaderToken, testToken)
	req.Header.Add(HeaderToken, testToken)
	req.Header.Set(HeaderForwarded, "b")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 401, resp.StatusCode)
}

// forwarder makes instance name whose handler forwards every request to the owner of
// call "c" (fallback: 503 with the instance's name), counting its fallbacks.
func forwarder(t *testing.T, reg Registry, name string, fallbacks *atomic.Int32) *instance {
	var in *instance
	in = newInstance(t, reg, name, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in.p.Forward(w, r, "c", "supervisor", func(w http.ResponseWriter, r *http.Request) {
			fallbacks.Add(1)
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, "owned_elsewhere from "+name)
		})
	}))
	return in
}

// TestForward: a request reaches the owner with its path, query, Host and Origin, marked
// as forwarded by an authenticated peer with the role; no owner, this instance as owner,
// an unreachable owner, and an already forwarded request get the fallback.
func TestForward(t *testing.T) {
	t.Parallel()
	reg := newMem()
	owner := newInstance(t, reg, "owner", http.HandlerFunc(echo))
	var fb atomic.Int32
	a := forwarder(t, reg, "a", &fb)

	get := func(u string) (int, string) {
		req, _ := http.NewRequest("GET", u, nil)
		req.Host = "switchboard.example.org"
		req.Header.Set("Origin", "https://switchboard.example.org")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code, body := get(a.ts.URL + "/ws/calls/c?token=T&after=3")
	assert.Equal(t, 503, code, "no owner known: %s", body)
	assert.Equal(t, int32(1), fb.Load())

	reg.setOwner("c", "owner")
	code, body = get(a.ts.URL + "/ws/calls/c?token=T&after=3")
	require.Equal(t, 200, code, body)
	var got map[string]any
	require.NoError(t, json.Unmarshal([]byte(body), &got))
	assert.Equal(t, map[string]any{"path": "/ws/calls/c", "query": "token=T&after=3", "host": "switchboard.example.org",
		"origin": "https://switchboard.example.org", "forwarded": true, "by": "a", "role": "supervisor", "token_seen": false}, got)
	assert.Equal(t, int32(1), fb.Load())

	reg.setOwner("c", "a") // this instance: answer here
	code, _ = get(a.ts.URL + "/ws/calls/c")
	assert.Equal(t, 503, code)
	assert.Equal(t, int32(2), fb.Load())

	// An owner that is registered but down.
	reg.setOwner("c", "owner")
	owner.ts.Close()
	code, body = get(a.ts.URL + "/ws/calls/c")
	assert.Equal(t, 503, code)
	assert.Equal(t, "owned_elsewhere from a", body)
	assert.Equal(t, int32(3), fb.Load())

	// An owner whose heartbeats stopped is not forwarded to.
	reg.mu.Lock()
	o := reg.insts["owner"]
	o.Seen = o.Seen.Add(-time.Hour)
	reg.insts["owner"] = o
	reg.mu.Unlock()
	code, _ = get(a.ts.URL + "/ws/calls/c")
	assert.Equal(t, 503, code)
	assert.Equal(t, int32(4), fb.Load())
}

// TestForwardNoLoop: two instances that each believe the other owns the call. A request
// to a is forwarded to b once; b, seeing a forwarded request, answers with its fallback
// instead of forwarding it back.
func TestForwardNoLoop(t *testing.T) {
	t.Parallel()
	reg := newMem()
	var fa, fbk atomic.Int32
	a := forwarder(t, reg, "a", &fa)
	reg2 := &swapOwner{memRegistry: reg, owner: "a"} // b believes a owns it
	var b *instance
	b = newInstance(t, reg2, "b", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.p.Forward(w, r, "c", "", func(w http.ResponseWriter, r *http.Request) {
			fbk.Add(1)
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, "owned_elsewhere from b")
		})
	}))
	reg.setOwner("c", "b") // a believes b owns it
	resp, err := http.Get(a.ts.URL + "/ws/calls/c")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, 503, resp.StatusCode)
	assert.Equal(t, "owned_elsewhere from b", string(body), "b answered, without forwarding back")
	assert.Equal(t, int32(0), fa.Load(), "a forwarded")
	assert.Equal(t, int32(1), fbk.Load(), "b answered once")
}

// swapOwner answers every CallOwner with owner.
type swapOwner struct {
	*memRegistry
	owner string
}

func (s *swapOwner) CallOwner(_ context.Context, _ string, _, _ time.Time) (Instance, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i, ok := s.insts[s.owner]
	return i, ok, nil
}

// TestForwardWebsocket: a websocket upgrade goes through the proxy both ways.
func TestForwardWebsocket(t *testing.T) {
	t.Parallel()
	reg := newMem()
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }} // the handler checks it
	newInstance(t, reg, "owner", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !Forwarded(r) || r.Header.Get("Origin") != "http://trainee.example" {
			http.Error(w, "not forwarded", http.StatusForbidden)
			return
		}
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		for {
			mt, b, err := ws.ReadMessage()
			if err != nil {
				return
			}
			_ = ws.WriteMessage(mt, append([]byte("owner: "), b...))
		}
	}))
	var fb atomic.Int32
	a := forwarder(t, reg, "a", &fb)
	reg.setOwner("c", "owner")
	h := http.Header{"Origin": {"http://trainee.example"}}
	ws, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(a.ts.URL, "http")+"/ws/calls/c?token=T", h)
	if resp != nil && err != nil {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("%v: %d %s", err, resp.StatusCode, b)
	}
	require.NoError(t, err)
	defer ws.Close()
	assert.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
	for _, m := range []string{"hello", "again"} {
		require.NoError(t, ws.WriteMessage(websocket.TextMessage, []byte(m)))
		_, b, err := ws.ReadMessage()
		require.NoError(t, err)
		assert.Equal(t, "owner: "+m, string(b))
	}
	assert.Equal(t, int32(0), fb.Load())
}

// TestGetAll: every other live instance is asked at once; one that answers too late or
// not at all is reported with its error, the others' answers are there.
func TestGetAll(t *testing.T) {
	t.Parallel()
	reg := newMem()
	a := newInstance(t, reg, "a", http.NotFoundHandler())
	newInstance(t, reg, "b", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !Forwarded(r) {
			http.Error(w, "people may not", http.StatusUnauthorized)
			return
		}
		_, _ = io.WriteString(w, "board of b "+r.URL.RawQuery)
	}))
	release := make(chan struct{})
	defer close(release)
	newInstance(t, reg, "c", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	d := newInstance(t, reg, "d", http.NotFoundHandler())
	d.ts.Close()
	// e advertises a's URL (misconfigured): skipped.
	e, err := New(Config{Registry: reg, Name: "e", URL: a.p.URL(), Token: testToken, TTL: 3 * time.Second})
	require.NoError(t, err)
	require.NoError(t, e.Register(context.Background()))
	began := time.Now()
	reps, err := a.p.GetAll(context.Background(), "/board?watch=x")
	require.NoError(t, err)
	assert.Less(t, time.Since(began), GetTimeout+time.Second, "asked in parallel, each bounded")
	require.Len(t, reps, 3, "every instance but a, and e with a's URL")
	assert.Equal(t, "b", reps[0].Instance.Name)
	assert.NoError(t, reps[0].Err)
	assert.Equal(t, 200, reps[0].Status)
	assert.Equal(t, "board of b watch=x", string(reps[0].Body))
	assert.Equal(t, "c", reps[1].Instance.Name)
	assert.ErrorIs(t, reps[1].Err, context.DeadlineExceeded)
	assert.Equal(t, "d", reps[2].Instance.Name)
	assert.Error(t, reps[2].Err)

	var none *Peers
	reps, err = none.GetAll(context.Background(), "/board")
	assert.NoError(t, err)
	assert.Empty(t, reps)
}

// TestLeaveAndStale: Leave removes the instance from the others' view; New refuses bad
// configurations.
func TestLeaveAndStale(t *testing.T) {
	t.Parallel()
	reg := newMem()
	a := newInstance(t, reg, "a", http.NotFoundHandler())
	b := newInstance(t, reg, "b", http.NotFoundHandler())
	others, err := a.p.Others(context.Background())
	require.NoError(t, err)
	require.Len(t, others, 1)
	assert.Equal(t, "b", others[0].Name)
	require.NoError(t, b.p.Leave(context.Background()))
	others, err = a.p.Others(context.Background())
	require.NoError(t, err)
	assert.Empty(t, others)

	for _, c := range []Config{
		{Name: "x", URL: "http://h:1", Token: testToken, TTL: time.Second},
		{Registry: reg, URL: "http://h:1", Token: testToken, TTL: time.Second},
		{Registry: reg, Name: "x", URL: "http://h:1", Token: "short", TTL: time.Second},
		{Registry: reg, Name: "x", URL: "ftp://h:1", Token: testToken, TTL: time.Second},
		{Registry: reg, Name: "x", URL: "http://h:1/path", Token: testToken, TTL: time.Second},
		{Registry: reg, Name: "x", URL: "http://h:1", Token: testToken},
	} {
		_, err := New(c)
		assert.Error(t, err, "%+v", c)
	}
	u, err := ParseURL("https://sb-1.internal:8080/")
	require.NoError(t, err)
	assert.Equal(t, "https://sb-1.internal:8080", u)
}

// TestRunHeartbeats: Run refreshes the instance's row every TTL/3 until its context ends.
func TestRunHeartbeats(t *testing.T) {
	t.Parallel()
	reg := newMem()
	p, err := New(Config{Registry: reg, Name: "a", URL: "http://127.0.0.1:1", Token: testToken, TTL: 30 * time.Millisecond})
	require.NoError(t, err)
	require.NoError(t, p.Register(context.Background()))
	seen := func() time.Time {
		reg.mu.Lock()
		defer reg.mu.Unlock()
		return reg.insts["a"].Seen
	}
	first := seen()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	require.Eventually(t, func() bool { return seen().After(first) }, 5*time.Second, 5*time.Millisecond, "a heartbeat")
	cancel()
	<-done
	require.NoError(t, p.Leave(context.Background()))
	others, err := New(Config{Registry: reg, Name: "b", URL: "http://127.0.0.1:2", Token: testToken, TTL: time.Second})
	require.NoError(t, err)
	got, err := others.Others(context.Background())
	require.NoError(t, err)
	assert.Empty(t, got, "a left")
}
