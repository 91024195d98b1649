package engine

import (
	"fmt"

	"go.yaml.in/yaml/v3"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxYAMLRepairs bounds how many YAML syntax errors one file reports: after each, the
// line is repaired (or blanked) and the file parsed again, so that every syntax error is
// reported at once and the studio can still draw the graph of what was read.
const MaxYAMLRepairs = 20

// yamlProblem is a YAML syntax error placed where the designer made it, in their words,
// with the file's lines repaired as the designer most likely meant them.
type yamlProblem struct {
	line, col int
	msg       string
	// fixed holds the repaired lines, or nil when no repair was found.
	fixed []string
	// guessed is set when the repair threw a line away: what follows may be knock-on.
	guessed bool
}

var (
	yamlErrRE   = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)
	blockKeyRE  = regexp.MustCompile(`^(\s*(?:-\s+)?)([A-Za-z0-9_$.-]+):(\s+|$)`)
	dashRE      = regexp.MustCompile(`^(\s*)-(\s+|$)`)
	subflowRE   = regexp.MustCompile(`\bto:\s*(>\s*)([A-Za-z_][A-Za-z0-9_-]*)`)
	blockScalRE = regexp.MustCompile(`:\s+[|>][-+0-9]*\s*(#.*)?$`)
)

// diagnoseYAML turns a YAML parser error into a problem at the right line and column.
// yaml.v3 reports many errors at the start of the enclosing block, with no column; the
// lines are scanned again to find the line that is actually wrong.
func diagnoseYAML(lines []string, err error) yamlProblem {
	msg := err.Error()
	line := 1
	if m := yamlErrRE.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	line = min(max(line, 1), max(len(lines), 1))

	// A tab in the indentation: YAML forbids it, and the parser's message does not say so.
	for i, l := range lines {
		ws := l[:len(l)-len(strings.TrimLeft(l, " \t"))]
		if t := strings.IndexByte(ws, '\t'); t >= 0 && strings.TrimSpace(l) != "" {
			fixed := append([]string(nil), lines...)
			fixed[i] = strings.Repeat(" ", guessIndent(lines, i)) + strings.TrimLeft(l, " \t")
			return yamlProblem{line: i + 1, col: t + 1, fixed: fixed,
				msg: "a tab is used for indentation here; YAML indents with spaces only (replace the tab with spaces)"}
		}
	}

	// A list item written without its "- " among items that have one: YAML reads it as a
	// new key of the block around the list and reports the error far away, at that block.
	if p, ok := missingDash(lines); ok {
		return p
	}

	// A sub-flow target written unquoted (to: >id): YAML reads > as a folded text.
	for i, l := range lines {
		if m := subflowRE.FindStringSubmatchIndex(l); m != nil {
			fixed := append([]string(nil), lines...)
			fixed[i] = l[:m[2]] + "'>" + l[m[4]:m[5]] + "'" + l[m[5]:]
			return yamlProblem{line: i + 1, col: utf8.RuneCountInString(l[:m[2]]) + 1, fixed: fixed,
				msg: fmt.Sprintf("quote a sub-flow target: to: '>%s' (unquoted, YAML reads > as the start of a folded text)", l[m[4]:m[5]])}
		}
	}

	// A quoted text never closed on its line: YAML reads on into the next lines, and the
	// error shows up later, wherever the next quote or ": " happens to be (or the parser
	// names the line before it, where the enclosing block began).
	for i := 0; i < min(line+1, len(lines)); i++ {
		if at, q, ok := unclosedQuote(lines[i]); ok {
			fixed := append([]string(nil), lines...)
			fixed[i] = lines[i] + string(q) + closers(lines[i][:at])
			return yamlProblem{line: i + 1, col: utf8.RuneCountInString(lines[i][:at]) + 1, fixed: fixed,
				msg: fmt.Sprintf("this quoted text is never closed: add the closing %c", q)}
		}
	}

	// A value holding ": ", which YAML reads as a second key on the same line.
	if strings.Contains(msg, "mapping values are not allowed") {
		for _, i := range []int{line - 1, line} {
			if i < 0 || i >= len(lines) {
				continue
			}
			if p, ok := colonInValue(lines, i); ok {
				return p
			}
		}
	}

	// The same inside a {…} mapping written on one line, where a ',' also ends a value.
	if strings.Contains(msg, "did not find expected ',' or '}'") || strings.Contains(msg, "mapping values are not allowed") {
		for _, i := range []int{line, line - 1, line - 2} {
			if i < 0 || i >= len(lines) {
				continue
			}
			if p, ok := flowColon(lines, i); ok {
				return p
			}
		}
	}

	// A line indented to no level of the blocks around it.
	if p, ok := badIndent(lines, line, strings.Contains(msg, "mapping values are not allowed")); ok {
		return p
	}

	// Anything else: the line the parser named, or the one after it (the parser often
	// names the line where the enclosing value began), is thrown away: whichever lets the
	// parse get further.
	i := line - 1
	for i < len(lines)-1 && !contentLine(lines[i]) {
		i++
	}
	for _, c := range []int{line, line - 1} {
		if c < 0 || c >= len(lines) || !contentLine(lines[c]) {
			continue
		}
		try := append([]string(nil), lines...)
		try[c] = ""
		var doc yaml.Node
		err := yaml.Unmarshal([]byte(strings.Join(try, "\n")), &doc)
		if err == nil {
			i = c
			break
		}
		if m := yamlErrRE.FindStringSubmatch(err.Error()); m != nil {
			if next, _ := strconv.Atoi(m[1]); next > c+1 {
				i = c
				break
			}
		}
	}
	col := 1
	if i >= 0 && i < len(lines) {
		col = indentOf(lines[i]) + 1
	}
	fixed := append([]string(nil), lines...)
	if i >= 0 && i < len(fixed) {
		fixed[i] = ""
	}
	return yamlProblem{line: i + 1, col: col, msg: "YAML syntax: " + plainYAMLMessage(msg), fixed: fixed, guessed: true}
}

// plainYAMLMessage rewords the parser's messages that do not say what to do.
func plainYAMLMessage(msg string) string {
	switch {
	case strings.Contains(msg, "found unexpected end of stream"):
		return "the file ends in the middle of a value (an unclosed quote or bracket?)"
	case strings.Contains(msg, "did not find expected ',' or '}'"):
		return "this {…} is not closed, or a value inside it holds a ',' or ': ' (quote the value)"
	case strings.Contains(msg, "did not find expected ',' or ']'"):
		return "this […] is not closed, or a value inside it holds a ',' or ': ' (quote the value)"
	case strings.Contains(msg, "did not find expected key"):
		return "a key is missing or badly indented here"
	case strings.Contains(msg, "did not find expected '-' indicator"):
		return "a list item must start with '- ' lined up with the items before it"
	}
	return msg
}

// colonInValue reports line i when a plain (unquoted) value holds ": ".
func colonInValue(lines []string, i int) (yamlProblem, bool) {
	l := lines[i]
	m := blockKeyRE.FindStringSubmatchIndex(l)
	if m == nil {
		return yamlProblem{}, false
	}
	key := l[m[4]:m[5]]
	rest := l[m[1]:]
	if rest == "" || strings.ContainsAny(rest[:1], `'"[{|>`) {
		return yamlProblem{}, false
	}
	at := strings.Index(rest, ": ")
	if at < 0 {
		if !strings.HasSuffix(rest, ":") {
			return yamlProblem{}, false
		}
		at = len(rest) - 1
	}
	value := strings.TrimRight(rest, " ")
	fixed := append([]string(nil), lines...)
	fixed[i] = l[:m[1]] + "'" + strings.ReplaceAll(value, "'", "''") + "'"
	col := utf8.RuneCountInString(l[:m[1]+at]) + 1
	return yamlProblem{line: i + 1, col: col, fixed: fixed,
		msg: fmt.Sprintf("the value of %s holds \": \", which YAML reads as another key: quote the whole value, e.g. %s: '%s'",
			key, key, truncate(strings.ReplaceAll(value, "'", "''"), 40))}, true
}

var flowKeyRE = regexp.MustCompile(`(?:\{|,)\s*([A-Za-z_][A-Za-z0-9_]*):\s+`)

// flowColon reports line i when a value in a one-line {…} mapping is unquoted and holds
// ": " or "," (the value of the last key runs to the closing brace).
func flowColon(lines []string, i int) (yamlProblem, bool) {
	l := lines[i]
	open := strings.IndexByte(l, '{')
	end := strings.LastIndexByte(l, '}')
	if open < 0 {
		return yamlProblem{}, false
	}
	if end < open {
		end = len(l)
	}
	ms := flowKeyRE.FindAllStringSubmatchIndex(l[:end], -1)
	for k, m := range ms {
		vFrom, vTo := m[1], end
		if k+1 < len(ms) {
			vTo = ms[k+1][0]
		}
		value := strings.TrimSpace(l[vFrom:vTo])
		if value == "" || strings.ContainsAny(value[:1], `'"[{`) {
			continue
		}
		what := "\": \", which YAML reads as another key"
		at := strings.Index(value, ": ")
		if c := strings.Index(value, ","); c >= 0 && (at < 0 || c < at) {
			what, at = "',', which ends a value inside {…}", c
		}
		if at < 0 {
			continue
		}
		key := l[m[2]:m[3]]
		fixed := append([]string(nil), lines...)
		fixed[i] = l[:vFrom] + "'" + strings.ReplaceAll(value, "'", "''") + "'" + l[vFrom+len(value):]
		return yamlProblem{line: i + 1, col: utf8.RuneCountInString(l[:vFrom+at]) + 1, fixed: fixed,
			msg: fmt.Sprintf("the value of %s holds %s: quote the whole value, e.g. %s: '%s'",
				key, what, key, truncate(strings.ReplaceAll(value, "'", "''"), 40))}, true
	}
	return yamlProblem{}, false
}

// indentOf is the number of leading spaces.
func indentOf(l string) int { return len(l) - len(strings.TrimLeft(l, " ")) }

// contentLine reports whether a line holds YAML content (not blank, not a comment).
func contentLine(l string) bool {
	t := strings.TrimSpace(l)
	return t != "" && !strings.HasPrefix(t, "#") && t != "---" && t != "..."
}

// opens reports whether a line expects a more indented block after it: "key:" or "-".
func opens(l string) bool {
	t := strings.TrimSpace(stripComment(l))
	return strings.HasSuffix(t, ":") || t == "-"
}

func stripComment(l string) string {
	inS, inD := false, false
	for i, c := range l {
		switch {
		case c == '\'' && !inD:
			inS = !inS
		case c == '"' && !inS:
			inD = !inD
		case c == '#' && !inS && !inD && (i == 0 || l[i-1] == ' '):
			return l[:i]
		}
	}
	return l
}

// bracketDepth is how many [ and { a line leaves open, outside quotes.
func bracketDepth(l string) int {
	d := 0
	inS, inD := false, false
	for _, c := range stripComment(l) {
		switch {
		case c == '\'' && !inD:
			inS = !inS
		case c == '"' && !inS:
			inD = !inD
		case inS || inD:
		case c == '[' || c == '{':
			d++
		case c == ']' || c == '}':
			d--
		}
	}
	return d
}

// badIndent scans block indentation for the first line, at or after from, that lines up
// with no enclosing block. With deeperKey, a key indented under a line that already has a
// value is reported too.
func badIndent(lines []string, from int, deeperKey bool) (yamlProblem, bool) {
	stack := []int{0}
	prev := -1
	skipAbove := -1 // inside a block scalar: lines indented more than this are text
	depth := 0      // open flow brackets
	for i, l := range lines {
		if !contentLine(l) {
			continue
		}
		ind := indentOf(l)
		if skipAbove >= 0 {
			if ind > skipAbove {
				continue
			}
			skipAbove = -1
		}
		if depth > 0 {
			depth += bracketDepth(l)
			continue
		}
		top := stack[len(stack)-1]
		switch {
		case ind > top:
			if prev >= 0 && opens(lines[prev]) {
				stack = append(stack, ind)
			} else {
				if deeperKey && i+1 >= from && prev >= 0 && blockKeyRE.MatchString(l) {
					fixed := append([]string(nil), lines...)
					fixed[i] = strings.Repeat(" ", top) + strings.TrimLeft(l, " ")
					return yamlProblem{line: i + 1, col: ind + 1, fixed: fixed,
						msg: fmt.Sprintf("this key is indented more than line %d, which already has a value: line it up at column %d, or quote the value above if it goes on", prev+1, top+1)}, true
				}
				continue // a plain text running on over several lines
			}
		case ind < top:
			above := top
			for len(stack) > 1 && stack[len(stack)-1] > ind {
				above = stack[len(stack)-1]
				stack = stack[:len(stack)-1]
			}
			if below := stack[len(stack)-1]; below != ind && i+1 >= from {
				fixed := append([]string(nil), lines...)
				fixed[i] = strings.Repeat(" ", above) + strings.TrimLeft(l, " ")
				return yamlProblem{line: i + 1, col: ind + 1, fixed: fixed,
					msg: fmt.Sprintf("bad indentation: this line starts at column %d, but the lines around it start at column %d or %d: line it up with the ones it belongs with", ind+1, above+1, below+1)}, true
			} else if below != ind {
				stack = append(stack, ind)
			}
		}
		// "- key: value" opens a mapping whose keys line up after the dash.
		if m := dashRE.FindStringSubmatch(l); m != nil && strings.TrimSpace(l) != "-" {
			stack = append(stack, len(m[1])+1+len(m[2]))
		}
		if blockScalRE.MatchString(l) {
			skipAbove = ind
		}
		depth = max(bracketDepth(l), 0)
		prev = i
	}
	return yamlProblem{}, false
}

// guessIndent is the indentation line i most likely meant: deeper than the line above if
// that one opens a block, else the same.
func guessIndent(lines []string, i int) int {
	for j := i - 1; j >= 0; j-- {
		if contentLine(lines[j]) && !strings.Contains(lines[j][:indentOf(lines[j])+min(1, len(lines[j])-indentOf(lines[j]))], "\t") {
			if opens(lines[j]) {
				return indentOf(lines[j]) + 2
			}
			return indentOf(lines[j])
		}
	}
	return 0
}

// unclosedQuote finds a quote opened on a line and not closed by its end: its byte offset
// and the quote character.
func unclosedQuote(l string) (int, rune, bool) {
	if !contentLine(l) {
		return 0, 0, false // a comment's quotes are text
	}
	var open rune
	at := 0
	for i, c := range l {
		switch {
		case open == 0 && (c == '"' || c == '\'') && startsValue(l[:i]):
			open, at = c, i
		case open == '"' && c == '\\':
			// the next character is escaped; handled by skipping below
		case open != 0 && c == open && !(open == '"' && i > 0 && l[i-1] == '\\'):
			open = 0
		case open == 0 && c == '#' && i > 0 && l[i-1] == ' ':
			return 0, 0, false
		}
	}
	if open == 0 {
		return 0, 0, false
	}
	return at, open, true
}

// startsValue reports whether a quote after before starts a quoted value: it follows
// "key: ", "- ", "{", "[" or ",". A quote inside plain text is just a character.
func startsValue(before string) bool {
	t := strings.TrimRight(before, " ")
	if t == "" {
		return true
	}
	spaced := len(t) < len(before)
	switch t[len(t)-1] {
	case '{', '[', ',':
		return true
	case ':', '-':
		return spaced
	}
	return false
}

// closers returns what closes the brackets a line's text leaves open, innermost first.
func closers(prefix string) string {
	var open []byte
	for i := 0; i < len(prefix); i++ {
		switch c := prefix[i]; c {
		case '{', '[':
			open = append(open, c)
		case '}', ']':
			if len(open) > 0 {
				open = open[:len(open)-1]
			}
		}
	}
	var out []byte
	for i := len(open) - 1; i >= 0; i-- {
		if open[i] == '{' {
			out = append(out, '}')
		} else {
			out = append(out, ']')
		}
	}
	return string(out)
}

// missingDash finds a line that is not a key, a list item or a comment, indented like a
// neighbouring "- " item of a list: a list item whose "- " was left out.
func missingDash(lines []string) (yamlProblem, bool) {
	neighbour := func(i, step int) (string, bool) {
		for j := i + step; j >= 0 && j < len(lines); j += step {
			if contentLine(lines[j]) {
				return lines[j], true
			}
		}
		return "", false
	}
	for i, l := range lines {
		if !contentLine(l) || dashRE.MatchString(l) || blockKeyRE.MatchString(l) {
			continue
		}
		ind := indentOf(l)
		for _, step := range []int{-1, 1} {
			n, ok := neighbour(i, step)
			if !ok || !dashRE.MatchString(n) || indentOf(n) != ind {
				continue
			}
			fixed := append([]string(nil), lines...)
			fixed[i] = l[:ind] + "- " + l[ind:]
			return yamlProblem{line: i + 1, col: ind + 1, fixed: fixed,
				msg: "this line looks like a list item without its '- ': the items around it start with '- ' (add it)"}, true
		}
	}
	return yamlProblem{}, false
}
