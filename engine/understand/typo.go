package understand

// Step 5: typos. A typed word that is not a lexicon word, not a real English word (the
// embedded list) and at least TypoMinTypedLetters long is read as a lexicon word of at
// least TypoMinLetters letters one edit away (a letter added, dropped, changed, or two
// neighbours swapped: Damerau) when exactly one such word exists. So "apologse" reads as
// "apologise", "wraping" as "wrapping" and "donw" as "down", but "story" is never read as
// "sorry": it is a word. A typed word of ShortTypoLetters letters is corrected only by
// swapping two neighbours ("teh" is "the", "otu" is "out") or adding one letter ("hve" is
// "have"): a changed letter in a three-letter word is too often another word.

// Typo limits.
const (
	// TypoMinLetters is the shortest lexicon word a typo of four or more letters is
	// corrected to.
	TypoMinLetters = 4
	// TypoMinTypedLetters is the shortest typed word corrected by any one edit.
	TypoMinTypedLetters = 4
	// ShortTypoLetters is the length of the short typed words corrected only by a swap of
	// neighbours or one added letter.
	ShortTypoLetters = 3
)

// typoIndex finds lexicon words one edit from a typed word (symmetric deletion: two words
// are one edit apart only if they are equal after deleting at most one letter from each).
type typoIndex struct {
	byDelete map[string][]string // a vocabulary word with one letter deleted, or whole -> words
}

func newTypoIndex(vocab map[string]bool) typoIndex {
	ti := typoIndex{byDelete: map[string][]string{}}
	add := func(k, w string) {
		for _, x := range ti.byDelete[k] {
			if x == w {
				return
			}
		}
		ti.byDelete[k] = append(ti.byDelete[k], w)
	}
	for w := range vocab {
		if !asciiLetters(w) || len(w) < ShortTypoLetters {
			continue
		}
		add(w, w)
		for i := range len(w) {
			add(w[:i]+w[i+1:], w)
		}
	}
	return ti
}

func asciiLetters(w string) bool {
	for i := 0; i < len(w); i++ {
		if w[i] < 'a' || w[i] > 'z' {
			return false
		}
	}
	return w != ""
}

// correct returns the vocabulary word one edit from w, or "". When several are, a swap
// of two neighbours wins over other edits ("rign" is "ring", not "sign"), then a doubled
// letter typed once ("sory" is "sorry", not "sort"), then a word that keeps the typed first
// letter, then such a word that is not a filler ("verfy" is "verify", not "very"); a tie
// left is no correction.
func (ti *typoIndex) correct(w string) string {
	if len(w) < ShortTypoLetters || len(ti.byDelete) == 0 || !asciiLetters(w) {
		return ""
	}
	short := len(w) < TypoMinTypedLetters
	var found [4]string
	n := 0
	consider := func(cands []string) {
		for _, c := range cands {
			if !oneEdit(w, c) {
				continue
			}
			if short && !(len(c) == len(w) && !substitution(w, c) || len(c) == len(w)+1) ||
				!short && len(c) < TypoMinLetters {
				continue
			}
			dup := false
			for _, f := range found[:min(n, len(found))] {
				dup = dup || f == c
			}
			if !dup {
				if n < len(found) {
					found[n] = c
				}
				n++
			}
		}
	}
	consider(ti.byDelete[w])
	var buf [64]byte
	if len(w) > len(buf) {
		return ""
	}
	for i := range len(w) {
		k := append(append(buf[:0], w[:i]...), w[i+1:]...)
		consider(ti.byDelete[string(k)])
	}
	switch {
	case n == 1:
		return found[0]
	case n == 0 || n > len(found):
		return ""
	}
	pick := func(ok func(c string) bool) (string, bool) {
		got, m := "", 0
		for _, c := range found[:n] {
			if ok(c) {
				got, m = c, m+1
			}
		}
		return got, m == 1
	}
	if c, ok := pick(func(c string) bool { return len(c) == len(w) && !substitution(w, c) }); ok {
		return c
	}
	if c, ok := pick(func(c string) bool { return doubled(w, c) }); ok {
		return c
	}
	if c, ok := pick(func(c string) bool { return c[0] == w[0] }); ok {
		return c
	}
	// A word that means something beats a filler ("verfy" is "verify", not "very"): a
	// filler read in its place would be skipped anyway.
	if c, ok := pick(func(c string) bool { return c[0] == w[0] && !fillers[c] }); ok {
		return c
	}
	// Forms of one word read the same ("opend": "open" or "opened"): the first of them
	// in order, so that the choice does not depend on the index.
	got, stem := "", ""
	for _, c := range found[:n] {
		if c[0] != w[0] {
			continue
		}
		switch st := Stem(c); {
		case got == "":
			got, stem = c, st
		case st != stem:
			return ""
		case c < got:
			got = c
		}
	}
	return got
}

// oneEdit reports whether a and b differ by exactly one insertion, deletion, substitution
// or swap of two neighbouring letters.
func oneEdit(a, b string) bool {
	if a == b {
		return false
	}
	la, lb := len(a), len(b)
	switch {
	case la == lb:
		i := 0
		for i < la && a[i] == b[i] {
			i++
		}
		if a[i+1:] == b[i+1:] {
			return true // substitution
		}
		return i+1 < la && a[i] == b[i+1] && a[i+1] == b[i] && a[i+2:] == b[i+2:]
	case la == lb+1:
		return deletes(a, b)
	case lb == la+1:
		return deletes(b, a)
	}
	return false
}

// deletes reports whether deleting one letter of long gives short.
func deletes(long, short string) bool {
	i := 0
	for i < len(short) && long[i] == short[i] {
		i++
	}
	return long[i+1:] == short[i:]
}

// substitution reports whether a and b (of one length, one edit apart) differ in one letter
// rather than by a swap of neighbours.
func substitution(a, b string) bool {
	d := 0
	for i := 0; i < len(a); i++ {
		if a[i] != b[i] {
			d++
		}
	}
	return d == 1
}

// doubled reports whether c is w with one of its letters typed twice ("sory" → "sorry").
func doubled(w, c string) bool {
	if len(c) != len(w)+1 || !deletes(c, w) {
		return false
	}
	for i := 0; i+1 < len(c); i++ {
		if c[i] == c[i+1] && c[:i]+c[i+1:] == w {
			return true
		}
	}
	return false
}
