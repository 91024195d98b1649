package engine

import (
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/assert"
)

// referenceWords is the definition countWords must agree with: whitespace-separated words.
func referenceWords(s string) int { return len(strings.FieldsFunc(s, unicode.IsSpace)) }

func TestCountWords(t *testing.T) {
	for _, s := range []string{
		"", " ", "one", " one ", "one two", "one\ttwo\nthree", "Café au lait, s'il vous plaît",
		"naïve\u00a0word", "emoji 🙂 counts", "ends in é", "é starts", "a\u2003b", "  lots   of   space  ",
	} {
		assert.Equal(t, referenceWords(s), countWords(s), "%q", s)
	}
}

func FuzzCountWords(f *testing.F) {
	f.Add("hello there")
	f.Add("x\u00a0y é")
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := countWords(s), referenceWords(s); got != want {
			t.Fatalf("countWords(%q) = %d, want %d", s, got, want)
		}
	})
}

func TestStaticTemplateWordsCountedAtLoad(t *testing.T) {
	lookup := func(name string) (int, bool) { return refPersona, name == "name" }
	static, _ := parseTemplate("Good morning, this is the help desk.", lookup)
	assert.Equal(t, 7, static.words)
	assert.Equal(t, 7, static.wordCount("ignored because counted at load"))
	dynamic, _ := parseTemplate("Hello {name}, how are you", lookup)
	assert.Equal(t, -1, dynamic.words)
	assert.Equal(t, 6, dynamic.wordCount("Hello Ann Marie, how are you"))
}
