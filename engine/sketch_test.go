package engine_test

import (
	"io/fs"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/engine"
	"github.com/switchboard-sim/switchboard/scenarios"
)

func TestDrawValidScenario(t *testing.T) {
	data, err := os.ReadFile("testdata/ok/basic.yaml")
	require.NoError(t, err)
	sk := engine.Draw(engine.OSFS{}, "testdata/ok/basic.yaml", data)
	assert.False(t, sk.Diags.HasErrors(), sk.Diags.Error())
	assert.Equal(t, "ring", sk.Start)
	kinds := map[string]string{}
	for _, n := range sk.Nodes {
		kinds[n.ID] = n.Kind + "/" + n.Outcome
		assert.False(t, n.Unreachable || n.DeadEnd, n.ID)
	}
	assert.Equal(t, map[string]string{"ring": "ring/", "greet": "line/", "good": "ending/resolved", "bad": "ending/lost", "missed": "ending/lost"}, kinds)
	require.Len(t, sk.Edges, 4)
	assert.Equal(t, engine.SketchEdge{From: "ring", To: "missed", Label: "after 20s", Timer: true, Line: 16, Col: 9}, sk.Edges[1])
	assert.NotEmpty(t, sk.Rules, "the included pack's rules are listed")
	assert.Equal(t, []string{"listening", "honesty"}, sk.Axes, "packs first")
}

// While a guard is being typed it does not compile; the sketch keeps its edge (broken) so
// the graph does not lose an arrow, and still finds unreachable nodes and dead ends.
func TestDrawWithErrors(t *testing.T) {
	src := `id: wip
title: Work in progress
brief: B
start: a
nodes:
  a:
    say: Hi.
    transitions:
      - {when: 'said("hel', to: b}
      - {after: 5s, to: c}
  b:
    say: Still here.
  c:
    end: {title: C, outcome: lost}
  island:
    say: Nobody comes here.
    transitions:
      - {when: 'true', to: c}
`
	sk := engine.Draw(engine.OSFS{}, "wip.yaml", []byte(src))
	require.True(t, sk.Diags.HasErrors())
	byID := map[string]engine.SketchNode{}
	for _, n := range sk.Nodes {
		byID[n.ID] = n
	}
	assert.True(t, byID["a"].Start)
	assert.True(t, byID["b"].DeadEnd, "b has no way out")
	assert.False(t, byID["b"].Unreachable, "b is reached through the broken guard")
	assert.True(t, byID["island"].Unreachable)
	assert.False(t, byID["c"].Unreachable)
	require.Len(t, sk.Edges, 3)
	assert.Equal(t, engine.SketchEdge{From: "a", To: "b", Label: `said("hel`, Broken: true, Line: 9, Col: 9}, sk.Edges[1])

	for _, bad := range []string{"", ":", "[unclosed", "nodes: 3", "id: x\nnodes: {a: {}}\nstart: zz"} {
		sk := engine.Draw(engine.OSFS{}, "x.yaml", []byte(bad))
		assert.True(t, sk.Diags.HasErrors(), "%q", bad)
		assert.NotNil(t, sk.Nodes)
		assert.NotNil(t, sk.Edges)
	}
}

func FuzzDraw(f *testing.F) {
	data, err := os.ReadFile("testdata/ok/basic.yaml")
	require.NoError(f, err)
	f.Add(data)
	f.Add([]byte("start: a\nnodes: {a: {transitions: [{when: 'x', to: a}]}}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		sk := engine.Draw(engine.OSFS{}, "testdata/ok/fuzz.yaml", b)
		ids := map[string]bool{}
		for _, n := range sk.Nodes {
			ids[n.ID] = true
		}
		for _, e := range sk.Edges {
			if !ids[e.From] || !ids[e.To] {
				t.Fatalf("edge %s→%s names a node the sketch lacks", e.From, e.To)
			}
		}
	})
}

func TestWalk(t *testing.T) {
	sc, diags := engine.LoadFile("testdata/ok/basic.yaml")
	require.False(t, diags.HasErrors(), diags.Error())
	path, err := engine.Walk(sc, 1, "", engine.SuggestOnRequest, []engine.Event{{Type: engine.EventAnswer, At: 1000}, {Type: engine.EventSay, At: 5000, Text: "sorry we don't have any"}})
	require.NoError(t, err)
	assert.Equal(t, []string{"ring", "greet", "good"}, path)

	path, err = engine.Walk(sc, 1, "", engine.SuggestOnRequest, []engine.Event{{Type: engine.EventSay, At: 1000, Text: "hi"}})
	assert.ErrorIs(t, err, engine.ErrNotAnswered)
	assert.Equal(t, []string{"ring"}, path)
}

func TestScenarioPathOf(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"a/x.test.yaml", "a/x.yaml", true},
		{"x.test.yml", "x.yml", true},
		{"x.yaml", "", false},
		{"test.yaml", "", false},
	} {
		got, ok := engine.ScenarioPathOf(tc.in)
		assert.Equal(t, tc.ok, ok, tc.in)
		assert.Equal(t, tc.want, got, tc.in)
		if ok {
			assert.Equal(t, tc.in, engine.TestPath(got), "TestPath is the inverse")
		}
	}
}

// A YAML syntax error does not blank the studio's graph: the line is repaired as most
// likely meant (quote closed, value quoted, line re-indented) and the rest is drawn, while
// the diagnostics say where each syntax error is.
func TestDrawAfterYAMLSyntaxErrors(t *testing.T) {
	data, err := os.ReadFile("testdata/bad/syntax.yaml")
	require.NoError(t, err)
	sk := engine.Draw(engine.OSFS{}, "bad/syntax.yaml", data)
	require.True(t, sk.Diags.HasErrors())
	var ids []string
	for _, n := range sk.Nodes {
		ids = append(ids, n.ID)
	}
	assert.Equal(t, []string{"greet", "done", "later"}, ids)
	assert.Equal(t, "greet", sk.Start)
	assert.Len(t, sk.Edges, 2, "both transitions of greet, one of them from a repaired line")
	first := sk.Diags[0]
	assert.Equal(t, [2]int{7, 10}, [2]int{first.Line, first.Col}, "at the quote that is never closed")

	// A line that cannot be repaired is thrown away; the graph is still drawn, and only
	// the syntax error is reported (anything else might be its knock-on).
	src := "id: x\ntitle: X\nbrief: B\nstart: a\nnodes:\n  a:\n    say: Hi.\n    transitions: [}\n  b:\n    end: {title: B, outcome: lost}\n"
	sk = engine.Draw(engine.OSFS{}, "x.yaml", []byte(src))
	require.Len(t, sk.Nodes, 2, sk.Diags.Error())
	require.Len(t, sk.Diags, 1, sk.Diags.Error())
	assert.Contains(t, sk.Diags[0].Message, "YAML syntax")
	assert.Equal(t, 8, sk.Diags[0].Line)
}

// YAML repairs never crash and never loop: each of the shipped scenarios, with a
// deterministic random slip (a character deleted or inserted: a space, a tab, a quote, a
// colon, a brace, a dash), still gives a sketch and diagnostics at real positions.
func TestYAMLRepairsOnRandomSlips(t *testing.T) {
	paths, err := engine.FindScenarios(scenarios.FS, scenarios.Root)
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(7, 11))
	inserts := []string{" ", "\t", "'", `"`, ": ", "{", "}", "- ", "\n", ","}
	for _, p := range paths {
		data, err := fs.ReadFile(scenarios.FS, p)
		require.NoError(t, err)
		lines := strings.Count(string(data), "\n") + 1
		for range 15 {
			b := []byte(string(data))
			at := rng.IntN(len(b))
			if rng.IntN(2) == 0 {
				b = append(b[:at:at], b[at+1:]...)
			} else {
				ins := inserts[rng.IntN(len(inserts))]
				b = append(b[:at:at], append([]byte(ins), b[at:]...)...)
			}
			sk := engine.DrawWith(scenarios.FS, p, b, engine.LoadOptions{Packs: scenarios.Packs})
			for _, d := range sk.Diags {
				require.Positive(t, d.Line, d.String())
				require.Positive(t, d.Col, d.String())
				require.LessOrEqual(t, d.Line, lines+2, d.String())
			}
			require.LessOrEqual(t, len(sk.Diags), 200)
		}
	}
}
