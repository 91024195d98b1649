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

// Fair judgement (issue 11): every shipped scenario offers hints on request at a cost,
// lets a 40-wpm typist who starts within a few seconds compose without being hurried,
// titles its endings for the trainee and gives a model reply wherever the customer waits
// for one.
func TestLibraryJudgesFairly(t *testing.T) {
	const (
		startWithin = 3000 // ms after the line ends, the trainee starts typing
		composeMS   = 75000
	)
	for _, sc := range shipped(t) {
		t.Run(sc.ID, func(t *testing.T) {
			assert.Equal(t, engine.SuggestOnRequest, sc.Suggestions, "free text, hints on request")
			assert.Equal(t, int64(composeMS), sc.ComposeLimit)
			hints := false
			for _, src := range sc.Sources {
				hints = hints || src.Path == "scenarios/rules/hints.yaml"
			}
			assert.True(t, hints, "includes the hints pack")
			for _, n := range sc.Nodes {
				switch {
				case n.End != nil:
					assert.NotEqual(t, humanized(n.ID), n.End.Title, "%s: a hand-written title", n.ID)
					assert.LessOrEqual(t, len(strings.Fields(n.End.Title)), 7, "%s: a title is a few words", n.ID)
				case len(n.Lines) > 0:
					require.False(t, n.Model.Empty(), "%s: the customer waits for a reply here, so it has a model reply", n.ID)
					typing := int64(len([]rune(n.Model.Source(sc)))) * 1000 * 10 / 33
					assert.Less(t, startWithin+typing, sc.ComposeLimit, "%s: the model reply, typed at 40 wpm, fits in the compose limit", n.ID)
					if len(n.Choices) > 0 {
						for _, tm := range n.Timers {
							assert.GreaterOrEqual(t, tm.After, int64(2*startWithin), "%s: a trainee who starts typing within a few seconds holds this timer", n.ID)
						}
					}
				}
			}
		})
	}
}

// humanized is the title the loader makes up from an ending's id.
func humanized(id string) string {
	s := strings.NewReplacer("_", " ", "-", " ").Replace(id)
	return strings.ToUpper(s[:1]) + s[1:]
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
	require.Len(t, packs, 6)
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
