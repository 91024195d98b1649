package engine

import (
	"io/fs"
	"path"
	"slices"
	"strings"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/scenarios"
)

// shippedScenarios loads every shipped scenario.
func shippedScenarios(t *testing.T) []*Scenario {
	t.Helper()
	names, err := fs.Glob(scenarios.FS, path.Join(scenarios.Root, "*.yaml"))
	require.NoError(t, err)
	var out []*Scenario
	for _, n := range names {
		if strings.HasSuffix(n, ".test.yaml") {
			continue
		}
		sc, diags := Load(scenarios.FS, n)
		require.NotNil(t, sc, "%s: %v", n, diags)
		out = append(out, sc)
	}
	require.NotEmpty(t, out)
	return out
}

// allTransitions lists the scenario's global rules, then each node's transitions and timers.
func allTransitions(sc *Scenario) []*Transition {
	ts := slices.Clone(sc.Rules)
	for _, n := range sc.Nodes {
		ts = append(ts, n.Transitions...)
		ts = append(ts, n.Timers...)
	}
	return ts
}

// A transition's score mask names exactly the axes of its Score, so that marking axes
// assessed from it (exposed) marks what reading Score did.
func TestScoreAxesMaskIsScore(t *testing.T) {
	for _, sc := range shippedScenarios(t) {
		for _, tr := range allTransitions(sc) {
			var want, got []int
			for _, d := range tr.Score {
				if !slices.Contains(want, d.Axis) {
					want = append(want, d.Axis)
				}
			}
			slices.Sort(want)
			require.NotEqual(t, uint64(scoreWide), tr.scoreAxes, "%s:%d: no shipped scenario has 63 axes", tr.Path, tr.Line)
			for a := range 64 {
				if tr.scoreAxes&(1<<a) != 0 {
					got = append(got, a)
				}
			}
			assert.Equal(t, want, got, "%s:%d", tr.Path, tr.Line)
		}
	}

	// Past the 63rd axis the mask gives way to Score itself.
	tr := &Transition{Score: []ScoreDelta{{Axis: 2, Delta: 1}, {Axis: 70, Delta: -1}}}
	sc := &Scenario{Rules: []*Transition{tr}}
	sc.computeExposure()
	require.Equal(t, uint64(scoreWide), tr.scoreAxes)
	s := &Session{chance: true, assessed: make([]bool, 71)}
	s.exposed(tr)
	assert.True(t, s.assessed[2])
	assert.True(t, s.assessed[70])
	assert.Equal(t, 2, countTrue(s.assessed))
}

func countTrue(bs []bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}

// Every guard of a scenario lies in one array, in the order steps read them: the global
// rules' first, each node followed by its children (packGuards).
func TestGuardsArePackedInReadingOrder(t *testing.T) {
	for _, sc := range shippedScenarios(t) {
		var roots []*guard
		for _, r := range sc.Rules {
			if r.guard != nil {
				roots = append(roots, r.guard)
			}
		}
		if len(roots) == 0 {
			continue
		}
		size := unsafe.Sizeof(guard{})
		next := uintptr(unsafe.Pointer(roots[0]))
		var walk func(g *guard)
		walk = func(g *guard) {
			require.Equal(t, next, uintptr(unsafe.Pointer(g)), "%s: a guard out of place", sc.ID)
			next += size
			for _, c := range []*guard{g.a, g.b} {
				if c != nil {
					walk(c)
				}
			}
		}
		for _, g := range roots {
			walk(g)
		}
	}
}
