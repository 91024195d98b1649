package understand

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// TestExplainGolden pins the explanations of a fixed lexicon for replies that exercise
// every step: what matched, with which words, and what a negation or exception stopped.
func TestExplainGolden(t *testing.T) {
	lx, errs := Compile([]IntentSpec{
		{Name: "apology", Phrases: []string{"sorry", "apologise", "my bad"}, Except: []string{"sorry you feel that way", "sorry what"}},
		{Name: "out_of_stock", Phrases: []string{"dont have", "sold out", "were out", "~have any"}},
		{Name: "fuss", Phrases: []string{"wrapping", "ribbon", "gift wrap*"}},
		{Name: "skip_wrap", Phrases: []string{"no wrapping", "~wrap"}},
		{Name: "upsell", Phrases: []string{"upgrade", "premium"}},
		{Name: "done", Phrases: []string{"=changed", "all set"}},
		{Name: "hard_reset", Phrases: []string{"hold the power", "15 seconds"}},
	})
	require.Empty(t, errs)
	var b strings.Builder
	for _, text := range []string{
		"well im not sorry, you booked the cheapest car",
		"So sorry — we’re out of it!",
		"i dont think we have any, my bad",
		"Sorry you feel that way.",
		"sorry, what?",
		"I won't bother wrapping it",
		"no wrapping, no ribbon",
		"sure, no upgrade needed",
		"an upgrade isn't necessary but the premium one is nice",
		"ive changed it, youre all set",
		"ill get it changing",
		"hold down... no, hold the powr button for fifteen secs",
		"a story about a sory cat",
		"apologise? never",
		"i'd never apologise",
	} {
		var kept []Explanation
		for _, e := range lx.Explain(text) {
			if e.Matched || len(e.Blocked) > 0 {
				kept = append(kept, e)
			}
		}
		typos := lx.Analyze(text).Typos()
		j, err := json.Marshal(struct {
			Text  string        `json:"text"`
			Typos []string      `json:"typos,omitempty"`
			Read  []Explanation `json:"read"`
		}{text, typos, kept})
		require.NoError(t, err)
		b.Write(j)
		b.WriteByte('\n')
	}
	path := filepath.Join("testdata", "explain.golden.jsonl")
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "missing golden file; run go test ./engine/understand -update")
	assert.Equal(t, string(want), b.String(), "explanations changed; if intended, run go test ./engine/understand -update")
}

// TestExplainPlainAndNegatedPhrase: an intent that lists a phrase both plain and with "~"
// means it either way, and Explain says so whichever comes first (it used to explain a
// span by the first phrase found there, blocked, and report the intent unmatched).
func TestExplainPlainAndNegatedPhrase(t *testing.T) {
	for _, phrases := range [][]string{{"cut you off", "~cut you off"}, {"~cut you off", "cut you off"}} {
		lx, errs := Compile([]IntentSpec{{Name: "cutoff", Phrases: phrases}, {Name: "other", Phrases: []string{"cut"}}})
		require.Empty(t, errs)
		for _, text := range []string{"we will not cut you off", "we will cut you off"} {
			ex := lx.Explain(text)
			assert.True(t, ex[0].Matched, "%v: %q", phrases, text)
			assert.Empty(t, ex[0].Blocked, "%v: %q", phrases, text)
			require.Len(t, ex[0].Hits, 1)
			n := 0
			lx.Match(lx.Analyze(text), func(h Hit) {
				if h.Intent == 0 {
					n++
				}
			})
			assert.Equal(t, 1, n, "Match agrees with Explain: %v: %q", phrases, text)
		}
	}
}
