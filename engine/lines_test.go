package engine_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/engine"
)

// linesYAML has a persona at 60 wpm (one word a second) and lines with their own pace
// and emotion tags.
const linesYAML = `id: lines
title: Lines
brief: Per-line pace and emotion.
persona: {name: Sam, wpm: 60}
vars: {slow: false}
start: a
nodes:
  a:
    say:
      - {when: slow, text: One two three four five six., wpm: 60, emotion: sad}
      - {text: One two three four five six., wpm: 120, emotion: angry}
    transitions:
      - {when: 'event == "say"', to: b}
  b:
    say: Seven eight nine.
    transitions:
      - {when: 'event == "say"', to: c}
  c:
    end: {outcome: lost, title: Done}
`

func TestLinePaceAndEmotion(t *testing.T) {
	var diags engine.Diagnostics
	sc := engine.LoadBytes(os.DirFS("testdata"), "lines.yaml", []byte(linesYAML), &diags)
	require.Empty(t, diags, diags.Error())
	for _, tc := range []struct {
		name    string
		after   int64 // ms after the line started when the trainee speaks
		dur     int64
		emotion string
		cut     bool
		spoken  int
	}{
		{"own pace sets the duration", 3000, 3000, "angry", false, 0},
		{"cut counts words at the line's pace", 1500, 3000, "angry", true, 3},
		{"cut in the last but one word", 2499, 3000, "angry", true, 4},
		{"a reply during the last word is no cut", 2999, 3000, "angry", false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCall(t, sc)
			line := ofType(c.outs, engine.OutLine)
			require.Len(t, line, 1)
			assert.Equal(t, 6, line[0].Words)
			assert.Equal(t, tc.dur, line[0].Duration, "6 words at 120 wpm")
			assert.Equal(t, tc.emotion, line[0].Emotion)
			outs := c.do(say(tc.after, "hello there"))
			cuts := ofType(outs, engine.OutCut)
			if tc.cut {
				require.Len(t, cuts, 1)
				assert.Equal(t, tc.spoken, cuts[0].Spoken)
			} else {
				assert.Empty(t, cuts)
			}
			// The next line has no wpm or emotion: the persona's pace, no tag.
			next := ofType(outs, engine.OutLine)
			require.Len(t, next, 1)
			assert.Equal(t, int64(3000), next[0].Duration, "3 words at the persona's 60 wpm")
			assert.Empty(t, next[0].Emotion)
		})
	}
}

// sequenceYAML loops on node a; its sequence is filled in per test. The variant "C."
// holds only once the trainee has said "more".
const sequenceYAML = `id: seq
title: Sequences
brief: Line variants chosen by sequence.
persona: {name: Sam, wpm: 60}
vars: {more: false}
rules:
  - {id: more, when: 'text contains "more"', set: {more: true}}
start: a
nodes:
  a:
    sequence: %s
    say:
      - A.
      - B.
      - {when: more, text: C.}
    transitions:
      - {when: 'text contains "bye"', to: z}
      - {when: 'event == "say"', to: a}
  z:
    end: {outcome: lost, title: Done}
`

// sequenceLines plays a call with seed and returns the lines said at node a, one per
// visit: the first on entering, then one after each reply.
func sequenceLines(t *testing.T, sc *engine.Scenario, seed uint64, replies []string) []string {
	t.Helper()
	s := sc.NewSession(seed, "Ann")
	outs := s.Start(nil)
	at := int64(0)
	for _, r := range replies {
		at += 5000
		var err error
		outs, err = s.Apply(say(at, r), outs)
		require.NoError(t, err)
	}
	var got []string
	for _, o := range ofType(outs, engine.OutLine) {
		got = append(got, o.Text)
	}
	return got
}

func loadSequence(t *testing.T, seq string) *engine.Scenario {
	t.Helper()
	var diags engine.Diagnostics
	sc := engine.LoadBytes(os.DirFS("testdata"), "seq.yaml", []byte(fmt.Sprintf(sequenceYAML, seq)), &diags)
	require.Empty(t, diags, diags.Error())
	return sc
}

func TestLineSequences(t *testing.T) {
	five := []string{"ok", "ok", "ok", "ok", "ok"}
	for _, tc := range []struct {
		seq     string
		replies []string
		want    []string
	}{
		{"first", five, []string{"A.", "A.", "A.", "A.", "A.", "A."}},
		{"cycle", five, []string{"A.", "B.", "A.", "B.", "A.", "B."}},
		{"once", five, []string{"A.", "B.", "B.", "B.", "B.", "B."}},
		// C. joins the variants whose when holds from the third visit: the sequence
		// counts visits over the variants that hold on each visit.
		{"cycle", []string{"ok", "more", "ok", "ok"}, []string{"A.", "B.", "C.", "A.", "B."}},
		{"once", []string{"ok", "more", "ok", "ok"}, []string{"A.", "B.", "C.", "C.", "C."}},
	} {
		t.Run(tc.seq, func(t *testing.T) {
			sc := loadSequence(t, tc.seq)
			assert.Equal(t, tc.want, sequenceLines(t, sc, 42, tc.replies))
		})
	}
}

func TestLineShuffleIsFixedBySeed(t *testing.T) {
	sc := loadSequence(t, "shuffle")
	replies := make([]string, 30)
	for i := range replies {
		replies[i] = "ok"
	}
	seen := map[string]bool{}
	differ := false
	first := sequenceLines(t, sc, 1, replies)
	for seed := uint64(1); seed <= 20; seed++ {
		got := sequenceLines(t, sc, seed, replies)
		require.Len(t, got, 31)
		assert.Equal(t, got, sequenceLines(t, sc, seed, replies), "seed %d replays the same lines", seed)
		for _, l := range got {
			seen[l] = true
		}
		if seed > 1 && !assert.ObjectsAreEqual(first, got) {
			differ = true
		}
	}
	assert.Equal(t, map[string]bool{"A.": true, "B.": true}, seen, "only the variants that hold, both drawn")
	assert.True(t, differ, "different seeds give different orders")
}
