package engine

import (
	"fmt"
	"io/fs"
	"math"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// LoadTests reads a scenario's test file and checks it against the scenario: unknown
// endings, nodes, rules and axes are reported with "did you mean".
func LoadTests(fsys fs.FS, name string, sc *Scenario) ([]TestCase, Diagnostics) {
	var diags Diagnostics
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, Diagnostics{{Path: name, Line: 1, Col: 1, Message: fmt.Sprintf("cannot read: %v", unwrapPathErr(err))}}
	}
	cases := ParseTests(name, data, sc, &diags)
	diags.Sort()
	return cases, diags
}

// ParseTests parses test cases from data as if read from name, appending problems to diags.
func ParseTests(name string, data []byte, sc *Scenario, diags *Diagnostics) []TestCase {
	r := &reader{path: name, diags: diags}
	root := r.parseYAML(data)
	if root == nil {
		return nil
	}
	items, ok := r.list(root, "a test file (a list of tests)")
	if !ok {
		return nil
	}
	var cases []TestCase
	names := map[string]bool{}
	for _, it := range items {
		c, ok := parseCase(r, it, sc)
		if !ok {
			continue
		}
		if names[c.Name] {
			r.errorf(it, "duplicate test name %q", c.Name)
		}
		names[c.Name] = true
		cases = append(cases, c)
	}
	return cases
}

func parseCase(r *reader, n *yaml.Node, sc *Scenario) (TestCase, bool) {
	c := TestCase{Line: n.Line, Col: n.Column}
	pairs, ok := r.mapping(n, "a test", CaseKeys)
	if !ok {
		return c, false
	}
	before := len(*r.diags)
	hasName := false
	for _, p := range pairs {
		switch p.key {
		case "name":
			c.Name, _ = r.str(p.value, "name")
			hasName = true
		case "suggestions":
			if v, ok := r.str(p.value, "suggestions"); ok {
				m, ok := ParseSuggestionMode(v)
				if !ok {
					r.errorf(p.value, "suggestions %q must be never, on_request or always%s", v, didYouMean(v, []string{"never", "on_request", "always"}))
				}
				c.Suggestions = m
			}
		case "steps":
			items, ok := r.list(p.value, "steps")
			if !ok {
				continue
			}
			for _, it := range items {
				if st, ok := parseStep(r, it); ok {
					c.Steps = append(c.Steps, st)
				}
			}
		case "expect":
			c.Expect = parseExpect(r, p.value, sc)
		}
	}
	if !hasName {
		r.errorf(n, "a test needs a name")
	}
	return c, !(*r.diags)[before:].HasErrors() // warnings do not drop a test
}

func parseStep(r *reader, n *yaml.Node) (TestStep, bool) {
	st := TestStep{Line: n.Line, Col: n.Column}
	if n.Kind == yaml.ScalarNode {
		switch n.Value {
		case string(StepListen), string(StepHangup), string(StepHint):
			st.Kind = StepKind(n.Value)
			return st, true
		}
		r.errorf(n, "unknown step %q: a step is listen, hint, hangup, or one of {answer: D}, {wait: D}, {typing: D}, {say: TEXT}, {choose: N}%s", n.Value, didYouMean(n.Value, StepKinds))
		return st, false
	}
	pairs, ok := r.mapping(n, "a step", []string{string(StepAnswer), string(StepWait), string(StepTyping), string(StepSay), string(StepChoose)})
	if !ok || len(pairs) == 0 {
		return st, false
	}
	if len(pairs) > 1 {
		r.errorf(n, "a step does one thing; split it into separate steps")
		return st, false
	}
	p := pairs[0]
	st.Kind = StepKind(p.key)
	switch st.Kind {
	case StepAnswer, StepWait, StepTyping:
		st.D, ok = r.duration(p.value, string(st.Kind))
	case StepSay:
		st.Text, ok = r.str(p.value, "say")
	case StepChoose:
		var f float64
		f, ok = r.number(p.value, "choose")
		if ok && (f < 0 || f >= MaxChoices || f != float64(int(f))) {
			r.errorf(p.value, "choose takes the index of a suggested reply, from 0")
			ok = false
		}
		st.Index = int(f)
	}
	return st, ok
}

func parseExpect(r *reader, n *yaml.Node, sc *Scenario) TestExpect {
	var e TestExpect
	pairs, _ := r.mapping(n, "expect", ExpectKeys)
	ptr := func(s string) *string { return &s }
	for _, p := range pairs {
		switch p.key {
		case "ending":
			if s, ok := r.str(p.value, "ending"); ok {
				endings := append(sc.Endings(), HangupEnding, GaveUpEnding)
				if !slices.Contains(endings, s) {
					r.errorf(p.value, "%q is not an ending of %s%s", s, sc.ID, didYouMean(s, endings))
				}
				e.Ending = ptr(s)
			}
		case "node":
			if s, ok := r.str(p.value, "node"); ok {
				if _, ok := sc.nodeIndex[s]; !ok {
					r.errorf(p.value, "unknown node %q%s", s, didYouMean(s, sortedKeys(sc.nodeIndex)))
				}
				e.Node = ptr(s)
			}
		case "outcome":
			if s, ok := r.str(p.value, "outcome"); ok {
				if !slices.Contains(Outcomes, s) {
					r.errorf(p.value, "outcome %q must be one of resolved, lost, escalated%s", s, didYouMean(s, Outcomes))
				}
				e.Outcome = ptr(s)
			}
		case "fired":
			items, ok := r.list(p.value, "fired")
			if !ok {
				continue
			}
			e.CheckFired, e.Fired = true, []string{}
			var ids []string
			for _, rl := range sc.Rules {
				ids = append(ids, rl.ID)
			}
			for _, it := range items {
				if s, ok := r.str(it, "a rule id"); ok {
					if !slices.Contains(ids, s) {
						r.errorf(it, "unknown rule %q%s", s, didYouMean(s, ids))
					}
					e.Fired = append(e.Fired, s)
				}
			}
		case "mood":
			if c, ok := cmpValue(r, p.value, "mood"); ok {
				e.Mood = &c
			}
		case "scores":
			fields, _ := r.mapping(p.value, "scores", nil)
			for _, f := range fields {
				if _, ok := sc.axisIndex[f.key]; !ok {
					r.errorf(f.keyN, "unknown score axis %q%s", f.key, didYouMean(f.key, sortedKeys(sc.axisIndex)))
					continue
				}
				if c, ok := cmpValue(r, f.value, "scores."+f.key); ok {
					checkReachable(r, f.value, sc, f.key, c)
					e.Scores = append(e.Scores, AxisCmp{Axis: f.key, Cmp: c})
				}
			}
		case "not_assessed":
			items, ok := r.list(p.value, "not_assessed")
			if !ok {
				continue
			}
			e.CheckAssessed, e.NotAssessed = true, []string{}
			for _, it := range items {
				if s, ok := r.str(it, "an axis"); ok {
					if _, ok := sc.axisIndex[s]; !ok {
						r.errorf(it, "unknown score axis %q%s", s, didYouMean(s, sortedKeys(sc.axisIndex)))
					}
					e.NotAssessed = append(e.NotAssessed, s)
				}
			}
			// The check compares in the scenario's axis order.
			slices.SortStableFunc(e.NotAssessed, func(a, b string) int { return sc.axisIndex[a] - sc.axisIndex[b] })
		case "passed":
			if b, ok := r.boolean(p.value, "passed"); ok {
				e.Passed = &b
			}
		}
	}
	return e
}

// checkReachable flags an expected score no call can produce. Test scores are raw points
// (the axis's start plus every delta, not clamped): an expectation that needs the points to
// rise (or fall) when nothing in the scenario ever adds (or takes) points on that axis is
// an error; one that holds only outside 0..max, where the debrief never shows it, is a
// warning.
func checkReachable(r *reader, n *yaml.Node, sc *Scenario, axis string, c Cmp) {
	a := sc.Axes[sc.axisIndex[axis]]
	lo, hi := a.Start, a.Start
	ai := sc.axisIndex[axis]
	var all []*Transition
	for _, nd := range sc.Nodes {
		all = append(append(all, nd.Transitions...), nd.Timers...)
	}
	for _, t := range append(all, sc.Rules...) {
		for _, d := range t.Score {
			if d.Axis == ai && d.Delta > 0 {
				hi = math.Inf(1)
			}
			if d.Axis == ai && d.Delta < 0 {
				lo = math.Inf(-1)
			}
		}
	}
	switch {
	case !c.canHold(lo, hi):
		r.errorf(n, "scores.%s: %s can never hold: no transition or rule %s points on %s, which starts at %g (test scores are raw points)",
			axis, c.Src, map[bool]string{true: "adds", false: "takes away"}[c.needsAbove(a.Start)], axis, a.Start)
	case !c.canHold(math.Inf(-1), a.Max):
		r.warnf(n, "scores.%s: %s holds only above %g, the axis's max: test scores are raw points (start plus every delta, not clamped), so this needs deltas past the max; the debrief never shows more than %g", axis, c.Src, a.Max, a.Max)
	}
}

// canHold reports whether some x in lo..hi satisfies the comparison.
func (c Cmp) canHold(lo, hi float64) bool {
	switch c.Op {
	case ">=", ">":
		return c.Holds(hi) || math.IsInf(hi, 1)
	case "<=", "<":
		return c.Holds(lo) || math.IsInf(lo, -1)
	case "!=":
		return lo != hi || c.Holds(lo)
	default:
		return c.Value >= lo-1e-9 && c.Value <= hi+1e-9
	}
}

// needsAbove reports whether the comparison needs a value above x.
func (c Cmp) needsAbove(x float64) bool {
	switch c.Op {
	case ">", ">=":
		return true
	case "<", "<=":
		return false
	}
	return c.Value > x
}

func cmpValue(r *reader, n *yaml.Node, what string) (Cmp, bool) {
	if n.Kind == yaml.ScalarNode {
		if c, ok := ParseCmp(n.Value); ok {
			return c, true
		}
	}
	r.errorf(n, "%s must be a number or a comparison such as \">= 2\" or \"< 0\"", what)
	return Cmp{}, false
}

// FormatTest writes a call as a test case in the test-file language: its events become
// steps on the same clock (timers fire on the way), and the call's end becomes the
// expectation. Designers record a test by playing a call.
//
// Waits are written relative to the customer's lines, so that a recorded test survives
// editing them: a reply sent after the customer finished becomes `listen` then the
// pause after the line ended ({wait: 1.2s}); only a reply sent while the customer was
// still speaking (an interruption) keeps its wait from the previous step. Typing becomes
// {typing: D}, D being the time until the message was sent.
func FormatTest(name string, events []Event, s *Session, outs []Output) string {
	var b strings.Builder
	fmt.Fprintf(&b, "- name: %s\n", strconv.Quote(name))
	if m := s.Suggestions(); m != TestSuggestions {
		fmt.Fprintf(&b, "  suggestions: %s\n", m)
	}
	b.WriteString("  steps:\n")
	// The call is played again beside the steps, driven exactly as RunTest drives it,
	// to know where each line ends.
	rs := s.sc.NewSession(s.seed, s.trainee)
	_ = rs.SetSuggestions(s.Suggestions())
	routs := rs.Start(nil)
	var now int64
	advance := func(to int64) {
		for !rs.Ended() {
			d, ok := rs.NextDeadline()
			if !ok || d > to {
				break
			}
			now = max(now, d)
			routs, _ = rs.Apply(Event{Type: EventTimeout, At: now}, routs)
		}
		now = max(now, to)
	}
	// upTo writes the steps that bring the clock to at: listen through the lines that
	// end by then, then the pause.
	upTo := func(at int64) {
		from := now
		listened, complete := false, false
		for round := 0; round < maxListenRounds && !rs.Ended(); round++ {
			speaking, end := rs.Speaking(now)
			if !speaking {
				if d, ok := rs.NextDeadline(); ok && d <= now {
					advance(now)
					continue
				}
				complete = true
				break
			}
			if end > at {
				break // still speaking at the event: an interruption
			}
			advance(end)
			listened = true
		}
		switch {
		case listened && complete:
			b.WriteString("    - listen\n")
			if d := at - now; d > 0 {
				fmt.Fprintf(&b, "    - {wait: %s}\n", FormatDuration(d))
			}
		case at > from:
			fmt.Fprintf(&b, "    - {wait: %s}\n", FormatDuration(at-from))
		}
		advance(at)
	}
	apply := func(ev Event) {
		ev.At = now
		routs, _ = rs.Apply(ev, routs)
	}
	for i, ev := range events {
		switch ev.Type {
		case EventAnswer:
			d := ev.At - now
			advance(ev.At)
			fmt.Fprintf(&b, "    - {answer: %s}\n", FormatDuration(d))
			apply(ev)
			continue
		case EventTimeout, EventWhisper:
			continue // timers fire by themselves during waits; whispers change nothing
		}
		if rs.Ended() {
			break
		}
		upTo(ev.At)
		switch ev.Type {
		case EventTyping:
			// The time spent typing, up to the next thing the trainee did, is part of
			// the step; while the customer is still speaking, listen and the pause
			// after the line follow as their own steps instead.
			var d int64
			if speaking, _ := rs.Speaking(now); !speaking {
				for _, next := range events[i+1:] {
					if next.Type != EventTimeout && next.Type != EventWhisper {
						d = next.At - ev.At
						break
					}
				}
			}
			fmt.Fprintf(&b, "    - {typing: %s}\n", FormatDuration(d))
			apply(ev)
			advance(now + d)
		case EventSay:
			fmt.Fprintf(&b, "    - {say: %s}\n", strconv.Quote(ev.Text))
			apply(ev)
		case EventChoose:
			fmt.Fprintf(&b, "    - {choose: %d}\n", ev.Index)
			apply(ev)
		case EventHangup:
			b.WriteString("    - hangup\n")
			apply(ev)
		case EventHint:
			b.WriteString("    - hint\n")
			apply(ev)
		}
	}
	if s.Ended() && !rs.Ended() {
		// Let timers that ended the call fire.
		var endAt int64
		for _, o := range outs {
			if o.Type == OutEnd {
				endAt = o.At
			}
		}
		if endAt > now {
			upTo(endAt)
		}
	}
	b.WriteString("  expect:\n")
	if end := s.End(); end != nil {
		fmt.Fprintf(&b, "    ending: %s\n    outcome: %s\n    passed: %t\n", end.Ending, end.Outcome, end.Passed)
	} else {
		fmt.Fprintf(&b, "    node: %s\n", s.Node())
	}
	fired := FiredRules(outs)
	fmt.Fprintf(&b, "    fired: [%s]\n", strings.Join(fired, ", "))
	scores := s.Scores()
	if len(scores) > 0 {
		b.WriteString("    scores: {")
		for i, a := range s.sc.Axes {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%s: %q", a.Name, "== "+strconv.FormatFloat(scores[a.Name], 'f', -1, 64))
		}
		b.WriteString("}\n")
	}
	return b.String()
}
