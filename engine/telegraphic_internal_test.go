package engine

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A telegraphic message is a list of key words: six distinct words or more, none a
// function word. Real replies, terse, lower-case, in chat spelling or with typos, are not.
func TestTelegraphic(t *testing.T) {
	for _, c := range []struct {
		text string
		want bool
	}{
		{"sorry big mistake fix right now new car", true},
		{"Sorry mistake refund voucher upgrade today!", true},
		// Set out with punctuation, a terse reply is a list a customer can follow.
		{"sorry big mistake, fix right now, new car", false},
		{"Smoked gouda, aged comté, fresh goat's cheese.", false},
		{"Okay: hold power button fifteen seconds, release, press again.", false},
		{"Yep, approved. Scarf, receipt, good luck!", false},
		{"free upgrade - midsize suv same price", false},
		{"free upgrade midsize suv same price bay 4", true}, // "mid-size" is one word either way
		{"apology refund replacement compensation voucher discount", true},
		{"good afternoon welcome course twelve fitting room", true},
		{"sorry, out of manchego today", false},                 // five words, and "out", "of"
		{"refund done, cheers", false},                          // short
		{"£20 off next month's bill, done", false},              // "off"
		{"sorry abt that, ill sort it", false},                  // "ill", "it"
		{"ur plan only covers teh eu", false},                   // chat spellings
		{"so sorry about the wait mr wieczorek", false},         // "about", "the"
		{"im really sorry, thats our mistake", false},           // contractions typed without the apostrophe
		{"I'm really sorry, that's our mistake", false},         // and with it
		{"sory, wee hav no manchgo todya, comte maybe?", false}, // typos: "no"
		{"great news replacement ships tomorrow tracking emailed tonight", true},
		{"", false},
	} {
		assert.Equal(t, c.want, telegraphic(c.text, wordHashes(c.text)), "%q", c.text)
	}
}

// countFunctionWords counts distinct function words: the built-in function_words.
func TestCountFunctionWords(t *testing.T) {
	for text, want := range map[string]int{
		"name move done":                     0,
		"sorry, we're out of it":             4, // were (typed "we're"), out, of, it
		"im so sorry for your loss, im here": 5, // im (once), so, for, your, here
		"":                                   0,
	} {
		assert.Equal(t, want, countFunctionWords(wordHashes(text)), "%q", text)
	}
}

// The claim in functionWords' comment and docs/scenario-format.md: of the outside testers'
// replies of six distinct words or more in the understanding corpora, none is without a
// function word. (The replies are the text after the last "|" of each corpus line.)
func TestCorpusRepliesAllHaveAFunctionWord(t *testing.T) {
	files, err := filepath.Glob("testdata/understanding/*.txt")
	require.NoError(t, err)
	more, err := filepath.Glob("testdata/understanding/*/*.txt")
	require.NoError(t, err)
	files = append(files, more...)
	require.NotEmpty(t, files)
	long := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		for _, line := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(line, "#") || strings.HasPrefix(line, "@") || strings.Count(line, "|") < 2 {
				continue
			}
			reply := strings.TrimSpace(line[strings.LastIndex(line, "|")+1:])
			hs := wordHashes(reply)
			if len(hs) < TelegraphicMinWords {
				continue
			}
			long++
			assert.NotZero(t, countFunctionWords(hs), "%s: %q", f, reply)
		}
	}
	t.Logf("%d replies of %d distinct words or more, each with a function word", long, TelegraphicMinWords)
	assert.Greater(t, long, 2000)
}
