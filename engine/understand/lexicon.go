package understand

import (
	"fmt"
	"slices"
	"strings"
)

// Token is one canonical word of a text: after normalisation, splitting, contractions and
// numbers (Word), its stem (Stem; empty when no stem pattern of the lexicon could match it), the typed word it came from (Orig, an index into
// Text.Typed), its clause, the typed word when a typo was corrected (Typo) and whether it
// is inside a negation (Neg: 1 + the trigger's token index; 0 when not negated).
type Token struct {
	Word   string
	Stem   string
	Orig   int
	Clause int
	Typo   string
	Neg    int
}

// Text is a message run through the pipeline.
type Text struct {
	Typed  []string // the words as typed, normalised
	Tokens []Token

	words []word // split's words, kept for their room (AnalyzeInto)
}

// Span returns the typed words of tokens [start, end), as the trainee wrote them.
func (t *Text) Span(start, end int) string {
	var b strings.Builder
	last := -1
	for k := start; k < end && k < len(t.Tokens); k++ {
		o := t.Tokens[k].Orig
		if o == last {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(t.Typed[o])
		last = o
	}
	return b.String()
}

type patKind uint8

const (
	patStem   patKind = iota // the token's stem equals s
	patExact                 // the token's word equals s ("=word")
	patPrefix                // the token's word starts with s ("word*")
)

type pattern struct {
	kind patKind
	s    string
	w    string // patStem: the canonical word the phrase was written with
	opt  bool   // an article inside a phrase: the text may leave it out
	// gap: a particle closing a phrasal verb ("cut off"): the text may put the verb's
	// object between them ("cut your heating off"), up to MaxParticleGap words.
	gap bool
	// tight: the second half of a split compound ("to day" for "today"), right after the
	// first, with no filler between ("a bad start to the day" is no "today").
	tight bool
	// alts are other English words typed for this one that it matches in exactly that
	// form, inside a phrase of two or more words (realWordAlts: "here" for "hear").
	alts []string
}

func (p *pattern) matches(t *Token) bool {
	switch p.kind {
	case patExact:
		return t.Word == p.s
	case patPrefix:
		// "ring* it up" matches "rung it up" too: an irregular form read as the word's verb.
		return strings.HasPrefix(t.Word, p.s) || p.w != "" && t.Stem == p.w
	}
	return t.Stem == p.s || p.alts != nil && slices.Contains(p.alts, t.Word)
}

// phrase is one compiled phrase of one intent.
type phrase struct {
	intent  int
	source  string
	pats    []pattern
	negated bool // "~phrase": counts only when negated
	// ownTrigger: the phrase contains a negation trigger ("dont have").
	ownTrigger bool
	except     bool // an exception: matches that overlap it do not count
}

// IntentSpec is what Compile needs of one intent.
type IntentSpec struct {
	Name    string
	Phrases []string // "word", "word*" (prefix), "=word" (this exact form), "~phrase" (negated)
	Except  []string // phrases that stop an overlapping match from counting
}

// PhraseError is a phrase Compile could not use.
type PhraseError struct {
	Intent int
	Index  int  // into Phrases, or Except when Except is set
	Except bool // the phrase is one of Except
	Msg    string
}

// Lexicon is the compiled matcher of a scenario's intents. It is immutable and safe for
// concurrent use.
type Lexicon struct {
	names   []string
	phrases []phrase
	// The phrases by their first pattern, exceptions (index 0) apart from the rest (1): the
	// matcher's first pass visits only exceptions, its second only the rest.
	byStem  [2]map[string][]entry // phrases whose first pattern is a stem
	byExact [2]map[string][]entry
	starred [2][256][]entry   // phrases whose first pattern is a prefix, by the prefix's first byte
	vocab   map[string]string // lexicon words (canonical) -> stem
	vocabSt map[string]bool   // lexicon stems
	// related are the lexicon words and the English words whose stem is a lexicon stem
	// ("apologising"), each with its stem; and
	// prefixes the first stemPrefix letters of lexicon stems: a word that is neither a
	// lexicon word nor related is stemmed only when it is not an English word and shares a
	// prefix with a lexicon stem (every other word cannot match a stem pattern).
	related   map[string]string
	prefixes  map[string]bool
	typos     typoIndex
	excepted  []bool // per intent: has exceptions
	hasExcept bool
	seen      map[string]bool // signatures of the phrases added, while compiling
}

// fillers may stand between two words of a phrase without breaking the match ("so very
// sorry" matches "so sorry"); at most MaxFillers in a row.
var fillers = set("really", "actually", "just", "quite", "very", "totally", "truly", "terribly",
	"awfully", "extremely", "honestly", "definitely", "genuinely", "deeply", "sincerely",
	"incredibly", "um", "uh", "erm", "hmm", "literally", "completely", "absolutely", "simply",
	"so", "now", "right", "please", "quickly", "also", "too", "kindly", "gladly", "happily",
	"certainly", "surely", "basically", "seriously", "super", "pretty", "oh", "well", "already", "quick", "little",
	"brief", "usually", "normally", "generally", "typically", "straight", "probably", "even",
	"the", "a",
	"an", "your", "my", "our", "this", "that",
	// "be" between a modal's negation and what follows ("not able to" matches "wont be
	// able to", "will refund" matches "will be refunding"); "being" as in "the system is
	// being slow"; a perfect's auxiliary before its participle ("we messed up" matches
	// "weve messed up" and "we have really messed up"). A phrase that has the word itself
	// still matches it: a filler is skipped only where the phrase's next word is not there.
	"be", "being", "have", "has", "had",
	// "own" after a possessive: "your own insurance" is "your insurance", "my own fault"
	// is "my fault".
	"own")

// articles inside a phrase may be left out by the text ("hold power button" matches "hold the
// power button").
var articles = set("the", "a", "an")

// twoLetterParts are the two-letter words a compound may be split into ("on line").
var twoLetterParts = set("on", "in", "up", "to", "at", "by", "no", "be", "do", "go", "me", "we", "it",
	"us", "of", "or", "if", "as", "is", "an", "so", "my")

// MaxVariants is how many spellings of a phrase with its compounds split or joined are
// matched besides the phrase as written.
const MaxVariants = 4

// stemPrefix is how many first letters of a stem the prefix filter compares.
const stemPrefix = 3

// MaxFillers is the most filler words skipped between two words of a phrase.
const MaxFillers = 2

// Compile builds the matcher of intents. Phrases that have no words are reported and left
// out; the rest still compile.
func Compile(specs []IntentSpec) (*Lexicon, []PhraseError) {
	lx := &Lexicon{byStem: [2]map[string][]entry{{}, {}}, byExact: [2]map[string][]entry{{}, {}},
		vocab: map[string]string{}, vocabSt: map[string]bool{}, excepted: make([]bool, len(specs))}
	var errs []PhraseError
	for i, sp := range specs {
		lx.names = append(lx.names, sp.Name)
		for j, src := range sp.Phrases {
			p, msg := lx.compilePhrase(src)
			if msg != "" {
				errs = append(errs, PhraseError{Intent: i, Index: j, Msg: msg})
				continue
			}
			p.intent = i
			lx.addWithVariants(p)
		}
		for j, src := range sp.Except {
			p, msg := lx.compilePhrase(src)
			if msg == "" && p.negated {
				msg = "an exception cannot be negated (~)"
			}
			if msg != "" {
				errs = append(errs, PhraseError{Intent: i, Index: j, Except: true, Msg: msg})
				continue
			}
			p.intent, p.except = i, true
			lx.excepted[i], lx.hasExcept = true, true
			lx.addWithVariants(p)
		}
	}
	for _, tr := range triggers {
		for _, w := range tr {
			lx.vocab[w] = Stem(w)
		}
	}
	for w := range fillers {
		lx.vocab[w] = Stem(w)
	}
	for _, tr := range slices.Concat(postTriggers, subjectPost) {
		for _, s := range tr {
			lx.vocabSt[s] = true
		}
	}
	lx.typos = newTypoIndex(lexWords(lx.vocab))
	lx.related, lx.prefixes = map[string]string{}, map[string]bool{}
	for w, st := range dict().stems {
		if lx.vocabSt[st] {
			lx.related[w] = st
		}
	}
	for w, st := range lx.vocab {
		lx.related[w] = st // one look-up per word at run time
	}
	for st := range lx.vocabSt {
		lx.prefixes[st[:min(len(st), stemPrefix)]] = true
	}
	lx.seen = nil
	return lx, errs
}

func lexWords(m map[string]string) map[string]bool {
	out := make(map[string]bool, len(m))
	for w := range m {
		out[w] = true
	}
	return out
}

// compoundVariants returns p spelled with a compound word split ("online" as "on line")
// or two neighbouring words joined into one English word ("log in" as "login", "turn off"
// as "turnoff"), at most MaxVariants.
func compoundVariants(p phrase) []phrase {
	var out []phrase
	with := func(at, drop int, pats ...pattern) {
		if len(out) >= MaxVariants {
			return
		}
		v := p
		v.pats = append(append(append([]pattern(nil), p.pats[:at]...), pats...), p.pats[at+drop:]...)
		out = append(out, v)
	}
	part := func(x string) bool { return len(x) >= 3 && IsWord(x) || twoLetterParts[x] }
	for i, pat := range p.pats {
		if pat.kind != patStem || len(pat.w) < 5 || !asciiLetters(pat.w) {
			continue
		}
		for cut := 2; cut <= len(pat.w)-2; cut++ {
			a, b := pat.w[:cut], pat.w[cut:]
			if part(a) && part(b) {
				with(i, 1, pattern{kind: patStem, s: Stem(a), w: a}, pattern{kind: patStem, s: Stem(b), w: b, tight: true})
			}
		}
	}
	for i := 0; i+1 < len(p.pats); i++ {
		a, b := p.pats[i], p.pats[i+1]
		if a.kind != patStem || b.kind != patStem || a.w == "" || b.w == "" {
			continue
		}
		if j := a.w + b.w; len(j) >= 5 && asciiLetters(j) && IsWord(j) {
			with(i, 2, pattern{kind: patStem, s: Stem(j), w: j})
		}
	}
	for k := range out {
		markArticles(out[k].pats)
	}
	return out
}

// MaxSwapVariants is how many spellings of a phrase with a word's neighbouring letters
// swapped into another English word are matched ("calm down" as "clam down").
const MaxSwapVariants = 4

// swapVariants returns p with one word of at least TypoMinLetters letters written with two
// neighbouring letters swapped, when that makes another English word ("calm" → "clam",
// "form" → "from"): a typo the word list cannot catch, read as the phrase only inside a
// phrase of two or more words whose other words are there as written. The swapped word
// matches only in that exact form.
func swapVariants(p phrase) []phrase {
	if len(p.pats) < 2 {
		return nil
	}
	var out []phrase
	for i, pat := range p.pats {
		if pat.kind != patStem || len(pat.w) < TypoMinLetters || !asciiLetters(pat.w) || pat.opt {
			continue
		}
		for k := 0; k+1 < len(pat.w) && len(out) < MaxSwapVariants; k++ {
			if pat.w[k] == pat.w[k+1] {
				continue
			}
			b := []byte(pat.w)
			b[k], b[k+1] = b[k+1], b[k]
			if sw := string(b); IsWord(sw) {
				v := p
				v.pats = append([]pattern(nil), p.pats...)
				v.pats[i] = pattern{kind: patExact, s: sw}
				out = append(out, v)
			}
		}
	}
	return out
}

// MaxRealWordVariants is how many other English words a phrase's words may be typed as
// (a homophone, or the word with a letter dropped: "sorry to here", "get the manger"),
// in all.
const MaxRealWordVariants = 4

// RealWordTypoMinLetters is the shortest phrase word whose dropped-letter spellings are
// matched ("manager" as "manger"), and the shortest such spelling: shorter words drop into
// too many others, and a short word left by a dropped letter is mostly a common word typed
// as meant ("site" is no "suite", "were" no "where": an outside designer's "booking site
// for" read as a "suite for" pitch).
const RealWordTypoMinLetters = 5

// Homophones are typed for each other ("sorry to here that", "wait" for "weight"): inside
// a phrase of two or more words whose other words are there, each is read as the other.
var Homophones = [][2]string{
	{"hear", "here"}, {"wait", "weight"}, {"break", "brake"}, {"peace", "piece"}, {"whole", "hole"},
	{"site", "sight"}, {"fair", "fare"}, {"lose", "loose"}, {"accept", "except"}, {"affect", "effect"},
	{"advice", "advise"}, {"then", "than"}, {"weather", "whether"}, {"course", "coarse"},
	{"through", "threw"}, {"passed", "past"}, {"quite", "quiet"}, {"definitely", "defiantly"},
	// A phrasal verb's particle with its second letter dropped: "wont be cut of".
	{"off", "of"},
	{"great", "grate"}, {"check", "cheque"}, {"sale", "sail"}, {"mail", "male"},
}

var homophoneOf = func() map[string][]string {
	m := map[string][]string{}
	for _, h := range Homophones {
		m[h[0]] = append(m[h[0]], h[1])
		m[h[1]] = append(m[h[1]], h[0])
	}
	return m
}()

// realWordAlts gives the words of p, a phrase of two or more words, the other English
// words they may be typed as: a homophone (Homophones), or, for a word of at least
// RealWordTypoMinLetters letters, the word with one letter after its first dropped
// ("manager" → "manger", "exciting" → "exiting"); at most MaxRealWordVariants in all. Like
// swapVariants, a typo the word list cannot catch, read as the phrase's word only where
// the phrase's other words are there; the typed word matches only in that exact form.
// Fillers, negations, particles and articles are never such a word.
func realWordAlts(p *phrase) {
	if len(p.pats) < 2 {
		return
	}
	n := 0
	add := func(i int, w string) {
		if n >= MaxRealWordVariants || fillers[w] || negFirst[w] || particles[w] || articles[w] ||
			slices.Contains(p.pats[i].alts, w) {
			return
		}
		p.pats[i].alts = append(p.pats[i].alts, w)
		n++
	}
	pats := slices.Clone(p.pats) // the caller's slice may be shared
	p.pats = pats
	for i := range pats {
		pat := &pats[i]
		if pat.kind != patStem || !asciiLetters(pat.w) || pat.opt {
			continue
		}
		for _, h := range homophoneOf[pat.w] {
			add(i, h)
		}
		if len(pat.w) < RealWordTypoMinLetters {
			continue
		}
		for k := 1; k < len(pat.w); k++ {
			if pat.w[k] == pat.w[k-1] {
				continue // "sorry" → "sory": the same spelling from either letter
			}
			if d := pat.w[:k] + pat.w[k+1:]; len(d) >= RealWordTypoMinLetters && IsWord(d) {
				add(i, d)
			}
		}
	}
}

// markArticles marks the articles inside a phrase (not its first or last word) optional.
func markArticles(pats []pattern) {
	for n := range pats {
		pats[n].opt = n > 0 && n < len(pats)-1 && pats[n].kind == patStem && articles[pats[n].w]
	}
	if n := len(pats) - 1; n > 0 && pats[n].kind == patStem && particles[pats[n].w] &&
		pats[n-1].kind == patStem && !articles[pats[n-1].w] && !particles[pats[n-1].w] && !objects[pats[n-1].w] &&
		!beForms[pats[n-1].w] {
		pats[n].gap = true
	}
}

// beForms before a particle make no phrasal verb: "we are out" is no "are ... out" with an
// object between ("are you out?").
var beForms = set("am", "is", "are", "was", "were", "be", "been", "being")

// determinerWords open a noun object that may stand on either side of a phrasal verb's
// particle ("switch the router off", "switch off the router"); a pronoun may not ("switch
// off it").
var determinerWords = func() map[string]bool {
	m := set("that")
	for _, s := range []map[string]bool{determiners, possessives} {
		for w := range s {
			m[w] = true
		}
	}
	return m
}()

// particleVariants returns p with a phrasal verb's particle moved to the other side of its
// noun object: "switch the router off" also as "switch off the router", and the other way.
// The object is the rest of the phrase after a determiner (at most MaxParticleGap words).
func particleVariants(p phrase) []phrase {
	ps := p.pats
	isStem := func(k int, m map[string]bool) bool { return ps[k].kind == patStem && m[ps[k].w] }
	n := len(ps)
	var out []pattern
	switch {
	case n >= 4 && isStem(n-1, particles):
		// "switch the router off": verb, determiner, object, particle.
		for v := 0; v+1 < n-1; v++ {
			if isStem(v+1, determinerWords) && n-1-(v+1) <= MaxParticleGap && !isStem(v, particles) {
				out = slices.Concat(ps[:v+1], ps[n-1:], ps[v+1:n-1])
				break
			}
		}
	case n >= 4:
		// "switch off the router": verb, particle, determiner, object to the end.
		for v := 0; v+2 < n; v++ {
			if isStem(v+1, particles) && isStem(v+2, determinerWords) && n-(v+2) <= MaxParticleGap &&
				ps[v].kind == patStem && !particles[ps[v].w] {
				out = slices.Concat(ps[:v+1], ps[v+2:], ps[v+1:v+2])
				break
			}
		}
	}
	if out == nil {
		return nil
	}
	v := p
	v.pats = slices.Clone(out)
	for k := range v.pats {
		v.pats[k].opt, v.pats[k].gap = false, false
	}
	markArticles(v.pats)
	return []phrase{v}
}

// dativeVerbs give or send something to someone: "send you a replacement" is also "send
// a replacement to you", and "email you" also "email it to you".
var dativeVerbs = set("send", "email", "mail", "text", "message", "give", "post", "forward", "offer",
	"hand", "bring", "lend", "pass")

// dativeStems are dativeVerbs' stems, and toStem the stem of "to", as phrases are stemmed.
var dativeStems, toStem = func() (map[string]bool, string) {
	m := map[string]bool{}
	for w := range dativeVerbs {
		for _, t := range canonical(w) {
			m[t.Stem] = true
		}
	}
	return m, canonical("to")[0].Stem
}()

// dativeVariants returns p with "you" after a verb of giving or sending moved behind its
// object with "to": "send you a replacement" also as "send a replacement to you" (the
// object a determiner's noun phrase ending the phrase, at most MaxParticleGap words), and
// "email you" ending a phrase also as "email <its object> to you" (the object, as a
// phrasal verb's, at most MaxParticleGap words starting with a determiner or pronoun).
func dativeVariants(p phrase) []phrase {
	ps := p.pats
	for k := 0; k+1 < len(ps); k++ {
		if ps[k].kind != patStem || !dativeStems[ps[k].s] || ps[k+1].kind != patStem || ps[k+1].w != "you" {
			continue
		}
		to := pattern{kind: patStem, s: toStem, w: "to"}
		rest := ps[k+2:]
		var out []pattern
		switch {
		case len(rest) == 0:
			out = slices.Concat(ps[:k+1], []pattern{to, ps[k+1]})
		case len(rest) <= MaxParticleGap && rest[0].kind == patStem && determinerWords[rest[0].w]:
			out = slices.Concat(ps[:k+1], rest, []pattern{to, ps[k+1]})
		default:
			continue
		}
		v := p
		v.pats = slices.Clone(out)
		for n := range v.pats {
			v.pats[n].opt, v.pats[n].gap = false, false
		}
		markArticles(v.pats)
		if len(rest) == 0 {
			v.pats[k+1].gap = true // the object stands before "to"
		}
		return []phrase{v}
	}
	return nil
}

// synonymsOf returns the synonym variants of each phrase of ps.
func synonymsOf(ps []phrase) []phrase {
	var out []phrase
	for _, p := range ps {
		out = append(out, synonymVariants(p)...)
	}
	return out
}

// particles close a phrasal verb whose object may stand inside it ("switch your router
// off", "send an engineer out", "call me back").
var particles = set("off", "on", "up", "down", "out", "back", "over", "in", "away", "through", "round", "around")

// objects already stand inside a phrase written with one ("turn it off"): no second gap.
var objects = set("it", "them", "me", "you", "him", "her", "us", "that", "this")

// objectStarts may open the object inside a phrasal verb: a determiner or a pronoun
// ("switch your router off", "call me back"), not a bare noun ("trying things on", where
// "things" may end another phrase). Which way a call back goes is the phrase's to say:
// write "call you back" for the agent's promise, "call us back" for the customer's errand.
var objectStarts = set("the", "a", "an", "your", "my", "our", "his", "her", "their", "this", "that",
	"these", "those", "it", "them", "me", "you", "him", "us", "everything", "all", "some", "any", "one",
	"anyone", "anybody", "anything", "someone", "somebody", "something", "everyone", "everybody", "people")

// isNumber reports whether w is a number as the pipeline writes it ("150", "2.5", "one").
func isNumber(w string) bool {
	if w == "one" {
		return true
	}
	for i := 0; i < len(w); i++ {
		if !isDigitByte(w[i]) && w[i] != '.' {
			return false
		}
	}
	return w != "" && isDigitByte(w[0])
}

// MaxParticleGap is the most words between a phrasal verb and its particle.
const MaxParticleGap = 3

// gapStops cannot be part of a phrasal verb's object: a clause or another phrase starts
// there ("turn left and off the motorway" is no "turn off").
var gapStops = set("and", "but", "or", "then", "so", "not", "no", "never", "if", "when", "because",
	"to", "for", "with", "from", "at", "by", "of", "is", "are", "was", "were", "will", "would", "can",
	"could", "should", "i", "we", "they", "he", "she")

// particleAfterGap returns where the particle pat stands after an object starting at k
// (at most MaxParticleGap words, in clause), or -1.
func particleAfterGap(ts []Token, k, clause int, pat *pattern) int {
	for j := k; j < len(ts) && j <= k+MaxParticleGap; j++ {
		if ts[j].Clause != clause {
			return -1
		}
		if j > k && pat.matches(&ts[j]) {
			return j
		}
		if gapStops[ts[j].Word] || particles[ts[j].Word] || j == k && !objectStarts[ts[j].Word] && !isNumber(ts[j].Word) {
			return -1
		}
	}
	return -1
}

// addWithVariants adds p and its spellings with synonyms swapped in and compounds split
// or joined.
// A variant that spells a phrase the intent already has (same words, same kind) is not
// added again: it would only be visited twice.
func (lx *Lexicon) addWithVariants(p phrase) {
	realWordAlts(&p)
	lx.add(p)
	pv := slices.Concat(particleVariants(p), dativeVariants(p))
	for _, v := range slices.Concat(synonymVariants(p), compoundVariants(p), swapVariants(p), pv, synonymsOf(pv)) {
		if lx.seen[signature(v)] {
			continue
		}
		v.ownTrigger = hasOwnTrigger(v.pats)
		lx.addWords(v)
		lx.add(v)
	}
}

// signature identifies a phrase's words, kind and intent.
func signature(p phrase) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d/%t/%t", p.intent, p.except, p.negated)
	for _, pat := range p.pats {
		fmt.Fprintf(&b, "/%d:%s:%t", pat.kind, pat.s, pat.opt)
	}
	return b.String()
}

// hasOwnTrigger reports whether a phrase contains a negation trigger ("dont have").
func hasOwnTrigger(pats []pattern) bool {
	for _, pat := range pats {
		if pat.kind == patStem && negFirst[pat.s] && !pseudoOnly[pat.s] {
			return true
		}
	}
	return false
}

// addWords adds a variant's words to the vocabulary.
func (lx *Lexicon) addWords(p phrase) {
	for _, pat := range p.pats {
		if pat.kind == patStem && pat.w != "" {
			lx.vocab[pat.w] = pat.s
			lx.vocabSt[pat.s] = true
		}
	}
}

func (lx *Lexicon) add(p phrase) {
	if lx.seen == nil {
		lx.seen = map[string]bool{}
	}
	lx.seen[signature(p)] = true
	e := entry{id: int32(len(lx.phrases)), needs: needs(p.pats)}
	lx.phrases = append(lx.phrases, p)
	k := 1 // the matcher's first pass visits only exceptions, its second only the others
	if p.except {
		k = 0
	}
	byStem, byExact, starred := lx.byStem[k], lx.byExact[k], &lx.starred[k]
	switch f := p.pats[0]; f.kind {
	case patStem:
		byStem[f.s] = append(byStem[f.s], e)
		for _, a := range f.alts {
			byExact[a] = append(byExact[a], e) // "here" typed for "hear"
		}
	case patExact:
		byExact[f.s] = append(byExact[f.s], e)
	default:
		starred[f.s[0]] = append(starred[f.s[0]], e)
	}
}

// compilePhrase runs a phrase through the same pipeline as a message. Marked words
// ("=word", "word*") keep their marks.
func (lx *Lexicon) compilePhrase(src string) (phrase, string) {
	p := phrase{source: src}
	s := strings.TrimSpace(src)
	if rest, ok := strings.CutPrefix(s, "~"); ok {
		p.negated, s = true, strings.TrimSpace(rest)
	}
	var run []string
	flush := func() {
		if len(run) == 0 {
			return
		}
		for _, t := range canonical(strings.Join(run, " ")) {
			p.pats = append(p.pats, pattern{kind: patStem, s: t.Stem, w: t.Word})
			lx.vocab[t.Word] = t.Stem
			lx.vocabSt[t.Stem] = true
		}
		run = run[:0]
	}
	for f := range strings.FieldsSeq(s) {
		switch {
		case strings.HasSuffix(f, "*") && len(f) > 1:
			flush()
			ws := canonical(strings.TrimSuffix(f, "*"))
			for k, t := range ws {
				kind, stem := patExact, ""
				if k == len(ws)-1 {
					kind, stem = patPrefix, t.Stem
					lx.prefixWords(t.Word)
				}
				p.pats = append(p.pats, pattern{kind: kind, s: t.Word, w: stem})
			}
		case strings.HasPrefix(f, "=") && len(f) > 1:
			flush()
			for _, t := range canonical(f[1:]) {
				p.pats = append(p.pats, pattern{kind: patExact, s: t.Word})
				lx.vocab[t.Word] = t.Stem
			}
		default:
			run = append(run, f)
		}
	}
	flush()
	if len(p.pats) == 0 {
		for r, unit := range currencies {
			if strings.ContainsRune(src, r) {
				return p, fmt.Sprintf("phrase %q has no words to match: a currency sign is read as its unit after the amount (\"%c20\" is \"20 %s\"), so write %q", src, r, unit, unit)
			}
		}
		return p, fmt.Sprintf("phrase %q has no words to match", src)
	}
	markArticles(p.pats)
	p.ownTrigger = hasOwnTrigger(p.pats)
	return p, ""
}

// MaxPrefixWords is how many English words starting with a phrase's prefix ("refund*")
// join the vocabulary typos are corrected to; a shorter prefix adds none.
const MaxPrefixWords = 40

// prefixWords adds the English words that start with prefix to the vocabulary, so that a
// typo of one of them ("refnd", "restaring") is read as it.
func (lx *Lexicon) prefixWords(prefix string) {
	if len(prefix) < TypoMinLetters-1 {
		return
	}
	var ws []string
	for w := range dict().stems {
		if strings.HasPrefix(w, prefix) {
			ws = append(ws, w)
			if len(ws) > MaxPrefixWords {
				return
			}
		}
	}
	for _, w := range ws {
		lx.vocab[w] = Stem(w)
	}
}

// canonical runs steps 1–4 (no typo correction, no negation) on a phrase.
func canonical(s string) []Token {
	ts := expand(split(Normalize(s)))
	for k := range ts {
		ts[k].Stem = Stem(ts[k].Word)
	}
	return ts
}

// Analyze runs a message through the whole pipeline.
func (lx *Lexicon) Analyze(text string) *Text { return lx.AnalyzeInto(new(Text), text) }

// AnalyzeInto is Analyze into t, whose previous contents it replaces, reusing the room of
// its slices: a caller that analyses message after message with one Text (the engine's
// pooled evaluation scratch) allocates nothing for them once they have grown. It
// returns t.
func (lx *Lexicon) AnalyzeInto(t *Text, text string) *Text {
	norm := Normalize(text)
	ws := splitInto(room(t.words, len(norm)/4+1), norm)
	t.words = ws
	t.Typed = room(t.Typed, len(ws))
	for _, w := range ws {
		t.Typed = append(t.Typed, w.text)
	}
	t.Tokens = expandInto(room(t.Tokens, len(ws)+4), ws)
	for k := range t.Tokens {
		tok := &t.Tokens[k]
		w := tok.Word
		if st, ok := lx.related[w]; ok { // lexicon words and their related forms
			tok.Stem = st
			continue
		}
		prefixed := lx.prefixes[w[:min(len(w), stemPrefix)]]
		if len(w) < ShortTypoLetters && !prefixed || IsWord(w) {
			continue // no stem pattern can match it and it is no typo
		}
		if nameSlot(t.Tokens, k) {
			continue // "my name is sam": a name is no typo of "same"
		}
		if fix := lx.typos.correct(w); fix != "" {
			tok.Typo, tok.Word, tok.Stem = w, fix, lx.vocab[fix]
			continue
		}
		if prefixed {
			tok.Stem = Stem(w)
		}
	}
	commaAfterInterjectedNo(t)
	scope(t.Tokens)
	return t
}

// nameSlot reports whether token k is where a speaker gives a name: after "my name is",
// "my names", "im called", "this is" opening the message, or before "speaking"
// ("sam speaking"). Such a word is never typo-corrected.
func nameSlot(ts []Token, k int) bool {
	prev := func(n int) string {
		if k-n < 0 || ts[k-n].Clause != ts[k].Clause {
			return ""
		}
		return ts[k-n].Word
	}
	switch {
	case prev(1) == "is" && prev(2) == "name", prev(1) == "names", prev(1) == "called",
		k == 2 && prev(1) == "is" && prev(2) == "this":
		return true
	}
	return k+1 < len(ts) && ts[k+1].Word == "speaking" && ts[k+1].Clause == ts[k].Clause
}

// noInterjections are typed forms of "no" that are never a determiner: "nah hit cancel"
// answers the customer and then says what to do, as "no, hit cancel" does; it does not
// deny the cancel.
var noInterjections = set("nah", "nope", "naw", "nop")

// commaAfterInterjectedNo ends the clause after a "no" typed as "nah" or "nope", as a comma
// would: what follows it is not negated by it.
func commaAfterInterjectedNo(t *Text) {
	for k := range t.Tokens {
		tok := t.Tokens[k]
		if tok.Word != "no" || !noInterjections[t.Typed[tok.Orig]] {
			continue
		}
		for j := k + 1; j < len(t.Tokens) && sentenceOf(t.Tokens[j].Clause) == sentenceOf(tok.Clause); j++ {
			t.Tokens[j].Clause++
		}
	}
}

// room returns s emptied, with room for n elements (a new slice when it has less).
func room[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, 0, n)
	}
	return s[:0]
}

// matchAt returns the end of phrase p matched at token i, or -1. A phrase matches within
// one clause; an exception may span clauses ("sorry, what?"). With first, token i is
// known to match the phrase's first pattern (it was found by its index), and only the
// rest is matched.
func (p *phrase) matchAt(ts []Token, i int, first bool) int {
	k, n0 := i, 0
	if first {
		k, n0 = i+1, 1
	}
	for n := n0; n < len(p.pats); n++ {
		pat := p.pats[n]
		if n > 0 {
			from := k
			for skipped := 0; !pat.tight && k < len(ts) && !pat.matches(&ts[k]) && fillers[ts[k].Word] && skipped < MaxFillers; skipped++ {
				k++
			}
			if pat.opt && (k >= len(ts) || !pat.matches(&ts[k])) {
				k = from // an article the text left out
				continue
			}
			if pat.gap && k < len(ts) && !pat.matches(&ts[k]) {
				if j := particleAfterGap(ts, from, ts[i].Clause, &pat); j >= 0 {
					k = j // "cut your heating off"
				}
			}
		}
		if k >= len(ts) || !pat.matches(&ts[k]) || ts[k].Clause != ts[i].Clause && !p.except &&
			!(sentenceOf(ts[k].Clause) == sentenceOf(ts[i].Clause) && ts[k].Clause == ts[k-1].Clause+1 &&
				commaSpanners[ts[k-1].Word]) {
			// A phrase spans the comma after an interjection ("fine, whatever", "oh, dear"),
			// not any comma ("all sorted, its now due" is no "sort it"), nor a sentence.
			return -1
		}
		k++
	}
	return k
}

// commaSpanners are the interjections a phrase may go on from across a comma.
var commaSpanners = set("fine", "okay", "ok", "yes", "no", "ugh", "oh", "ah", "well", "sorry", "right", "sure",
	"hi", "hello", "hey", "thanks", "please", "look", "listen", "god", "gosh", "wow", "so", "yeah", "nope", "alright")

// saidNegation reports whether the trigger at tr negates a saying ("not saying").
func saidNegation(ts []Token, tr int) bool {
	for k := tr + 1; k < len(ts) && k <= tr+2; k++ {
		if sayVerbs[ts[k].Word] {
			return true
		}
	}
	return false
}

// reportedSubjects start a reported clause after a saying ("said we had it").
var reportedSubjects = set("we", "they", "he", "she", "you", "it", "there", "that")

// reportedClause reports whether the trigger at tr negates a saying whose reported clause,
// with its own subject, holds the phrase at i ("never said we had it"; not "never said
// sorry", where the phrase is what was said).
func reportedClause(ts []Token, tr, i int) bool {
	for k := tr + 1; k < len(ts) && k <= tr+2 && k < i; k++ {
		if sayVerbs[ts[k].Word] {
			for j := k + 1; j < i; j++ {
				if reportedSubjects[ts[j].Word] {
					return true
				}
			}
			return false
		}
	}
	return false
}

// Hit is one phrase found in a message.
type Hit struct {
	Intent     int
	Phrase     string // as the designer wrote it
	Start, End int    // token span
	// Why the hit does not count (empty when it counts): "negated" with By the trigger's
	// typed words, or "exception" with By the exception phrase.
	Blocked string
	By      string
}

// hits finds every phrase occurrence of the text, exceptions applied.
func (lx *Lexicon) hits(t *Text, all bool, fn func(h Hit)) {
	ts := t.Tokens
	var has wordSet // the stems and words of the text, for the entries' needs
	for k := range ts {
		if ts[k].Stem != "" {
			has.add(ts[k].Stem)
		}
		has.add(ts[k].Word)
	}
	var exc []Hit
	visit := func(e entry, i int, first bool) {
		if !has.covers(e.needs) {
			return // a word the phrase needs is not in the text
		}
		p := &lx.phrases[e.id]
		end := p.matchAt(ts, i, first)
		if end < 0 {
			return
		}
		h := Hit{Intent: p.intent, Phrase: p.source, Start: i, End: end}
		if p.except {
			exc = append(exc, h)
			return
		}
		negBy := ""
		if p.negated && ts[i].Neg > 0 && reportedClause(ts, ts[i].Neg-1, i) {
			// "i never said we had it" denies a saying, not having: a "~" phrase does
			// not count, and neither does the plain phrase.
			if !all {
				return
			}
			h.Blocked, h.By = "not negated", ""
			fn(h)
			return
		}
		if ts[i].Neg > 0 && (!p.ownTrigger || saidNegation(ts, ts[i].Neg-1)) {
			// A phrase that says its own negation ("dont have", "no ribbon") is a
			// negative statement already: only a negated saying ("im not saying",
			// "i didnt mean") undoes it.
			tr := ts[i].Neg - 1
			negBy = t.Span(tr, tr+1)
		} else if k, n := postNegated(ts, end); k >= 0 {
			negBy = t.Span(k, k+n)
		}
		switch {
		case p.negated && negBy == "":
			if !all {
				return
			}
			h.Blocked, h.By = "not negated", ""
		case !p.negated && negBy != "":
			h.Blocked, h.By = "negated", negBy
		}
		if h.Blocked == "" && lx.excepted[p.intent] {
			for _, e := range exc {
				if e.Intent == p.intent && e.Start < end && i < e.End {
					h.Blocked, h.By = "exception", e.Phrase
					break
				}
			}
		}
		fn(h)
	}
	for pass := 0; pass < 2; pass++ {
		if pass == 0 && !lx.hasExcept {
			continue
		}
		byStem, byExact, starred := lx.byStem[pass], lx.byExact[pass], &lx.starred[pass]
		for i := range ts {
			if ts[i].Stem != "" && len(byStem) > 0 {
				for _, e := range byStem[ts[i].Stem] {
					visit(e, i, true)
				}
			}
			if len(byExact) > 0 {
				for _, e := range byExact[ts[i].Word] {
					visit(e, i, true)
				}
			}
			for _, e := range starred[ts[i].Word[0]] {
				visit(e, i, false)
			}
		}
	}
}

// MatchInto appends to dst, for each intent the text means, the first hit that counts, in
// the order found.
func (lx *Lexicon) MatchInto(t *Text, dst []Hit) []Hit {
	var seen [4]uint64
	lx.hits(t, false, func(h Hit) {
		if h.Blocked != "" || h.Intent >= 256 || seen[h.Intent/64]&(1<<(h.Intent%64)) != 0 {
			return
		}
		seen[h.Intent/64] |= 1 << (h.Intent % 64)
		dst = append(dst, h)
	})
	return dst
}

// Match calls fn once for each intent the text means, with the first hit that counts.
func (lx *Lexicon) Match(t *Text, fn func(h Hit)) {
	var seen [4]uint64
	lx.hits(t, false, func(h Hit) {
		if h.Blocked != "" || h.Intent >= 256 || seen[h.Intent/64]&(1<<(h.Intent%64)) != 0 {
			return
		}
		seen[h.Intent/64] |= 1 << (h.Intent % 64)
		fn(h)
	})
}

// Explanation is what the pipeline made of a message for one intent.
type Explanation struct {
	Intent  string `json:"intent"`
	Matched bool   `json:"matched"`
	// Hits are the phrases found that count; Blocked those found that do not.
	Hits    []Found `json:"hits,omitempty"`
	Blocked []Found `json:"blocked,omitempty"`
}

// Found is one phrase found in a message, explained.
type Found struct {
	Phrase string `json:"phrase"` // as the designer wrote it
	Words  string `json:"words"`  // the message's words that matched, as typed
	Reason string `json:"reason,omitempty"`
}

// Explain returns, for every intent in declaration order, whether text means it, the words
// that matched, and every match that a negation or an exception stopped.
func (lx *Lexicon) Explain(text string) []Explanation {
	t := lx.Analyze(text)
	out := make([]Explanation, len(lx.names))
	for i, n := range lx.names {
		out[i].Intent = n
	}
	// Each span of words is explained once: by the first phrase found there that counts,
	// else by the first found ("cut you off" and "~cut you off" in one intent both find
	// "we will not cut you off": the second counts, and it is the explanation).
	type span struct{ intent, start, end int }
	var order []span
	first := map[span]Hit{}
	lx.hits(t, true, func(h Hit) {
		k := span{h.Intent, h.Start, h.End}
		if prev, ok := first[k]; !ok {
			order = append(order, k)
			first[k] = h
		} else if prev.Blocked != "" && h.Blocked == "" {
			first[k] = h
		}
	})
	for _, k := range order {
		h, e := first[k], &out[k.intent]
		f := Found{Phrase: h.Phrase, Words: t.Span(h.Start, h.End)}
		switch h.Blocked {
		case "":
			e.Matched = true
			e.Hits = append(e.Hits, f)
			continue
		case "negated":
			f.Reason = fmt.Sprintf("negated by %q", h.By)
		case "not negated":
			f.Reason = "matches only when negated (~), and is not"
		case "exception":
			f.Reason = fmt.Sprintf("exception %q", h.By)
		}
		e.Blocked = append(e.Blocked, f)
	}
	return out
}

// Typos lists the corrections the pipeline made to text, as "typed→read".
func (t *Text) Typos() []string {
	var out []string
	for _, tok := range t.Tokens {
		if tok.Typo != "" {
			out = append(out, tok.Typo+"→"+tok.Word)
		}
	}
	return out
}

// Intents returns the names of the compiled intents, in declaration order.
func (lx *Lexicon) Intents() []string { return lx.names }

// entry is a phrase in the lexicon's index: its place in phrases (complemented for an
// exception) and the words it needs. The matcher reads the entry, which lies with the
// other phrases of the same first word, and reads the phrase itself only when the text
// has every word the phrase needs: most candidates are ruled out without touching the
// phrase or its patterns, which are cold in memory when a call's next message comes.
type entry struct {
	id    int32
	needs wordSet
}

// wordSet is a 128-bit Bloom filter of words: a word in the set always tests present, a
// word not in it almost always tests absent.
type wordSet [2]uint64

func (s *wordSet) add(w string) {
	h := Hash(w)
	s[h>>6&1] |= 1 << (h & 63)
}

// covers reports whether every word of need may be in s (false: one of them is not).
func (s *wordSet) covers(need wordSet) bool {
	return need[0]&^s[0] == 0 && need[1]&^s[1] == 0
}

// needs is the set of the words a text must have for a phrase to match: the stems of its
// stem patterns and the words of its exact ones, except the articles it may leave out
// (a prefix pattern needs no whole word).
func needs(pats []pattern) wordSet {
	var s wordSet
	for _, p := range pats {
		if p.opt || p.kind == patPrefix || p.s == "" || p.alts != nil {
			continue // a word with alternatives may be typed as one of them
		}
		s.add(p.s)
	}
	return s
}

// Hash is the 32-bit FNV-1a hash of s: cheap and stable across runs, for word sets.
func Hash(s string) uint32 {
	h := HashStart
	for i := 0; i < len(s); i++ {
		h = HashByte(h, s[i])
	}
	return h
}

// HashStart is Hash of the empty string; HashByte adds a byte: Hash(s) is HashStart with
// each byte of s added in turn.
const HashStart uint32 = 2166136261

// HashByte adds byte b to h (see HashStart).
func HashByte(h uint32, b byte) uint32 { return (h ^ uint32(b)) * 16777619 }

// MaxNearMissGap is how many words may stand between two words of a phrase for NearMiss.
const MaxNearMissGap = 3

// NearMiss looks, in a message that intent does not match, for a phrase of that intent
// whose words all stand in the message, in order and within one clause, but with other
// words between them: the phrase and those words, for a designer's "why not?" ("i can
// only imagine" against "i can imagine": "only" stands between "can" and "imagine").
// ok is false when there is none.
func (lx *Lexicon) NearMiss(text string, intent int) (phrase string, between []string, ok bool) {
	return lx.nearMiss(text, intent, false)
}

// NearMissUnnegated is NearMiss without the near misses a negation stands in ("i cant
// promise" does not nearly say "i promise"): for explaining a reply, where NearMiss
// explains an example that should have matched ("i can not imagine" nearly says "i can
// imagine": add the phrase).
func (lx *Lexicon) NearMissUnnegated(text string, intent int) (phrase string, between []string, ok bool) {
	return lx.nearMiss(text, intent, true)
}

func (lx *Lexicon) nearMiss(text string, intent int, skipNegated bool) (phrase string, between []string, ok bool) {
	t := lx.Analyze(text)
	ts := t.Tokens
	for pi := range lx.phrases {
		p := &lx.phrases[pi]
		if p.intent != intent || p.except || p.negated || len(p.pats) < 2 {
			continue
		}
		for i := range ts {
			if !p.pats[0].matches(&ts[i]) {
				continue
			}
			var gap []string
			negated := false
			k, n := i+1, 1
			for ; n < len(p.pats) && k < len(ts) && ts[k].Clause == ts[i].Clause; n++ {
				from := k
				for k < len(ts) && k-from <= MaxNearMissGap && ts[k].Clause == ts[i].Clause && !p.pats[n].matches(&ts[k]) {
					k++
				}
				if k >= len(ts) || k-from > MaxNearMissGap || ts[k].Clause != ts[i].Clause {
					break
				}
				for j := from; j < k; j++ {
					negated = negated || negFirst[ts[j].Word] && !pseudoOnly[ts[j].Word]
					// One typed word may be read as two ("cant": "can not"): named once.
					if !fillers[ts[j].Word] && (j == from || ts[j].Orig != ts[j-1].Orig) {
						gap = append(gap, t.Span(j, j+1))
					}
				}
				k++
			}
			if n == len(p.pats) && len(gap) > 0 && !(skipNegated && negated) {
				return p.source, gap, true
			}
		}
	}
	return "", nil, false
}
