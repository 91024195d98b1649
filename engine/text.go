package engine

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// intentSet is a bit set over a scenario's intents (at most MaxIntents).
type intentSet [MaxIntents / 64]uint64

func (s *intentSet) add(i int)      { s[i/64] |= 1 << (i % 64) }
func (s *intentSet) has(i int) bool { return s[i/64]&(1<<(i%64)) != 0 }

// Words normalises text the way repeated messages are compared: lower-case, apostrophes removed,
// every other character that is not a letter or digit a word break.
func Words(text string) []string {
	buf := make([]byte, 0, len(text)+1)
	space := true // the last byte written is a break (or nothing was written)
	for i := 0; i < len(text); {
		c := text[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case c >= 'a' && c <= 'z' || c >= '0' && c <= '9':
				buf, space = append(buf, c), false
			case c >= 'A' && c <= 'Z':
				buf, space = append(buf, c+('a'-'A')), false
			case c == '\'':
				// dropped: "don't" == "dont"
			default:
				if !space {
					buf, space = append(buf, ' '), true
				}
			}
			continue
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		i += size
		switch {
		case r == '’' || r == '‘':
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			buf, space = utf8.AppendRune(buf, unicode.ToLower(r)), false
		default:
			if !space {
				buf, space = append(buf, ' '), true
			}
		}
	}
	return strings.Fields(string(buf))
}

// Repetition detection.
const (
	repeatMinWords  = 4   // shorter messages are never "repeated"
	repeatJaccard   = 0.8 // shared fraction of combined distinct words
	repeatHistory   = 64  // earlier messages remembered
	maxMessageBytes = 4096
)

// wordHashes is the sorted set of distinct word hashes of ws.
func wordHashes(ws []string) []uint32 {
	hs := make([]uint32, 0, len(ws))
	for _, w := range ws {
		h := uint32(2166136261) // FNV-1a
		for i := 0; i < len(w); i++ {
			h ^= uint32(w[i])
			h *= 16777619
		}
		hs = append(hs, h)
	}
	slices.Sort(hs)
	return slices.Compact(hs)
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

// Template is text with {placeholders}.
type Template struct {
	parts []tmplPart
	words int // words of a static template, counted once at load; -1 when it has placeholders
}

type tmplPart struct {
	lit string
	ref int // refNone, refPersona, refTrainee or a var index (>= 0)
}

const (
	refNone    = -1
	refPersona = -2
	refTrainee = -3
)

// Empty reports whether the template has no text at all.
func (t Template) Empty() bool { return len(t.parts) == 0 }

// Static reports whether the template has no placeholders.
func (t Template) Static() bool {
	for _, p := range t.parts {
		if p.ref != refNone {
			return false
		}
	}
	return true
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
		default:
			b.WriteString("{" + sc.Vars[p.ref].Name + "}")
		}
	}
	return b.String()
}

// parseTemplate splits s into literal text and placeholders. lookup resolves a name to a
// ref; unknown names are returned as errors with their byte offset.
func parseTemplate(s string, lookup func(string) (int, bool)) (Template, []templateError) {
	var t Template
	var errs []templateError
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			t.parts = append(t.parts, tmplPart{lit: lit.String(), ref: refNone})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '{' && i+1 < len(s) && s[i+1] == '{':
			lit.WriteByte('{')
			i += 2
		case c == '}' && i+1 < len(s) && s[i+1] == '}':
			lit.WriteByte('}')
			i += 2
		case c == '{':
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				errs = append(errs, templateError{i, "unclosed '{' (write {{ for a literal brace)"})
				lit.WriteString(s[i:])
				i = len(s)
				continue
			}
			name := strings.TrimSpace(s[i+1 : i+end])
			ref, ok := lookup(name)
			if !ok {
				errs = append(errs, templateError{i, fmt.Sprintf("unknown placeholder {%s}", name)})
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
	t.words = -1
	if t.Static() {
		t.words = 0
		for _, p := range t.parts {
			t.words += countWords(p.lit)
		}
	}
	return t, errs
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

// render writes the template with the session's values.
func (t Template) render(sc *Scenario, s *Session) string {
	switch {
	case len(t.parts) == 0:
		return ""
	case len(t.parts) == 1 && t.parts[0].ref == refNone:
		return t.parts[0].lit
	}
	var b strings.Builder
	for _, p := range t.parts {
		switch p.ref {
		case refNone:
			b.WriteString(p.lit)
		case refPersona:
			b.WriteString(sc.Persona.Name)
		case refTrainee:
			b.WriteString(s.trainee)
		default:
			b.WriteString(formatValue(s.vars[p.ref]))
		}
	}
	return b.String()
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
