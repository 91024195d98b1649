package engine_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/engine"
)

// circlesYAML is a customer who asks for her parcel until the trainee gives her a date:
// a reply that does not answer brings the same line again. %s is extra scenario keys.
const circlesYAML = `id: circles
title: Circles
brief: b
persona: {name: Mo, wpm: 400}
%s
intents:
  date: ["tuesday"]
  sorry: ["sorry"]
scores:
  help: {max: 2}
  manners: {start: 1, max: 1}
start: ask
nodes:
  ask:
    say: Where is my parcel?
    transitions:
      - {when: 'said("date")', to: done, score: {help: 2}}
      - {when: 'text contains "rude"', to: again, score: {manners: -1}}
      - {when: 'said("sorry")', to: softer}
      - {when: 'true', to: again}
      - {after: 20s, to: hello}
  again:
    say:
      - {when: 'count("sorry") > 0', text: "Sorry doesn't tell me where it is."}
      - {text: "I asked you where my parcel is."}
    transitions:
      - {when: 'said("date")', to: done, score: {help: 2}}
      - {when: 'true', to: again}
      - {after: 20s, to: hello}
  softer:
    say: "Thanks. So where is it?"
    transitions:
      - {when: 'said("date")', to: done, score: {help: 2}}
      - {when: 'true', to: ask}
  hello:
    say: Hello? Are you there?
    transitions:
      - {when: 'said("date")', to: done, score: {help: 2}}
      - {when: 'text contains "bye"', to: stormed_off}
      - {after: 10s, to: hello}
  done:
    end: {outcome: resolved, title: Done}
  stormed_off:
    say: Forget it. I'll ask the post office.
    end: {outcome: lost, title: She stormed off}
`

func circles(t *testing.T, keys string) *engine.Session {
	t.Helper()
	if !strings.Contains(keys, "same_line_limit") {
		keys += "\nsame_line_limit: 2"
	}
	return loadInline(t, fmt.Sprintf(circlesYAML, keys)).NewSession(1, "Ann")
}

// lines returns the customer's lines in outs.
func lines(outs []engine.Output) []string {
	var got []string
	for _, o := range ofType(outs, engine.OutLine) {
		got = append(got, o.Text)
	}
	return got
}

// TestCustomerGivesUpGoingRoundInCircles: with same_line_limit: 2, a reply that would
// have the customer say the same words a third time ends the call instead, lost, with
// feedback that says why, and the node's ways on count as missed.
func TestCustomerGivesUpGoingRoundInCircles(t *testing.T) {
	s := circles(t, "")
	c := &call{t: t, s: s}
	c.outs = s.Start(nil)
	for i, at := range []int64{3000, 6000, 9000} {
		c.do(say(at, "ok"))
		if i < 2 {
			require.False(t, s.Ended(), "reply %d", i+1)
		}
	}
	require.True(t, s.Ended(), "the third 'I asked you…' is not said")
	assert.Equal(t, []string{"Where is my parcel?", "I asked you where my parcel is.", "I asked you where my parcel is."}, lines(c.outs))
	end := s.End()
	assert.Equal(t, engine.GaveUpEnding, end.Ending)
	assert.Equal(t, engine.OutcomeLost, end.Outcome)
	assert.Equal(t, "Mo gave up", end.Title)
	assert.False(t, end.Passed)
	fb := ofType(c.outs, engine.OutFeedback)
	require.Len(t, fb, 1)
	assert.Equal(t, `Mo would have said "I asked you where my parcel is." for the third time, and gave up: `+
		`the call was going round in circles. Answer what Mo asks, so the call moves on.`, fb[0].Text)
	for _, sc := range end.Scores {
		assert.True(t, sc.Assessed, "%s: the missed ways on are assessed", sc.Axis)
		if sc.Axis == "help" {
			assert.Zero(t, sc.Points)
		}
	}
}

func TestSameLineLimit(t *testing.T) {
	for _, tc := range []struct {
		name, keys string
		replies    []string
		ending     string // "" while the call goes on
		said       int    // lines said
	}{
		{"the limit is the scenario's", "same_line_limit: 3", []string{"ok", "ok", "ok"}, "", 4},
		{"and is reached", "same_line_limit: 3", []string{"ok", "ok", "ok", "ok"}, engine.GaveUpEnding, 4},
		{"0: no limit", "same_line_limit: 0", []string{"ok", "ok", "ok", "ok", "ok", "ok"}, "", 7},
		{"no limit unless the scenario sets one", "# no same_line_limit key", []string{"ok", "ok", "ok", "ok", "ok", "ok"}, "", 7},
		{"gives_up names the ending", "gives_up: stormed_off", []string{"ok", "ok", "ok"}, "stormed_off", 4}, // its line said
		// ask → softer → ask → softer: "Where is my parcel?" twice, then neither a third time.
		{"lines said in turn count too", "", []string{"sorry", "ok", "sorry", "ok"}, engine.GaveUpEnding, 4},
		// A line variant is other words: "I asked you…" twice, then "Sorry doesn't…" twice.
		{"a variant is another line", "", []string{"ok", "ok", "sorry", "sorry"}, "", 5},
		{"the answer still ends the call", "", []string{"ok", "ok", "it comes on tuesday"}, "done", 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := circles(t, tc.keys)
			c := &call{t: t, s: s}
			c.outs = s.Start(nil)
			for i, r := range tc.replies {
				c.do(say(int64(i+1)*3000, r))
			}
			if tc.ending == "" {
				assert.False(t, s.Ended())
			} else {
				require.True(t, s.Ended())
				assert.Equal(t, tc.ending, s.End().Ending)
			}
			assert.Len(t, lines(c.outs), tc.said, "%q", lines(c.outs))
		})
	}
}

// TestGivingUpSaysTheEndingsLine: a gives_up ending's line is said, as any ending's.
func TestGivingUpSaysTheEndingsLine(t *testing.T) {
	s := circles(t, "gives_up: stormed_off")
	c := &call{t: t, s: s}
	c.outs = s.Start(nil)
	for i := range 3 {
		c.do(say(int64(i+1)*3000, "ok"))
	}
	got := lines(c.outs)
	assert.Equal(t, "Forget it. I'll ask the post office.", got[len(got)-1])
	assert.Equal(t, "She stormed off", s.End().Title)
}

// TestSilenceGoesRoundInCirclesToo: a timer that brings the same line again counts: the
// customer who says "Hello? Are you there?" twice to silence gives up on the third.
func TestSilenceGoesRoundInCirclesToo(t *testing.T) {
	s := circles(t, "")
	c := &call{t: t, s: s}
	c.outs = s.Start(nil)
	for !s.Ended() {
		d, ok := s.NextDeadline()
		require.True(t, ok)
		require.Less(t, d, int64(120_000), "the call never ends")
		c.do(engine.Event{Type: engine.EventTimeout, At: d})
	}
	assert.Equal(t, engine.GaveUpEnding, s.End().Ending)
	assert.Equal(t, []string{"Where is my parcel?", "Hello? Are you there?", "Hello? Are you there?"}, lines(c.outs))
}

// TestARepeatAskedForIsNoCircle: the customer saying her line again because the trainee
// asked her to does not count towards the limit.
func TestARepeatAskedForIsNoCircle(t *testing.T) {
	s := circles(t, "")
	c := &call{t: t, s: s}
	c.outs = s.Start(nil)
	c.do(say(3000, "sorry, could you say that again?"))
	c.do(say(6000, "ok"))
	c.do(say(9000, "ok"))
	assert.False(t, s.Ended())
	assert.Equal(t, []string{"Where is my parcel?", "Where is my parcel?", "I asked you where my parcel is.", "I asked you where my parcel is."}, lines(c.outs))
}

// gives_up without same_line_limit does nothing: lint says so at gives_up (and the
// ending is not reported as never reached).
func TestGivesUpWithoutALimitWarns(t *testing.T) {
	var diags engine.Diagnostics
	sc := engine.LoadBytes(nil, "c.yaml", []byte(fmt.Sprintf(circlesYAML, "gives_up: stormed_off")), &diags)
	require.NotNil(t, sc, diags.Error())
	assert.False(t, diags.HasErrors(), diags.Error())
	require.Len(t, diags.Warnings(), 1, diags.Error())
	assert.Equal(t, 5, diags.Warnings()[0].Line)
	assert.Contains(t, diags.Warnings()[0].Message, "gives_up has no effect without same_line_limit")
}

func TestGivesUpErrors(t *testing.T) {
	for _, tc := range []struct{ keys, want string }{
		{"gives_up: softer", "gives_up must name an ending: softer is not one"},
		{"gives_up: stormed_of", `unknown node "stormed_of" (did you mean "stormed_off"?)`},
		{"same_line_limit: -1", "same_line_limit must be a whole number from 0 (no limit) to 100"},
		{"same_line_limit: 1.5", "same_line_limit must be a whole number from 0 (no limit) to 100"},
	} {
		var diags engine.Diagnostics
		engine.LoadBytes(nil, "c.yaml", []byte(fmt.Sprintf(circlesYAML, tc.keys)), &diags)
		assert.True(t, strings.Contains(diags.Error(), "c.yaml:5:"), "%s: at its line: %s", tc.keys, diags.Error())
		assert.Contains(t, diags.Error(), tc.want, tc.keys)
	}
}
