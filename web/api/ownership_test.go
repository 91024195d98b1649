package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/engine/journal"
	"github.com/switchboard-sim/switchboard/web/live"
	"github.com/switchboard-sim/switchboard/web/protocol"
)

// fakeClock is an instance's wall clock for leases, moved by hand.
type fakeClock struct{ offset atomic.Int64 }

func (f *fakeClock) now() time.Time          { return time.Now().Add(time.Duration(f.offset.Load())) }
func (f *fakeClock) advance(d time.Duration) { f.offset.Add(int64(d)) }

// ownedServer is a test server that owns its calls in j as instance name.
func ownedServer(t *testing.T, j journal.Journal, name string) (*testServer, *fakeClock) {
	t.Helper()
	clock := &fakeClock{}
	ts := newTestServer(t, Options{Journal: j, Ownership: &live.Ownership{Instance: name, TTL: time.Minute, Now: clock.now}})
	return ts, clock
}

// refusedWS dials path on ts, expects the upgrade to be refused, and returns the status
// and error code.
func refusedWS(t *testing.T, ts *testServer, path string) (int, string) {
	t.Helper()
	_, resp, err := ts.dialer.Dial(ts.wsURL(path), nil)
	require.Error(t, err)
	require.NotNil(t, resp)
	defer resp.Body.Close()
	var e APIError
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&e))
	return resp.StatusCode, e.Error.Code
}

// TestOwnershipLiveAndDeadOwner: two instances share a journal. While A's lease lives, B
// neither recovers A's call at start nor serves it to a reconnecting trainee (503
// owned_elsewhere, after the token check). Once A's lease has expired (A stopped renewing:
// B's clock is moved past it), B takes the call over on the trainee's reconnect and
// finishes it; A, which still had the call in memory, is refused its next write (fenced),
// drops the call and tells its trainee to reconnect (1001). The journal holds every input
// once.
func TestOwnershipLiveAndDeadOwner(t *testing.T) {
	j := journal.NewMemory()
	a, _ := ownedServer(t, j, "a")
	b, bClock := ownedServer(t, j, "b")

	r := a.start(t, `{"scenario":"live"}`)
	ca := a.dial(t, r.WS, nil)
	ca.until("ring")
	ca.send(map[string]any{"type": "answer", "id": "a1"})
	ca.until("line_end")

	n, err := b.Recover(context.Background())
	require.NoError(t, err)
	assert.Zero(t, n, "B does not recover a call A owns")
	status, code := refusedWS(t, b, r.WS)
	assert.Equal(t, http.StatusServiceUnavailable, status)
	assert.Equal(t, protocol.CodeOwnedElsewhere, code)
	status, code = refusedWS(t, b, "/ws/calls/"+r.ID+"?token=wrong")
	assert.Equal(t, http.StatusUnauthorized, status, "the token is checked before saying who owns the call")
	assert.Equal(t, protocol.CodeUnauthorized, code)
	assert.Zero(t, b.LiveCalls())

	// A stops renewing (as if killed); B's clock passes A's lease.
	bClock.advance(2 * time.Minute)
	cb := b.dial(t, r.WS+"&after=0", nil)
	cb.until("line_end")
	assert.Equal(t, 1, b.LiveCalls(), "B took the call over")
	assert.Equal(t, 1.0, metricValue(t, b, `switchboard_calls_recovered_total{via="reconnect"}`))

	// A still holds the call in memory: its next write is fenced and the call leaves A.
	ca.send(map[string]any{"type": "say", "id": "stale", "text": "I'm sorry, here is a refund."})
	assert.Equal(t, websocket.CloseGoingAway, ca.closeCode(), "A's trainee is told to reconnect")
	deadline := time.Now().Add(waitFor)
	for a.LiveCalls() != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	assert.Zero(t, a.LiveCalls(), "A dropped the call")

	cb.send(map[string]any{"type": "say", "id": "s1", "text": "I'm sorry, here is a refund."})
	end := cb.until("end")
	assert.Contains(t, string(end.Raw), `"refunded"`)
	assert.Equal(t, websocket.CloseNormalClosure, cb.closeCode())

	_, entries, res, err := j.Load(context.Background(), r.ID)
	require.NoError(t, err)
	require.NotNil(t, res, "B recorded the result")
	ids := map[string]int{}
	for _, e := range entries {
		if e.ClientID != "" {
			ids[e.ClientID]++
		}
	}
	assert.Equal(t, map[string]int{"a1": 1, "s1": 1}, ids, "A's stale write is not in the journal")
}

// TestOwnershipDrain: an instance that stops (Shutdown) and releases its leases has its
// calls taken over by another at once, without waiting for the leases to expire.
func TestOwnershipDrain(t *testing.T) {
	j := journal.NewMemory()
	a, _ := ownedServer(t, j, "a")
	b, _ := ownedServer(t, j, "b")
	r := a.start(t, `{"scenario":"live"}`)
	ca := a.dial(t, r.WS, nil)
	ca.until("ring")
	ca.send(map[string]any{"type": "answer", "id": "a1"})
	ca.until("line_end")

	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	require.NoError(t, a.Shutdown(ctx))
	assert.Equal(t, websocket.CloseGoingAway, ca.closeCode())
	released, err := a.ReleaseLeases(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, released)

	n, err := b.Recover(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n, "B recovers the released call at once")
	assert.Equal(t, 1.0, metricValue(t, b, `switchboard_calls_recovered_total{via="start"}`))
	cb := b.dial(t, r.WS+"&after=0", nil)
	cb.send(map[string]any{"type": "hangup", "id": "h"})
	assert.True(t, strings.Contains(string(cb.until("end").Raw), `"hangup"`))
}

// TestOwnershipNeedsLeases: a journal without leases cannot be shared.
func TestOwnershipNeedsLeases(t *testing.T) {
	_, err := New(Options{Journal: noLeases{journal.NewMemory()}, Ownership: &live.Ownership{Instance: "a"}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "has no leases")
	_, err = New(Options{Journal: journal.NewMemory(), Ownership: &live.Ownership{}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "empty instance name")
}

type noLeases struct{ journal.Journal }

// TestOwnershipFullServerReleases: an instance that claims a call it then cannot hold (it
// is at --max-calls) gives the lease back at once, so another instance may take the call
// (its renewals would otherwise keep it forever).
func TestOwnershipFullServerReleases(t *testing.T) {
	j := journal.NewMemory()
	a, _ := ownedServer(t, j, "a")
	r1 := a.start(t, `{"scenario":"live"}`)
	r2 := a.start(t, `{"scenario":"live"}`)
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	require.NoError(t, a.Shutdown(ctx))
	_, err := a.ReleaseLeases(ctx)
	require.NoError(t, err)

	clock := &fakeClock{}
	b := newTestServer(t, Options{Journal: j, MaxCalls: 1, Ownership: &live.Ownership{Instance: "b", TTL: time.Minute, Now: clock.now}})
	n, err := b.Recover(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n, "B holds one call")
	unowned, err := j.Unowned(ctx, time.Now(), 0)
	require.NoError(t, err)
	require.Len(t, unowned, 1, "the call B could not hold is free again")
	assert.Contains(t, []string{r1.ID, r2.ID}, unowned[0])
	renewed, err := j.Renew(ctx, "b", time.Now(), time.Minute)
	require.NoError(t, err)
	assert.Equal(t, 1, renewed, "B renews only the call it runs")
}

// metricValue reads one series from ts's /metrics.
func metricValue(t *testing.T, ts *testServer, series string) float64 {
	t.Helper()
	resp, err := ts.client.Get(ts.url + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	for _, line := range strings.Split(string(body), "\n") {
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			v, err := strconv.ParseFloat(rest, 64)
			require.NoError(t, err, line)
			return v
		}
	}
	t.Fatalf("no series %s in:\n%s", series, body)
	return 0
}

// TestOwnershipAdoptedCallGoesOnForItsTrainee: three instances share a journal (on the
// bubble's fake clock). A dies during a call, nobody reconnecting: within a TTL and a
// sweep, B or C adopts the call, and its timer (the customer's "Hello? Are you there?",
// due while nobody held the call) fires there at its deadline. The trainee then comes
// back: the instance that did not adopt it answers 503 owned_elsewhere (its owner lives),
// the adopter serves it after the last seq the trainee saw, and the call ends there. The
// journal holds every input once.
func TestOwnershipAdoptedCallGoesOnForItsTrainee(t *testing.T) {
	synctest.Test(t, testOwnershipAdoptedCallGoesOnForItsTrainee)
}

func testOwnershipAdoptedCallGoesOnForItsTrainee(t *testing.T) {
	const ttl = 3 * time.Second
	j := journal.NewMemory()
	servers := map[string]*testServer{}
	stops := map[string]context.CancelFunc{}
	var running sync.WaitGroup
	for _, name := range []string{"a", "b", "c"} {
		ts := newMemTestServer(t, Options{Journal: j, Ownership: &live.Ownership{Instance: name, TTL: ttl}})
		ctx, cancel := context.WithCancel(context.Background())
		running.Go(func() { ts.KeepLeases(ctx) })
		running.Go(func() { ts.AdoptOrphans(ctx) })
		servers[name], stops[name] = ts, cancel
	}
	t.Cleanup(func() {
		for _, stop := range stops {
			stop()
		}
		running.Wait()
	})
	a, b, c := servers["a"], servers["b"], servers["c"]

	r := a.start(t, `{"scenario":"live"}`)
	ca := a.dial(t, r.WS, nil)
	ca.until("ring")
	ca.send(map[string]any{"type": "answer", "id": "a1"})
	greetEnd := ca.until("line_end")
	last := greetEnd.Seq

	// A dies: it stops renewing, and its calls stop without writing anything more.
	stops["a"]()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	require.NoError(t, a.Shutdown(ctx))
	assert.Equal(t, websocket.CloseGoingAway, ca.closeCode())
	died := time.Now()
	for b.LiveCalls()+c.LiveCalls() == 0 {
		require.Less(t, time.Since(died), ttl+ttl/3*5/4+time.Second, "nobody adopted the call")
		time.Sleep(50 * time.Millisecond)
	}
	owner, other := b, c
	if c.LiveCalls() == 1 {
		owner, other = c, b
	}
	assert.Equal(t, 1, owner.LiveCalls()+other.LiveCalls(), "one instance adopted it")
	assert.Equal(t, 1.0, metricValue(t, owner, `switchboard_calls_recovered_total{via="sweep"}`))

	status, code := refusedWS(t, other, r.WS+fmt.Sprintf("&after=%d", last))
	assert.Equal(t, http.StatusServiceUnavailable, status, "the adopter lives: not the other's to take")
	assert.Equal(t, protocol.CodeOwnedElsewhere, code)

	cb := owner.dial(t, r.WS+fmt.Sprintf("&after=%d", last), nil)
	nudge := cb.until("line_start")
	assert.Equal(t, "nudge", nudge.Node, "the timer that fell due while nobody held the call fired on the adopter")
	assert.Equal(t, greetEnd.At+800, nudge.At, "at its deadline on the call clock")
	cb.send(map[string]any{"type": "say", "id": "s1", "text": "I'm sorry, here is a refund."})
	assert.Contains(t, string(cb.until("end").Raw), `"refunded"`)
	assert.Equal(t, websocket.CloseNormalClosure, cb.closeCode())
	cb.checkSeqs(last + 1)

	_, entries, res, err := j.Load(context.Background(), r.ID)
	require.NoError(t, err)
	require.NotNil(t, res)
	ids := map[string]int{}
	for i, e := range entries {
		assert.Equal(t, int64(i+1), e.Seq)
		if e.ClientID != "" {
			ids[e.ClientID]++
		}
	}
	assert.Equal(t, map[string]int{"a1": 1, "s1": 1}, ids)
}
