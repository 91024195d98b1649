package understand

import "strings"

// Step 3: contractions, chat spellings and numbers. Every form is rewritten to one
// canonical spelling so that a phrase written in any of them matches text typed in any
// other: "we're", "were" (as typed, at the start of a clause), "we are" -> "we are";
// "can't", "cant", "cannot", "can not" -> "can not"; "I'll", "ill" -> "i will".

// expansions are the words typed without their apostrophe (or as chat spellings) that
// always mean their expansion.
var expansions = map[string]string{
	"dont": "do not", "doesnt": "does not", "didnt": "did not", "cant": "can not",
	"cannot": "can not", "wont": "will not", "wouldnt": "would not", "shouldnt": "should not",
	"couldnt": "could not", "mustnt": "must not", "neednt": "need not", "isnt": "is not",
	"arent": "are not", "wasnt": "was not", "werent": "were not", "havent": "have not",
	"hasnt": "has not", "hadnt": "had not", "aint": "is not", "shant": "shall not",
	"im": "i am", "ive": "i have", "youre": "you are", "youve": "you have", "youll": "you will",
	"youd": "you would", "theyre": "they are", "theyve": "they have", "theyll": "they will",
	"theyd": "they would", "weve": "we have", "thats": "that is", "whats": "what is",
	"theres": "there is", "heres": "here is", "lets": "let us", "its": "it is",
	"shouldve": "should have", "couldve": "could have", "wouldve": "would have",
	"mustve": "must have", "gonna": "going to", "wanna": "want to", "gotta": "got to",
	"u": "you", "ur": "your", "r": "are", "pls": "please", "plz": "please", "thx": "thanks",
	"ty": "thank you", "ok": "okay", "k": "okay", "kk": "okay", "sec": "second", "secs": "seconds",
	"min": "minute", "mins": "minutes", "hr": "hour", "hrs": "hours", "tmrw": "tomorrow",
	"tmr": "tomorrow", "tomoz": "tomorrow", "coz": "because", "cuz": "because", "cos": "because",
	"cause": "because", "bc": "because", "idk": "i do not know", "np": "no problem",
	"sry": "sorry", "soz": "sorry", "apols": "apologies", "thru": "through",
	"abt": "about", "b4": "before", "ya": "you", "yep": "yes", "yup": "yes", "yeah": "yes",
	"yea": "yes", "nope": "no", "nah": "no", "tho": "though", "altho": "although",
	"prob": "probably", "probs": "probably", "msg": "message", "pw": "password",
	"asap": "as soon as possible", "atm": "at the moment",
	"rn": "right now", "fyi": "for your information", "cya": "see you", "gd": "good",
	"gr8": "great", "2day": "today", "2moro": "tomorrow", "nvm": "never mind",
}

// apostrophe suffixes, for words typed with one.
var suffixes = []struct{ suffix, word string }{
	{"n't", "not"}, {"'re", "are"}, {"'ve", "have"}, {"'ll", "will"}, {"'d", "would"}, {"'m", "am"},
}

// isBase are the words whose "'s" is "is" ("it's"); other "'s" is a possessive, dropped.
var isBase = map[string]bool{"it": true, "that": true, "there": true, "here": true, "what": true,
	"who": true, "where": true, "how": true, "he": true, "she": true, "this": true, "everything": true,
	"nothing": true, "something": true, "one": true, "when": true, "why": true}

// clauseOpeners may stand before "were" meaning "we're" ("sorry were out").
var clauseOpeners = set("sorry", "oh", "ah", "well", "yes", "no", "so", "but", "and", "unfortunately",
	"actually", "afraid", "think", "guess", "sure", "because", "as", "hi", "hello", "okay", "right",
	"sadly", "honestly", "then", "if", "now", "currently", "today", "hmm", "um", "uh", "erm", "apologies",
	"alas", "fear", "believe", "unfortunatly", "look", "listen", "hey", "great", "good", "thanks")

// illAdjective may stand before "ill" meaning unwell, not "I'll".
var illAdjective = set("am", "is", "are", "was", "were", "be", "been", "being", "feel", "feeling",
	"felt", "feels", "fell", "falls", "very", "so", "too", "really", "seriously", "critically",
	"terminally", "mentally", "got", "get", "gets", "getting", "look", "looks", "looking", "quite",
	"an", "the", "of", "taken", "became", "become")

// idVerbs may follow "id" meaning "I'd".
var idVerbs = set("have", "be", "like", "love", "need", "say", "suggest", "recommend", "rather",
	"prefer", "better", "do", "check", "go", "get", "think", "been", "not", "never", "just",
	"probably", "definitely", "happily", "gladly", "want", "ask", "hate", "imagine", "guess",
	"expect", "offer", "take", "put", "send", "call", "ring", "hope", "try", "advise", "really")

// youreAfter may follow "your" meaning "you're" ("your welcome", "your right").
var youreAfter = set("welcome", "right", "correct", "absolutely", "totally", "quite", "not", "so",
	"very", "being", "going", "looking", "all", "now", "in", "on", "booked")

// numbers are number words written as digits, so "fifteen seconds" is "15 seconds". "one"
// stays a word ("one moment", "no one") and "1" is written "one".
var numbers = map[string]string{
	"zero": "0", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7",
	"eight": "8", "nine": "9", "ten": "10", "eleven": "11", "twelve": "12", "thirteen": "13",
	"fourteen": "14", "fifteen": "15", "sixteen": "16", "seventeen": "17", "eighteen": "18",
	"nineteen": "19", "twenty": "20", "thirty": "30", "forty": "40", "fifty": "50", "sixty": "60",
	"seventy": "70", "eighty": "80", "ninety": "90", "hundred": "100", "thousand": "1000",
	"1": "one",
}

// rewrites is expansions and numbers in one map: one look-up per typed word.
var rewrites = func() map[string]string {
	m := make(map[string]string, len(expansions)+len(numbers))
	for k, v := range numbers {
		m[k] = v
	}
	for k, v := range expansions {
		m[k] = v
	}
	return m
}()

var tens = set("20", "30", "40", "50", "60", "70", "80", "90")
var units = map[string]int{"one": 1, "2": 2, "3": 3, "4": 4, "5": 5, "6": 6, "7": 7, "8": 8, "9": 9}

func set(ws ...string) map[string]bool {
	m := make(map[string]bool, len(ws))
	for _, w := range ws {
		m[w] = true
	}
	return m
}

// expand rewrites typed words into canonical tokens; each token remembers the typed word it
// came from.
func expand(ws []word) []Token {
	out := make([]Token, 0, len(ws)+4)
	emit := func(text string, orig int, clause int) {
		if strings.IndexByte(text, ' ') < 0 {
			out = append(out, Token{Word: text, Orig: orig, Clause: clause})
			return
		}
		for f := range strings.FieldsSeq(text) {
			out = append(out, Token{Word: f, Orig: orig, Clause: clause})
		}
	}
	for i, w := range ws {
		t := w.text
		prev, next := "", ""
		if i > 0 && ws[i-1].clause == w.clause {
			prev = ws[i-1].text
		}
		if i+1 < len(ws) && ws[i+1].clause == w.clause {
			next = ws[i+1].text
		}
		if strings.Contains(t, "'") {
			emit(expandApostrophe(t), i, w.clause)
			continue
		}
		switch t {
		case "were":
			if prev == "" || clauseOpeners[prev] {
				t = "we are"
			}
		case "ill":
			if !illAdjective[prev] {
				t = "i will"
			}
		case "id":
			if idVerbs[next] {
				t = "i would"
			}
		case "your":
			if youreAfter[next] {
				t = "you are"
			}
		default:
			if e, ok := rewrites[t]; ok {
				t = e
			}
		}
		emit(t, i, w.clause)
	}
	// "twenty four" -> "24".
	for i := 0; i+1 < len(out); i++ {
		if tens[out[i].Word] && out[i+1].Clause == out[i].Clause {
			if u, ok := units[out[i+1].Word]; ok {
				out[i].Word = out[i].Word[:1] + string(rune('0'+u))
				out = append(out[:i+1], out[i+2:]...)
			}
		}
	}
	return out
}

// expandApostrophe rewrites a word typed with an apostrophe.
func expandApostrophe(t string) string {
	switch t {
	case "can't":
		return "can not"
	case "won't":
		return "will not"
	case "shan't":
		return "shall not"
	case "ain't":
		return "is not"
	case "let's":
		return "let us"
	case "y'all":
		return "you all"
	case "o'clock":
		return "oclock"
	}
	for _, s := range suffixes {
		if base, ok := strings.CutSuffix(t, s.suffix); ok && base != "" {
			return expandApostrophe(base) + " " + s.word
		}
	}
	if base, ok := strings.CutSuffix(t, "'s"); ok && base != "" {
		if isBase[base] {
			return base + " is"
		}
		return strings.ReplaceAll(base, "'", "")
	}
	t = strings.ReplaceAll(t, "'", "")
	if e, ok := expansions[t]; ok {
		return e
	}
	return t
}
