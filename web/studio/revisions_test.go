package studio_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/web/library"
)

type revList struct {
	Current *struct {
		Hash, Lint string
		Errors     int
		Live       bool
	}
	Revisions []struct {
		ID, Hash, Lint string
		Errors         int
		Live           bool
	}
}

type diffRes struct {
	Old, New       string
	Exact          bool
	Added, Removed int
	Hunks          []struct {
		OldStart int `json:"old_start"`
		OldLines int `json:"old_lines"`
		NewStart int `json:"new_start"`
		NewLines int `json:"new_lines"`
		Lines    []struct {
			Op       string
			Old, New int
			Text     string
		}
	}
}

// The Revisions panel's marks: each revision says whether lint passed while it was current
// and which version is live (what trainees get); a draft on top of a live revision shows
// both. Diffs compare a revision with the editor's text, the saved file or the revision
// before it.
func TestRevisionMarksAndDiff(t *testing.T) {
	e := newEnv(t)
	var f fileInfo
	e.call("GET", "/api/studio/files/cheese-shop.yaml", designerKey, nil, &f)
	good := strings.Replace(f.Source, "title: ", "title: Revised — ", 1)
	var saved struct{ Hash string }
	require.Equal(t, 200, e.call("PUT", "/api/studio/files/cheese-shop.yaml", designerKey, map[string]string{"source": good, "base": f.Hash}, &saved))
	bad := good + "nonsense_key: 1\n"
	require.Equal(t, 200, e.call("PUT", "/api/studio/files/cheese-shop.yaml", designerKey, map[string]string{"source": bad, "base": saved.Hash}, &saved))

	var l revList
	require.Equal(t, 200, e.call("GET", "/api/studio/revisions/cheese-shop.yaml", supervisorKey, nil, &l))
	require.NotNil(t, l.Current)
	assert.Equal(t, library.LintErrors, l.Current.Lint, "the current file is a draft")
	assert.Equal(t, 1, l.Current.Errors)
	assert.False(t, l.Current.Live)
	require.Len(t, l.Revisions, 2)
	assert.Equal(t, library.HashOf([]byte(good)), l.Revisions[0].Hash)
	assert.Equal(t, library.LintPassed, l.Revisions[0].Lint)
	assert.True(t, l.Revisions[0].Live, "trainees get the last version that passed")
	assert.Equal(t, library.LintPassed, l.Revisions[1].Lint)
	assert.False(t, l.Revisions[1].Live)

	// What the draft changed: the revision before it against the saved file.
	var d diffRes
	require.Equal(t, 200, e.call("POST", "/api/studio/diff", supervisorKey, map[string]string{"path": "cheese-shop.yaml", "id": l.Revisions[0].ID, "against": "file"}, &d))
	assert.True(t, d.Exact)
	assert.Equal(t, []int{1, 0}, []int{d.Added, d.Removed})
	require.Len(t, d.Hunks, 1)
	h := d.Hunks[0]
	last := strings.Count(good, "\n")
	assert.Equal(t, []int{last - 2, 3, last - 2, 4}, []int{h.OldStart, h.OldLines, h.NewStart, h.NewLines})
	require.Len(t, h.Lines, 4)
	assert.Equal(t, "+", h.Lines[3].Op)
	assert.Equal(t, "nonsense_key: 1", h.Lines[3].Text)
	assert.Equal(t, last+1, h.Lines[3].New)
	assert.Equal(t, "revision "+l.Revisions[0].ID, d.Old)
	assert.Equal(t, "the saved file", d.New)

	// What a revision changed from the one before: the title line.
	require.Equal(t, 200, e.call("POST", "/api/studio/diff", supervisorKey, map[string]string{"path": "cheese-shop.yaml", "id": l.Revisions[0].ID, "against": "previous"}, &d))
	assert.Equal(t, []int{1, 1}, []int{d.Added, d.Removed})
	require.Len(t, d.Hunks, 1)
	var changed []string
	for _, ln := range d.Hunks[0].Lines {
		if ln.Op != " " {
			changed = append(changed, ln.Op+ln.Text)
		}
	}
	assert.Equal(t, []string{"-title: The empty cheese counter", "+title: Revised — The empty cheese counter"}, changed)
	// The oldest revision is compared with nothing.
	require.Equal(t, 200, e.call("POST", "/api/studio/diff", supervisorKey, map[string]string{"path": "cheese-shop.yaml", "id": l.Revisions[1].ID, "against": "previous"}, &d))
	assert.Equal(t, strings.Count(f.Source, "\n"), d.Added)
	assert.Contains(t, d.Old, "nothing")

	// Against the editor's unsaved text.
	editor := strings.Replace(good, "  name: Edwin\n", "  name: Edwina\n", 1)
	require.NotEqual(t, good, editor)
	require.Equal(t, 200, e.call("POST", "/api/studio/diff", designerKey, map[string]string{"path": "cheese-shop.yaml", "id": l.Revisions[0].ID, "against": "editor", "source": editor}, &d))
	assert.Equal(t, []int{1, 1}, []int{d.Added, d.Removed})
	assert.Equal(t, "the text in the editor", d.New)
	require.Equal(t, 200, e.call("POST", "/api/studio/diff", designerKey, map[string]string{"path": "cheese-shop.yaml", "id": l.Revisions[0].ID, "against": "editor", "source": good}, &d))
	assert.Empty(t, d.Hunks, "no changes, no hunks")

	// Fixing the draft makes the current file live and passing.
	fixed := good + "# fixed\n"
	require.Equal(t, 200, e.call("PUT", "/api/studio/files/cheese-shop.yaml", designerKey, map[string]string{"source": fixed, "base": saved.Hash}, &saved))
	require.Equal(t, 200, e.call("GET", "/api/studio/revisions/cheese-shop.yaml", supervisorKey, nil, &l))
	assert.True(t, l.Current.Live)
	assert.Equal(t, library.LintPassed, l.Current.Lint)
	require.Len(t, l.Revisions, 3)
	assert.Equal(t, library.LintErrors, l.Revisions[0].Lint)
	for _, r := range l.Revisions {
		assert.False(t, r.Live)
	}

	// Bad requests.
	var er struct{ Error struct{ Code string } }
	assert.Equal(t, 400, e.call("POST", "/api/studio/diff", designerKey, map[string]string{"path": "cheese-shop.yaml", "id": l.Revisions[0].ID, "against": "yesterday"}, &er))
	assert.Equal(t, 400, e.call("POST", "/api/studio/diff", designerKey, map[string]string{"path": "cheese-shop.yaml", "id": l.Revisions[0].ID, "against": "editor"}, &er))
	assert.Equal(t, 404, e.call("POST", "/api/studio/diff", designerKey, map[string]string{"path": "cheese-shop.yaml", "id": "123", "against": "file"}, &er))
	assert.Equal(t, 404, e.call("POST", "/api/studio/diff", designerKey, map[string]string{"path": "cheese-shop.yaml", "id": "../x", "against": "file"}, &er))
	assert.Equal(t, 400, e.call("POST", "/api/studio/diff", designerKey, map[string]string{"path": "../x.yaml", "id": "1", "against": "file"}, &er))
	assert.Equal(t, 401, e.call("POST", "/api/studio/diff", "", map[string]string{"path": "cheese-shop.yaml", "id": "1", "against": "file"}, nil))
}
