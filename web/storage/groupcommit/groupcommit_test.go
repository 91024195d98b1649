package groupcommit_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

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
