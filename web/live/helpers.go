package live

import (
	"iter"
	"sync"
	"time"
)

// helpers runs the work of client frames (aside) on a pool of coroutines: goroutines
// that a reader switches to and back from directly (iter.Pull), without the scheduler's
// run queue. A task goes to the most recently idle helper if there is one, else to a new
// one, which joins the pool once done. A helper idle for helperLife ends, so an idle
// floor holds none, and every idle helper ends at once when the floor stops (close).
//
// Why a pool: that work goes deep (the engine's step, JSON, the journal, websocket
// writes), and a goroutine started for each task would grow its stack from the start size
// every time, copying it at each doubling; a helper keeps the stack it grew. Why not the
// reader: see aside. Why coroutines: handing a frame to a goroutine parked on a channel
// made it runnable, woke an idle thread to look for it (a system call, on the reply's
// path) and parked the reader through the scheduler; a coroutine switch does none of it,
// and the task runs on the reader's thread, where the frame just read is still in the
// caches (docs/performance.md). (A call's wake-ups run on the wake-up queue's few
// goroutines: see wakeQueue.)
//
// A helpers is safe for concurrent use.
type helpers struct {
	mu     sync.Mutex
	idle   []*helper   // idle helpers, the longest idle first
	sweep  *time.Timer // ends helpers idle for helperLife; armed while idle is not empty
	closed bool
}

// helper is one coroutine of the pool. task is set by aside before it switches to the
// helper and cleared after it switches back, so a helper runs one task at a time.
type helper struct {
	task   func()
	next   func() (struct{}, bool)
	stop   func()
	idleAt time.Time
}

// helperLife is how long a helper stays idle in the pool before it ends.
const helperLife = 10 * time.Second

func newHelpers() *helpers { return &helpers{} }

func newHelper() *helper {
	h := &helper{}
	h.next, h.stop = iter.Pull(func(yield func(struct{}) bool) {
		for {
			h.task()
			if !yield(struct{}{}) {
				return // stop: the helper ends
			}
		}
	})
	return h
}

// aside runs f on a helper and returns once f has; f's panic, if any, goes on in the
// caller (and that helper is gone).
//
// A connection's reader lives as long as the connection, parked in its socket read, and
// a goroutine keeps the largest stack it has needed until the runtime halves it at a
// garbage collection (one halving per cycle, and only while it uses under a quarter). Run
// on the reader, the engine's step and the writes an input causes kept ~13 KiB of stack
// per live call at 15,000 calls; run aside, the reader's stack stays at the depth of its
// read. The reader waits, so a connection's frames are still handled one at a time and in
// order.
func (hs *helpers) aside(f func()) {
	h := hs.take()
	h.task = f
	h.next()
	h.task = nil
	hs.put(h)
}

// take returns an idle helper, the most recently used (its stack and data are the
// likeliest to be in the caches), or a new one.
func (hs *helpers) take() *helper {
	hs.mu.Lock()
	if n := len(hs.idle); n > 0 {
		h := hs.idle[n-1]
		hs.idle[n-1] = nil
		hs.idle = hs.idle[:n-1]
		hs.mu.Unlock()
		return h
	}
	hs.mu.Unlock()
	return newHelper()
}

// put returns h to the pool, or ends it once the pool is closed.
func (hs *helpers) put(h *helper) {
	hs.mu.Lock()
	if hs.closed {
		hs.mu.Unlock()
		h.stop()
		return
	}
	h.idleAt = time.Now()
	hs.idle = append(hs.idle, h)
	if hs.sweep == nil {
		hs.sweep = time.AfterFunc(helperLife, hs.sweepIdle)
	}
	hs.mu.Unlock()
}

// sweepIdle ends the helpers idle for helperLife, and comes back when the next one will
// have been.
func (hs *helpers) sweepIdle() {
	now := time.Now()
	hs.mu.Lock()
	n := 0
	for n < len(hs.idle) && now.Sub(hs.idle[n].idleAt) >= helperLife {
		n++
	}
	old := make([]*helper, n)
	copy(old, hs.idle[:n])
	rest := copy(hs.idle, hs.idle[n:])
	clear(hs.idle[rest:])
	hs.idle = hs.idle[:rest]
	if len(hs.idle) > 0 && !hs.closed {
		hs.sweep.Reset(helperLife - now.Sub(hs.idle[0].idleAt))
	} else {
		hs.sweep = nil
	}
	hs.mu.Unlock()
	for _, h := range old {
		h.stop()
	}
}

// close ends every idle helper, and the others as they finish their task; aside still
// works after it, with a helper of its own each time.
func (hs *helpers) close() {
	hs.mu.Lock()
	hs.closed = true
	idle := hs.idle
	hs.idle = nil
	if hs.sweep != nil {
		hs.sweep.Stop()
		hs.sweep = nil
	}
	hs.mu.Unlock()
	for _, h := range idle {
		h.stop()
	}
}
