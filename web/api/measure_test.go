package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/engine"
	"github.com/switchboard-sim/switchboard/scenarios"
	"github.com/switchboard-sim/switchboard/web/live"
	"github.com/switchboard-sim/switchboard/web/protocol"
)

// TestMeasureJudgement plays every shipped scenario through the real server (HTTP API and
// websockets on loopback, the real clock) with three trainees, and prints how often each
// passes:
//
//   - pick-first: after each customer line, ask for a hint and pick the first suggestion;
//   - pick-last: the same, picking the last suggestion;
//   - typed-40wpm: start typing 2 s after each line and send the node's model reply at 40
//     words a minute (3.33 characters a second), signalling the first keystroke.
//
// It takes a few minutes of real time, so it runs only when asked:
//
//	SWITCHBOARD_MEASURE=1 go test -run TestMeasureJudgement -v -timeout 30m ./web/api
//
// SWITCHBOARD_MEASURE_CALLS sets the calls per scenario and gaming strategy (default 10).
func TestMeasureJudgement(t *testing.T) {
	if os.Getenv("SWITCHBOARD_MEASURE") == "" {
		t.Skip("a measurement on the real clock: set SWITCHBOARD_MEASURE=1 to run it")
	}
	calls := 10
	if n, err := strconv.Atoi(os.Getenv("SWITCHBOARD_MEASURE_CALLS")); err == nil && n > 0 {
		calls = n
	}
	paths, err := engine.FindScenarios(scenarios.FS, scenarios.Root)
	require.NoError(t, err)
	var list []*engine.Scenario
	for _, p := range paths {
		sc, diags := engine.Load(scenarios.FS, p)
		require.NotNil(t, sc, diags.Error())
		list = append(list, sc)
	}
	ts := newTestServer(t, Options{Scenarios: list, MaxCalls: 10_000})

	type result struct {
		scenario, strategy, ending string
		passed                     bool
		overall                    float64
		err                        error
	}
	strategies := []string{"pick-first", "pick-last", "typed-40wpm"}
	var (
		mu      sync.Mutex
		results []result
		wg      sync.WaitGroup
	)
	for _, sc := range list {
		for _, strat := range strategies {
			n := calls
			if strat == "typed-40wpm" {
				n = max(calls/5, 2)
			}
			for range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					end, err := playBot(ts, sc, strat)
					r := result{scenario: sc.ID, strategy: strat, err: err}
					if end != nil {
						r.ending, r.passed, r.overall = end.Ending, end.Passed, end.Overall
					}
					mu.Lock()
					results = append(results, r)
					mu.Unlock()
				}()
			}
		}
	}
	wg.Wait()

	type cell struct {
		passed, total int
		endings       map[string]int
	}
	table := map[[2]string]*cell{}
	for _, r := range results {
		require.NoError(t, r.err, "%s %s", r.scenario, r.strategy)
		k := [2]string{r.scenario, r.strategy}
		if table[k] == nil {
			table[k] = &cell{endings: map[string]int{}}
		}
		table[k].total++
		table[k].endings[r.ending]++
		if r.passed {
			table[k].passed++
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n| scenario | pick-first passed | pick-last passed | typed 40 wpm passed |\n| --- | --- | --- | --- |\n")
	passing := map[string]int{}
	for _, sc := range list {
		fmt.Fprintf(&b, "| %s", sc.ID)
		for _, strat := range strategies {
			c := table[[2]string{sc.ID, strat}]
			var ends []string
			for e, n := range c.endings {
				ends = append(ends, fmt.Sprintf("%s×%d", e, n))
			}
			sort.Strings(ends)
			fmt.Fprintf(&b, " | %d/%d (%s)", c.passed, c.total, strings.Join(ends, ", "))
			if c.passed*2 > c.total {
				passing[strat]++
			}
		}
		b.WriteString(" |\n")
	}
	fmt.Fprintf(&b, "\nscenarios passed by most calls: pick-first %d/8, pick-last %d/8, typed-40wpm %d/8\n",
		passing["pick-first"], passing["pick-last"], passing["typed-40wpm"])
	t.Log(b.String())
}

// Trainee bot timing (the real clock).
const (
	botAnswerAfter = time.Second
	botThinkBefore = 2 * time.Second // before starting to type or asking for a hint
	botCharsPerSec = 40.0 * 5 / 60   // 40 words a minute, 5 characters a word
)

// playBot plays one call of sc with a strategy and returns its end.
func playBot(ts *testServer, sc *engine.Scenario, strategy string) (*protocol.EndMsg, error) {
	body := fmt.Sprintf(`{"scenario":%q,"trainee":"Robin"}`, sc.ID)
	resp, err := http.Post(ts.http.URL+"/api/calls", "application/json", strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	var start live.Started
	err = json.NewDecoder(resp.Body).Decode(&start)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusCreated {
		return nil, fmt.Errorf("start: %d %v", resp.StatusCode, err)
	}
	ws, wresp, err := websocket.DefaultDialer.Dial(ts.wsURL(start.WS), nil)
	if err != nil {
		return nil, err
	}
	wresp.Body.Close()
	defer ws.Close()
	msgs := make(chan map[string]json.RawMessage, 1024)
	go func() {
		defer close(msgs)
		for {
			_, data, err := ws.ReadMessage()
			if err != nil {
				return
			}
			for _, line := range bytes.Split(data, []byte("\n")) {
				var m map[string]json.RawMessage
				if json.Unmarshal(line, &m) == nil {
					msgs <- m
				}
			}
		}
	}()
	str := func(m map[string]json.RawMessage, k string) string {
		var s string
		_ = json.Unmarshal(m[k], &s)
		return s
	}
	id := 0
	send := func(v map[string]any) error {
		id++
		v["id"] = "b" + strconv.Itoa(id)
		return ws.WriteJSON(v)
	}
	// The next action and when; a new customer line cancels it.
	var (
		next    func() error
		nextAt  time.Time
		node    string
		timer   = time.NewTimer(time.Hour)
		timeout = time.After(15 * time.Minute)
	)
	schedule := func(after time.Duration, f func() error) {
		next, nextAt = f, time.Now().Add(after)
		timer.Reset(after)
	}
	turn := func() {
		n := sc.Node(node)
		switch strategy {
		case "typed-40wpm":
			if n == nil || n.Model.Empty() {
				return // no model reply here: wait for the customer
			}
			reply := strings.NewReplacer("{name}", sc.Persona.Name, "{trainee}", "Robin").Replace(n.Model.Source(sc))
			typeFor := time.Duration(float64(len(reply)) / botCharsPerSec * float64(time.Second))
			schedule(botThinkBefore, func() error {
				if err := send(map[string]any{"type": "typing"}); err != nil {
					return err
				}
				schedule(typeFor, func() error { return send(map[string]any{"type": "say", "text": reply}) })
				return nil
			})
		default:
			schedule(botThinkBefore, func() error { return send(map[string]any{"type": "hint"}) })
		}
	}
	for {
		select {
		case m, ok := <-msgs:
			if !ok {
				return nil, fmt.Errorf("%s: the connection closed before the end", sc.ID)
			}
			switch str(m, "type") {
			case "ring":
				schedule(botAnswerAfter, func() error { return send(map[string]any{"type": "answer"}) })
			case "line_start":
				node = str(m, "node")
				next = nil // the customer speaks again: think anew when they finish
			case "line_end":
				turn()
			case "choices":
				var ch []protocol.Choice
				_ = json.Unmarshal(m["choices"], &ch)
				if len(ch) == 0 {
					continue
				}
				pick := ch[0]
				if strategy == "pick-last" {
					pick = ch[len(ch)-1]
				}
				schedule(time.Second, func() error { return send(map[string]any{"type": "choose", "index": pick.Index}) })
			case "end":
				var e protocol.EndMsg
				raw, _ := json.Marshal(m)
				if err := json.Unmarshal(raw, &e); err != nil {
					return nil, err
				}
				return &e, nil
			}
		case <-timer.C:
			if next != nil && !time.Now().Before(nextAt) {
				f := next
				next = nil
				if err := f(); err != nil {
					return nil, err
				}
			}
		case <-timeout:
			return nil, fmt.Errorf("%s %s: no end within 15 minutes", sc.ID, strategy)
		}
	}
}
