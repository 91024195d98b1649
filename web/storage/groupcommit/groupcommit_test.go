package groupcommit_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/web/storage/groupcommit"
)

// TestEachCallerGetsItsOwnOutcome: writes queued while a batch commits go together in the
// next batch, in order, and each caller gets its own write's outcome.
func TestEachCallerGetsItsOwnOutcome(t *testing.T) {
	gate, entered := make(chan struct{}), make(chan struct{}, 1)
	var mu sync.Mutex
	var batches [][]int
	q := groupcommit.Start(8, 64, func(ops []int, errs []error) {
		select {
		case entered <- struct{}{}:
		default:
		}
		<-gate
		mu.Lock()
		batches = append(batches, append([]int(nil), ops...))
		mu.Unlock()
		for i, op := range ops {
			if op%2 == 1 {
				errs[i] = fmt.Errorf("odd %d", op)
			}
		}
	})
	defer q.Close()

	first := make(chan error, 1)
	go func() { first <- q.Do(context.Background(), 0) }() // holds the writer at the gate
	<-entered
	var wg sync.WaitGroup
	got := make([]error, 6)
	for i := range 6 {
		wg.Go(func() { got[i] = q.Do(context.Background(), i+1) })
	}
	close(gate)
	wg.Wait()
	require.NoError(t, <-first)
	for i, err := range got {
		if (i+1)%2 == 1 {
			assert.EqualError(t, err, fmt.Sprintf("odd %d", i+1))
		} else {
			assert.NoError(t, err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	total := 0
	for _, b := range batches {
		total += len(b)
		assert.LessOrEqual(t, len(b), 8, "a batch holds at most maxBatch writes")
	}
	assert.Equal(t, 7, total, "every write committed once")
}

// TestAnAbandonedWriteIsNotCommitted: a caller whose context ends before the writer takes
// its write gets the context's error, and the write is never committed.
func TestAnAbandonedWriteIsNotCommitted(t *testing.T) {
	gate, entered := make(chan struct{}), make(chan struct{})
	var mu sync.Mutex
	var committed []string
	q := groupcommit.Start(8, 64, func(ops []string, errs []error) {
		if ops[0] == "hold" {
			close(entered)
			<-gate
		}
		mu.Lock()
		committed = append(committed, ops...)
		mu.Unlock()
	})
	held := make(chan error, 1)
	go func() { held <- q.Do(context.Background(), "hold") }()
	<-entered // the writer is busy: the next write waits in the queue
	ctx, cancel := context.WithCancel(context.Background())
	abandoned := make(chan error, 1)
	go func() { abandoned <- q.Do(ctx, "abandoned") }()
	cancel()
	assert.ErrorIs(t, <-abandoned, context.Canceled)
	close(gate)
	require.NoError(t, <-held)
	require.NoError(t, q.Do(context.Background(), "after"))
	q.Close()
	mu.Lock()
	defer mu.Unlock()
	assert.NotContains(t, committed, "abandoned")
	assert.Contains(t, committed, "after")
}

// TestClose: writes queued before Close are answered; writes after it get ErrClosed.
func TestClose(t *testing.T) {
	q := groupcommit.Start(1, 4, func(ops []int, errs []error) {})
	require.NoError(t, q.Do(context.Background(), 1))
	q.Close()
	q.Close() // twice is harmless
	assert.True(t, errors.Is(q.Do(context.Background(), 2), groupcommit.ErrClosed))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, q.Do(ctx, 3), context.Canceled, "an ended context is refused before anything else")
}

// TestLowLaneWaitsForNormalWrites: when writes of both lanes are waiting, a batch takes
// every normal write before any low one, and low ones fill the room that is left; Backlog
// counts the writes waiting, of both lanes, until the queue takes them.
func TestLowLaneWaitsForNormalWrites(t *testing.T) {
	synctest.Test(t, testLowLane)
}

func testLowLane(t *testing.T) {
	gate, entered := make(chan struct{}), make(chan struct{}, 1)
	var mu sync.Mutex
	var batches [][]int
	q := groupcommit.Start(4, 64, func(ops []int, errs []error) {
		select {
		case entered <- struct{}{}:
		default:
		}
		<-gate
		mu.Lock()
		batches = append(batches, append([]int(nil), ops...))
		mu.Unlock()
	})
	defer q.Close()

	first := make(chan error, 1)
	go func() { first <- q.Do(context.Background(), 0) }() // holds the writer at the gate
	<-entered
	require.Equal(t, 0, q.Backlog(), "the write being committed is not waiting")
	var wg sync.WaitGroup
	// Low writes (100+) first, then normal ones: each waits in its lane.
	for i := range 3 {
		wg.Go(func() { assert.NoError(t, q.DoLow(context.Background(), 100+i)) })
	}
	synctest.Wait() // every goroutine of the bubble is blocked
	require.Equal(t, 3, q.Backlog())
	for i := range 3 {
		wg.Go(func() { assert.NoError(t, q.Do(context.Background(), 1+i)) })
	}
	synctest.Wait() // every goroutine of the bubble is blocked
	require.Equal(t, 6, q.Backlog())
	close(gate)
	wg.Wait()
	require.NoError(t, <-first)
	assert.Equal(t, 0, q.Backlog())

	mu.Lock()
	defer mu.Unlock()
	require.Len(t, batches, 3, "%v", batches)
	assert.Equal(t, []int{0}, batches[0])
	// Batch 2: the three normal writes, in any order, then one low write (room for 4).
	require.Len(t, batches[1], 4)
	assert.ElementsMatch(t, []int{1, 2, 3}, batches[1][:3])
	assert.GreaterOrEqual(t, batches[1][3], 100)
	require.Len(t, batches[2], 2)
	for _, op := range batches[2] {
		assert.GreaterOrEqual(t, op, 100)
	}
}

// TestBacklogForgetsAbandonedSends: a caller that gives up while its lane is full is no
// longer counted.
func TestBacklogForgetsAbandonedSends(t *testing.T) {
	synctest.Test(t, testBacklogAbandoned)
}

func testBacklogAbandoned(t *testing.T) {
	gate, entered := make(chan struct{}), make(chan struct{}, 1)
	q := groupcommit.Start(1, 1, func(ops []int, errs []error) {
		select {
		case entered <- struct{}{}:
		default:
		}
		<-gate
	})
	defer q.Close()
	go func() { _ = q.Do(context.Background(), 0) }()
	<-entered
	go func() { _ = q.Do(context.Background(), 1) }() // fills the lane (length 1)
	synctest.Wait()                                   // every goroutine of the bubble is blocked
	require.Equal(t, 1, q.Backlog())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- q.Do(ctx, 2) }() // blocked sending
	synctest.Wait()                      // every goroutine of the bubble is blocked
	require.Equal(t, 2, q.Backlog())
	cancel()
	require.ErrorIs(t, <-done, context.Canceled)
	assert.Equal(t, 1, q.Backlog())
	close(gate)
	synctest.Wait()
}

// TestBacklogWait: the estimate is the backlog times the recent wall time per committed
// write, from the commits' own duration (fake clock): batches of 10 writes taking 20 ms
// make about 2 ms a write, and a writer ten times slower raises the estimate. Every batch
// is formed while the writer is held at a gate, so the batches are the same every run.
func TestBacklogWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var took atomic.Int64
		gate := make(chan struct{})
		q := groupcommit.Start(10, 200, func(ops []int, errs []error) {
			<-gate
			time.Sleep(time.Duration(took.Load()))
		})
		defer q.Close()
		assert.Zero(t, q.BacklogWait(), "nothing waits")

		// queue holds the writer at the gate with one write and queues n more behind
		// it: the batches are then 1, 10, 10, … writes.
		var wg sync.WaitGroup
		queue := func(n int) {
			wg.Go(func() { _ = q.Do(context.Background(), -1) })
			synctest.Wait()
			for i := range n {
				wg.Go(func() { _ = q.Do(context.Background(), i) })
			}
			synctest.Wait()
			require.Equal(t, n, q.Backlog())
		}
		// commit lets the n writes queued and the held one through.
		commit := func(n int) {
			for range 1 + (n+9)/10 {
				gate <- struct{}{}
			}
			wg.Wait()
			assert.Zero(t, q.Backlog())
			assert.Zero(t, q.BacklogWait(), "nothing waits")
		}

		took.Store(int64(20 * time.Millisecond))
		queue(100)
		commit(100)
		queue(50)
		wait := q.BacklogWait()
		assert.GreaterOrEqual(t, wait, 50*2*time.Millisecond, "50 writes at ~2 ms each")
		assert.Less(t, wait, 50*3*time.Millisecond, "50 writes at ~2 ms each")
		commit(50)

		took.Store(int64(200 * time.Millisecond)) // the writer slows down tenfold
		queue(100)
		commit(100)
		queue(50)
		wait = q.BacklogWait()
		assert.GreaterOrEqual(t, wait, 50*15*time.Millisecond, "the estimate follows the slower writer")
		assert.Less(t, wait, 50*25*time.Millisecond)
		commit(50)
	})
}

// TestSubmitDoesNotWait: Submit returns before the write is committed; submitted writes
// are committed in order with the others, counted in Backlog until taken, and refused
// with ErrClosed after Close.
func TestSubmitDoesNotWait(t *testing.T) {
	gate := make(chan struct{})
	var mu sync.Mutex
	var order []int
	q := groupcommit.Start(4, 16, func(ops []int, errs []error) {
		<-gate
		mu.Lock()
		order = append(order, ops...)
		mu.Unlock()
		for i := range errs {
			errs[i] = errors.New("refused") // nobody is told: Submit's callers do not wait
		}
	})
	for i := range 6 {
		require.NoError(t, q.Submit(i)) // returns with the writer held at the gate
	}
	assert.Positive(t, q.Backlog())
	done := make(chan error, 1)
	go func() { done <- q.Do(context.Background(), 6) }()
	close(gate)
	require.EqualError(t, <-done, "refused")
	q.Close()
	assert.ErrorIs(t, q.Submit(7), groupcommit.ErrClosed)
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []int{0, 1, 2, 3, 4, 5, 6}, order)
	assert.Zero(t, q.Backlog())
}

// onQueueGoroutine reports whether the caller runs on a queue's own goroutine.
func onQueueGoroutine() bool {
	buf := make([]byte, 8<<10)
	return strings.Contains(string(buf[:runtime.Stack(buf, false)]), "groupcommit.(*Queue[...]).run(")
}

// TestInlineCommitsAnIdleQueuesWriteOnItsCaller: with StartInline, a write that finds the
// queue idle is committed on its caller's goroutine, as a batch of one, and its caller
// gets its outcome; writes that arrive while it commits wait for it and go in the next
// batch, on the queue's goroutine, in order.
func TestInlineCommitsAnIdleQueuesWriteOnItsCaller(t *testing.T) {
	gate, entered := make(chan struct{}), make(chan struct{}, 1)
	type batch struct {
		ops    []int
		inline bool
	}
	var mu sync.Mutex
	var batches []batch
	q := groupcommit.StartInline(8, 64, func(ops []int, errs []error) {
		if ops[0] == 0 {
			entered <- struct{}{}
			<-gate
		}
		mu.Lock()
		batches = append(batches, batch{append([]int(nil), ops...), !onQueueGoroutine()})
		mu.Unlock()
		for i, op := range ops {
			if op%2 == 1 {
				errs[i] = fmt.Errorf("odd %d", op)
			}
		}
	})
	defer q.Close()

	first := make(chan error, 1)
	go func() { first <- q.Do(context.Background(), 0) }() // committed inline, held at the gate
	<-entered
	var wg sync.WaitGroup
	got := make([]error, 3)
	for i := range 3 {
		wg.Go(func() { got[i] = q.Do(context.Background(), i+1) })
		// In the lane, not only counted (Backlog counts a write just before its send): the
		// batch after the gate must find all three.
		require.Eventually(t, func() bool { return q.Backlog() == i+1 && groupcommit.Sent(q) == i+1 }, 5*time.Second, time.Millisecond)
	}
	close(gate)
	wg.Wait()
	require.NoError(t, <-first)
	assert.EqualError(t, got[0], "odd 1")
	assert.NoError(t, got[1])
	assert.EqualError(t, got[2], "odd 3")
	// An idle queue again: a write is committed inline. (The queue answers its batch's
	// callers before it lets go of the commit, so a write right after may still find it
	// busy and go through it: one finds it idle soon after.)
	last := 5
	for ; ; last += 2 {
		require.Less(t, last, 10_000, "no write found the queue idle again")
		assert.EqualError(t, q.Do(context.Background(), last), fmt.Sprintf("odd %d", last))
		mu.Lock()
		inline := batches[len(batches)-1].inline
		mu.Unlock()
		if inline {
			break
		}
	}

	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []batch{
		{[]int{0}, true},
		{[]int{1, 2, 3}, false},
	}, batches[:2])
	assert.Equal(t, batch{[]int{last}, true}, batches[len(batches)-1])
	for _, b := range batches[2 : len(batches)-1] {
		assert.Len(t, b.ops, 1, "one write at a time, through the queue while it was busy")
	}
}

// TestInlineCommitsNeverOverlap: many callers at once on an inline queue; the commit
// function never runs twice at once, every write is committed exactly once, and each
// caller's writes are committed in the order it made them.
func TestInlineCommitsNeverOverlap(t *testing.T) {
	var running, overlaps atomic.Int32
	seen := map[int]int{} // writes committed, by value
	last := map[int]int{} // each caller's last write committed
	var order []string    // out-of-order commits
	q := groupcommit.StartInline(16, 64, func(ops []int, errs []error) {
		if running.Add(1) > 1 {
			overlaps.Add(1)
		}
		defer running.Add(-1)
		for _, op := range ops { // no lock: the queue serialises commits
			seen[op]++
			caller, n := op/1000, op%1000
			if prev, ok := last[caller]; ok && n != prev+1 {
				order = append(order, fmt.Sprintf("caller %d: %d after %d", caller, n, prev))
			}
			last[caller] = n
		}
	})
	const callers, each = 16, 200
	var wg sync.WaitGroup
	for c := range callers {
		wg.Go(func() {
			for n := range each {
				assert.NoError(t, q.Do(context.Background(), c*1000+n))
			}
		})
	}
	wg.Wait()
	q.Close()
	assert.Zero(t, overlaps.Load())
	assert.Len(t, seen, callers*each)
	for op, n := range seen {
		assert.Equal(t, 1, n, "write %d", op)
	}
	assert.Empty(t, order)
}

// TestInlineAfterClose: Close waits for an inline commit in progress, and a write after
// Close is refused with ErrClosed without running the commit.
func TestInlineAfterClose(t *testing.T) {
	gate, entered := make(chan struct{}), make(chan struct{})
	var commits atomic.Int32
	q := groupcommit.StartInline(4, 4, func(ops []int, errs []error) {
		commits.Add(1)
		if ops[0] == 0 {
			close(entered)
			<-gate
		}
	})
	done := make(chan error, 1)
	go func() { done <- q.Do(context.Background(), 0) }()
	<-entered
	closed := make(chan struct{})
	go func() { q.Close(); close(closed) }()
	select {
	case <-closed:
		t.Fatal("Close returned while a commit was running")
	case <-time.After(50 * time.Millisecond):
	}
	close(gate)
	require.NoError(t, <-done)
	<-closed
	assert.ErrorIs(t, q.Do(context.Background(), 1), groupcommit.ErrClosed)
	assert.ErrorIs(t, q.DoLow(context.Background(), 2), groupcommit.ErrClosed)
	assert.Equal(t, int32(1), commits.Load())
}

// TestPollTakesSubmittedWritesEachPeriod: with Poll, writes submitted within one period
// go in one batch, taken at the next poll; after pollIdle periods with nothing, the queue
// waits to be woken, and a write then is still committed at once; Close ends the polling.
// On synctest's fake clock.
func TestPollTakesSubmittedWritesEachPeriod(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		type batch struct {
			ops []int
			at  time.Duration
		}
		start := time.Now()
		var mu sync.Mutex
		var batches []batch
		q := groupcommit.Start(64, 64, func(ops []int, errs []error) {
			mu.Lock()
			batches = append(batches, batch{append([]int(nil), ops...), time.Since(start)})
			mu.Unlock()
		})
		// The queue's goroutine waits to be woken before polling starts: had it looked
		// after Poll, it would have slept a first period before taking write 0, and the
		// periods below would start 2 ms later.
		synctest.Wait()
		q.Poll(2 * time.Millisecond)
		require.NoError(t, q.Do(context.Background(), 0)) // wakes it: polling from now on
		time.Sleep(500 * time.Microsecond)
		for i := 1; i <= 3; i++ {
			require.NoError(t, q.Submit(i))
			time.Sleep(100 * time.Microsecond)
		}
		synctest.Wait() // asleep until the poll
		mu.Lock()
		assert.Len(t, batches, 1, "the submitted writes wait for the next poll")
		mu.Unlock()
		time.Sleep(2 * time.Millisecond)
		synctest.Wait()

		time.Sleep(time.Second) // idle: past pollIdle periods, the queue waits to be woken
		synctest.Wait()
		idleAt := time.Since(start)
		require.NoError(t, q.Do(context.Background(), 4))
		q.Close()

		mu.Lock()
		defer mu.Unlock()
		require.Len(t, batches, 3)
		assert.Equal(t, []int{0}, batches[0].ops)
		assert.Equal(t, []int{1, 2, 3}, batches[1].ops, "one batch for a period's writes")
		assert.Equal(t, 2*time.Millisecond, batches[1].at, "taken at the poll")
		assert.Equal(t, []int{4}, batches[2].ops)
		assert.Equal(t, idleAt, batches[2].at, "woken at once after polling stopped")
	})
}

// TestBeginSplitsAnIdleQueuesCommitAroundTheCallersWork: on a queue made with StartSplit,
// Begin on an idle queue runs the commit's first half on its caller at once and the second
// when wait is called; writes submitted in between (Do, or another Begin, which then
// waits like Do) go in the next batch, after it; a refusal by the first half is wait's
// outcome; and on a busy queue Begin runs nothing until wait.
func TestBeginSplitsAnIdleQueuesCommitAroundTheCallersWork(t *testing.T) {
	var mu sync.Mutex
	var steps []string
	note := func(half string, ops []int) {
		mu.Lock()
		defer mu.Unlock()
		steps = append(steps, fmt.Sprintf("%s%v", half, ops))
	}
	taken := func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), steps...)
	}
	q := groupcommit.StartSplit(8, 64, func(ops []int, errs []error) {
		note("begin", ops)
		for i, op := range ops {
			if op < 0 {
				errs[i] = fmt.Errorf("negative %d", op)
			}
		}
	}, func(ops []int, errs []error) {
		note("end", ops)
	})
	defer q.Close()
	ctx := context.Background()

	wait := q.Begin(ctx, 1)
	assert.Equal(t, []string{"begin[1]"}, taken(), "the first half ran on Begin")
	done := make(chan error, 2)
	go func() { done <- q.Do(ctx, 2) }()
	require.Eventually(t, func() bool { return q.Backlog() == 1 && groupcommit.Sent(q) == 1 }, 5*time.Second, time.Millisecond)
	busy := q.Begin(ctx, 3) // the queue is not idle: the write is handed to it at once
	assert.Equal(t, 2, q.Backlog(), "a busy queue's Begin queues its write before wait")
	go func() { done <- busy() }()
	assert.Equal(t, []string{"begin[1]"}, taken(), "the writes in between wait for the held commit")
	require.NoError(t, wait())
	require.NoError(t, <-done)
	require.NoError(t, <-done)
	assert.Equal(t, []string{"begin[1]", "end[1]", "begin[2 3]", "end[2 3]"}, taken(),
		"the held commit ended first; the writes in between went together after it")

	// Idle again (the queue's goroutine lets go of the commit just after answering).
	var refused error
	for i := 0; ; i++ {
		require.Less(t, i, 10_000, "the queue never went idle")
		before := len(taken())
		w := q.Begin(ctx, -4)
		if len(taken()) > before {
			refused = w()
			break
		}
		assert.EqualError(t, w(), "negative -4")
	}
	assert.EqualError(t, refused, "negative -4", "the first half's refusal is wait's outcome")
	assert.Equal(t, "end[-4]", taken()[len(taken())-1])
}

// TestBeginOnABusyQueueJoinsTheNextBatchBeforeWait: a Begin that finds a commit held
// hands its write over at once, and the queue commits it as soon as the held commit ends,
// whether or not its own wait has been called yet.
func TestBeginOnABusyQueueJoinsTheNextBatchBeforeWait(t *testing.T) {
	var ended sync.Map
	q := groupcommit.StartSplit(8, 64, func([]int, []error) {}, func(ops []int, errs []error) {
		for _, op := range ops {
			ended.Store(op, true)
		}
	})
	defer q.Close()
	held := q.Begin(context.Background(), 1)
	busy := q.Begin(context.Background(), 2)
	_, ok := ended.Load(2)
	require.False(t, ok, "not before the held commit ends")
	require.NoError(t, held())
	require.Eventually(t, func() bool { _, ok := ended.Load(2); return ok }, 5*time.Second, time.Millisecond,
		"the queue committed the busy Begin's write without waiting for its wait")
	require.NoError(t, busy())
}

// TestBeginWithoutSplitIsDo: on a queue without halves, Begin's wait is Do.
func TestBeginWithoutSplitIsDo(t *testing.T) {
	var ran atomic.Int32
	q := groupcommit.StartInline(8, 64, func(ops []int, errs []error) { ran.Add(int32(len(ops))) })
	defer q.Close()
	wait := q.Begin(context.Background(), 1)
	assert.Zero(t, ran.Load(), "nothing before wait")
	require.NoError(t, wait())
	assert.EqualValues(t, 1, ran.Load())
}

// TestCloseWaitsForABegunCommit: Close returns only after the begun commit's wait, and a
// Begin after Close fails with ErrClosed.
func TestCloseWaitsForABegunCommit(t *testing.T) {
	var ended atomic.Bool
	q := groupcommit.StartSplit(8, 64, func([]int, []error) {}, func([]int, []error) { ended.Store(true) })
	wait := q.Begin(context.Background(), 1)
	closed := make(chan struct{})
	go func() { q.Close(); close(closed) }()
	for range 1000 { // give Close every chance to return early
		runtime.Gosched()
		select {
		case <-closed:
			t.Fatal("Close returned while a commit was held")
		default:
		}
	}
	require.NoError(t, wait())
	<-closed
	assert.True(t, ended.Load())
	assert.ErrorIs(t, q.Begin(context.Background(), 2)(), groupcommit.ErrClosed)
}
