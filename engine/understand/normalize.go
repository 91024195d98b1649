package understand

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// Normalize is step 1 of the pipeline: Unicode NFKC (so "ﬁ" is "fi" and full-width letters
// are letters), case folding ("ß" is "ss"), and every typographic apostrophe (’ ‘ ʼ ′ ` ´)
// written as ' and every typographic quote (“ ” „ « ») as ". Plain ASCII text is only
// lower-cased. The result is valid UTF-8 and Normalize(Normalize(s)) == Normalize(s).
func Normalize(text string) string {
	ascii := true
	for i := 0; i < len(text); i++ {
		if text[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToLower(text)
	}
	text = strings.ToValidUTF8(text, " ")
	// Fold, then compose: folding can undo a composition and NFKC can create letters that
	// fold again, all run until nothing changes (a lower-case pass last: folding maps a few
	// scripts, such as Cherokee, to upper case).
	folder := cases.Fold()
	for range 4 {
		next := strings.ToLower(norm.NFKC.String(folder.String(strings.Map(typographic, text))))
		if next == text {
			break
		}
		text = next
	}
	return text
}

// typographic maps typographic apostrophes and quotes to ASCII.
func typographic(r rune) rune {
	switch r {
	case '’', '‘', 'ʼ', '′', '‛', '`', '´', 'ʹ', 'ʻ', '＇':
		return '\''
	case '“', '”', '„', '«', '»', '‟', '″', '＂':
		return '"'
	}
	return r
}

// word is one word of the text as typed (normalised), with the clause it is in.
type word struct {
	text   string
	clause int
}

// sentenceShift packs the sentence into a clause number: clauses of one sentence (cut by
// commas) share clause >> sentenceShift.
const sentenceShift = 16

// sentenceOf returns the sentence a clause number belongs to.
func sentenceOf(clause int) int { return clause >> sentenceShift }

// isBoundary reports whether r ends a clause: negation never reaches across it.
func isBoundary(r rune) bool {
	switch r {
	case '.', ',', ';', ':', '!', '?', '(', ')', '[', ']', '{', '}', '—', '–', '…', '\n', '"', '/', '|':
		return true
	}
	return false
}

// split is step 2: it cuts normalised text into words. A word is letters and digits, with
// apostrophes inside it ("don't") and digits grouped across ',', '.' and ':' ("2,400" is
// "2400", "2.5" stays "2.5", a clock time "06:40" stays "06:40"); a currency sign before
// an amount is read as its unit after it ("£25" is "25 pounds"). Sentence punctuation, brackets, quotes, dashes and new lines end a
// clause; every other character is a plain word break ("long-press" is "long press").
func split(s string) []word { return splitInto(make([]word, 0, len(s)/4+1), s) }

// splitInto is split appending to out.
func splitInto(out []word, s string) []word {
	clause := 0
	start := -1        // byte offset of the current word
	var grouped []byte // the current word when digit grouping dropped a separator
	currency := ""     // the unit of a currency sign just before the current word
	flush := func(end int) {
		if start < 0 {
			return
		}
		w := s[start:end]
		if grouped != nil {
			w = string(grouped)
			grouped = nil
		}
		w = strings.Trim(w, "'")
		if w != "" {
			out = append(out, word{text: w, clause: clause})
			if currency != "" && isDigitByte(w[0]) {
				out = append(out, word{text: currency, clause: clause})
			}
		}
		currency = ""
		start = -1
	}
	for i := 0; i < len(s); {
		if (s[i] == 'a' || s[i] == 'p') && (start < 0 || grouped == nil && allDigits(s[start:i])) && meridiem(s, i) {
			// "8 a.m." and "8a.m." are "8 am": their full stops end no clause.
			flush(i)
			out = append(out, word{text: s[i:i+1] + "m", clause: clause})
			i += 3
			if i < len(s) && s[i] == '.' {
				i++
			}
			continue
		}
		r, size := rune(s[i]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(s[i:])
		}
		switch {
		case r < utf8.RuneSelf && (r >= 'a' && r <= 'z' || r >= '0' && r <= '9') ||
			r >= utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)):
			if start < 0 {
				start = i
			}
			if grouped != nil {
				grouped = append(grouped, s[i:i+size]...)
			}
		case r == '\'' && start >= 0:
			if grouped != nil {
				grouped = append(grouped, '\'')
			}
		case (r == ',' || r == '.' || r == ':') && start >= 0 && isDigitByte(s[i-1]) && i+1 < len(s) && isDigitByte(s[i+1]):
			if grouped == nil {
				grouped = append([]byte(nil), s[start:i]...)
			}
			if r != ',' {
				grouped = append(grouped, byte(r)) // a decimal point, a clock time's colon
			} // a thousands separator is dropped
		case r == '.' && start >= 0 && grouped == nil && domainDot(s, i):
			// "booking.com", "amazon.co.uk": a web address is one word; its dots end no
			// sentence (and "com" is no typo of "come").
		case (r == '-' || r == '–') && start >= 0 && grouped == nil && rangeSide(s[start:i]) && rangeSide(leadingDigits(s[i+size:])):
			// "8-12", "12–6", "5-7 working days": a range is "8 to 12" (not a phone
			// number's groups, whose sides have more digits).
			flush(i)
			out = append(out, word{text: "to", clause: clause})
		default:
			flush(i)
			if u := currencies[r]; u != "" && i+size < len(s) && isDigitByte(s[i+size]) {
				currency = u // "£25" is "25 pounds"
			}
			if isBoundary(r) && len(out) > 0 && out[len(out)-1].clause == clause {
				// A comma ends a clause inside its sentence; the rest end the sentence too
				// (sentenceOf): a phrase may span a comma ("fine, whatever"), negation may not.
				if r == ',' {
					clause++
				} else {
					clause = (sentenceOf(clause) + 1) << sentenceShift
				}
			}
		}
		i += size
	}
	flush(len(s))
	return out
}

// rangeSide reports whether w is one side of a range: one or two digits.
func rangeSide(w string) bool { return len(w) >= 1 && len(w) <= 2 && allDigits(w) }

// leadingDigits returns the digits s starts with.
func leadingDigits(s string) string {
	n := 0
	for n < len(s) && isDigitByte(s[n]) {
		n++
	}
	return s[:n]
}

// currencies are the currency signs read as the unit after their amount ("£24.99" is
// "24.99 pounds", as a person would say it).
var currencies = map[rune]string{'£': "pounds", '$': "dollars", '€': "euros"}

// meridiem reports whether "a.m" or "p.m" stands at i after a number ("8 a.m.", "8a.m."),
// not inside a word.
func meridiem(s string, i int) bool {
	if !strings.HasPrefix(s[i+1:], ".m") || i+3 < len(s) && isLetterByte(s[i+3]) {
		return false
	}
	j := i - 1
	for j >= 0 && s[j] == ' ' {
		j--
	}
	return j >= 0 && isDigitByte(s[j])
}

func allDigits(w string) bool {
	for i := 0; i < len(w); i++ {
		if !isDigitByte(w[i]) {
			return false
		}
	}
	return w != ""
}

func isLetterByte(c byte) bool { return c >= 'a' && c <= 'z' }

func isDigitByte(c byte) bool { return c >= '0' && c <= '9' }

// topLevelDomains are the endings that make "word.ending" a web address (domainDot).
var topLevelDomains = map[string]bool{"com": true, "co": true, "uk": true, "org": true, "net": true,
	"io": true, "ie": true, "de": true, "fr": true, "es": true, "it": true, "nl": true, "eu": true,
	"gov": true, "edu": true, "info": true, "biz": true, "us": true, "ca": true, "au": true, "app": true}

// domainDot reports whether the full stop at s[i], inside a word, is a web address's: the
// letters right after it are a top-level domain ending the word ("booking.com", "bbc.co.uk",
// not "done.thanks").
func domainDot(s string, i int) bool {
	j := i + 1
	for j < len(s) && s[j] >= 'a' && s[j] <= 'z' {
		j++
	}
	if j == i+1 || j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] >= utf8.RuneSelf) {
		return false
	}
	return topLevelDomains[s[i+1:j]]
}
