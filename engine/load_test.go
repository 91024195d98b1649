package engine_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
			sc, diags := engine.Load(fsys, name)
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
		`a condition must be true or false, but this is float64`,
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
