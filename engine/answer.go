package engine

import (
	"slices"
	"strings"
)

// Yes-or-no answers. A customer's question such as "should I let it install the
// updates?" or "do you have any Manchego?" is often answered with a bare "no!" or "yes she
// can", which no phrase of the intent the designer meant says. A node names those intents
// (yes_means, no_means); a reply that starts with an answer (YesNo) then means the intent
// too. See docs/scenario-format.md, "Yes-or-no answers".

// Answers of YesNo.
const (
	AnswerNone = 0
	AnswerYes  = 1
	AnswerNo   = -1
)

// answerOpeners may come before the answer ("oh no", "sorry, no", "well yes", "um, nope").
var answerOpeners = set("oh", "um", "umm", "erm", "er", "uh", "ah", "well", "hmm", "hm", "sorry", "im",
	"so", "very", "really", "but", "apologies", "honestly", "then")

// yesAnswers and noAnswers, as word sequences, the longest first when one starts another.
var (
	yesAnswers = [][]string{{"yes"}, {"yeah"}, {"yep"}, {"yup"}, {"yea"}, {"ya"}, {"yah"}, {"aye"},
		{"of", "course"}, {"course"}, {"sure"}, {"certainly"}, {"absolutely"}, {"definitely"}, {"indeed"},
		{"go", "ahead"}, {"by", "all", "means"}, {"please", "do"}, {"correct"}, {"thats", "right"},
		{"thats", "correct"}}
	noAnswers = [][]string{{"no"}, {"nope"}, {"nah"}, {"naw"}, {"not", "yet"}, {"not", "really"},
		{"not", "today"}, {"not", "now"}, {"not", "right", "now"}, {"not", "at", "the", "moment"},
		{"definitely", "not"}, {"absolutely", "not"}, {"certainly", "not"}, {"of", "course", "not"},
		{"afraid", "not"}, {"im", "afraid", "not"}, {"unfortunately", "not"}, {"sadly", "not"},
		{"i", "dont", "think", "so"}, {"better", "not"}, {"id", "rather", "not"}, {"no", "need"}}
	// notNo after "no" make it no answer ("no problem", "no worries": a yes, if anything).
	notNo = set("problem", "problems", "worries", "worry", "bother", "trouble", "doubt", "rush", "hurry",
		"pressure", "matter", "idea", "wonder", "stress", "sweat", "fuss", "harm", "question")
	// dontAnswers are whole replies that refuse ("don't!", "please don't", "don't do it").
	dontAnswers = [][]string{{"dont"}, {"please", "dont"}, {"dont", "do", "it"}, {"do", "not"},
		{"please", "do", "not"}, {"dont", "do", "that"}}
)

// YesNo reports whether a reply answers a yes-or-no question, and the words that do: a
// reply whose first words, after openers such as "oh", "um", "well" or "sorry", are a yes
// ("yes", "yeah", "yep", "of course", "sure", "certainly", "absolutely", "go ahead",
// "that's right"…) or a no ("no", "nope", "nah", "not yet", "not really", "afraid not",
// "definitely not", "I don't think so", "no need"…), or that is only "don't" ("please
// don't", "don't do it"). Not an answer: the word asked back ("yes?", "sure?"), a yes
// negated ("sure not", "of course not" is a no), "no problem" and the like.
func YesNo(text string) (answer int, words string) {
	// The first words only, lower-cased into a stack buffer, apostrophes dropped ("don't"
	// is "dont"), each word a slice of it: an answer allocates nothing until it is found
	// (YesNo runs on every reply at a node with yes_means or no_means).
	var buf [answerScanBytes]byte
	var ws [answerScanWords][]byte
	var after [answerScanWords]int // offset in text just after each word
	nw, nb, start := 0, 0, -1
	i := 0
	for ; i < len(text) && nw < answerScanWords; i++ {
		c := text[i]
		if c == '\'' {
			continue
		}
		if c == 0xE2 && i+2 < len(text) && text[i+1] == 0x80 && text[i+2] == 0x99 { // ’
			i += 2
			continue
		}
		letter := 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c >= 0x80
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
			letter = true
		}
		if letter {
			if nb == len(buf) {
				break // the rest is not read: complete stays false below
			}
			if start < 0 {
				start = nb
			}
			buf[nb] = c
			nb++
			continue
		}
		if start >= 0 {
			ws[nw], after[nw] = buf[start:nb], i
			nw++
			start = -1
			if nb < len(buf) {
				buf[nb] = ' '
				nb++
			}
		}
	}
	complete := i == len(text) // every word was read
	if start >= 0 && nw < answerScanWords {
		ws[nw], after[nw] = buf[start:nb], i
		nw++
	}
	k := 0
	for k < nw && answerOpeners[string(ws[k])] {
		k++
	}
	rest := ws[k:nw]
	asked := func(n int) bool { // the answer's last word is followed by "?"
		return strings.HasPrefix(strings.TrimLeft(text[after[k+n-1]:], " \t"), "?")
	}
	if len(rest) == 0 {
		return AnswerNone, ""
	}
	// Only the phrases that start with the reply's first word can match: they are looked
	// up by it (on a cold step one look-up, where reading every phrase's words cost a
	// cache miss each), in the order below.
	if complete {
		for _, a := range dontByFirst[string(rest[0])] {
			if equalWords(rest, a) {
				return AnswerNo, strings.Join(a, " ")
			}
		}
	}
	for _, a := range noByFirst[string(rest[0])] {
		if prefixWords(rest, a) && !asked(len(a)) && !(len(a) == 1 && a[0] == "no" && len(rest) > 1 && notNo[string(rest[1])]) {
			return AnswerNo, strings.Join(a, " ")
		}
	}
	for _, a := range yesByFirst[string(rest[0])] {
		if prefixWords(rest, a) && !asked(len(a)) && !(len(rest) > len(a) && string(rest[len(a)]) == "not") {
			return AnswerYes, strings.Join(a, " ")
		}
	}
	return AnswerNone, ""
}

// answerScanBytes and answerScanWords bound what YesNo reads: an answer is in a reply's
// first words (after a few openers).
const (
	answerScanBytes = 96
	answerScanWords = 12
)

func prefixWords(ws [][]byte, p []string) bool {
	if len(ws) < len(p) {
		return false
	}
	for i := range p {
		if string(ws[i]) != p[i] {
			return false
		}
	}
	return true
}

func equalWords(ws [][]byte, p []string) bool { return len(ws) == len(p) && prefixWords(ws, p) }

// The answer phrases by their first word: the don't-answers, the no-answers and the
// yes-answers, longest first.
var (
	dontByFirst = byFirstWord(dontAnswers)
	noByFirst   = byFirstWord(longestFirst(noAnswers))
	yesByFirst  = byFirstWord(longestFirst(yesAnswers))
)

// byFirstWord groups as by their first word, each group in the order of as.
func byFirstWord(as [][]string) map[string][][]string {
	m := map[string][][]string{}
	for _, a := range as {
		m[a[0]] = append(m[a[0]], a)
	}
	return m
}

// answerMeans returns said and understood with the intent node n names for the answer
// text is (yes_means, no_means), if any: said by value, understood never changed in
// place (a static choice's is shared).
func (n *Node) answerMeans(sc *Scenario, text string, said intentSet, understood []Understood) (intentSet, []Understood) {
	if n.yesMeans == 0 && n.noMeans == 0 {
		return said, understood
	}
	a, words := YesNo(text)
	i := -1
	switch {
	case a == AnswerYes && n.yesMeans > 0:
		i = n.yesMeans - 1
	case a == AnswerNo && n.noMeans > 0:
		i = n.noMeans - 1
	}
	if i < 0 || said.has(i) {
		return said, understood
	}
	said.add(i)
	u := Understood{Intent: sc.Intents[i].Name, Words: words}
	k, _ := slices.BinarySearchFunc(understood, i, func(x Understood, i int) int { return sc.intentIndex[x.Intent] - i })
	return said, slices.Insert(slices.Clip(understood), k, u)
}

// longestFirst returns as sorted by length, longest first (stable).
func longestFirst(as [][]string) [][]string {
	out := slices.Clone(as)
	slices.SortStableFunc(out, func(a, b []string) int { return len(b) - len(a) })
	return out
}
