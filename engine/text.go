package engine

import (
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/expr-lang/expr/vm"

	"github.com/switchboard-sim/switchboard/engine/understand"
)

// intentSet is a bit set over a scenario's intents (at most MaxIntents).
type intentSet [MaxIntents / 64]uint64

func (s *intentSet) add(i int)      { s[i/64] |= 1 << (i % 64) }
func (s *intentSet) has(i int) bool { return s[i/64]&(1<<(i%64)) != 0 }
func (s *intentSet) del(i int)      { s[i/64] &^= 1 << (i % 64) }

// all yields the indexes in s, in increasing order.
func (s *intentSet) all(yield func(int) bool) {
	for w, word := range s {
		for ; word != 0; word &= word - 1 {
			if !yield(w*64 + bits.TrailingZeros64(word)) {
				return
			}
		}
	}
}

// eachWord walks text's words the way repeated messages are compared (lower-case,
// apostrophes removed, every other character that is not a letter or digit a word
// break), feeding each word's bytes (UTF-8) to letter and calling end after each word.
func eachWord(text string, letter func(byte), end func()) {
	in := false // inside a word
	for i := 0; i < len(text); {
		c := text[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case c >= 'a' && c <= 'z' || c >= '0' && c <= '9':
				letter(c)
				in = true
			case c >= 'A' && c <= 'Z':
				letter(c + ('a' - 'A'))
				in = true
			case c == '\'':
				// dropped: "don't" == "dont"
			default:
				if in {
					end()
					in = false
				}
			}
			continue
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		i += size
		switch {
		case r == '’' || r == '‘':
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			var rb [utf8.UTFMax]byte
			for _, b := range utf8.AppendRune(rb[:0], unicode.ToLower(r)) {
				letter(b)
			}
			in = true
		default:
			if in {
				end()
				in = false
			}
		}
	}
	if in {
		end()
	}
}

// Repetition detection.
const (
	repeatMinWords  = 4   // shorter messages are never "repeated"
	repeatJaccard   = 0.8 // shared fraction of combined distinct words
	repeatHistory   = 64  // earlier messages remembered
	maxMessageBytes = 4096
)

// wordHashes is the sorted set of distinct hashes (understand.Hash) of text's words
// (eachWord), made without building the words as strings.
func wordHashes(text string) []uint32 {
	hs := make([]uint32, 0, len(text)/4+1)
	h := understand.HashStart
	eachWord(text, func(b byte) { h = understand.HashByte(h, b) }, func() {
		hs = append(hs, h)
		h = understand.HashStart
	})
	slices.Sort(hs)
	return slices.Compact(hs)
}

// TelegraphicMinWords is the fewest distinct words a telegraphic message has: shorter
// replies without a function word are common and fine ("card or cash?" has one, "sure,
// done, cheers" needs none).
const TelegraphicMinWords = 6

// functionWords are the words nearly every sentence has one of: pronouns, articles,
// auxiliaries and modals (with their contractions typed without the apostrophe),
// prepositions, conjunctions, negations and question words, and their chat spellings.
// Of 2,905 replies of six distinct words or more written by outside testers for the understanding
// corpora, none lacked one.
var functionWords = func() map[uint32]bool {
	m := map[uint32]bool{}
	for _, w := range strings.Fields(`i im ill ive id me my mine you your yours youre youll youve youd
		we were weve well wed our ours us he she his her him they them their theyre theyll
		it its itll this that thats these those there theres here heres who whos what whats
		which where wheres when why how something anything nothing everything someone anyone
		is are was be been being am isnt arent wasnt werent do does did dont doesnt didnt
		have has had havent hasnt hadnt can cant could couldnt will wont would wouldnt shall
		should shouldnt may might must mustnt the a an to of in on for with at by from about
		into up down over off out after before until till without within through across
		around under behind between against during since near per via and or but so if
		then than as
		because while not no nor none never nobody nope nah yes all any some everyone everybody
		somebody anybody u ur r ya yr wat wats teh da n`) {
		m[understand.Hash(w)] = true
	}
	return m
}()

// telegraphic reports whether a message is a run of key words: its distinct words
// (wordHashes) are at least TelegraphicMinWords, none is a function word, and no
// punctuation parts them ("sorry big mistake fix right now new car"). Terse replies set out
// with punctuation are a list of items or steps a customer can follow ("Smoked gouda, aged
// comté, fresh goat's cheese.", "Okay: hold power button fifteen seconds, release, press
// again."; an outside good-trainee panel's).
func telegraphic(text string, hs []uint32) bool {
	return len(hs) >= TelegraphicMinWords && countFunctionWords(hs) == 0 && !partedByPunctuation(text)
}

// partedByPunctuation reports whether a mark that ends a clause (. , ; : ! ? or a dash)
// stands between two words of text.
func partedByPunctuation(text string) bool {
	t := strings.TrimRight(text, " \t\r\n.!?…")
	for i, r := range t {
		switch r {
		case '.', ',', ';', ':', '!', '?', '—', '–', '…':
			if i > 0 && strings.TrimSpace(t[:i]) != "" {
				return true
			}
		case '-':
			if i > 0 && i+1 < len(t) && t[i-1] == ' ' && t[i+1] == ' ' {
				return true // a spaced hyphen is a dash; "mid-size" is one word
			}
		}
	}
	return false
}

// countFunctionWords returns how many of a message's distinct words (wordHashes) are
// function words (functionWords).
func countFunctionWords(hs []uint32) int {
	n := 0
	for _, h := range hs {
		if functionWords[h] {
			n++
		}
	}
	return n
}

func jaccard(a, b []uint32) float64 {
	i, j, inter := 0, 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] == b[j]:
			inter++
			i++
			j++
		case a[i] < b[j]:
			i++
		default:
			j++
		}
	}
	union := len(a) + len(b) - inter
	if union == 0 {
		return 0
	}
	return float64(inter) / float64(union)
}

// Template is text with {placeholders}. A customer line's template may also hold
// pauses ({pause 1.5s}) and conditional text ({if honest: Thanks.|I see.}).
type Template struct {
	parts []tmplPart
	words int // words of a static template, counted once at load; -1 when it has placeholders
}

type tmplPart struct {
	lit string
	ref int // refNone, refPersona, refTrainee, refPause, refIf or a var index (>= 0)
	// src is a pause's or a conditional's source as written, braces included.
	src   string
	pause int64 // refPause: the pause in ms
	// refIf: the condition and the two branches.
	cond       *vm.Program
	condSrc    string
	then, els_ *Template
}

const (
	refNone    = -1
	refPersona = -2
	refTrainee = -3
	refPause   = -4
	refIf      = -5
)

// Limits on the markup inside a customer line.
const (
	// MaxPauseMS is the longest single {pause D} in a line.
	MaxPauseMS = 10_000
	// MaxLinePauses is how many {pause D} one line's text may hold (in all its branches).
	MaxLinePauses = 16
	// MaxTextNesting is how deep {if …} conditionals may nest inside one another.
	MaxTextNesting = 4
)

// Pause is a silence inside a customer line: after After words (from the line's start)
// the customer is silent for MS milliseconds before going on.
type Pause struct {
	After int   `json:"after"`
	MS    int64 `json:"ms"`
}

// Empty reports whether the template has no text at all.
func (t Template) Empty() bool { return len(t.parts) == 0 }

// Static reports whether the template has no placeholders, pauses or conditionals.
func (t Template) Static() bool {
	for _, p := range t.parts {
		if p.ref != refNone {
			return false
		}
	}
	return true
}

// marked reports whether the template holds a pause or a conditional (at any depth).
func (t Template) marked() bool {
	for _, p := range t.parts {
		if p.ref == refPause || p.ref == refIf {
			return true
		}
	}
	return false
}

// Source returns the template as written, with placeholders in braces.
func (t Template) Source(sc *Scenario) string {
	var b strings.Builder
	for _, p := range t.parts {
		switch p.ref {
		case refNone:
			b.WriteString(strings.NewReplacer("{", "{{", "}", "}}").Replace(p.lit))
		case refPersona:
			b.WriteString("{name}")
		case refTrainee:
			b.WriteString("{trainee}")
		case refPause, refIf:
			b.WriteString(p.src)
		default:
			b.WriteString("{" + sc.Vars[p.ref].Name + "}")
		}
	}
	return b.String()
}

// templateSyntax says what a template may hold beyond placeholders.
type templateSyntax struct {
	// line: pauses and conditionals are allowed (a customer line).
	line bool
	// cond compiles a conditional's condition, which starts at byte offset off of the
	// template's source; it reports its own errors and returns nil on error.
	cond func(src string, off int) *vm.Program
}

// parseTemplate splits s into literal text and placeholders. lookup resolves a name to a
// ref; unknown names are returned as errors with their byte offset.
func parseTemplate(s string, lookup func(string) (int, bool)) (Template, []templateError) {
	return parseTemplateSyntax(s, lookup, templateSyntax{})
}

// parseTemplateSyntax is parseTemplate with the pauses and conditionals syn allows.
func parseTemplateSyntax(s string, lookup func(string) (int, bool), syn templateSyntax) (Template, []templateError) {
	p := &tmplParser{s: s, lookup: lookup, syn: syn}
	t, _ := p.parse(0, 0)
	if p.pauses > MaxLinePauses {
		p.errs = append(p.errs, templateError{0, fmt.Sprintf("a line may hold at most %d pauses; this one has %d", MaxLinePauses, p.pauses)})
	}
	return t, p.errs
}

type tmplParser struct {
	s      string
	lookup func(string) (int, bool)
	syn    templateSyntax
	errs   []templateError
	pauses int
}

func (p *tmplParser) errorf(off int, format string, args ...any) {
	p.errs = append(p.errs, templateError{off, fmt.Sprintf(format, args...)})
}

// directive reports whether the placeholder starting at s[i] ('{') is the keyword kw
// followed by whitespace: {pause 1s}, {if cond: …}.
func (p *tmplParser) directive(i int, kw string) bool {
	rest := p.s[i+1:]
	return strings.HasPrefix(rest, kw) && len(rest) > len(kw) && (rest[len(kw)] == ' ' || rest[len(kw)] == '\t')
}

// parse reads a template from s[i:]. At depth 0 it reads to the end; inside a
// conditional's branch (depth > 0) it stops at a '|' or '}' of that branch, whose offset
// it returns (len(s) when the text ended first).
func (p *tmplParser) parse(i, depth int) (Template, int) {
	s := p.s
	var t Template
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			t.parts = append(t.parts, tmplPart{lit: lit.String(), ref: refNone})
			lit.Reset()
		}
	}
	for i < len(s) {
		c := s[i]
		switch {
		case depth > 0 && c == '|' && i+1 < len(s) && s[i+1] == '|':
			lit.WriteByte('|')
			i += 2
		case depth > 0 && (c == '|' || c == '}'):
			flush()
			t.finish()
			return t, i
		case c == '{' && i+1 < len(s) && s[i+1] == '{':
			lit.WriteByte('{')
			i += 2
		case c == '}' && i+1 < len(s) && s[i+1] == '}':
			lit.WriteByte('}')
			i += 2
		case c == '{' && p.directive(i, "pause"):
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				p.errorf(i, "unclosed {pause …}: write it {pause 1.5s}")
				i = len(s)
				continue
			}
			p.pauses++
			part := tmplPart{ref: refPause, src: s[i : i+end+1]}
			if !p.syn.line {
				p.errorf(i, "{pause …} is only allowed in a customer's line (say)")
			} else if ms, ok := pauseMS(strings.TrimSpace(s[i+len("{pause") : i+end])); !ok {
				p.errorf(i, "%s: a pause is a duration from 1ms to %ds, such as {pause 500ms} or {pause 1.5s}", part.src, MaxPauseMS/1000)
			} else {
				part.pause = ms
				flush()
				t.parts = append(t.parts, part)
			}
			i += end + 1
		case c == '{' && p.directive(i, "if"):
			flush()
			var part tmplPart
			var ok bool
			part, i, ok = p.conditional(i, depth)
			if ok {
				t.parts = append(t.parts, part)
			}
		case c == '{':
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				p.errorf(i, "unclosed '{' (write {{ for a literal brace)")
				lit.WriteString(s[i:])
				i = len(s)
				continue
			}
			name := strings.TrimSpace(s[i+1 : i+end])
			ref, ok := p.lookup(name)
			if !ok {
				p.errorf(i, "unknown placeholder {%s}", name)
			} else {
				flush()
				t.parts = append(t.parts, tmplPart{ref: ref})
			}
			i += end + 1
		default:
			_, size := utf8.DecodeRuneInString(s[i:])
			lit.WriteString(s[i : i+size])
			i += size
		}
	}
	flush()
	t.finish()
	return t, len(s)
}

// finish counts a static template's words.
func (t *Template) finish() {
	t.words = -1
	if t.Static() {
		t.words = 0
		for _, p := range t.parts {
			t.words += countWords(p.lit)
		}
	}
}

// conditional reads {if COND: THEN|ELSE} starting at s[i]; it returns the part, the
// offset after it and whether it is sound.
func (p *tmplParser) conditional(i, depth int) (tmplPart, int, bool) {
	s := p.s
	start := i
	condStart := i + len("{if") + 1
	colon := condEnd(s, condStart)
	if colon < 0 || s[colon] != ':' {
		p.errorf(start, "a conditional needs a ':' after its condition: {if honest: Thanks.|I see.}")
		// Skip to its end so the rest of the line is still read.
		if end := strings.IndexByte(s[start:], '}'); end >= 0 {
			return tmplPart{}, start + end + 1, false
		}
		return tmplPart{}, len(s), false
	}
	ok := true
	if !p.syn.line {
		p.errorf(start, "{if …} is only allowed in a customer's line (say)")
		ok = false
	}
	if depth+1 > MaxTextNesting {
		p.errorf(start, "conditionals nest at most %d deep", MaxTextNesting)
		ok = false
	}
	// Keep the offsets of a condition relative to the template: leading spaces are
	// skipped so that an error points at the expression itself.
	cs := condStart
	for cs < colon && (s[cs] == ' ' || s[cs] == '\t') {
		cs++
	}
	part := tmplPart{ref: refIf, condSrc: strings.TrimSpace(s[cs:colon])}
	if ok && p.syn.cond != nil {
		part.cond = p.syn.cond(s[cs:colon], cs)
		ok = part.cond != nil
	}
	then, at := p.parse(colon+1, depth+1)
	then.trimSpace()
	part.then = &then
	if at < len(s) && s[at] == '|' {
		els, at2 := p.parse(at+1, depth+1)
		els.trimSpace()
		part.els_ = &els
		at = at2
		if at < len(s) && s[at] == '|' {
			p.errorf(at, "a conditional has two branches, {if COND: THEN|ELSE}; write || for a literal |")
			ok = false
			for at < len(s) && s[at] != '}' {
				at++
			}
		}
	}
	if at >= len(s) {
		p.errorf(start, "unclosed {if …}: end it with }")
		return tmplPart{}, len(s), false
	}
	part.src = s[start : at+1]
	return part, at + 1, ok
}

// trimSpace removes the space just inside a branch ({if a: Yes. | No.}).
func (t *Template) trimSpace() {
	if n := len(t.parts); n > 0 {
		if t.parts[0].ref == refNone {
			t.parts[0].lit = strings.TrimLeft(t.parts[0].lit, " \t\n")
		}
		if t.parts[n-1].ref == refNone {
			t.parts[n-1].lit = strings.TrimRight(t.parts[n-1].lit, " \t\n")
		}
		t.parts = slices.DeleteFunc(t.parts, func(p tmplPart) bool { return p.ref == refNone && p.lit == "" })
	}
	t.finish()
}

// condEnd is the offset of the ':' that ends a conditional's condition starting at s[i]:
// the first one outside quotes, brackets and a ternary's "? :"; or of a '}' (or -1) when
// the placeholder ends first.
func condEnd(s string, i int) int {
	depth, ternary := 0, 0
	for ; i < len(s); i++ {
		switch c := s[i]; c {
		case '"', '\'', '`':
			j := i + 1
			for j < len(s) && s[j] != c {
				if s[j] == '\\' && c != '`' {
					j++
				}
				j++
			}
			i = j
		case '(', '[':
			depth++
		case ')', ']':
			depth--
		case '{':
			depth++
		case '}':
			if depth == 0 {
				return i
			}
			depth--
		case '?':
			if depth == 0 && i+1 < len(s) && s[i+1] != '?' && s[i+1] != '.' && s[i+1] != ':' {
				ternary++
			} else if i+1 < len(s) && (s[i+1] == '?' || s[i+1] == ':') {
				i++ // ?? and ?: are operators without a ':' of their own
			}
		case ':':
			if depth == 0 {
				if ternary == 0 {
					return i
				}
				ternary--
			}
		}
	}
	return -1
}

// pauseMS reads a pause's duration: "1.5s", "500ms" or a bare number of seconds.
func pauseMS(v string) (int64, bool) {
	var ms int64
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		ms = int64(math.Round(f * 1000))
	} else if d, err := time.ParseDuration(v); err == nil {
		ms = d.Milliseconds()
	} else {
		return 0, false
	}
	return ms, ms >= 1 && ms <= MaxPauseMS
}

// wordCount returns the words of text, the template rendered: counted at load when the
// template is static.
func (t Template) wordCount(text string) int {
	if t.words >= 0 && len(t.parts) <= 1 {
		return t.words
	}
	return countWords(text)
}

type templateError struct {
	offset int
	msg    string
}

// render writes the template with the session's values. It is for texts without pauses
// and conditionals (only a customer line has them: see renderLine).
func (t Template) render(sc *Scenario, s *Session) string {
	switch {
	case len(t.parts) == 0:
		return ""
	case len(t.parts) == 1 && t.parts[0].ref == refNone:
		return t.parts[0].lit
	}
	var b strings.Builder
	b.Grow(t.sizeHint(sc, s)) // one allocation, not one per part
	for _, p := range t.parts {
		switch p.ref {
		case refNone:
			b.WriteString(p.lit)
		case refPersona:
			b.WriteString(sc.Persona.Name)
		case refTrainee:
			b.WriteString(s.trainee)
		case refPause, refIf:
			// not in these texts (the loader refuses them)
		default:
			b.WriteString(formatValue(s.vars[p.ref]))
		}
	}
	return b.String()
}

// sizeHint is about the length of the template rendered for s (a variable counted as
// sizeHintValue bytes).
func (t Template) sizeHint(sc *Scenario, s *Session) int {
	n := 0
	for _, p := range t.parts {
		switch p.ref {
		case refNone:
			n += len(p.lit)
		case refPersona:
			n += len(sc.Persona.Name)
		case refTrainee:
			n += len(s.trainee)
		default:
			n += sizeHintValue
		}
	}
	return n
}

// sizeHintValue is the room sizeHint leaves for a variable's value.
const sizeHintValue = 16

// renderLine writes a customer line: its text, and the pauses in it. A line with pauses
// or conditionals has its whitespace collapsed to single spaces (a pause always falls
// between two words), so that a branch left empty leaves no double space. A condition
// that fails at run time counts as false and is reported, like a guard.
func (t Template) renderLine(sc *scratch, s *Session, out *[]Output) (string, []Pause) {
	if !t.marked() {
		return t.render(s.sc, s), nil
	}
	var buf []byte
	var pauses []Pause
	t.renderInto(sc, s, out, &buf, &pauses)
	text := strings.Join(strings.Fields(string(buf)), " ")
	return text, pauses
}

func (t Template) renderInto(sc *scratch, s *Session, out *[]Output, buf *[]byte, pauses *[]Pause) {
	for _, p := range t.parts {
		switch p.ref {
		case refNone:
			*buf = append(*buf, p.lit...)
		case refPersona:
			*buf = append(*buf, s.sc.Persona.Name...)
		case refTrainee:
			*buf = append(*buf, s.trainee...)
		case refPause:
			*buf = append(*buf, ' ')
			*pauses = append(*pauses, Pause{After: countWords(string(*buf)), MS: p.pause})
		case refIf:
			if s.test(sc, nil, p.cond, p.condSrc, "", -1, out) {
				p.then.renderInto(sc, s, out, buf, pauses)
			} else if p.els_ != nil {
				p.els_.renderInto(sc, s, out, buf, pauses)
			}
		default:
			*buf = append(*buf, formatValue(s.vars[p.ref])...)
		}
	}
}

func formatValue(v any) string {
	switch x := v.(type) {
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case string:
		return x
	}
	return fmt.Sprint(v)
}

// countWords counts whitespace-separated words, the unit of a line's pace.
func countWords(s string) int {
	n, in := 0, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			return n + countWordsSlow(s[i:], in)
		}
		space := c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\v' || c == '\f'
		if space {
			in = false
		} else if !in {
			in = true
			n++
		}
	}
	return n
}

// countWordsSlow counts the words of s that start in it (in: s starts inside a word).
func countWordsSlow(s string, in bool) int {
	n := 0
	for _, r := range s {
		if unicode.IsSpace(r) {
			in = false
		} else if !in {
			in = true
			n++
		}
	}
	return n
}
