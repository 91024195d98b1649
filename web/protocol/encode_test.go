package protocol

import (
	"encoding/json"
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
	})
}
