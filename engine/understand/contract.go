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
	"gr8": "great", "l8r": "later", "l8": "late", "2day": "today", "2moro": "tomorrow", "nvm": "never mind",
	// More chat spellings (issue 12, held-out 2): none is an English word of the list.
	"btw": "by the way", "tbh": "to be honest", "imo": "in my opinion", "imho": "in my opinion",
	"ppl": "people", "thnx": "thanks", "thanx": "thanks", "thnks": "thanks", "tnx": "thanks",
	"thankyou": "thank you", "thnk": "thank", "dunno": "do not know", "lemme": "let me",
	"gimme": "give me", "wat": "what", "ofc": "of course", "defo": "definitely", "def": "definitely",
	"prolly": "probably", "obvs": "obviously", "tonite": "tonight", "2nite": "tonight",
	"kinda": "kind of", "sorta": "sort of", "hv": "have", "jst": "just", "rly": "really",
	"wk": "week", "wks": "weeks", "yr": "year", "yrs": "years", "wud": "would", "shud": "should",
	"cud": "could", "alot": "a lot", "plse": "please", "pleeease": "please", "pleease": "please",
	"bcoz": "because", "becoz": "because", "becuz": "because", "bcos": "because", "coulda": "could have",
	"woulda": "would have", "shoulda": "should have", "appt": "appointment", "acc": "account",
	"txt": "text", "yw": "you are welcome", "aight": "alright",
	"mo": "moment", "asec": "a second",
	// Days, as typed in a hurry: none of these is an English word of the list ("wed",
	// "sat" and "sun" are, and stay as they are).
	"mon": "monday", "tue": "tuesday", "tues": "tuesday", "thu": "thursday", "thur": "thursday",
	"thurs": "thursday", "fri": "friday", "tmoro": "tomorrow", "2morrow": "tomorrow", "tmoz": "tomorrow",
	"dnt": "do not", "mightve": "might have",
	"hes": "he is", "shes": "she is", "wheres": "where is", "hows": "how is", "whos": "who is",
	"howd": "how would",
	"yall": "you all", "cmon": "come on", "gotcha": "got you", "omw": "on my way",
	"brb": "be right back", "hmmm": "hmm", "umm": "um",
	"ummm": "um", "uhm": "um", "errr": "erm", "okey": "okay", "okie": "okay", "okk": "okay",
	"tyvm": "thank you very much", "iam": "i am",
	// Misspelled contractions.
	"havnt": "have not", "havint": "have not", "dosent": "does not", "dosnt": "does not",
	"doesent": "does not", "didint": "did not", "dident": "did not", "isint": "is not",
	"arnt": "are not", "wasent": "was not", "cudnt": "could not", "wudnt": "would not",
	"cannt": "can not", "wount": "will not", "iv": "i have", "ima": "i am going to", "thanku": "thank you", "thankyu": "thank you",
	// "no one" run together or in chat digits: "noone will cut you off" was corrected to
	// "none", which negates nothing.
	"noone": "no one", "no1": "no one", "some1": "someone", "sum1": "someone", "any1": "anyone",
	"every1": "everyone", "evry1": "everyone",
}

// apostrophe suffixes, for words typed with one.
var suffixes = []struct{ suffix, word string }{
	{"n't", "not"}, {"'re", "are"}, {"'ve", "have"}, {"'ll", "will"}, {"'d", "would"}, {"'m", "am"},
}

// isBase are the words whose "'s" is "is" ("it's"); other "'s" is a possessive, dropped.
var isBase = map[string]bool{"it": true, "that": true, "there": true, "here": true, "what": true,
	"who": true, "where": true, "how": true, "he": true, "she": true, "this": true, "everything": true,
	"nothing": true, "something": true, "one": true, "when": true, "why": true}

// wereSubjects after "were" make it the verb of a question ("were you out?"), not "we're".
var wereSubjects = set("you", "u", "ya", "they", "he", "she", "it", "there", "we", "i", "the", "your", "ur")

// toObjects after "2", and forObjects after "4", make them "to" and "for" ("2 u", "4 you").
var (
	toObjects  = set("you", "u", "ya", "your", "ur", "me", "us", "them", "him", "her", "the", "my", "our", "their")
	forObjects = set("you", "u", "ya", "your", "ur", "me", "us", "them", "him", "her", "the", "this", "that",
		"calling", "waiting", "holding", "ringing", "being", "letting", "your")
)

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
// illVerbs after "ill" make it "i will" whatever comes before ("so ill call you back").
var illVerbs = set("call", "ring", "phone", "email", "text", "send", "check", "look", "sort", "get",
	"put", "pop", "book", "arrange", "refund", "cancel", "transfer", "pass", "speak", "talk", "let",
	"make", "fix", "find", "see", "try", "give", "take", "do", "have", "be", "just", "need", "update",
	"add", "move", "chase", "ask", "bring", "come", "go", "keep", "write", "note", "log", "raise")

var idVerbs = set("have", "be", "like", "love", "need", "say", "suggest", "recommend", "rather",
	"prefer", "better", "do", "check", "go", "get", "think", "been", "not", "never", "just",
	"probably", "definitely", "happily", "gladly", "want", "ask", "hate", "imagine", "guess",
	"expect", "offer", "take", "put", "send", "call", "ring", "hope", "try", "advise", "really")

// youreAfter may follow "your" meaning "you're" ("your welcome", "your right").
var youreAfter = set("welcome", "right", "correct", "absolutely", "totally", "quite", "not", "so",
	"very", "being", "going", "looking", "all", "now", "in", "on", "booked", "away", "here", "there",
	"still", "sure", "wrong", "a", "an", "the", "safe", "covered", "free", "done", "fine", "good",
	"great", "gonna", "off", "back", "due", "entitled", "eligible", "abroad", "travelling", "traveling")

// modalOf may stand before "of" meaning "have" ("should of", "could of").
var modalOf = set("should", "could", "would", "must", "might", "shouldnt", "couldnt", "wouldnt",
	"mustnt", "shoulda", "coulda")

// modalAdverbs may stand between the modal and that "of" ("should never of", "could
// easily of").
var modalAdverbs = set("never", "not", "really", "just", "easily", "definitely", "probably", "always")

// weVerbs may follow "well" at the start of a clause meaning "we'll" ("well sort it").
var weVerbs = set("get", "be", "sort", "send", "have", "do", "call", "need", "fix", "refund", "look",
	"check", "see", "make", "take", "put", "give", "let", "try", "ring", "email", "arrange", "cover",
	"bring", "pay", "issue", "process", "transfer", "update", "change", "move", "just", "definitely",
	"also", "never", "not", "contact", "book", "find", "replace", "reimburse", "waive", "upgrade")

// unstretch undoes letters held down for emphasis: a run of three or more of one letter is
// typed twice, or once when that makes an English word and twice does not ("sooooo" is
// "so", "sorryyyy" is "sorry", "pleeease" is "please", "nooo" is "no").
func unstretch(t string) string {
	run := false
	for i := 2; i < len(t); i++ {
		if t[i] == t[i-1] && t[i] == t[i-2] && t[i] >= 'a' && t[i] <= 'z' {
			run = true
			break
		}
	}
	if !run {
		return t
	}
	squeeze := func(to int) string {
		b := make([]byte, 0, len(t))
		for i := 0; i < len(t); {
			j := i
			for j < len(t) && t[j] == t[i] {
				j++
			}
			n := j - i
			if n >= 3 && t[i] >= 'a' && t[i] <= 'z' {
				n = to
			}
			for range n {
				b = append(b, t[i])
			}
			i = j
		}
		return string(b)
	}
	known := func(w string) bool {
		_, ok := rewrites[w]
		return ok || shortWords[w] || IsWord(w)
	}
	two, one := squeeze(2), squeeze(1)
	if !known(two) && known(one) {
		return one
	}
	return two
}

// shortWords are the one- and two-letter words a stretched word may be ("sooo" is "so").
var shortWords = set("so", "no", "oh", "ok", "hi", "go", "do", "we", "me", "ah", "eh", "uh", "um", "a", "i",
	"yo", "ha", "aw", "ow", "oi")

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
func expand(ws []word) []Token { return expandInto(make([]Token, 0, len(ws)+4), ws) }

// expandInto is expand appending to out.
func expandInto(out []Token, ws []word) []Token {
	emit := func(text string, orig int, clause int) {
		if strings.IndexByte(text, ' ') < 0 {
			out = append(out, Token{Word: text, Orig: orig, Clause: clause})
			return
		}
		for f := range strings.FieldsSeq(text) {
			out = append(out, Token{Word: f, Orig: orig, Clause: clause})
		}
	}
	skip := false
	for i, w := range ws {
		if skip {
			skip = false
			continue
		}
		t := w.text
		prev, next := "", ""
		if i > 0 && ws[i-1].clause == w.clause {
			prev = ws[i-1].text
		}
		if i+1 < len(ws) && ws[i+1].clause == w.clause {
			next = ws[i+1].text
		}
		if strings.Contains(t, "'") {
			e := expandApostrophe(t)
			if base, ok := strings.CutSuffix(t, "'s"); ok && base != "" && e == strings.ReplaceAll(base, "'", "") {
				e = nounS(e, ws, i) // "the bill's now 86", "your account's been flagged"
			}
			emit(hadOrWould(e, ws, i), i, w.clause)
			continue
		}
		t = unstretch(t)
		switch t {
		case "were":
			// Not before a subject: "were you out when he came?" asks, "were out" is "we're out".
			if (prev == "" || clauseOpeners[prev]) && !wereSubjects[next] {
				t = "we are"
			}
		case "2", "4":
			// Chat spellings of "to" and "for" before whom or what: "get it 2 u", "4 you".
			if t == "2" && toObjects[next] {
				t = "to"
			} else if t == "4" && forObjects[next] {
				t = "for"
			}
		case "e":
			if next == "mail" || next == "mails" {
				t, skip = "e"+next, true // "e-mail", "e mail"
			}
		case "ill":
			// "so ill" is ill, but "ok so ill call you" is "i will": a verb after it says so.
			if !illAdjective[prev] || illVerbs[next] {
				t = "i will"
			}
		case "id":
			if idVerbs[next] {
				t = "i would"
			}
		case "your", "ur":
			t = "your"
			if youreAfter[next] {
				t = "you are"
			}
		case "well":
			if prev == "" && weVerbs[next] {
				t = "we will" // "well get back to you"
			}
		case "of":
			modal := prev
			if modalAdverbs[prev] && i >= 2 && ws[i-2].clause == w.clause {
				modal = ws[i-2].text // "that should never of happened"
			}
			if modalOf[modal] && next != "course" {
				t = "have" // "you should of called", not "could of course"
			}
		case "prob", "probs":
			t = "probably"
			if prev == "no" {
				t = "problem" // "no probs"
			}
		default:
			if d, unit, ok := digitUnit(t); ok {
				if e, ok := rewrites[d]; ok {
					d = e // "1pm" is "one pm", as "1 pm" is
				}
				t = d + " " + unit // "15secs", "2mins"
				break
			}
			if h, m, ok := clockTime(t); ok {
				t = h // "9.00", "09:00" are "9"; "9:30" is "9 30"
				if m != "" {
					t += " " + m
				}
				if e, ok := rewrites[h]; ok && m == "" {
					t = e
				}
				break
			}
			if e, ok := rewrites[t]; ok {
				t = e
			}
		}
		emit(hadOrWould(t, ws, i), i, w.clause)
	}
	// "twenty four" -> "24", "twenty eighth" -> "28th".
	for i := 0; i+1 < len(out); i++ {
		if tens[out[i].Word] && out[i+1].Clause == out[i].Clause {
			if u, ok := units[out[i+1].Word]; ok {
				out[i].Word = out[i].Word[:1] + string(rune('0'+u))
				out = append(out[:i+1], out[i+2:]...)
			} else if o, ok := unitOrdinals[out[i+1].Word]; ok {
				out[i].Word = out[i].Word[:1] + o
				out = append(out[:i+1], out[i+2:]...)
			}
		}
	}
	return futures(composeHundreds(out))
}

// futures rewrites the ways of saying what a speaker will do to "will": "am/are/is going
// to" after a subject before a verb, and "will have to", "will need to" after "i" or "we" ("im going to
// check", "ill have to check" are "i will check"), so that a phrase written with one
// matches the others without a variant for each (docs/scenario-format.md, step 3).
// "going to the shop" keeps its going.
func futures(ts []Token) []Token {
	out := ts[:0]
	for i := 0; i < len(ts); i++ {
		t := ts[i]
		if i+3 < len(ts) && futureSubjects[prevWord(out)] && (t.Word == "am" || t.Word == "are" || t.Word == "is") &&
			ts[i+1].Word == "going" && ts[i+2].Word == "to" && !goingPlaces[ts[i+3].Word] &&
			ts[i+1].Clause == t.Clause && ts[i+2].Clause == t.Clause && ts[i+3].Clause == t.Clause {
			t.Word = "will"
			out = append(out, t)
			i += 2
			continue
		}
		if t.Word == "is" && i+1 < len(ts) && (ts[i+1].Word == "been" || ts[i+1].Word == "got") &&
			ts[i+1].Clause == t.Clause {
			// "it's been declined", "that's got a crack": the "'s" of a pronoun before
			// "been" or "got" is "has".
			t.Word = "has"
		}
		if t.Word == "will" && selfSubjects[prevWord(out)] && i+2 < len(ts) && (ts[i+1].Word == "have" || ts[i+1].Word == "need") &&
			ts[i+2].Word == "to" && ts[i+1].Clause == t.Clause && ts[i+2].Clause == t.Clause &&
			(i+3 == len(ts) || !goingPlaces[ts[i+3].Word]) {
			out = append(out, t)
			i += 2
			continue
		}
		out = append(out, t)
	}
	return out
}

func prevWord(ts []Token) string {
	if len(ts) == 0 {
		return ""
	}
	return ts[len(ts)-1].Word
}

// selfSubjects are the speaker's own: "ill have to check" is what the agent will do, "you'll
// have to ask the booking site" an obligation put on the customer, no "you will ask".
var selfSubjects = set("i", "we")

// futureSubjects may say what they are going to do.
var futureSubjects = set("i", "we", "you", "they", "he", "she", "it", "someone", "somebody", "team")

// goingPlaces after "going to" make it a journey, not a future ("going to the shop",
// "going to work"); after "have to", a noun ("have to the end").
var goingPlaces = set("the", "a", "an", "my", "your", "our", "their", "his", "her", "this", "that",
	"work", "school", "bed", "town", "church", "hospital", "london", "there", "here")

// unitOrdinals are the ordinals after a tens word ("twenty eighth" is "28th").
var unitOrdinals = map[string]string{"first": "1st", "second": "2nd", "third": "3rd", "fourth": "4th",
	"fifth": "5th", "sixth": "6th", "seventh": "7th", "eighth": "8th", "ninth": "9th"}

// timeUnits may be typed glued to a number ("15secs", "2mins", "3hrs").
var timeUnits = map[string]string{"s": "seconds", "sec": "second", "secs": "seconds", "second": "second",
	"seconds": "seconds", "m": "minutes", "min": "minute", "mins": "minutes", "minute": "minute",
	"minutes": "minutes", "hr": "hour", "hrs": "hours", "hour": "hour", "hours": "hours", "h": "hours",
	"day": "day", "days": "days", "wk": "week", "wks": "weeks", "week": "week", "weeks": "weeks",
	"quid": "quid", "pounds": "pounds", "p": "pence", "k": "1000", "am": "am", "pm": "pm"}

// clockTime reads a clock time typed with a separator: "9.00", "09:00" and "21:00" are
// the hour alone ("by 9.00" is "by 9"); "9:30" is the hour and the minutes ("9 30"). A
// decimal with other digits after its point ("9.30", "2.5") is a number, not a time.
func clockTime(t string) (hour, minutes string, ok bool) {
	if len(t) < 4 || len(t) > 5 || !isDigitByte(t[0]) {
		return "", "", false // most words: one look
	}
	i := strings.IndexAny(t, ".:")
	if i < 1 || i > 2 || len(t) != i+3 || !allDigits(t[:i]) || !allDigits(t[i+1:]) {
		return "", "", false
	}
	h := strings.TrimPrefix(t[:i], "0")
	if h == "" || len(h) == 2 && h > "24" || t[i+1] > '5' {
		return "", "", false
	}
	switch {
	case t[i+1:] == "00":
		return h, "", true
	case t[i] == ':':
		return h, t[i+1:], true
	}
	return "", "", false
}

// digitUnit splits a number typed glued to a unit: "15secs" is "15" and "seconds".
func digitUnit(t string) (string, string, bool) {
	if t == "" || !isDigitByte(t[0]) {
		return "", "", false
	}
	i := 0
	for i < len(t) && (isDigitByte(t[i]) || t[i] == '.') {
		i++
	}
	u, ok := timeUnits[t[i:]]
	if !ok || i == len(t) {
		return "", "", false
	}
	return t[:i], u, true
}

// numberValue is the value of a number token below 1000 ("7", "24", "one"), or -1.
func numberValue(w string) int {
	if w == "one" {
		return 1
	}
	if w == "" || len(w) > 3 {
		return -1
	}
	v := 0
	for i := 0; i < len(w); i++ {
		if !isDigitByte(w[i]) {
			return -1
		}
		v = v*10 + int(w[i]-'0')
	}
	return v
}

// composeHundreds reads "four hundred and twenty" as "420", "a hundred" as "100" and "two
// thousand" as "2000": a count (or "a") before "hundred"/"thousand", and a number below
// 100 after it, with or without "and".
func composeHundreds(out []Token) []Token {
	return compose(compose(out, "100"), "1000")
}

// compose reads a count before the multiplier word mw, and a number after it.
func compose(out []Token, mw string) []Token {
	mult := 100
	if mw == "1000" {
		mult = 1000
	}
	for i := 0; i+1 < len(out); i++ {
		if out[i+1].Word != mw {
			continue
		}
		if out[i+1].Clause != out[i].Clause {
			continue
		}
		n := numberValue(out[i].Word)
		if out[i].Word == "a" {
			n = 1
		}
		if n < 1 || n > 99 && mult == 100 {
			continue
		}
		v, j := n*mult, i+2
		k := j
		if k < len(out) && out[k].Word == "and" && out[k].Clause == out[i].Clause {
			k++
		}
		if k < len(out) && out[k].Clause == out[i].Clause {
			if r := numberValue(out[k].Word); r >= 0 && r < mult && (r < 100 || mult == 1000) {
				v, j = v+r, k+1
			}
		}
		out[i].Word = itoa(v)
		out = append(out[:i+1], out[j:]...)
	}
	return out
}

func itoa(v int) string {
	if v == 0 {
		return "0"
	}
	var b [12]byte
	i := len(b)
	for v > 0 {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
	}
	return string(b[i:])
}

// expandApostrophe rewrites a word typed with an apostrophe.
// hadOrWould reads an expansion ending in "would" (from "'d", "youd", "id") as "had"
// when a past participle follows, past adverbs such as "already" or "never": "if you'd
// sent us a reading" is "if you had sent", "id never seen" is "i had never seen".
func hadOrWould(e string, ws []word, i int) string {
	base, ok := strings.CutSuffix(e, " would")
	if !ok {
		return e
	}
	for j := i + 1; j < len(ws) && j <= i+3 && ws[j].clause == ws[i].clause; j++ {
		w := ws[j].text
		if participleAdverbs[w] {
			continue
		}
		if pastParticiple(w) {
			return base + " had"
		}
		break
	}
	return e
}

// participleAdverbs may stand between "had" and its participle.
var participleAdverbs = set("already", "just", "only", "never", "not", "ever", "both", "all", "also")

// irregularParticiples are past participles that do not end in "ed".
var irregularParticiples = set("been", "sent", "done", "gone", "given", "told", "got", "gotten", "forgotten",
	"made", "paid", "seen", "known", "taken", "written", "spoken", "bought", "brought", "thought", "left",
	"lost", "found", "kept", "heard", "said", "sold", "shown", "chosen", "broken", "stolen", "frozen",
	"begun", "eaten", "fallen", "driven", "ridden", "hidden", "understood", "meant", "spent", "built")

// pastParticiple reports whether w is a past participle: an irregular one, or a regular
// one ending in "ed" (not "need", "feed", "speed").
func pastParticiple(w string) bool {
	if irregularParticiples[w] {
		return true
	}
	return len(w) >= 5 && strings.HasSuffix(w, "ed") && !strings.HasSuffix(w, "eed")
}

// nounS reads a noun's "'s" (e, the noun without it) as "is" or "has" when what follows
// cannot follow a possessive: "the bill's now 86" is "the bill is now", "the letter's
// coming" is "is coming", "your account's been flagged" is "has been"; "the driver's van"
// stays a possessive.
func nounS(e string, ws []word, i int) string {
	if i+1 >= len(ws) || ws[i+1].clause != ws[i].clause {
		return e
	}
	next := ws[i+1].text
	switch {
	case next == "been" || next == "got" || next == "gone" || next == "left":
		return e + " has"
	case afterNounIs[next], len(next) >= 5 && (strings.HasSuffix(next, "ing") || pastParticiple(next)):
		return e + " is"
	}
	return e
}

// afterNounIs follow a noun's "'s" meaning "is": adverbs, prepositions and states.
var afterNounIs = set("now", "not", "here", "there", "already", "still", "just", "on", "in", "at",
	"ready", "done", "fine", "okay", "ok", "correct", "wrong", "due", "late", "free", "safe", "back",
	"over", "off", "out", "up", "away", "very", "really", "so", "too", "all", "definitely", "probably",
	"actually", "currently", "being", "going", "coming", "sorted", "fixed", "gone", "broken", "paid",
	"covered", "open", "closed", "available", "empty", "full", "right")

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
