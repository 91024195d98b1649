package live

import (
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recordingWakes is a wake-up queue whose wake-ups are recorded (the call, the fake time).
func recordingWakes() (*wakeQueue, func() ([]*call, []time.Time)) {
	q := newWakeQueue(RealClock{})
	var mu sync.Mutex
	var calls []*call
	var at []time.Time
	q.wake = func(c *call) {
		mu.Lock()
		defer mu.Unlock()
		calls, at = append(calls, c), append(at, time.Now())
	}
	return q, func() ([]*call, []time.Time) {
		mu.Lock()
		defer mu.Unlock()
		return append([]*call(nil), calls...), append([]time.Time(nil), at...)
	}
}

func newWakeCall() *call { return &call{wakeIdx: -1} }

// TestWakeQueueWakesEachCallAtItsTime: calls set at random times are woken exactly then
// (fake clock), in time order, once each; a later set replaces an earlier one, a zero time
// removes the call, and a call set again from its own wake-up (as settle does) wakes again.
func TestWakeQueueWakesEachCallAtItsTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q, woken := recordingWakes()
		t0 := time.Now()
		rnd := rand.New(rand.NewPCG(1, 2))
		want := map[*call]time.Time{}
		for range 200 {
			c := newWakeCall()
			at := t0.Add(time.Duration(rnd.Int64N(int64(time.Second))))
			q.set(c, at)
			want[c] = at
		}
		moved, removed := newWakeCall(), newWakeCall()
		q.set(moved, t0.Add(100*time.Millisecond))
		q.set(moved, t0.Add(1500*time.Millisecond))
		want[moved] = t0.Add(1500 * time.Millisecond)
		q.set(removed, t0.Add(200*time.Millisecond))
		q.set(removed, time.Time{})

		time.Sleep(2 * time.Second)
		synctest.Wait()
		calls, at := woken()
		require.Len(t, calls, len(want))
		for i, c := range calls {
			assert.Equal(t, want[c], at[i], "woken at its time")
			if i > 0 {
				assert.False(t, at[i].Before(at[i-1]), "in time order")
			}
		}
		assert.False(t, slices.Contains(calls, removed), "the removed call is not woken") // by identity: the calls are alike

		// Set again from its own wake-up.
		again := newWakeCall()
		var n atomic.Int64
		q.wake = func(c *call) {
			if n.Add(1) < 3 {
				q.set(c, time.Now().Add(10*time.Millisecond))
			}
		}
		q.set(again, time.Now())
		time.Sleep(time.Second)
		synctest.Wait()
		assert.Equal(t, int64(3), n.Load())
		assert.Empty(t, q.h)
	})
}

// TestWakeQueueBoundsItsGoroutines: however many calls fall due at once, at most maxWakers
// wake-ups run at the same time (the others wait in the queue, in due order), and every
// one runs once the blocked ones end.
func TestWakeQueueBoundsItsGoroutines(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := newWakeQueue(RealClock{})
		release := make(chan struct{})
		var running, most, done atomic.Int64
		q.wake = func(*call) {
			r := running.Add(1)
			for m := most.Load(); r > m && !most.CompareAndSwap(m, r); m = most.Load() {
			}
			<-release
			running.Add(-1)
			done.Add(1)
		}
		const n = 1000
		at := time.Now().Add(time.Millisecond)
		for range n {
			q.set(newWakeCall(), at)
		}
		time.Sleep(10 * time.Millisecond)
		synctest.Wait()
		assert.Equal(t, int64(q.max), running.Load(), "as many as allowed run")
		close(release)
		synctest.Wait()
		assert.Equal(t, int64(n), done.Load())
		assert.Equal(t, int64(q.max), most.Load(), "never more than maxWakers")
		q.mu.Lock()
		assert.Zero(t, q.wakers, "the wakers ended")
		q.mu.Unlock()
	})
}

// TestWakeQueueBlockedWakeUpDelaysNoOther: a wake-up that blocks (a journal commit, a full
// socket) holds one waker, and the calls that fall due meanwhile are woken on time by the
// others.
func TestWakeQueueBlockedWakeUpDelaysNoOther(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := newWakeQueue(RealClock{})
		stuck := newWakeCall()
		release := make(chan struct{})
		var mu sync.Mutex
		woken := map[*call]time.Time{}
		q.wake = func(c *call) {
			if c == stuck {
				<-release
				return
			}
			mu.Lock()
			woken[c] = time.Now()
			mu.Unlock()
		}
		t0 := time.Now()
		q.set(stuck, t0.Add(10*time.Millisecond))
		later := map[*call]time.Time{}
		for i := range 50 {
			c := newWakeCall()
			later[c] = t0.Add(time.Duration(20+10*i) * time.Millisecond)
			q.set(c, later[c])
		}
		time.Sleep(time.Second)
		synctest.Wait()
		mu.Lock()
		for c, at := range later {
			assert.Equal(t, at, woken[c], "woken on time while another wake-up is blocked")
		}
		mu.Unlock()
		close(release)
		synctest.Wait()
	})
}

// TestWakeHeapKeepsOrderAndIndexes: random pushes, moves and removals keep the heap
// ordered by wake time and every call's index pointing at its own entry; taking the root
// until empty gives the calls in time order.
func TestWakeHeapKeepsOrderAndIndexes(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 4))
	t0 := time.Unix(1_800_000_000, 0)
	var h wakeHeap
	in := map[*call]time.Time{}
	check := func() {
		t.Helper()
		require.Len(t, h, len(in))
		for i, e := range h {
			require.Equal(t, i, e.c.wakeIdx, "the call's index")
			require.Equal(t, in[e.c], e.at)
			if i > 0 {
				require.False(t, e.at.Before(h[(i-1)/2].at), "not before its parent")
			}
		}
	}
	var calls []*call
	for step := range 3000 {
		at := t0.Add(time.Duration(rnd.IntN(1000)) * time.Millisecond)
		switch op := rnd.IntN(4); {
		case op < 2 || len(calls) == 0:
			c := newWakeCall()
			h.push(c, at)
			in[c] = at
			calls = append(calls, c)
		case op == 2:
			c := calls[rnd.IntN(len(calls))]
			h.fix(c.wakeIdx, at)
			in[c] = at
		default:
			k := rnd.IntN(len(calls))
			c := calls[k]
			require.Same(t, c, h.remove(c.wakeIdx))
			assert.Equal(t, -1, c.wakeIdx)
			delete(in, c)
			calls = append(calls[:k], calls[k+1:]...)
		}
		if step%97 == 0 {
			check()
		}
	}
	check()
	var last time.Time
	for len(h) > 0 {
		at := h[0].at
		c := h.remove(0)
		require.Equal(t, in[c], at)
		require.False(t, at.Before(last), "in time order")
		last = at
	}
}
