package studio

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// render writes a diff one line per line, as "-a", "+b", " c".
func render(lines []diffLine) string {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l.Op + l.Text + "\n")
	}
	return b.String()
}

func TestLineDiff(t *testing.T) {
	for _, c := range []struct {
		name, old, new, want string
	}{
		{"both empty", "", "", ""},
		{"same", "a\nb\n", "a\nb\n", " a\n b\n"},
		{"from nothing", "", "a\nb\n", "+a\n+b\n"},
		{"to nothing", "a\nb\n", "", "-a\n-b\n"},
		{"one line changed", "a\nb\nc\n", "a\nB\nc\n", " a\n-b\n+B\n c\n"},
		{"insert in the middle", "a\nc\n", "a\nb\nc\n", " a\n+b\n c\n"},
		{"delete at the start", "a\nb\nc\n", "b\nc\n", "-a\n b\n c\n"},
		{"append", "a\n", "a\nb\n", " a\n+b\n"},
		{"final newline is not a line", "a\nb", "a\nb\n", " a\n b\n"},
		{"blank lines count", "a\n\nb\n", "a\nb\n", " a\n-\n b\n"},
		// Myers' paper's example: ABCABBA → CBABAC, 5 edits.
		{"Myers' example", "A\nB\nC\nA\nB\nB\nA\n", "C\nB\nA\nB\nA\nC\n", "-A\n-B\n C\n+B\n A\n B\n-B\n A\n+C\n"},
		{"moved line", "x\ny\nz\n", "y\nz\nx\n", "-x\n y\n z\n+x\n"},
		{"indentation matters", "  say: hi\n", "    say: hi\n", "-  say: hi\n+    say: hi\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, exact := lineDiff(c.old, c.new)
			assert.True(t, exact)
			assert.Equal(t, c.want, render(got))
			checkDiff(t, c.old, c.new, got)
		})
	}
}

// checkDiff asserts that a diff holds both texts: its " " and "-" lines are the old text,
// its " " and "+" lines the new, each with the right line numbers.
func checkDiff(t *testing.T, oldText, newText string, lines []diffLine) {
	t.Helper()
	var o, n []string
	for _, l := range lines {
		if l.Op != diffAdd {
			o = append(o, l.Text)
			require.Equal(t, len(o), l.Old, "old line number of %q", l.Text)
		}
		if l.Op != diffDel {
			n = append(n, l.Text)
			require.Equal(t, len(n), l.New, "new line number of %q", l.Text)
		}
	}
	require.Equal(t, splitLines(oldText), o)
	require.Equal(t, splitLines(newText), n)
}

// lcs is the length of the longest common subsequence, by dynamic programming: the
// reference a shortest diff is checked against (edits = len(a) + len(b) - 2·lcs).
func lcs(a, b []string) int {
	dp := make([][]int, len(a)+1)
	for i := range dp {
		dp[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				dp[i][j] = dp[i+1][j+1] + 1
			} else {
				dp[i][j] = max(dp[i+1][j], dp[i][j+1])
			}
		}
	}
	return dp[0][0]
}

// On random texts over a small alphabet (many repeats, the hard case), the diff holds both
// texts and makes the fewest edits.
func TestLineDiffIsShortest(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	text := func() string {
		var b strings.Builder
		for range r.IntN(30) {
			fmt.Fprintf(&b, "%c\n", 'a'+r.IntN(4))
		}
		return b.String()
	}
	for range 2000 {
		a, b := text(), text()
		got, exact := lineDiff(a, b)
		require.True(t, exact)
		checkDiff(t, a, b, got)
		edits := 0
		for _, l := range got {
			if l.Op != diffSame {
				edits++
			}
		}
		sa, sb := splitLines(a), splitLines(b)
		require.Equal(t, len(sa)+len(sb)-2*lcs(sa, sb), edits, "a shortest diff of\n%s---\n%s", a, b)
	}
}

// Past MaxDiffEdits the middle is shown as replaced, the common start and end still as
// unchanged, and the diff says it is not exact.
func TestLineDiffLimit(t *testing.T) {
	var a, b strings.Builder
	a.WriteString("head\n")
	b.WriteString("head\n")
	for i := range MaxDiffEdits {
		fmt.Fprintf(&a, "old %d\n", i)
		fmt.Fprintf(&b, "new %d\n", i)
	}
	a.WriteString("tail\n")
	b.WriteString("tail\n")
	got, exact := lineDiff(a.String(), b.String())
	assert.False(t, exact)
	checkDiff(t, a.String(), b.String(), got)
	assert.Equal(t, diffSame, got[0].Op)
	assert.Equal(t, diffDel, got[1].Op)
	assert.Equal(t, diffAdd, got[MaxDiffEdits+1].Op)
	assert.Equal(t, diffSame, got[len(got)-1].Op)

	// Just under the limit the diff is exact.
	small, exact := lineDiff("a\nb\n", "c\nd\n")
	assert.True(t, exact)
	assert.Equal(t, "-a\n-b\n+c\n+d\n", render(small))
}

func TestHunks(t *testing.T) {
	var a, b []string
	for i := 1; i <= 30; i++ {
		a = append(a, fmt.Sprint(i))
		b = append(b, fmt.Sprint(i))
	}
	b[4] = "five"                                             // line 5
	b[10] = "eleven"                                          // line 11: 5 lines after, within 2×3 → same hunk
	b = append(b[:25], append([]string{"new"}, b[25:]...)...) // inserted after line 25
	lines, _ := lineDiff(strings.Join(a, "\n"), strings.Join(b, "\n"))
	hs := hunks(lines, 3)
	require.Len(t, hs, 2)
	assert.Equal(t, []int{2, 13, 2, 13}, []int{hs[0].OldStart, hs[0].OldLines, hs[0].NewStart, hs[0].NewLines})
	assert.Equal(t, " 2", hs[0].Lines[0].Op+hs[0].Lines[0].Text)
	assert.Equal(t, " 14", hs[0].Lines[len(hs[0].Lines)-1].Op+hs[0].Lines[len(hs[0].Lines)-1].Text)
	assert.Equal(t, []int{23, 6, 23, 7}, []int{hs[1].OldStart, hs[1].OldLines, hs[1].NewStart, hs[1].NewLines})
	assert.Equal(t, "+new", hs[1].Lines[3].Op+hs[1].Lines[3].Text)

	// Changes 7 unchanged lines apart get two hunks; none for equal texts.
	lines, _ = lineDiff("a\n1\n2\n3\n4\n5\n6\n7\nb\n", "A\n1\n2\n3\n4\n5\n6\n7\nB\n")
	assert.Len(t, hunks(lines, 3), 2)
	lines, _ = lineDiff("a\n1\n2\n3\n4\n5\n6\nb\n", "A\n1\n2\n3\n4\n5\n6\nB\n")
	assert.Len(t, hunks(lines, 3), 1, "6 apart: one hunk")
	lines, _ = lineDiff("a\n", "a\n")
	assert.Empty(t, hunks(lines, 3))

	// A pure insertion at the start: the old side is empty and starts at 0.
	lines, _ = lineDiff("a\n", "new\na\n")
	hs = hunks(lines, 3)
	require.Len(t, hs, 1)
	assert.Equal(t, []int{1, 1, 1, 2}, []int{hs[0].OldStart, hs[0].OldLines, hs[0].NewStart, hs[0].NewLines})
	lines, _ = lineDiff("a\nb\n", "a\n")
	hs = hunks(lines, 0)
	require.Len(t, hs, 1)
	assert.Equal(t, []int{2, 1, 1, 0}, []int{hs[0].OldStart, hs[0].OldLines, hs[0].NewStart, hs[0].NewLines})
}

// The diff never fails on any pair of texts and always holds both.
func FuzzLineDiff(f *testing.F) {
	f.Add("a\nb\nc\n", "a\nc\nd\n")
	f.Add("", "x")
	f.Add("\n\n\n", "\n")
	f.Fuzz(func(t *testing.T, a, b string) {
		lines, _ := lineDiff(a, b)
		checkDiff(t, a, b, lines)
		for _, h := range hunks(lines, diffContext) {
			require.NotEmpty(t, h.Lines)
		}
	})
}
