// Package libstoretest is the conformance suite of libstore.Store: every implementation
// (libstore.Memory, PostgreSQL in web/storage/pgjournal) runs it.
package libstoretest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/web/library/libstore"
)

// Run runs the suite. open returns a store on an empty library; when it is called twice in
// one test, both stores share their data (two instances on one database).
func Run(t *testing.T, open func(t *testing.T) (a, b libstore.Store)) {
	t.Run("PutAndChanges", func(t *testing.T) { putAndChanges(t, open) })
	t.Run("ConflictByHash", func(t *testing.T) { conflictByHash(t, open) })
	t.Run("Tombstones", func(t *testing.T) { tombstones(t, open) })
	t.Run("RevisionsBounded", func(t *testing.T) { revisionsBounded(t, open) })
	t.Run("ConcurrentWriters", func(t *testing.T) { concurrentWriters(t, open) })
	t.Run("Listen", func(t *testing.T) { listen(t, open) })
}

func hashOf(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func put(t *testing.T, s libstore.Store, p, content, base string) int64 {
	t.Helper()
	v, err := s.PutLibraryFile(context.Background(), libstore.File{Path: p, Content: []byte(content), By: "test"}, base, libstore.Lint{})
	require.NoError(t, err)
	return v
}

func putAndChanges(t *testing.T, open func(t *testing.T) (a, b libstore.Store)) {
	ctx := context.Background()
	a, b := open(t)
	all, err := a.LibraryChanges(ctx, 0)
	require.NoError(t, err)
	assert.Empty(t, all, "a new store is empty")

	v1 := put(t, a, "one.yaml", "id: one\n", "")
	v2 := put(t, b, "two.yaml", "id: two\n", "")
	require.Greater(t, v2, v1)
	v3 := put(t, a, "one.yaml", "id: one\ntitle: One\n", hashOf([]byte("id: one\n")))
	require.Greater(t, v3, v2)

	all, err = b.LibraryChanges(ctx, 0)
	require.NoError(t, err)
	require.Len(t, all, 2, "a file appears once, at its latest version")
	assert.Equal(t, "two.yaml", all[0].Path)
	assert.Equal(t, v2, all[0].Version)
	assert.Equal(t, "one.yaml", all[1].Path)
	assert.Equal(t, v3, all[1].Version)
	assert.Equal(t, "id: one\ntitle: One\n", string(all[1].Content))
	assert.Equal(t, hashOf(all[1].Content), all[1].Hash)
	assert.Equal(t, "test", all[1].By)
	assert.False(t, all[1].Modified.IsZero())

	since, err := a.LibraryChanges(ctx, v2)
	require.NoError(t, err)
	require.Len(t, since, 1)
	assert.Equal(t, "one.yaml", since[0].Path)
	none, err := a.LibraryChanges(ctx, v3)
	require.NoError(t, err)
	assert.Empty(t, none)

	// Storing what is stored already is no change, whatever the base.
	v, err := b.PutLibraryFile(ctx, libstore.File{Path: "one.yaml", Content: []byte("id: one\ntitle: One\n")}, "", libstore.Lint{})
	require.NoError(t, err)
	assert.Zero(t, v)
	none, err = a.LibraryChanges(ctx, v3)
	require.NoError(t, err)
	assert.Empty(t, none)

	// The replaced version is a revision, with the verdict given.
	revs, err := b.LibraryRevisions(ctx, "one.yaml")
	require.NoError(t, err)
	require.Len(t, revs, 1)
	assert.Equal(t, hashOf([]byte("id: one\n")), revs[0].Hash)
	assert.Equal(t, len("id: one\n"), revs[0].Size)
	assert.Equal(t, "test", revs[0].By, "the replaced version's author")
	data, err := a.LibraryRevision(ctx, "one.yaml", revs[0].ID)
	require.NoError(t, err)
	assert.Equal(t, "id: one\n", string(data))
	_, err = a.LibraryRevision(ctx, "one.yaml", revs[0].ID+1000)
	assert.ErrorIs(t, err, libstore.ErrNotFound)
	_, err = a.LibraryRevision(ctx, "two.yaml", revs[0].ID)
	assert.ErrorIs(t, err, libstore.ErrNotFound, "a revision id of another file")
	empty, err := a.LibraryRevisions(ctx, "none.yaml")
	require.NoError(t, err)
	assert.Empty(t, empty)

	_, err = a.PutLibraryFile(ctx, libstore.File{Path: "two.yaml", Content: []byte("id: two\nbroken: [\n"), By: "other"},
		hashOf([]byte("id: two\n")), libstore.Lint{Lint: "errors", Errors: 2})
	require.NoError(t, err)
	revs, err = b.LibraryRevisions(ctx, "two.yaml")
	require.NoError(t, err)
	require.Len(t, revs, 1)
	assert.Equal(t, libstore.Lint{Lint: "errors", Errors: 2}, revs[0].Lint)
	assert.Equal(t, "test", revs[0].By, "written by test, replaced by other")
}

func conflictByHash(t *testing.T, open func(t *testing.T) (a, b libstore.Store)) {
	ctx := context.Background()
	a, b := open(t)
	put(t, a, "s.yaml", "v1", "")
	_, err := b.PutLibraryFile(ctx, libstore.File{Path: "s.yaml", Content: []byte("v2 from b")}, "", libstore.Lint{})
	assert.ErrorIs(t, err, libstore.ErrConflict, "creating a file that exists")
	put(t, a, "s.yaml", "v2 from a", hashOf([]byte("v1")))
	_, err = b.PutLibraryFile(ctx, libstore.File{Path: "s.yaml", Content: []byte("v2 from b")}, hashOf([]byte("v1")), libstore.Lint{})
	assert.ErrorIs(t, err, libstore.ErrConflict, "b opened v1; a saved since")
	all, err := b.LibraryChanges(ctx, 0)
	require.NoError(t, err)
	require.Len(t, all, 1)
	assert.Equal(t, "v2 from a", string(all[0].Content), "the conflict wrote nothing")
	revs, err := b.LibraryRevisions(ctx, "s.yaml")
	require.NoError(t, err)
	assert.Len(t, revs, 1, "and kept no revision")

	// The loser's edit can be kept as a revision; only once, and not when it is current.
	require.NoError(t, b.KeepLibraryRevision(ctx, "s.yaml", []byte("v2 from b"), "b"))
	require.NoError(t, b.KeepLibraryRevision(ctx, "s.yaml", []byte("v2 from b"), "b"))
	require.NoError(t, b.KeepLibraryRevision(ctx, "s.yaml", []byte("v1"), "b"))
	require.NoError(t, b.KeepLibraryRevision(ctx, "s.yaml", []byte("v2 from a"), "b"))
	revs, err = a.LibraryRevisions(ctx, "s.yaml")
	require.NoError(t, err)
	require.Len(t, revs, 2)
	assert.Equal(t, hashOf([]byte("v2 from b")), revs[0].Hash)
	assert.Equal(t, hashOf([]byte("v1")), revs[1].Hash)
}

func tombstones(t *testing.T, open func(t *testing.T) (a, b libstore.Store)) {
	ctx := context.Background()
	a, b := open(t)
	put(t, a, "gone.yaml", "bye", "")
	_, err := b.PutLibraryFile(ctx, libstore.File{Path: "gone.yaml", Deleted: true}, "stale", libstore.Lint{})
	assert.ErrorIs(t, err, libstore.ErrConflict)
	v, err := b.PutLibraryFile(ctx, libstore.File{Path: "gone.yaml", Deleted: true, By: "b"}, hashOf([]byte("bye")), libstore.Lint{})
	require.NoError(t, err)
	require.NotZero(t, v)
	all, err := a.LibraryChanges(ctx, 0)
	require.NoError(t, err)
	require.Len(t, all, 1)
	assert.True(t, all[0].Deleted, "a tombstone, so that instances remove their copy")
	assert.Empty(t, all[0].Content)
	assert.Empty(t, all[0].Hash)
	assert.Equal(t, v, all[0].Version)
	revs, err := a.LibraryRevisions(ctx, "gone.yaml")
	require.NoError(t, err)
	require.Len(t, revs, 1, "the deleted content is a revision")
	// Deleting again is no change; creating it again needs base "".
	v2, err := a.PutLibraryFile(ctx, libstore.File{Path: "gone.yaml", Deleted: true}, "", libstore.Lint{})
	require.NoError(t, err)
	assert.Zero(t, v2)
	_, err = a.PutLibraryFile(ctx, libstore.File{Path: "gone.yaml", Content: []byte("back")}, hashOf([]byte("bye")), libstore.Lint{})
	assert.ErrorIs(t, err, libstore.ErrConflict)
	v3 := put(t, a, "gone.yaml", "back", "")
	assert.Greater(t, v3, v)
	all, err = b.LibraryChanges(ctx, v)
	require.NoError(t, err)
	require.Len(t, all, 1)
	assert.False(t, all[0].Deleted)
	assert.Equal(t, "back", string(all[0].Content))
}

func revisionsBounded(t *testing.T, open func(t *testing.T) (a, b libstore.Store)) {
	ctx := context.Background()
	a, _ := open(t)
	base := ""
	n := libstore.MaxRevisions + 5
	for i := 0; i <= n; i++ {
		c := fmt.Sprintf("version %d", i)
		put(t, a, "r.yaml", c, base)
		base = hashOf([]byte(c))
	}
	revs, err := a.LibraryRevisions(ctx, "r.yaml")
	require.NoError(t, err)
	require.Len(t, revs, libstore.MaxRevisions)
	for i := 1; i < len(revs); i++ {
		assert.Greater(t, revs[i-1].ID, revs[i].ID, "newest first")
	}
	newest, err := a.LibraryRevision(ctx, "r.yaml", revs[0].ID)
	require.NoError(t, err)
	assert.Equal(t, fmt.Sprintf("version %d", n-1), string(newest))
	oldest, err := a.LibraryRevision(ctx, "r.yaml", revs[len(revs)-1].ID)
	require.NoError(t, err)
	assert.Equal(t, fmt.Sprintf("version %d", n-libstore.MaxRevisions), string(oldest))
}

// concurrentWriters: writers on two stores each try to replace the same version; exactly
// one wins each round, and versions are unique and ordered as the changes were made.
func concurrentWriters(t *testing.T, open func(t *testing.T) (a, b libstore.Store)) {
	ctx := context.Background()
	a, b := open(t)
	stores := []libstore.Store{a, b, a, b}
	base := ""
	seen := map[int64]bool{}
	for round := range 5 {
		var wg sync.WaitGroup
		wins := make([]int64, len(stores))
		errs := make([]error, len(stores))
		for i, s := range stores {
			wg.Go(func() {
				wins[i], errs[i] = s.PutLibraryFile(ctx, libstore.File{Path: "hot.yaml",
					Content: fmt.Appendf(nil, "round %d writer %d", round, i)}, base, libstore.Lint{})
			})
		}
		wg.Wait()
		winner := -1
		for i, err := range errs {
			if err == nil {
				require.Equal(t, -1, winner, "two writers won round %d", round)
				winner = i
				continue
			}
			assert.ErrorIs(t, err, libstore.ErrConflict)
		}
		require.NotEqual(t, -1, winner, "round %d had a winner", round)
		assert.False(t, seen[wins[winner]])
		seen[wins[winner]] = true
		base = hashOf(fmt.Appendf(nil, "round %d writer %d", round, winner))
	}
	// Writers of different files all win, with distinct versions, and a reader that
	// follows the feed sees every one.
	var wg sync.WaitGroup
	vs := make([]int64, 20)
	for i := range vs {
		wg.Go(func() {
			s := stores[i%len(stores)]
			v, err := s.PutLibraryFile(ctx, libstore.File{Path: fmt.Sprintf("f%02d.yaml", i), Content: []byte("x")}, "", libstore.Lint{})
			assert.NoError(t, err)
			vs[i] = v
		})
	}
	wg.Wait()
	all, err := a.LibraryChanges(ctx, 0)
	require.NoError(t, err)
	require.Len(t, all, 21)
	for i := 1; i < len(all); i++ {
		assert.Greater(t, all[i].Version, all[i-1].Version)
	}
}

func listen(t *testing.T, open func(t *testing.T) (a, b libstore.Store)) {
	a, b := open(t)
	ctx, cancel := context.WithCancel(context.Background())
	calls := make(chan struct{}, 100)
	done := make(chan error, 1)
	go func() { done <- a.ListenLibrary(ctx, func() { calls <- struct{}{} }) }()
	select {
	case <-calls: // connected
	case <-time.After(10 * time.Second):
		t.Fatal("no call after connecting")
	}
	for len(calls) > 0 {
		<-calls
	}
	begin := time.Now()
	put(t, b, "n.yaml", "notify me", "")
	select {
	case <-calls:
		t.Logf("a change by another store was announced after %v", time.Since(begin).Round(time.Microsecond))
	case <-time.After(5 * time.Second):
		t.Fatal("a change by another store was not announced")
	}
	cancel()
	select {
	case err := <-done:
		assert.ErrorIs(t, err, context.Canceled)
	case <-time.After(10 * time.Second):
		t.Fatal("ListenLibrary did not return after its context ended")
	}
}
