package engine

import (
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"

	"github.com/switchboard-sim/switchboard/engine/understand"
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

// referenceWordList is how repeated messages were first cut into words (a lower-cased
// copy, then strings.Fields): eachWord and wordHashes, which cut words in one pass, must
// agree with it.
func referenceWordList(text string) []string {
	buf := make([]byte, 0, len(text)+1)
	space := true
	for _, r := range strings.ToValidUTF8(text, "\uFFFD") {
		switch {
		case r == '\'' || r == '’' || r == '‘':
		case r < utf8.RuneSelf && (r >= 'a' && r <= 'z' || r >= '0' && r <= '9'):
			buf, space = append(buf, byte(r)), false
		case r >= 'A' && r <= 'Z':
			buf, space = append(buf, byte(r+('a'-'A'))), false
		case r >= utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			buf, space = utf8.AppendRune(buf, unicode.ToLower(r)), false
		default:
			if !space {
				buf, space = append(buf, ' '), true
			}
		}
	}
	return strings.Fields(string(buf))
}

// referenceHashes is the sorted set of the hashes of referenceWordList's words.
func referenceHashes(text string) []uint32 {
	var hs []uint32
	for _, w := range referenceWordList(text) {
		hs = append(hs, understand.Hash(w))
	}
	slices.Sort(hs)
	return slices.Compact(hs)
}

// wordList collects eachWord's words.
func wordList(text string) []string {
	var out []string
	var buf []byte
	eachWord(text, func(b byte) { buf = append(buf, b) }, func() {
		out = append(out, string(buf))
		buf = buf[:0]
	})
	return out
}

var wordsCases = []string{
	"", " ", "Hello, thanks for calling, how can I help you today?",
	"I'm so sorry about that, let me check for you.", "Don’t SHOUT, please!", "'quoted' words'",
	"Café au lait, s'il vous plaît", "ÉCOLE naïve", "2,400 items at 2.5", "\xff\xfe bad bytes",
	"tabs\tand\nnew lines", "emoji 🙂 in between", "sorry sorry sorry", "ΣΊΣΥΦΟΣ", "trailing space ",
}

func TestWordCutAndHashesAgreeWithTheReference(t *testing.T) {
	for _, s := range wordsCases {
		want := referenceWordList(s)
		got := wordList(s)
		if len(want) == 0 {
			assert.Empty(t, got, "%q", s)
		} else {
			assert.Equal(t, want, got, "%q", s)
		}
		assert.True(t, slices.Equal(referenceHashes(s), wordHashes(s)), "%q: %v, want %v", s, wordHashes(s), referenceHashes(s))
	}
	// A repeated message is one whose hashes are the same set.
	assert.Equal(t, wordHashes("Sorry, sorry: let me CHECK"), wordHashes("let me check sorry"))
	assert.Len(t, wordHashes("sorry sorry sorry"), 1)
}

func FuzzWordCutAndHashes(f *testing.F) {
	for _, s := range wordsCases {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, got := referenceWordList(s), wordList(s)
		if len(want) != len(got) || len(want) > 0 && !slices.Equal(want, got) {
			t.Fatalf("eachWord(%q) = %q, want %q", s, got, want)
		}
		for _, w := range got {
			if w == "" {
				t.Fatalf("eachWord(%q): an empty word", s)
			}
		}
		if w, g := referenceHashes(s), wordHashes(s); !slices.Equal(w, g) {
			t.Fatalf("wordHashes(%q) = %v, want %v", s, g, w)
		}
	})
}

var valueSink any

// TestEventTypeValueIsItsName: the event built-in's value is the type's name, and for the
// known types putting it in the environment allocates nothing.
func TestEventTypeValueIsItsName(t *testing.T) {
	for _, et := range []EventType{EventAnswer, EventSay, EventChoose, EventHangup, EventTimeout,
		EventWhisper, EventTyping, EventHint, "something-else"} {
		assert.Equal(t, string(et), et.value())
	}
	for _, et := range []EventType{EventSay, EventTimeout, EventTyping} {
		assert.Zero(t, testing.AllocsPerRun(100, func() { valueSink = et.value() }), et)
	}
}
