package api

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/engine/journal"
	"github.com/switchboard-sim/switchboard/web/live"
)

// TestRecoveryInBatchesAndOnDemand: a restarted server serves before recovery has reached
// every open call (a reconnect recovers its call on the spot), Recover brings back all the
// others whatever their number (no fixed cap), and a reconnect replays exactly what the
// first server sent.
func TestRecoveryInBatchesAndOnDemand(t *testing.T) {
	synctest.Test(t, testRecoveryInBatchesAndOnDemand)
}

func testRecoveryInBatchesAndOnDemand(t *testing.T) {
	j := journal.NewMemory()
	first := newMemTestServer(t, Options{Journal: j})
	const calls = 5
	var rs []live.Started
	var seen []*client
	for range calls {
		r := first.start(t, `{"scenario":"live"}`)
		c := first.dial(t, r.WS, nil)
		c.until("ring")
		c.send(map[string]any{"type": "answer", "id": "a"})
		c.until("line_end")
		rs, seen = append(rs, r), append(seen, c)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	require.NoError(t, first.Shutdown(ctx))
	for _, c := range seen {
		require.Equal(t, websocket.CloseGoingAway, c.closeCode())
	}

	second := newMemTestServer(t, Options{Journal: j})
	require.Zero(t, second.LiveCalls())
	// Before Recover: the trainee of call 2 reconnects and gets everything again.
	c := second.dial(t, rs[2].WS, nil)
	c.until("line_end")
	c.checkSeqs(1)
	assert.Equal(t, 1, second.LiveCalls(), "recovered on demand")
	seen[2].mu.Lock()
	want := append([]srvMsg(nil), seen[2].all...)
	seen[2].mu.Unlock()
	deadline := time.Now().Add(waitFor)
	for len(c.all) < len(want) && time.Now().Before(deadline) {
		c.quiet(50 * time.Millisecond)
	}
	c.mu.Lock()
	got := append([]srvMsg(nil), c.all...)
	c.mu.Unlock()
	require.GreaterOrEqual(t, len(got), len(want), "the reconnect gets at least what the first server sent")
	for i := range want {
		assert.Equal(t, want[i].Seq, got[i].Seq)
		assert.Equal(t, want[i].Type, got[i].Type, "message %d", i+1)
	}

	n, err := second.Recover(context.Background())
	require.NoError(t, err)
	assert.Equal(t, calls-1, n, "the others came back; the one already in memory is not doubled")
	assert.Equal(t, calls, second.LiveCalls())
}
