package library_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/scenarios"
	"github.com/switchboard-sim/switchboard/web/library"
)

// open seeds a temporary folder with the shipped library and opens it.
func open(t *testing.T) (*library.Library, string) {
	t.Helper()
	root := t.TempDir()
	dir := filepath.Join(root, "scenarios")
	copied, err := library.Seed(dir, scenarios.FS, scenarios.Root)
	require.NoError(t, err)
	require.True(t, copied)
	again, err := library.Seed(dir, scenarios.FS, scenarios.Root)
	require.NoError(t, err)
	assert.False(t, again, "an existing folder is left alone")
	l, err := library.Open(dir, filepath.Join(root, "revisions"), nil)
	require.NoError(t, err)
	l.WaitForTests() // Open does not wait for them
	return l, dir
}

func TestShippedLibraryPassesInTheStudio(t *testing.T) {
	l, _ := open(t)
	es := l.Entries()
	require.Len(t, es, 8)
	for _, e := range es {
		assert.False(t, e.Draft, e.Path)
		assert.Zero(t, e.Errors, "%s: %v", e.Path, e.Diags)
		assert.True(t, e.Tests.Ran, e.Path)
		assert.Positive(t, e.Tests.Cases, e.Path)
		assert.Equal(t, e.Tests.Cases, e.Tests.Passed, "%s failed %v", e.Path, e.Tests.Failed)
		assert.Equal(t, library.HashOf(e.Source), e.Hash, e.Path)
		assert.NotEmpty(t, e.PublishedHash, e.Path)
	}
	assert.Len(t, l.Published(), 8)
}

func TestSaveDraftKeepsPublishedVersion(t *testing.T) {
	l, dir := open(t)
	e, ok := l.Entry("cheese-shop.yaml")
	require.True(t, ok)
	published := e.Published
	require.NotNil(t, published)

	// A save with an error: the file is written (a draft), trainees keep the old version.
	broken := strings.Replace(string(e.Source), "\nstart: ", "\nstart: x", 1)
	require.NoError(t, l.Save("cheese-shop.yaml", []byte(broken), e.Hash))
	onDisk, err := os.ReadFile(filepath.Join(dir, "cheese-shop.yaml"))
	require.NoError(t, err)
	assert.Equal(t, broken, string(onDisk))
	d, _ := l.Entry("cheese-shop.yaml")
	assert.True(t, d.Draft)
	assert.Positive(t, d.Errors)
	assert.Contains(t, d.Diags.Error(), "did you mean")
	assert.Same(t, published, d.Published, "trainees keep the last version that passed")
	assert.False(t, d.Tests.Ran)

	// The replaced version is a revision; restoring it publishes it again.
	revs, err := l.Revisions("cheese-shop.yaml")
	require.NoError(t, err)
	require.Len(t, revs, 1)
	assert.Equal(t, e.Hash, revs[0].Hash)
	require.NoError(t, l.Restore("cheese-shop.yaml", revs[0].ID, d.Hash))
	r, _ := l.Entry("cheese-shop.yaml")
	assert.False(t, r.Draft)
	assert.Equal(t, e.Hash, r.Hash)
	revs, _ = l.Revisions("cheese-shop.yaml")
	assert.Len(t, revs, 2, "the draft was kept too")

	// A fixed version with a change is published.
	fixed := strings.Replace(string(e.Source), "title: ", "title: New ", 1)
	require.NoError(t, l.Save("cheese-shop.yaml", []byte(fixed), r.Hash))
	f, _ := l.Entry("cheese-shop.yaml")
	assert.False(t, f.Draft)
	assert.NotSame(t, published, f.Published)
	assert.True(t, strings.HasPrefix(f.Published.Title, "New "))
}

func TestSaveRefusals(t *testing.T) {
	l, dir := open(t)
	e, _ := l.Entry("boutique.yaml")
	for _, tc := range []struct {
		name, path, base string
		data             []byte
		want             error
	}{
		{"stale base", "boutique.yaml", library.HashOf([]byte("older")), []byte("x"), library.ErrConflict},
		{"new file over an existing one", "boutique.yaml", "", []byte("x"), library.ErrConflict},
		{"escape", "../evil.yaml", "", []byte("x"), library.ErrBadPath},
		{"absolute", "/etc/evil.yaml", "", []byte("x"), library.ErrBadPath},
		{"hidden", ".git/config.yaml", "", []byte("x"), library.ErrBadPath},
		{"not yaml", "notes.txt", "", []byte("x"), library.ErrBadPath},
		{"backslash", `rules\x.yaml`, "", []byte("x"), library.ErrBadPath},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := l.Save(tc.path, tc.data, tc.base)
			require.ErrorIs(t, err, tc.want)
		})
	}
	assert.Error(t, l.Save("boutique.yaml", []byte{0xff, 0xfe}, e.Hash), "invalid UTF-8")
	assert.Error(t, l.Save("boutique.yaml", make([]byte, 2<<20), e.Hash), "too big")
	onDisk, _ := os.ReadFile(filepath.Join(dir, "boutique.yaml"))
	assert.Equal(t, e.Source, onDisk, "nothing was written")
	left, _ := filepath.Glob(filepath.Join(dir, ".*tmp*"))
	assert.Empty(t, left, "no temporary files left behind")
}

func TestNewScenarioFromTemplate(t *testing.T) {
	l, dir := open(t)
	p, err := l.NewScenario("lost-parcel", "The lost parcel")
	require.NoError(t, err)
	assert.Equal(t, "lost-parcel.yaml", p)
	e, ok := l.Entry(p)
	require.True(t, ok)
	assert.False(t, e.Draft, "%v", e.Diags)
	assert.Equal(t, "The lost parcel", e.Title)
	assert.Equal(t, 3, e.Tests.Passed, "the template's tests pass (one per ending): %v %v", e.Tests.Failed, e.Tests.Diags)
	assert.FileExists(t, filepath.Join(dir, "lost-parcel.test.yaml"))

	_, err = l.NewScenario("lost-parcel", "again")
	assert.ErrorIs(t, err, library.ErrExists)
	_, err = l.NewScenario("cheese-shop", "taken id")
	assert.ErrorIs(t, err, library.ErrExists)
	_, err = l.NewScenario("Bad Id", "")
	assert.ErrorIs(t, err, library.ErrBadPath)
}

func TestDuplicateIDIsADraft(t *testing.T) {
	l, dir := open(t)
	src, _ := os.ReadFile(filepath.Join(dir, "boutique.yaml"))
	require.NoError(t, l.Save("zz-copy.yaml", src, ""))
	e, _ := l.Entry("zz-copy.yaml")
	assert.True(t, e.Draft)
	assert.Contains(t, e.Diags.Error(), `the id "boutique" is already used by boutique.yaml`)
	assert.Len(t, l.Published(), 8)

	// Once the first file gives up the id, the copy is published.
	b, _ := l.Entry("boutique.yaml")
	require.NoError(t, l.Save("boutique.yaml", []byte(strings.Replace(string(src), "id: boutique", "id: boutique-old", 1)), b.Hash))
	e, _ = l.Entry("zz-copy.yaml")
	assert.False(t, e.Draft, "%v", e.Diags)
	assert.Len(t, l.Published(), 9)
}

// Edits made on disk by another editor reach the library within a second, and what they
// replaced is kept as a revision.
func TestWatchSeesEditsOnDisk(t *testing.T) {
	l, dir := open(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go l.Watch(ctx)
	changes, stop := l.Subscribe()
	defer stop()
	time.Sleep(50 * time.Millisecond) // let the watcher start

	before, _ := l.Entry("gift-wrap.yaml")
	edited := strings.Replace(string(before.Source), "start: ", "start: missing_", 1)
	start := time.Now()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "gift-wrap.yaml"), []byte(edited), 0o644))
	require.Eventually(t, func() bool {
		e, _ := l.Entry("gift-wrap.yaml")
		return e.Draft
	}, time.Second, 10*time.Millisecond, "the edit was not seen within a second")
	t.Logf("edit seen after %v", time.Since(start))
	select {
	case <-changes:
	case <-time.After(time.Second):
		t.Fatal("subscribers were not told")
	}
	revs, err := l.Revisions("gift-wrap.yaml")
	require.NoError(t, err)
	require.NotEmpty(t, revs)
	assert.Equal(t, before.Hash, revs[0].Hash)

	// A new file in a new sub-folder is seen too.
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "team"), 0o755))
	time.Sleep(settleWait)
	src, _ := os.ReadFile(filepath.Join(dir, "boutique.yaml"))
	src = []byte(strings.Replace(string(src), "id: boutique", "id: boutique-two", 1))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "team", "b2.yaml"), src, 0o644))
	require.Eventually(t, func() bool {
		_, ok := l.Entry("team/b2.yaml")
		return ok
	}, 2*time.Second, 10*time.Millisecond)

	// Deleting a scenario removes it.
	require.NoError(t, os.Remove(filepath.Join(dir, "team", "b2.yaml")))
	require.Eventually(t, func() bool {
		_, ok := l.Entry("team/b2.yaml")
		return !ok
	}, 2*time.Second, 10*time.Millisecond)
}

// settleWait lets the watcher add a new folder before files appear in it.
const settleWait = 300 * time.Millisecond

// A server started while a scenario on disk has errors offers its last revision that
// passed lint.
func TestDraftOnDiskAtStartUsesLastRevision(t *testing.T) {
	l, dir := open(t)
	e, _ := l.Entry("hard-sell.yaml")
	require.NoError(t, l.Save("hard-sell.yaml", []byte("id: hard-sell\n"), e.Hash))
	l2, err := library.Open(dir, filepath.Join(filepath.Dir(dir), "revisions"), nil)
	require.NoError(t, err)
	e2, _ := l2.Entry("hard-sell.yaml")
	require.True(t, e2.Draft)
	require.NotNil(t, e2.Published)
	assert.Equal(t, e.PublishedHash, e2.PublishedHash)
}

// A data folder seeded by an older version holds endings without titles, which lint now
// requires: after the upgrade trainees still get the scenario (default titles stand in),
// while the studio shows the errors to fix.
func TestScenariosFromBeforeAnUpgradeAreStillOffered(t *testing.T) {
	dir := t.TempDir()
	old := "id: old\ntitle: Old\nbrief: B\nstart: talk\nnodes:\n  talk:\n    say: Hi.\n    transitions: [{when: 'true', to: all_done}]\n  all_done:\n    end: {outcome: resolved}\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "old.yaml"), []byte(old), 0o644))
	l, err := library.Open(dir, filepath.Join(t.TempDir(), "revisions"), nil)
	require.NoError(t, err)
	l.WaitForTests()
	e, ok := l.Entry("old.yaml")
	require.True(t, ok)
	assert.True(t, e.Draft, "lint's errors are shown")
	assert.Contains(t, e.Diags.Error(), "ending all_done needs a title")
	require.NotNil(t, e.Published, "but trainees keep the scenario")
	assert.Equal(t, "All done", e.Published.Node("all_done").End.Title)
	assert.Len(t, l.Published(), 1)
}
