package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// killCalls is how many calls TestServeKill9AtLoad holds when it kills the server (fewer
// under the race detector, which is ~10 times slower). SWITCHBOARD_KILL_CALLS sets it: the
// 10,000-call version is a documented command (docs/performance.md), not a CI test.
func killCalls(t *testing.T) int {
	if v := os.Getenv("SWITCHBOARD_KILL_CALLS"); v != "" {
		n, err := strconv.Atoi(v)
		require.NoError(t, err, "SWITCHBOARD_KILL_CALLS")
		require.True(t, n >= 1 && n <= 19_000, "SWITCHBOARD_KILL_CALLS from 1 to 19,000")
		return n
	}
	if raceEnabled {
		return 60
	}
	return 200
}

// killPace is the time between two messages of one call in TestServeKill9AtLoad
// (SWITCHBOARD_KILL_PACE, default 300 ms: under the 5 messages/s limit; at 10,000 calls
// give a few seconds, like a person).
func killPace(t *testing.T) time.Duration {
	if v := os.Getenv("SWITCHBOARD_KILL_PACE"); v != "" {
		d, err := time.ParseDuration(v)
		require.NoError(t, err, "SWITCHBOARD_KILL_PACE")
		require.GreaterOrEqual(t, d, 200*time.Millisecond, "SWITCHBOARD_KILL_PACE")
		return d
	}
	return 300 * time.Millisecond
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

// killStarters is how many goroutines start TestServeKill9AtLoad's calls.
const killStarters = 16

// openLoadCall starts a call, opens its websocket and answers, retrying while the server
// answers 503 busy (admission control during the ramp).
func openLoadCall(base string) (*loadCall, error) {
	var s started
	for try := 0; ; try++ {
		resp, err := http.Post(base+"/api/calls", "application/json", strings.NewReader(`{"scenario":"live","trainee":"Load"}`))
		if err != nil {
			return nil, err
		}
		if resp.StatusCode == http.StatusServiceUnavailable && try < 20 {
			resp.Body.Close()
			time.Sleep(500 * time.Millisecond)
			continue
		}
		err = json.NewDecoder(resp.Body).Decode(&s)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated || err != nil {
			return nil, fmt.Errorf("start: HTTP %d (%v)", resp.StatusCode, err)
		}
		break
	}
	ws, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(base, "http")+s.WS, nil)
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	c := &loadCall{s: s, ws: ws, acked: map[string]bool{}}
	if err := ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"answer","id":"a"}`)); err != nil {
		ws.Close()
		return nil, err
	}
	return c, nil
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

func (c *loadCall) say(stop <-chan struct{}, pace time.Duration) {
	time.Sleep(time.Duration(rand.Int64N(int64(pace)))) // calls out of step
	tick := time.NewTicker(pace)
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
	n, pace := killCalls(t), killPace(t)
	began := time.Now()
	data := t.TempDir()
	args := []string{"--data", data, "--scenarios", liveScenarioDir(t), "--max-calls", fmt.Sprint(n + 10), "--log-level", "warn"}
	p := startServe(t, nil, args...)
	calls := make([]*loadCall, n)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	// Start the calls from a few workers (10,000 one after the other take minutes).
	var next atomic.Int64
	errs := make(chan error, killStarters)
	var starters sync.WaitGroup
	for range killStarters {
		starters.Go(func() {
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				c, err := openLoadCall(p.url)
				if err != nil {
					errs <- fmt.Errorf("call %d: %w", i, err)
					return
				}
				calls[i] = c
				go c.read()
				wg.Go(func() { c.say(stop, pace) })
			}
		})
	}
	starters.Wait()
	close(errs)
	for _, c := range calls {
		if c != nil {
			t.Cleanup(func() { c.ws.Close() })
		}
	}
	if err, failed := <-errs; failed {
		close(stop)
		require.NoError(t, err)
	}
	t.Logf("%d calls started in %v", n, time.Since(began).Round(time.Millisecond))
	// Let every call get a few messages acknowledged, then kill while they keep coming.
	deadline := time.Now().Add(30*time.Second + 4*pace)
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

	restarted := time.Now()
	p2 := startServe(t, nil, args...)
	t.Logf("restarted in %v", time.Since(restarted).Round(time.Millisecond))
	// Replays are checked by a few workers: a silent call ends 20 s after its last message
	// (the customer gives up), and 10,000 replays one after the other come close to that.
	var checkers sync.WaitGroup
	next.Store(0)
	for range killStarters {
		checkers.Go(func() {
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				got, err := replayed(p2.url, calls[i].s.WS)
				if !assert.NoError(t, err, "call %d", i) {
					continue
				}
				for id := range before[i] {
					assert.True(t, got[id], "call %d: %s was acknowledged before the kill but is not in the journal", i, id)
				}
			}
		})
	}
	checkers.Wait()
	t.Logf("%d calls, %d acknowledged messages before the kill, all recovered (replays checked %v after the restart)",
		n, total, time.Since(restarted).Round(time.Millisecond))
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
