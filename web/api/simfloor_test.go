package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/engine"
	"github.com/switchboard-sim/switchboard/scenarios"
	"github.com/switchboard-sim/switchboard/web/protocol"
)

// TestSimulatedFloor is the in-process regression benchmark of issue 18: the real server
// (HTTP API, websockets, call goroutines, the in-memory journal) driven by N simulated
// trainees over the in-memory network, inside a testing/synctest bubble, so that minutes
// of calls pass in seconds of CPU. Each trainee plays like `switchboard loadgen`'s: it
// starts a call of the shipped cheese-shop, answers after 1–3 s of ringing, says something
// every 5–15 s, and starts a new call when one ends. The trainees join evenly over a ramp
// (20 s), then a window is measured. It reports, over the window: simulated and wall time,
// turns (a say answered by the customer's first word), process CPU and heap allocations per
// turn, and, at the window's start, live heap and goroutine stack bytes per live call —
// server and simulated clients together (both run in this process), so read them as a
// regression figure, not as the server's own cost (loadgen measures that from outside).
//
// By default it is a quick test (20 trainees, one simulated minute) that fails on any
// error (a refused start, a server error message, a say with no word of an answer within
// 10 s, a dropped connection). Sized by environment variables:
//
//	SWITCHBOARD_SIM_TRAINEES=2000 SWITCHBOARD_SIM_WINDOW=3m go test -run TestSimulatedFloor -v ./web/api
//
// Time inside the bubble is fake, so turn latency is not measured here (every turn takes
// zero simulated time); CPU and allocations per turn are the figures to watch.
func TestSimulatedFloor(t *testing.T) {
	cfg := simConfig{
		trainees: envInt("SWITCHBOARD_SIM_TRAINEES", 20),
		ramp:     20 * time.Second,
		window:   time.Minute,
	}
	if d, err := time.ParseDuration(os.Getenv("SWITCHBOARD_SIM_WINDOW")); err == nil && d > 0 {
		cfg.window = d
	}
	var r simResult
	wall := time.Now()
	synctest.Test(t, func(t *testing.T) { r = runSimFloor(t, cfg) })
	elapsed := time.Since(wall)
	t.Logf("trainees %d, simulated %v (ramp %v, window %v) in %.2fs of wall time (%.0f× real time)",
		cfg.trainees, cfg.ramp+simSettle+cfg.window, cfg.ramp, cfg.window, elapsed.Seconds(),
		(cfg.ramp+simSettle+cfg.window).Seconds()/elapsed.Seconds())
	t.Logf("window: calls started %d, ended %d, turns %d, errors %d, inputs refused (not_allowed) %d",
		r.started, r.ended, r.turns, r.errors, r.refused)
	if r.turns > 0 {
		t.Logf("per turn: CPU %.1f µs (process user+system), %.0f allocations, %.1f KiB allocated",
			float64(r.cpu.Microseconds())/float64(r.turns), float64(r.mallocs)/float64(r.turns),
			float64(r.allocBytes)/float64(r.turns)/1024)
	}
	if r.live > 0 {
		t.Logf("per live call (%d live): heap %.1f KiB, goroutine stacks %.1f KiB, goroutines %.1f (server and client)",
			r.live, float64(r.heap)/float64(r.live)/1024, float64(r.stack)/float64(r.live)/1024,
			float64(r.goroutines)/float64(r.live))
	}
	assert.Zero(t, r.errors, "errors: %v", r.errorKinds)
	assert.Positive(t, r.turns, "the window has turns")
	assert.Equal(t, cfg.trainees, r.live, "every trainee holds a call at the window's start")
}

const (
	simSettle   = 5 * time.Second  // between the ramp's end and the window's start
	simTurnWait = 10 * time.Second // a say with no word for this long is an error (as loadgen)
)

type simConfig struct {
	trainees     int
	ramp, window time.Duration
}

type simResult struct {
	started, ended, turns, errors int64
	refused                       int64
	errorKinds                    map[string]int
	cpu                           time.Duration
	mallocs, allocBytes           uint64
	live                          int
	heap, stack                   int64
	goroutines                    int
}

// simStats are the trainees' counters.
type simStats struct {
	measuring                     atomic.Bool
	started, ended, turns, errors atomic.Int64
	refused, connected            atomic.Int64
	mu                            sync.Mutex
	kinds                         map[string]int
}

func (st *simStats) fail(kind string) {
	if !st.measuring.Load() {
		return
	}
	st.errors.Add(1)
	st.mu.Lock()
	st.kinds[kind]++
	st.mu.Unlock()
}

var simReplies = []string{
	"Hello, thanks for calling, how can I help you today?",
	"I'm so sorry about that, let me check for you.",
	"We're out of stock at the moment, but I could offer you something similar instead.",
	"Could you give me your order number please?",
	"Thank you for your patience.",
}

func runSimFloor(t *testing.T, cfg simConfig) simResult {
	paths, err := engine.FindScenarios(scenarios.FS, scenarios.Root)
	require.NoError(t, err)
	var sc *engine.Scenario
	for _, p := range paths {
		if strings.Contains(p, "cheese-shop") {
			s, diags := engine.Load(scenarios.FS, p)
			require.NotNil(t, s, diags.Error())
			sc = s
		}
	}
	require.NotNil(t, sc, "the shipped cheese-shop")
	ts := newMemTestServer(t, Options{Scenarios: []*engine.Scenario{sc}, MaxCalls: cfg.trainees + 100})

	runtime.GC()
	var m0 runtime.MemStats
	runtime.ReadMemStats(&m0)
	g0 := runtime.NumGoroutine()

	st := &simStats{kinds: map[string]int{}}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for i := range cfg.trainees {
		wg.Go(func() {
			tr := simTrainee{ts: ts, scenario: sc.ID, st: st, rnd: rand.New(rand.NewPCG(uint64(i), 18))}
			select {
			case <-time.After(cfg.ramp * time.Duration(i) / time.Duration(cfg.trainees)):
			case <-ctx.Done():
				return
			}
			tr.run(ctx)
		})
	}
	time.Sleep(cfg.ramp + simSettle)
	synctest.Wait()

	var r simResult
	runtime.GC()
	var m1 runtime.MemStats
	runtime.ReadMemStats(&m1)
	r.live = int(st.connected.Load())
	r.heap = int64(m1.HeapAlloc) - int64(m0.HeapAlloc)
	r.stack = int64(m1.StackInuse) - int64(m0.StackInuse)
	r.goroutines = runtime.NumGoroutine() - g0 - cfg.trainees // less the trainees' own loops

	st.measuring.Store(true)
	cpu0 := processCPU()
	time.Sleep(cfg.window)
	synctest.Wait()
	r.cpu = processCPU() - cpu0
	st.measuring.Store(false)
	var m2 runtime.MemStats
	runtime.ReadMemStats(&m2)
	r.mallocs, r.allocBytes = m2.Mallocs-m1.Mallocs, m2.TotalAlloc-m1.TotalAlloc
	r.started, r.ended, r.turns = st.started.Load(), st.ended.Load(), st.turns.Load()
	r.errors, r.refused = st.errors.Load(), st.refused.Load()
	st.mu.Lock()
	r.errorKinds = st.kinds
	st.mu.Unlock()
	cancel()
	wg.Wait()
	return r
}

// processCPU is the process's user and system CPU time so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// simTrainee plays calls one after another, like loadgen's trainee.
type simTrainee struct {
	ts       *testServer
	scenario string
	st       *simStats
	rnd      *rand.Rand
}

func (tr *simTrainee) run(ctx context.Context) {
	for ctx.Err() == nil {
		if err := tr.call(ctx); err != nil && ctx.Err() == nil {
			tr.st.fail(err.Error())
			select {
			case <-time.After(time.Second):
			case <-ctx.Done():
			}
		}
	}
}

func (tr *simTrainee) call(ctx context.Context) error {
	body := fmt.Sprintf(`{"scenario":%q,"trainee":"sim"}`, tr.scenario)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, tr.ts.url+"/api/calls", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := tr.ts.client.Do(req)
	if err != nil {
		return fmt.Errorf("start: %w", err)
	}
	var started struct {
		WS    string `json:"ws"`
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&started)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("start: HTTP %d %s", resp.StatusCode, started.Error.Code)
	}
	if tr.st.measuring.Load() {
		tr.st.started.Add(1)
	}
	ws, _, err := tr.ts.dialer.DialContext(ctx, tr.ts.wsURL(started.WS), nil)
	if err != nil {
		return fmt.Errorf("dial: %w", err)
	}
	tr.st.connected.Add(1)
	defer tr.st.connected.Add(-1)
	defer ws.Close()
	stop := context.AfterFunc(ctx, func() { _ = ws.Close() })
	defer stop()

	type event struct{ typ, code string }
	events := make(chan event, 64)
	readErr := make(chan error, 1)
	go func() {
		for {
			_, data, err := ws.ReadMessage()
			if err != nil {
				readErr <- err
				close(events)
				return
			}
			for _, f := range bytes.Split(data, []byte{'\n'}) {
				var m struct{ Type, Code string }
				if json.Unmarshal(f, &m) == nil {
					events <- event{m.Type, m.Code}
				}
			}
		}
	}()
	timer := time.NewTimer(time.Second + time.Duration(tr.rnd.Int64N(int64(2*time.Second))))
	defer timer.Stop()
	answered := false
	var saidAt time.Time // a say waiting for its first word
	msg := 0
	for {
		select {
		case <-ctx.Done():
			return nil
		case e, ok := <-events:
			if !ok {
				err := <-readErr
				if websocket.IsCloseError(err, websocket.CloseNormalClosure) {
					if tr.st.measuring.Load() {
						tr.st.ended.Add(1)
					}
					return nil
				}
				if ctx.Err() != nil {
					return nil
				}
				return fmt.Errorf("connection: %w", err)
			}
			switch e.typ {
			case "word":
				if !saidAt.IsZero() {
					if tr.st.measuring.Load() {
						tr.st.turns.Add(1)
					}
					saidAt = time.Time{}
				}
			case "error":
				if e.code == protocol.CodeNotAllowed {
					// The trainee's timer does not look at the call's state: a say
					// that crosses the call's end is refused, as loadgen's are.
					if tr.st.measuring.Load() {
						tr.st.refused.Add(1)
					}
					continue
				}
				tr.st.fail("server error: " + e.code)
			case "end":
				saidAt = time.Time{}
			}
		case <-timer.C:
			if !saidAt.IsZero() && time.Since(saidAt) > simTurnWait {
				tr.st.fail("turn: no word within 10s")
			}
			saidAt = time.Time{}
			msg++
			var m string
			if !answered {
				m = fmt.Sprintf(`{"type":"answer","id":"m%d"}`, msg)
				answered = true
			} else {
				m = fmt.Sprintf(`{"type":"say","id":"m%d","text":%q}`, msg, simReplies[tr.rnd.IntN(len(simReplies))])
				saidAt = time.Now()
			}
			if err := ws.WriteMessage(websocket.TextMessage, []byte(m)); err != nil {
				return fmt.Errorf("send: %w", err)
			}
			timer.Reset(5*time.Second + time.Duration(tr.rnd.Int64N(int64(10*time.Second))))
		}
	}
}
