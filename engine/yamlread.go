package engine

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// reader decodes one YAML file into scenario values, collecting diagnostics with positions.
type reader struct {
	path  string
	diags *Diagnostics
	// syntax is set when the file had YAML syntax errors: parseYAML returned the tree of
	// the file as repaired, which can be drawn but never loads.
	syntax bool
	// guessed is set when a repair threw a line away, so later errors may be knock-on.
	guessed bool
}

func (r *reader) at(n *yaml.Node, sev Severity, format string, args ...any) {
	line, col := 1, 1
	if n != nil {
		line, col = max(n.Line, 1), max(n.Column, 1)
	}
	*r.diags = append(*r.diags, Diagnostic{Path: r.path, Line: line, Col: col, Severity: sev, Message: fmt.Sprintf(format, args...)})
}

func (r *reader) errorf(n *yaml.Node, format string, args ...any) {
	r.at(n, SeverityError, format, args...)
}

func (r *reader) warnf(n *yaml.Node, format string, args ...any) {
	r.at(n, SeverityWarning, format, args...)
}

// parseYAML parses data into its root node. Syntax errors, multiple documents, anchors and
// aliases are reported; on any of them it returns nil.
func (r *reader) parseYAML(data []byte) *yaml.Node {
	if len(data) > MaxFileBytes {
		r.errorf(nil, "file is %d bytes; the limit is %d", len(data), MaxFileBytes)
		return nil
	}
	var doc yaml.Node
	err := yaml.Unmarshal(data, &doc)
	if err != nil {
		// Report the error where it was made, repair the line as most likely meant and
		// parse again: every syntax error is reported, and what could be read is drawn.
		lines := strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n")
		for range MaxYAMLRepairs {
			p := diagnoseYAML(lines, err)
			*r.diags = append(*r.diags, Diagnostic{Path: r.path, Line: p.line, Col: p.col, Message: p.msg})
			r.syntax = true
			r.guessed = r.guessed || p.guessed
			if p.fixed == nil || slices.Equal(p.fixed, lines) {
				return nil
			}
			lines = p.fixed
			doc = yaml.Node{}
			if err = yaml.Unmarshal([]byte(strings.Join(lines, "\n")), &doc); err == nil {
				break
			}
		}
		if err != nil {
			return nil
		}
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		r.errorf(nil, "file is empty")
		return nil
	}
	root := doc.Content[0]
	ok := true
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Kind == yaml.AliasNode {
			r.errorf(n, "aliases (*%s) are not allowed in scenario files", n.Value)
			ok = false
			return
		}
		if n.Anchor != "" {
			r.errorf(n, "anchors (&%s) are not allowed in scenario files", n.Anchor)
			ok = false
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(root)
	if !ok {
		return nil
	}
	return root
}

// pair is one key/value of a YAML mapping.
type pair struct {
	key   string
	keyN  *yaml.Node
	value *yaml.Node
}

// mapping returns the pairs of a mapping node, reporting duplicate keys and keys not in
// allowed (with a suggestion). A nil allowed accepts any key.
func (r *reader) mapping(n *yaml.Node, what string, allowed []string) ([]pair, bool) {
	if n == nil {
		return nil, false
	}
	if n.Kind != yaml.MappingNode {
		r.errorf(n, "%s must be a mapping, not %s", what, kindName(n))
		return nil, false
	}
	seen := map[string]bool{}
	pairs := make([]pair, 0, len(n.Content)/2)
	split := false // the last key was a piece of a value cut by a comma in {...}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			r.errorf(k, "keys in %s must be plain names", what)
			continue
		}
		if seen[k.Value] {
			r.errorf(k, "duplicate key %q in %s", k.Value, what)
			continue
		}
		seen[k.Value] = true
		if allowed != nil && !contains(allowed, k.Value) {
			hint := didYouMean(k.Value, allowed)
			if strings.HasPrefix(what, "node ") {
				switch k.Value {
				case "emotion", "wpm", "text", "when":
					hint = fmt.Sprintf(" (%s belongs to a line of say: say: [{text: ..., %s: ...}])", k.Value, k.Value)
				}
			}
			cut := hint == "" && n.Style&yaml.FlowStyle != 0 && v.Tag == "!!null" && v.Value == "" && i >= 2
			if cut && split {
				continue // another piece of the same value: one mistake, one error
			}
			split = cut
			if cut {
				// {title: Lost, but found, outcome: lost}: the comma ended the value.
				hint = fmt.Sprintf(" (a comma inside a value in {...} starts a new key: quote the value of %s, e.g. %s: \"...\")",
					n.Content[i-2].Value, n.Content[i-2].Value)
			}
			r.errorf(k, "unknown key %q in %s%s", k.Value, what, hint)
			continue
		}
		split = false
		pairs = append(pairs, pair{key: k.Value, keyN: k, value: v})
	}
	return pairs, true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "empty"
		}
		return fmt.Sprintf("the value %q", truncate(n.Value, 40))
	}
	return "something else"
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// str reads a scalar as text (numbers and booleans are taken as written).
func (r *reader) str(n *yaml.Node, what string) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		r.errorf(n, "%s must be text, not %s", what, kindName(n))
		return "", false
	}
	if len(n.Value) > MaxTextBytes {
		r.errorf(n, "%s is %d bytes; the limit is %d", what, len(n.Value), MaxTextBytes)
		return "", false
	}
	return n.Value, true
}

func (r *reader) number(n *yaml.Node, what string) (float64, bool) {
	if n.Kind == yaml.ScalarNode && (n.Tag == "!!int" || n.Tag == "!!float") {
		var f float64
		if err := n.Decode(&f); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
			return f, true
		}
	}
	r.errorf(n, "%s must be a number, not %s", what, kindName(n))
	return 0, false
}

// boolean reads true or false. YAML 1.1's yes/no/on/off are text in YAML 1.2: they are
// reported with the word to write instead, and read as meant so that nothing else is
// reported because of them.
func (r *reader) boolean(n *yaml.Node, what string) (bool, bool) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!bool" {
		var b bool
		if err := n.Decode(&b); err == nil {
			return b, true
		}
	}
	if n.Kind == yaml.ScalarNode && n.Style == 0 {
		switch strings.ToLower(n.Value) {
		case "yes", "y", "on":
			r.errorf(n, "%s must be true or false: write true instead of %s", what, n.Value)
			return true, false
		case "no", "n", "off":
			r.errorf(n, "%s must be true or false: write false instead of %s", what, n.Value)
			return false, false
		}
	}
	r.errorf(n, "%s must be true or false, not %s", what, kindName(n))
	return false, false
}

// duration reads "2s", "500ms", "1m30s" or a plain number of seconds, as milliseconds.
func (r *reader) duration(n *yaml.Node, what string) (int64, bool) {
	if n.Kind == yaml.ScalarNode {
		if n.Tag == "!!int" || n.Tag == "!!float" {
			var f float64
			if err := n.Decode(&f); err == nil && f >= 0 && f <= MaxDurationMS/1000 {
				return int64(math.Round(f * 1000)), true
			}
		} else if n.Tag == "!!str" {
			d, err := time.ParseDuration(strings.TrimSpace(n.Value))
			if err == nil && d >= 0 && d.Milliseconds() <= MaxDurationMS {
				return d.Milliseconds(), true
			}
		}
	}
	r.errorf(n, "%s must be a duration such as 500ms, 20s or 1m30s (at most 24h), not %s", what, kindName(n))
	return 0, false
}

func (r *reader) list(n *yaml.Node, what string) ([]*yaml.Node, bool) {
	if n.Kind != yaml.SequenceNode {
		r.errorf(n, "%s must be a list, not %s", what, kindName(n))
		return nil, false
	}
	return n.Content, true
}

var (
	identRE  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	nodeIDRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]*$`)
)
