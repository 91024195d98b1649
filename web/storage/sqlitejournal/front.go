package sqlitejournal

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/switchboard-sim/switchboard/engine/journal"
	"github.com/switchboard-sim/switchboard/web/storage/groupcommit"
	"github.com/switchboard-sim/switchboard/web/storage/sources"
)

// The front: a call's writes (Create, Append, Finish) go through the front, in group
// commits like the writer's (groupcommit.StartSplit: a write that finds the front idle is
// committed on its caller's goroutine, with no hand-off; those that find a commit running
// go together in the next batch, on the front's goroutine). For each batch it runs every
// write's checks, in order, against what it knows of the calls (ErrExists, ErrNotFound,
// ErrDuplicate, ErrFinished, ErrSeqGap, exactly as the writer's SQL would), appends the writes it accepts to the
// acknowledgement log with one write and one fsync (acklog.go), hands them to the SQLite
// writer in the same order, and only then answers each caller. A write that returns nil
// is durable in the log; SQLite has it a little later. Reads wait for that: Load until
// SQLite has applied the call's last acknowledged write, List and Summaries until it has
// applied every write acknowledged before they began.
//
// A commit runs in two halves (groupcommit.StartSplit): begin checks the batch and writes
// it to the log; end syncs it, hands it to SQLite's writer and answers. An append started
// with DB.StartAppend on an idle front runs begin at once, on a disk that writes back
// having the kernel start writing the record out, and end when its caller waits, after
// the engine's step: the disk works while the engine does. On a busy front it is queued
// at once, to join the next batch.
//
// What the front knows of calls: every call this process wrote to, until the call is
// finished and SQLite has applied its end; a call it does not know is in SQLite whole, and
// the write's caller reads it there before handing the write over (prepare), so that a
// commit does not wait for reads. It keeps, per call, the last seq, whether it is finished,
// its last record's LSN and 64-bit hashes of its entries' client ids (a different client id
// mistaken for a recorded one has a chance of 2^-64 per pair). That is exact as long as
// this process is the only one writing calls to the file, which the log's lock ensures for
// every Switchboard process (one that cannot take it writes to SQLite directly, and no
// command writes calls while a server runs).

// applyQueue is the number of acknowledged writes that may wait for the SQLite writer
// before the front blocks (and, behind it, new writes): about a minute of a full floor's
// inputs.
const applyQueue = 1 << 16

// applyLagFree is how many acknowledged writes may wait for SQLite before the journal
// counts them as a backlog for admission (DB.Backlog): about 15 s of the writes of a floor
// of 19,000 calls, half of applyQueue.
const applyLagFree = 1 << 15

// applyPoll is how often SQLite's writer looks for acknowledged writes to apply while they
// keep coming (groupcommit.Queue.Poll), rather than being woken by each: an input's
// acknowledgement then wakes no goroutine, and SQLite's commit, a few hundred
// microseconds of CPU, runs after the reply has gone rather than beside it. The writes
// that do wait for SQLite's commit (the outbox's, notes, accounts), and reads of a call's
// latest writes, wait up to that much longer while polling goes on. At 20 ms rather than
// 2, SQLite commits ten times less often in larger batches: 4–5% less of the server's CPU
// at 19,000 calls and a lower turn median (docs/performance.md, "Log segments written
// full of zeros").
const applyPoll = 20 * time.Millisecond

// frontOp is one write of a call, as the front takes it.
type frontOp struct {
	op     string
	callID string
	call   journal.Call    // create
	src    sources.Encoded // create: the call's sources (Data nil when replaying a record that left them out)
	entry  journal.Entry   // append
	result string          // finish: JSON of journal.Result
	ended  string          // finish: formatTime of the end

	// What the caller read of the call in SQLite, when the front did not know it (so
	// that the front's goroutine does not wait for reads): for append and finish, loaded
	// says call is set (nil: no such call); for create, absent says no such call was there.
	loaded bool
	call0  *frontCall
	absent bool
}

// frontCall is what the front knows of a call.
type frontCall struct {
	last     int64 // seq of its last entry
	finished bool
	lsn      uint64 // its last record's LSN (0: none since this process started)
	// ids are the hashes of its entries' client ids while there are at most idsInline;
	// then idSet holds them all and ids is nil. A long call's duplicate check stays a look-up
	// rather than a scan under the front's lock, which every call's commit takes.
	ids   []uint64
	idSet map[uint64]struct{}
}

// idsInline is how many client ids a call keeps in a slice before a set: most calls have
// fewer, and a slice that size is smaller and as fast to search as a map.
const idsInline = 32

// hasID reports whether the call has an entry whose client id hashes to h.
func (c *frontCall) hasID(h uint64) bool {
	if c.idSet != nil {
		_, ok := c.idSet[h]
		return ok
	}
	return slices.Contains(c.ids, h)
}

// addID records a client id's hash h.
func (c *frontCall) addID(h uint64) {
	if c.idSet != nil {
		c.idSet[h] = struct{}{}
		return
	}
	if len(c.ids) < idsInline {
		c.ids = append(c.ids, h)
		return
	}
	set := make(map[uint64]struct{}, 2*idsInline)
	for _, id := range c.ids {
		set[id] = struct{}{}
	}
	set[h] = struct{}{}
	c.ids, c.idSet = nil, set
}

// evict is a finished call to forget once SQLite has applied its end.
type evict struct {
	id  string
	lsn uint64
}

// front is the acknowledgement log's writer. Its fields belong to the commit running (one
// at a time, on the front's goroutine or a caller's: groupcommit serialises them), except
// those under mu (read by Load) and lastAcked.
type front struct {
	r *sql.DB // read pool: calls the front does not know
	// exists is callExists's query, prepared once on r: every new call asks it, and
	// preparing it each time (SQLite compiling the SELECT) was 2% of a server's CPU at
	// 5,000 calls of a scenario with short calls.
	exists *sql.Stmt
	w      *writer
	log    *ackLog
	q      *groupcommit.Queue[*frontOp]

	mu    sync.Mutex // guards calls
	calls map[string]*frontCall

	finished      []evict             // in LSN order
	loggedSources map[string]struct{} // sources keys logged with their data by this process
	seed          maphash.Seed
	next          uint64 // the next record's LSN
	buf           []byte
	broken        error // the log failed and could not be cut back: every write fails from then on
	// stalled is the error of a log write that failed for want of space (and was cut
	// back): writes are refused until healAt, then the log is tried again (heal).
	stalled   error
	healAt    time.Time
	healEvery time.Duration
	// undo is what the batch being committed changed in calls, loggedSources and
	// finished, to take back if its log write fails (rollback).
	undo []frontUndo
	// refusing is broken or stalled (nil when neither), for other goroutines (DB.WritesRefused).
	refusing  atomic.Pointer[refusal]
	lastAcked atomic.Uint64 // the last acknowledged write's LSN, read by others
	// observer, when set, is told about each batch written to the log (DB.SetLogCommitObserver).
	observer atomic.Pointer[CommitObserver]
	// pending are the indexes of the batch's writes begin wrote to the log for end to
	// sync (in LSN order from pendingFirst); pendingTook is how long that write took.
	pending      []int
	pendingFirst uint64
	pendingTook  time.Duration
}

// newFront starts the front, writing records from next on to a new segment of base.
func newFront(r *sql.DB, w *writer, base string, next uint64) (*front, error) {
	mem := inMemory(filepath.Dir(base))
	f := &front{r: r, w: w, log: &ackLog{base: base, writeback: writebackStarts && !mem, inMemory: mem}, calls: map[string]*frontCall{},
		loggedSources: map[string]struct{}{}, seed: maphash.MakeSeed(), next: next, healEvery: w.healEvery}
	f.lastAcked.Store(next - 1)
	var err error
	if f.exists, err = r.Prepare(existsQuery); err != nil {
		return nil, fmt.Errorf("prepare %q: %w", existsQuery, err)
	}
	if err := f.log.startSegment(next); err != nil {
		f.exists.Close()
		return nil, err
	}
	f.q = groupcommit.StartSplit(MaxBatch, writeQueue, f.begin, f.end)
	return f, nil
}

// acked returns the LSN of the last write acknowledged.
func (f *front) acked() uint64 { return f.lastAcked.Load() }

// callLSN returns the LSN of the last record of callID this process acknowledged, 0 if
// none is waiting to be applied that it knows of.
func (f *front) callLSN(callID string) uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c, ok := f.calls[callID]; ok {
		return c.lsn
	}
	return 0
}

// close stops taking writes, waits for those queued, and leaves the log for the caller
// (DB.Close closes it once the writer has applied everything).
func (f *front) close() {
	f.q.Close()
	f.exists.Close()
}

// begin is the first half of the front's batch (groupcommit.StartSplit): it checks the
// writes against what the front knows of their calls and writes those it accepts to the
// log, without syncing; end syncs them and acknowledges them. Between the two the batch's
// state waits in pending.
func (f *front) begin(ops []*frontOp, errs []error) {
	fail := func(err error) {
		for i := range errs {
			if errs[i] == nil {
				errs[i] = err
			}
		}
	}
	f.pending = f.pending[:0]
	if f.broken != nil {
		fail(f.broken)
		return
	}
	if err := f.w.brokenErr(); err != nil {
		fail(err) // until the writer heals (writer.heal)
		return
	}
	if f.stalled != nil && !f.heal() {
		fail(f.stalled)
		return
	}
	f.forgetApplied()
	f.buf = f.buf[:0]
	first := f.next
	f.mu.Lock()
	clear(f.undo)
	f.undo = f.undo[:0]
	for i, o := range ops {
		refusal, err := f.accept(o, f.next)
		switch {
		case err != nil:
			errs[i] = err
		case refusal != nil:
			errs[i] = refusal
		default:
			f.pending = append(f.pending, i)
			f.next++
		}
	}
	f.mu.Unlock()
	if len(f.pending) == 0 {
		return
	}
	f.pendingFirst = first
	start := time.Now()
	if err := f.log.start(f.buf); err != nil {
		f.logFailed(err, errs)
	}
	f.pendingTook = time.Since(start)
}

// end is the second half of the front's batch (see begin): it syncs the records begin
// wrote, hands them to SQLite's writer and acknowledges them.
func (f *front) end(ops []*frontOp, errs []error) {
	if len(f.pending) == 0 {
		return
	}
	start := time.Now()
	if err := f.log.finish(); err != nil {
		f.logFailed(err, errs)
		return
	}
	first := f.pendingFirst
	for n, i := range f.pending {
		o, lsn := ops[i], first+uint64(n)
		if err := f.w.q.Submit(o.apply(lsn)); err != nil {
			// Only after Close, which waits for the front first: cannot happen.
			errs[i] = err
		}
	}
	f.lastAcked.Store(f.next - 1)
	if o := f.observer.Load(); o != nil {
		// The log's own time: its write and its sync, not what the caller did between
		// (DB.StartAppend).
		(*o)(len(f.pending), f.pendingTook+time.Since(start))
	}
	f.pending = f.pending[:0]
	if err := f.log.rotate(f.next-1, f.w.appliedLSN()); err != nil {
		slog.Warn("sqlitejournal: acknowledgement log segment", "err", err)
	}
}

// logFailed fails the batch's accepted writes after the log refused them (cut back, as
// ackLog.start and finish do): nothing of the batch is in the log, its checks' effects
// are taken back, and the front refuses writes from then on, for good or for a while.
func (f *front) logFailed(err error, errs []error) {
	f.next = f.pendingFirst
	f.mu.Lock()
	f.rollback()
	f.mu.Unlock()
	if errors.Is(err, errCutBack) || !diskFull(err) {
		f.broken = fmt.Errorf("the journal's log failed; restart the server: %w", err)
		slog.Error("sqlitejournal: acknowledgement log failed: no write is accepted until a restart", "err", err)
	} else {
		f.stalled = fmt.Errorf("the journal's log could not be written; writes are refused, and tried again every %s: %w", f.healEvery, err)
		f.healAt = time.Now().Add(f.healEvery)
		slog.Error("sqlitejournal: acknowledgement log write failed: writes are refused for a while, then tried again", "err", err, "retry", f.healEvery)
	}
	r := &refusal{err: cmp.Or(f.broken, f.stalled)}
	if f.broken == nil {
		r.until = f.healAt
	}
	f.refusing.Store(r)
	for _, i := range f.pending {
		errs[i] = r.err
	}
	f.pending = f.pending[:0]
}

// refusal is why the front refuses writes: for good (until zero), or until the time it
// tries the log again. When no write comes to try it, the front is taken to be writable
// again from then on: it knows no better until the next write.
type refusal struct {
	err   error
	until time.Time
}

// current returns the refusal's error while it holds at now, else nil.
func (r *refusal) current(now time.Time) error {
	if r == nil || !r.until.IsZero() && !now.Before(r.until) {
		return nil
	}
	return r.err
}

// diskFull reports whether a write failed for want of space (the disk, or the user's
// quota, is full): the log is tried again once there may be room. Any other failure of
// the log (an I/O error) stops it until a restart: a disk that fails that way needs an
// operator.
func diskFull(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
}

// heal reports whether a stalled front may try the log again: once healAt has passed.
// The next write to the log is the test: if it fails, the front stalls again.
func (f *front) heal() bool {
	if time.Now().Before(f.healAt) {
		return false
	}
	slog.Info("sqlitejournal: trying the acknowledgement log again", "after", f.stalled)
	f.stalled = nil
	f.refusing.Store(nil)
	return true
}

// frontUndo takes back one accepted write's effect on what the front knows: a call it
// created (with the sources it marked logged), or the state a write changed.
type frontUndo struct {
	id      string
	created bool
	source  string     // created: the sources key it marked logged, if it did
	c       *frontCall // otherwise: the call changed, and its state before
	prev    frontCall
	// addedID is the client id hash the write added to the call's idSet (hasAddedID): the
	// set is shared with prev, so taking the write back deletes it.
	addedID    uint64
	hasAddedID bool
	evict      *evict // a finish: its entry in finished
}

// rollback takes back, newest first, the effects of the batch's accepted writes (f.undo)
// when their log write failed: what the front knows is then as before the batch, so that
// reads wait for no record that was never written (callLSN) and the writes are checked
// again as new when they come back. Under f.mu.
func (f *front) rollback() {
	for i := len(f.undo) - 1; i >= 0; i-- {
		u := f.undo[i]
		if u.created {
			delete(f.calls, u.id)
			if u.source != "" {
				delete(f.loggedSources, u.source)
			}
			continue
		}
		*u.c = u.prev // ids: the slice as it was (the batch only appended to it)
		if u.hasAddedID && u.c.idSet != nil {
			delete(u.c.idSet, u.addedID)
		}
		if u.evict != nil {
			for j := len(f.finished) - 1; j >= 0; j-- {
				if f.finished[j] == *u.evict {
					f.finished = slices.Delete(f.finished, j, j+1)
					break
				}
			}
		}
	}
	clear(f.undo)
	f.undo = f.undo[:0]
}

// accept runs o's checks against what the front knows, and when they pass, records o's
// effect there and appends its record (LSN lsn) to f.buf. It returns o's refusal (a
// journal error), or an error of its own when it could not decide (a read failed).
// Under f.mu.
func (f *front) accept(o *frontOp, lsn uint64) (refusal error, err error) {
	rec := record{LSN: lsn, Op: o.op, CallID: o.callID}
	switch o.op {
	case opCreate:
		if _, ok := f.calls[o.callID]; ok {
			return journal.ErrExists, nil
		}
		if !o.absent {
			found, err := callExists(context.Background(), f.exists, o.callID)
			if err != nil {
				return nil, err
			}
			if found {
				return journal.ErrExists, nil
			}
		}
		call := o.call
		call.Sources = nil
		rec.Call, rec.TokenHash, rec.SourcesKey = &call, o.call.TokenHash, o.src.Key
		_, logged := f.loggedSources[o.src.Key]
		if !logged {
			rec.SourcesData = o.src.Data
		}
		if f.buf, err = appendRecord(f.buf, &rec); err != nil {
			return nil, err
		}
		u := frontUndo{id: o.callID, created: true}
		if !logged {
			f.loggedSources[o.src.Key] = struct{}{}
			u.source = o.src.Key
		}
		f.calls[o.callID] = &frontCall{lsn: lsn}
		f.undo = append(f.undo, u)
		return nil, nil
	case opAppend:
		var c *frontCall
		if c, err = f.known(o); err != nil {
			return nil, err
		}
		e := o.entry
		var h uint64
		if e.ClientID != "" {
			h = f.hash(e.ClientID)
		}
		switch {
		case c == nil:
			return journal.ErrNotFound, nil
		case e.ClientID != "" && c.hasID(h):
			return fmt.Errorf("client id %q: %w", e.ClientID, journal.ErrDuplicate), nil
		case c.finished:
			return journal.ErrFinished, nil
		case e.Seq != c.last+1:
			return fmt.Errorf("last is %d: %w", c.last, journal.ErrSeqGap), nil
		}
		rec.Entry = &e
		if f.buf, err = appendRecord(f.buf, &rec); err != nil {
			return nil, err
		}
		u := frontUndo{c: c, prev: *c}
		c.last, c.lsn = e.Seq, lsn
		if e.ClientID != "" {
			c.addID(h)
			u.addedID, u.hasAddedID = h, true
		}
		f.undo = append(f.undo, u)
		return nil, nil
	case opFinish:
		var c *frontCall
		if c, err = f.known(o); err != nil {
			return nil, err
		}
		switch {
		case c == nil:
			return journal.ErrNotFound, nil
		case c.finished:
			return journal.ErrFinished, nil
		}
		rec.Result, rec.Ended = []byte(o.result), o.ended
		if f.buf, err = appendRecord(f.buf, &rec); err != nil {
			return nil, err
		}
		ev := evict{id: o.callID, lsn: lsn}
		f.undo = append(f.undo, frontUndo{c: c, prev: *c, evict: &ev})
		c.finished, c.lsn = true, lsn
		f.finished = append(f.finished, ev)
		return nil, nil
	}
	return nil, fmt.Errorf("unknown write %q", o.op)
}

// hash is the hash of a client id kept by the front.
func (f *front) hash(clientID string) uint64 { return maphash.String(f.seed, clientID) }

// do runs o through the front (low: in the low lane), after reading what it needs of its
// call from SQLite if the front does not know it.
func (f *front) do(ctx context.Context, o *frontOp, low bool) error {
	if err := f.prepare(ctx, o); err != nil {
		return err
	}
	if low {
		return f.q.DoLow(ctx, o)
	}
	return f.q.Do(ctx, o)
}

// known returns what the front knows of o's call (nil when there is no such call),
// taking what o's caller read from SQLite, or reading it, when it does not know it. Under
// f.mu.
func (f *front) known(o *frontOp) (*frontCall, error) {
	if c, ok := f.calls[o.callID]; ok {
		return c, nil
	}
	c := o.call0
	if !o.loaded {
		var err error
		if c, err = readCall(context.Background(), f.r, f.seed, o.callID); err != nil {
			return nil, err
		}
	}
	if c == nil {
		return nil, nil
	}
	f.calls[o.callID] = c
	if c.finished {
		f.finished = append(f.finished, evict{id: o.callID}) // forgotten at the next batch
	}
	return c, nil
}

// prepare fills in what o's caller must read of o's call in SQLite when the front does
// not know it, on the caller's goroutine. A call the front does not know is in SQLite
// whole (the front forgets a call only once SQLite has applied its end), and a write the
// front accepts for it in the meantime makes the front know it: what the caller read is
// then ignored. One case escapes a Create's check: another Create of the same id, made
// after the caller looked in the front's memory, whose call then ends and is applied and
// forgotten before this Create reaches the front (SQLite then refuses this one, and the
// refusal is logged as an error). Call ids are random UUIDs made by the server
// (live.NewCallID), so two are never the same.
func (f *front) prepare(ctx context.Context, o *frontOp) error {
	f.mu.Lock()
	_, ok := f.calls[o.callID]
	f.mu.Unlock()
	if ok {
		return nil
	}
	switch o.op {
	case opCreate:
		found, err := callExists(ctx, f.exists, o.callID)
		if err != nil {
			return err
		}
		if found {
			return journal.ErrExists
		}
		o.absent = true
	default:
		c, err := readCall(ctx, f.r, f.seed, o.callID)
		if err != nil {
			return err
		}
		o.loaded, o.call0 = true, c
	}
	return nil
}

// existsQuery asks SQLite whether it has a call (callExists).
const existsQuery = `SELECT 1 FROM calls WHERE id = ?`

// callExists reports whether SQLite has a call of that id; exists is existsQuery,
// prepared.
func callExists(ctx context.Context, exists *sql.Stmt, callID string) (bool, error) {
	var one int
	err := exists.QueryRowContext(ctx, callID).Scan(&one)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	}
	return false, err
}

// readCall reads what the front keeps of a call from SQLite (nil: no such call).
func readCall(ctx context.Context, r *sql.DB, seed maphash.Seed, callID string) (*frontCall, error) {
	tx, err := r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	var (
		n int64
		c frontCall
	)
	err = tx.QueryRowContext(ctx, `SELECT c.n, c.result IS NOT NULL, h.seq
		FROM calls c JOIN heads h ON h.call = c.n WHERE c.id = ?`, callID).Scan(&n, &c.finished, &c.last)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	rows, err := tx.QueryContext(ctx, `SELECT client_id FROM entries WHERE call = ? AND client_id IS NOT NULL`, n)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		c.addID(maphash.String(seed, id))
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return &c, nil
}

// forgetApplied forgets the finished calls whose end SQLite has applied.
func (f *front) forgetApplied() {
	if len(f.finished) == 0 {
		return
	}
	applied := f.w.appliedLSN()
	f.mu.Lock()
	n := 0
	for n < len(f.finished) && f.finished[n].lsn <= applied {
		if c, ok := f.calls[f.finished[n].id]; ok && c.finished {
			delete(f.calls, f.finished[n].id)
		}
		n++
	}
	f.mu.Unlock()
	f.finished = slices.Delete(f.finished, 0, n)
}

// apply returns the writer's operation for o, the log's record lsn: it applies o and
// moves the writer's position in the log past it, even when SQLite refuses it (which the
// front's checks make impossible; it is logged as an error). A failure of SQLite itself
// (failsTransaction: a full disk, an I/O error) rolls the batch back instead, and the
// record stays in the log (writer.commit).
func (o *frontOp) apply(lsn uint64) op {
	return func(w *writer) error {
		if lsn <= w.batchLSN {
			return nil // applied already, from the log, when the writer healed (writer.heal)
		}
		err := o.run(w)
		w.batchLSN = lsn
		if err != nil && !failsTransaction(err) {
			slog.Error("sqlitejournal: a write of the acknowledgement log was refused by SQLite",
				"lsn", lsn, "op", o.op, "call", o.callID, "err", err)
		}
		return err
	}
}

// run applies o in the writer's transaction.
func (o *frontOp) run(w *writer) error {
	switch o.op {
	case opCreate:
		return createCall(w, o.src.Key, o.src.Data, o.call)
	case opAppend:
		return appendEntry(w, o.callID, o.entry)
	case opFinish:
		return finishCall(w, o.callID, o.result, o.ended)
	}
	return fmt.Errorf("unknown write %q", o.op)
}

// opOfRecord returns the write a logged record holds.
func opOfRecord(r record) (*frontOp, error) {
	o := &frontOp{op: r.Op, callID: r.CallID, result: string(r.Result), ended: r.Ended}
	switch r.Op {
	case opCreate:
		if r.Call == nil {
			return nil, fmt.Errorf("record %d: create without its call", r.LSN)
		}
		o.call = *r.Call
		o.call.TokenHash = r.TokenHash
		o.src = sources.Encoded{Key: r.SourcesKey, Data: r.SourcesData}
	case opAppend:
		if r.Entry == nil {
			return nil, fmt.Errorf("record %d: append without its entry", r.LSN)
		}
		o.entry = *r.Entry
	case opFinish:
		if len(r.Result) == 0 {
			return nil, fmt.Errorf("record %d: finish without its result", r.LSN)
		}
	default:
		return nil, fmt.Errorf("record %d: unknown write %q", r.LSN, r.Op)
	}
	return o, nil
}

// startLog takes the acknowledgement log's lock, applies the writes the log holds past the
// file's position (those a crash left unapplied), removes its segments, and starts the
// front on a new one. Without the lock (another process has the journal open) it logs so
// and leaves the writes to the writer, acknowledged after SQLite's commit.
func (d *DB) startLog(ctx context.Context) error {
	lock, err := lockLog(d.path + "-acklog.lock")
	if err != nil {
		return err
	}
	if lock == nil {
		// Debug, not Info: the usual case is a command that reads records (report,
		// replay, export) beside a running server, which has nothing to act on.
		slog.Debug("sqlitejournal: another process has the journal open: writing to SQLite directly", "path", d.path)
		return nil
	}
	fail := func(err error) error {
		lock.Close()
		return err
	}
	var applied int64
	if err := d.r.QueryRowContext(ctx, `SELECT applied FROM ack_log WHERE id = 1`).Scan(&applied); err != nil {
		return fail(fmt.Errorf("read the acknowledgement log's position: %w", classify(err)))
	}
	d.wr.appliedMu.Lock()
	d.wr.applied, d.wr.logged, d.wr.base = uint64(applied), true, d.path
	d.wr.appliedMu.Unlock()
	segs, err := listSegments(d.path)
	if err != nil {
		return fail(fmt.Errorf("list the acknowledgement log: %w", err))
	}
	last, replayed := uint64(applied), 0
	err = recordsAfter(d.path, last, math.MaxUint64, func(r record) error {
		o, err := opOfRecord(r)
		if err != nil {
			return err
		}
		last = r.LSN
		replayed++
		return d.wr.q.Submit(o.apply(r.LSN))
	})
	if err != nil {
		return fail(err)
	}
	if replayed > 0 {
		if err := d.wr.do(ctx, func(*writer) error { return nil }); err != nil {
			return fail(fmt.Errorf("apply the acknowledgement log: %w", err))
		}
		if err := d.wr.brokenErr(); err != nil {
			return fail(err)
		}
		slog.Info("sqlitejournal: applied the writes the last run left in the acknowledgement log", "writes", replayed, "path", d.path)
	}
	for _, s := range segs {
		if err := os.Remove(s.path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fail(fmt.Errorf("remove an applied log segment: %w", err))
		}
	}
	d.fr, err = newFront(d.r, d.wr, d.path, last+1)
	if err != nil {
		return fail(err)
	}
	acked := d.fr.acked
	d.wr.acked.Store(&acked)
	d.wr.q.Poll(applyPoll)
	d.lock = lock
	return nil
}

// closeLog stops the front (if it still runs) and closes the log: when SQLite has applied
// every write it acknowledged, its segments are removed; otherwise they stay for the next
// start. Then it lets go of the lock.
func (d *DB) closeLog() error {
	if d.fr == nil {
		return nil
	}
	d.fr.close()
	all := d.wr.brokenErr() == nil && d.wr.appliedLSN() >= d.fr.acked()
	err := d.fr.log.close(all)
	return errors.Join(err, d.lock.Close())
}
