package engine_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/engine"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata")

// golden compares got with testdata/NAME, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "missing golden file; run go test ./engine -update")
	assert.Equal(t, string(want), got, "diagnostics changed; if intended, run go test ./engine -update")
}

// TestDiagnosticsGolden loads every file in testdata/bad and compares all its diagnostics
// with the golden file beside it.
func TestDiagnosticsGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/bad/*.yaml")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	fsys := os.DirFS("testdata")
	for _, f := range files {
		name := strings.TrimPrefix(filepath.ToSlash(f), "testdata/")
		t.Run(filepath.Base(f), func(t *testing.T) {
			sc, diags := engine.LoadWith(fsys, name, engine.LoadOptions{Packs: os.DirFS("testdata/rules")})
			if strings.HasPrefix(filepath.Base(f), "warnings") {
				require.NotNil(t, sc, "a scenario with only warnings loads")
				require.False(t, diags.HasErrors())
			} else {
				require.Nil(t, sc, "a scenario with errors never loads")
				require.True(t, diags.HasErrors())
			}
			golden(t, strings.TrimSuffix(name, ".yaml")+".golden", diags.Error()+"\n")
		})
	}
}

func TestLoadReportsPositionsAndSuggestions(t *testing.T) {
	_, diags := engine.Load(os.DirFS("testdata"), "bad/exprs.yaml")
	text := diags.Error()
	for _, want := range []string{
		`bad/exprs.yaml:12:11: now() is disabled`,
		`unknown intent "out_of_stok" (did you mean "out_of_stock"?)`,
		`unknown name "interupted" (did you mean "interrupted"?)`,
		`unknown score axis "honsty" (did you mean "honesty"?)`,
		`unknown node "gret" (did you mean "greet"?)`,
		`unknown var "honset" (did you mean "honest"?)`,
		`unknown placeholder {cheese}`,
		`a condition must be true or false, but this is a number`,
	} {
		assert.Contains(t, text, want)
	}
	for _, d := range diags {
		assert.Positive(t, d.Line, d.String())
		assert.Positive(t, d.Col, d.String())
	}
}

func TestLoadMissingFile(t *testing.T) {
	sc, diags := engine.Load(os.DirFS("testdata"), "nope.yaml")
	assert.Nil(t, sc)
	require.Len(t, diags, 1)
	assert.Equal(t, "nope.yaml:1:1: cannot read: no such file or directory", diags[0].String())
}

func TestLoadOK(t *testing.T) {
	sc, diags := engine.Load(os.DirFS("testdata"), "ok/basic.yaml")
	require.NotNil(t, sc, diags.Error())
	assert.Empty(t, diags)
	assert.Equal(t, "basic", sc.ID)
	assert.Equal(t, 120, sc.Persona.WPM)
	assert.Equal(t, []string{"good", "bad", "missed"}, sc.Endings())
	assert.Len(t, sc.Sources, 2, "the scenario and its rule pack are kept for replay")
	assert.Len(t, sc.Hash, 64)
	assert.Equal(t, []string{"apology", "out_of_stock"}, sc.MatchIntents("Sorry — we DON’T have any!"))
}

// Every diagnostic is in a designer's words: no Go type names, no parser tokens.
func TestDiagnosticsInDesignersWords(t *testing.T) {
	files, err := filepath.Glob("testdata/bad/*.golden")
	require.NoError(t, err)
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		for _, jargon := range []string{"float64", "int64", "string)", "token", "EOF", "interface {}", "<nil>", "mapping values"} {
			assert.NotContains(t, string(data), jargon, f)
		}
	}
}

// The file with many planted mistakes reports every one of them, the structural ones
// (a dead end, unreachable nodes, an unreachable ending) included, and nothing else.
func TestManyMistakesAllReported(t *testing.T) {
	_, diags := engine.Load(os.DirFS("testdata"), "bad/many-mistakes.yaml")
	var got []string
	for _, d := range diags {
		got = append(got, fmt.Sprintf("%d:%d", d.Line, d.Col))
	}
	assert.Equal(t, []string{
		"11:29", // rule: expression ends too early
		"15:11", // ring: yes
		"19:29", // placeholder typo (and greet is not taken for a router)
		"21:17", // unknown function
		"22:17", // a number where a condition is wanted
		"23:22", // unknown intent
		"23:38", // unknown node (calm still counts as reached)
		"26:15", // unknown var in set
		"27:17", // unknown score axis
		"30:22", // number compared with text
		"32:3",  // calm: dead end, though only broken transitions lead to it
		"36:5",  // misspelt transitions (its to: still counts as reaching lost)
		"38:3",  // orphan never reached
		"44:3",  // ending island never reached
		"45:35", // outcome typo
		"46:3",  // nowhere never reached
	}, got, diags.Error())
}

// A shipped pack is included by name from a scenario anywhere: it is read from the packs
// passed in, recorded among the sources under "shipped:NAME.yaml", and a recorded call
// replays from those sources alone.
func TestIncludeShippedPackByName(t *testing.T) {
	src := strings.Replace(string(mustRead(t, "testdata/ok/basic.yaml")), "include: [../rules/listening.yaml]", "include: [listening]", 1)
	fsys := fstest.MapFS{"far/away/mine.yaml": &fstest.MapFile{Data: []byte(src)}}
	packs := os.DirFS("testdata/rules")
	sc, diags := engine.LoadWith(fsys, "far/away/mine.yaml", engine.LoadOptions{Packs: packs})
	require.False(t, diags.HasErrors(), diags.Error())
	assert.Equal(t, []string{"listening", "honesty"}, axesOf(sc), "the pack's axis comes first, as with a path")
	require.Len(t, sc.Sources, 2)
	assert.Equal(t, "shipped:listening.yaml", sc.Sources[1].Path)
	assert.Equal(t, mustRead(t, "testdata/rules/listening.yaml"), sc.Sources[1].Data)

	again, diags := engine.LoadSources(sc.Sources)
	require.False(t, diags.HasErrors(), diags.Error())
	assert.Equal(t, sc.Hash, again.Hash, "replays from its sources, without the packs")

	_, diags = engine.Load(fsys, "far/away/mine.yaml")
	assert.Contains(t, diags.Error(), `far/away/mine.yaml:5:11: cannot include the shipped pack "listening" here`)
}

func axesOf(sc *engine.Scenario) []string {
	var out []string
	for _, a := range sc.Axes {
		out = append(out, a.Name)
	}
	return out
}

// A scenario's own rule with the id of an included pack's rule replaces it in its place,
// as a scenario's own intent replaces a pack's: a pack that gains a rule never breaks a
// scenario that already had one of that id. Two of one id in one file are still an error.
func TestOwnRuleReplacesAPacksRuleOfTheSameID(t *testing.T) {
	base := `id: mine
title: Mine
brief: b
persona: {name: Jo, wpm: 60}
include: [listening]
start: ring
nodes:
  ring:
    ring: true
    transitions:
      - {when: 'event == "answer"', to: done}
  done:
    end: {title: Done, outcome: resolved}
`
	sc, diags := loadWithPacks(base + `rules:
  - {id: interrupting, when: 'interrupted', score: {listening: -2}, feedback: Mine.}
  - {id: other, when: 'false'}
`)
	require.False(t, diags.HasErrors(), diags.Error())
	var ids []string
	for _, r := range sc.Rules {
		ids = append(ids, r.ID)
	}
	assert.Equal(t, []string{"interrupting", "scripted-repeat", "other"}, ids, "in the pack's place")
	assert.Equal(t, "interrupted", sc.Rules[0].WhenSrc, "the scenario's own")
	assert.Equal(t, "mine.yaml", sc.Rules[0].Path)

	_, diags = loadWithPacks(base + `rules:
  - {id: interrupting, when: 'interrupted'}
  - {id: interrupting, when: 'repeated'}
`)
	assert.Contains(t, diags.Error(), `duplicate rule id "interrupting"`)
}

// An intent with extend: true adds its phrases, exceptions and tests to the included
// pack's intent of that name (an outside designer had to write parallel intents and
// said("apology") || said("owns_it") everywhere, since a scenario's own intent replaces the
// pack's and the pack's phrases cannot be copied blind). Extending nothing is an error
// with "did you mean"; a bad phrase of the extension is reported in the scenario's file.
func TestAnIntentExtendsAPacksIntent(t *testing.T) {
	base := `id: mine
title: Mine
brief: b
persona: {name: Jo, wpm: 60}
include: [listening]
start: ring
nodes:
  ring:
    ring: true
    transitions:
      - {when: 'event == "answer"', to: ask}
  ask:
    say: well?
    transitions:
      - {when: 'said("apology")', to: done}
  done:
    end: {title: Done, outcome: resolved}
`
	sc, diags := loadWithPacks(base + `intents:
  apology:
    extend: true
    phrases: ["thats on us"]
    examples: ["thats on us, truly"]
`)
	require.False(t, diags.HasErrors(), diags.Error())
	assert.Empty(t, diags.Error(), "no warnings")
	ok := func(text string) bool {
		for _, m := range sc.Understand(text) {
			if m.Intent == "apology" {
				return m.Matched
			}
		}
		return false
	}
	assert.True(t, ok("thats on us, sorry"), "the extension's phrase")
	assert.True(t, ok("my mistake"), "the pack's phrases stay")

	_, diags = loadWithPacks(base + `intents:
  apolgy: {extend: true, phrases: ["thats on us"]}
`)
	assert.Contains(t, diags.Error(), `mine.yaml:19:20: intent apolgy extends nothing: no included pack declares it (did you mean "apology"?)`)

	_, diags = loadWithPacks(base + `intents:
  apology: {extend: true, phrases: ["no"]}
`)
	assert.Contains(t, diags.Error(), `mine.yaml:19:37: warning: phrase "no" is a negation word on its own`)
}

// loadWithPacks loads src as mine.yaml, with the test packs as the shipped ones.
func loadWithPacks(src string) (*engine.Scenario, engine.Diagnostics) {
	fsys := fstest.MapFS{"mine.yaml": &fstest.MapFile{Data: []byte(src)}}
	return engine.LoadWith(fsys, "mine.yaml", engine.LoadOptions{Packs: os.DirFS("testdata/rules")})
}
