package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// killCalls is how many calls TestServeKill9AtLoad holds when it kills the server (fewer
// under the race detector, which is ~10 times slower). The 10,000-call version is a
// documented command (docs/performance.md), not a CI test.
func killCalls() int {
	if raceEnabled {
		return 60
	}
	return 200
}

// loadCall is one trainee of TestServeKill9AtLoad: it keeps saying things (never the
// words that end the live scenario) and records which of its messages the server
// acknowledged (a trainee message carrying its id).
type loadCall struct {
	s     started
	ws    *websocket.Conn
	mu    sync.Mutex
	acked map[string]bool
	sent  int
	err   error
}

func (c *loadCall) read() {
	for {
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			return
		}
		for _, line := range strings.Split(string(data), "\n") {
			var m wsMsg
			if json.Unmarshal([]byte(line), &m) == nil && m.Type == "trainee" && m.ID != "" {
				c.mu.Lock()
				c.acked[m.ID] = true
				c.mu.Unlock()
			}
			if m.Type == "error" {
				c.mu.Lock()
				c.err = fmt.Errorf("server error: %s", line)
				c.mu.Unlock()
			}
		}
	}
}

func (c *loadCall) say(stop <-chan struct{}) {
	tick := time.NewTicker(300 * time.Millisecond) // under the 5 messages/s limit
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		c.mu.Lock()
		c.sent++
		id := fmt.Sprintf("s%d", c.sent)
		c.mu.Unlock()
		if c.ws.WriteMessage(websocket.TextMessage, fmt.Appendf(nil, `{"type":"say","id":%q,"text":"hmm, let me have a look at that"}`, id)) != nil {
			return
		}
	}
}

// TestServeKill9AtLoad kills (SIGKILL) the real server while many calls are sending
// messages, restarts it, and checks that every message acknowledged before the kill is in
// each call's replay, with seqs that have no gap.
func TestServeKill9AtLoad(t *testing.T) {
	n := killCalls()
	data := t.TempDir()
	args := []string{"--data", data, "--scenarios", liveScenarioDir(t), "--max-calls", fmt.Sprint(n + 10), "--log-level", "warn"}
	p := startServe(t, nil, args...)
	calls := make([]*loadCall, n)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for i := range calls {
		s := startCall(t, p.url, `{"scenario":"live","trainee":"Load"}`)
		ws, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(p.url, "http")+s.WS, nil)
		require.NoError(t, err, "call %d", i)
		resp.Body.Close()
		t.Cleanup(func() { ws.Close() })
		c := &loadCall{s: s, ws: ws, acked: map[string]bool{}}
		calls[i] = c
		go c.read()
		require.NoError(t, ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"answer","id":"a"}`)))
		wg.Go(func() { c.say(stop) })
	}
	// Let every call get a few messages acknowledged, then kill while they keep coming.
	deadline := time.Now().Add(30 * time.Second)
	for _, c := range calls {
		for {
			c.mu.Lock()
			k := len(c.acked)
			c.mu.Unlock()
			if k >= 3 || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGKILL))
	<-p.done
	close(stop)
	wg.Wait()
	before := make([]map[string]bool, n)
	total := 0
	for i, c := range calls {
		c.ws.Close()
		c.mu.Lock()
		before[i] = c.acked
		require.NoError(t, c.err, "call %d before the kill", i)
		total += len(c.acked)
		c.mu.Unlock()
	}
	require.Greater(t, total, 3*n-1, "each call had messages acknowledged before the kill")

	p2 := startServe(t, nil, args...)
	for i, c := range calls {
		got, err := replayed(p2.url, c.s.WS)
		require.NoError(t, err, "call %d", i)
		for id := range before[i] {
			assert.True(t, got[id], "call %d: %s was acknowledged before the kill but is not in the journal", i, id)
		}
	}
	t.Logf("%d calls, %d acknowledged messages before the kill, all recovered", n, total)
	assert.Equal(t, 0, p2.stop(syscall.SIGTERM))
}

// replayed reconnects to a call from the start and returns the ids of the trainee messages
// it replays, checking that seqs have no gap. It stops at the acknowledgement of a probe
// message sent after connecting: everything replayed comes before it.
func replayed(base, path string) (map[string]bool, error) {
	ws, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(base, "http")+path+"&after=0", nil)
	if err != nil {
		if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
			return nil, fmt.Errorf("reconnect: HTTP %d", resp.StatusCode)
		}
		return nil, err
	}
	defer ws.Close()
	if err := ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"say","id":"probe","text":"hmm"}`)); err != nil {
		return nil, err
	}
	_ = ws.SetReadDeadline(time.Now().Add(20 * time.Second))
	ids := map[string]bool{}
	var seq int64
	for {
		_, data, err := ws.ReadMessage()
		if err != nil {
			return ids, fmt.Errorf("before the probe's acknowledgement: %w", err)
		}
		for _, line := range strings.Split(string(data), "\n") {
			var m wsMsg
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				return ids, err
			}
			if m.Seq == 0 {
				continue // a connection-local error
			}
			if m.Seq != seq+1 {
				return ids, errors.New("a gap in seqs: " + fmt.Sprint(seq, " then ", m.Seq))
			}
			seq = m.Seq
			if m.Type == "trainee" && m.ID == "probe" {
				return ids, nil
			}
			if m.Type == "trainee" {
				ids[m.ID] = true
			}
		}
	}
}
