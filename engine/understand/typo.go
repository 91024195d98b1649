package understand

// Step 5: typos. A typed word that is not a lexicon word, not a real English word (the
// embedded list) and at least TypoMinTypedLetters long is read as a lexicon word of at
// least TypoMinLetters letters one edit away (a letter added, dropped, changed, or two
// neighbours swapped) when exactly one such word exists. So "apologse" reads as
// "apologise" and "wraping" as "wrapping", but "story" is never read as "sorry": it is a
// word.

// Typo limits.
const (
	// TypoMinLetters is the shortest lexicon word a typo is corrected to.
	TypoMinLetters = 5
	// TypoMinTypedLetters is the shortest typed word that is corrected.
	TypoMinTypedLetters = 4
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
		if !asciiLetters(w) || len(w) < TypoMinLetters {
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

// correct returns the only vocabulary word one edit from w, or "".
func (ti *typoIndex) correct(w string) string {
	if len(w) < TypoMinTypedLetters || len(ti.byDelete) == 0 || !asciiLetters(w) {
		return ""
	}
	found := ""
	consider := func(cands []string) bool {
		for _, c := range cands {
			if c == found || !oneEdit(w, c) {
				continue
			}
			if found != "" {
				return false // ambiguous
			}
			found = c
		}
		return true
	}
	if !consider(ti.byDelete[w]) {
		return ""
	}
	var buf [64]byte
	if len(w) > len(buf) {
		return ""
	}
	for i := range len(w) {
		k := append(append(buf[:0], w[:i]...), w[i+1:]...)
		if !consider(ti.byDelete[string(k)]) {
			return ""
		}
	}
	return found
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
