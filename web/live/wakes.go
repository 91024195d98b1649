package live

import (
	"runtime"
	"sync"
	"time"
)

// wakeQueue runs the calls' wake-ups (call.wake: words due, the session's timers, an idle
// call to hang up or let go): one heap of calls by wake time, one clock timer armed for the
// earliest, and goroutines (wakers) settling the calls that are due, in the order they fell
// due: one, and more, up to maxWakers, only while the calls due wait wakeSpill or longer.
//
// Why not a timer per call, each firing on a goroutine of its own as time.AfterFunc does:
// at 19,000 calls that made ~18,000 goroutines a second, 1,100 of them waiting for a CPU at
// any moment, and the journal's writer — which every input and new call waits for —
// queued behind them in Go's run queues (docs/performance.md, "Why 19,000 calls vary").
// With a few wakers, the words that are late wait in this heap, in due order, instead of
// in the scheduler's queues ahead of the writer.
//
// Why one waker while it keeps up: with a waker started for every other call due, a
// goroutine was runnable on average at 10,000 calls; with one, the median turn was 5–8%
// shorter with cheese-shop at 5,000–10,000 calls and 21% with slow-clerk at 10,000
// (docs/performance.md, "One waker while it keeps up", which also says what the
// measurements leave open: why).
//
// A waker settles a call as its timer did (call.post: the step's writes run on the same
// goroutine once the call's lock is released), so a wake-up that blocks holds a waker:
// one that journals a timer's event waits for the commit (at most storageTimeout), a
// write to a client whose socket is full waits for it (at most writeWait, then the
// connection fails). Meanwhile the calls due wait wakeSpill, then another waker starts;
// maxWakers of those at once delay every call's wake-ups until one ends. Safe for
// concurrent use.
type wakeQueue struct {
	clock Clock
	max   int
	wake  func(*call) // (*call).wakeUp; tests record instead

	mu     sync.Mutex
	h      wakeHeap
	timer  Timer     // fires wake at armed; nil until first needed
	armed  time.Time // when the timer fires; zero when it is not armed
	wakers int       // goroutines running due wake-ups
}

// maxWakers bounds the goroutines settling due calls: twice the CPUs the Go scheduler
// uses, at least 4.
func maxWakers() int { return max(4, 2*runtime.GOMAXPROCS(0)) }

// wakeSpill is how long the earliest call due may wait while wakers run before another
// starts beside them: they are blocked, or more is due than one keeps up with. A word
// is then up to this much late, against the few hundred milliseconds between two.
const wakeSpill = 2 * time.Millisecond

func newWakeQueue(clock Clock) *wakeQueue {
	return &wakeQueue{clock: clock, max: maxWakers(), wake: (*call).wakeUp}
}

// wakeHeap orders calls by wake time, a heap whose entries hold the time beside the call:
// ordering it reads only its own array, not the calls (at 19,000 calls, each comparison
// through two call pointers was a cache miss or two). Each call knows its index
// (call.wakeIdx), which a move updates: that write is the heap's one touch of a call, a
// cache miss at that size, once for each level an entry moves. So the heap is four-ary
// (wakeArity): a removal goes down ~7 levels at 19,000 calls, not ~14, and a moving entry
// is held aside and written once where it stops, not swapped at every level. Its
// operations are those of container/heap, without the interface calls.
type wakeHeap []wakeEntry

// wakeArity is the heap's fan-out: the children of entry i are wakeArity*i+1 onwards.
const wakeArity = 4

// wakeEntry is one call in the heap and when it wakes.
type wakeEntry struct {
	at time.Time
	c  *call
}

// put places e at index i.
func (h wakeHeap) put(i int, e wakeEntry) {
	h[i] = e
	e.c.wakeIdx = i
}

// up moves the entry at j towards the root while it wakes before its parent.
func (h wakeHeap) up(j int) {
	e := h[j]
	i0 := j
	for j > 0 {
		parent := (j - 1) / wakeArity
		if !e.at.Before(h[parent].at) {
			break
		}
		h.put(j, h[parent])
		j = parent
	}
	if j != i0 {
		h.put(j, e)
	}
}

// down moves the entry at i0 away from the root, within the first n entries, while a
// child wakes before it; it reports whether the entry moved.
func (h wakeHeap) down(i0, n int) bool {
	e := h[i0]
	i := i0
	for {
		first := wakeArity*i + 1
		if first >= n || first < 0 { // first < 0 after int overflow
			break
		}
		j := first // the earliest child
		for k := first + 1; k < first+wakeArity && k < n; k++ {
			if h[k].at.Before(h[j].at) {
				j = k
			}
		}
		if !h[j].at.Before(e.at) {
			break
		}
		h.put(i, h[j])
		i = j
	}
	if i != i0 {
		h.put(i, e)
	}
	return i > i0
}

// push adds c, waking at at.
func (h *wakeHeap) push(c *call, at time.Time) {
	c.wakeIdx = len(*h)
	*h = append(*h, wakeEntry{at: at, c: c})
	h.up(len(*h) - 1)
}

// fix moves c's entry (at index i) to wake at at instead.
func (h wakeHeap) fix(i int, at time.Time) {
	h[i].at = at
	if !h.down(i, len(h)) {
		h.up(i)
	}
}

// remove takes out the entry at index i.
func (h *wakeHeap) remove(i int) *call {
	old := *h
	n := len(old) - 1
	c := old[i].c
	if n != i {
		old.put(i, old[n]) // the last entry fills the gap, then finds its place
		if !old.down(i, n) {
			old[:n].up(i)
		}
	}
	old[n] = wakeEntry{}
	*h = old[:n]
	c.wakeIdx = -1
	return c
}

// set makes c wake at at, replacing its previous wake time; a zero at means never.
func (q *wakeQueue) set(c *call, at time.Time) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if at.IsZero() {
		if c.wakeIdx >= 0 {
			q.h.remove(c.wakeIdx)
		}
		return
	}
	if c.wakeIdx >= 0 {
		q.h.fix(c.wakeIdx, at)
	} else {
		q.h.push(c, at)
	}
	q.armLocked()
}

// armLocked arms the timer for when another waker may be wanted (wantLocked): the
// earliest wake-up when no waker runs, wakeSpill after it while some do (they may be
// blocked in a wake-up: the timer then starts another); not while maxWakers run (the
// first to end arms it) or when it is armed early enough already. Under q.mu.
func (q *wakeQueue) armLocked() {
	if len(q.h) == 0 || q.wakers >= q.max {
		return
	}
	first := q.h[0].at
	if q.wakers > 0 {
		first = first.Add(wakeSpill)
	}
	if !q.armed.IsZero() && !first.Before(q.armed) {
		return
	}
	d := max(first.Sub(q.clock.Now()), 0)
	switch {
	case q.timer == nil:
		q.timer = q.clock.AfterFunc(d, q.fire)
	case !q.armed.IsZero():
		// Armed for later: a new timer, not a Reset. Go's runtime keeps each P's timers
		// in a heap, and a pending timer moved earlier makes it scan that whole heap (every
		// connection's deadlines and pings) when the new time comes (runtime
		// timers.adjust): at 10,000 calls, 4% of the server's CPU, in the scheduler,
		// ahead of whatever waits to run. A stopped timer leaves the heap when its time
		// comes, with no scan (docs/performance.md, "Wake-ups without the runtime's timer
		// scans").
		q.timer.Stop()
		q.timer = q.clock.AfterFunc(d, q.fire)
	default:
		q.timer.Reset(d) // fired: Reset adds it back, as a new timer would be
	}
	q.armed = first
}

// wantLocked reports whether another waker should start at now: a call is due, fewer
// than maxWakers run, and either none runs or the earliest call due has waited wakeSpill.
// Under q.mu.
func (q *wakeQueue) wantLocked(now time.Time) bool {
	if len(q.h) == 0 || q.wakers >= q.max {
		return false
	}
	late := now.Sub(q.h[0].at)
	return late >= 0 && (q.wakers == 0 || late >= wakeSpill)
}

// fire is the timer's function: its goroutine becomes a waker if one is wanted;
// otherwise it arms the timer again.
func (q *wakeQueue) fire() {
	q.mu.Lock()
	q.armed = time.Time{}
	if !q.wantLocked(q.clock.Now()) {
		q.armLocked()
		q.mu.Unlock()
		return
	}
	q.wakers++
	q.mu.Unlock()
	q.run()
}

// run is a waker: it settles due calls, earliest first, starting another waker when the
// earliest still due has waited wakeSpill (wantLocked), and ends when none is due.
func (q *wakeQueue) run() {
	for {
		q.mu.Lock()
		now := q.clock.Now()
		if len(q.h) == 0 || q.h[0].at.After(now) {
			q.wakers--
			q.armLocked()
			q.mu.Unlock()
			return
		}
		c := q.h.remove(0)
		if q.wantLocked(now) {
			q.wakers++
			go q.run()
		}
		q.armLocked() // for the next one, in case this wake-up blocks
		q.mu.Unlock()
		q.wake(c)
	}
}
