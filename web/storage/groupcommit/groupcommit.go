// Package groupcommit is the write queue behind the journals' group commit
// (web/storage/sqlitejournal, web/storage/pgjournal): callers submit writes and wait; one
// goroutine takes every write that is waiting (up to a batch size), hands them to the
// journal's commit function in order, and only then answers each caller with its own
// outcome. A write is acknowledged after the commit that made it durable, never before;
// while one batch commits the next one queues, so the writes per commit grow with the load.
//
// Writes come in two lanes: Do (inputs of running calls, their ends: what a trainee is
// waiting for) and DoLow (new calls). A batch takes every normal write waiting before any
// low one, so when the journal falls behind, running calls go first and new calls wait;
// Backlog and BacklogWait tell how far behind it is, for admission control (web/live).
//
// A queue started with StartInline also commits on the caller's goroutine when nothing is
// waiting: a write that finds the queue idle is committed by its own caller, as a batch of
// one, with no goroutine hand-off on its way in or out (what a lone write costs in wake-ups
// is most of its latency on a lightly loaded machine); writes that find others waiting, or
// a commit running, queue as usual and go in the next batch.
//
// A queue started with StartSplit commits in two halves, begin (the writes) and end (what
// makes them durable), and Begin lets an idle queue's caller run the first half, do its own
// work while the disk writes, and run the second when it waits for the outcome.
//
// A Queue is safe for concurrent use: Do may be called from any number of goroutines, and
// Close from any one of them. The commit function is never run twice at once: on the
// queue's goroutine only (Start), or there and on callers' goroutines, one at a time
// (StartInline).
package groupcommit

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// ErrClosed is returned by Do after Close.
var ErrClosed = errors.New("journal is closed")

// request is a write waiting for the queue's goroutine.
type request[Op any] struct {
	ctx   context.Context
	op    Op
	state atomic.Int32 // pending → taken (by the queue) or abandoned (by the caller)
	done  chan error   // buffered: the queue never blocks on it
}

const (
	pending int32 = iota
	taken
	abandoned
)

// Commit runs ops, in order, as one batch, and sets errs[i] (nil on entry) to the outcome
// of ops[i]. It returns once every write it reports as done (nil) is durable.
type Commit[Op any] func(ops []Op, errs []error)

// Queue is a group-commit write queue. Make one with Start.
type Queue[Op any] struct {
	commit   Commit[Op]
	maxBatch int
	inline   bool // StartInline: an idle queue's caller commits its own write
	// begin and end are the commit's halves (StartSplit; nil otherwise): commit runs one
	// then the other, and Begin runs them apart.
	begin, end Commit[Op]

	// commitMu is held while the commit function runs, and guards the pace's sums and
	// the inline batch's slices.
	commitMu   sync.Mutex
	inlineOps  []Op
	inlineErrs []error

	mu      sync.RWMutex // held for reading while sending to reqs or low; for writing to close them
	closed  bool
	reqs    chan *request[Op] // normal lane
	low     chan *request[Op] // low lane: taken only after every waiting normal write
	stopped chan struct{}

	// backlog counts writes submitted and not yet taken by the queue's goroutine,
	// including callers still blocked sending to a full lane.
	backlog atomic.Int64
	// sent counts the writes handed to a lane (their send done): backlog counts a write
	// before its send, so tests that need it in the lane wait for this (export_test.go).
	sent atomic.Int64
	// pace is the recent wall time per committed write, in nanoseconds (see BacklogWait);
	// tookSum and writesSum, its decaying sums, are under commitMu.
	pace               atomic.Int64
	tookSum, writesSum float64

	// poll is Poll's period in nanoseconds (0: the goroutine is woken by each write).
	poll atomic.Int64
}

// pollIdle is how many of Poll's periods the queue's goroutine goes on polling with
// nothing to take before it waits to be woken again.
const pollIdle = 50

// paceDecay is the weight the pace's sums keep at each batch: the pace reflects about the
// last ten batches, which is milliseconds when the journal keeps up and seconds when it
// falls behind.
const paceDecay = 0.9

// Start starts a queue whose batches hold at most maxBatch writes (at least 1), with room
// for queueLen waiting writes before callers block.
func Start[Op any](maxBatch, queueLen int, commit Commit[Op]) *Queue[Op] {
	return start(maxBatch, queueLen, commit, false)
}

// StartInline is Start, except that a write (Do or DoLow) that finds nothing waiting and
// no commit running is committed on its caller's goroutine, as a batch of its own. The
// commit function must then be safe to run on any goroutine, one call at a time (the
// queue serialises them, with the memory effects of each visible to the next).
func StartInline[Op any](maxBatch, queueLen int, commit Commit[Op]) *Queue[Op] {
	return start(maxBatch, queueLen, commit, true)
}

// StartSplit is StartInline with the commit function in two halves, run one after the
// other for every batch: begin, which makes the writes and sets the outcome of those it
// refuses, and end, which makes the rest durable (or fails them) and returns once every
// write it reports as done is durable. Begin can run them apart, with its caller's own
// work between: begin must leave its state for end on the journal's side (the queue runs
// no other commit between the two).
func StartSplit[Op any](maxBatch, queueLen int, begin, end Commit[Op]) *Queue[Op] {
	q := start(maxBatch, queueLen, func(ops []Op, errs []error) {
		begin(ops, errs)
		end(ops, errs)
	}, true)
	q.begin, q.end = begin, end
	return q
}

func start[Op any](maxBatch, queueLen int, commit Commit[Op], inline bool) *Queue[Op] {
	q := &Queue[Op]{
		inline:   inline,
		commit:   commit,
		maxBatch: max(maxBatch, 1),
		reqs:     make(chan *request[Op], queueLen),
		low:      make(chan *request[Op], queueLen),
		stopped:  make(chan struct{}),
	}
	go q.run()
	return q
}

// Do submits op and waits for the commit that makes it durable. If ctx ends before the
// queue takes the write, nothing is written and ctx's error is returned; once taken, the
// write is committed (or refused) and Do waits for that outcome, so a nil error always
// means durable and a non-nil one never hides a write.
func (q *Queue[Op]) Do(ctx context.Context, op Op) error { return q.do(ctx, op, false) }

// DoLow is Do in the low lane: the write joins a batch only when every normal write
// waiting at the time has joined it (room permitting). For work that can wait, such as
// starting a new call, so that it never delays the inputs of calls already running.
func (q *Queue[Op]) DoLow(ctx context.Context, op Op) error { return q.do(ctx, op, true) }

// Backlog returns how many writes, of both lanes, are waiting for the queue's goroutine
// to take them (those being committed excluded). A backlog above a batch's size means a
// write submitted now waits for more than one commit.
func (q *Queue[Op]) Backlog() int { return int(q.backlog.Load()) }

// BacklogWait estimates how long the writes waiting now will take to be committed: the
// backlog times the recent wall time per committed write (the commits' own time, from
// taking a batch to answering it, over about the last ten batches, weighted by their
// writes). Wall time, not CPU: a writer that waits for a CPU or a disk drains slower, and
// the estimate says so.
func (q *Queue[Op]) BacklogWait() time.Duration {
	return time.Duration(q.backlog.Load() * q.pace.Load())
}

// notePace adds a batch of n writes that took took to the pace. Under commitMu.
func (q *Queue[Op]) notePace(n int, took time.Duration) {
	q.tookSum = q.tookSum*paceDecay + float64(took)
	q.writesSum = q.writesSum*paceDecay + float64(n)
	q.pace.Store(int64(q.tookSum / q.writesSum))
}

// Poll makes the queue's goroutine, while writes keep coming, look for them every period
// instead of being woken by each one: a submitter then wakes no goroutine (a Submit costs a
// channel send and nothing more, where waking a parked goroutine can cost a system call
// and a CPU taken from whoever is waiting for it), the writes of a period go in one batch,
// and each waits up to one period longer for its commit. After pollIdle periods with
// nothing to take, the goroutine waits to be woken again, so an idle queue costs nothing.
// For a queue fed by Submit, whose writes no caller waits on (the SQLite journal's writer
// behind its acknowledgement log); Do's callers would wait up to a period longer. Zero
// turns polling off.
func (q *Queue[Op]) Poll(period time.Duration) { q.poll.Store(int64(period)) }

// Submit queues op in the normal lane without waiting for its commit: the caller is not
// told its outcome (the commit function sees it like any other write). It blocks only
// while the lane is full, and returns ErrClosed after Close. For writes whose durability
// is ensured elsewhere (the SQLite journal's acknowledgement log), which must still be
// applied in the order they were submitted.
func (q *Queue[Op]) Submit(op Op) error {
	r := &request[Op]{ctx: context.Background(), op: op}
	q.mu.RLock()
	defer q.mu.RUnlock()
	if q.closed {
		return ErrClosed
	}
	q.backlog.Add(1)
	q.reqs <- r
	return nil
}

func (q *Queue[Op]) do(ctx context.Context, op Op, low bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if q.inline && q.backlog.Load() == 0 && q.commitMu.TryLock() {
		return q.commitInline(op)
	}
	r, err := q.submit(ctx, op, low)
	if err != nil {
		return err
	}
	return q.await(ctx, r)
}

// submit hands op to the queue's goroutine, in the low lane if low.
func (q *Queue[Op]) submit(ctx context.Context, op Op, low bool) (*request[Op], error) {
	r := &request[Op]{ctx: ctx, op: op, done: make(chan error, 1)}
	lane := q.reqs
	if low {
		lane = q.low
	}
	q.mu.RLock()
	if q.closed {
		q.mu.RUnlock()
		return nil, ErrClosed
	}
	q.backlog.Add(1)
	select {
	case lane <- r:
		q.sent.Add(1)
	case <-ctx.Done():
		q.backlog.Add(-1)
		q.mu.RUnlock()
		return nil, ctx.Err()
	}
	q.mu.RUnlock()
	return r, nil
}

// await waits for the outcome of r, submitted with ctx: see Do.
func (q *Queue[Op]) await(ctx context.Context, r *request[Op]) error {
	select {
	case err := <-r.done:
		return err
	case <-ctx.Done():
		if r.state.CompareAndSwap(pending, abandoned) {
			return ctx.Err()
		}
		return <-r.done // taken: its outcome is on its way
	}
}

// Begin starts op's write and returns the function that waits for its outcome (Do's),
// which the caller must call once. On a queue made with StartSplit that is idle (as Do's
// inline commit finds it), the commit's first half runs now, on the caller's goroutine,
// and the second when wait is called: the caller's work in between overlaps the disk's
// (the journal can start writing back before it syncs). Until then the queue is held:
// writes submitted meanwhile wait for the next batch, and Close for wait. On a split queue
// that is busy, the write is handed to the queue's goroutine now, as Do would hand it, so
// that it joins the next batch even if that starts before wait; wait waits for it. On a
// queue without halves, wait is Do, run when it is called.
func (q *Queue[Op]) Begin(ctx context.Context, op Op) (wait func() error) {
	if q.begin == nil || ctx.Err() != nil {
		return func() error { return q.do(ctx, op, false) }
	}
	if q.backlog.Load() != 0 || !q.commitMu.TryLock() {
		r, err := q.submit(ctx, op, false)
		if err != nil {
			return func() error { return err }
		}
		return func() error { return q.await(ctx, r) }
	}
	q.mu.RLock() // Close waits for the commit
	if q.closed {
		q.mu.RUnlock()
		q.commitMu.Unlock()
		return func() error { return ErrClosed }
	}
	started := time.Now()
	q.inlineOps = append(q.inlineOps[:0], op)
	q.inlineErrs = append(q.inlineErrs[:0], nil)
	q.begin(q.inlineOps, q.inlineErrs)
	began := time.Since(started)
	return func() error {
		defer q.commitMu.Unlock()
		defer q.mu.RUnlock()
		ending := time.Now()
		q.end(q.inlineOps, q.inlineErrs)
		err := q.inlineErrs[0]
		clear(q.inlineOps)
		q.notePace(1, began+time.Since(ending)) // the commit's own time, not the caller's work
		return err
	}
}

// commitInline commits op on the caller's goroutine, as a batch of one. Under commitMu,
// which it releases.
func (q *Queue[Op]) commitInline(op Op) error {
	defer q.commitMu.Unlock()
	q.mu.RLock() // Close waits for the commit
	defer q.mu.RUnlock()
	if q.closed {
		return ErrClosed
	}
	started := time.Now()
	q.inlineOps = append(q.inlineOps[:0], op)
	q.inlineErrs = append(q.inlineErrs[:0], nil)
	q.commit(q.inlineOps, q.inlineErrs)
	err := q.inlineErrs[0]
	clear(q.inlineOps)
	q.notePace(1, time.Since(started))
	return err
}

// Close stops taking writes and returns once those already queued are answered.
func (q *Queue[Op]) Close() {
	q.mu.Lock()
	if !q.closed {
		q.closed = true
		close(q.reqs)
		close(q.low)
	}
	q.mu.Unlock()
	<-q.stopped
}

// run is the queue's goroutine.
func (q *Queue[Op]) run() {
	defer close(q.stopped)
	batch := make([]*request[Op], 0, q.maxBatch)
	ops := make([]Op, 0, q.maxBatch)
	errs := make([]error, 0, q.maxBatch)
	high, low := q.reqs, q.low // nil once closed and drained
	idle := 0                  // polls in a row that found nothing
	for high != nil || low != nil {
		// A first write: one of the normal lane if any waits, else one of the low lane;
		// when none waits, the first of either (or, polling, none until the next poll).
		batch, high = fill(batch[:0], high, 1)
		if len(batch) == 0 {
			batch, low = fill(batch, low, 1)
		}
		if len(batch) == 0 && high == nil && low == nil {
			break // closed and drained
		}
		if period := time.Duration(q.poll.Load()); len(batch) == 0 && period > 0 && idle < pollIdle {
			idle++
			time.Sleep(period)
			continue
		}
		idle = 0
		if len(batch) == 0 {
			select {
			case r, ok := <-high:
				if !ok {
					high = nil
					continue
				}
				batch = append(batch, r)
			case r, ok := <-low:
				if !ok {
					low = nil
					continue
				}
				batch = append(batch, r)
			}
		}
		// Then, once no inline commit runs (those that queued behind one go together),
		// every normal write waiting, then low ones while there is room.
		q.commitMu.Lock()
		batch, high = fill(batch, high, q.maxBatch)
		batch, low = fill(batch, low, q.maxBatch)
		q.backlog.Add(-int64(len(batch)))
		// Take the writes still wanted: an abandoned one is skipped, and one taken
		// after its context ended is refused with that error.
		live := batch[:0]
		for _, r := range batch {
			if !r.state.CompareAndSwap(pending, taken) {
				continue
			}
			if err := r.ctx.Err(); err != nil {
				r.done <- err // never for Submit's requests: their context never ends
				continue
			}
			live = append(live, r)
		}
		if len(live) > 0 {
			started := time.Now()
			ops, errs = ops[:0], errs[:0]
			for _, r := range live {
				ops = append(ops, r.op)
				errs = append(errs, nil)
			}
			q.commit(ops, errs)
			for i, r := range live {
				if r.done != nil { // nil: submitted without waiting (Submit)
					r.done <- errs[i]
				}
			}
			clear(ops)
			q.notePace(len(live), time.Since(started))
		}
		q.commitMu.Unlock()
		clear(batch[:cap(batch)])
	}
}

// fill appends the requests waiting in lane to batch, up to max, without blocking; it
// returns lane, or nil if lane is closed and drained.
func fill[Op any](batch []*request[Op], lane chan *request[Op], max int) ([]*request[Op], chan *request[Op]) {
	for len(batch) < max && lane != nil {
		select {
		case r, ok := <-lane:
			if !ok {
				return batch, nil
			}
			batch = append(batch, r)
		default:
			return batch, lane
		}
	}
	return batch, lane
}
