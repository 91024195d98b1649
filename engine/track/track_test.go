package track_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/engine"
	"github.com/switchboard-sim/switchboard/engine/track"
	"github.com/switchboard-sim/switchboard/scenarios"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata")

// testCatalog stands in for the shipped library in the golden tests, so that they do not
// change when a scenario's pass mark or length does.
var testCatalog = track.Catalog{
	"cheese-shop":     {ID: "cheese-shop", Title: "The empty cheese counter", Pass: 0.85, LengthMS: 120_000},
	"boutique":        {ID: "boutique", Title: "Jeans at the boutique", Pass: 0.85, LengthMS: 120_000},
	"gift-wrap":       {ID: "gift-wrap", Title: "The train to catch", Pass: 0.85, LengthMS: 90_000},
	"hard-sell":       {ID: "hard-sell", Title: "The Billing Date", Pass: 0.85, LengthMS: 180_000},
	"one-script":      {ID: "one-script", Title: "Three Callers, One Script", Pass: 0.85, LengthMS: 240_000},
	"slow-clerk":      {ID: "slow-clerk", Title: "The Registration Desk", Pass: 0.88},
	"car-reservation": {ID: "car-reservation", Title: "The Reservation That Wasn't", Pass: 0.85, LengthMS: 120_000},
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "missing golden file; run go test ./engine/track -update")
	assert.Equal(t, string(want), got, "diagnostics changed; if intended, run go test ./engine/track -update")
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
			tr, diags := track.Load(fsys, name, testCatalog)
			require.Nil(t, tr, "a track with errors never loads")
			require.True(t, diags.HasErrors())
			for _, d := range diags {
				assert.Positive(t, d.Line, d.String())
				assert.Positive(t, d.Col, d.String())
				assert.Equal(t, name, d.Path)
			}
			golden(t, strings.TrimSuffix(name, ".yaml")+".golden", diags.Error()+"\n")
		})
	}
}

func TestLintFindsEveryKindOfProblem(t *testing.T) {
	_, diags := track.Load(os.DirFS("testdata"), "bad/unknown.yaml", testCatalog)
	text := diags.Error()
	for _, want := range []string{
		`bad/unknown.yaml:6:15: unknown scenario "chese-shop" (did you mean "cheese-shop"?)`,
		`unknown key "descripton" in the track (did you mean "description"?)`,
		`step 1.repeat "until-pased" must be one of once, until-passed (did you mean "until-passed"?)`,
		`step 2.unlock "prev" must be start, previous or {after: [step ids]} (did you mean "previous"?)`,
		`step id "boutique" is already used by step 2 (line 9); give one of them an id`,
		`unknown step "boutiqe" in unlock.after (did you mean "boutique"?)`,
		`step "last" waits for itself`,
		`unknown step "ghost" in unlock.after`,
		`lists no steps; to open the step from the start write unlock: start`,
	} {
		assert.Contains(t, text, want)
	}
	_, diags = track.Load(os.DirFS("testdata"), "bad/order.yaml", testCatalog)
	text = diags.Error()
	for _, want := range []string{
		`bad/order.yaml:5:13: the first step has no previous step`,
		`bad/order.yaml:8:22: step "b" comes later in the track (step 3 of 7)`,
		`step "a" is listed twice in unlock.after`,
		`bad/order.yaml:8:13: unlock rules form a cycle: "a" waits for "b", which waits for "a"`,
		`unlock rules form a cycle: "c" waits for "d", which waits for "e", which waits for "c"`,
		`step "f" waits for itself`,
	} {
		assert.Contains(t, text, want)
	}
}

func TestLoadGoodTrack(t *testing.T) {
	tr, diags := track.Load(os.DirFS("testdata"), "ok/full.yaml", testCatalog)
	require.Empty(t, diags, diags.Error())
	require.NotNil(t, tr)
	assert.Equal(t, "full", tr.ID)
	assert.Equal(t, int64(45*60_000), tr.LengthMS)
	assert.True(t, tr.LengthDeclared)
	require.Len(t, tr.Steps, 5)
	s := tr.Steps
	assert.Equal(t, track.Step{ID: "cheese-shop", Scenario: "cheese-shop", Title: "The empty cheese counter", Pass: 0.85,
		Repeat: track.RepeatUntilPassed, Unlock: track.Unlock{Kind: track.UnlockStart}, LengthMS: 120_000}, s[0])
	assert.Equal(t, "boutique-first", s[1].ID)
	assert.Equal(t, "Jeans, first visit", s[1].Title)
	assert.Equal(t, 0.7, s[1].Pass)
	assert.Equal(t, track.Unlock{Kind: track.UnlockPrevious}, s[1].Unlock)
	assert.Equal(t, track.RepeatOnce, s[1].Repeat)
	assert.Equal(t, track.Unlock{Kind: track.UnlockStart}, s[2].Unlock)
	assert.Equal(t, track.Unlock{Kind: track.UnlockAfter, After: []int{0, 1}}, s[3].Unlock)
	assert.Equal(t, track.Unlock{Kind: track.UnlockAfter, After: []int{2}}, s[4].Unlock)
}

func TestLengthIsTheSumOfTheScenariosWhenNotDeclared(t *testing.T) {
	var diags engine.Diagnostics
	tr := track.LoadBytes("t.yaml", []byte("id: t\ntitle: T\nsteps: [{scenario: cheese-shop}, {scenario: gift-wrap}, {scenario: slow-clerk}]\n"), testCatalog, &diags)
	require.Empty(t, diags)
	assert.Equal(t, int64(210_000), tr.LengthMS, "slow-clerk declares no length and adds nothing")
	assert.False(t, tr.LengthDeclared)
}

// TestShippedTracks: the tracks in scenarios/tracks load without a problem against the
// shipped scenarios, and name each shipped scenario at least once between them.
func TestShippedTracks(t *testing.T) {
	paths, err := engine.FindScenarios(scenarios.FS, scenarios.Root)
	require.NoError(t, err)
	var scs []*engine.Scenario
	for _, p := range paths {
		sc, diags := engine.LoadWith(scenarios.FS, p, engine.LoadOptions{Packs: scenarios.Packs})
		require.NotNil(t, sc, diags.Error())
		scs = append(scs, sc)
	}
	cat := track.CatalogOf(scs)
	tracks, diags := track.LoadAll(scenarios.FS, scenarios.Root, cat)
	require.Empty(t, diags, diags.Error())
	require.GreaterOrEqual(t, len(tracks), 2)
	used := map[string]bool{}
	for _, tr := range tracks {
		assert.Positive(t, tr.LengthMS, tr.ID)
		for _, s := range tr.Steps {
			used[s.Scenario] = true
		}
	}
	for id := range cat {
		assert.True(t, used[id], "no shipped track uses %s", id)
	}
}

func TestDuplicateTrackIDs(t *testing.T) {
	fsys := mapFS{
		"lib/tracks/a.yaml": "id: same\ntitle: A\nsteps: [{scenario: cheese-shop}]\n",
		"lib/tracks/b.yaml": "# b\nid: same\ntitle: B\nsteps: [{scenario: boutique}]\n",
		"lib/tracks/c.txt":  "not a track",
	}
	tracks, diags := track.LoadAll(fsys.FS(), "lib", testCatalog)
	require.Len(t, tracks, 1)
	assert.Equal(t, `lib/tracks/b.yaml:2:1: track id "same" is already used by lib/tracks/a.yaml; each track needs its own id`, diags.Error())

	none, diags := track.LoadAll(fsys.FS(), "elsewhere", testCatalog)
	assert.Empty(t, none)
	assert.Empty(t, diags, "no tracks folder is no problem")
}

func TestIsTrackFile(t *testing.T) {
	assert.True(t, track.IsTrackFile("scenarios/tracks/a.yaml"))
	assert.True(t, track.IsTrackFile("tracks/a.yml"))
	assert.False(t, track.IsTrackFile("scenarios/a.yaml"))
	assert.False(t, track.IsTrackFile("scenarios/tracks/a.md"))
	assert.False(t, engine.IsScenarioFile("scenarios/tracks/a.yaml"), "a track is not a scenario")
}

// TestAMisspeltScenarioIsTheMistakeNotTheReferenceToIt: with step 1's scenario misspelt
// "ignored-phon", a correct "after: [ignored-phone]" used to get "did you mean
// \"ignored-phon\"?", suggesting the typo (an outside supervisor's report).
func TestAMisspeltScenarioIsTheMistakeNotTheReferenceToIt(t *testing.T) {
	var diags engine.Diagnostics
	track.LoadBytes("t.yaml", []byte(`id: t
title: T
steps:
  - scenario: cheese-shp
  - scenario: gift-wrap
  - {scenario: boutique, unlock: {after: [cheese-shop]}}
`), testCatalog, &diags)
	text := diags.Error()
	assert.Contains(t, text, `t.yaml:4:15: unknown scenario "cheese-shp" (did you mean "cheese-shop"?)`)
	assert.Contains(t, text, `t.yaml:6:43: unknown step "cheese-shop" in unlock.after: step 1 is "cheese-shp", whose scenario is unknown; fix its scenario there and this reference works`)
	assert.NotContains(t, text, `did you mean "cheese-shp"`)
}
