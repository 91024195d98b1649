package engine_test

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/engine"
	"github.com/switchboard-sim/switchboard/scenarios"
)

// A call recorded as a test case passes when run: the test language can say everything
// a played call did.
func TestFormatTestRoundTrips(t *testing.T) {
	paths, err := engine.FindScenarios(scenarios.FS, scenarios.Root)
	require.NoError(t, err)
	for _, p := range paths {
		sc, _ := engine.Load(scenarios.FS, p)
		require.NotNil(t, sc)
		for i := range 25 {
			seed := uint64(i + 1)
			events, _ := randomCall(sc, engine.TestSeed, rand.New(rand.NewPCG(seed, 5)))
			// Replay with the name test runs use, so the outputs match theirs.
			s := sc.NewSession(engine.TestSeed, engine.TestTrainee)
			all := s.Start(nil)
			for _, ev := range events {
				var err error
				all, err = s.Apply(ev, all)
				require.NoError(t, err)
			}
			text := engine.FormatTest("recorded", events, s, all)
			var diags engine.Diagnostics
			cases := engine.ParseTests("recorded.test.yaml", []byte(text), sc, &diags)
			require.False(t, diags.HasErrors(), "%s\n%s", diags.Error(), text)
			require.Len(t, cases, 1)
			res := engine.RunTest(sc, cases[0])
			require.True(t, res.Passed(), "%s seed %d\n%s\n%v\n%s", sc.ID, seed, text, res.Failures, engine.FormatTranscript(res.Transcript))
		}
	}
}

func TestStartAtAndTrace(t *testing.T) {
	sc := loadOK(t, "semantics")
	s := sc.NewSession(1, "Ann")
	s.SetTrace(true)
	outs, err := s.StartAt("greet", map[string]any{"rolls": 3, "path": "x"}, nil)
	require.NoError(t, err)
	assert.Equal(t, "greet", s.Node())
	assert.Equal(t, 3.0, s.Vars()["rolls"])
	require.GreaterOrEqual(t, len(outs), 2)
	assert.Equal(t, engine.Output{Type: engine.OutEnter, Node: "greet"}, outs[0], "tracing reports each node entered")
	assert.Equal(t, engine.OutLine, outs[1].Type)

	outs, err = s.Apply(say(6000, "shut up"), nil)
	require.NoError(t, err)
	var traced, entered []string
	for _, o := range outs {
		switch o.Type {
		case engine.OutTrace:
			traced = append(traced, o.Rule+"="+map[bool]string{true: "T", false: "F"}[*o.Holds]+">"+o.To)
		case engine.OutEnter:
			entered = append(entered, o.Node)
		}
	}
	assert.Equal(t, []string{"measure=T>", "apologised=F>", "rude=T>angry"}, traced)
	assert.Equal(t, []string{"angry"}, entered)

	for _, tc := range []struct {
		node string
		vars map[string]any
		want string
	}{
		{"gret", nil, `unknown node "gret" (did you mean "greet"?)`},
		{"greet", map[string]any{"rols": 1}, `unknown var "rols" (did you mean "rolls"?)`},
		{"greet", map[string]any{"rolls": "three"}, "var rolls: want a number, got string"},
		{"greet", map[string]any{"intr": 1}, "var intr: want true or false, got int"},
	} {
		_, err := sc.NewSession(1, "").StartAt(tc.node, tc.vars, nil)
		assert.EqualError(t, err, tc.want)
	}
}

func TestLoadSourcesRebuildsTheSameScenario(t *testing.T) {
	sc, diags := engine.LoadFile("testdata/ok/semantics.yaml")
	require.False(t, diags.HasErrors(), diags.Error())
	again, diags := engine.LoadSources(sc.Sources)
	require.False(t, diags.HasErrors(), diags.Error())
	assert.Equal(t, sc.Hash, again.Hash)
	assert.Equal(t, sc.ID, again.ID)
	assert.Equal(t, len(sc.Nodes), len(again.Nodes))

	_, diags = engine.LoadSources(nil)
	assert.True(t, diags.HasErrors())
}

// Tracing changes nothing but the extra outputs: every shipped test gets the same verdict
// and, without its trace and enter outputs, the same transcript.
func TestRunTestTracedSameVerdict(t *testing.T) {
	paths, err := engine.FindScenarios(scenarios.FS, scenarios.Root)
	require.NoError(t, err)
	for _, p := range paths {
		sc, _ := engine.Load(scenarios.FS, p)
		require.NotNil(t, sc)
		cases, diags := engine.LoadTests(scenarios.FS, engine.TestPath(p), sc)
		require.False(t, diags.HasErrors(), diags.Error())
		require.NotEmpty(t, cases, p)
		for _, c := range cases {
			plain, traced := engine.RunTest(sc, c), engine.RunTestTraced(sc, c)
			assert.Equal(t, plain.Failures, traced.Failures, c.Name)
			var kept []engine.Output
			traces := 0
			for _, o := range traced.Transcript {
				if o.Type == engine.OutTrace || o.Type == engine.OutEnter {
					traces++
					continue
				}
				kept = append(kept, o)
			}
			assert.Equal(t, plain.Transcript, kept, c.Name)
			assert.Positive(t, traces, c.Name)
		}
	}
}
