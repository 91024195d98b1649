// Package groupcommit is the write queue behind the journals' group commit
// (web/storage/sqlitejournal, web/storage/pgjournal): callers submit writes and wait; one
// goroutine takes every write that is waiting (up to a batch size), hands them to the
// journal's commit function in order, and only then answers each caller with its own
// outcome. A write is acknowledged after the commit that made it durable, never before;
// while one batch commits the next one queues, so the writes per commit grow with the load.
//
// A Queue is safe for concurrent use: Do may be called from any number of goroutines, and
// Close from any one of them. The commit function runs on the queue's goroutine only.
package groupcommit

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
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

	mu      sync.RWMutex // held for reading while sending to reqs; for writing to close it
	closed  bool
	reqs    chan *request[Op]
	stopped chan struct{}
}

// Start starts a queue whose batches hold at most maxBatch writes (at least 1), with room
// for queueLen waiting writes before callers block.
func Start[Op any](maxBatch, queueLen int, commit Commit[Op]) *Queue[Op] {
	q := &Queue[Op]{
		commit:   commit,
		maxBatch: max(maxBatch, 1),
		reqs:     make(chan *request[Op], queueLen),
		stopped:  make(chan struct{}),
	}
	go q.run()
	return q
}

// Do submits op and waits for the commit that makes it durable. If ctx ends before the
// queue takes the write, nothing is written and ctx's error is returned; once taken, the
// write is committed (or refused) and Do waits for that outcome, so a nil error always
// means durable and a non-nil one never hides a write.
func (q *Queue[Op]) Do(ctx context.Context, op Op) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r := &request[Op]{ctx: ctx, op: op, done: make(chan error, 1)}
	q.mu.RLock()
	if q.closed {
		q.mu.RUnlock()
		return ErrClosed
	}
	select {
	case q.reqs <- r:
	case <-ctx.Done():
		q.mu.RUnlock()
		return ctx.Err()
	}
	q.mu.RUnlock()
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

// Close stops taking writes and returns once those already queued are answered.
func (q *Queue[Op]) Close() {
	q.mu.Lock()
	if !q.closed {
		q.closed = true
		close(q.reqs)
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
	for first := range q.reqs {
		batch = append(batch[:0], first)
	fill:
		for len(batch) < q.maxBatch {
			select {
			case r, ok := <-q.reqs:
				if !ok {
					break fill
				}
				batch = append(batch, r)
			default:
				break fill
			}
		}
		// Take the writes still wanted: an abandoned one is skipped, and one taken
		// after its context ended is refused with that error.
		live := batch[:0]
		for _, r := range batch {
			if !r.state.CompareAndSwap(pending, taken) {
				continue
			}
			if err := r.ctx.Err(); err != nil {
				r.done <- err
				continue
			}
			live = append(live, r)
		}
		if len(live) > 0 {
			ops, errs = ops[:0], errs[:0]
			for _, r := range live {
				ops = append(ops, r.op)
				errs = append(errs, nil)
			}
			q.commit(ops, errs)
			for i, r := range live {
				r.done <- errs[i]
			}
			clear(ops)
		}
		clear(batch[:cap(batch)])
		batch = batch[:0]
	}
}
