package understand

import (
	"bufio"
	"encoding/json"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// needsLexicon has every kind of pattern: stems, exact words, prefixes, articles that may
// be left out, negated phrases and exceptions.
func needsLexicon(t testing.TB) *Lexicon {
	lx, errs := Compile([]IntentSpec{
		{Name: "apology", Phrases: []string{"sorry", "apologise", "my bad"}, Except: []string{"sorry you feel that way", "sorry what"}},
		{Name: "out_of_stock", Phrases: []string{"dont have", "sold out", "were out", "~have any"}},
		{Name: "fuss", Phrases: []string{"wrapping", "ribbon", "gift wrap*"}},
		{Name: "skip_wrap", Phrases: []string{"no wrapping", "~wrap"}},
		{Name: "upsell", Phrases: []string{"upgrade", "premium", "=pro plan", "the deluxe package"}},
		{Name: "done", Phrases: []string{"=changed", "all set"}},
		{Name: "hard_reset", Phrases: []string{"hold the power button", "15 seconds", "restart*"}},
	})
	require.Empty(t, errs)
	return lx
}

// checkNeedsSound checks that the entries' word filter never rules out a phrase that
// matches: wherever a phrase matches the text (tried at every token, without its index),
// the text has every word the phrase needs.
func checkNeedsSound(t *testing.T, lx *Lexicon, text string) (matched int) {
	t.Helper()
	tx := lx.Analyze(text)
	var has wordSet
	for _, tok := range tx.Tokens {
		if tok.Stem != "" {
			has.add(tok.Stem)
		}
		has.add(tok.Word)
	}
	for id := range lx.phrases {
		p := &lx.phrases[id]
		for i := range tx.Tokens {
			if p.matchAt(tx.Tokens, i, false) >= 0 {
				matched++
				assert.True(t, has.covers(needs(p.pats)), "phrase %q matches %q at %d but is filtered out", p.source, text, i)
			}
		}
	}
	return matched
}

func TestPhraseNeedsAreSound(t *testing.T) {
	lx := needsLexicon(t)
	f, err := os.Open("testdata/explain.golden.jsonl")
	require.NoError(t, err)
	defer f.Close()
	texts := []string{"hold power button for 15 seconds", "I'll restart it, the pro plan is all set",
		"the deluxe package? sorry, what", "we dont have the ribbon, sorry you feel that way"}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var line struct{ Text string }
		require.NoError(t, json.Unmarshal(sc.Bytes(), &line))
		texts = append(texts, line.Text)
	}
	require.NoError(t, sc.Err())
	matched := 0
	for _, text := range texts {
		matched += checkNeedsSound(t, lx, text)
	}
	assert.Greater(t, matched, len(texts), "the texts exercise the phrases")
}

func FuzzPhraseNeeds(f *testing.F) {
	for _, s := range []string{"so sorry, we're out", "hold the power button", "gift wrapping? no ribbon", "i didnt say we have any"} {
		f.Add(s)
	}
	lx := needsLexicon(f)
	f.Fuzz(func(t *testing.T, text string) {
		checkNeedsSound(t, lx, text)
	})
}
