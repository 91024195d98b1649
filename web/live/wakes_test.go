package live

import (
	"fmt"
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
// socket) holds one waker; the calls that fall due meanwhile are woken by another once
// they have waited wakeSpill, and on time again once it ends.
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
			assert.Equal(t, at.Add(wakeSpill), woken[c], "woken wakeSpill late while another wake-up is blocked")
		}
		mu.Unlock()
		close(release)
		synctest.Wait()

		after := newWakeCall()
		at := time.Now().Add(10 * time.Millisecond)
		q.set(after, at)
		time.Sleep(time.Second)
		synctest.Wait()
		mu.Lock()
		assert.Equal(t, at, woken[after], "on time once the blocked wake-up has ended")
		mu.Unlock()
	})
}

// TestWakeQueueOneWakerWhileItKeepsUp: calls due at random times, whose wake-ups take
// 50 µs each (a word's write), are all woken by one waker at a time, none more than
// wakeSpill late; a burst that one waker cannot keep up with (200 calls due at once, 1 ms
// each) gets more, but only once the calls due have waited wakeSpill, and never more
// than maxWakers.
func TestWakeQueueOneWakerWhileItKeepsUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := newWakeQueue(RealClock{})
		var mu sync.Mutex
		var running, most int
		var second time.Time // when a second wake-up first ran beside another
		var late time.Duration
		due := map[*call]time.Time{}
		took := 50 * time.Microsecond
		q.wake = func(c *call) {
			mu.Lock()
			running++
			if running > most {
				most = running
			}
			if running == 2 && second.IsZero() {
				second = time.Now()
			}
			late = max(late, time.Since(due[c]))
			d := took
			mu.Unlock()
			time.Sleep(d)
			mu.Lock()
			running--
			mu.Unlock()
		}
		t0 := time.Now()
		rnd := rand.New(rand.NewPCG(3, 4))
		mu.Lock()
		for range 2000 {
			c := newWakeCall()
			due[c] = t0.Add(time.Duration(rnd.Int64N(int64(time.Second))))
			q.set(c, due[c])
		}
		mu.Unlock()
		time.Sleep(2 * time.Second)
		synctest.Wait()
		mu.Lock()
		assert.Equal(t, 1, most, "one waker keeps up")
		assert.Less(t, late, 2*time.Millisecond, "none is wakeSpill late")

		most, late, took = 0, 0, time.Millisecond
		t1 := time.Now().Add(10 * time.Millisecond)
		for range 200 {
			c := newWakeCall()
			due[c] = t1
			q.set(c, t1)
		}
		mu.Unlock()
		time.Sleep(time.Second)
		synctest.Wait()
		mu.Lock()
		defer mu.Unlock()
		assert.Equal(t, q.max, most, "a burst gets every waker")
		assert.Equal(t, t1.Add(2*time.Millisecond), second, "the second waker starts once the calls due have waited wakeSpill")
		assert.Less(t, late, 200*time.Millisecond/time.Duration(q.max-1), "the burst is shared")
		q.mu.Lock()
		assert.Zero(t, q.wakers, "the wakers ended")
		q.mu.Unlock()
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
				require.False(t, e.at.Before(h[(i-1)/wakeArity].at), "not before its parent")
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

// resetClock is the wall clock (the bubble's, in a synctest test), whose timers record a
// Reset that moves a pending timer earlier.
type resetClock struct {
	mu      sync.Mutex
	earlier int // Resets of a pending timer to an earlier time
	resets  int
	timers  int
}

type resetTimer struct {
	c       *resetClock
	t       *time.Timer
	pending bool
	at      time.Time
}

func (c *resetClock) Now() time.Time { return time.Now() }

func (c *resetClock) AfterFunc(d time.Duration, f func()) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.timers++
	rt := &resetTimer{c: c, pending: true, at: time.Now().Add(d)}
	rt.t = time.AfterFunc(d, func() {
		c.mu.Lock()
		rt.pending = false
		c.mu.Unlock()
		f()
	})
	return rt
}

func (rt *resetTimer) Reset(d time.Duration) bool {
	rt.c.mu.Lock()
	defer rt.c.mu.Unlock()
	rt.c.resets++
	at := time.Now().Add(d)
	if rt.pending && at.Before(rt.at) {
		rt.c.earlier++
	}
	rt.pending, rt.at = true, at
	return rt.t.Reset(d)
}

func (rt *resetTimer) Stop() bool {
	rt.c.mu.Lock()
	defer rt.c.mu.Unlock()
	rt.pending = false
	return rt.t.Stop()
}

// TestWakeQueueNeverMovesAPendingTimerEarlier: wake-ups set earlier than the one the
// queue's timer is armed for (a reply's first words, while other calls' words are due
// later) arm a new timer; a pending timer moved earlier would make Go's runtime scan all
// of its P's timers when it fires. The calls are still woken at their times, in order.
func TestWakeQueueNeverMovesAPendingTimerEarlier(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		clock := &resetClock{}
		q := newWakeQueue(clock)
		var mu sync.Mutex
		var at []time.Time
		q.wake = func(*call) {
			mu.Lock()
			defer mu.Unlock()
			at = append(at, time.Now())
		}
		t0 := time.Now()
		// Each call is set earlier than the last: every set moves the earliest wake-up.
		const n = 50
		for i := range n {
			q.set(newWakeCall(), t0.Add(time.Duration(n-i)*10*time.Millisecond))
		}
		time.Sleep(time.Second)
		synctest.Wait()
		// Then after the timer has fired: set again, later and earlier.
		for i := range n {
			q.set(newWakeCall(), time.Now().Add(time.Duration(1+(i*7)%n)*time.Millisecond))
		}
		time.Sleep(time.Second)
		synctest.Wait()

		mu.Lock()
		defer mu.Unlock()
		require.Len(t, at, 2*n, "every call woken")
		for i := 1; i < n; i++ {
			assert.Equal(t, t0.Add(time.Duration(i+1)*10*time.Millisecond), at[i], "woken at its time")
		}
		clock.mu.Lock()
		defer clock.mu.Unlock()
		assert.Zero(t, clock.earlier, "Resets moving a pending timer earlier (of %d Resets, %d timers)", clock.resets, clock.timers)
		assert.Positive(t, clock.resets, "a fired timer is Reset rather than made anew")
	})
}

// BenchmarkWakeHeap is the heap's work for one wake-up at a floor of n calls: the earliest
// call taken out, then put back for its next word or timer 0.1–15 s later. The calls are
// real call structs. In the "cold" cases 16 MB are swept (outside the timer) before each,
// as a loaded server's other work evicts the calls from the CPU's caches between two
// wake-ups.
func BenchmarkWakeHeap(b *testing.B) {
	junk := make([]byte, 16<<20)
	for _, n := range []int{5000, 19000} {
		for _, cold := range []bool{false, true} {
			name := fmt.Sprint(n)
			if cold {
				name += "-cold"
			}
			b.Run(name, func(b *testing.B) {
				rnd := rand.New(rand.NewPCG(5, 6))
				t0 := time.Unix(1_800_000_000, 0)
				var h wakeHeap
				for range n {
					h.push(newWakeCall(), t0.Add(time.Duration(rnd.IntN(15_000))*time.Millisecond))
				}
				for b.Loop() {
					if cold {
						b.StopTimer()
						for j := 0; j < len(junk); j += 64 {
							junk[j]++
						}
						b.StartTimer()
					}
					at := h[0].at
					c := h.remove(0)
					h.push(c, at.Add(time.Duration(100+rnd.IntN(14_900))*time.Millisecond))
				}
			})
		}
	}
}
