package pgjournal

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/switchboard-sim/switchboard/web/storage/groupcommit"
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

// op is one write: it runs inside the batch's transaction.
type op func(ctx context.Context, tx pgx.Tx) error

// writer runs the batches.
type writer struct {
	pool *pgxpool.Pool
	q    *groupcommit.Queue[op]

	observer atomic.Pointer[func(writes int, took time.Duration)]
}

func startWriter(_ context.Context, pool *pgxpool.Pool, maxBatch int) (*writer, error) {
	if maxBatch < 1 {
		return nil, fmt.Errorf("batch size %d < 1", maxBatch)
	}
	w := &writer{pool: pool}
	w.q = groupcommit.Start(maxBatch, writeQueue, w.commit)
	return w, nil
}

// do submits o and waits for the commit that makes it durable (groupcommit.Queue.Do: a
// nil error always means durable, and a non-nil one never hides a write).
func (w *writer) do(ctx context.Context, o op) error { return w.q.Do(ctx, o) }

// close stops taking requests and lets the writer finish those queued.
func (w *writer) close() { w.q.Close() }

// commit runs the batch in one transaction (the queue's Commit) and sets each write's
// outcome in errs, running the batch again without a write whose statement failed.
func (w *writer) commit(live []op, errs []error) {
	start := time.Now()
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
			return
		case failed >= 0 && !retryable(err):
			errs[failed], skip[failed] = err, true // run the others again without it
		case retryable(err) && retries < maxRetries:
			retries++
		default:
			for i := range live {
				if !skip[i] {
					errs[i] = err
				}
			}
			return
		}
	}
}

// try runs the requests not skipped in one transaction. It returns a nil error when
// the transaction committed (errs then holds each request's outcome: nil or the refusal of its
// checks), or the error that rolled it back and the index of the request whose statement
// failed (-1 when no single request is to blame: begin, commit, a lost connection).
func (w *writer) try(live []op, errs []error, skip []bool) (failed, wrote int, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), batchTimeout)
	defer cancel()
	tx, err := w.pool.Begin(ctx)
	if err != nil {
		return -1, 0, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback(ctx)
	for i, o := range live {
		if skip[i] {
			continue
		}
		errs[i] = o(ctx, tx)
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
