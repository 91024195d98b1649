package protocol

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/engine"
)

// sameAsEncodingJSON checks that m's hand encoding is valid JSON that decodes to exactly
// what encoding/json's encoding of m decodes to.
func sameAsEncodingJSON(t *testing.T, m FastJSON) {
	t.Helper()
	fast := m.AppendJSON(nil)
	slow, err := json.Marshal(m)
	require.NoError(t, err)
	var got, want any
	require.NoError(t, json.Unmarshal(fast, &got), "hand encoding is not JSON: %s", fast)
	require.NoError(t, json.Unmarshal(slow, &want))
	assert.Equal(t, want, got, "hand %s\njson %s", fast, slow)
}

var awkward = []string{"", "plain", `quo"te \ back\slash`, "tab\tnew\nline\rcr", "\x00\x01\x1f\x7f",
	"<script>&amp;</script>", "héllo wörld ✓ 🙂", "bad \xff\xfe utf8 \xc3", "line\u2028para\u2029", "\ufffd"}

func TestHandEncodedMessagesMatchEncodingJSON(t *testing.T) {
	two := 2
	for _, s := range awkward {
		h := Header{Seq: 42, Type: "word", At: 1234}
		sameAsEncodingJSON(t, &WordMsg{Header: h, Index: 3, Text: s})
		sameAsEncodingJSON(t, &LineEndMsg{Header: h, Node: s})
		sameAsEncodingJSON(t, &CutMsg{Header: h, Node: s, Spoken: 2, Words: 9})
		sameAsEncodingJSON(t, &LineStartMsg{Header: h, Node: "n", Text: s, Words: 7, Duration: 2625, MsPerWord: 375})
		sameAsEncodingJSON(t, &LineStartMsg{Header: h, Node: "n", Text: s, Words: 3, Duration: 1000, MsPerWord: 1000.0 / 3})
		sameAsEncodingJSON(t, &LineStartMsg{Header: h, Node: "n", Text: s, Words: 3, Duration: 1000, MsPerWord: 1000.0 / 3, Emotion: "anxious"})
		sameAsEncodingJSON(t, &LineStartMsg{Header: h, Node: "n", Text: s, Words: 3, Duration: 2500, MsPerWord: 1000.0 / 3, Pauses: []engine.Pause{{After: 1, MS: 1500}}})
		sameAsEncodingJSON(t, &LineStartMsg{Header: h, Node: "n", Text: s, Words: 3, Duration: 2500, MsPerWord: 1000.0 / 3, Emotion: "sad",
			Pauses: []engine.Pause{{After: 0, MS: 500}, {After: 3, MS: 1000}}})
		sameAsEncodingJSON(t, &TraineeMsg{Header: h, ID: s, Event: "say", Text: s, Flags: []string{}})
		sameAsEncodingJSON(t, &TraineeMsg{Header: h, ID: "x", Event: "choose", Text: s, Choice: &two, Flags: []string{"interrupted", s}})
		sameAsEncodingJSON(t, &FeedbackMsg{Header: h, Rule: s, Text: s})
		sameAsEncodingJSON(t, &ChoicesMsg{Header: h, Node: s, Choices: []Choice{{Index: 0, Text: s}, {Index: 2, Text: "ok"}}})
		sameAsEncodingJSON(t, &ChoicesMsg{Header: h, Node: s, Choices: []Choice{}})
		sameAsEncodingJSON(t, &ChoicesMsg{Header: h, Node: s})
	}
	for _, mood := range []float64{0, -1, 1, 0.25, -0.1 + 0.2, 1.0 / 3, 1e-7, -5e-324, 1e-6, 1e21, 1e20, 123456789012345678, -1.5e-10} {
		m := &MoodMsg{Header: Header{Seq: 1, Type: "mood", At: 5}, Mood: mood}
		sameAsEncodingJSON(t, m)
		slow, err := json.Marshal(m)
		require.NoError(t, err)
		assert.Equal(t, string(slow), string(m.AppendJSON(nil)), "byte for byte")
	}
}

// TestNonFiniteHasNoHandEncoding checks that a message json.Marshal cannot encode has no
// hand encoding either, so that the sender reports it the same way.
func TestNonFiniteHasNoHandEncoding(t *testing.T) {
	for _, mood := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		m := &MoodMsg{Mood: mood}
		assert.Nil(t, m.AppendJSON(nil))
		_, err := json.Marshal(m)
		assert.Error(t, err)
	}
}

func FuzzHandEncodedMessages(f *testing.F) {
	for _, s := range awkward {
		f.Add(s, int64(7), 3)
	}
	f.Fuzz(func(t *testing.T, s string, n int64, k int) {
		h := Header{Seq: n, Type: s, At: -n}
		sameAsEncodingJSON(t, &WordMsg{Header: h, Index: k, Text: s})
		sameAsEncodingJSON(t, &CutMsg{Header: h, Node: s, Spoken: k, Words: k + 1})
		ms := 0.0
		if k != 0 {
			ms = float64(n) / float64(k)
		}
		sameAsEncodingJSON(t, &LineStartMsg{Header: h, Node: s, Text: s, Words: k, Duration: n, MsPerWord: ms, Emotion: s})
		sameAsEncodingJSON(t, &TraineeMsg{Header: h, ID: s, Event: s, Text: s, Choice: &k, Flags: []string{s}})
		sameAsEncodingJSON(t, &FeedbackMsg{Header: h, Rule: s, Text: s})
		sameAsEncodingJSON(t, &ChoicesMsg{Header: h, Node: s, Choices: []Choice{{Index: k, Text: s}}})
		if !math.IsNaN(ms) && !math.IsInf(ms, 0) {
			m := &MoodMsg{Header: Header{Seq: n, Type: "mood", At: n}, Mood: ms}
			slow, err := json.Marshal(m)
			require.NoError(t, err)
			assert.Equal(t, string(slow), string(m.AppendJSON(nil)), "byte for byte")
		}
	})
}
