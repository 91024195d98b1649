package live

import (
	"sync"
	"time"
)

// helpers is an elastic pool of goroutines that do the work of client frames (aside): a
// task goes to an idle helper if there is one, else to a new goroutine, which stays as a
// helper once done. A helper ends at its first idle moment after helperLife, so an idle
// floor holds none, and every helper ends at its next idle moment once the floor stops
// (stop).
//
// Why a pool: that work goes deep (the engine's step, JSON, the journal, websocket
// writes), and a goroutine started for each task would grow its stack from the start size
// every time, copying it at each doubling; a helper keeps the stack it grew. Why not the
// reader: see aside. (A call's wake-ups run on the wake-up queue's few goroutines: see wakeQueue.)
type helpers struct {
	work chan func()   // unbuffered: a send succeeds only when a helper waits
	stop chan struct{} // closed by Floor.Shutdown
	once sync.Once
}

// helperLife is how long a helper lives, at most, before it ends at its next idle moment.
const helperLife = 10 * time.Second

func newHelpers() *helpers { return &helpers{work: make(chan func()), stop: make(chan struct{})} }

// close makes every helper end at its next idle moment; run still works after it.
func (h *helpers) close() { h.once.Do(func() { close(h.stop) }) }

// run has f run by a helper.
func (h *helpers) run(f func()) {
	select {
	case h.work <- f:
	default:
		go h.helper(f)
	}
}

func (h *helpers) helper(f func()) {
	life := time.NewTimer(helperLife)
	defer life.Stop()
	for {
		f()
		select {
		case f = <-h.work:
		case <-life.C:
			return
		case <-h.stop:
			return
		}
	}
}

// aside runs f on a helper and waits for it.
//
// A connection's reader lives as long as the connection, parked in its socket read, and
// a goroutine keeps the largest stack it has needed until the runtime halves it at a
// garbage collection (one halving per cycle, and only while it uses under a quarter). Run
// on the reader, the engine's step and the writes an input causes kept ~13 KiB of stack
// per live call at 15,000 calls; run aside, the reader's stack stays at the depth of its
// read. The reader waits, so a connection's frames are still handled one at a time and in
// order.
func (h *helpers) aside(f func()) {
	done := make(chan struct{})
	h.run(func() {
		defer close(done)
		f()
	})
	<-done
}
