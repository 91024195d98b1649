package pgjournal

import (
	"context"
	"time"

	"testing"

	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/web/library/libstore"
	"github.com/switchboard-sim/switchboard/web/library/libstore/libstoretest"
	"github.com/switchboard-sim/switchboard/web/storage/pgjournal/pgtest"
)

// TestLibraryConformance runs the shared library's conformance suite with two DBs on one
// schema (two instances): conflicts by hash, tombstones, bounded revisions, concurrent
// writers, and LISTEN/NOTIFY across connections.
func TestLibraryConformance(t *testing.T) {
	t.Parallel()
	libstoretest.Run(t, func(t *testing.T) (libstore.Store, libstore.Store) {
		u := pgtest.Schema(t)
		a, err := Open(ctx, u)
		require.NoError(t, err)
		t.Cleanup(func() { a.Close() })
		b, err := Open(ctx, u)
		require.NoError(t, err)
		t.Cleanup(func() { b.Close() })
		return a, b
	})
}

// TestLibraryNotifyIgnoresOtherSchemas: a change in another schema of the same database
// (another deployment, or another test) is not announced.
func TestLibraryNotifyIgnoresOtherSchemas(t *testing.T) {
	t.Parallel()
	a, _ := openSchema(t)
	other, _ := openSchema(t)
	calls := make(chan struct{}, 10)
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go a.ListenLibrary(cctx, func() { calls <- struct{}{} })
	<-calls // connected
	_, err := other.PutLibraryFile(ctx, libstore.File{Path: "x.yaml", Content: []byte("x")}, "", libstore.Lint{})
	require.NoError(t, err)
	_, err = a.PutLibraryFile(ctx, libstore.File{Path: "y.yaml", Content: []byte("y")}, "", libstore.Lint{})
	require.NoError(t, err)
	<-calls // a's own change
	select {
	case <-calls:
		t.Fatal("a change in another schema was announced")
	case <-time.After(300 * time.Millisecond):
	}
}
