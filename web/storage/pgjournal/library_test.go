package pgjournal

import (
	"context"
	"time"

	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/web/access"
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

// TestStudioSessionsShared: a studio session created through one DB is recognised
// through another (two instances), until it expires or either revokes it; only the hash
// of the id is stored.
func TestStudioSessionsShared(t *testing.T) {
	t.Parallel()
	a, u := openSchema(t)
	b, err := Open(ctx, u)
	require.NoError(t, err)
	defer b.Close()
	sa, sb := access.NewSharedSessions(a), access.NewSharedSessions(b)
	now := time.Now()
	id, err := sa.Create(access.RoleSupervisor, now)
	require.NoError(t, err)
	assert.Equal(t, access.RoleSupervisor, sb.Role(id, now), "signed in on A, recognised by B")
	assert.Equal(t, access.RoleNone, sb.Role(id+"x", now))
	assert.Equal(t, access.RoleNone, sb.Role(id, now.Add(access.SessionAge+time.Second)), "expired")
	var n int
	require.NoError(t, a.pool.QueryRow(ctx, `SELECT count(*) FROM studio_sessions WHERE token_hash = $1`, id).Scan(&n))
	assert.Zero(t, n, "the id itself is never stored")
	d, err := sb.Create(access.RoleDesigner, now)
	require.NoError(t, err)
	assert.Equal(t, access.RoleDesigner, sa.Role(d, now))
	require.NoError(t, sb.Revoke(id))
	assert.Equal(t, access.RoleNone, sa.Role(id, now), "signed out on B: signed out on A")
	assert.Equal(t, access.RoleDesigner, sa.Role(d, now), "other sessions stay")
}

// TestSharedSecrets: the studio's secrets are created once for every instance, and a
// secret given on the command line replaces the stored one.
func TestSharedSecrets(t *testing.T) {
	t.Parallel()
	a, u := openSchema(t)
	b, err := Open(ctx, u)
	require.NoError(t, err)
	defer b.Close()
	sa, createdA, err := access.LoadSharedSecrets(ctx, a, access.Secrets{})
	require.NoError(t, err)
	sb, createdB, err := access.LoadSharedSecrets(ctx, b, access.Secrets{})
	require.NoError(t, err)
	assert.True(t, createdA)
	assert.False(t, createdB)
	assert.Equal(t, sa, sb)
	assert.GreaterOrEqual(t, len(sa.Designer), access.MinSecretLen)
	assert.NotEqual(t, sa.Designer, sa.Supervisor)
	over := access.Secrets{Designer: "a-designer-secret-from-a-flag"}
	sc, _, err := access.LoadSharedSecrets(ctx, b, over)
	require.NoError(t, err)
	assert.Equal(t, over.Designer, sc.Designer)
	assert.Equal(t, sa.Supervisor, sc.Supervisor)
	sd, _, err := access.LoadSharedSecrets(ctx, a, access.Secrets{})
	require.NoError(t, err)
	assert.Equal(t, sc, sd, "the flag's secret is stored for the others")
	_, _, err = access.LoadSharedSecrets(ctx, a, access.Secrets{Designer: "short"})
	assert.Error(t, err)
}

// TestLibraryListenReconnects: when the listening connection dies (a database restart,
// a network cut; here pg_terminate_backend), ListenLibrary reconnects, reports that
// changes may have been missed, and goes on announcing changes.
func TestLibraryListenReconnects(t *testing.T) {
	t.Parallel()
	u := pgtest.Schema(t)
	const app = "switchboard-listen-reconnect-test" // to kill this test's listener only
	a, err := Open(ctx, u+"&application_name="+app)
	require.NoError(t, err)
	defer a.Close()
	calls := make(chan struct{}, 100)
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = a.ListenLibrary(cctx, func() { calls <- struct{}{} }) }()
	defer func() { cancel(); <-done }()
	wait := func(what string) {
		t.Helper()
		select {
		case <-calls:
		case <-time.After(10 * time.Second):
			t.Fatal(what)
		}
	}
	wait("no call after connecting")
	_, err = a.pool.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = $1 AND application_name = $2`,
		"LISTEN "+LibraryChannel, app)
	require.NoError(t, err)
	begin := time.Now()
	wait("no call after reconnecting")
	t.Logf("reconnected and reported after %v", time.Since(begin).Round(time.Millisecond))
	for len(calls) > 0 {
		<-calls
	}
	_, err = a.PutLibraryFile(ctx, libstore.File{Path: "after.yaml", Content: []byte("x")}, "", libstore.Lint{})
	require.NoError(t, err)
	wait("a change after the reconnection was not announced")
}
