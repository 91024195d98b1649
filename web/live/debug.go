package live

import (
	"context"
	"errors"
	"fmt"

	"github.com/switchboard-sim/switchboard/engine"
	"github.com/switchboard-sim/switchboard/engine/journal"
	"github.com/switchboard-sim/switchboard/web/access"
	"github.com/switchboard-sim/switchboard/web/protocol"
)

// DebugCall asks for a call "with the lid open", as the studio plays one: any scenario
// (even one not offered to trainees), optionally from a node with some vars set, every
// guard traced, and a debug message after each step. Debug calls are never recorded in the
// journal. They use the test seed and trainee name, so a debug call can be recorded as a
// test that replays exactly.
type DebugCall struct {
	Scenario *engine.Scenario
	Node     string         // "" starts at the scenario's start
	Vars     map[string]any // set before the first node is entered (with Node only)
}

// StartDebugCall starts a debug call; the node and vars are checked first.
func (s *Floor) StartDebugCall(ctx context.Context, d DebugCall) (Started, error) {
	if d.Scenario == nil {
		return Started{}, errors.New("no scenario")
	}
	if d.Node != "" {
		if _, err := d.Scenario.NewSession(engine.TestSeed, engine.TestTrainee).StartAt(d.Node, d.Vars, nil); err != nil {
			return Started{}, err
		}
	} else if len(d.Vars) > 0 {
		return Started{}, errors.New("vars can only be set when starting from a node")
	}
	sc := d.Scenario
	info := journal.Call{ID: NewCallID(), ScenarioID: sc.ID, Title: sc.Title, Hash: sc.Hash, Sources: sc.Sources,
		Seed: engine.TestSeed, Trainee: engine.TestTrainee, Coach: true, Created: s.clock.Now().UTC()}
	return s.start(ctx, info, sc, &d)
}

// recordMsg asks a debug call for the call written as a test case.
type recordMsg struct {
	name  string
	reply chan recordResult
}

type recordResult struct {
	test string
	err  error
}

// ErrNotRecordable is returned by RecordTest for calls that cannot become a test case.
var ErrNotRecordable = errors.New("this call cannot be recorded as a test")

// RecordTest returns a debug call, as played so far, written as a test case (YAML, one
// item of a test file's list) named name. token must be the call's token.
func (s *Floor) RecordTest(ctx context.Context, id, token, name string) (string, error) {
	s.mu.Lock()
	c := s.calls[id]
	s.mu.Unlock()
	if c == nil || !access.CallTokenOK(token, c.info.TokenHash) {
		return "", errors.New("no such call, or a wrong token")
	}
	if c.debug == nil {
		return "", fmt.Errorf("%w: only calls played from the studio can", ErrNotRecordable)
	}
	reply := make(chan recordResult, 1)
	m := recordMsg{name: name, reply: reply}
	if !c.post(m) {
		return "", errors.New("the call is gone")
	}
	select {
	case r := <-reply:
		return r.test, r.err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// record runs under the call's lock.
func (c *call) record(name string) recordResult {
	if c.debug.Node != "" {
		return recordResult{err: fmt.Errorf("%w: it started from node %s, and tests start at the scenario's start", ErrNotRecordable, c.debug.Node)}
	}
	events := make([]engine.Event, len(c.entries))
	for i, e := range c.entries {
		events[i] = e.Event
	}
	return recordResult{test: engine.FormatTest(name, events, c.sess, c.all)}
}

// sendDebug sends the debug message for one step's outputs.
func (st *stream) sendDebug(s *engine.Session, outs []engine.Output, at int64) {
	m := protocol.DebugMsg{Node: s.Node(), Vars: s.Vars(), Mood: s.Mood(), Scores: s.Scores(),
		Entered: []string{}, Trace: []protocol.TraceItem{}, Errors: []string{}}
	for _, o := range outs {
		switch o.Type {
		case engine.OutEnter:
			m.Entered = append(m.Entered, o.Node)
		case engine.OutTrace:
			m.Trace = append(m.Trace, protocol.TraceItem{Node: o.Node, Rule: o.Rule, When: o.Text, To: o.To, Holds: o.Holds != nil && *o.Holds})
		case engine.OutError:
			m.Errors = append(m.Errors, o.Describe())
		case engine.OutTrainee:
			m.Said, m.Understood = o.Text, o.Understood
		}
	}
	st.send("debug", at, &m, &m.Header)
}
