package library_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/scenarios"
	"github.com/switchboard-sim/switchboard/web/library"
	"github.com/switchboard-sim/switchboard/web/library/libstore"
)

// openShared opens an instance's library: a fresh folder seeded with the shipped library,
// mirroring store, followed (Watch) until the test ends.
func openShared(t *testing.T, store libstore.Store, name string) (*library.Library, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "scenarios")
	_, err := library.Seed(dir, scenarios.FS, scenarios.Root)
	require.NoError(t, err)
	l, err := library.OpenShared(dir, store, name, nil)
	require.NoError(t, err)
	require.True(t, l.Shared())
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { l.Watch(ctx) })
	t.Cleanup(func() { cancel(); wg.Wait(); l.WaitForTests() })
	return l, dir
}

// within waits until cond holds, failing after eventually; it returns how long it took.
// The promise (library.SharedApplyWithin) is checked where a scenario is published; the
// other steps check what arrives, with room for a loaded machine under -race.
func within(t *testing.T, what string, cond func() bool) time.Duration {
	t.Helper()
	return withinD(t, eventually, what, cond)
}

// eventually bounds the steps of these tests that check what arrives rather than when.
const eventually = 5 * time.Second

func withinD(t *testing.T, d time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	require.Eventually(t, cond, d, 5*time.Millisecond, what)
	return time.Since(start)
}

const newScenario = "fresh"

// TestSharedLibraryPublishesEverywhere: the first instance seeds the store; a scenario
// created on A is offered by B within a second; a draft with errors saved on A replaces
// B's source but not its published version; a fix is published on both; revisions are
// the same on both, and B can restore one of A's.
func TestSharedLibraryPublishesEverywhere(t *testing.T) {
	store := libstore.NewMemory()
	a, _ := openShared(t, store, "a")
	files, err := store.LibraryChanges(context.Background(), 0)
	require.NoError(t, err)
	assert.Len(t, files, len(a.Entries())*2+countPacks(t, a), "A uploaded the shipped library (scenarios, tests, packs, tracks)")
	b, bdir := openShared(t, store, "b")
	require.Len(t, b.Entries(), len(a.Entries()))

	begin := time.Now()
	p, err := a.NewScenario(newScenario, "Fresh")
	require.NoError(t, err)
	saved := time.Since(begin)
	took := withinD(t, library.SharedApplyWithin, "B offers the scenario A created", func() bool {
		e, ok := b.Entry(p)
		return ok && e.Published != nil && e.Published.ID == newScenario
	})
	t.Logf("created on A (the scenario and its test file) in %v; offered by B %v after that", saved, took)
	onDisk, err := os.ReadFile(filepath.Join(bdir, p))
	require.NoError(t, err)
	ea, _ := a.Entry(p)
	assert.Equal(t, ea.Source, onDisk, "B's folder mirrors it")
	within(t, "B has its test file", func() bool {
		_, ok := b.File(newScenario + ".test.yaml")
		return ok
	})

	// A draft with errors: B gets the source, trainees on B keep the published version.
	published := ea.PublishedHash
	broken := strings.Replace(string(ea.Source), "start: ring", "start: rinng", 1)
	require.NoError(t, a.Save(p, []byte(broken), ea.Hash))
	within(t, "B has the draft", func() bool {
		e, _ := b.Entry(p)
		return e.Hash == library.HashOf([]byte(broken))
	})
	eb, _ := b.Entry(p)
	assert.True(t, eb.Draft)
	require.NotNil(t, eb.Published, "B keeps offering the version that passed")
	assert.Equal(t, published, eb.PublishedHash)

	// Revisions are shared: B sees A's and restores the one that passed.
	revs, err := b.Revisions(p)
	require.NoError(t, err)
	require.Len(t, revs, 1)
	assert.Equal(t, ea.Hash, revs[0].Hash)
	assert.Equal(t, library.LintPassed, revs[0].Lint, "with lint's verdict from A")
	revsA, err := a.Revisions(p)
	require.NoError(t, err)
	assert.Equal(t, revs, revsA)
	require.NoError(t, b.Restore(p, revs[0].ID, eb.Hash))
	within(t, "A has the restored version", func() bool {
		e, _ := a.Entry(p)
		return e.Hash == ea.Hash && !e.Draft
	})
	revs, _ = a.Revisions(p)
	require.Len(t, revs, 2)
	assert.Equal(t, library.LintErrors, revs[0].Lint, "the draft is a revision, marked with its errors")
}

func countPacks(t *testing.T, l *library.Library) int {
	t.Helper()
	tracks, _ := filepath.Glob(filepath.Join(l.Dir(), "tracks", "*.yaml"))
	rules, _ := filepath.Glob(filepath.Join(l.Dir(), "rules", "*.yaml"))
	return len(tracks) + len(rules)
}

// TestSharedLibraryConflict: two instances saving over the same version: one wins, the
// other gets ErrConflict and writes nothing; both end with the winner's version.
func TestSharedLibraryConflict(t *testing.T) {
	store := libstore.NewMemory()
	a, _ := openShared(t, store, "a")
	b, bdir := openShared(t, store, "b")
	e, _ := a.Entry("boutique.yaml")
	va := strings.Replace(string(e.Source), "title: ", "title: A's ", 1)
	vb := strings.Replace(string(e.Source), "title: ", "title: B's ", 1)
	var wg sync.WaitGroup
	var errA, errB error
	wg.Go(func() { errA = a.Save("boutique.yaml", []byte(va), e.Hash) })
	wg.Go(func() { errB = b.Save("boutique.yaml", []byte(vb), e.Hash) })
	wg.Wait()
	require.True(t, (errA == nil) != (errB == nil), "exactly one save wins: %v / %v", errA, errB)
	winner := va
	if errA != nil {
		winner = vb
		assert.ErrorIs(t, errA, library.ErrConflict)
	} else {
		assert.ErrorIs(t, errB, library.ErrConflict)
	}
	for _, l := range []*library.Library{a, b} {
		within(t, "both have the winner's version", func() bool {
			e, _ := l.Entry("boutique.yaml")
			return e.Hash == library.HashOf([]byte(winner))
		})
	}
	onDisk, _ := os.ReadFile(filepath.Join(bdir, "boutique.yaml"))
	assert.Equal(t, winner, string(onDisk))
}

// TestSharedLibraryDiskEdits: an edit made in B's folder (an editor, git pull) reaches A;
// a file removed from A's folder is removed from B's (a tombstone), and an instance that
// starts later with the shipped file on disk removes it too; an edit that lost to a
// newer version is kept as a revision.
func TestSharedLibraryDiskEdits(t *testing.T) {
	store := libstore.NewMemory()
	a, adir := openShared(t, store, "a")
	b, bdir := openShared(t, store, "b")

	time.Sleep(50 * time.Millisecond) // let the watchers start
	e, _ := b.Entry("gift-wrap.yaml")
	edited := strings.Replace(string(e.Source), "title: ", "title: Edited ", 1)
	require.NoError(t, os.WriteFile(filepath.Join(bdir, "gift-wrap.yaml"), []byte(edited), 0o644))
	// An edit on disk waits for the watcher to settle (100 ms) and is linted on B before
	// it is uploaded.
	took := within(t, "A has B's disk edit", func() bool {
		e, _ := a.Entry("gift-wrap.yaml")
		return e.Hash == library.HashOf([]byte(edited))
	})
	t.Logf("edited in B's folder, seen by A after %v", took)

	require.NoError(t, os.Remove(filepath.Join(adir, "hard-sell.yaml")))
	within(t, "B removes what A's folder lost", func() bool {
		_, ok := b.Entry("hard-sell.yaml")
		return !ok
	})
	_, err := os.Stat(filepath.Join(bdir, "hard-sell.yaml"))
	assert.ErrorIs(t, err, os.ErrNotExist)

	c, cdir := openShared(t, store, "c")
	_, ok := c.Entry("hard-sell.yaml")
	assert.False(t, ok, "a new instance's seeded copy of a deleted file is removed")
	_, err = os.Stat(filepath.Join(cdir, "hard-sell.yaml"))
	assert.ErrorIs(t, err, os.ErrNotExist)
	ec, _ := c.Entry("gift-wrap.yaml")
	assert.Equal(t, library.HashOf([]byte(edited)), ec.Hash, "the store wins over the seeded copy")
	revs, err := c.Revisions("gift-wrap.yaml")
	require.NoError(t, err)
	assert.Len(t, revs, 1, "the shipped version is a revision once, not once per instance")

	// A local edit that loses: the store changed under it. It is kept as a revision.
	store2 := libstore.NewMemory()
	d, ddir := openSharedNoWatch(t, store2, "d")
	cur, _ := d.Entry("boutique.yaml")
	winner := strings.Replace(string(cur.Source), "title: ", "title: Winner ", 1)
	_, err = store2.PutLibraryFile(context.Background(), libstore.File{Path: "boutique.yaml", Content: []byte(winner)}, cur.Hash, libstore.Lint{})
	require.NoError(t, err)
	loser := strings.Replace(string(cur.Source), "title: ", "title: Loser ", 1)
	require.NoError(t, os.WriteFile(filepath.Join(ddir, "boutique.yaml"), []byte(loser), 0o644))
	require.NoError(t, d.Rescan()) // the upload conflicts
	require.NoError(t, d.Sync())   // the store wins
	ed, _ := d.Entry("boutique.yaml")
	assert.Equal(t, library.HashOf([]byte(winner)), ed.Hash)
	revs, err = d.Revisions("boutique.yaml")
	require.NoError(t, err)
	var hashes []string
	for _, r := range revs {
		hashes = append(hashes, r.Hash)
	}
	assert.Contains(t, hashes, library.HashOf([]byte(loser)), "the losing edit is kept")
}

func openSharedNoWatch(t *testing.T, store libstore.Store, name string) (*library.Library, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "scenarios")
	_, err := library.Seed(dir, scenarios.FS, scenarios.Root)
	require.NoError(t, err)
	l, err := library.OpenShared(dir, store, name, nil)
	require.NoError(t, err)
	t.Cleanup(l.WaitForTests)
	return l, dir
}

// TestSharedLibraryUnreadableIsNotDeleted: a folder this instance cannot read (a
// permission problem) does not delete its files for every instance. As another user the
// folder is made unreadable with chmod; root reads everything, so there the reads fail
// through the library's test hook instead.
func TestSharedLibraryUnreadableIsNotDeleted(t *testing.T) {
	store := libstore.NewMemory()
	a, adir := openSharedNoWatch(t, store, "a")
	_, ok := a.File("rules/listening.yaml")
	require.True(t, ok)
	if os.Geteuid() == 0 {
		library.SetReadFailure(a, "rules/")
	} else {
		require.NoError(t, os.Chmod(filepath.Join(adir, "rules"), 0o000))
		t.Cleanup(func() { _ = os.Chmod(filepath.Join(adir, "rules"), 0o755) })
	}
	require.NoError(t, a.Rescan())
	files, err := store.LibraryChanges(context.Background(), 0)
	require.NoError(t, err)
	sawRules := false
	for _, f := range files {
		assert.False(t, f.Deleted, "%s was deleted for every instance", f.Path)
		sawRules = sawRules || strings.HasPrefix(f.Path, "rules/")
	}
	assert.True(t, sawRules, "the store still has the unreadable folder's files")
}

// deafStore never announces changes: only the poll can find them.
type deafStore struct{ *libstore.Memory }

func (deafStore) ListenLibrary(ctx context.Context, _ func()) error {
	<-ctx.Done()
	return ctx.Err()
}

// TestSharedLibraryPollsWhenNotificationsAreLost: with no notification at all (a lost
// listening connection), changes still arrive, at the next poll.
func TestSharedLibraryPollsWhenNotificationsAreLost(t *testing.T) {
	const poll = 200 * time.Millisecond
	defer library.SetSharedPoll(poll)()
	store := deafStore{libstore.NewMemory()}
	a, _ := openShared(t, store, "a")
	b, _ := openShared(t, store, "b")
	e, _ := a.Entry("boutique.yaml")
	edited := strings.Replace(string(e.Source), "title: ", "title: Polled ", 1)
	require.NoError(t, a.Save("boutique.yaml", []byte(edited), e.Hash))
	took := within(t, "B polled the change", func() bool {
		e, _ := b.Entry("boutique.yaml")
		return e.Hash == library.HashOf([]byte(edited))
	})
	t.Logf("without notifications, B had the change after %v (poll every %v)", took, poll)
}
