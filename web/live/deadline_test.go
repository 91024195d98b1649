package live

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// closed reports whether ch is closed, without blocking.
func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func TestLazyDeadlineEndsLikeWithTimeout(t *testing.T) {
	const d = 5 * time.Second
	cases := []struct {
		name    string
		play    func(c context.Context, release func())
		wantErr error
	}{
		{"open before the deadline", func(context.Context, func()) { time.Sleep(d - time.Millisecond) }, nil},
		{"waited on, past the deadline", func(c context.Context, _ func()) { <-c.Done() }, context.DeadlineExceeded},
		{"asked only, past the deadline", func(context.Context, func()) { time.Sleep(d + time.Millisecond) }, context.DeadlineExceeded},
		{"released", func(_ context.Context, release func()) { release() }, context.Canceled},
		{"released after the deadline", func(_ context.Context, release func()) { time.Sleep(2 * d); release() }, context.DeadlineExceeded},
		{"waited on, then released", func(c context.Context, release func()) { _ = c.Done(); release() }, context.Canceled},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				for _, lazy := range []bool{true, false} {
					start := time.Now()
					var (
						c       context.Context
						release func()
					)
					if lazy {
						l := newLazyDeadline(d)
						c, release = l, l.release
					} else {
						c, release = context.WithTimeout(context.Background(), d)
					}
					dl, ok := c.Deadline()
					require.True(t, ok)
					assert.Equal(t, start.Add(d), dl)
					tc.play(c, release)
					assert.ErrorIs(t, c.Err(), tc.wantErr, "lazy %v", lazy)
					if tc.wantErr == nil {
						assert.NoError(t, c.Err(), "lazy %v", lazy)
					}
					assert.Equal(t, tc.wantErr != nil, closed(c.Done()), "Done is closed once Err is set (lazy %v)", lazy)
					release()
				}
			})
		})
	}
}

func TestLazyDeadlineStartsNoTimerUnlessWaitedOn(t *testing.T) {
	c := newLazyDeadline(time.Hour)
	require.NoError(t, c.Err())
	c.mu.Lock()
	assert.Nil(t, c.timer, "Err alone starts no timer")
	c.mu.Unlock()
	_ = c.Done()
	c.mu.Lock()
	assert.NotNil(t, c.timer, "Done starts the deadline's timer")
	c.mu.Unlock()
	c.release()
	assert.ErrorIs(t, c.Err(), context.Canceled)
}

// TestLazyDeadlinePropagatesToDerivedContexts: a context derived from it (as database/sql
// and the journal's queue may derive one) ends at its deadline.
func TestLazyDeadlinePropagatesToDerivedContexts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newLazyDeadline(time.Second)
		defer c.release()
		child, cancel := context.WithCancel(c)
		defer cancel()
		start := time.Now()
		<-child.Done()
		assert.Equal(t, time.Second, time.Since(start))
		assert.ErrorIs(t, child.Err(), context.DeadlineExceeded)
	})
}

// TestLazyDeadlineIsSafeForConcurrentUse runs Done, Err and release together (under -race).
func TestLazyDeadlineIsSafeForConcurrentUse(t *testing.T) {
	for range 100 {
		c := newLazyDeadline(time.Microsecond)
		var wg sync.WaitGroup
		for i := range 4 {
			wg.Go(func() {
				switch i % 3 {
				case 0:
					<-c.Done()
				case 1:
					for c.Err() == nil {
						time.Sleep(time.Microsecond)
					}
				default:
					time.Sleep(time.Microsecond)
					c.release()
				}
			})
		}
		wg.Wait()
		assert.True(t, closed(c.Done()))
		assert.Error(t, c.Err())
	}
}
