package understand

import (
	"fmt"
	"strings"
)

// PhraseWarning is a phrase that compiles but is unlikely to do what its designer meant.
type PhraseWarning struct {
	Index int // into the phrases checked
	Msg   string
}

// commonWords are words nearly every reply has: a phrase of one of them alone matches
// almost anything.
var commonWords = set("a", "an", "the", "to", "of", "in", "on", "at", "for", "and", "or", "is", "are",
	"be", "it", "i", "you", "we", "me", "my", "your", "our", "that", "this", "do", "have", "will",
	"can", "so", "just", "with", "as", "am")

// singleTrigger holds the negation triggers of one word ("no", "not", "never").
var singleTrigger = func() map[string]bool {
	m := map[string]bool{}
	for _, t := range triggers {
		if len(t) == 1 {
			m[t[0]] = true
		}
	}
	return m
}()

// CheckPhrases returns a warning for each phrase of one intent that is a single very
// common word ("the", "you") or a lone negation word ("no", "not": it matches every reply
// that negates anything). (Two phrases read the same are not reported: each adds its
// words to the vocabulary typos are corrected to.)
func CheckPhrases(phrases []string) []PhraseWarning {
	var ws []PhraseWarning
	for i, src := range phrases {
		s := strings.TrimSpace(src)
		if strings.HasPrefix(s, "~") || strings.ContainsAny(s, "*=") {
			continue // a negated, prefix or exact phrase says what it means
		}
		ts := canonical(s)
		if len(ts) != 1 {
			continue
		}
		switch w := ts[0].Word; {
		case singleTrigger[w]:
			ws = append(ws, PhraseWarning{i, fmt.Sprintf("phrase %q is a negation word on its own: it matches every reply with one (\"there is no problem\" too); write what is refused (\"no thanks\") or negated (\"~refund\")", src)})
		case commonWords[w]:
			ws = append(ws, PhraseWarning{i, fmt.Sprintf("phrase %q is a word nearly every reply has: it would match almost anything; use a longer phrase", src)})
		}
	}
	return ws
}
