package scenarios_test

import (
	"io/fs"
	"path"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/engine"
	"github.com/switchboard-sim/switchboard/scenarios"
)

// The shipped library: eight scenarios, each clean under lint, each with passing tests for
// its good path and its bad habits.
func TestLibrary(t *testing.T) {
	paths, err := engine.FindScenarios(scenarios.FS, scenarios.Root)
	require.NoError(t, err)
	require.Len(t, paths, 8, "one scenario for each situation Switchboard teaches")
	ids := map[string]bool{}
	for _, p := range paths {
		t.Run(path.Base(p), func(t *testing.T) {
			sc, diags := engine.Load(scenarios.FS, p)
			require.NotNil(t, sc, diags.Error())
			assert.Empty(t, diags.Warnings(), "the shipped library has no warnings")
			assert.Equal(t, strings.TrimSuffix(path.Base(p), ".yaml"), sc.ID, "the file is named after the id")
			assert.False(t, ids[sc.ID])
			ids[sc.ID] = true
			assert.NotEmpty(t, sc.Lesson)
			assert.GreaterOrEqual(t, len(sc.Nodes), 8)
			assert.LessOrEqual(t, len(sc.Nodes), 25)
			outcomes := map[string]bool{}
			for _, id := range sc.Endings() {
				outcomes[sc.Node(id).End.Outcome] = true
			}
			assert.GreaterOrEqual(t, len(sc.Endings()), 3, "several endings")
			assert.GreaterOrEqual(t, len(outcomes), 2, "endings with different outcomes")

			cases, tdiags := engine.LoadTests(scenarios.FS, engine.TestPath(p), sc)
			require.False(t, tdiags.HasErrors(), tdiags.Error())
			require.GreaterOrEqual(t, len(cases), 4)
			goodPath, badHabits := false, 0
			for _, c := range cases {
				res := engine.RunTest(sc, c)
				assert.True(t, res.Passed(), "%s: %s\n%s", c.Name, strings.Join(res.Failures, "\n"), engine.FormatTranscript(res.Transcript))
				end := lastEnd(res.Transcript)
				if end != nil && end.Passed && len(engine.FiredRules(res.Transcript)) == 0 {
					goodPath = true
				}
				if end != nil && !end.Passed {
					badHabits++
				}
			}
			assert.True(t, goodPath, "a test walks a good path: it passes and fires no rule")
			assert.GreaterOrEqual(t, badHabits, 3, "tests show bad habits failing the call")
		})
	}
}

func lastEnd(outs []engine.Output) *engine.EndInfo {
	for i := len(outs) - 1; i >= 0; i-- {
		if outs[i].Type == engine.OutEnd {
			return outs[i].End
		}
	}
	return nil
}

func TestRulePacksAreIncluded(t *testing.T) {
	packs, err := fs.Glob(scenarios.FS, "scenarios/rules/*.yaml")
	require.NoError(t, err)
	require.Len(t, packs, 4)
	used := map[string]bool{}
	paths, _ := engine.FindScenarios(scenarios.FS, scenarios.Root)
	for _, p := range paths {
		sc, _ := engine.Load(scenarios.FS, p)
		require.NotNil(t, sc)
		for _, src := range sc.Sources[1:] {
			used[src.Path] = true
		}
	}
	for _, p := range packs {
		assert.True(t, used[p], "%s is included by some scenario", p)
	}
}
