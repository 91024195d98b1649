package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/engine/journal"
	"github.com/switchboard-sim/switchboard/web/live"
	"github.com/switchboard-sim/switchboard/web/protocol"
)

// busyJournal is an in-memory journal that reports a write backlog the test sets, and
// whose Create can be made to hang until its context ends (a journal too busy to take a
// new call).
type busyJournal struct {
	*journal.Memory
	backlog    atomic.Int64
	pace       atomic.Int64 // time per waiting write, for BacklogWait
	slowCreate atomic.Bool
	creates    atomic.Int64 // Create calls that reached the journal
}

func (j *busyJournal) Backlog() int { return int(j.backlog.Load()) }

func (j *busyJournal) BacklogWait() time.Duration {
	return time.Duration(j.backlog.Load() * j.pace.Load())
}

// behind sets a backlog of n writes that would take wait to commit.
func (j *busyJournal) behind(n int, wait time.Duration) {
	j.backlog.Store(int64(n))
	n = max(n, 1)
	j.pace.Store((int64(wait) + int64(n) - 1) / int64(n)) // rounded up: n·pace ≥ wait
}

func (j *busyJournal) Create(ctx context.Context, c journal.Call) error {
	j.creates.Add(1)
	if j.slowCreate.Load() {
		<-ctx.Done()
		return ctx.Err()
	}
	return j.Memory.Create(ctx, c)
}

// postCall starts a call and returns the status, the error code (if any) and the
// Retry-After header.
func (ts *testServer) postCall(t *testing.T) (status int, code, retryAfter string) {
	t.Helper()
	resp, err := ts.client.Post(ts.url+"/api/calls", "application/json", strings.NewReader(`{"scenario":"live"}`))
	require.NoError(t, err)
	defer resp.Body.Close()
	var body struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body.Error.Code, resp.Header.Get("Retry-After")
}

// TestAdmissionWhenTheJournalIsBehind: while BusyBacklog writes wait for the journal and
// would take BusyWait to commit, a new call is refused at once with 503 busy and
// Retry-After, without reaching the journal, and a running call's inputs still go
// through; below either limit calls start again, and past BusyBacklogMax writes they are
// refused whatever the pace. A new
// call the journal does not take within CreateTimeout (fake clock) is refused the same way,
// after exactly that long, with nothing recorded.
func TestAdmissionWhenTheJournalIsBehind(t *testing.T) {
	synctest.Test(t, testAdmissionWhenTheJournalIsBehind)
}

func testAdmissionWhenTheJournalIsBehind(t *testing.T) {
	j := &busyJournal{Memory: journal.NewMemory()}
	ts := newMemTestServer(t, Options{Journal: j})
	r := ts.start(t, `{"scenario":"live"}`)
	c := ts.dial(t, r.WS, nil)
	c.until("ring")
	require.Equal(t, int64(1), j.creates.Load())

	j.behind(live.BusyBacklog, live.BusyWait)
	start := time.Now()
	status, code, retry := ts.postCall(t)
	assert.Equal(t, http.StatusServiceUnavailable, status)
	assert.Equal(t, protocol.CodeBusy, code)
	assert.Equal(t, "3", retry, "Retry-After: RetryAfterBusy plus the journal's 1 s of backlog")
	assert.Equal(t, time.Duration(0), time.Since(start), "refused at once (fake clock)")
	assert.Equal(t, int64(1), j.creates.Load(), "the refused call never reached the journal")

	// The running call is not refused anything.
	c.send(map[string]any{"type": "answer", "id": "a"})
	assert.Equal(t, "a", c.until("trainee").ID)

	j.behind(live.BusyBacklog-1, 10*live.BusyWait)
	status, _, _ = ts.postCall(t)
	assert.Equal(t, http.StatusCreated, status, "below the backlog limit calls start")
	j.behind(live.BusyBacklogMax-1, live.BusyWait-10*time.Millisecond)
	status, _, _ = ts.postCall(t)
	assert.Equal(t, http.StatusCreated, status, "a long backlog that commits within BusyWait is no reason")
	j.behind(live.BusyBacklogMax, live.BusyWait/10)
	status, code, _ = ts.postCall(t)
	assert.Equal(t, http.StatusServiceUnavailable, status, "past BusyBacklogMax, whatever the pace")
	assert.Equal(t, protocol.CodeBusy, code)

	// A journal that does not take the new call in time.
	j.backlog.Store(0)
	j.slowCreate.Store(true)
	start = time.Now()
	status, code, retry = ts.postCall(t)
	assert.Equal(t, http.StatusServiceUnavailable, status)
	assert.Equal(t, protocol.CodeBusy, code)
	assert.Equal(t, "2", retry)
	assert.Equal(t, live.CreateTimeout, time.Since(start), "refused after CreateTimeout of fake time")
	list, err := j.List(context.Background(), journal.Filter{})
	require.NoError(t, err)
	assert.Len(t, list, 3, "nothing recorded for the refused calls")
	assert.Equal(t, 3, ts.floor.LiveCalls(), "its slot was given back")
}

// TestRetryAfterBusy: a busy answer's Retry-After grows with the journal's backlog, from
// RetryAfterBusy up to RetryAfterFull.
func TestRetryAfterBusy(t *testing.T) {
	for _, tc := range []struct {
		wait time.Duration
		want int
	}{
		{0, 2},
		{400 * time.Millisecond, 2},
		{time.Second, 3},
		{2600 * time.Millisecond, 5},
		{27 * time.Second, 29},
		{time.Hour, 30},
	} {
		assert.Equal(t, tc.want, retryAfterBusy(tc.wait), "backlog of %v", tc.wait)
	}
}

// TestTooManyCallsSaysWhenToRetry: the live-call limit answers 503 too_many_calls with
// Retry-After: RetryAfterFull.
func TestTooManyCallsSaysWhenToRetry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ts := newMemTestServer(t, Options{MaxCalls: 1})
		ts.start(t, `{"scenario":"live"}`)
		status, code, retry := ts.postCall(t)
		assert.Equal(t, http.StatusServiceUnavailable, status)
		assert.Equal(t, protocol.CodeTooManyCalls, code)
		assert.Equal(t, "30", retry)
	})
}
