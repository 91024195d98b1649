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

// op is one write: run runs inside the batch's transaction, or, for an append, app
// describes it and the writer runs it together with the appends next to it in the batch
// (appendGroup).
type op struct {
	run func(ctx context.Context, tx pgx.Tx) error
	app *appendOp
}

// writer runs the batches.
type writer struct {
	pool *pgxpool.Pool
	q    *groupcommit.Queue[op]

	observer atomic.Pointer[func(writes int, took time.Duration)]
	// serialAppends runs every append on its own (appendEntry) instead of pipelining
	// neighbouring appends: what the writer falls back to when a grouped statement fails,
	// and, set before any write, the "before" of BenchmarkGroupCommit.
	serialAppends bool
	// fallbacks counts the batches run again one append at a time after a group's
	// statement failed.
	fallbacks atomic.Int64
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
func (w *writer) do(ctx context.Context, run func(ctx context.Context, tx pgx.Tx) error) error {
	return w.q.Do(ctx, op{run: run})
}

// doAppend submits an append, like do.
func (w *writer) doAppend(ctx context.Context, a *appendOp) error { return w.q.Do(ctx, op{app: a}) }

// close stops taking requests and lets the writer finish those queued.
func (w *writer) close() { w.q.Close() }

// commit runs the batch in one transaction (the queue's Commit) and sets each write's
// outcome in errs, running the batch again without a write whose statement failed. When
// a statement of a group of appends fails, no single write is to blame: the batch runs
// again with its appends one by one, which finds it.
func (w *writer) commit(live []op, errs []error) {
	start := time.Now()
	skip := make([]bool, len(live)) // answered already (its statement failed)
	retries := 0
	serial := w.serialAppends
	for {
		failed, wrote, err := w.try(live, errs, skip, serial)
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
		case failed == groupFailed && !serial:
			serial = true
			w.fallbacks.Add(1)
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

// groupFailed is try's failed index when a statement run for a group of appends failed.
const groupFailed = -2

// try runs the requests not skipped in one transaction. It returns a nil error when
// the transaction committed (errs then holds each request's outcome: nil or the refusal of its
// checks), or the error that rolled it back and the index of the request whose statement
// failed (-1 when no single request is to blame: begin, commit, a lost connection;
// groupFailed when a group of appends' statement failed). Unless serial, consecutive
// appends run as one group (appendGroup): a few statements for all of them, in one round
// trip for the checks and one for the inserts, instead of two round trips each.
func (w *writer) try(live []op, errs []error, skip []bool, serial bool) (failed, wrote int, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), batchTimeout)
	defer cancel()
	tx, err := w.pool.Begin(ctx)
	if err != nil {
		return -1, 0, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback(ctx)
	for i := 0; i < len(live); {
		if skip[i] {
			i++
			continue
		}
		if o := live[i]; o.app == nil || serial {
			if o.app != nil {
				errs[i] = appendEntry(ctx, tx, o.app.callID, o.app.lease, o.app.entry)
			} else {
				errs[i] = o.run(ctx, tx)
			}
			if errs[i] == nil {
				wrote++
			} else if tx.Conn().PgConn().TxStatus() != 'T' {
				// A refusal by the checks leaves the transaction usable; a failed
				// statement or a broken connection does not.
				return i, 0, errs[i]
			}
			i++
			continue
		}
		end := i
		for end < len(live) && live[end].app != nil {
			end++
		}
		n, err := appendGroup(ctx, tx, live[i:end], errs[i:end], skip[i:end])
		if err != nil {
			if tx.Conn().PgConn().TxStatus() == 'T' || retryable(err) {
				return -1, 0, err // not a statement's failure: the connection, a deadlock
			}
			return groupFailed, 0, err
		}
		wrote += n
		i = end
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
