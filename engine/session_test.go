package engine_test

import (
	"encoding/json"
	"io/fs"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/engine"
	"github.com/switchboard-sim/switchboard/scenarios"
)

func loadOK(t testing.TB, name string) *engine.Scenario {
	t.Helper()
	sc, diags := engine.Load(os.DirFS("testdata"), "ok/"+name+".yaml")
	require.NotNil(t, sc, diags.Error())
	return sc
}

// call is a session under test with its outputs so far.
type call struct {
	t    *testing.T
	s    *engine.Session
	outs []engine.Output
}

func newCall(t *testing.T, sc *engine.Scenario) *call {
	s := sc.NewSession(42, "Ann")
	require.NoError(t, s.SetSuggestions(engine.SuggestAlways))
	return &call{t: t, s: s, outs: s.Start(nil)}
}

// do applies an event that must be accepted and returns just its outputs.
func (c *call) do(ev engine.Event) []engine.Output {
	c.t.Helper()
	n := len(c.outs)
	var err error
	c.outs, err = c.s.Apply(ev, c.outs)
	require.NoError(c.t, err, "%+v", ev)
	return c.outs[n:]
}

func ofType(outs []engine.Output, typ engine.OutputType) []engine.Output {
	var r []engine.Output
	for _, o := range outs {
		if o.Type == typ {
			r = append(r, o)
		}
	}
	return r
}

func answer(at int64) engine.Event { return engine.Event{Type: engine.EventAnswer, At: at} }
func say(at int64, text string) engine.Event {
	return engine.Event{Type: engine.EventSay, At: at, Text: text}
}
func choose(at int64, i int) engine.Event {
	return engine.Event{Type: engine.EventChoose, At: at, Index: i}
}

func TestStartRings(t *testing.T) {
	c := newCall(t, loadOK(t, "semantics"))
	require.Len(t, c.outs, 1)
	assert.Equal(t, engine.OutRing, c.outs[0].Type)
	d, ok := c.s.NextDeadline()
	assert.True(t, ok)
	assert.Equal(t, int64(30_000), d, "the ring node's after: 30s counts from entering it")
}

func TestInterruptionCutsAtTheWordReached(t *testing.T) {
	sc := loadOK(t, "semantics")
	for _, tc := range []struct {
		name      string
		after     int64 // ms after the line started
		cut       bool
		spoken    int
		silenceIs float64
	}{
		{"at once", 0, true, 0, 0},
		{"mid word three", 2500, true, 2, 0},
		{"in the last but one word", 4999, true, 4, 0},
		// The last word was sent at 5 s: a reply while it is said is no interruption.
		{"during the last word", 5999, false, 0, 0},
		{"at the end", 6000, false, 0, 0},
		{"after a pause", 9500, false, 0, 3.5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCall(t, sc)
			outs := c.do(answer(1000))
			line := ofType(outs, engine.OutLine)
			require.Len(t, line, 1)
			assert.Equal(t, 6, line[0].Words)
			assert.Equal(t, int64(6000), line[0].Duration, "6 words at 60 wpm")
			outs = c.do(say(1000+tc.after, "hmm, let me think"))
			cuts := ofType(outs, engine.OutCut)
			vars := c.s.Vars()
			if tc.cut {
				require.Len(t, cuts, 1)
				assert.Equal(t, tc.spoken, cuts[0].Spoken)
				assert.Equal(t, true, vars["intr"])
				assert.Contains(t, ofType(outs, engine.OutTrainee)[0].Flags, "interrupted")
			} else {
				assert.Empty(t, cuts)
				assert.Empty(t, ofType(outs, engine.OutTrainee)[0].Flags)
				assert.Equal(t, false, vars["intr"])
			}
			assert.InDelta(t, tc.silenceIs, vars["sil"], 1e-9)
		})
	}
}

func TestRingingIsMeasuredAtAnswer(t *testing.T) {
	c := newCall(t, loadOK(t, "semantics"))
	c.do(answer(7250))
	assert.InDelta(t, 7.25, c.s.Vars()["rang"], 1e-9)
}

func TestIgnoredPhoneTimesOut(t *testing.T) {
	c := newCall(t, loadOK(t, "semantics"))
	assert.Empty(t, c.do(engine.Event{Type: engine.EventTimeout, At: 29_999}), "an early timer does nothing")
	outs := c.do(engine.Event{Type: engine.EventTimeout, At: 30_000})
	require.True(t, c.s.Ended())
	assert.Equal(t, "missed", c.s.End().Ending)
	assert.Equal(t, engine.OutEnd, outs[len(outs)-1].Type)
	_, err := c.s.Apply(answer(30_001), nil)
	assert.ErrorIs(t, err, engine.ErrEnded)
}

func TestRulesApplyInOrderAndChoicesFollowMood(t *testing.T) {
	c := newCall(t, loadOK(t, "semantics"))
	outs := c.do(answer(0))
	choices := ofType(outs, engine.OutChoices)
	require.Len(t, choices, 1)
	assert.ElementsMatch(t, []engine.ChoiceShown{{Index: 0, Text: "I am so sorry about that."}, {Index: 2, Text: "Let me check."}},
		choices[0].Choices, "choice 1 needs mood > 0.5")
	_, err := c.s.Apply(choose(7000, 1), nil)
	assert.ErrorIs(t, err, engine.ErrBadChoice, "a hidden choice cannot be picked")

	outs = c.do(choose(7000, 0)) // apology: no transition matches, the call stays
	assert.Equal(t, "greet", c.s.Node())
	fb := ofType(outs, engine.OutFeedback)
	require.Len(t, fb, 2)
	assert.Equal(t, "measure", fb[0].Rule)
	assert.Equal(t, "apologised", fb[1].Rule)
	assert.Equal(t, "Good apology, Ann.", fb[1].Text, "feedback fills placeholders")
	assert.InDelta(t, 0.7, c.s.Mood(), 1e-9)
	assert.Equal(t, 1.0, c.s.Scores()["care"])

	c.do(say(9000, "Here's your money back"))
	assert.True(t, c.s.Ended())
	end := c.s.End()
	assert.Equal(t, "refunded", end.Ending)
	assert.Equal(t, engine.OutcomeResolved, end.Outcome)
	require.Len(t, end.Scores, 2)
	assert.True(t, end.Scores[0].Assessed, "care was scored")
	assert.False(t, end.Scores[1].Assessed, "nothing could cost patience: not assessed, not full marks")
	assert.InDelta(t, 0.5, end.Overall, 1e-9, "only care counts")
	assert.False(t, end.Passed, "0.5 is below the default pass mark 0.6")
}

func TestFirstRuleWithTargetMovesAndSkipsTransitions(t *testing.T) {
	c := newCall(t, loadOK(t, "semantics"))
	c.do(answer(0))
	outs := c.do(say(6000, "Sorry, shut up"))
	assert.Equal(t, []string{"measure", "apologised", "rude"}, engine.FiredRules(outs))
	require.True(t, c.s.Ended())
	assert.Equal(t, "angry", c.s.End().Ending)
	assert.Equal(t, -1.0, c.s.Mood(), "mood is clamped")
}

func TestRoutersTimersAndRandom(t *testing.T) {
	sc := loadOK(t, "semantics")
	run := func(seed uint64) (float64, []engine.Output) {
		s := sc.NewSession(seed, "")
		require.NoError(t, s.SetSuggestions(engine.SuggestAlways))
		outs := s.Start(nil)
		outs, _ = s.Apply(answer(0), outs)
		outs, _ = s.Apply(choose(6000, 2), outs)
		require.Equal(t, "check", s.Node())
		d, ok := s.NextDeadline()
		require.True(t, ok)
		assert.Equal(t, int64(7000), d, "after: 0s fires when the one-word line ends")
		outs, _ = s.Apply(engine.Event{Type: engine.EventTimeout, At: d}, outs)
		assert.Equal(t, "rolled", s.Node(), "the router passed the call on at once")
		roll := s.Vars()["last_roll"].(float64)
		assert.GreaterOrEqual(t, roll, 1.0)
		assert.LessOrEqual(t, roll, 6.0)
		return roll, outs
	}
	a, outsA := run(7)
	b, outsB := run(7)
	assert.Equal(t, a, b, "the same seed rolls the same")
	assert.Equal(t, outsA, outsB)
	seen := map[float64]bool{}
	for seed := uint64(1); seed <= 40; seed++ {
		r, _ := run(seed)
		seen[r] = true
	}
	assert.Greater(t, len(seen), 3, "different seeds roll differently")
}

func TestTimerFeedbackAndEndText(t *testing.T) {
	c := newCall(t, loadOK(t, "semantics"))
	c.do(answer(0))
	c.do(choose(6000, 2))
	c.do(engine.Event{Type: engine.EventTimeout, At: 7000})
	d, _ := c.s.NextDeadline()
	outs := c.do(engine.Event{Type: engine.EventTimeout, At: d})
	fb := ofType(outs, engine.OutFeedback)
	require.Len(t, fb, 1)
	assert.Equal(t, "You left Sam waiting.", fb[0].Text)
	assert.Equal(t, "Sam gave up.", c.s.End().Text)
	assert.Equal(t, 0.0, c.s.Scores()["patience"])
	assert.False(t, c.s.End().Passed)
}

func TestHangup(t *testing.T) {
	sc := loadOK(t, "semantics")
	c := newCall(t, sc)
	c.do(answer(0))
	c.do(engine.Event{Type: engine.EventHangup, At: 2000})
	assert.Equal(t, "rude_hangup", c.s.End().Ending, "the node maps a hang-up to its own ending")

	c = newCall(t, sc)
	c.do(engine.Event{Type: engine.EventHangup, At: 2000})
	assert.Equal(t, engine.HangupEnding, c.s.End().Ending, "unhandled: the call ends as lost")
	assert.Equal(t, engine.OutcomeLost, c.s.End().Outcome)
	assert.False(t, c.s.End().Passed)
}

func TestRepeated(t *testing.T) {
	c := newCall(t, loadOK(t, "semantics"))
	c.do(answer(0))
	c.do(say(6000, "Thank you for calling, how can I help you today?"))
	assert.Equal(t, false, c.s.Vars()["rep"])
	c.do(say(7000, "thank you for calling how can I help you"))
	assert.Equal(t, true, c.s.Vars()["rep"], "nearly the same words")
	c.do(say(8000, "ok ok ok ok"))
	c.do(say(9000, "ok ok ok ok"))
	assert.Equal(t, false, c.s.Vars()["rep"], "fewer than four distinct words never count")
}

func TestRejectedEventsLeaveTheSessionUnchanged(t *testing.T) {
	sc := loadOK(t, "semantics")
	c := newCall(t, sc)
	before, _ := json.Marshal(c.outs)
	for _, tc := range []struct {
		ev   engine.Event
		want error
	}{
		{say(100, "hello"), engine.ErrNotAnswered},
		{choose(100, 0), engine.ErrNotAnswered},
		{engine.Event{Type: "dance", At: 100}, engine.ErrUnknownEvent},
	} {
		assert.ErrorIs(t, c.s.Check(tc.ev), tc.want, "Check says why Apply refuses")
		_, err := c.s.Apply(tc.ev, nil)
		assert.ErrorIs(t, err, tc.want)
	}
	require.NoError(t, c.s.Check(answer(1000)))
	c.do(answer(1000))
	for _, tc := range []struct {
		ev   engine.Event
		want error
	}{
		{answer(1100), engine.ErrNotRinging},
		{say(1100, "   "), engine.ErrEmptyText},
		{say(1100, "bad \xff utf8"), engine.ErrInvalidUTF8},
		{say(1100, string(make([]byte, engine.MaxMessageBytes+1))), engine.ErrTextTooLong},
		{say(500, "too early"), engine.ErrTimeBackward},
		{choose(1100, 9), engine.ErrBadChoice},
		{choose(1100, -1), engine.ErrBadChoice},
	} {
		assert.ErrorIs(t, c.s.Check(tc.ev), tc.want, "%+v", tc.ev)
		_, err := c.s.Apply(tc.ev, nil)
		assert.ErrorIs(t, err, tc.want, "%+v", tc.ev)
	}
	assert.Equal(t, "greet", c.s.Node())
	_ = before
}

// TestCheckIsApplysRefusal plays calls of every shipped scenario with a mix of events,
// many of them wrong for the moment (a say before the answer, a choice not shown, time
// going back, anything after the end), and checks that Check accepts exactly what Apply
// takes and refuses with Apply's error: the live server journals an event it has checked
// before applying it.
func TestCheckIsApplysRefusal(t *testing.T) {
	names, err := fs.Glob(scenarios.FS, scenarios.Root+"/*.yaml")
	require.NoError(t, err)
	require.NotEmpty(t, names)
	texts := []string{"hello, how can i help?", "sorry, we dont have any", "   ", "i can offer you something else"}
	taken, refused := 0, map[string]int{}
	for _, name := range names {
		if strings.HasSuffix(name, ".test.yaml") {
			continue // a scenario's tests, not a scenario
		}
		sc, diags := engine.Load(scenarios.FS, name)
		require.NotNil(t, sc, "%s: %v", name, diags)
		rnd := rand.New(rand.NewPCG(1, uint64(len(name))))
		for call := range 60 {
			s := sc.NewSession(uint64(call), "Robin")
			s.Start(nil)
			at := int64(0)
			for n, after := 0, 0; after < 2 && n < 200; n++ {
				if s.Ended() {
					after++ // two events on the ended call, then the next call
				}
				at += int64(rnd.IntN(4000)) - 300
				var ev engine.Event
				switch k := rnd.IntN(40); {
				case k == 0:
					ev = engine.Event{Type: engine.EventHangup, At: at}
				case k < 7:
					ev = engine.Event{Type: engine.EventAnswer, At: at}
				case k < 23:
					ev = engine.Event{Type: engine.EventSay, At: at, Text: texts[rnd.IntN(len(texts))]}
				case k < 31:
					ev = engine.Event{Type: engine.EventChoose, At: at, Index: rnd.IntN(4) - 1}
				case k < 36:
					if d, ok := s.NextDeadline(); ok {
						at = max(at, d)
					}
					ev = engine.Event{Type: engine.EventTimeout, At: at}
				default:
					ev = engine.Event{Type: engine.EventTyping, At: at}
				}
				checked := s.Check(ev)
				_, applied := s.Apply(ev, nil)
				require.Equal(t, applied, checked, "%s, call %d: %+v", name, call, ev)
				if applied == nil {
					taken++
				} else {
					refused[applied.Error()]++
				}
			}
		}
	}
	assert.Greater(t, taken, 1000, "events taken (refused: %v)", refused)
	for _, want := range []error{engine.ErrEnded, engine.ErrNotAnswered, engine.ErrNotRinging, engine.ErrTimeBackward, engine.ErrBadChoice, engine.ErrEmptyText} {
		assert.Positive(t, refused[want.Error()], "events refused with %q", want)
	}
}

func TestWhisper(t *testing.T) {
	c := newCall(t, loadOK(t, "semantics"))
	outs := c.do(engine.Event{Type: engine.EventWhisper, At: 10, Text: "answer it!"})
	require.Len(t, outs, 1)
	assert.Equal(t, engine.OutWhisper, outs[0].Type)
	assert.Equal(t, "ring", c.s.Node())
}

// Sessions of one scenario share pooled evaluation scratch; interleaving them must not
// leak one session's vars into another's.
func TestInterleavedSessionsStayApart(t *testing.T) {
	sc := loadOK(t, "semantics")
	a, b := newCall(t, sc), newCall(t, sc)
	a.do(answer(0))
	b.do(answer(0))
	a.do(choose(6000, 0)) // apology: mood +0.7, care +1 for a only
	for i := range 5 {
		b.do(say(int64(7000+i*100), "hmm"))
		a.do(say(int64(7000+i*100), "hmm"))
	}
	assert.InDelta(t, 0.7, a.s.Mood(), 1e-9)
	assert.InDelta(t, 0.0, b.s.Mood(), 1e-9)
	assert.Equal(t, 1.0, a.s.Scores()["care"])
	assert.Equal(t, 0.0, b.s.Scores()["care"])
	outs := b.do(say(8000, "sorry"))
	assert.Equal(t, []string{"measure", "apologised"}, engine.FiredRules(outs))
	assert.InDelta(t, 0.7, b.s.Mood(), 1e-9)
}

// alwaysSession is a session that shows every choice, so tests and benchmarks can choose
// without asking for hints.
func alwaysSession(tb testing.TB, sc *engine.Scenario, seed uint64, trainee string) *engine.Session {
	s := sc.NewSession(seed, trainee)
	if err := s.SetSuggestions(engine.SuggestAlways); err != nil {
		tb.Fatal(err)
	}
	return s
}

// TestTranscriptShowsSuggestionsWhenTheTraineeSeesThem: a node's suggestions, emitted as
// its line starts, show at the line's end; after a cut, at the cut when the call stays,
// and not at all when it moved on.
func TestTranscriptShowsSuggestionsWhenTheTraineeSeesThem(t *testing.T) {
	line := engine.Output{Type: engine.OutLine, At: 0, Node: "ask", Text: "one two three"}
	ch := engine.Output{Type: engine.OutChoices, At: 3000, Node: "ask", Choices: []engine.ChoiceShown{{Index: 0, Text: "Sorry."}}}
	cut := engine.Output{Type: engine.OutCut, At: 1000, Node: "ask", Spoken: 1}
	you := engine.Output{Type: engine.OutTrainee, At: 1000, Node: "ask", Text: "hi"}
	later := engine.Output{Type: engine.OutTrainee, At: 5000, Node: "ask", Text: "hi"}
	next := engine.Output{Type: engine.OutLine, At: 1000, Node: "again", Text: "what"}
	lines := func(ls ...string) string { return strings.Join(ls, "\n") + "\n" }
	for _, c := range []struct {
		name string
		outs []engine.Output
		want string
	}{
		{"at the end of the line", []engine.Output{line, ch, later},
			lines("   0.000s  customer: one two three", "   3.000s  choices: [0] Sorry.", "   5.000s  you: hi")},
		{"at a cut, the call staying", []engine.Output{line, ch, cut, you},
			lines("   0.000s  customer: one two three", "   1.000s  ✂ customer cut off after 1 words", "   1.000s  you: hi", "   1.000s  choices: [0] Sorry.")},
		{"not when the call moved on", []engine.Output{line, ch, cut, you, next},
			lines("   0.000s  customer: one two three", "   1.000s  ✂ customer cut off after 1 words", "   1.000s  you: hi", "   1.000s  customer: what")},
	} {
		assert.Equal(t, c.want, engine.FormatTranscript(c.outs), c.name)
	}
}
