package engine

import (
	"fmt"
	"sort"
	"strings"
)

// Severity tells whether a diagnostic stops a scenario from loading.
type Severity int

const (
	// SeverityError makes loading fail.
	SeverityError Severity = iota
	// SeverityWarning is reported but does not stop loading.
	SeverityWarning
)

func (s Severity) String() string {
	if s == SeverityWarning {
		return "warning"
	}
	return "error"
}

// MarshalText renders the severity as "error" or "warning".
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads "error" or "warning".
func (s *Severity) UnmarshalText(b []byte) error {
	switch string(b) {
	case "error":
		*s = SeverityError
	case "warning":
		*s = SeverityWarning
	default:
		return fmt.Errorf("unknown severity %q (want error or warning)", b)
	}
	return nil
}

// Diagnostic is one problem found in a scenario, test or rule-pack file.
type Diagnostic struct {
	Path     string   `json:"path"`
	Line     int      `json:"line"`
	Col      int      `json:"col"`
	Severity Severity `json:"severity"`
	Message  string   `json:"message"`
}

// String formats the diagnostic compiler-style: path:line:col: message.
func (d Diagnostic) String() string {
	sev := ""
	if d.Severity == SeverityWarning {
		sev = "warning: "
	}
	return fmt.Sprintf("%s:%d:%d: %s%s", d.Path, d.Line, d.Col, sev, d.Message)
}

// Diagnostics is a list of problems. As an error it prints one per line.
type Diagnostics []Diagnostic

// Error implements error.
func (ds Diagnostics) Error() string {
	lines := make([]string, len(ds))
	for i, d := range ds {
		lines[i] = d.String()
	}
	return strings.Join(lines, "\n")
}

// HasErrors reports whether any diagnostic is an error (not a warning).
func (ds Diagnostics) HasErrors() bool {
	for _, d := range ds {
		if d.Severity == SeverityError {
			return true
		}
	}
	return false
}

// Errors returns only the errors.
func (ds Diagnostics) Errors() Diagnostics { return ds.filter(SeverityError) }

// Warnings returns only the warnings.
func (ds Diagnostics) Warnings() Diagnostics { return ds.filter(SeverityWarning) }

func (ds Diagnostics) filter(s Severity) Diagnostics {
	var out Diagnostics
	for _, d := range ds {
		if d.Severity == s {
			out = append(out, d)
		}
	}
	return out
}

// Sort orders diagnostics by path, line and column, keeping the order of equal positions.
func (ds Diagnostics) Sort() {
	sort.SliceStable(ds, func(i, j int) bool {
		a, b := ds[i], ds[j]
		if a.Path != b.Path {
			return a.Path < b.Path
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
}

// commonPrefix is the length of the longest common prefix of a and b, in bytes.
func commonPrefix(a, b string) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

// closest returns the candidate close enough to name to suggest (by edit distance, a
// shared start, or the same first three letters within three edits), if any.
func closest(name string, candidates []string) (string, bool) {
	best, bestDist := "", 0
	for _, c := range candidates {
		d := levenshtein(strings.ToLower(name), strings.ToLower(c))
		if best == "" || d < bestDist || (d == bestDist && c < best) {
			best, bestDist = c, d
		}
	}
	if best == "" {
		return "", false
	}
	limit := max(1, min(len(name), len(best))/3)
	if bestDist > limit && !strings.HasPrefix(best, name) && !strings.HasPrefix(name, best) &&
		!(bestDist <= 3 && commonPrefix(strings.ToLower(name), strings.ToLower(best)) >= 3) {
		return "", false
	}
	return best, true
}

// didYouMean returns ` (did you mean "x"?)` when a candidate is close to name, else "".
func didYouMean(name string, candidates []string) string {
	if best, ok := closest(name, candidates); ok {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	return ""
}

// levenshtein is the edit distance between a and b, counting a swap of two neighbouring
// letters as one edit ("titel" → "title"), by bytes: names are ASCII.
func levenshtein(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}
