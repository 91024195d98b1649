package engine

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// TestSeed is the session seed used by every test run, so random() is repeatable.
const TestSeed = 1

// TestTrainee is the {trainee} name in test runs.
const TestTrainee = "Trainee"

// maxListenRounds bounds how many chained lines `listen` waits through.
const maxListenRounds = 1000

// TestCase is one test.
type TestCase struct {
	Name string
	// Suggestions is the call's suggestion mode ("" for TestSuggestions).
	Suggestions SuggestionMode
	Steps       []TestStep
	Expect      TestExpect
	Line, Col   int
}

// StepKind names a test step.
type StepKind string

// The step kinds.
const (
	StepAnswer StepKind = "answer"
	StepListen StepKind = "listen"
	StepWait   StepKind = "wait"
	StepSay    StepKind = "say"
	StepChoose StepKind = "choose"
	StepHangup StepKind = "hangup"
	// StepTyping starts composing a reply (EventTyping) and then waits D: timers hold
	// while the trainee composes, up to the scenario's compose_limit.
	StepTyping StepKind = "typing"
	// StepHint asks for the suggested replies (EventHint).
	StepHint StepKind = "hint"
)

// StepKinds lists the step kinds in documentation order.
var StepKinds = []string{string(StepAnswer), string(StepListen), string(StepWait), string(StepTyping), string(StepSay), string(StepHint), string(StepChoose), string(StepHangup)}

// ExpectKeys lists what an expect block may check.
var ExpectKeys = []string{"ending", "node", "outcome", "fired", "mood", "scores", "not_assessed", "passed"}

// CaseKeys lists the keys of one test case.
var CaseKeys = []string{"name", "suggestions", "steps", "expect"}

// TestSuggestions is the suggestion mode of a test that sets none: every choice is shown,
// so steps can choose without asking for a hint.
const TestSuggestions = SuggestAlways

// TestStep is one step of a test.
type TestStep struct {
	Kind      StepKind
	D         int64 // ms, for answer and wait
	Text      string
	Index     int
	Line, Col int
}

// Cmp is a numeric expectation such as ">= 2".
type Cmp struct {
	Op    string
	Value float64
	Src   string
}

// Holds reports whether x satisfies the comparison.
func (c Cmp) Holds(x float64) bool {
	const eps = 1e-9
	switch c.Op {
	case ">=":
		return x >= c.Value-eps
	case "<=":
		return x <= c.Value+eps
	case ">":
		return x > c.Value+eps
	case "<":
		return x < c.Value-eps
	case "!=":
		return math.Abs(x-c.Value) > eps
	default:
		return math.Abs(x-c.Value) <= eps
	}
}

// AxisCmp is an expectation on one score axis.
type AxisCmp struct {
	Axis string
	Cmp  Cmp
}

// TestExpect is what a test checks at the end of its steps.
type TestExpect struct {
	Ending, Node, Outcome *string
	Fired                 []string
	CheckFired            bool
	Mood                  *Cmp
	Scores                []AxisCmp
	NotAssessed           []string
	CheckAssessed         bool
	Passed                *bool
}

var cmpRE = regexp.MustCompile(`^\s*(>=|<=|==|!=|>|<)?\s*(-?[0-9]+(?:\.[0-9]+)?)\s*$`)

// ParseCmp parses "2", ">= 2", "< -0.5".
func ParseCmp(s string) (Cmp, bool) {
	m := cmpRE.FindStringSubmatch(s)
	if m == nil {
		return Cmp{}, false
	}
	v, err := strconv.ParseFloat(m[2], 64)
	if err != nil {
		return Cmp{}, false
	}
	op := m[1]
	if op == "" {
		op = "=="
	}
	return Cmp{Op: op, Value: v, Src: strings.TrimSpace(s)}, true
}

// TestResult is the outcome of one test run.
type TestResult struct {
	Case       TestCase
	Failures   []string
	Transcript []Output
}

// Passed reports whether the test passed.
func (r TestResult) Passed() bool { return len(r.Failures) == 0 }

// Fired returns the ids of the global rules that fired, in order.
func FiredRules(outs []Output) []string {
	fired := []string{}
	for _, o := range outs {
		if o.Type == OutFeedback && o.Rule != "" {
			fired = append(fired, o.Rule)
		}
	}
	return fired
}

// Run plays one test case on a fresh session with a simulated clock.
func RunTest(sc *Scenario, c TestCase) TestResult { return runTest(sc, c, false) }

// RunTestTraced runs a test like RunTest with guard tracing on: the transcript also holds
// every guard evaluated and every node entered (OutTrace, OutEnter), to show a designer
// why a failing test went where it went. The verdict is the same as RunTest's.
func RunTestTraced(sc *Scenario, c TestCase) TestResult { return runTest(sc, c, true) }

// StoppedFailure is the failure of a test that RunTestUntil stopped.
const StoppedFailure = "stopped: the test took longer than its time limit"

// RunTestUntil runs a test like RunTest (RunTestTraced when trace is set), asking stop
// before each step and each timer; once stop returns true the test fails with
// StoppedFailure. The engine reads no clock: the caller's stop does (e.g. a deadline),
// so servers and tools can bound the time a scenario's tests take.
func RunTestUntil(sc *Scenario, c TestCase, trace bool, stop func() bool) TestResult {
	return runTestUntil(sc, c, trace, stop)
}

func runTest(sc *Scenario, c TestCase, trace bool) TestResult { return runTestUntil(sc, c, trace, nil) }

func runTestUntil(sc *Scenario, c TestCase, trace bool, stop func() bool) TestResult {
	res := TestResult{Case: c}
	stopped := false
	halt := func() bool {
		if !stopped && stop != nil && stop() {
			stopped = true
			res.Failures = append(res.Failures, StoppedFailure)
		}
		return stopped
	}
	s := sc.NewSession(TestSeed, TestTrainee)
	mode := c.Suggestions
	if mode == "" {
		mode = TestSuggestions
	}
	_ = s.SetSuggestions(mode) // parseCase checked the mode
	s.SetTrace(trace)
	outs := s.Start(nil)
	var now int64
	fail := func(format string, args ...any) { res.Failures = append(res.Failures, fmt.Sprintf(format, args...)) }
	advance := func(to int64) {
		for !s.Ended() && !halt() {
			d, ok := s.NextDeadline()
			if !ok || d > to {
				break
			}
			now = max(now, d)
			var err error
			outs, err = s.Apply(Event{Type: EventTimeout, At: now}, outs)
			if err != nil {
				fail("timer at %s: %v", FormatTime(now), err)
				return
			}
		}
		now = max(now, to)
	}
	apply := func(i int, ev Event) {
		var err error
		outs, err = s.Apply(ev, outs)
		if err != nil {
			hint := ""
			if errors.Is(err, ErrBadChoice) {
				hint = "; " + s.choicesHint()
			}
			fail("step %d (%s): %v (at node %s%s)", i+1, ev.Type, err, s.Node(), hint)
		}
	}
	for i, st := range c.Steps {
		if halt() {
			break
		}
		if s.Ended() {
			if st.Kind == StepListen || st.Kind == StepWait {
				continue // listening to the ending's last line, or waiting: nothing to do
			}
			fail("step %d (%s): the call had already ended at %s", i+1, st.Kind, s.Node())
			break
		}
		switch st.Kind {
		case StepAnswer:
			advance(now + st.D)
			if s.Ended() {
				fail("step %d (answer): the call ended at %s before the phone was answered", i+1, s.Node())
				break
			}
			apply(i, Event{Type: EventAnswer, At: now})
		case StepListen:
			for round := 0; round < maxListenRounds && !s.Ended(); round++ {
				speaking, end := s.Speaking(now)
				if !speaking {
					// A timer due right now (after: 0s) may start the next line.
					if d, ok := s.NextDeadline(); ok && d <= now {
						advance(now)
						continue
					}
					break
				}
				advance(end)
			}
		case StepWait:
			advance(now + st.D)
		case StepSay:
			apply(i, Event{Type: EventSay, At: now, Text: st.Text})
		case StepChoose:
			apply(i, Event{Type: EventChoose, At: now, Index: st.Index})
		case StepHangup:
			apply(i, Event{Type: EventHangup, At: now})
		case StepHint:
			apply(i, Event{Type: EventHint, At: now})
		case StepTyping:
			apply(i, Event{Type: EventTyping, At: now})
			if len(res.Failures) == 0 {
				advance(now + st.D)
			}
		}
		if len(res.Failures) > 0 {
			break
		}
	}
	res.Transcript = outs
	if len(res.Failures) > 0 {
		return res
	}
	check(s, c.Expect, outs, fail)
	return res
}

func check(s *Session, e TestExpect, outs []Output, fail func(string, ...any)) {
	end := s.End()
	if e.Ending != nil {
		switch {
		case end == nil:
			fail("ending: want %s, but the call has not ended (it stands at %s)", *e.Ending, s.Node())
		case end.Ending != *e.Ending:
			fail("ending: want %s, got %s", *e.Ending, end.Ending)
		}
	}
	if e.Node != nil && s.Node() != *e.Node {
		fail("node: want %s, got %s", *e.Node, s.Node())
	}
	if e.Outcome != nil {
		switch {
		case end == nil:
			fail("outcome: want %s, but the call has not ended", *e.Outcome)
		case end.Outcome != *e.Outcome:
			fail("outcome: want %s, got %s", *e.Outcome, end.Outcome)
		}
	}
	if e.CheckFired {
		if got := FiredRules(outs); !slices.Equal(got, e.Fired) {
			fail("fired: want [%s], got [%s]", strings.Join(e.Fired, ", "), strings.Join(got, ", "))
		}
	}
	if e.Mood != nil && !e.Mood.Holds(s.Mood()) {
		fail("mood: want %s, got %g", e.Mood.Src, s.Mood())
	}
	scores := s.Scores()
	for _, ac := range e.Scores {
		if got := scores[ac.Axis]; !ac.Cmp.Holds(got) {
			fail("scores.%s: want %s, got %g", ac.Axis, ac.Cmp.Src, got)
		}
	}
	if e.CheckAssessed {
		var got []string
		if end != nil {
			for _, a := range end.Scores {
				if !a.Assessed {
					got = append(got, a.Axis)
				}
			}
		}
		switch {
		case end == nil:
			fail("not_assessed: want [%s], but the call has not ended", strings.Join(e.NotAssessed, ", "))
		case !slices.Equal(got, e.NotAssessed):
			fail("not_assessed: want [%s], got [%s]", strings.Join(e.NotAssessed, ", "), strings.Join(got, ", "))
		}
	}
	if e.Passed != nil {
		switch {
		case end == nil:
			fail("passed: want %t, but the call has not ended", *e.Passed)
		case end.Passed != *e.Passed:
			fail("passed: want %t, got %t (overall %.2f, pass mark %.2f)", *e.Passed, end.Passed, end.Overall, s.Scenario().Pass)
		}
	}
}

// TestPath returns the test file path for a scenario path: x.yaml → x.test.yaml.
func TestPath(scenarioPath string) string {
	for _, ext := range []string{".yaml", ".yml"} {
		if base, ok := strings.CutSuffix(scenarioPath, ext); ok {
			return base + ".test" + ext
		}
	}
	return scenarioPath + ".test.yaml"
}

// ScenarioPathOf returns the scenario a test file belongs to (x.test.yaml → x.yaml), and
// whether p names a test file at all.
func ScenarioPathOf(p string) (string, bool) {
	for _, ext := range []string{".yaml", ".yml"} {
		if base, ok := strings.CutSuffix(p, ".test"+ext); ok {
			return base + ext, true
		}
	}
	return "", false
}
