package api

import (
	"bytes"
	"encoding/json"
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
	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/engine"
	"github.com/switchboard-sim/switchboard/engine/journal"
	"github.com/switchboard-sim/switchboard/web/live"
)

// TestMeasureListeners measures whether supervisors listening slow the trainees down:
// 500 live calls of web/testdata/echo.yaml (the customer answers every message at once),
// each trainee saying something every 2 s (a jittered start), over loopback websockets on
// the real clock. The run alternates phases without and with listeners — off, on, off, on
// — where "on" is 50 supervisors each listening to 10 calls (every call has one listener,
// 500 supervisor connections, each reading everything). A turn's latency is the time from
// the trainee's say leaving the client to the first word of the reply arriving. Samples
// taken while listeners attach or leave are dropped. It prints p50, p90 and p99 per
// phase; see docs/performance.md. It runs only when asked:
//
//	SWITCHBOARD_MEASURE=1 go test -run TestMeasureListeners -v -timeout 10m ./web/api
//
// SWITCHBOARD_MEASURE_CALLS, _SUPERVISORS and _PHASE (seconds) change the sizes.
func TestMeasureListeners(t *testing.T) {
	if os.Getenv("SWITCHBOARD_MEASURE") == "" {
		t.Skip("a measurement on the real clock: set SWITCHBOARD_MEASURE=1 to run it")
	}
	calls, supervisors, phase := envInt("SWITCHBOARD_MEASURE_CALLS", 500), envInt("SWITCHBOARD_MEASURE_SUPERVISORS", 50),
		time.Duration(envInt("SWITCHBOARD_MEASURE_PHASE", 20))*time.Second
	const every = 2 * time.Second // each trainee's pace
	sc, diags := engine.LoadFile("testdata/echo.yaml")
	require.False(t, diags.HasErrors(), diags.Error())
	ts := superviseServer(t, Options{Scenarios: []*engine.Scenario{sc}, Journal: journal.NewMemory(), MaxCalls: calls + 10})

	// The trainees: each call answered, then a say every 2 s.
	ids := make([]string, calls)
	conns := make([]*websocket.Conn, calls)
	for i := range calls {
		resp, err := http.Post(ts.http.URL+"/api/calls", "application/json", strings.NewReader(`{"scenario":"echo","trainee":"T`+strconv.Itoa(i)+`"}`))
		require.NoError(t, err)
		var r live.Started
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&r))
		resp.Body.Close()
		ws, _, err := websocket.DefaultDialer.Dial(ts.wsURL(r.WS), nil)
		require.NoError(t, err)
		defer ws.Close()
		require.NoError(t, ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"answer","id":"a"}`)))
		require.NoError(t, readUntilWord(ws))
		ids[i], conns[i] = r.ID, ws
	}

	// phaseNow labels each sample: 0 off, 1 on, -1 switching (dropped).
	var phaseNow atomic.Int32
	phaseNow.Store(-1)
	type sample struct {
		phase int32
		d     time.Duration
	}
	var mu sync.Mutex
	var samples []sample
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i, ws := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rnd := rand.New(rand.NewPCG(uint64(i), 3))
			next := time.Now().Add(time.Duration(rnd.Int64N(int64(every))))
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				case <-time.After(time.Until(next)):
				}
				next = next.Add(every)
				p := phaseNow.Load()
				t0 := time.Now()
				if ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"say","id":"s`+strconv.Itoa(n)+`","text":"Could you say that again?"}`)) != nil {
					return
				}
				if readUntilWord(ws) != nil {
					return
				}
				d := time.Since(t0)
				if p == phaseNow.Load() && p >= 0 {
					mu.Lock()
					samples = append(samples, sample{p, d})
					mu.Unlock()
				}
			}
		}()
	}

	// The listeners: supervisor s listens to calls s, s+supervisors, s+2×supervisors, …
	var heard, gaps atomic.Int64
	listen := func() (closeAll func()) {
		var lws []*websocket.Conn
		var lwg sync.WaitGroup
		for s := range supervisors {
			for c := s; c < calls; c += supervisors {
				ws, _, err := websocket.DefaultDialer.Dial(ts.wsURL("/ws/supervise/"+ids[c]), nil)
				require.NoError(t, err)
				lws = append(lws, ws)
				lwg.Add(1)
				go func() {
					defer lwg.Done()
					var last int64
					for {
						_, data, err := ws.ReadMessage()
						if err != nil {
							return
						}
						for line := range bytes.SplitSeq(data, []byte("\n")) {
							// Every message starts {"seq":N, — read N without decoding the rest,
							// so the listeners cost the shared CPU little.
							rest, ok := bytes.CutPrefix(line, []byte(`{"seq":`))
							n, _, _ := bytes.Cut(rest, []byte(","))
							seq, err := strconv.ParseInt(string(n), 10, 64)
							if ok && err == nil && seq > 0 {
								if last > 0 && seq != last+1 {
									gaps.Add(1)
								}
								last = seq
								heard.Add(1)
							}
						}
					}
				}()
			}
		}
		return func() {
			for _, ws := range lws {
				ws.Close()
			}
			lwg.Wait()
		}
	}

	time.Sleep(every) // every trainee has started
	var heardOn []int64
	cpu := map[bool]time.Duration{} // the process's CPU time (server and clients) per kind of phase
	for _, on := range []bool{false, true, false, true} {
		phaseNow.Store(-1)
		var closeAll func()
		if on {
			closeAll = listen()
			time.Sleep(time.Second) // the backlogs are sent
		}
		before := heard.Load()
		if on {
			phaseNow.Store(1)
		} else {
			phaseNow.Store(0)
		}
		c0 := cpuTime()
		time.Sleep(phase)
		cpu[on] += cpuTime() - c0
		phaseNow.Store(-1)
		if on {
			heardOn = append(heardOn, heard.Load()-before)
			closeAll()
		}
	}
	close(stop)
	wg.Wait()

	var off, on []time.Duration
	for _, s := range samples {
		if s.phase == 1 {
			on = append(on, s.d)
		} else {
			off = append(off, s.d)
		}
	}
	ms := func(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d)/float64(time.Millisecond)) }
	t.Logf("%d calls, a say every %v each, %d supervisors listening to all of them in the \"on\" phases; phases of %v", calls, every, supervisors, phase)
	t.Logf("| listeners | turns | p50 ms | p90 ms | p99 ms |")
	t.Logf("| none | %d | %s | %s | %s |", len(off), ms(percentile(off, 50)), ms(percentile(off, 90)), ms(percentile(off, 99)))
	t.Logf("| %d supervisors, %d connections | %d | %s | %s | %s |", supervisors, calls, len(on), ms(percentile(on, 50)), ms(percentile(on, 90)), ms(percentile(on, 99)))
	t.Logf("CPU of the whole process (server and test clients) per turn: %.0f µs without listeners, %.0f µs with",
		float64(cpu[false])/float64(time.Microsecond)/float64(max(len(off), 1)), float64(cpu[true])/float64(time.Microsecond)/float64(max(len(on), 1)))
	t.Logf("supervisors received %v messages in the on phases, %d gaps in their seqs", heardOn, gaps.Load())
	require.NotEmpty(t, off)
	require.NotEmpty(t, on)
	require.Zero(t, gaps.Load(), "no listener lost a message")
	for _, h := range heardOn {
		// Every turn is at least a trainee message, a line start and a word for the listener.
		require.GreaterOrEqual(t, h, int64(len(on))/2*3/2, "the listeners heard the calls")
	}
}

// readUntilWord reads frames until a word message.
func readUntilWord(ws *websocket.Conn) error {
	for {
		_, data, err := ws.ReadMessage()
		if err != nil {
			return err
		}
		for line := range bytes.SplitSeq(data, []byte("\n")) {
			if frameType(line) == "word" {
				return nil
			}
		}
	}
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// cpuTime returns the CPU time (user and system) this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
