package track_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/switchboard-sim/switchboard/engine/track"
)

const schemaPath = "../../docs/track.schema.json"

func compileSchema(t *testing.T) (*jsonschema.Schema, map[string]any) {
	data, err := os.ReadFile(schemaPath)
	require.NoError(t, err)
	var raw map[string]any
	require.NoError(t, json.Unmarshal(data, &raw))
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	require.NoError(t, err)
	c := jsonschema.NewCompiler()
	require.NoError(t, c.AddResource("track.schema.json", doc))
	s, err := c.Compile("track.schema.json")
	require.NoError(t, err)
	return s, raw
}

func keysOf(obj any) []string {
	props := obj.(map[string]any)["properties"].(map[string]any)
	var out []string
	for k := range props {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func sortedCopy(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}

func yamlAsJSON(t *testing.T, data []byte) any {
	var v any
	require.NoError(t, yaml.Unmarshal(data, &v))
	js, err := json.Marshal(v)
	require.NoError(t, err)
	out, err := jsonschema.UnmarshalJSON(bytes.NewReader(js))
	require.NoError(t, err)
	return out
}

// TestSchemaMatchesLoader keeps docs/track.schema.json in step with the keys and values
// the loader accepts.
func TestSchemaMatchesLoader(t *testing.T) {
	_, doc := compileSchema(t)
	step := doc["$defs"].(map[string]any)["step"].(map[string]any)
	assert.Equal(t, sortedCopy(track.TrackKeys), keysOf(doc))
	assert.Equal(t, sortedCopy(track.StepKeys), keysOf(step))
	props := step["properties"].(map[string]any)
	assert.ElementsMatch(t, track.Repeats, props["repeat"].(map[string]any)["enum"])
	unlock := props["unlock"].(map[string]any)["oneOf"].([]any)
	assert.ElementsMatch(t, track.UnlockWords, unlock[0].(map[string]any)["enum"])
	assert.Equal(t, sortedCopy(track.UnlockKeys), keysOf(unlock[1]))
	assert.EqualValues(t, track.MaxSteps, doc["properties"].(map[string]any)["steps"].(map[string]any)["maxItems"])
}

// TestSchemaAcceptsGoodTracks validates the shipped tracks and the good test tracks, and
// rejects a track with an unknown key.
func TestSchemaAcceptsGoodTracks(t *testing.T) {
	s, _ := compileSchema(t)
	files, err := filepath.Glob("../../scenarios/tracks/*.yaml")
	require.NoError(t, err)
	ok, err := filepath.Glob("testdata/ok/*.yaml")
	require.NoError(t, err)
	files = append(files, ok...)
	require.GreaterOrEqual(t, len(files), 3)
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		assert.NoError(t, s.Validate(yamlAsJSON(t, data)), f)
	}
	data, err := os.ReadFile("testdata/bad/shape.yaml")
	require.NoError(t, err)
	assert.Error(t, s.Validate(yamlAsJSON(t, data)))
}
