package studio_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/engine"
)

type coverResponse struct {
	Passed, Failed int
	Coverage       *engine.Coverage
}

func covered(items []engine.CoverItem) (n int, missed []string) {
	for _, it := range items {
		if it.Covered {
			n++
		} else {
			missed = append(missed, it.Name)
		}
	}
	return n, missed
}

// The Tests panel's run reports what the tests exercised, as `switchboard test --coverage`
// does: the shipped cheese-shop tests never enter "pressed" nor reach "walked_out"; with one
// test left, less is covered; the items carry the line to jump to.
func TestTestsReportCoverage(t *testing.T) {
	e := newEnv(t)
	// The shipped tests reach every ending; without this one, walked_out is reached by none.
	dropTestCase(t, e, "cheese-shop.test.yaml", "honest, but offering nothing twice, and he walks out")
	// and without these two, nothing enters pressed.
	dropTestCase(t, e, "cheese-shop.test.yaml", `"'id have to check the back' is a stall"`)
	dropTestCase(t, e, "cheese-shop.test.yaml", `"praising his cheese board instead of answering is a dodge"`)
	var res coverResponse
	require.Equal(t, 200, e.call("POST", "/api/studio/tests", designerKey, map[string]string{"path": "cheese-shop.yaml"}, &res))
	require.NotNil(t, res.Coverage)
	c := res.Coverage
	n, missed := covered(c.Nodes)
	assert.Equal(t, 12, n)
	assert.Equal(t, []string{"pressed"}, missed)
	n, missed = covered(c.Endings)
	assert.Equal(t, []int{7, 8}, []int{n, len(c.Endings)})
	assert.Equal(t, []string{"walked_out"}, missed)
	n, missed = covered(c.Edges)
	assert.Equal(t, []int{23, 32}, []int{n, len(c.Edges)})
	assert.Contains(t, missed, "ask_manchego → pressed")
	n, missed = covered(c.Rules)
	assert.Equal(t, 13, n) // interrupting, dismissive, asked-for-hint, asks-repeats, ...
	assert.Contains(t, missed, "slow-answer")
	src, _ := e.lib.File("cheese-shop.yaml")
	lines := strings.Split(string(src), "\n")
	for _, it := range c.Nodes {
		if it.Name == "pressed" {
			assert.Equal(t, "cheese-shop.yaml", it.Path)
			assert.Equal(t, "  pressed:", lines[it.Line-1], "the item's line is the node's")
		}
	}
	for _, it := range c.Rules {
		if it.Name == "long-silence" {
			assert.Equal(t, "rules/time.yaml", it.Path, "a pack's rule names the pack")
		}
	}

	// Only the first test case: fewer nodes covered, and the counts add up.
	tests, _ := e.lib.File("cheese-shop.test.yaml")
	first := firstCase(t, string(tests))
	var one coverResponse
	require.Equal(t, 200, e.call("POST", "/api/studio/tests", designerKey, map[string]string{"path": "cheese-shop.yaml", "tests": first}, &one))
	require.Equal(t, 1, one.Passed+one.Failed)
	n1, _ := covered(one.Coverage.Nodes)
	assert.Less(t, n1, 12)
	assert.Positive(t, n1)
	assert.Len(t, one.Coverage.Nodes, 13, "the same items, fewer covered")

	// A scenario with errors runs nothing: no coverage.
	var bad map[string]any
	assert.Equal(t, 422, e.call("POST", "/api/studio/tests", designerKey, map[string]string{"path": "cheese-shop.yaml", "source": "id: x"}, &bad))
	assert.NotContains(t, bad, "coverage")
}

// firstCase keeps the header of a test file and its first case only.
func firstCase(t *testing.T, src string) string {
	t.Helper()
	lines := strings.Split(src, "\n")
	var out []string
	cases := 0
	for _, l := range lines {
		if strings.HasPrefix(l, "  - name:") || strings.HasPrefix(l, "- name:") {
			cases++
		}
		if cases <= 1 {
			out = append(out, l)
		}
	}
	require.Greater(t, cases, 1, "the file has several cases")
	return strings.Join(out, "\n")
}
