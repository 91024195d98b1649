package understand

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"io"
	"strings"
	"sync"

	"github.com/kljensen/snowball/english"
)

// Step 4: word forms. Every token is reduced to its Porter2 (Snowball English) stem, so
// "apologise", "apologised", "apologising" and "apologies" all read as "apologis", and
// British -ise spellings are written -ize first so "apologize" reads the same.

//go:embed data/words.txt.gz
var wordsGz []byte

// dictionary is the embedded English word list (data/README.md) with each word's stem,
// built once per process on first use (about 60 ms): stemming is then a map look-up for
// every real word, and the Snowball stemmer runs only for words outside the list.
type dictionary struct {
	stems map[string]string
	// derived maps the stem of a derived noun to its verb's stem ("deliveri" of delivery,
	// deliveries -> "deliv" of deliver), for words outside the list (see derivations).
	derived map[string]string
}

// derivations are the noun endings whose stem Porter2 leaves apart from their verb's: a
// word of the list that ends in the first and is, with the second instead, a word of the
// list too, of at least derivedMinLetters letters, is stemmed as that word
// ("delivery" as "deliver", "prescription" as "prescribe", "explanation" as "explain",
// "permission" as "permit"), so a phrase written with either form matches both.
var derivations = [][2]string{
	{"ery", "er"}, {"eries", "er"}, {"scription", "scribe"}, {"scriptions", "scribe"},
	{"ception", "ceive"}, {"anation", "ain"}, {"anations", "ain"}, {"ification", "ify"},
	{"ifications", "ify"}, {"ission", "it"}, {"issions", "it"}, {"cision", "cide"},
	{"cisions", "cide"}, {"lution", "lve"}, {"lutions", "lve"},
}

// derivedMinLetters keeps short words out of derivations ("every" is not "ever").
const derivedMinLetters = 5

// notDerived are words an ending rule would take for another word's noun ("commission"
// is not "commit", "battery" not "batter").
var notDerived = set("commission", "commissions", "battery", "batteries", "bravery", "finery",
	"greenery", "misery", "miseries", "livery", "liveries", "slippery", "slavery", "summery",
	"watery", "revolution", "revolutions", "buttery", "butteries", "cookery", "cookeries")

// derivedWords are nouns whose verb no ending rule finds safely ("application" is "apply",
// but "replication" is not "reply").
var derivedWords = map[string]string{
	"application": "apply", "applications": "apply", "advice": "advise", "practice": "practise",
	"choice": "choose", "choices": "choose", "failure": "fail", "failures": "fail",
	"arrival": "arrive", "referral": "refer", "referrals": "refer", "complaint": "complain",
	"complaints": "complain", "departure": "depart", "pronunciation": "pronounce",
	"payment": "pay", "payments": "pay", "signature": "sign",
}

var dict = sync.OnceValue(func() *dictionary {
	zr, err := gzip.NewReader(bytes.NewReader(wordsGz))
	if err != nil {
		panic("understand: embedded word list: " + err.Error()) // a build defect, not input
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		panic("understand: embedded word list: " + err.Error())
	}
	text := string(data)
	d := &dictionary{stems: make(map[string]string, 70000), derived: map[string]string{}}
	for w := range strings.SplitSeq(text, "\n") {
		if w != "" {
			d.stems[w] = stemWord(w)
		}
	}
	for w, st := range d.stems {
		if notDerived[w] {
			continue
		}
		for _, dv := range derivations {
			rest, ok := strings.CutSuffix(w, dv[0])
			if !ok || len(rest)+len(dv[1]) < derivedMinLetters {
				continue
			}
			if base, ok := d.stems[rest+dv[1]]; ok && base != st {
				d.derived[st] = base
			}
			break
		}
	}
	for w, verb := range derivedWords {
		if st, base := stemWord(w), stemWord(verb); st != base {
			d.derived[st] = base
		}
	}
	for w, st := range d.stems {
		if base, ok := d.derived[st]; ok {
			d.stems[w] = base
		}
	}
	return d
})

// IsWord reports whether w (lower-case) is in the embedded English word list.
func IsWord(w string) bool {
	_, ok := dict().stems[w]
	return ok
}

// Stem returns the stem a word is matched by.
func Stem(w string) string {
	d := dict()
	if s, ok := d.stems[w]; ok {
		return s
	}
	s := stemWord(w)
	if base, ok := d.derived[s]; ok {
		return base
	}
	return s
}

// britishIze are stems whose British -is- spelling is written -iz- before stemming.
var britishIze = []string{"apologis", "realis", "recognis", "organis", "prioritis", "authoris",
	"customis", "finalis", "personalis", "summaris", "minimis", "maximis", "sympathis",
	"specialis", "criticis", "categoris", "utilis", "itemis", "emphasis", "standardis",
	"familiaris", "memoris", "optimis", "penalis", "reorganis", "visualis", "idealis"}

func stemWord(w string) string {
	if w != "" && isDigitByte(w[0]) {
		// An ordinal reads as its number: "28th" matches "28" and "twenty eighth".
		for _, suf := range []string{"st", "nd", "rd", "th"} {
			if n, ok := strings.CutSuffix(w, suf); ok && n != "" && strings.Trim(n, "0123456789") == "" {
				return n
			}
		}
		return w
	}
	if len(w) <= 2 {
		return w
	}
	for _, b := range britishIze {
		if rest, ok := strings.CutPrefix(w, b); ok && rest != "" && !(b == "emphasis" && rest == "") {
			if rest[0] == 'e' || rest[0] == 'i' {
				w = b[:len(b)-1] + "z" + rest
			}
			break
		}
	}
	// Irregular past forms the stemmer leaves apart read as their verb ("never had any" is
	// "have any", "ran out" is "run out"); forms that are words of their own in a call
	// ("done", "gone", "found", "left", "got", "came": "it came in" is no "come in") are kept.
	switch w { // irregular forms the stemmer leaves apart
	case "apology", "apologies":
		return english.Stem("apologize", false)
	case "bought":
		return "buy"
	case "had", "has":
		return "have"
	case "sold":
		return "sell"
	case "brought":
		return "bring"
	case "thought":
		return "think"
	case "told":
		return "tell"
	case "took", "taken":
		return "take"
	case "gave", "given":
		return "give"
	case "forgot", "forgotten":
		return "forget"
	case "froze", "frozen":
		return "freez"
	case "stole", "stolen":
		return "steal"
	case "shown":
		return "show"
	case "known":
		return "know"
	case "began", "begun":
		return "begin"
	case "made":
		return "make"
	case "ran":
		return "run"
	case "rang", "rung":
		return "ring"
	case "paid":
		return "pay"
	case "kept":
		return "keep"
	case "wrote", "written":
		return "write"
	case "spoke", "spoken":
		return "speak"
	case "knew":
		return "know"
	case "chose", "chosen":
		return "choos"
	case "sent":
		return "sent"
	case "withdrawn", "withdrew":
		return english.Stem("withdraw", false)
	case "overdrawn", "overdrew":
		return english.Stem("overdraw", false)
	case "drawn", "drew":
		return "draw"
	case "redone", "redid":
		return "redo"
	case "undone", "undid":
		return "undo"
	case "rewritten", "rewrote":
		return english.Stem("rewrite", false)
	case "caught":
		return "catch"
	case "taught":
		return "teach"
	case "sought":
		return "seek"
	case "meant":
		return "mean"
	case "spent":
		return "spend"
	case "lent":
		return "lend"
	case "built":
		return "build"
	case "heard":
		return "hear"
	case "dealt":
		return "deal"
	}
	return english.Stem(w, false)
}
