package studio_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/engine"
)

// TestCheckWarnsAboutEndingsNoTestReaches: the editor's diagnostics of a scenario include
// lint's warning at each ending no test in its saved test file reaches.
func TestCheckWarnsAboutEndingsNoTestReaches(t *testing.T) {
	e := newEnv(t)
	var sc, tests fileInfo
	require.Equal(t, 200, e.call("GET", "/api/studio/files/gift-wrap.yaml", designerKey, nil, &sc))
	require.Equal(t, 200, e.call("GET", "/api/studio/files/gift-wrap.test.yaml", designerKey, nil, &tests))
	check := func() []engine.Diagnostic {
		var res struct{ Diagnostics []engine.Diagnostic }
		require.Equal(t, 200, e.call("POST", "/api/studio/check", designerKey, map[string]string{"path": "gift-wrap.yaml", "source": sc.Source}, &res))
		var untested []engine.Diagnostic
		for _, d := range res.Diagnostics {
			if strings.Contains(d.Message, "is reached by no test") {
				untested = append(untested, d)
			}
		}
		return untested
	}
	assert.Empty(t, check(), "the shipped tests reach every ending")

	// Keep only the first test: the other endings are reached by none.
	first := tests.Source
	if i := strings.Index(first[1:], "\n- name:"); i >= 0 {
		first = first[:i+2]
	}
	require.Equal(t, 200, e.call("PUT", "/api/studio/files/gift-wrap.test.yaml", designerKey, map[string]string{"source": first, "base": tests.Hash}, nil))
	untested := check()
	require.NotEmpty(t, untested)
	lines := strings.Split(sc.Source, "\n")
	for _, d := range untested {
		assert.Equal(t, engine.SeverityWarning, d.Severity)
		assert.Equal(t, "gift-wrap.yaml", d.Path)
		id := strings.Fields(strings.TrimPrefix(d.Message, "ending "))[0]
		assert.Equal(t, "  "+id+":", lines[d.Line-1], "at the ending's own line")
		assert.Equal(t, 3, d.Col)
	}
}

// dropTestCase saves the test file at path (through the studio, as a designer would)
// without the test case called name, which must be in it.
func dropTestCase(t *testing.T, e *env, path, name string) {
	t.Helper()
	var f fileInfo
	require.Equal(t, 200, e.call("GET", "/api/studio/files/"+path, designerKey, nil, &f))
	start := strings.Index(f.Source, "- name: "+name+"\n")
	require.GreaterOrEqual(t, start, 0, "no test case %q in %s", name, path)
	end := len(f.Source)
	if i := strings.Index(f.Source[start+1:], "\n- name: "); i >= 0 {
		end = start + 1 + i + 1
	}
	src := strings.TrimRight(f.Source[:start]+f.Source[end:], "\n") + "\n"
	require.Equal(t, 200, e.call("PUT", "/api/studio/files/"+path, designerKey, map[string]string{"source": src, "base": f.Hash}, nil))
}
