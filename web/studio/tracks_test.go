package studio_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/engine"
	"github.com/switchboard-sim/switchboard/engine/track"
)

type trackItem struct {
	Path, ID, Title, Hash string
	Steps, Errors         int
	Diagnostics           []engine.Diagnostic
}

func (e *env) tracks(secret string) map[string]trackItem {
	e.t.Helper()
	var res struct{ Tracks []trackItem }
	require.Equal(e.t, 200, e.call("GET", "/api/studio/tracks", secret, nil, &res))
	out := map[string]trackItem{}
	for _, it := range res.Tracks {
		out[it.Path] = it
	}
	return out
}

// A misspelt scenario id in a track, as typed in the editor, is reported at its line and
// column with the id it probably meant, like `switchboard lint` does.
func TestTrackCheckDiagnostics(t *testing.T) {
	e := newEnv(t)
	var f fileInfo
	require.Equal(t, 200, e.call("GET", "/api/studio/files/tracks/foundations.yaml", supervisorKey, nil, &f))
	require.True(t, f.Exists)
	lines := strings.Split(f.Source, "\n")
	target := -1
	for i, l := range lines {
		if strings.Contains(l, "scenario: gift-wrap") {
			target = i
		}
	}
	require.GreaterOrEqual(t, target, 0)
	lines[target] = strings.Replace(lines[target], "gift-wrap", "gift-wrp", 1)
	col := strings.Index(lines[target], "gift-wrp") + 1
	var res struct{ Diagnostics []engine.Diagnostic }
	// The check only looks, so a supervisor may run it too.
	require.Equal(t, 200, e.call("POST", "/api/studio/check", supervisorKey,
		map[string]string{"path": "tracks/foundations.yaml", "source": strings.Join(lines, "\n")}, &res))
	// The step's id is its scenario's, so a later unlock rule naming gift-wrap is the
	// second problem.
	require.Len(t, res.Diagnostics, 2, "%v", res.Diagnostics)
	assert.Contains(t, res.Diagnostics[1].Message, `unknown step "gift-wrap" in unlock.after`)
	d := res.Diagnostics[0]
	assert.Equal(t, "tracks/foundations.yaml", d.Path)
	assert.Equal(t, target+1, d.Line)
	assert.Equal(t, col, d.Col)
	assert.Equal(t, engine.SeverityError, d.Severity)
	assert.Contains(t, d.Message, `unknown scenario "gift-wrp"`)
	assert.Contains(t, d.Message, "did you mean")
	assert.Contains(t, d.Message, "gift-wrap")

	// The text as shipped is clean; an id another track uses is an error at the id line.
	res.Diagnostics = nil
	require.Equal(t, 200, e.call("POST", "/api/studio/check", designerKey,
		map[string]string{"path": "tracks/foundations.yaml", "source": f.Source}, &res))
	assert.Empty(t, res.Diagnostics)
	dup := "# a copy\nid: foundations\ntitle: Copy\nsteps:\n  - scenario: gift-wrap\n"
	require.Equal(t, 200, e.call("POST", "/api/studio/check", designerKey,
		map[string]string{"path": "tracks/copy.yaml", "source": dup}, &res))
	require.Len(t, res.Diagnostics, 1, "%v", res.Diagnostics)
	assert.Equal(t, 2, res.Diagnostics[0].Line)
	assert.Contains(t, res.Diagnostics[0].Message, "already used by tracks/foundations.yaml")
}

// The library lists its tracks with their lint; a designer saves a track, it is listed,
// and the tracks the server loads (as `switchboard serve` does on every library change)
// include it.
func TestTrackListAndSave(t *testing.T) {
	e := newEnv(t)
	list := e.tracks(supervisorKey)
	require.Contains(t, list, "tracks/foundations.yaml")
	require.Contains(t, list, "tracks/difficult-calls.yaml")
	assert.Equal(t, "foundations", list["tracks/foundations.yaml"].ID)
	assert.Equal(t, 0, list["tracks/foundations.yaml"].Errors, "%v", list["tracks/foundations.yaml"].Diagnostics)
	assert.Positive(t, list["tracks/foundations.yaml"].Steps)

	src := "id: quick-start\ntitle: Quick start\nsteps:\n  - scenario: ignored-phone\n  - scenario: gift-wrap\n    pass: 0.6\n"
	var saved struct {
		Path, Hash string
		Track      *trackItem
	}
	require.Equal(t, 200, e.call("PUT", "/api/studio/files/tracks/quick-start.yaml", designerKey,
		map[string]string{"source": src, "base": ""}, &saved))
	require.NotNil(t, saved.Track)
	assert.Equal(t, "quick-start", saved.Track.ID)
	assert.Equal(t, 2, saved.Track.Steps)
	assert.Equal(t, 0, saved.Track.Errors, "%v", saved.Track.Diagnostics)
	b, err := os.ReadFile(filepath.Join(e.dir, "tracks", "quick-start.yaml"))
	require.NoError(t, err)
	assert.Equal(t, src, string(b))
	assert.Equal(t, saved.Hash, e.tracks(designerKey)["tracks/quick-start.yaml"].Hash)

	ts, diags := track.LoadAll(engine.OSFS{}, e.lib.Dir(), track.CatalogOf(e.lib.Published()))
	assert.Empty(t, diags.Errors())
	var ids []string
	for _, tr := range ts {
		ids = append(ids, tr.ID)
	}
	assert.Contains(t, ids, "quick-start")

	// Saving again needs the version it was based on.
	assert.Equal(t, 409, e.call("PUT", "/api/studio/files/tracks/quick-start.yaml", designerKey,
		map[string]string{"source": src + "# again\n", "base": ""}, nil))
}

// Only tracks/NAME.yaml at the top of the folder is a track: anything else under a
// folder named tracks is refused (400 bad_path) by the check, open and save alike, and
// only a designer may save.
func TestTrackPathsAndRoles(t *testing.T) {
	e := newEnv(t)
	src := "id: x\ntitle: X\nsteps:\n  - scenario: gift-wrap\n"
	for _, p := range []string{"tracks/sub/x.yaml", "lessons/tracks/x.yaml", "tracks/x.txt", "tracks/../../x.yaml", "../tracks/x.yaml", "tracks/.x.yaml", "/tracks/x.yaml"} {
		var er struct{ Error struct{ Code string } }
		assert.Equal(t, 400, e.call("POST", "/api/studio/check", designerKey, map[string]string{"path": p, "source": src}, &er), p)
		assert.Equal(t, "bad_path", er.Error.Code, p)
	}
	for _, p := range []string{"tracks/sub/x.yaml", "lessons/tracks/x.yaml", "tracks/x.txt"} {
		assert.Equal(t, 400, e.call("PUT", "/api/studio/files/"+p, designerKey, map[string]string{"source": src}, nil), p)
		assert.Equal(t, 400, e.call("GET", "/api/studio/files/"+p, designerKey, nil, nil), p)
		_, err := os.Stat(filepath.Join(e.dir, filepath.FromSlash(p)))
		assert.ErrorIs(t, err, os.ErrNotExist, p)
	}

	var f fileInfo
	require.Equal(t, 200, e.call("GET", "/api/studio/files/tracks/foundations.yaml", designerKey, nil, &f))
	assert.Equal(t, 403, e.call("PUT", "/api/studio/files/tracks/foundations.yaml", supervisorKey,
		map[string]string{"source": src, "base": f.Hash}, nil))
	assert.Equal(t, 401, e.call("PUT", "/api/studio/files/tracks/foundations.yaml", "",
		map[string]string{"source": src, "base": f.Hash}, nil))
	assert.Equal(t, 401, e.call("GET", "/api/studio/tracks", "", nil, nil))
	b, err := os.ReadFile(filepath.Join(e.dir, "tracks", "foundations.yaml"))
	require.NoError(t, err)
	assert.Equal(t, f.Source, string(b), "a refused save writes nothing")
}
