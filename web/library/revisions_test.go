package library_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/web/library"
)

// Each revision of a scenario keeps what lint said of it while it was the current file:
// saved by the studio or changed on disk, a version that passed and a draft with errors
// are told apart; test files and revisions without a record carry no mark; the marks go
// with their revisions past MaxRevisions.
func TestRevisionsKeepTheirLintVerdict(t *testing.T) {
	l, dir := open(t)
	e, _ := l.Entry("gift-wrap.yaml")
	broken := strings.Replace(string(e.Source), "\nstart: ", "\nstart: x", 1)
	require.NoError(t, l.Save("gift-wrap.yaml", []byte(broken), e.Hash))
	d, _ := l.Entry("gift-wrap.yaml")
	require.Equal(t, 1, d.Errors)
	fixed := strings.Replace(string(e.Source), "title: ", "title: New ", 1)
	require.NoError(t, l.Save("gift-wrap.yaml", []byte(fixed), d.Hash))

	revs, err := l.Revisions("gift-wrap.yaml")
	require.NoError(t, err)
	require.Len(t, revs, 2)
	assert.Equal(t, d.Hash, revs[0].Hash)
	assert.Equal(t, library.LintErrors, revs[0].Lint, "the draft had errors")
	assert.Equal(t, 1, revs[0].Errors)
	assert.Equal(t, e.Hash, revs[1].Hash)
	assert.Equal(t, library.LintPassed, revs[1].Lint, "the shipped version passed")
	assert.Zero(t, revs[1].Errors)

	// A change on disk (another editor) keeps the verdict of the version it replaced.
	f, _ := l.Entry("gift-wrap.yaml")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "gift-wrap.yaml"), []byte(broken), 0o644))
	require.NoError(t, l.Rescan())
	revs, _ = l.Revisions("gift-wrap.yaml")
	require.Len(t, revs, 3)
	assert.Equal(t, f.Hash, revs[0].Hash)
	assert.Equal(t, library.LintPassed, revs[0].Lint)

	// A test file's revisions carry no mark.
	tests, _ := l.File("gift-wrap.test.yaml")
	require.NoError(t, l.Save("gift-wrap.test.yaml", append(tests, []byte("\n# more\n")...), library.HashOf(tests)))
	trevs, _ := l.Revisions("gift-wrap.test.yaml")
	require.Len(t, trevs, 1)
	assert.Empty(t, trevs[0].Lint)

	// A revision kept without a record (or with a damaged one) has no mark.
	now, _ := l.Entry("gift-wrap.yaml")
	require.NoError(t, l.Save("gift-wrap.yaml", []byte(fixed+"\n# one more\n"), now.Hash))
	revs, _ = l.Revisions("gift-wrap.yaml")
	mark := filepath.Join(filepath.Dir(dir), "revisions", "gift-wrap.yaml", revs[0].ID+".lint")
	b, err := os.ReadFile(mark)
	require.NoError(t, err, "the mark is a file beside the revision")
	assert.Equal(t, "errors 1\n", string(b))
	require.NoError(t, os.WriteFile(mark, []byte("errors lots\n"), 0o644))
	revs, _ = l.Revisions("gift-wrap.yaml")
	assert.Empty(t, revs[0].Lint)
	require.NoError(t, os.Remove(mark))
	revs, _ = l.Revisions("gift-wrap.yaml")
	assert.Empty(t, revs[0].Lint)
}

// Past MaxRevisions the oldest revisions go, and their marks with them.
func TestOldRevisionsTakeTheirMarks(t *testing.T) {
	l, dir := open(t)
	for i := range library.MaxRevisions + 2 {
		e, _ := l.Entry("one-script.yaml")
		next := strings.Replace(string(e.Source), "title: ", "title: V"+time.Duration(i).String()+" ", 1)
		require.NoError(t, l.Save("one-script.yaml", []byte(next), e.Hash))
	}
	folder := filepath.Join(filepath.Dir(dir), "revisions", "one-script.yaml")
	ents, err := os.ReadDir(folder)
	require.NoError(t, err)
	yamls, marks := 0, 0
	for _, e := range ents {
		switch filepath.Ext(e.Name()) {
		case ".yaml":
			yamls++
		case ".lint":
			marks++
		}
	}
	assert.Equal(t, library.MaxRevisions, yamls)
	assert.Equal(t, library.MaxRevisions, marks)
	revs, _ := l.Revisions("one-script.yaml")
	for _, r := range revs {
		assert.Equal(t, library.LintPassed, r.Lint, r.ID)
	}
}
