package engine_test

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/switchboard-sim/switchboard/engine"
	"github.com/switchboard-sim/switchboard/scenarios"
)

const schemaPath = "../docs/scenario.schema.json"

func loadSchemaDoc(t *testing.T) map[string]any {
	data, err := os.ReadFile(schemaPath)
	require.NoError(t, err)
	var doc map[string]any
	require.NoError(t, json.Unmarshal(data, &doc))
	return doc
}

func propertyNames(t *testing.T, obj any) []string {
	m, ok := obj.(map[string]any)
	require.True(t, ok)
	props, ok := m["properties"].(map[string]any)
	require.True(t, ok, "no properties in %v", m)
	var names []string
	for k := range props {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

func sorted(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}

// TestSchemaMatchesLoader keeps the editor schema in step with the keys the loader accepts.
func TestSchemaMatchesLoader(t *testing.T) {
	doc := loadSchemaDoc(t)
	defs := doc["$defs"].(map[string]any)
	scoresAxis := defs["scores"].(map[string]any)["additionalProperties"].(map[string]any)["oneOf"].([]any)[1]
	for _, tc := range []struct {
		name   string
		schema any
		keys   []string
	}{
		{"scenario", doc, engine.ScenarioKeys},
		{"pack", defs["pack"], engine.PackKeys},
		{"persona", doc["properties"].(map[string]any)["persona"], engine.PersonaKeys},
		{"axis", scoresAxis, engine.AxisKeys},
		{"node", defs["node"], engine.NodeKeys},
		{"line", defs["line"], engine.LineKeys},
		{"choice", defs["choice"], engine.ChoiceKeys},
		{"end", defs["end"], engine.EndKeys},
		{"transition", defs["transition"], engine.TransitionKeys},
		{"rule", defs["rule"], engine.RuleKeys},
	} {
		assert.Equal(t, sorted(tc.keys), propertyNames(t, tc.schema), tc.name)
	}
	outcomes := defs["end"].(map[string]any)["properties"].(map[string]any)["outcome"].(map[string]any)["enum"]
	assert.ElementsMatch(t, engine.Outcomes, outcomes)
}

func compileSchema(t *testing.T, ref string) *jsonschema.Schema {
	f, err := os.Open(schemaPath)
	require.NoError(t, err)
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	require.NoError(t, err)
	c := jsonschema.NewCompiler()
	require.NoError(t, c.AddResource("scenario.schema.json", doc))
	s, err := c.Compile("scenario.schema.json" + ref)
	require.NoError(t, err)
	return s
}

// yamlAsJSON converts YAML to the value a JSON parser would produce.
func yamlAsJSON(t *testing.T, data []byte) any {
	var v any
	require.NoError(t, yaml.Unmarshal(data, &v))
	js, err := json.Marshal(v)
	require.NoError(t, err)
	out, err := jsonschema.UnmarshalJSON(bytes.NewReader(js))
	require.NoError(t, err)
	return out
}

// TestSchemaAcceptsTheLibrary validates every shipped scenario and rule pack.
func TestSchemaAcceptsTheLibrary(t *testing.T) {
	scenario, pack := compileSchema(t, ""), compileSchema(t, "#/$defs/pack")
	n := 0
	err := fs.WalkDir(scenarios.FS, scenarios.Root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".test.yaml") || strings.Contains(p, "/tracks/") { // tracks: docs/track.schema.json, tested in engine/track
			return err
		}
		data, err := fs.ReadFile(scenarios.FS, p)
		require.NoError(t, err)
		s := scenario
		if strings.Contains(p, "/rules/") {
			s = pack
		}
		assert.NoError(t, s.Validate(yamlAsJSON(t, data)), p)
		n++
		return nil
	})
	require.NoError(t, err)
	assert.GreaterOrEqual(t, n, 11)
	for _, p := range []string{"testdata/ok/basic.yaml", "testdata/ok/semantics.yaml"} {
		data, err := os.ReadFile(p)
		require.NoError(t, err)
		assert.NoError(t, scenario.Validate(yamlAsJSON(t, data)), p)
	}
}

func TestSchemaRejectsUnknownKeys(t *testing.T) {
	data, err := os.ReadFile("testdata/bad/unknown-keys.yaml")
	require.NoError(t, err)
	assert.Error(t, compileSchema(t, "").Validate(yamlAsJSON(t, data)))
}
