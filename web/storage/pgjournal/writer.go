package pgjournal

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Group commit, as in web/storage/sqlitejournal. Every write is a request to one writer goroutine,
// which takes every request that is waiting (up to MaxBatch), runs them in order inside one
// transaction, and only then answers each of them: a write is acknowledged after the commit
// that made it durable, never before. While one batch commits, the next one queues, so the
// number of writes per commit (per WAL flush) grows with the load.
//
// Each request's checks see the requests before it in the same batch. A request refused by
// its checks (ErrSeqGap, ErrDuplicate, …) ran no failing statement and wrote nothing. A
// request whose statement fails aborts PostgreSQL's transaction: the writer rolls back,
// gives that request its error, and runs the batch again without it, so one bad write never
// fails its neighbours. A deadlock or serialization failure (two instances writing the same
// calls) reruns the whole batch, up to maxRetries times. If the commit itself fails, every
// request of the batch gets that error.

// MaxBatch is the largest number of writes committed in one transaction.
const MaxBatch = 512

// writeQueue is the number of writes that may wait for the writer before callers block.
const writeQueue = 4096

// batchTimeout bounds one batch's transaction, so that a server that stops answering
// fails the writes instead of hanging them.
const batchTimeout = 30 * time.Second

// maxRetries bounds the reruns of a batch after deadlocks or serialization failures.
const maxRetries = 3

// errClosed is returned by writes after Close.
var errClosed = errors.New("journal is closed")

// op is one write: it runs inside the batch's transaction.
type op func(ctx context.Context, tx pgx.Tx) error

// request is a write waiting for the writer.
type request struct {
	ctx   context.Context
	op    op
	state atomic.Int32 // reqPending → reqTaken (by the writer) or reqAbandoned (by the caller)
	done  chan error   // buffered: the writer never blocks on it
}

const (
	reqPending int32 = iota
	reqTaken
	reqAbandoned
)

// writer runs the batches.
type writer struct {
	pool     *pgxpool.Pool
	maxBatch int

	mu      sync.RWMutex // held for reading while sending to reqs; for writing to close it
	closed  bool
	reqs    chan *request
	stopped chan struct{}

	observer atomic.Pointer[func(writes int, took time.Duration)]
}

func startWriter(_ context.Context, pool *pgxpool.Pool, maxBatch int) (*writer, error) {
	if maxBatch < 1 {
		return nil, fmt.Errorf("batch size %d < 1", maxBatch)
	}
	w := &writer{
		pool:     pool,
		maxBatch: maxBatch,
		reqs:     make(chan *request, writeQueue),
		stopped:  make(chan struct{}),
	}
	go w.run()
	return w, nil
}

// do submits o and waits for the commit that makes it durable. If ctx ends before the
// writer takes the request, nothing is written and ctx's error is returned; once taken, the
// request is committed (or refused) and do waits for that outcome, so a nil error always
// means durable and a non-nil one never hides a write.
func (w *writer) do(ctx context.Context, o op) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r := &request{ctx: ctx, op: o, done: make(chan error, 1)}
	w.mu.RLock()
	if w.closed {
		w.mu.RUnlock()
		return errClosed
	}
	select {
	case w.reqs <- r:
	case <-ctx.Done():
		w.mu.RUnlock()
		return ctx.Err()
	}
	w.mu.RUnlock()
	select {
	case err := <-r.done:
		return err
	case <-ctx.Done():
		if r.state.CompareAndSwap(reqPending, reqAbandoned) {
			return ctx.Err()
		}
		return <-r.done // taken: its outcome is on its way
	}
}

// close stops taking requests and lets the writer finish those queued.
func (w *writer) close() {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		close(w.reqs)
	}
	w.mu.Unlock()
	<-w.stopped
}

// run is the writer goroutine.
func (w *writer) run() {
	defer close(w.stopped)
	batch := make([]*request, 0, w.maxBatch)
	for first := range w.reqs {
		batch = append(batch[:0], first)
	fill:
		for len(batch) < w.maxBatch {
			select {
			case r, ok := <-w.reqs:
				if !ok {
					break fill
				}
				batch = append(batch, r)
			default:
				break fill
			}
		}
		w.commit(batch)
		clear(batch)
	}
}

// commit takes the batch's requests, runs them in one transaction and answers each.
func (w *writer) commit(batch []*request) {
	start := time.Now()
	live := batch[:0:0]
	for _, r := range batch {
		if !r.state.CompareAndSwap(reqPending, reqTaken) {
			continue // abandoned by its caller
		}
		if err := r.ctx.Err(); err != nil {
			r.done <- err
			continue
		}
		live = append(live, r)
	}
	if len(live) == 0 {
		return
	}
	errs := make([]error, len(live))
	skip := make([]bool, len(live)) // answered already (its statement failed)
	retries := 0
	for {
		failed, wrote, err := w.try(live, errs, skip)
		switch {
		case err == nil:
			if wrote > 0 {
				if o := w.observer.Load(); o != nil {
					(*o)(len(live), time.Since(start))
				}
			}
			for i, r := range live {
				r.done <- errs[i]
			}
			return
		case failed >= 0 && !retryable(err):
			errs[failed], skip[failed] = err, true // run the others again without it
		case retryable(err) && retries < maxRetries:
			retries++
		default:
			for i, r := range live {
				if !skip[i] {
					errs[i] = err
				}
				r.done <- errs[i]
			}
			return
		}
	}
}

// try runs the requests not skipped in one transaction. It returns a nil error when
// the transaction committed (errs then holds each request's outcome: nil or the refusal of its
// checks), or the error that rolled it back and the index of the request whose statement
// failed (-1 when no single request is to blame: begin, commit, a lost connection).
func (w *writer) try(live []*request, errs []error, skip []bool) (failed, wrote int, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), batchTimeout)
	defer cancel()
	tx, err := w.pool.Begin(ctx)
	if err != nil {
		return -1, 0, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback(ctx)
	for i, r := range live {
		if skip[i] {
			continue
		}
		errs[i] = r.op(ctx, tx)
		if errs[i] == nil {
			wrote++
			continue
		}
		// A refusal by the checks leaves the transaction usable; a failed statement or a
		// broken connection does not.
		if tx.Conn().PgConn().TxStatus() != 'T' {
			return i, 0, errs[i]
		}
	}
	if wrote == 0 { // nothing written: no need to commit
		return -1, 0, nil
	}
	if err := tx.Commit(ctx); err != nil {
		return -1, 0, fmt.Errorf("commit: %w", err)
	}
	return -1, wrote, nil
}

// retryable reports whether err is a deadlock or serialization failure, after which the
// same transaction may succeed.
func retryable(err error) bool {
	switch pgCode(err) {
	case "40001", "40P01":
		return true
	}
	return false
}
