package live

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/engine"
)

// TestStreamPacesLinesWithPausesAndOwnWPM: the words of a line are sent at the line's own
// pace, held back by its pauses, and the line ends at its duration.
func TestStreamPacesLinesWithPausesAndOwnWPM(t *testing.T) {
	for _, tc := range []struct {
		name    string
		line    engine.Output
		wordsAt []int64
		endAt   int64
		perWord float64
	}{
		{"persona pace, a pause after the first word",
			engine.Output{Type: engine.OutLine, At: 1000, Node: "a", Text: "Well... I suppose so.", Words: 4, Duration: 5500,
				Pauses: []engine.Pause{{After: 1, MS: 1500}}},
			[]int64{1000, 3500, 4500, 5500}, 6500, 1000},
		{"own pace (120 wpm) and a pause before the first word",
			engine.Output{Type: engine.OutLine, At: 0, Node: "a", Text: "Um. Fine.", Words: 2, Duration: 1700, WPM: 120,
				Pauses: []engine.Pause{{After: 0, MS: 700}}},
			[]int64{700, 1200}, 1700, 500},
		{"no pause, own pace", engine.Output{Type: engine.OutLine, At: 0, Node: "a", Text: "a b c", Words: 3, Duration: 1500, WPM: 120},
			[]int64{0, 500, 1000}, 1500, 500},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var frames [][]byte
			st := newStream(60, false, func(_ int64, b []byte) { frames = append(frames, b) })
			st.outputs([]engine.Output{tc.line}, nil, tc.line.At)
			st.advance(tc.line.At + 60_000)
			var got []int64
			var end int64 = -1
			var start map[string]any
			for _, f := range frames {
				var m map[string]any
				require.NoError(t, json.Unmarshal(f, &m))
				switch m["type"] {
				case "word":
					got = append(got, int64(m["at"].(float64)))
				case "line_end":
					end = int64(m["at"].(float64))
				case "line_start":
					start = m
				}
			}
			assert.Equal(t, tc.wordsAt, got)
			assert.Equal(t, tc.endAt, end)
			assert.InDelta(t, tc.perWord, start["ms_per_word"], 1e-9, "the pace without the pauses")
			if len(tc.line.Pauses) > 0 {
				assert.Len(t, start["pauses"], len(tc.line.Pauses))
			}
		})
	}
}
