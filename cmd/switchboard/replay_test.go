package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/engine/xapi/xapitest"
	"github.com/switchboard-sim/switchboard/web/storage/sqlitejournal"
)

// switchboard replay lists the recorded calls an edit would change, and only those.
func TestReplayListsTheCallsAnEditChanges(t *testing.T) {
	data := t.TempDir()
	ctx := context.Background()
	db, err := sqlitejournal.Open(ctx, data+"/"+journalFile)
	require.NoError(t, err)
	for i, id := range []string{"call-a", "call-b"} {
		c, entries, res := xapitest.FixtureCall(id, time.Date(2026, 11, 22, 9, 30+i, 0, 0, time.UTC))
		require.NoError(t, db.Create(ctx, c))
		for _, e := range entries {
			require.NoError(t, db.Append(ctx, c.ID, e))
		}
		require.NoError(t, db.Finish(ctx, c.ID, *res))
	}
	require.NoError(t, db.Close())

	dir := t.TempDir()
	same := writeFile(t, dir, "refund.yaml", xapitest.FixtureScenario)
	r := runCLI(t, nil, "replay", "--data", data, same)
	assert.Equal(t, 0, r.code, r.stderr)
	assert.Empty(t, r.stdout)
	assert.Contains(t, r.stderr, "2 recorded calls of refund replayed: 0 would change, 2 unchanged")

	// The second refund offer no longer earns care: both calls score lower.
	edited := strings.Replace(xapitest.FixtureScenario, "      - {when: 'said(\"refund\")', to: done, score: {care: 1}}\n      - {when: 'event == \"say\"', to: again}\n  done:",
		"      - {when: 'said(\"refund\")', to: done}\n      - {when: 'event == \"say\"', to: again}\n  done:", 1)
	require.NotEqual(t, xapitest.FixtureScenario, edited)
	p := writeFile(t, dir, "edited/refund.yaml", edited)
	r = runCLI(t, nil, "replay", "--data", data, p)
	assert.Equal(t, 1, r.code, r.stderr)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	require.Len(t, lines, 2, r.stdout)
	for _, l := range lines {
		assert.Contains(t, l, "overall 100% → 50%")
		assert.Contains(t, l, "care 2/2 → 1/2")
	}
	assert.Contains(t, r.stderr, "2 would change")

	// No journal: a clear error.
	r = runCLI(t, nil, "replay", "--data", t.TempDir(), p)
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, "no call journal")
}
