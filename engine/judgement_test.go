package engine_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/engine"
)

// judgeCall is a call of testdata/ok/judge.yaml (one word per second; the first line,
// five words, runs from 1 s to 6 s when the phone is answered at 1 s) in a given mode.
func judgeCall(t *testing.T, mode engine.SuggestionMode, seed uint64) *call {
	t.Helper()
	s := loadOK(t, "judge").NewSession(seed, "Ann")
	require.NoError(t, s.SetSuggestions(mode))
	c := &call{t: t, s: s, outs: s.Start(nil)}
	c.do(answer(1000))
	return c
}

func typing(at int64) engine.Event { return engine.Event{Type: engine.EventTyping, At: at} }
func hint(at int64) engine.Event   { return engine.Event{Type: engine.EventHint, At: at} }
func hangup(at int64) engine.Event { return engine.Event{Type: engine.EventHangup, At: at} }

func TestTypingIsTalking(t *testing.T) {
	c := judgeCall(t, engine.SuggestOnRequest, 1)
	d, _ := c.s.NextDeadline()
	assert.Equal(t, int64(21000), d, "15 s after the line ends")

	outs := c.do(typing(8000))
	require.Len(t, outs, 1)
	assert.Equal(t, engine.OutTyping, outs[0].Type)
	d, _ = c.s.NextDeadline()
	assert.Equal(t, int64(38000), d, "composing holds the timer until compose_limit (30 s) has passed")
	assert.Empty(t, c.do(engine.Event{Type: engine.EventTimeout, At: 21000}), "the old deadline no longer fires")
	c.do(typing(20000)) // the box was cleared and typing started anew: still the same reply
	d, _ = c.s.NextDeadline()
	assert.Equal(t, int64(38000), d, "the composing time counts from the first keystroke")

	outs = c.do(say(35000, "so sorry, here is your refund"))
	assert.Empty(t, ofType(outs, engine.OutCut))
	assert.Equal(t, 2.0, c.s.Vars()["sil"], "silence runs from the line's end (6 s) to the first keystroke (8 s)")
	assert.Equal(t, 27.0, c.s.Vars()["comp"], "composing: from the first keystroke to the send")
	assert.Equal(t, "thanks", c.s.End().Ending)
	assert.True(t, c.s.End().Passed)
}

func TestComposeLimitLetsTheCustomerMoveOn(t *testing.T) {
	c := judgeCall(t, engine.SuggestOnRequest, 1)
	c.do(typing(7000))
	outs := c.do(engine.Event{Type: engine.EventTimeout, At: 37000})
	assert.Equal(t, "ask_again", c.s.Node())
	require.NotEmpty(t, ofType(outs, engine.OutLine))
}

func TestTypingDuringTheLineIsNoInterruption(t *testing.T) {
	c := judgeCall(t, engine.SuggestOnRequest, 1)
	assert.Empty(t, ofType(c.do(typing(3000)), engine.OutCut), "a keystroke is not speech over the customer")
	outs := c.do(say(9000, "so sorry"))
	assert.Empty(t, ofType(outs, engine.OutCut))
	assert.Equal(t, 0.0, c.s.Vars()["sil"], "they started answering before the customer finished")
	assert.Equal(t, 3.0, c.s.Vars()["comp"], "composing counts from the end of her line when typing began during it")

	c = judgeCall(t, engine.SuggestOnRequest, 1)
	c.do(typing(2000))
	outs = c.do(say(3000, "sorry"))
	require.Len(t, ofType(outs, engine.OutCut), 1, "a message sent during the line still interrupts")
	assert.Equal(t, []string{"interrupted"}, ofType(outs, engine.OutTrainee)[0].Flags)
}

func TestTypingIsRefusedWhileRinging(t *testing.T) {
	s := loadOK(t, "judge").NewSession(1, "")
	s.Start(nil)
	_, err := s.Apply(typing(100), nil)
	assert.ErrorIs(t, err, engine.ErrNotAnswered)
	_, err = s.Apply(hint(100), nil)
	assert.ErrorIs(t, err, engine.ErrNotAnswered)
}

func TestHintsOnRequest(t *testing.T) {
	c := judgeCall(t, engine.SuggestOnRequest, 1)
	assert.Empty(t, ofType(c.outs, engine.OutChoices), "on request: no choices until a hint")
	_, err := c.s.Apply(choose(2000, 0), nil)
	assert.ErrorIs(t, err, engine.ErrBadChoice, "nothing is offered yet")

	outs := c.do(hint(3000))
	require.Equal(t, engine.OutHint, outs[0].Type)
	assert.Equal(t, 1, outs[0].Hints)
	assert.Empty(t, ofType(outs, engine.OutCut), "asking for a hint does not interrupt")
	assert.Equal(t, []string{"hinted"}, engine.FiredRules(outs), "rules see the hint, to score it")
	assert.Equal(t, 1.0, c.s.Vars()["hintcount"])
	ch := ofType(outs, engine.OutChoices)
	require.Len(t, ch, 1)
	assert.Equal(t, int64(6000), ch[0].At, "suggestions are timed at the end of the customer's line")
	assert.Len(t, ch[0].Choices, 3)
	assert.Equal(t, "ask", c.s.Node(), "a hint is no reply: the call stays")
	d, _ := c.s.NextDeadline()
	assert.Equal(t, int64(36000), d, "reading the suggestions is answering: timers hold from when they show (6 s)")

	_, err = c.s.Apply(hint(4000), nil)
	assert.ErrorIs(t, err, engine.ErrHintShown)
	c.do(choose(7000, 0))
	assert.Equal(t, "thanks", c.s.End().Ending)
	assert.Equal(t, 1, c.s.End().Hints)
	for _, a := range c.s.End().Scores {
		if a.Axis == "hints_used" {
			assert.True(t, a.Assessed)
			assert.Zero(t, a.Points)
		}
	}
}

func TestSuggestionModes(t *testing.T) {
	c := judgeCall(t, engine.SuggestNever, 1)
	assert.Empty(t, ofType(c.outs, engine.OutChoices))
	_, err := c.s.Apply(hint(7000), nil)
	assert.ErrorIs(t, err, engine.ErrNoHints)
	_, err = c.s.Apply(choose(7000, 0), nil)
	assert.ErrorIs(t, err, engine.ErrBadChoice)

	c = judgeCall(t, engine.SuggestAlways, 1)
	ch := ofType(c.outs, engine.OutChoices)
	require.Len(t, ch, 1, "beginner mode: choices after every line")
	assert.Equal(t, int64(6000), ch[0].At, "never before the line has ended")
	_, err = c.s.Apply(hint(7000), nil)
	assert.ErrorIs(t, err, engine.ErrHintsAlways, "no hint to ask for: they show anyway")

	s := loadOK(t, "judge").NewSession(1, "")
	assert.Equal(t, engine.SuggestOnRequest, s.Suggestions(), "the scenario's default")
	assert.Error(t, s.SetSuggestions("sometimes"))
	s.Start(nil)
	assert.Error(t, s.SetSuggestions(engine.SuggestNever), "the mode is fixed once the call started")
}

func TestChoiceOrderIsShuffledPerCallAndStable(t *testing.T) {
	order := func(seed uint64) []int {
		c := judgeCall(t, engine.SuggestAlways, seed)
		var idx []int
		for _, ch := range ofType(c.outs, engine.OutChoices)[0].Choices {
			idx = append(idx, ch.Index)
		}
		return idx
	}
	firsts := map[int]int{}
	for seed := uint64(1); seed <= 60; seed++ {
		o := order(seed)
		assert.ElementsMatch(t, []int{0, 1, 2}, o)
		assert.Equal(t, o, order(seed), "the same seed gives the same order (replays, tests)")
		firsts[o[0]]++
	}
	assert.Len(t, firsts, 3, "every reply comes first for some calls")
	for i, n := range firsts {
		assert.Greater(t, n, 8, "reply %d comes first in %d of 60 calls: not uniform enough", i, n)
	}
}

func TestHangupEndsTheCallAtOnce(t *testing.T) {
	c := judgeCall(t, engine.SuggestOnRequest, 1)
	outs := c.do(hangup(3000))
	require.True(t, c.s.Ended())
	assert.Equal(t, engine.OutCut, outs[0].Type, "the customer is cut off")
	assert.Empty(t, ofType(outs, engine.OutLine), "and says nothing more")
	assert.Empty(t, ofType(outs, engine.OutTrainee), "a hang-up is no reply")
	assert.Empty(t, ofType(outs, engine.OutChoices))
	assert.Equal(t, []string{"hung-up-mid-line"}, engine.FiredRules(outs), "rules see the hang-up")
	end := c.s.End()
	assert.Equal(t, "hung_up_on", end.Ending, "the node maps its hang-up to an ending")
	assert.Equal(t, "Hung up on the customer", end.Title)
	assert.Equal(t, "Hello? Did you just hang up on me?", end.LastLine, "its line is recorded, not spoken")
	assert.Equal(t, engine.OutcomeLost, end.Outcome)
	assert.False(t, end.Passed)
	assert.Equal(t, engine.NoteSilent, end.Note)

	// Without a mapping: the built-in hangup ending; the catch-all never sees it.
	c = judgeCall(t, engine.SuggestOnRequest, 1)
	c.do(say(7000, "hmm"))
	require.Equal(t, "ask_again", c.s.Node())
	outs = c.do(hangup(12000))
	assert.Equal(t, engine.HangupEnding, c.s.End().Ending)
	assert.Equal(t, engine.HangupTitle, c.s.End().Title)
	assert.Empty(t, ofType(outs, engine.OutLine))
	assert.Equal(t, engine.OutEnd, outs[len(outs)-1].Type)
}

func TestAxesCountOnlyWhenAssessed(t *testing.T) {
	// Ringing out: never answered, so it cannot pass; the axes it never touched are not
	// assessed and the one its timer scored is.
	s := loadOK(t, "judge").NewSession(1, "")
	s.Start(nil)
	_, err := s.Apply(engine.Event{Type: engine.EventTimeout, At: 20000}, nil)
	require.NoError(t, err)
	end := s.End()
	require.NotNil(t, end)
	assessed := map[string]bool{}
	for _, a := range end.Scores {
		assessed[a.Axis] = a.Assessed
		assert.GreaterOrEqual(t, a.Points, 0.0, "points are 0..max")
	}
	assert.Equal(t, map[string]bool{"care": false, "promptness": true, "ethics": false, "hints_used": false}, assessed)
	assert.False(t, end.Passed)
	assert.Equal(t, engine.NoteNotAnswered, end.Note)
	assert.Zero(t, end.Overall)

	// A good call: ethics, which nothing here can cost, stays out of the overall score.
	c := judgeCall(t, engine.SuggestOnRequest, 1)
	c.do(say(7000, "I'm sorry, I'll refund it"))
	end = c.s.End()
	for _, a := range end.Scores {
		assert.Equal(t, a.Axis != "ethics", a.Assessed, a.Axis)
	}
	assert.InDelta(t, 1.0, end.Overall, 1e-9)
	assert.True(t, end.Passed)
	assert.Empty(t, end.Note)

	// Answered but silent until the customer gave up: cannot pass.
	c = judgeCall(t, engine.SuggestOnRequest, 1)
	c.do(engine.Event{Type: engine.EventTimeout, At: 21000})
	d, _ := c.s.NextDeadline()
	c.do(engine.Event{Type: engine.EventTimeout, At: d})
	require.True(t, c.s.Ended())
	assert.Equal(t, engine.NoteSilent, c.s.End().Note)
	assert.False(t, c.s.End().Passed)
}

func TestModelReplyRidesWithTheTraineesMessage(t *testing.T) {
	c := judgeCall(t, engine.SuggestOnRequest, 1)
	tr := ofType(c.do(say(7000, "whatever")), engine.OutTrainee)
	require.Len(t, tr, 1)
	assert.Equal(t, "I'm so sorry. I'll refund you today.", tr[0].Model)
}

func TestJudgeTestFilePasses(t *testing.T) {
	sc := loadOK(t, "judge")
	cases, diags := engine.LoadTests(os.DirFS("testdata"), "ok/judge.test.yaml", sc)
	require.False(t, diags.HasErrors(), diags.Error())
	require.Len(t, cases, 5)
	for _, c := range cases {
		res := engine.RunTest(sc, c)
		assert.True(t, res.Passed(), "%s: %v\n%s", c.Name, res.Failures, engine.FormatTranscript(res.Transcript))
	}
}

func TestEndingsNeedATitle(t *testing.T) {
	src := []byte("id: t\ntitle: T\nbrief: B\nstart: a\nnodes:\n  a:\n    say: hi\n    transitions: [{when: 'true', to: done_well}]\n  done_well:\n    end: {outcome: resolved}\n")
	var diags engine.Diagnostics
	engine.LoadBytes(os.DirFS("."), "t.yaml", src, &diags)
	require.True(t, diags.HasErrors())
	assert.Contains(t, diags.Error(), "t.yaml:10:10: ending done_well needs a title")

	// A recorded call's sources predate the rule: they still replay, with a default title.
	sc, diags := engine.LoadSources([]engine.SourceFile{{Path: "t.yaml", Data: src}})
	require.NotNil(t, sc, diags.Error())
	assert.Equal(t, "Done well", sc.Node("done_well").End.Title)
}

// TestEarlyWayOutAssessesTheWaysNotTaken: what the trainee says at a node could have taken
// any of its ways on, so a hand-off checked before the ways that earn points (or a rule
// that ends the call) does not leave their axes out of the overall score.
func TestEarlyWayOutAssessesTheWaysNotTaken(t *testing.T) {
	sc := loadOK(t, "shortcut")
	for _, c := range []struct {
		name     string
		replies  []string
		ending   string
		assessed map[string]bool
		passed   bool
	}{
		{"a hand-off at once", []string{"let me get my manager"}, "passed_on",
			map[string]bool{"care": true, "resolution": true, "courtesy": true}, false},
		{"an apology, then a hand-off", []string{"im sorry", "let me get my manager"}, "passed_on",
			map[string]bool{"care": true, "resolution": true, "courtesy": true}, false},
		{"a rule that ends the call", []string{"whatever"}, "gone",
			map[string]bool{"care": true, "resolution": true, "courtesy": true}, false},
		{"the whole job at once", []string{"im sorry, here is a refund"}, "thanks",
			map[string]bool{"care": true, "resolution": true, "courtesy": true}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := sc.NewSession(1, "Ann")
			cl := &call{t: t, s: s, outs: s.Start(nil)}
			cl.do(answer(1000))
			at := int64(7000)
			for _, r := range c.replies {
				cl.do(say(at, r))
				at += 5000
			}
			end := s.End()
			require.NotNil(t, end)
			assert.Equal(t, c.ending, end.Ending)
			assessed := map[string]bool{}
			for _, a := range end.Scores {
				assessed[a.Axis] = a.Assessed
			}
			assert.Equal(t, c.assessed, assessed)
			assert.Equal(t, c.passed, end.Passed, "overall %.2f", end.Overall)
		})
	}

	// Silent until the node's timer: the replies it was waiting for were a chance too.
	s := sc.NewSession(1, "Ann")
	cl := &call{t: t, s: s, outs: s.Start(nil)}
	cl.do(answer(1000))
	cl.do(engine.Event{Type: engine.EventTimeout, At: 21000})
	d, _ := s.NextDeadline()
	cl.do(engine.Event{Type: engine.EventTimeout, At: d})
	require.True(t, s.Ended())
	for _, a := range s.End().Scores {
		assert.True(t, a.Assessed, a.Axis)
	}
}

// TestSilenceShowsOnlyThePointsNotEarned: a trainee who says nothing until the customer
// gives up has missed what the node's replies would have earned (assessed, at 0), but has
// not shown the courtesy they could only have lost there: that axis is not assessed, not
// full marks.
func TestSilenceShowsOnlyThePointsNotEarned(t *testing.T) {
	sc := loadInline(t, `id: silent
title: Silent
brief: b
persona: {name: Jo, wpm: 60}
intents:
  apology: ["sorry"]
  rude: ["whatever"]
scores:
  care: {max: 1}
  courtesy: {start: 1, max: 1}
start: ring
nodes:
  ring:
    ring: true
    transitions:
      - {when: 'event == "answer"', to: ask}
  ask:
    say: one two three
    transitions:
      - {when: 'said("rude")', to: gone, score: {courtesy: -1}}
      - {when: 'said("apology")', to: thanks, score: {care: 1}}
      - {when: 'true', to: gone}
      - {after: 15s, to: gone}
  thanks:
    say: thank you
    end: {title: Thanks, outcome: resolved}
  gone:
    say: bye
    end: {title: Gone, outcome: lost}
`)
	assessed := func(events ...engine.Event) map[string]bool {
		s := sc.NewSession(1, "Ann")
		cl := &call{t: t, s: s, outs: s.Start(nil)}
		cl.do(answer(1000))
		for _, ev := range events {
			cl.do(ev)
		}
		d, ok := s.NextDeadline()
		for ok && !s.Ended() {
			cl.do(engine.Event{Type: engine.EventTimeout, At: d})
			d, ok = s.NextDeadline()
		}
		require.True(t, s.Ended())
		m := map[string]bool{}
		for _, a := range s.End().Scores {
			m[a.Axis] = a.Assessed
		}
		return m
	}
	assert.Equal(t, map[string]bool{"care": true, "courtesy": false}, assessed(), "silent: care missed, courtesy not shown")
	assert.Equal(t, map[string]bool{"care": true, "courtesy": true}, assessed(say(6000, "hmm ok")), "a reply: both were a chance")
}

// TestAWayOnThroughARouterIsAChance: a reply that could have led, through a router, to
// points (the truth out, then an alternative offered) was a chance at them: a trainee who
// dodges every time is assessed at 0 on that axis, not "not assessed".
func TestAWayOnThroughARouterIsAChance(t *testing.T) {
	sc := loadInline(t, `id: dodge
title: Dodge
brief: b
persona: {name: Jo, wpm: 60}
intents:
  honest: ["we dont have"]
  alternative: ["comte"]
  dodge: ["let me check"]
scores:
  honesty: {max: 1}
  helpfulness: {max: 2}
start: ring
nodes:
  ring:
    ring: true
    transitions:
      - {when: 'event == "answer"', to: ask}
  ask:
    say: one two three
    transitions:
      - {when: 'said("honest")', to: truth, score: {honesty: 1}}
      - {when: 'true', to: gone}
  truth:
    transitions:
      - {when: 'said("alternative")', to: sold, score: {helpfulness: 2}}
      - {when: 'true', to: sold}
  sold:
    say: thanks
    end: {title: Sold, outcome: resolved}
  gone:
    say: bye
    end: {title: Gone, outcome: lost}
`)
	s := sc.NewSession(1, "Ann")
	cl := &call{t: t, s: s, outs: s.Start(nil)}
	cl.do(answer(1000))
	cl.do(say(6000, "let me check"))
	require.True(t, s.Ended())
	for _, a := range s.End().Scores {
		assert.True(t, a.Assessed, "%s: the reply could have earned it", a.Axis)
	}
	// What the debrief calls "not earned here" counts the router's points too.
	assert.Equal(t, []engine.AxisDelta{{Axis: "honesty", Delta: 1}, {Axis: "helpfulness", Delta: 2}}, sc.Offers("ask"))
	assert.Nil(t, sc.Offers("no-such-node"))
}

// TestTranscriptShowsScoresAndUnassessedAxes: the transcript that `switchboard test` and
// `play` print names each score change, and its end line does not show points for an axis
// the call never assessed.
func TestTranscriptShowsScoresAndUnassessedAxes(t *testing.T) {
	s := loadOK(t, "judge").NewSession(1, "Ann")
	c := &call{t: t, s: s, outs: s.Start(nil)}
	c.do(answer(1000))
	c.do(say(7000, "I'm sorry, I'll refund it"))
	text := engine.FormatTranscript(c.outs)
	assert.Contains(t, text, "  score care +2\n")
	assert.Contains(t, text, "end: thanks (resolved) PASSED, overall 100% [care 2/2, promptness 2/2, ethics not assessed, hints_used 1/1]\n")

	s = loadOK(t, "judge").NewSession(1, "Ann")
	outs := s.Start(nil)
	outs, err := s.Apply(engine.Event{Type: engine.EventTimeout, At: 20000}, outs)
	require.NoError(t, err)
	text = engine.FormatTranscript(outs)
	assert.Contains(t, text, "  score promptness -2\n")
	assert.Contains(t, text, "end: rang_out (lost) FAILED, overall 0% [care not assessed, promptness 0/2, ethics not assessed, hints_used not assessed] "+engine.NoteNotAnswered+"\n")
}

// TestAnsweringIsNoChanceAtTheRules: picking up the phone shows promptness (the ring's
// timer scores it) but is no chance to interrupt, repeat or ask for hints: a call hung up
// before a word leaves the rules' axes unassessed.
func TestAnsweringIsNoChanceAtTheRules(t *testing.T) {
	s := loadOK(t, "judge").NewSession(1, "Ann")
	c := &call{t: t, s: s, outs: s.Start(nil)}
	c.do(answer(1000))
	c.do(hangup(3000))
	end := s.End()
	require.NotNil(t, end)
	assessed := map[string]bool{}
	for _, a := range end.Scores {
		assessed[a.Axis] = a.Assessed
	}
	assert.Equal(t, map[string]bool{"care": false, "promptness": true, "ethics": false, "hints_used": false}, assessed)
	assert.Equal(t, engine.NoteSilent, end.Note)
}

// TestSilenceIsJudgedWhenTheCustomerGivesUpWaiting: the global rules see a timer that
// fires while the customer waits for a reply (event "timeout"), with the silence up to it;
// they score it but do not move the call.
func TestSilenceIsJudgedWhenTheCustomerGivesUpWaiting(t *testing.T) {
	sc := loadOK(t, "timeoutrules")
	for _, c := range []struct {
		name   string
		events []engine.Event
		fired  []string
		node   string
	}{
		// The line "one two three" ends at 4 s; ask's timer is due 15 s later.
		{"silent until the timer", []engine.Event{{Type: engine.EventTimeout, At: 19000}}, []string{"slow"}, "nudge"},
		{"typing from 5 s, past the compose limit", []engine.Event{typing(5000), {Type: engine.EventTimeout, At: 35000}}, []string{"long-compose"}, "nudge"},
		{"a reply in time", []engine.Event{say(10000, "hello")}, nil, "done"},
		// The keystroke at ask does not carry over to the next line: the silence after
		// nudge's line (ends at 36 s) counts.
		{"typing past the limit, then silent at the next line", []engine.Event{typing(5000), {Type: engine.EventTimeout, At: 35000}, say(52000, "hello")}, []string{"long-compose", "slow"}, "done"},
		// nudge has only a timer: the customer is not waiting for a reply there.
		{"silent through a node that waits for nobody", []engine.Event{{Type: engine.EventTimeout, At: 19000}, {Type: engine.EventTimeout, At: 60000}}, []string{"slow"}, "done"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := sc.NewSession(1, "Ann")
			cl := &call{t: t, s: s, outs: s.Start(nil)}
			cl.do(answer(1000))
			var fired []string
			for _, ev := range c.events {
				fired = append(fired, engine.FiredRules(cl.do(ev))...)
			}
			assert.Equal(t, c.fired, fired)
			assert.Equal(t, c.node, s.Node())
		})
	}
}

// TestHangingUpOnAClosingLineEndsWhereTheCallWasGoing: a hang-up while the customer says a
// last line on the way to an ending (no reply awaited, one timer straight to the ending)
// ends there; a hang-up while the customer waits for a reply is the built-in hangup.
func TestHangingUpOnAClosingLineEndsWhereTheCallWasGoing(t *testing.T) {
	sc := loadOK(t, "closing")
	s := sc.NewSession(1, "Ann")
	c := &call{t: t, s: s, outs: s.Start(nil)}
	c.do(answer(1000))
	c.do(say(5000, "so sorry"))
	require.Equal(t, "closing", s.Node())
	c.do(hangup(7000)) // two words into "thank you so much goodbye now"
	end := s.End()
	require.NotNil(t, end)
	assert.Equal(t, "thanked", end.Ending)
	assert.Equal(t, engine.OutcomeResolved, end.Outcome)
	assert.True(t, end.Passed)

	s = sc.NewSession(1, "Ann")
	c = &call{t: t, s: s, outs: s.Start(nil)}
	c.do(answer(1000))
	c.do(say(5000, "hmm"))
	c.do(hangup(9000))
	assert.Equal(t, engine.HangupEnding, s.End().Ending)
	assert.False(t, s.End().Passed)
}

// TestAFailingTimerIsSpent: a timer that cannot move the call (here, one sub-flow too
// many) reports the error once and is spent until the trainee acts; it does not fire
// again at the same moment for ever, and the trainee can still end the call.
func TestAFailingTimerIsSpent(t *testing.T) {
	sc := loadOK(t, "deepflow")
	s := sc.NewSession(1, "Ann")
	c := &call{t: t, s: s, outs: s.Start(nil)}
	c.do(answer(1000))
	errs := 0
	for i := 0; i < 1000; i++ {
		d, ok := s.NextDeadline()
		if !ok {
			break
		}
		errs += len(ofType(c.do(engine.Event{Type: engine.EventTimeout, At: d}), engine.OutError))
	}
	_, due := s.NextDeadline()
	assert.False(t, due, "the failing timer is spent")
	assert.Equal(t, 1, errs, "the error is reported once")
	assert.Equal(t, "ask", s.Node())
	c.do(say(s.Now()+1000, "bye"))
	assert.Equal(t, "done", s.End().Ending)
}

// TestTypingDoesNotStopTwoLines: typing during the first of two lines in a row does not
// freeze the customer before the second (that node waits for nobody); the node that waits
// for the reply holds its timer while the trainee types.
func TestTypingDoesNotStopTwoLines(t *testing.T) {
	s := loadOK(t, "twolines").NewSession(1, "Ann")
	c := &call{t: t, s: s, outs: s.Start(nil)}
	c.do(answer(1000))
	c.do(typing(2000)) // during "my card was used" (1 s to 5 s)
	d, ok := s.NextDeadline()
	require.True(t, ok)
	assert.Equal(t, int64(5000), d, "the second line follows the first at once")
	c.do(engine.Event{Type: engine.EventTimeout, At: d})
	require.Equal(t, "second", s.Node())
	d, _ = s.NextDeadline()
	assert.Equal(t, int64(32000), d, "second's 10 s timer waits for the compose limit from the keystroke at 2 s")
	c.do(say(20000, "ill block it now"))
	assert.Equal(t, "done", s.End().Ending)
}

// TestSaidLastReadsTheReplyBefore: said_last() is what the trainee's previous reply meant:
// a global rule sees it at the next reply and at a timer, and a router the reply leads
// through still sees the one before (it runs in the same step). It is how the time pack
// gives an announced wait ("let me check") 30 s before a silence costs a point.
func TestSaidLastReadsTheReplyBefore(t *testing.T) {
	sc := loadInline(t, `id: last
title: Last
brief: b
persona: {name: Jo, wpm: 60}
intents:
  wait: ["let me check"]
  found: ["found it"]
vars:
  before: false
  routed: false
  timed: false
rules:
  - {id: seen-before, when: '(event == "say" || event == "timeout") && said_last("wait")', set: {before: true}}
  - {id: not-before, when: 'event == "say" && !said_last("wait")', set: {before: false}}
  - {id: timed, when: 'event == "timeout" && said_last("wait")', set: {timed: true}}
start: ring
nodes:
  ring:
    ring: true
    transitions:
      - {when: 'event == "answer"', to: ask}
  ask:
    say: one two three
    transitions:
      - {when: 'said("wait")', to: route}
      - {when: 'said("found")', to: done}
      - {after: 20s, to: ask}
  route:
    transitions:
      - {when: 'said_last("wait")', to: ask, set: {routed: true}}
      - {when: 'true', to: ask}
  done:
    say: thanks
    end: {title: Done, outcome: resolved}
`)
	s := sc.NewSession(1, "Ann")
	cl := &call{t: t, s: s, outs: s.Start(nil)}
	cl.do(answer(1000))
	cl.do(say(5000, "ok"))
	assert.Equal(t, false, s.Vars()["before"], "the first reply has none before it")
	cl.do(say(6000, "let me check"))
	assert.Equal(t, false, s.Vars()["before"], "a rule reads the reply before, not this one")
	assert.Equal(t, false, s.Vars()["routed"], "so does a router the reply leads through")
	cl.do(engine.Event{Type: engine.EventTimeout, At: 40000})
	assert.Equal(t, true, s.Vars()["timed"], "a timer reads the last reply")
	cl.do(say(45000, "found it"))
	assert.Equal(t, true, s.Vars()["before"], "the next reply reads it")
	require.True(t, s.Ended())
}

// TestTranscriptShowsTheMoodsChangeAndLevel: a mood line says how far the mood moved and
// where it is now (it used to show only the level, so a fall to 0 read as "+0.00").
func TestTranscriptShowsTheMoodsChangeAndLevel(t *testing.T) {
	sc := loadInline(t, `id: moody
title: Moody
brief: b
persona: {name: Jo, wpm: 60, mood: 0.2}
intents:
  dodge: ["let me check"]
start: ring
nodes:
  ring:
    ring: true
    transitions:
      - {when: 'event == "answer"', to: ask}
  ask:
    say: one two three
    transitions:
      - {when: 'said("dodge")', to: gone, set: {mood: mood - 0.2}}
  gone:
    say: bye
    end: {title: Gone, outcome: lost}
`)
	s := sc.NewSession(1, "Ann")
	cl := &call{t: t, s: s, outs: s.Start(nil)}
	cl.do(answer(1000))
	cl.do(say(6000, "let me check"))
	assert.Contains(t, engine.FormatTranscript(cl.outs), "  mood -0.20, now +0.00\n")
}

// TestHangingUpGivesUpTheNodesWaysOn: one good reply, then a hang-up while the customer
// answers, scored 100% (an outside supervisor's trainee): what the node the trainee hung
// up at could have earned is missed, as when a customer gives up on a silence.
func TestHangingUpGivesUpTheNodesWaysOn(t *testing.T) {
	sc := loadInline(t, `id: hang
title: Hang
brief: b
persona: {name: Jo, wpm: 60}
intents:
  hello: ["hello"]
  fix: ["i will fix it"]
scores:
  tone: {max: 1}
  help: {max: 2}
start: ring
nodes:
  ring:
    ring: true
    transitions:
      - {when: 'event == "answer"', to: ask}
  ask:
    say: one two
    transitions:
      - {when: 'said("hello")', to: problem, score: {tone: 1}}
  problem:
    say: my laptop is broken and i need it
    transitions:
      - {when: 'said("fix")', to: done, score: {help: 2}}
  done:
    say: thanks
    end: {title: Done, outcome: resolved}
`)
	s := sc.NewSession(1, "Ann")
	cl := &call{t: t, s: s, outs: s.Start(nil)}
	cl.do(answer(1000))
	cl.do(say(4000, "hello"))
	cl.do(hangup(6000))
	end := s.End()
	require.NotNil(t, end)
	assert.Equal(t, engine.HangupEnding, end.Ending)
	assert.False(t, end.Passed)
	scores := map[string]engine.AxisScore{}
	for _, a := range end.Scores {
		scores[a.Axis] = a
	}
	assert.True(t, scores["help"].Assessed, "the help the node offered was given up")
	assert.Equal(t, 0.0, scores["help"].Points)
	assert.Less(t, end.Overall, 1.0)
}

// TestATimerWhileTypingJudgesNoSilence: a customer who gave up while the trainee was still
// typing moves on (the timer's set and way on), but the timer's score and feedback, which
// judge a silence, do not apply: an outside trainee typing a 58-word honest answer at 40
// wpm was told "Saying nothing is a dodge" and lost an honesty point.
func TestATimerWhileTypingJudgesNoSilence(t *testing.T) {
	src := `id: typer
title: Typer
brief: b
persona: {name: Jo, wpm: 60}
compose_limit: 20s
intents:
  honest: ["we dont have"]
scores:
  honesty: {max: 1}
start: ring
nodes:
  ring:
    ring: true
    transitions:
      - {when: 'event == "answer"', to: ask}
  ask:
    say: one two three
    transitions:
      - {when: 'said("honest")', to: done, score: {honesty: 1}}
      - {after: 10s, to: gone, set: {mood: mood - 0.5}, score: {honesty: -1}, feedback: Saying nothing is a dodge.}
  gone:
    say: bye
    end: {title: Gone, outcome: lost}
  done:
    say: thanks
    end: {title: Done, outcome: resolved}
`
	for _, c := range []struct {
		name  string
		typed bool
	}{{"silent", false}, {"typing", true}} {
		t.Run(c.name, func(t *testing.T) {
			sc := loadInline(t, src)
			s := sc.NewSession(1, "Ann")
			cl := &call{t: t, s: s, outs: s.Start(nil)}
			cl.do(answer(1000))
			if c.typed {
				cl.do(typing(5000)) // the line ended at 4 s
			}
			d, ok := s.NextDeadline()
			require.True(t, ok)
			outs := cl.do(engine.Event{Type: engine.EventTimeout, At: d})
			require.True(t, s.Ended())
			assert.Equal(t, "gone", s.End().Ending, "the customer moves on either way")
			assert.InDelta(t, -0.5, s.Mood(), 1e-9, "the timer's set applies either way")
			fb := ofType(outs, engine.OutFeedback)
			if c.typed {
				assert.Empty(t, fb, "no silence feedback for a trainee who was typing")
				assert.Empty(t, ofType(outs, engine.OutScore))
			} else {
				require.Len(t, fb, 1)
				assert.Equal(t, "Saying nothing is a dodge.", fb[0].Text)
			}
		})
	}
}

// TestHangingUpAfterTheThanksEndsWhereSilenceWould: an outside trainee hung up after
// hard-sell's "That's exactly what I needed, thank you" and the call was lost and failed
// at 88%. Where the customer's timer leads straight to a resolved ending (silence would
// have ended the call well), a hang-up ends it there, without what a goodbye earns; where
// it leads anywhere else, a hang-up is still the built-in lost ending, now saying why an
// overall above the pass mark does not pass.
func TestHangingUpAfterTheThanksEndsWhereSilenceWould(t *testing.T) {
	sc := loadInline(t, `id: bye
title: Bye
brief: b
persona: {name: Jo, wpm: 60}
intents:
  fix: ["i will fix it"]
  try: ["try restarting"]
  bye: ["goodbye"]
scores:
  help: {max: 1}
  manners: {max: 1}
pass: 0.5
start: ring
nodes:
  ring:
    ring: true
    transitions:
      - {when: 'event == "answer"', to: ask}
  ask:
    say: my laptop is broken
    transitions:
      - {when: 'said("fix")', to: thanks, score: {help: 1}}
      - {when: 'said("try")', to: trying, score: {help: 1}}
      - {after: 20s, to: still_there}
  trying:
    say: ok let me try that
    transitions:
      - {when: 'true', to: done}
      - {after: 20s, to: still_there}
  still_there:
    say: hello, are you there
    transitions:
      - {when: 'said("fix")', to: thanks, score: {help: 1}}
      - {after: 20s, to: gone}
  thanks:
    say: thank you so much
    transitions:
      - {when: 'said("bye")', to: done, score: {manners: 1}}
      - {when: 'true', to: done}
      - {after: 10s, to: done, feedback: She thanked you and heard nothing for ten seconds.}
  done:
    say: bye then
    end: {title: Done, outcome: resolved}
  gone:
    end: {title: Gone, outcome: lost}
`)
	s := sc.NewSession(1, "Ann")
	cl := &call{t: t, s: s, outs: s.Start(nil)}
	cl.do(answer(1000))
	cl.do(say(5000, "i will fix it"))
	outs := cl.do(hangup(9000)) // after "thank you so much"
	fb := ofType(outs, engine.OutFeedback)
	require.Len(t, fb, 1)
	assert.Equal(t, "You hung up while Jo was still waiting for your reply.", fb[0].Text,
		"not the timer's feedback: she did not sit through a silence")
	end := s.End()
	require.NotNil(t, end)
	assert.Equal(t, "done", end.Ending, "as silence would have ended it")
	assert.Equal(t, engine.OutcomeResolved, end.Outcome)
	assert.True(t, end.Passed)
	assert.InDelta(t, 0.5, end.Overall, 1e-9, "the goodbye's manners point was given up")
	assert.Empty(t, end.Note)

	// Hanging up on a customer who waits (her timer asks if you are still there) is lost;
	// scores at the pass mark get the reason.
	s = sc.NewSession(1, "Ann")
	cl = &call{t: t, s: s, outs: s.Start(nil)}
	cl.do(answer(1000))
	cl.do(say(5000, "try restarting"))
	cl.do(hangup(9000))
	end = s.End()
	require.NotNil(t, end)
	assert.Equal(t, engine.HangupEnding, end.Ending)
	assert.Equal(t, engine.OutcomeLost, end.Outcome)
	assert.False(t, end.Passed)
	assert.InDelta(t, 1.0, end.Overall, 1e-9, "the overall stays")
	assert.Equal(t, engine.NoteLost, end.Note)
}

// TestAnAnnouncedWaitHoldsTheCustomersTimers: after "let me think for a second" (the
// advice ignored-phone's own feedback gives) an outside trainee looked for 15 s and the
// customer gave up on them at her 15-second timer. A reply meaning wait_announced now
// holds the timers of a node that waits for a reply until hold_limit (30 s by default)
// after it, as typing holds them until compose_limit.
func TestAnAnnouncedWaitHoldsTheCustomersTimers(t *testing.T) {
	src := `id: hold
title: Hold
brief: b
persona: {name: Jo, wpm: 60}
%s
intents:
  wait_announced: ["let me check"]
  fix: ["restart it"]
scores:
  help: {max: 1}
start: ring
nodes:
  ring:
    ring: true
    transitions:
      - {when: 'event == "answer"', to: ask}
  ask:
    say: one two
    transitions:
      - {when: 'said("fix")', to: done, score: {help: 1}}
      - {when: 'true', to: again}
      - {after: 10s, to: gone}
  again:
    say: hello
    transitions:
      - {when: 'said("fix")', to: done, score: {help: 1}}
      - {after: 10s, to: gone}
  done:
    end: {title: Done, outcome: resolved}
  gone:
    end: {title: Gone, outcome: lost}
`
	for _, tc := range []struct {
		name, limit, reply string
		want               int64
	}{
		// The reply at 5 s leads to "again", whose line (1 word) ends at 6 s.
		{"an announced wait holds the timer 30 s from the reply", "", "let me check", 35_000},
		{"hold_limit sets the hold", "hold_limit: 20s", "let me check", 25_000},
		{"hold_limit 0s: no hold", "hold_limit: 0s", "let me check", 16_000},
		{"another reply: no hold", "", "hmm", 16_000},
		{"a hold shorter than the timer changes nothing", "hold_limit: 5s", "let me check", 16_000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc := loadInline(t, fmt.Sprintf(src, tc.limit))
			s := sc.NewSession(1, "Ann")
			cl := &call{t: t, s: s, outs: s.Start(nil)}
			cl.do(answer(1000))
			cl.do(say(5000, tc.reply))
			require.Equal(t, "again", s.Node())
			d, ok := s.NextDeadline()
			require.True(t, ok)
			assert.Equal(t, tc.want, d)
		})
	}
}

// TestACriticalRuleFailsTheCall: an outside trainee told a widow "sorry for your loss.
// anyway, account number? i havent got all day" and passed at 96%: the condolence words
// earned the tone point, and a weighted mean let them carry the put-down. A rule with
// critical: true fails the call whatever its scores, and says so; the overall stays.
func TestACriticalRuleFailsTheCall(t *testing.T) {
	src := `id: crit
title: Crit
brief: b
persona: {name: Jo, wpm: 60}
intents:
  fix: ["restart it"]
  rude: ["not rocket science"]
scores:
  help: {max: 1, weight: 3}
  manners: {max: 1, start: 1}
pass: 0.5
start: ring
rules:
  - {id: put-down, when: 'said("rude")', critical: %v, score: {manners: -1}}
nodes:
  ring:
    ring: true
    transitions:
      - {when: 'event == "answer"', to: ask}
  ask:
    say: my laptop is broken
    transitions:
      - {when: 'said("fix")', to: done, score: {help: 1}}
  done:
    end: {title: Done, outcome: resolved}
`
	for _, critical := range []bool{false, true} {
		sc := loadInline(t, fmt.Sprintf(src, critical))
		s := sc.NewSession(1, "Ann")
		cl := &call{t: t, s: s, outs: s.Start(nil)}
		cl.do(answer(1000))
		cl.do(say(5000, "its not rocket science, restart it"))
		end := s.End()
		require.NotNil(t, end)
		assert.InDelta(t, 0.75, end.Overall, 1e-9)
		assert.Equal(t, !critical, end.Passed, "critical: %v", critical)
		if critical {
			assert.Equal(t, fmt.Sprintf(engine.NoteCritical, "put-down"), end.Note)
		} else {
			assert.Empty(t, end.Note)
		}
	}
}

// A hold ends when the customer moves on without the trainee: the timer that ends it is
// judged as the hold running out, the next silence as a silence (an outside trainee's
// "sure, one sec" drew the long-hold feedback twice, the second time at a new question).
func TestAHoldEndsWhenATimerMovesTheCall(t *testing.T) {
	sc := loadInline(t, `id: holdend
title: Hold end
brief: b
persona: {name: Jo, wpm: 60}
vars: {holds: 0, silences: 0}
intents:
  wait_announced: ["one sec"]
  fix: ["restart it"]
start: ring
rules:
  - {id: hold, when: 'event == "timeout" && said_last("wait_announced")', set: {holds: holds + 1}}
  - {id: quiet, when: 'event == "timeout" && !said_last("wait_announced")', set: {silences: silences + 1}}
nodes:
  ring:
    ring: true
    transitions:
      - {when: 'event == "answer"', to: ask}
  ask:
    say: one two
    transitions:
      - {when: 'said("fix")', to: done}
      - {when: 'true', to: tried}
  tried:
    say: it fits how much is it
    transitions:
      - {when: 'said("fix")', to: done}
      - {after: 10s, to: again}
  again:
    say: sorry how much
    transitions:
      - {when: 'said("fix")', to: done}
      - {after: 10s, to: gone}
  done:
    end: {title: Done, outcome: resolved}
  gone:
    end: {title: Gone, outcome: lost}
`)
	s := sc.NewSession(1, "Ann")
	cl := &call{t: t, s: s, outs: s.Start(nil)}
	cl.do(answer(1000))
	cl.do(say(4000, "sure, one sec")) // "tried" (6 words) ends at 10 s; held until 34 s
	d, ok := s.NextDeadline()
	require.True(t, ok)
	assert.Equal(t, int64(34_000), d, "the hold keeps her timer waiting")
	cl.do(engine.Event{Type: engine.EventTimeout, At: d})
	require.Equal(t, "again", s.Node())
	d, ok = s.NextDeadline()
	require.True(t, ok)
	assert.Equal(t, int64(47_000), d, "her new line (3 words) ends at 37 s: 10 s later, no hold")
	cl.do(engine.Event{Type: engine.EventTimeout, At: d})
	assert.Equal(t, 1.0, toFloat(s.Vars()["holds"]), "the hold ran out once")
	assert.Equal(t, 1.0, toFloat(s.Vars()["silences"]), "then a silence")
}

func toFloat(v any) float64 {
	switch x := v.(type) {
	case int:
		return float64(x)
	case float64:
		return x
	}
	return -1
}

// A call that ends well with scores below the pass mark says why it did not pass: its
// ending's text ("he left happy") may praise what went right (an outside trainee saw
// "sold_happy FAILED" with no word of why).
func TestAGoodEndingBelowThePassMarkSaysWhy(t *testing.T) {
	sc := loadInline(t, `id: below
title: Below
brief: b
persona: {name: Jo, wpm: 60}
intents:
  fix: ["i will fix it"]
scores:
  help: {max: 2}
pass: 0.85
start: ask
nodes:
  ask:
    say: my laptop is broken
    transitions:
      - {when: 'said("fix")', to: done, score: {help: 2}}
      - {when: 'true', to: done, score: {help: 1}}
  done:
    end: {title: Done, outcome: resolved, text: She left happy.}
`)
	c := newCall(t, sc)
	c.do(say(5000, "try turning it off"))
	end := c.s.End()
	require.NotNil(t, end)
	assert.False(t, end.Passed)
	assert.Equal(t, "The overall, 50%, is below the pass mark of 85%: see where points were lost.", end.Note)

	c = newCall(t, sc)
	c.do(say(5000, "i will fix it"))
	require.True(t, c.s.End().Passed)
	assert.Empty(t, c.s.End().Note, "a pass needs no note")
}
