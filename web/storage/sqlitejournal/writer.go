package sqlitejournal

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	sqlite3 "modernc.org/sqlite/lib"

	"github.com/switchboard-sim/switchboard/web/storage/groupcommit"
)

// Group commit. Every write (Create, Append, Finish, the outbox's) is a request to one
// writer goroutine, which owns the write connection. The writer takes every request that
// is waiting (up to MaxBatch), runs them in order inside one transaction (BEGIN IMMEDIATE …
// COMMIT, one fsync), and only then answers each of them: a write is acknowledged after the
// commit that made it durable, never before. While one batch commits, the next one queues,
// so the number of events per fsync grows with the load instead of the callers queueing
// behind each other.
//
// Each request's checks see the requests before it in the same batch (a call's second
// Append in a batch sees its first). A request that fails (ErrSeqGap, ErrDuplicate, …)
// wrote nothing, because every write operation here makes at most one change with one
// statement, which SQLite applies atomically; its error is returned after the commit like
// the others'. If the commit itself fails, every request of the batch gets that error.
//
// Statements are prepared once on the write connection and reused.
//
// The writer remembers, for the open calls it has written to, what Append checks before
// it inserts (calls below): an Append that the memory says is the call's next entry is
// one INSERT instead of a SELECT and an INSERT. It also remembers which scenario sources
// are stored, so that a new call of a known scenario does not pass its ~20 KB again. The
// memory is only a shortcut: the INSERT still runs every constraint (the trigger refuses
// a gap, the unique index a duplicate), anything the memory does not vouch for takes the
// full checks, and the memory is dropped whenever it could be stale: a failed commit, a
// rolled-back batch, or a commit by another connection to the file (PRAGMA data_version,
// read at each BEGIN).

// MaxBatch is the largest number of writes committed in one transaction.
const MaxBatch = 1024

// writeQueue is the number of writes that may wait for the writer before callers block.
const writeQueue = 4096

// op is one write: it runs on the writer's connection inside the batch's transaction.
type op func(w *writer) error

// CommitObserver is told about each committed batch: how many writes it held (including
// those refused by their checks) and how long BEGIN … COMMIT took. (An alias, so that the
// SQLite and PostgreSQL journals have the same SetCommitObserver method.)
type CommitObserver = func(writes int, took time.Duration)

// maxRemembered bounds the writer's memory of open calls (about 100 bytes each): past
// it the memory starts again from empty, and calls are re-read on their next Append.
const maxRemembered = 1 << 16

// openCall is what the writer remembers of an open call: its number and last seq.
type openCall struct {
	n, last int64
}

// writer owns the write connection and its prepared statements.
type writer struct {
	conn  *sql.Conn
	stmts map[string]*sql.Stmt
	// calls remembers open calls by id, only on the writer goroutine; dataVersion is the
	// file's PRAGMA data_version when calls was last known to be true.
	calls       map[string]openCall
	dataVersion int64
	// storedSources holds the keys of sources rows known to be in the file (Create
	// skips their INSERT); forgotten with calls.
	storedSources map[string]struct{}
	q             *groupcommit.Queue[op]
	// committed gets a value (if it has room) after each commit, for the checkpointer.
	committed chan struct{}

	observer atomic.Pointer[CommitObserver]

	// The acknowledgement log's records applied (acklog.go): batchLSN is the last record
	// applied in the transaction being built (writer goroutine only); applied, the last
	// one committed, is published under appliedMu, and appliedCh is closed and replaced
	// each time it moves. broken holds the error of a commit that failed with records of
	// the log in it: they stay in the log for the next start, and nothing is applied or
	// acknowledged after it.
	logged    bool // the acknowledgement log is on: set before the first batch
	batchLSN  uint64
	appliedMu sync.Mutex
	applied   uint64
	appliedCh chan struct{}
	broken    atomic.Pointer[error]
	closing   atomic.Bool // close has begun: begin stops retrying

	// Healing a stopped writer (heal): base is the journal's path, where the log's
	// segments are (set with logged); healEvery the pause between two attempts; healAt,
	// on the writer goroutine, the time of the next attempt.
	base      string
	healEvery time.Duration
	healAt    time.Time
	healTries atomic.Int64 // attempts that failed, since the process started
	// acked, once the front runs, returns the last record it acknowledged: heal applies
	// no record past it (one being written may yet be cut back and refused).
	acked atomic.Pointer[func() uint64]
}

// HealRetry is how often a writer stopped by a failure of SQLite or of the disk under it
// (a full disk, an I/O error) tries again to apply the acknowledged writes its log holds:
// once they commit, it runs again, with no restart (docs/deploy.md, "When the disk
// fails").
const HealRetry = 5 * time.Second

// busyRetryPause is the pause between two attempts of begin when another process holds
// the file's write lock (each attempt itself waits busy_timeout for it).
const busyRetryPause = 100 * time.Millisecond

// begin starts the batch's transaction. With the acknowledgement log on, the batch holds
// writes already acknowledged, which must be applied, in order, before any later one:
// while another process holds the file's write lock past busy_timeout (a command in a
// long transaction, a tool's VACUUM), begin waits and tries again, with a warning each
// time, instead of failing the batch (which would stop the writer until a restart). The
// writes wait in the log meanwhile and the apply lag grows (admission control counts
// it). It gives up on any other error, and once the journal is closing (the writes stay
// in the log for the next start).
func (w *writer) begin(ctx context.Context) error {
	for attempt := 1; ; attempt++ {
		_, err := w.conn.ExecContext(ctx, "BEGIN IMMEDIATE")
		if err == nil || !w.logged || code(err)&0xff != sqlite3.SQLITE_BUSY || w.closing.Load() {
			return err
		}
		slog.Warn("sqlitejournal: another process holds the journal's write lock; acknowledged writes wait in the log, trying again",
			"attempt", attempt, "err", err)
		time.Sleep(busyRetryPause)
	}
}

// startWriter takes a connection of db for the writer and starts its goroutine.
func startWriter(ctx context.Context, db *sql.DB, maxBatch, queueLen int) (*writer, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	w := &writer{
		conn:          conn,
		stmts:         make(map[string]*sql.Stmt),
		calls:         make(map[string]openCall),
		storedSources: make(map[string]struct{}),
		committed:     make(chan struct{}, 1),
		appliedCh:     make(chan struct{}),
	}
	w.q = groupcommit.Start(maxBatch, queueLen, w.commit)
	return w, nil
}

// stmt returns the prepared statement for query, preparing it on first use. Only the
// writer goroutine calls it.
func (w *writer) stmt(query string) (*sql.Stmt, error) {
	if s, ok := w.stmts[query]; ok {
		return s, nil
	}
	s, err := w.conn.PrepareContext(context.Background(), query)
	if err != nil {
		return nil, err
	}
	w.stmts[query] = s
	return s, nil
}

// exec runs a cached statement.
func (w *writer) exec(query string, args ...any) (sql.Result, error) {
	s, err := w.stmt(query)
	if err != nil {
		return nil, err
	}
	return s.Exec(args...)
}

// queryRow runs a cached statement that returns one row.
func (w *writer) queryRow(query string, args ...any) (*sql.Row, error) {
	s, err := w.stmt(query)
	if err != nil {
		return nil, err
	}
	return s.QueryRow(args...), nil
}

// do submits o and waits for the commit that makes it durable (groupcommit.Queue.Do: a
// nil error always means durable, and a non-nil one never hides a write).
func (w *writer) do(ctx context.Context, o op) error { return w.q.Do(ctx, o) }

// doLow is do in the queue's low lane (new calls): it joins a batch after every write
// of running calls waiting at the time.
func (w *writer) doLow(ctx context.Context, o op) error { return w.q.DoLow(ctx, o) }

// close stops taking requests, lets the writer finish those queued, and closes the
// statements and the connection.
func (w *writer) close() error {
	w.closing.Store(true)
	w.q.Close()
	var errs []error
	for _, s := range w.stmts {
		errs = append(errs, s.Close())
	}
	errs = append(errs, w.conn.Close())
	return errors.Join(errs...)
}

// remember records an open call's number and last seq, after a write the current
// transaction holds (a failed commit forgets it again).
func (w *writer) remember(callID string, c openCall) {
	if len(w.calls) >= maxRemembered {
		w.forget()
	}
	w.calls[callID] = c
}

// forget drops the memory of open calls and stored sources: the next Append of each call
// re-reads it, and the next Create of each sources inserts them if missing.
func (w *writer) forget() {
	clear(w.calls)
	clear(w.storedSources)
}

// commit runs the batch in one transaction (the queue's Commit): errs gets each write's
// outcome.
func (w *writer) commit(ops []op, errs []error) {
	start := time.Now()
	ctx := context.Background()
	fail := func(err error) {
		for i := range errs {
			if errs[i] == nil {
				errs[i] = err
			}
		}
	}
	if w.broken.Load() != nil && !w.heal(ctx) {
		fail(*w.broken.Load())
		return
	}
	if err := w.begin(ctx); err != nil {
		fail(fmt.Errorf("begin: %w", err))
		w.breakIfLogged(err)
		return
	}
	// With the write lock held, nobody else can commit until we do: if another
	// connection committed since our last batch, what we remember may be stale.
	var version int64
	row, err := w.queryRow("PRAGMA data_version")
	if err == nil {
		err = row.Scan(&version)
	}
	if err != nil || version != w.dataVersion {
		w.forget()
		w.dataVersion = version
	}
	ok := 0
	for i, o := range ops {
		if err := o(w); err != nil {
			errs[i] = err
			if failsTransaction(err) {
				// The disk is full, an I/O failed, …: SQLite may have rolled the whole
				// transaction back already, and the batch's other writes (and the log's
				// position) must not commit without this one.
				_, _ = w.conn.ExecContext(ctx, "ROLLBACK")
				w.forget()
				fail(fmt.Errorf("the batch was rolled back: %w", err))
				w.breakIfLogged(err)
				return
			}
			continue
		}
		ok++
	}
	if w.batchLSN > w.applied {
		// The log's records applied here: their position commits with them.
		if _, err := w.exec(`UPDATE ack_log SET applied = ? WHERE id = 1`, int64(w.batchLSN)); err != nil {
			_, _ = w.conn.ExecContext(ctx, "ROLLBACK")
			w.forget()
			fail(fmt.Errorf("record the log's position: %w", err))
			w.breakIfLogged(err)
			return
		}
		ok++ // the position is a change to commit even if every write was refused
	}
	if ok == 0 { // nothing acknowledged: no need for an fsync
		// A refused write may have made a change before it failed (a Create stores its
		// sources, then finds its id taken): the rollback undoes it, so forget.
		w.forget()
		if _, err := w.conn.ExecContext(ctx, "ROLLBACK"); err != nil {
			fail(fmt.Errorf("rollback: %w", err))
		}
		return
	}
	if _, err := w.conn.ExecContext(ctx, "COMMIT"); err != nil {
		_, _ = w.conn.ExecContext(ctx, "ROLLBACK")
		w.forget() // the batch's writes are undone: so is what they taught us
		fail(fmt.Errorf("commit: %w", err))
		w.breakIfLogged(err)
		return
	}
	select {
	case w.committed <- struct{}{}:
	default:
	}
	if o := w.observer.Load(); o != nil {
		(*o)(len(ops), time.Since(start))
	}
	// Last: a reader that waited for these writes sees the commit fully accounted for.
	if w.batchLSN > w.applied {
		w.publishApplied(w.batchLSN)
	}
}

// failsTransaction reports whether err, from a write in a batch, is a failure of SQLite or
// of what is under it (a full disk, an I/O error, memory, a lock, a damaged file) rather
// than that write's own refusal: SQLite may roll the whole transaction back on such errors
// (https://sqlite.org/lang_transaction.html, "Response To Errors Within A Transaction"),
// and a write of the acknowledgement log that met one was not applied, so the log's
// position must not move past it.
func failsTransaction(err error) bool {
	switch code(err) & 0xff {
	case sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_NOMEM, sqlite3.SQLITE_BUSY,
		sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_INTERRUPT, sqlite3.SQLITE_ABORT, sqlite3.SQLITE_READONLY,
		sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PROTOCOL:
		return true
	}
	return false
}

// breakIfLogged stops the writer, when the acknowledgement log is on, after a transaction
// failed with err: the batch may have held records of the log (a BEGIN that fails has not
// run them yet, so the writer cannot tell), which were acknowledged and must not be
// skipped by the position a later commit would record. They stay in the log; every
// HealRetry the writer tries to apply them from there (heal), and runs again once they
// commit. A process stopped meanwhile applies them at its next start (Open).
func (w *writer) breakIfLogged(err error) {
	if !w.logged {
		return
	}
	w.batchLSN = w.applied
	err = fmt.Errorf("the journal could not apply acknowledged writes (they are kept in its log, and applied once SQLite works again or at the next start): %w", err)
	if w.broken.CompareAndSwap(nil, &err) {
		slog.Error("sqlitejournal: writer stopped; it tries again every "+w.healEvery.String(), "err", err)
		w.healAt = time.Now().Add(w.healEvery)
		w.nudgeLater()
	}
	w.appliedMu.Lock()
	close(w.appliedCh) // waiters see broken
	w.appliedCh = make(chan struct{})
	w.appliedMu.Unlock()
}

// nudgeLater has the writer's queue run an empty write once healEvery has passed, so that
// a stopped writer tries to heal even when no write comes (the front refuses them all
// while it is stopped).
func (w *writer) nudgeLater() {
	time.AfterFunc(w.healEvery, func() {
		_ = w.q.Submit(func(*writer) error { return nil }) // ErrClosed once the journal is closed
	})
}

// heal tries, when its time has come, to restart a writer stopped by breakIfLogged: in one
// transaction it applies the records of the acknowledgement log past the position SQLite
// has committed, up to the last one the front acknowledged, read from the log's segments
// as a start does (Open), and moves the position past them. It reports whether the writer runs again. Each record is applied
// once: a write of the queue whose record it applied is skipped (frontOp.apply), and a
// record SQLite refuses on its own checks is logged and passed, as always. When SQLite
// still fails, nothing changes and it tries again healEvery later. Writer goroutine only.
func (w *writer) heal(ctx context.Context) bool {
	if !w.logged || w.closing.Load() || time.Now().Before(w.healAt) {
		return false
	}
	w.healAt = time.Now().Add(w.healEvery)
	applied := w.appliedLSN()
	n, err := w.applyLog(ctx, applied)
	if err != nil {
		w.batchLSN = applied
		w.forget()
		slog.Warn("sqlitejournal: the writer is still stopped; trying again in "+w.healEvery.String(),
			"failed_tries", w.healTries.Add(1), "err", err)
		w.nudgeLater()
		return false
	}
	w.broken.Store(nil)
	if w.batchLSN > applied {
		w.publishApplied(w.batchLSN)
	}
	slog.Info("sqlitejournal: the writer runs again", "applied_from_log", n, "position", w.batchLSN)
	return true
}

// applyLog applies the log's records after applied, and the position past them, in one
// transaction (see heal). It returns how many records it applied.
func (w *writer) applyLog(ctx context.Context, applied uint64) (int, error) {
	w.forget()
	if err := w.begin(ctx); err != nil {
		return 0, fmt.Errorf("begin: %w", err)
	}
	w.batchLSN = applied
	n, err := func() (int, error) {
		limit := uint64(math.MaxUint64)
		if acked := w.acked.Load(); acked != nil {
			limit = (*acked)()
		}
		n := 0
		err := recordsAfter(w.base, applied, limit, func(r record) error {
			o, err := opOfRecord(r)
			if err != nil {
				return err
			}
			if err := o.apply(r.LSN)(w); err != nil && failsTransaction(err) {
				return err
			}
			n++
			return nil
		})
		if err != nil {
			return n, err
		}
		if w.batchLSN > applied {
			if _, err := w.exec(`UPDATE ack_log SET applied = ? WHERE id = 1`, int64(w.batchLSN)); err != nil {
				return n, fmt.Errorf("record the log's position: %w", err)
			}
		}
		return n, nil
	}()
	if err == nil {
		if _, cerr := w.conn.ExecContext(ctx, "COMMIT"); cerr != nil {
			err = fmt.Errorf("commit: %w", cerr)
		}
	}
	if err != nil {
		_, _ = w.conn.ExecContext(ctx, "ROLLBACK")
		return 0, err
	}
	return n, nil
}

// publishApplied records that the log's records up to lsn are committed, and wakes those
// waiting for them.
func (w *writer) publishApplied(lsn uint64) {
	w.appliedMu.Lock()
	w.applied = lsn
	close(w.appliedCh)
	w.appliedCh = make(chan struct{})
	w.appliedMu.Unlock()
}

// appliedLSN returns the last record of the acknowledgement log committed to SQLite.
func (w *writer) appliedLSN() uint64 {
	w.appliedMu.Lock()
	defer w.appliedMu.Unlock()
	return w.applied
}

// brokenErr returns the error that stopped the writer, or nil.
func (w *writer) brokenErr() error {
	if p := w.broken.Load(); p != nil {
		return *p
	}
	return nil
}

// waitApplied returns once the log's records up to lsn are committed to SQLite, or with
// ctx's error, or with the error that stopped the writer.
func (w *writer) waitApplied(ctx context.Context, lsn uint64) error {
	for {
		w.appliedMu.Lock()
		done, ch := w.applied >= lsn, w.appliedCh
		w.appliedMu.Unlock()
		if done {
			return nil
		}
		if err := w.brokenErr(); err != nil {
			return err
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
