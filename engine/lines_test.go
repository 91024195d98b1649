package engine_test

import (
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
		{"cut just before the end", 2999, 3000, "angry", true, 5},
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
