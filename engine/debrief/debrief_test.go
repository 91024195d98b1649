package debrief_test

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/engine"
	"github.com/switchboard-sim/switchboard/engine/debrief"
	"github.com/switchboard-sim/switchboard/engine/journal"
	"github.com/switchboard-sim/switchboard/engine/xapi/xapitest"
)

var update = flag.Bool("update", false, "rewrite the golden files")

var started = time.Date(2026, 11, 22, 9, 30, 0, 0, time.UTC)

func TestBuildFinishedCall(t *testing.T) {
	c, entries, res := xapitest.FixtureCall("call-1", started)
	r, err := debrief.Build(c, entries, res)
	require.NoError(t, err)
	assert.False(t, r.Open)
	require.NotNil(t, r.End)
	assert.Equal(t, "done", r.End.Ending)
	assert.True(t, r.Passed())
	assert.Equal(t, "Pat", r.Customer)

	var who []string
	for _, it := range r.Transcript {
		who = append(who, it.Who)
	}
	assert.Equal(t, []string{"call", "call", "customer", "trainee", "customer", "trainee", "customer"}, who)
	cut := r.Transcript[2]
	assert.True(t, cut.Cut, "the greeting was cut off")
	assert.Equal(t, "Hello, my", cut.Text, "only the words spoken")
	assert.Equal(t, 2, cut.Spoken)
	assert.Equal(t, "Hello, my kettle broke after one day and I want my money back.", cut.Full)
	assert.Equal(t, []string{"interrupted"}, r.Transcript[3].Flags)
	assert.Equal(t, []engine.AxisDelta{{Axis: "care", Delta: 2}}, r.Transcript[3].Missed, "the model answer there earns care +2 (the apology rule and the way on), the reply earned none")
	assert.Empty(t, r.Transcript[5].Missed, "the apology and refund earned what the node offered")
	assert.Equal(t, "annoyed", r.Transcript[4].Emotion, "the line's emotion tag is in the transcript")
	assert.Empty(t, r.Transcript[6].Emotion)

	var fired []string
	for _, f := range r.Fired {
		fired = append(fired, f.Rule)
	}
	assert.Equal(t, []string{"interrupting", "apology"}, fired)
	require.Len(t, r.Quiet, 1)
	assert.Equal(t, "slow_answer", r.Quiet[0].ID, "the rule that never fired")
	assert.Equal(t, "The phone rang for a long time.", r.Quiet[0].Feedback)

	var text bytes.Buffer
	require.NoError(t, r.WriteText(&text))
	golden(t, "finished.txt", text.Bytes())
}

func TestBuildOpenCall(t *testing.T) {
	c, entries, _ := xapitest.FixtureCall("call-2", started)
	r, err := debrief.Build(c, entries[:2], nil)
	require.NoError(t, err)
	assert.True(t, r.Open)
	assert.Nil(t, r.End)
	assert.Equal(t, int64(1700), r.Elapsed)
	var text bytes.Buffer
	require.NoError(t, r.WriteText(&text))
	assert.Contains(t, text.String(), "the call is still open")
}

func TestBuildRefusesBadRecords(t *testing.T) {
	c, entries, res := xapitest.FixtureCall("call-3", started)
	broken := c
	broken.Sources = []engine.SourceFile{{Path: "refund.yaml", Data: []byte("id: [")}}
	_, err := debrief.Build(broken, entries, res)
	assert.ErrorIs(t, err, debrief.ErrScenario)

	backwards := append([]journal.Entry(nil), entries...)
	backwards[2].Event.At = 10
	_, err = debrief.Build(c, backwards, res)
	assert.ErrorContains(t, err, "replaying entry 3")
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -update to create %s", path)
	assert.Equal(t, string(want), string(got))
}

func TestMergeFiredSaysHowOften(t *testing.T) {
	got := debrief.MergeFired([]debrief.Fired{
		{At: 1000, Rule: "interrupting", Text: "You spoke over Pat."},
		{At: 2000, Rule: "", Text: "Honest, good."},
		{At: 3000, Rule: "interrupting", Text: "You spoke over Pat."},
		{At: 4000, Rule: "interrupting", Text: "You spoke over Pat."},
	})
	assert.Equal(t, []debrief.MergedFired{
		{Rule: "interrupting", Text: "You spoke over Pat.", At: []int64{1000, 3000, 4000}},
		{Text: "Honest, good.", At: []int64{2000}},
	}, got)
}

func TestWhispersAreCoaching(t *testing.T) {
	c, entries, res := xapitest.FixtureCall("call-4", started)
	// A supervisor whispered after the answer (entries[0]), before the next input.
	w := journal.Entry{ClientID: "whisper:w1", Event: engine.Event{Type: engine.EventWhisper, At: entries[0].Event.At + 100, Text: "let her finish"}}
	withWhisper := append([]journal.Entry{entries[0], w}, entries[1:]...)
	for i := range withWhisper {
		withWhisper[i].Seq = int64(i + 1)
	}
	r, err := debrief.Build(c, withWhisper, res)
	require.NoError(t, err)
	require.Equal(t, []debrief.Coached{{At: w.Event.At, Text: "let her finish"}}, r.Coached)
	var found bool
	for _, it := range r.Transcript {
		if it.Who == "supervisor" {
			found = true
			assert.Equal(t, "let her finish", it.Text)
			assert.Equal(t, w.Event.At, it.At)
		}
	}
	assert.True(t, found, "the whisper is in the transcript")
	plain, err := debrief.Build(c, entries, res)
	require.NoError(t, err)
	assert.Equal(t, plain.End, r.End, "a whisper changes nothing in the judgement")
	var text bytes.Buffer
	require.NoError(t, r.WriteText(&text))
	assert.Contains(t, text.String(), debrief.CoachedLine(r.Coached[0]))
	assert.Equal(t, "coached at 0:42: slow down", debrief.CoachedLine(debrief.Coached{At: 42_500, Text: "slow down"}))
}

// TestModelOnlyWhereAReplyFellShort: the strong answer is shown beside a reply that lost
// points or made a rule with feedback fire, not beside one that only made a mood-rule fire.
func TestModelOnlyWhereAReplyFellShort(t *testing.T) {
	const src = `id: m
title: M
brief: b
persona: {name: Jo, wpm: 60}
intents: {sorry: ["sorry"], rude: ["whatever"]}
scores: {care: {max: 1}}
rules:
  - {id: warmer, when: 'said("sorry")', set: {mood: mood + 0.2}}
  - {id: rude, when: 'said("rude")', feedback: That was rude.}
start: ring
nodes:
  ring: {ring: true, transitions: [{when: 'event == "answer"', to: ask}]}
  ask:
    say: hello
    model: I am so sorry.
    transitions:
      - {when: 'said("sorry")', to: done, score: {care: 1}}
      - {when: 'true', to: ask}
  done: {end: {title: Done, outcome: resolved}}
`
	sc := loadString(t, src)
	for _, c := range []struct {
		reply string
		model bool
	}{{"so sorry", false}, {"whatever", true}} {
		rec := answerAndSay(t, sc, c.reply)
		var model string
		for _, it := range rec.Transcript {
			if it.Who == "trainee" {
				model = it.Model
			}
		}
		assert.Equal(t, c.model, model != "", "%q: model %q", c.reply, model)
	}
}

// TestTheModelAnswerMissesNothing: "not earned here" measures a reply against the node's
// model answer, not against the most any way on gives. An outside supervisor saw a
// trainee type ignored-phone's model answer word for word and be told "not earned here:
// helpfulness +1" (a hard reset there gives +2, the model's diagnosis +1), with the same
// sentence shown as the strong answer.
func TestTheModelAnswerMissesNothing(t *testing.T) {
	const src = `id: m
title: M
brief: b
persona: {name: Pat, wpm: 400}
intents:
  check: ["is it plugged in"]
  reset: ["hold the power button"]
  sorry: ["sorry"]
scores:
  help: {max: 2}
  care: {max: 1}
rules:
  - {id: kind, when: 'said("sorry")', score: {care: 1}}
start: ring
nodes:
  ring:
    ring: true
    transitions:
      - {when: 'event == "answer"', to: ask}
  ask:
    say: Hi
    model: "So sorry. Is it plugged in?"
    transitions:
      - {when: 'said("reset")', to: done, score: {help: 2}}
      - {when: 'said("check")', to: done, score: {help: 1}}
      - {when: 'true', to: ask}
  done: {end: {title: Done, outcome: resolved}}
`
	sc := loadString(t, src)
	for _, c := range []struct {
		reply  string
		missed []engine.AxisDelta
	}{
		{"So sorry. Is it plugged in?", nil},                                                   // the model itself
		{"sorry about that, is it plugged in at the wall", nil},                                // as good as the model
		{"hold the power button for 15 seconds", []engine.AxisDelta{{Axis: "care", Delta: 1}}}, // more help, no care
		{"whatever", []engine.AxisDelta{{Axis: "help", Delta: 1}, {Axis: "care", Delta: 1}}},
	} {
		rec := answerAndSay(t, sc, c.reply)
		var missed []engine.AxisDelta
		for _, it := range rec.Transcript {
			if it.Who == "trainee" {
				missed = it.Missed
			}
		}
		assert.Equal(t, c.missed, missed, "%q", c.reply)
	}
	// ModelEarns leaves the session as it was.
	s := sc.NewSession(1, "Ann")
	s.Start(nil)
	_, err := s.Apply(engine.Event{Type: engine.EventAnswer, At: 1000}, nil)
	require.NoError(t, err)
	earns, ok := s.ModelEarns(engine.Event{Type: engine.EventSay, At: 3000, Text: "x"})
	require.True(t, ok)
	assert.ElementsMatch(t, []engine.AxisDelta{{Axis: "help", Delta: 1}, {Axis: "care", Delta: 1}}, earns)
	assert.Equal(t, "ask", s.Node())
	assert.False(t, s.Ended())
	_, ok = s.ModelEarns(engine.Event{Type: engine.EventTyping, At: 3000})
	assert.False(t, ok, "only a reply has a model to compare with")
}

// loadString loads a scenario written inline.
func loadString(t *testing.T, src string) *engine.Scenario {
	t.Helper()
	var diags engine.Diagnostics
	sc := engine.LoadBytes(os.DirFS("."), "m.yaml", []byte(src), &diags)
	require.False(t, diags.HasErrors(), diags.Error())
	return sc
}

// answerAndSay plays a call of sc as switchboard play does (asking what the model answer
// would earn before each reply), answering at 1 s and saying reply at 3 s, and returns
// its debrief.
func answerAndSay(t *testing.T, sc *engine.Scenario, reply string) *debrief.Record {
	t.Helper()
	s := sc.NewSession(1, "Ann")
	steps := []debrief.Step{{Out: s.Start(nil)}}
	for _, ev := range []engine.Event{{Type: engine.EventAnswer, At: 1000}, {Type: engine.EventSay, At: 3000, Text: reply}} {
		st := debrief.Step{Event: &ev}
		if earns, ok := s.ModelEarns(ev); ok {
			st.ModelEarns = &earns
		}
		out, err := s.Apply(ev, nil)
		require.NoError(t, err)
		st.Out = out
		steps = append(steps, st)
	}
	return debrief.Live(sc, "x", "Ann", started, steps, s.End())
}

// TestTheDebriefSaysWhyTheCustomerGaveUp: a call ended by the customer's own timer, which
// says nothing, gets a line saying she gave up waiting and after how long (an outside
// trainee lost a call after "bear with me" and 25 s of looking, with no word of why).
func TestTheDebriefSaysWhyTheCustomerGaveUp(t *testing.T) {
	sc := loadString(t, `id: g
title: G
brief: b
persona: {name: Pat, wpm: 60}
intents:
  fix: ["done"]
start: ring
nodes:
  ring: {ring: true, transitions: [{when: 'event == "answer"', to: ask}]}
  ask:
    say: one two three
    transitions:
      - {when: 'said("fix")', to: done}
      - {after: 20s, to: gone}
  gone:
    say: Forget it.
    end: {title: Gone, outcome: lost}
  done: {end: {title: Done, outcome: resolved}}
`)
	for _, c := range []struct {
		name string
		evs  []engine.Event
		want string
	}{
		{"silent", []engine.Event{{Type: engine.EventAnswer, At: 1000}, {Type: engine.EventTimeout, At: 24000}},
			"Pat gave up waiting for your reply after 20 seconds of silence."},
		{"typing", []engine.Event{{Type: engine.EventAnswer, At: 1000}, {Type: engine.EventTyping, At: 5000}, {Type: engine.EventTimeout, At: 50000}},
			"Pat gave up waiting after 46 seconds, while you were still typing: send something shorter first."},
	} {
		t.Run(c.name, func(t *testing.T) {
			rec := playToTheEnd(t, sc, c.evs)
			require.NotEmpty(t, rec.Fired)
			assert.Equal(t, c.want, rec.Fired[len(rec.Fired)-1].Text)
		})
	}
}

// TestNoGivingUpWhereTheCustomerWaitedForNothing: a customer's own monologue leading to a
// lost ending is no giving up on a reply.
func TestNoGivingUpWhereTheCustomerWaitedForNothing(t *testing.T) {
	sc := loadString(t, `id: g
title: G
brief: b
persona: {name: Pat, wpm: 60}
intents:
  rude: ["whatever"]
start: ring
nodes:
  ring: {ring: true, transitions: [{when: 'event == "answer"', to: ask}]}
  ask:
    say: one two three
    transitions:
      - {when: 'said("rude")', to: angry}
  angry:
    say: That is it then.
    transitions:
      - {after: 3s, to: gone}
  gone:
    say: Bye.
    end: {title: Gone, outcome: lost}
`)
	rec := playToTheEnd(t, sc, []engine.Event{{Type: engine.EventAnswer, At: 1000}, {Type: engine.EventSay, At: 5000, Text: "whatever"}})
	for _, f := range rec.Fired {
		assert.NotContains(t, f.Text, "gave up waiting")
	}
}

// playToTheEnd applies evs to a new call of sc, then its timers until it ends, and
// returns the debrief.
func playToTheEnd(t *testing.T, sc *engine.Scenario, evs []engine.Event) *debrief.Record {
	t.Helper()
	s := sc.NewSession(1, "Ann")
	steps := []debrief.Step{{Out: s.Start(nil)}}
	for i := 0; i < len(evs) || !s.Ended(); i++ {
		ev := engine.Event{Type: engine.EventTimeout}
		if i < len(evs) {
			ev = evs[i]
		} else {
			d, ok := s.NextDeadline()
			require.True(t, ok, "the call neither ends nor has a timer")
			ev.At = d
		}
		out, err := s.Apply(ev, nil)
		require.NoError(t, err)
		steps = append(steps, debrief.Step{Event: &ev, Out: out})
	}
	return debrief.Live(sc, "x", "Ann", started, steps, s.End())
}

// TestTheDebriefSaysWhatTheCustomersTimerCost: points a timer took (cheese-shop's 15 s
// "the silence is a dodge": honesty -1) were in the final scores and nowhere else (an
// outside trainee's call ended honesty 0/2 with one point explained). They are now said
// with the timer's feedback, with the note that she gave up, or on a note of their own.
func TestTheDebriefSaysWhatTheCustomersTimerCost(t *testing.T) {
	src := `id: g
title: G
brief: b
persona: {name: Pat, wpm: 60}
intents:
  fix: ["done"]
scores:
  honesty: {max: 2, start: 2}
start: ring
nodes:
  ring: {ring: true, transitions: [{when: 'event == "answer"', to: ask}]}
  ask:
    say: one two three
    transitions:
      - {when: 'said("fix")', to: done}
      - {when: 'text == "hm"', to: again}
      - {after: 15s, to: %s, score: {honesty: -1}%s}
  again:
    say: hello
    transitions:
      - {when: 'said("fix")', to: done}
      - {after: 30s, to: gone}
  gone:
    say: Forget it.
    end: {title: Gone, outcome: lost}
  done: {end: {title: Done, outcome: resolved}}
`
	for _, c := range []struct {
		name, to, feedback, want string
	}{
		{"moved on", "again", "", "Pat waited 15 seconds for your reply, then went on without it: honesty -1."},
		{"with its feedback", "again", ", feedback: Saying nothing is a dodge too.", "Saying nothing is a dodge too. (honesty -1)"},
		{"gave up", "gone", "", "Pat gave up waiting for your reply after 15 seconds of silence: honesty -1."},
	} {
		t.Run(c.name, func(t *testing.T) {
			sc := loadString(t, fmt.Sprintf(src, c.to, c.feedback))
			evs := []engine.Event{{Type: engine.EventAnswer, At: 1000}, {Type: engine.EventTimeout, At: 19000}}
			if c.to == "again" {
				evs = append(evs, engine.Event{Type: engine.EventSay, At: 25000, Text: "done"})
			}
			rec := playToTheEnd(t, sc, evs)
			var texts []string
			for _, f := range rec.Fired {
				texts = append(texts, f.Text)
			}
			assert.Contains(t, texts, c.want)
		})
	}
}

// TestAGreetingJudgedAloneIsOneMessage: "hi!" sent as a lead-in that nothing followed is
// judged as the reply when LeadInWaitMS has passed; the debrief shows it once, with what
// it was read as, not as an aside and again as a reply.
func TestAGreetingJudgedAloneIsOneMessage(t *testing.T) {
	sc := loadString(t, `id: g
title: G
brief: b
persona: {name: Pat, wpm: 60}
intents:
  fix: ["done"]
  greeting: ["hi"]
start: ring
nodes:
  ring: {ring: true, transitions: [{when: 'event == "answer"', to: ask}]}
  ask:
    say: one two three
    transitions:
      - {when: 'said("fix")', to: done}
      - {when: 'true', to: gone}
  gone:
    say: Forget it.
    end: {title: Gone, outcome: lost}
  done: {end: {title: Done, outcome: resolved}}
`)
	rec := playToTheEnd(t, sc, []engine.Event{{Type: engine.EventAnswer, At: 1000}, {Type: engine.EventTyping, At: 4500},
		{Type: engine.EventSay, At: 5000, Text: "hi!"}})
	var mine []debrief.Item
	for _, it := range rec.Transcript {
		if it.Who == "trainee" {
			mine = append(mine, it)
		}
	}
	require.Len(t, mine, 1, "%+v", mine)
	assert.Equal(t, "hi!", mine[0].Text)
	assert.Empty(t, mine[0].Flags, "judged, not an aside")
	require.NotEmpty(t, mine[0].Understood)
	assert.Equal(t, "greeting", mine[0].Understood[0].Intent)
	assert.Equal(t, "gone", rec.End.Ending)
}
