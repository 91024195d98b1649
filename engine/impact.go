package engine

import (
	"fmt"
	"math"
	"strings"
)

// Replayed is a recorded call's inputs applied again to a scenario: where the call ends up.
type Replayed struct {
	End     *EndInfo // nil when the inputs do not end the call
	Node    string   // the node the call stands at (the ending's id when it ended)
	Refused int      // index of the first input the scenario refused; -1 when it took them all
	Reason  string   // why it was refused
}

// Replay applies a recorded call's inputs (in order, with their times) to a new session of
// sc with the call's seed, trainee and suggestion mode. Exact replay is what makes this a
// faithful "what if": the same inputs on the same scenario give the same call, so any
// difference comes from the scenario. Replay stops at the first input sc refuses (e.g. a
// suggested reply that no longer exists).
func Replay(sc *Scenario, seed uint64, trainee string, mode SuggestionMode, events []Event) Replayed {
	s := sc.NewSession(seed, trainee)
	if err := s.SetSuggestions(mode); err != nil {
		return Replayed{Refused: 0, Reason: err.Error(), Node: s.Node()}
	}
	out := s.Start(nil)
	r := Replayed{Refused: -1}
	for i, ev := range events {
		if s.Ended() {
			break
		}
		var err error
		if out, err = s.Apply(ev, out[:0]); err != nil {
			r.Refused, r.Reason = i, fmt.Sprintf("%s at %s: %v", ev.Type, FormatTime(ev.At), err)
			break
		}
	}
	r.End, r.Node = s.End(), s.Node()
	return r
}

// scoreEpsilon is how close two scores must be to count as equal.
const scoreEpsilon = 1e-6

// Changes lists how after differs from before, in words a designer reads: the ending, the
// outcome, the verdict, the overall score, each axis, or the input the new version refuses.
// It is empty when the call would go exactly the same way.
func (before Replayed) Changes(after Replayed) []string {
	var out []string
	if after.Refused >= 0 && after.Refused != before.Refused {
		out = append(out, fmt.Sprintf("input %d is refused now (%s)", after.Refused+1, after.Reason))
	}
	b, a := before.End, after.End
	switch {
	case b == nil && a == nil:
		if before.Node != after.Node {
			out = append(out, fmt.Sprintf("still open, at %s instead of %s", after.Node, before.Node))
		}
		return out
	case b == nil:
		return append(out, fmt.Sprintf("ends now, in %s (%s), where it stayed open at %s", a.Ending, a.Outcome, before.Node))
	case a == nil:
		return append(out, fmt.Sprintf("no longer ends: stays open at %s (ended in %s)", after.Node, b.Ending))
	}
	if a.Ending != b.Ending {
		out = append(out, fmt.Sprintf("ending %s → %s", b.Ending, a.Ending))
	}
	if a.Outcome != b.Outcome {
		out = append(out, fmt.Sprintf("outcome %s → %s", b.Outcome, a.Outcome))
	}
	if a.Passed != b.Passed {
		out = append(out, fmt.Sprintf("passed %t → %t", b.Passed, a.Passed))
	}
	if math.Abs(a.Overall-b.Overall) > scoreEpsilon {
		out = append(out, fmt.Sprintf("overall %.0f%% → %.0f%%", b.Overall*100, a.Overall*100))
	}
	axes := map[string]AxisScore{}
	for _, s := range b.Scores {
		axes[s.Axis] = s
	}
	for _, s := range a.Scores {
		old, ok := axes[s.Axis]
		delete(axes, s.Axis)
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("%s is new: %s", s.Axis, axisText(s)))
		case old.Assessed != s.Assessed || math.Abs(old.Points-s.Points) > scoreEpsilon:
			out = append(out, fmt.Sprintf("%s %s → %s", s.Axis, axisText(old), axisText(s)))
		}
	}
	for _, s := range b.Scores { // in order
		if _, gone := axes[s.Axis]; gone {
			out = append(out, fmt.Sprintf("%s is gone (was %s)", s.Axis, axisText(s)))
		}
	}
	return out
}

func axisText(s AxisScore) string {
	if !s.Assessed {
		return "not assessed"
	}
	return strings.TrimSuffix(fmt.Sprintf("%g/%g", s.Points, s.Max), "/0")
}
