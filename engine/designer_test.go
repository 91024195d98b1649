package engine_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/engine"
	"github.com/switchboard-sim/switchboard/scenarios"
)

// A call recorded as a test case passes when run: the test language can say everything
// a played call did.
func TestFormatTestRoundTrips(t *testing.T) {
	paths, err := engine.FindScenarios(scenarios.FS, scenarios.Root)
	require.NoError(t, err)
	for _, p := range paths {
		sc, _ := engine.Load(scenarios.FS, p)
		require.NotNil(t, sc)
		for i := range 25 {
			seed := uint64(i + 1)
			events, _ := randomCall(sc, engine.TestSeed, rand.New(rand.NewPCG(seed, 5)))
			// Replay with the name test runs use, so the outputs match theirs.
			s := sc.NewSession(engine.TestSeed, engine.TestTrainee)
			all := s.Start(nil)
			for _, ev := range events {
				var err error
				all, err = s.Apply(ev, all)
				require.NoError(t, err)
			}
			text := engine.FormatTest("recorded", events, s, all)
			var diags engine.Diagnostics
			cases := engine.ParseTests("recorded.test.yaml", []byte(text), sc, &diags)
			require.False(t, diags.HasErrors(), "%s\n%s", diags.Error(), text)
			require.Len(t, cases, 1)
			res := engine.RunTest(sc, cases[0])
			require.True(t, res.Passed(), "%s seed %d\n%s\n%v\n%s", sc.ID, seed, text, res.Failures, engine.FormatTranscript(res.Transcript))
		}
	}
}

func TestStartAtAndTrace(t *testing.T) {
	sc := loadOK(t, "semantics")
	s := sc.NewSession(1, "Ann")
	s.SetTrace(true)
	outs, err := s.StartAt("greet", map[string]any{"rolls": 3, "path": "x"}, nil)
	require.NoError(t, err)
	assert.Equal(t, "greet", s.Node())
	assert.Equal(t, 3.0, s.Vars()["rolls"])
	require.GreaterOrEqual(t, len(outs), 2)
	assert.Equal(t, engine.Output{Type: engine.OutEnter, Node: "greet"}, outs[0], "tracing reports each node entered")
	assert.Equal(t, engine.OutLine, outs[1].Type)

	outs, err = s.Apply(say(6000, "shut up"), nil)
	require.NoError(t, err)
	var traced, entered []string
	for _, o := range outs {
		switch o.Type {
		case engine.OutTrace:
			traced = append(traced, o.Rule+"="+map[bool]string{true: "T", false: "F"}[*o.Holds]+">"+o.To)
		case engine.OutEnter:
			entered = append(entered, o.Node)
		}
	}
	assert.Equal(t, []string{"measure=T>", "apologised=F>", "rude=T>angry"}, traced)
	assert.Equal(t, []string{"angry"}, entered)

	for _, tc := range []struct {
		node string
		vars map[string]any
		want string
	}{
		{"gret", nil, `unknown node "gret" (did you mean "greet"?)`},
		{"greet", map[string]any{"rols": 1}, `unknown var "rols" (did you mean "rolls"?)`},
		{"greet", map[string]any{"rolls": "three"}, "var rolls: want a number, got string"},
		{"greet", map[string]any{"intr": 1}, "var intr: want true or false, got int"},
	} {
		_, err := sc.NewSession(1, "").StartAt(tc.node, tc.vars, nil)
		assert.EqualError(t, err, tc.want)
	}
}

func TestLoadSourcesRebuildsTheSameScenario(t *testing.T) {
	sc, diags := engine.LoadFile("testdata/ok/semantics.yaml")
	require.False(t, diags.HasErrors(), diags.Error())
	again, diags := engine.LoadSources(sc.Sources)
	require.False(t, diags.HasErrors(), diags.Error())
	assert.Equal(t, sc.Hash, again.Hash)
	assert.Equal(t, sc.ID, again.ID)
	assert.Equal(t, len(sc.Nodes), len(again.Nodes))

	_, diags = engine.LoadSources(nil)
	assert.True(t, diags.HasErrors())
}

// Tracing changes nothing but the extra outputs: every shipped test gets the same verdict
// and, without its trace and enter outputs, the same transcript.
func TestRunTestTracedSameVerdict(t *testing.T) {
	paths, err := engine.FindScenarios(scenarios.FS, scenarios.Root)
	require.NoError(t, err)
	for _, p := range paths {
		sc, _ := engine.Load(scenarios.FS, p)
		require.NotNil(t, sc)
		cases, diags := engine.LoadTests(scenarios.FS, engine.TestPath(p), sc)
		require.False(t, diags.HasErrors(), diags.Error())
		require.NotEmpty(t, cases, p)
		for _, c := range cases {
			plain, traced := engine.RunTest(sc, c), engine.RunTestTraced(sc, c)
			assert.Equal(t, plain.Failures, traced.Failures, c.Name)
			var kept []engine.Output
			traces := 0
			for _, o := range traced.Transcript {
				if o.Type == engine.OutTrace || o.Type == engine.OutEnter {
					traces++
					continue
				}
				kept = append(kept, o)
			}
			assert.Equal(t, plain.Transcript, kept, c.Name)
			assert.Positive(t, traces, c.Name)
		}
	}
}

// A recorded test survives editing a customer line: waits are recorded relative to the
// end of the line (listen, then the pause), so lengthening the line neither turns the
// reply into an interruption nor breaks the test. The same call recorded with an
// absolute wait fails after the edit: that is the bug this guards against.
func TestRecordedTestSurvivesLongerLine(t *testing.T) {
	fsys := fstest.MapFS{"rules/listening.yaml": &fstest.MapFile{Data: mustRead(t, "testdata/rules/listening.yaml")}}
	basic := string(mustRead(t, "testdata/ok/basic.yaml"))
	basic = strings.Replace(basic, "../rules/listening.yaml", "rules/listening.yaml", 1)
	fsys["basic.yaml"] = &fstest.MapFile{Data: []byte(basic)}
	longer := strings.Replace(basic, "I want cheese.", "I want cheese. A good strong cheddar, a wedge of brie, and something blue and crumbly for the weekend.", 1)
	require.NotEqual(t, basic, longer)
	fsys["longer.yaml"] = &fstest.MapFile{Data: []byte(longer)}

	sc, diags := engine.Load(fsys, "basic.yaml")
	require.False(t, diags.HasErrors(), diags.Error())
	edited, diags := engine.Load(fsys, "longer.yaml")
	require.False(t, diags.HasErrors(), diags.Error())

	// Play: answer after 2s, start typing while the line is spoken, reply 1.5s after it ends.
	s := sc.NewSession(engine.TestSeed, engine.TestTrainee)
	all := s.Start(nil)
	var err error
	all, err = s.Apply(engine.Event{Type: engine.EventAnswer, At: 2000}, all)
	require.NoError(t, err)
	_, lineEnd := s.Speaking(2000)
	require.Greater(t, lineEnd, int64(3000))
	events := []engine.Event{
		{Type: engine.EventAnswer, At: 2000},
		{Type: engine.EventTyping, At: 3000},
		{Type: engine.EventSay, At: lineEnd + 1500, Text: "sorry, we are out of stock"},
	}
	for _, ev := range events[1:] {
		all, err = s.Apply(ev, all)
		require.NoError(t, err)
	}
	require.Equal(t, "good", s.End().Ending)
	text := engine.FormatTest("recorded", events, s, all)
	assert.Contains(t, text, "    - {answer: 2s}\n    - {wait: 1s}\n    - {typing: 0s}\n    - listen\n    - {wait: 1.5s}\n    - {say: ")

	run := func(sc *engine.Scenario, text string) engine.TestResult {
		var diags engine.Diagnostics
		cases := engine.ParseTests("recorded.test.yaml", []byte(text), sc, &diags)
		require.False(t, diags.HasErrors(), diags.Error())
		require.Len(t, cases, 1)
		return engine.RunTest(sc, cases[0])
	}
	assert.True(t, run(sc, text).Passed(), "passes on the scenario it was recorded on")
	res := run(edited, text)
	assert.True(t, res.Passed(), "still passes after the line was lengthened: %v", res.Failures)

	// The old recording: an absolute wait from the answer.
	absolute := strings.Replace(text, "    - {typing: 0s}\n    - listen\n    - {wait: 1.5s}\n",
		"    - {typing: "+engine.FormatDuration(lineEnd+1500-3000)+"}\n", 1)
	require.NotEqual(t, text, absolute)
	assert.True(t, run(sc, absolute).Passed())
	assert.False(t, run(edited, absolute).Passed(), "an absolute wait turns the reply into an interruption")
}

func mustRead(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(name)
	require.NoError(t, err)
	return data
}

// A pack's sub-flow is entered with to: >id and comes back to the node that entered it:
// the customer asks whether the trainee is still there, then repeats (a shorter line,
// by visits) and the call goes on. The pack's unused flow is not reported.
func TestSubFlowCallAndReturn(t *testing.T) {
	sc, diags := engine.LoadFile("testdata/subflow/parcel.yaml")
	require.False(t, diags.HasErrors(), diags.Error())
	cases, diags := engine.LoadTests(engine.OSFS{}, "testdata/subflow/parcel.test.yaml", sc)
	require.False(t, diags.HasErrors(), diags.Error())
	require.Len(t, cases, 2)
	for _, c := range cases {
		res := engine.RunTestTraced(sc, c)
		assert.True(t, res.Passed(), "%s: %v\n%s", c.Name, res.Failures, engine.FormatTranscript(res.Transcript))
	}
	res := engine.RunTestTraced(sc, cases[0])
	var entered, lines []string
	for _, o := range res.Transcript {
		switch o.Type {
		case engine.OutEnter:
			entered = append(entered, o.Node)
		case engine.OutLine:
			lines = append(lines, o.Text)
		}
	}
	assert.Equal(t, []string{"ask", "still_there", "resume", "ask", "fine"}, entered)
	assert.Equal(t, "So, about my parcel?", lines[3], "back in ask, the second visit's line")

	// The pack's node is drawn only where the scenario enters it.
	data := mustRead(t, "testdata/subflow/parcel.yaml")
	sk := engine.Draw(engine.OSFS{}, "testdata/subflow/parcel.yaml", data)
	var ids []string
	for _, n := range sk.Nodes {
		ids = append(ids, n.ID)
		assert.False(t, n.Unreachable || n.DeadEnd, n.ID)
	}
	assert.Equal(t, []string{"ask", "fine", "overpromised", "still_there", "resume", "gave_up"}, ids)
}

// A test expectation no call can meet is flagged: test scores are raw points, so a value
// past the axis's max can only be a warning, but one that needs points nothing gives (or
// takes) is an error.
func TestImpossibleScoreExpectations(t *testing.T) {
	sc, diags := engine.LoadFile("testdata/ok/basic.yaml")
	require.False(t, diags.HasErrors(), diags.Error())
	src := `- name: t
  steps: [listen]
  expect:
    scores: {honesty: "== 3", listening: "== 1"}
- name: u
  steps: [listen]
  expect:
    scores: {honesty: "< 0", listening: "> 3"}
`
	var got engine.Diagnostics
	engine.ParseTests("basic.test.yaml", []byte(src), sc, &got)
	assert.Equal(t, `basic.test.yaml:4:23: warning: scores.honesty: == 3 holds only above 2, the axis's max: test scores are raw points (start plus every delta, not clamped), so this needs deltas past the max; the debrief never shows more than 2
basic.test.yaml:8:23: scores.honesty: < 0 can never hold: no transition or rule takes away points on honesty, which starts at 0 (test scores are raw points)
basic.test.yaml:8:41: scores.listening: > 3 can never hold: no transition or rule adds points on listening, which starts at 3 (test scores are raw points)`, got.Error())
}

// The graph exports draw a scenario with a sub-flow: the call edge is labelled, the return
// node's own timer is not an edge.
func TestGraphExportWithSubFlow(t *testing.T) {
	sc, diags := engine.LoadFile("testdata/subflow/parcel.yaml")
	require.False(t, diags.HasErrors(), diags.Error())
	dot, mermaid := sc.Dot(), sc.Mermaid()
	assert.Contains(t, dot, `"ask" -> "still_there" [label="after 8s (sub-flow)", style=dashed];`)
	assert.Contains(t, mermaid, "n_resume")
	for _, e := range sc.Edges() {
		assert.NotEmpty(t, e.To)
	}
}

// Coverage counts what traced test runs exercised; a pack's sub-flow nodes the scenario
// never enters are not counted.
func TestCoverageOfSubFlowScenario(t *testing.T) {
	sc, diags := engine.LoadFile("testdata/subflow/parcel.yaml")
	require.False(t, diags.HasErrors(), diags.Error())
	cases, diags := engine.LoadTests(engine.OSFS{}, "testdata/subflow/parcel.test.yaml", sc)
	require.False(t, diags.HasErrors(), diags.Error())
	cov := engine.NewCoverage(sc)
	for _, c := range cases {
		cov.Add(engine.RunTestTraced(sc, c).Transcript)
	}
	names := func(items []engine.CoverItem) map[string]bool {
		m := map[string]bool{}
		for _, it := range items {
			m[it.Name] = it.Covered
		}
		return m
	}
	assert.Equal(t, map[string]bool{"ask": true, "still_there": true, "resume": true}, names(cov.Nodes), "unused_flow is not counted")
	assert.Equal(t, map[string]bool{"fine": true, "overpromised": false, "gave_up": true}, names(cov.Endings))
	assert.Equal(t, map[string]bool{"ask → overpromised": false, "ask → fine": true, "ask → still_there": true,
		"still_there → resume": true, "still_there → gave_up": true}, names(cov.Edges))
	assert.Contains(t, cov.Report(), "endings  2/3 (66%)  never reached: overpromised (testdata/subflow/parcel.yaml:22)")
}

// Global rules that move the call are exported as arrows from one "global rules" note: dotted
// in dot, dashed in Mermaid (issue 15, item 7: checked, not changed).
func TestGraphExportDrawsGlobalRulesThatMove(t *testing.T) {
	sc, diags := engine.LoadFile("../scenarios/slow-clerk.yaml")
	require.False(t, diags.HasErrors(), diags.Error())
	dot, mermaid := sc.Dot(), sc.Mermaid()
	assert.Contains(t, dot, `"rules" [shape=note, label="global rules\n`)
	assert.Contains(t, dot, `"rules" -> "cut_off" [label="rule talked-over: `)
	assert.Contains(t, dot, `"rules" -> "walked" [label="rule too-slow: `)
	assert.Contains(t, mermaid, `rules[/global rules/] -.->|"rule talked-over: `)
	assert.Contains(t, mermaid, `| n_walked`)
	var moving []string
	for _, e := range sc.Edges() {
		if e.Rule {
			moving = append(moving, e.To)
		}
	}
	assert.Equal(t, []string{"cut_off", "walked"}, moving, "only the rules with a to are edges")
}

// A misspelt test step says which one was meant, and a choose the node does not offer
// says what it does offer.
func TestTestStepMistakesSayWhatWasMeant(t *testing.T) {
	sc, diags := engine.LoadFile("testdata/ok/basic.yaml")
	require.False(t, diags.HasErrors(), diags.Error())
	var got engine.Diagnostics
	engine.ParseTests("basic.test.yaml", []byte("- name: t\n  steps: [{answer: 1s}, {type: 30s}]\n"), sc, &got)
	assert.Equal(t, `basic.test.yaml:2:26: unknown key "type" in a step (did you mean "typing"?)`, got.Error())

	got = nil
	cases := engine.ParseTests("basic.test.yaml", []byte("- name: t\n  steps: [{answer: 1s}, listen, {choose: 9}]\n"), sc, &got)
	require.False(t, got.HasErrors(), got.Error())
	res := engine.RunTest(sc, cases[0])
	require.NotEmpty(t, res.Failures)
	assert.Contains(t, res.Failures[0], "no such suggested reply (at node")
	assert.Contains(t, res.Failures[0], "; it offers 0, 1)")
}

// Listening (or waiting) after the call ended is harmless in a test, as the ending's last
// line is still being said; a reply after the end fails the test.
func TestListenAfterTheEnd(t *testing.T) {
	sc, diags := engine.LoadFile("testdata/ok/basic.yaml")
	require.False(t, diags.HasErrors(), diags.Error())
	var got engine.Diagnostics
	cases := engine.ParseTests("basic.test.yaml", []byte(`- name: listen after the end
  steps: [{answer: 1s}, hangup, listen, {wait: 2s}]
  expect: {ending: hangup}
- name: a reply after the end
  steps: [{answer: 1s}, hangup, {say: "hello?"}]
`), sc, &got)
	require.False(t, got.HasErrors(), got.Error())
	require.Len(t, cases, 2)
	assert.Empty(t, engine.RunTest(sc, cases[0]).Failures)
	res := engine.RunTest(sc, cases[1])
	require.NotEmpty(t, res.Failures)
	assert.Contains(t, res.Failures[0], "the call had already ended")
}

// TestLintWarnsOfAPauseNoReplyIsHeardIn: a customer who pauses 5 s at a node only a timer
// moves on would not hear a reply typed in the pause; two lines in a row (after: 0s) and a
// node that hears replies are fine.
func TestLintWarnsOfAPauseNoReplyIsHeardIn(t *testing.T) {
	src := `id: a
title: A
brief: b
persona: {name: Jo}
start: ring
nodes:
  ring:
    ring: true
    transitions:
      - {when: 'event == "answer"', to: first}
  first:
    say: My parcel never came.
    transitions:
      - {after: 0s, to: second}
  second:
    say: And I paid for next-day delivery.
    transitions:
      - {after: 5s, to: third}
  third:
    say: Are you still there?
    transitions:
      - {when: 'event == "say"', to: done}
      - {after: 10s, to: done}
  done:
    end: {title: Over, outcome: lost}
`
	var diags engine.Diagnostics
	sc := engine.LoadBytes(fstest.MapFS{}, "pause.yaml", []byte(src), &diags)
	require.NotNil(t, sc, diags.Error())
	assert.Equal(t, `pause.yaml:15:3: warning: node second waits 5s after its line and only a timer moves it on: a reply typed in that pause is scored by the rules but changes nothing, and the customer talks on as if unheard (add a transition that hears it, e.g. when: 'event == "say"', or a pause under 3s)`, diags.Error())
}

// The graph exports draw where a hang-up ends the call (a node's hangup:) and label a
// global rule that enters a sub-flow.
func TestGraphExportDrawsHangupsAndRuleSubFlows(t *testing.T) {
	sc, diags := engine.LoadFile("../scenarios/ignored-phone.yaml")
	require.False(t, diags.HasErrors(), diags.Error())
	var hangups []string
	for _, e := range sc.Edges() {
		if e.Hangup {
			hangups = append(hangups, e.From+" → "+e.To)
		}
	}
	assert.Contains(t, hangups, "greet → hung_up_on")
	assert.Contains(t, sc.Dot(), `"greet" -> "hung_up_on" [label="hang-up", style=dotted`)
	assert.Contains(t, sc.Mermaid(), `n_greet -.->|"hang-up"| n_hung_up_on`)

	sc = loadInline(t, `id: a
title: A
brief: b
persona: {name: Jo}
start: ask
rules:
  - {id: aside, when: 'said("hold")', to: '>holding'}
intents:
  hold: ["hold on"]
nodes:
  ask:
    say: Hello?
    transitions:
      - {when: 'true', to: done}
  holding:
    say: I will wait.
    return: true
  done:
    end: {title: Over, outcome: resolved}
`)
	assert.Contains(t, sc.Dot(), `"rules" -> "holding" [label="rule aside: said(\"hold\") (sub-flow)", style=dotted];`)
}

// TestLintWarnsOfAModelReplyTooLongToType: a model reply that takes longer to type at
// 40 wpm (after 3 s to start) than the compose limit is a warning at the model.
func TestLintWarnsOfAModelReplyTooLongToType(t *testing.T) {
	src := `id: a
title: A
brief: b
persona: {name: Jo}
compose_limit: 15s
start: ring
nodes:
  ring:
    ring: true
    transitions:
      - {when: 'event == "answer"', to: ask}
  ask:
    say: My parcel never came.
    model: I am so sorry your parcel has not arrived. Let me check where it is and send a new one today.
    transitions:
      - {when: 'event == "say"', to: short}
  short:
    say: Thanks.
    model: Sorry about that.
    transitions:
      - {when: 'event == "say"', to: done}
  done:
    end: {title: Over, outcome: resolved}
`
	var diags engine.Diagnostics
	sc := engine.LoadBytes(fstest.MapFS{}, "model.yaml", []byte(src), &diags)
	require.NotNil(t, sc, diags.Error())
	assert.Equal(t, `model.yaml:14:12: warning: the model reply takes about 30s to type at 40 wpm (93 characters, after 3s to start), more than the compose limit of 15s: a trainee typing a reply like it is hurried by the customer's timers (shorten it, or raise compose_limit)`, diags.Error())
}

// TestLintSaysWhatAnExpressionMeant: an event value that never happens, a text left
// unquoted and yes for true each get an error that says what to write.
func TestLintSaysWhatAnExpressionMeant(t *testing.T) {
	src := `id: a
title: A
brief: b
persona: {name: Jo}
vars: {reason: "", verified: false}
start: ring
nodes:
  ring:
    ring: true
    transitions:
      - {when: 'event == "answered"', to: ask}
      - {when: 'event == "answer"', to: ask}
  ask:
    say: Hello?
    transitions:
      - {when: 'event == "typing"', to: done}
      - {when: 'true', to: done, set: {reason: ring, verified: yes}}
  done:
    end: {title: Over, outcome: resolved}
`
	var diags engine.Diagnostics
	engine.LoadBytes(fstest.MapFS{}, "expr.yaml", []byte(src), &diags)
	text := diags.Error()
	assert.Contains(t, text, `expr.yaml:11:26: event is never "answered": it is one of answer, say, choose, hint, hangup, timeout (did you mean "answer"?)`)
	assert.Contains(t, text, `event is never "typing" here: typing only starts the reply's composing time`)
	assert.Contains(t, text, `unknown name "ring": no var, intent or function has it; to write the text ring, quote it: '"ring"'`)
	assert.Contains(t, text, `unknown name "yes" (write true or false)`)
	assert.NotContains(t, text, ":12:", "a known event is fine")
}

// TestLintWarnsOfAnIntentNothingLooksAt: an intent no transition, rule or line looks at is
// a warning at its name; one a guard reads is not.
func TestLintWarnsOfAnIntentNothingLooksAt(t *testing.T) {
	src := `id: a
title: A
brief: b
persona: {name: Jo}
intents:
  apology: ["sorry"]
  refund: ["refund"]
start: ask
nodes:
  ask:
    say: Hello?
    transitions:
      - {when: 'said("apology")', to: done}
      - {when: 'true', to: done}
  done:
    end: {title: Over, outcome: resolved}
`
	var diags engine.Diagnostics
	sc := engine.LoadBytes(fstest.MapFS{}, "intents.yaml", []byte(src), &diags)
	require.NotNil(t, sc)
	assert.Equal(t, `intents.yaml:7:3: warning: intent refund is never used: no transition, rule or line looks at it (said("refund") or count("refund")), so replies read as it change nothing in the call`, diags.Error())
}

// TestLintWarnsWhenTheModelAnswerIsMarkedDown: an outside designer's jargon phrase "loss
// adjustment" caught their own model answer ("a loss adjuster will ring you": one stem),
// and only a scenario test showed it. Lint now says so at the model, rule by rule; a model
// that nothing marks down is not reported.
func TestLintWarnsWhenTheModelAnswerIsMarkedDown(t *testing.T) {
	src := `id: m
title: M
brief: b
persona: {name: Jo, wpm: 120}
intents:
  jargon: ["loss adjustment"]
  rude: ["not rocket science"]
  help: ["ring you"]
scores:
  clarity: {max: 1, start: 1}
  care: {max: 1}
start: ask
rules:
  - {id: jargon, when: 'said("jargon")', score: {clarity: -1}}
  - {id: put-down, when: 'said("rude")', critical: true}
nodes:
  ask:
    say: what happens next
    model: %q
    transitions:
      - {when: 'said("help")', to: done, score: {care: 1}}
  done:
    end: {title: Done, outcome: resolved}
`
	for _, tc := range []struct {
		model, want string
	}{
		{"A loss adjuster will ring you on Thursday.", "the model answer, said at ask, is marked down (understood as jargon, help): rule jargon costs clarity -1"},
		{"Its not rocket science, someone will ring you.", "critical rule put-down fires"},
		{"Someone will ring you on Thursday to arrange a visit.", ""},
	} {
		var diags engine.Diagnostics
		engine.LoadBytes(fstest.MapFS{}, "m.yaml", fmt.Appendf(nil, src, tc.model), &diags)
		require.False(t, diags.HasErrors(), diags.Error())
		if tc.want == "" {
			assert.Empty(t, diags.Warnings(), tc.model)
			continue
		}
		require.Len(t, diags.Warnings(), 1, tc.model)
		assert.Contains(t, diags.Warnings()[0].Message, tc.want)
		assert.Equal(t, 19, diags.Warnings()[0].Line, "at the model")

		// Not for sources loaded to replay a recorded call: a designer's warning is no
		// work for a replay.
		_, diags = engine.LoadWith(fstest.MapFS{"m.yaml": {Data: fmt.Appendf(nil, src, tc.model)}}, "m.yaml", engine.LoadOptions{Lenient: true})
		require.False(t, diags.HasErrors(), diags.Error())
		assert.Empty(t, diags.Warnings(), tc.model)
	}
}

// TestLintWarnsWhenTheModelAnswerIsNotRecognised: an outside designer's model answer was
// read as nothing at its node, and only the end-to-end tests showed it. Lint now says so
// when the model moves the call nowhere, or only by a way on that does not read the reply
// and costs points, asks again or ends lost; a catch-all that is the node's good way on
// (the bad replies checked first) is no warning.
func TestLintWarnsWhenTheModelAnswerIsNotRecognised(t *testing.T) {
	src := `id: m
title: M
brief: b
persona: {name: Jo, wpm: 120}
intents:
  fix: ["send a new bill"]
  rude: ["whatever"]
scores:
  care: {max: 1}
start: ask
nodes:
  ask:
    say: what happens next
    model: %q
    transitions:
      - {when: 'said("fix")', to: done, score: {care: 1}}
      - {when: 'said("rude")', to: again}
      %s
  again:
    say: so what now
    model: I will send a new bill today.
    transitions:
      - {when: 'said("rude")', to: lost}
      - {when: 'true', to: done}
  done:
    end: {title: Done, outcome: resolved}
  lost:
    end: {title: Lost, outcome: lost}
`
	for _, tc := range []struct {
		model, catchAll, want string
	}{
		{"I will send a new bill today.", "- {when: 'true', to: again}", ""},
		{"I will post you a corrected statement.", "", "moves the call nowhere: it is understood as nothing the node asks about"},
		{"I will post you a corrected statement.", "- {when: 'true', to: again, score: {care: -1}}", "is taken by a way on that does not read the reply (when: true) and leads to again"},
		{"I will post you a corrected statement.", "- {when: 'true', to: ask}", "leads to ask"},
		{"I will post you a corrected statement.", "- {when: 'true', to: lost}", "leads to lost"},
		{"I will post you a corrected statement.", "- {when: 'true', to: again}", ""}, // the catch-all is a good way on
	} {
		var diags engine.Diagnostics
		engine.LoadBytes(fstest.MapFS{}, "m.yaml", fmt.Appendf(nil, src, tc.model, tc.catchAll), &diags)
		require.False(t, diags.HasErrors(), diags.Error())
		if tc.want == "" {
			assert.Empty(t, diags.Warnings(), "%s / %s", tc.model, tc.catchAll)
			continue
		}
		require.Len(t, diags.Warnings(), 1, "%s / %s", tc.model, tc.catchAll)
		assert.Contains(t, diags.Warnings()[0].Message, tc.want)
		assert.Equal(t, 14, diags.Warnings()[0].Line, "at the model")
	}
}
