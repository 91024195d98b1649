package understand

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAnalyzeIntoLeavesNothingOfTheLastMessage analyses messages one after another into
// one Text, longest and shortest in turn, with typos, negations and numbers, and checks
// each against a fresh Analyze: nothing of an earlier message (a stem, a typo, a negation)
// may stay in a reused token.
func TestAnalyzeIntoLeavesNothingOfTheLastMessage(t *testing.T) {
	lx, errs := Compile([]IntentSpec{
		{Name: "apology", Phrases: []string{"sorry", "apolog*", "my mistake"}, Except: []string{"sorry you feel that way"}},
		{Name: "out_of_stock", Phrases: []string{"out of stock", "dont have", "ran out", "none left"}},
		{Name: "wait", Phrases: []string{"twenty four hours", "one moment", "let me check"}},
	})
	require.Empty(t, errs)
	msgs := []string{
		"I'm sooo sorry, we don't have any manchego left; let me check in the back for you, it'll be twenty four hours",
		"ok",
		"apologse, we're not out of stock",
		"",
		"I never said we had it, sorry you feel that way",
		"Ça va? 2,400 items — one moment",
		"no",
		"we ran out: none left, my mistake",
	}
	var shared Text
	for round := range 2 {
		for i := range msgs {
			m := msgs[i]
			if round == 1 {
				m = msgs[len(msgs)-1-i]
			}
			want := lx.Analyze(m)
			got := lx.AnalyzeInto(&shared, m)
			require.Same(t, &shared, got)
			if len(want.Tokens) == 0 { // nil or empty alike
				assert.Empty(t, got.Typed, "%q", m)
				assert.Empty(t, got.Tokens, "%q", m)
			} else {
				assert.Equal(t, want.Typed, got.Typed, "%q", m)
				assert.Equal(t, want.Tokens, got.Tokens, "%q", m)
			}
			var wh, gh []Hit
			lx.Match(want, func(h Hit) { wh = append(wh, h) })
			lx.Match(got, func(h Hit) { gh = append(gh, h) })
			assert.Equal(t, wh, gh, "%q", m)
		}
	}
}
