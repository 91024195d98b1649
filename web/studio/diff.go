package studio

import "strings"

// Limits of the revision diff.
const (
	// MaxDiffEdits bounds the line diff's work: when two versions differ by more than this
	// many inserted and deleted lines (after their common start and end are set aside),
	// the part between is shown as wholly replaced and the diff says it is approximate.
	MaxDiffEdits = 1000
	// diffContext is how many unchanged lines are shown around each change.
	diffContext = 3
)

// The kinds of diff line.
const (
	diffSame = " "
	diffDel  = "-"
	diffAdd  = "+"
)

// diffLine is one line of a diff: unchanged, deleted from the old text or added in the new,
// with its line numbers (1-based; 0 where the line is not in that text).
type diffLine struct {
	Op   string `json:"op"` // " ", "-" or "+"
	Old  int    `json:"old,omitempty"`
	New  int    `json:"new,omitempty"`
	Text string `json:"text"`
}

// diffHunk is a run of changes with up to diffContext unchanged lines around them.
type diffHunk struct {
	OldStart int        `json:"old_start"` // first line of the hunk in the old text (as in a unified diff's @@ header)
	OldLines int        `json:"old_lines"`
	NewStart int        `json:"new_start"`
	NewLines int        `json:"new_lines"`
	Lines    []diffLine `json:"lines"`
}

// splitLines splits a text into lines; a final newline ends the last line rather than
// starting an empty one.
func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

// lineDiff compares two texts line by line and returns every line of both, in order: the
// lines they share (" "), and those only the old text ("-") or only the new ("+") has.
// The diff is a shortest one (Myers' O(ND) algorithm) unless more than MaxDiffEdits lines
// differ, in which case exact is false and the differing middle is shown as replaced.
func lineDiff(oldText, newText string) (lines []diffLine, exact bool) {
	a, b := splitLines(oldText), splitLines(newText)
	// Lines become numbers, so the search compares ints.
	ids := map[string]int32{}
	num := func(ls []string) []int32 {
		out := make([]int32, len(ls))
		for i, l := range ls {
			id, ok := ids[l]
			if !ok {
				id = int32(len(ids))
				ids[l] = id
			}
			out[i] = id
		}
		return out
	}
	x, y := num(a), num(b)
	// The common start and end are unchanged whatever the middle holds.
	pre := 0
	for pre < len(x) && pre < len(y) && x[pre] == y[pre] {
		pre++
	}
	suf := 0
	for suf < len(x)-pre && suf < len(y)-pre && x[len(x)-1-suf] == y[len(y)-1-suf] {
		suf++
	}
	ops, exact := myers(x[pre:len(x)-suf], y[pre:len(y)-suf], MaxDiffEdits)
	lines = make([]diffLine, 0, len(a)+len(b))
	i, j := 0, 0
	emit := func(op string) {
		switch op {
		case diffSame:
			lines = append(lines, diffLine{Op: op, Old: i + 1, New: j + 1, Text: a[i]})
			i++
			j++
		case diffDel:
			lines = append(lines, diffLine{Op: op, Old: i + 1, Text: a[i]})
			i++
		case diffAdd:
			lines = append(lines, diffLine{Op: op, New: j + 1, Text: b[j]})
			j++
		}
	}
	for range pre {
		emit(diffSame)
	}
	for _, op := range ops {
		emit(op)
	}
	for range suf {
		emit(diffSame)
	}
	return lines, exact
}

// myers returns the edit script turning x into y: one op per line, " " for a line kept,
// "-" for a line of x deleted, "+" for a line of y inserted, with the fewest "-" and "+"
// (E. W. Myers, "An O(ND) difference algorithm and its variations", 1986). The search
// keeps, for each number of edits d, the furthest point reached on each diagonal k = i-j;
// the path is then read back from those. Past maxD edits it gives up and returns every
// line of x deleted and every line of y inserted (a correct script, not a shortest one),
// with exact false.
func myers(x, y []int32, maxD int) (ops []string, exact bool) {
	n, m := len(x), len(y)
	limit := min(n+m, maxD)
	// v[off+k] is the furthest i reached on diagonal k; trace[d] holds v[-d .. d] after
	// step d (so trace[d][k+d] is diagonal k).
	off := limit + 1
	v := make([]int32, 2*limit+3)
	var trace [][]int32
	found := -1
	for d := 0; d <= limit && found < 0; d++ {
		for k := -d; k <= d; k += 2 {
			var i int
			if k == -d || (k != d && v[off+k-1] < v[off+k+1]) {
				i = int(v[off+k+1]) // down from diagonal k+1: insert a line of y
			} else {
				i = int(v[off+k-1]) + 1 // right from diagonal k-1: delete a line of x
			}
			j := i - k
			for i < n && j < m && x[i] == y[j] {
				i++
				j++
			}
			v[off+k] = int32(i)
			if i >= n && j >= m {
				found = d
				break
			}
		}
		trace = append(trace, append([]int32(nil), v[off-d:off+d+1]...))
	}
	if found < 0 {
		ops = make([]string, 0, n+m)
		for range n {
			ops = append(ops, diffDel)
		}
		for range m {
			ops = append(ops, diffAdd)
		}
		return ops, false
	}
	// Read the path back from (n, m): at each d, the diagonal the step came from, the edit
	// it made, and the kept lines (the snake) after it.
	rev := make([]string, 0, n+m)
	i, j := n, m
	for d := found; d > 0; d-- {
		prev := trace[d-1]
		at := func(k int) int { return int(prev[k+d-1]) }
		k := i - j
		down := k == -d || (k != d && at(k-1) < at(k+1))
		pk := k - 1
		if down {
			pk = k + 1
		}
		pi := at(pk)
		pj := pi - pk
		si := pi + 1 // where the snake starts, after the edit
		if down {
			si = pi
		}
		for i > si {
			rev = append(rev, diffSame)
			i--
			j--
		}
		if down {
			rev = append(rev, diffAdd)
		} else {
			rev = append(rev, diffDel)
		}
		i, j = pi, pj
	}
	for i > 0 {
		rev = append(rev, diffSame)
		i--
	}
	ops = make([]string, len(rev))
	for q, op := range rev {
		ops[len(rev)-1-q] = op
	}
	return ops, true
}

// hunks groups a diff's changes with up to context unchanged lines on each side; changes
// closer than 2×context lines share a hunk. A diff without changes has no hunks.
func hunks(lines []diffLine, context int) []diffHunk {
	var out []diffHunk
	n := len(lines)
	for i := 0; i < n; {
		if lines[i].Op == diffSame {
			i++
			continue
		}
		start := max(i-context, 0)
		end := i // one past the last change so far
		for j := i; j < n; j++ {
			if lines[j].Op != diffSame {
				end = j + 1
			} else if j-end >= 2*context {
				break
			}
		}
		stop := min(end+context, n)
		h := diffHunk{Lines: lines[start:stop]}
		for _, l := range h.Lines {
			if l.Op != diffAdd {
				h.OldLines++
				if h.OldStart == 0 {
					h.OldStart = l.Old
				}
			}
			if l.Op != diffDel {
				h.NewLines++
				if h.NewStart == 0 {
					h.NewStart = l.New
				}
			}
		}
		// An empty side starts, as in a unified diff, at the line before the hunk.
		if h.OldLines == 0 {
			h.OldStart = oldBefore(lines, start)
		}
		if h.NewLines == 0 {
			h.NewStart = newBefore(lines, start)
		}
		out = append(out, h)
		i = stop
	}
	return out
}

func oldBefore(lines []diffLine, i int) int {
	for i--; i >= 0; i-- {
		if lines[i].Old > 0 {
			return lines[i].Old
		}
	}
	return 0
}

func newBefore(lines []diffLine, i int) int {
	for i--; i >= 0; i-- {
		if lines[i].New > 0 {
			return lines[i].New
		}
	}
	return 0
}
