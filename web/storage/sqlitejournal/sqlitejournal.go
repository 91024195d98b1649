// Package sqlitejournal stores Switchboard's call journal (engine/journal.Journal) in one
// SQLite file, through the pure-Go driver modernc.org/sqlite (no cgo).
//
// A *DB is safe for concurrent use by many goroutines. A call's writes (Create, Append,
// Finish) are acknowledged from an append-only log next to the file, the acknowledgement
// log (acklog.go, front.go): each batch of them (a lone write is its own batch, committed
// on its caller's goroutine) is checked exactly as SQLite's constraints would, appended to
// the log with one write and one fsync, and answered; SQLite applies them behind it, in
// the same order, on the writer goroutine that owns the single write connection and
// commits in groups every few milliseconds (writer.go). What a trainee waits
// for is therefore one fsync of a few kilobytes, whatever SQLite is doing; reads (Load,
// List, Summaries) wait until SQLite has the writes they must see, and Open applies what a
// crash left in the log. Other writes (the outbox's, notes, accounts) go to the writer
// directly and are acknowledged after its commit. Only one process writes through the log
// (a lock file): another one that opens the same file (a CLI command while a server runs)
// writes to SQLite directly and sees a server's writes once SQLite has applied them,
// typically within milliseconds; it must not write calls the server has open (no command
// does).
//
// Transactions begin IMMEDIATE, so a second process using the same file waits on
// busy_timeout instead of failing half-way; reads use a small pool of read-only
// connections and, thanks to WAL, never wait for a writer. The file is opened with
// synchronous=FULL, so each commit has been fsynced and survives a crash of the process
// (kill -9) or of the machine; the log's segments are removed only once SQLite has
// committed every record in them. Checkpoints run off the commit path (checkpoint.go).
// WAL means one host: several instances need PostgreSQL.
//
// Open checks the file (PRAGMA quick_check) and its schema version (PRAGMA user_version),
// applies pending migrations, and refuses a file that is not SQLite, is damaged, belongs to
// another application, or was written by a newer Switchboard. It never panics on bad input.
package sqlitejournal

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/switchboard-sim/switchboard/engine"
	"github.com/switchboard-sim/switchboard/engine/journal"
	"github.com/switchboard-sim/switchboard/web/storage/sources"
)

// Errors Open returns, wrapped with details; check them with errors.Is.
var (
	// ErrCorrupt: the file is not an SQLite database, or is damaged (truncated, overwritten).
	ErrCorrupt = errors.New("journal file is damaged or not an SQLite database")
	// ErrForeign: the file is an SQLite database of another application.
	ErrForeign = errors.New("file is an SQLite database but not a Switchboard journal")
	// ErrTooNew: the file was written by a newer Switchboard, whose schema this one does
	// not know. Upgrade the binary (or use a copy of the file made before the upgrade).
	ErrTooNew = errors.New("journal was written by a newer version of Switchboard")
)

// applicationID marks a Switchboard journal in the file header (PRAGMA application_id).
const applicationID = 0x53424a4e // "SBJN"

// migrations are the schema, one step per version: migrations[i] takes the file from
// version i to i+1 (PRAGMA user_version). Append new steps; never edit a released one.
var migrations = []string{
	// 1: calls and their entries.
	`CREATE TABLE calls (
		id          TEXT NOT NULL PRIMARY KEY,
		scenario_id TEXT NOT NULL,
		title       TEXT NOT NULL,
		hash        TEXT NOT NULL,
		sources     TEXT NOT NULL,    -- JSON array of engine.SourceFile (data in base64)
		seed        INTEGER NOT NULL, -- the uint64 seed's bits as an int64
		trainee     TEXT NOT NULL,
		coach       INTEGER NOT NULL, -- 0 or 1
		created     TEXT NOT NULL,    -- UTC, fixed width (timeLayout): sorts as text
		token_hash  TEXT NOT NULL,
		result      TEXT,             -- JSON journal.Result; NULL while the call is open
		ended       TEXT              -- result's Ended, like created; NULL while open
	) STRICT;
	CREATE INDEX calls_by_created  ON calls (created DESC, id);
	CREATE INDEX calls_by_trainee  ON calls (trainee, created DESC, id);
	CREATE INDEX calls_by_scenario ON calls (scenario_id, created DESC, id);
	CREATE INDEX calls_open        ON calls (created DESC, id) WHERE result IS NULL;
	CREATE TABLE entries (
		call_id   TEXT NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
		seq       INTEGER NOT NULL CHECK (seq >= 1),
		client_id TEXT,               -- NULL when the entry has none
		type      TEXT NOT NULL,      -- engine.Event fields
		at        INTEGER NOT NULL,
		text      TEXT NOT NULL,
		idx       INTEGER NOT NULL,
		PRIMARY KEY (call_id, seq),
		UNIQUE (call_id, client_id)
	) STRICT, WITHOUT ROWID;`,
	// 2: the outbox of calls to report to a learning record store (xAPI).
	`CREATE TABLE outbox (
		call_id    TEXT NOT NULL PRIMARY KEY,
		due        TEXT NOT NULL,     -- next attempt, like created
		attempts   INTEGER NOT NULL DEFAULT 0,
		last_error TEXT NOT NULL DEFAULT '',
		sent       TEXT               -- NULL until reported
	) STRICT;
	CREATE INDEX outbox_due ON outbox (due, call_id) WHERE sent IS NULL;`,
	// 3: how the call offers suggested replies ('' for calls recorded before modes).
	`ALTER TABLE calls ADD COLUMN suggestions TEXT NOT NULL DEFAULT '';`,
	// 4: supervisors' time-stamped notes on calls (journal.Notes), numbered per call.
	`CREATE TABLE notes (
		call_id TEXT NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
		n       INTEGER NOT NULL CHECK (n >= 1),
		at      INTEGER NOT NULL CHECK (at >= 0), -- ms on the call clock
		text    TEXT NOT NULL,
		author  TEXT NOT NULL,
		created TEXT NOT NULL,                    -- like calls.created
		PRIMARY KEY (call_id, n)
	) STRICT, WITHOUT ROWID;`,
	// 5: scenario sources stored once, shared by the calls that played them (a call row
	// was ~20 KB of sources, written again by every Finish). Calls recorded before keep
	// theirs inline in calls.sources, with sources_key ''.
	`CREATE TABLE sources (
		key  TEXT NOT NULL PRIMARY KEY, -- hex SHA-256 of data
		data TEXT NOT NULL              -- JSON array of engine.SourceFile, as calls.sources
	) STRICT;
	ALTER TABLE calls ADD COLUMN sources_key TEXT NOT NULL DEFAULT '';`,
	// 6: accounts (web/accounts): teams, accounts, invites, sign-in sessions, and which
	// account made which call. Tokens are stored as hex SHA-256 only.
	`CREATE TABLE teams (
		id      TEXT NOT NULL PRIMARY KEY,
		name    TEXT NOT NULL,
		track   TEXT NOT NULL DEFAULT '',
		created TEXT NOT NULL
	) STRICT;
	CREATE TABLE accounts (
		id            TEXT NOT NULL PRIMARY KEY,
		login         TEXT NOT NULL UNIQUE,
		name          TEXT NOT NULL,
		role          TEXT NOT NULL CHECK (role IN ('trainee', 'supervisor')),
		team          TEXT NOT NULL DEFAULT '',
		password_hash TEXT NOT NULL,
		created       TEXT NOT NULL
	) STRICT;
	CREATE INDEX accounts_by_team ON accounts (team, name);
	CREATE TABLE invites (
		token_hash TEXT NOT NULL PRIMARY KEY,
		role       TEXT NOT NULL,
		team       TEXT NOT NULL DEFAULT '',
		created_by TEXT NOT NULL,
		created    TEXT NOT NULL,
		expires    TEXT NOT NULL,
		used       TEXT,              -- NULL while unused
		used_by    TEXT NOT NULL DEFAULT ''
	) STRICT;
	CREATE TABLE sessions (
		token_hash TEXT NOT NULL PRIMARY KEY,
		account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
		created    TEXT NOT NULL,
		expires    TEXT NOT NULL
	) STRICT;
	CREATE INDEX sessions_by_account ON sessions (account_id);
	CREATE TABLE call_links (
		call_id    TEXT NOT NULL PRIMARY KEY,
		account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
		track      TEXT NOT NULL DEFAULT '',
		step       TEXT NOT NULL DEFAULT '',
		created    TEXT NOT NULL
	) STRICT;
	CREATE INDEX call_links_by_account ON call_links (account_id, created);`,
	// 7: a track assigned to one trainee, overriding the team's (web/accounts).
	`ALTER TABLE accounts ADD COLUMN track TEXT NOT NULL DEFAULT '';`,
	// 8: entries in append order. Until 7 entries were a WITHOUT ROWID table keyed by
	// (call_id, seq) with a second UNIQUE (call_id, client_id) index, both led by the
	// call's text id: a group-commit batch of N calls' events dirtied about 2·N pages
	// (~9 KB written per event with long calls). Now a call has a number (calls.n), the
	// entries are a rowid table (a batch appends to the same few pages), one narrow
	// index (call, client_id) serves both the duplicate check and Load, and each call's
	// last seq lives in heads, a table of two integers per call. Rows are copied in
	// call order; the call numbers of existing calls are their rowids.
	`ALTER TABLE calls ADD COLUMN n INTEGER;
	UPDATE calls SET n = rowid;
	CREATE UNIQUE INDEX calls_by_n ON calls (n);
	CREATE TABLE entries_v8 (
		call      INTEGER NOT NULL REFERENCES calls (n) ON DELETE CASCADE,
		seq       INTEGER NOT NULL CHECK (seq >= 1),
		client_id TEXT,               -- NULL when the entry has none
		type      TEXT NOT NULL,      -- engine.Event fields
		at        INTEGER NOT NULL,
		text      TEXT NOT NULL,
		idx       INTEGER NOT NULL
	) STRICT;
	INSERT INTO entries_v8 (call, seq, client_id, type, at, text, idx)
		SELECT c.n, e.seq, e.client_id, e.type, e.at, e.text, e.idx
		FROM entries e JOIN calls c ON c.id = e.call_id ORDER BY c.n, e.seq;
	DROP TABLE entries;
	ALTER TABLE entries_v8 RENAME TO entries;
	CREATE UNIQUE INDEX entries_by_call ON entries (call, client_id);
	CREATE TABLE heads (
		call INTEGER NOT NULL PRIMARY KEY REFERENCES calls (n) ON DELETE CASCADE,
		seq  INTEGER NOT NULL CHECK (seq >= 0) -- the call's last entry (0: none yet)
	) STRICT;
	INSERT INTO heads (call, seq)
		SELECT c.n, coalesce((SELECT max(seq) FROM entries WHERE call = c.n), 0) FROM calls c;
	-- Triggers keep each write one statement (atomic: see writer.go): a new call gets its
	-- head, and an entry moves its call's head, refusing a gap.
	CREATE TRIGGER calls_head AFTER INSERT ON calls BEGIN
		INSERT INTO heads (call, seq) VALUES (NEW.n, 0);
	END;
	CREATE TRIGGER entries_head AFTER INSERT ON entries BEGIN
		SELECT RAISE(ABORT, 'entry seq is not one more than the call''s last')
			WHERE (SELECT seq FROM heads WHERE call = NEW.call) IS NOT NEW.seq - 1;
		UPDATE heads SET seq = NEW.seq WHERE call = NEW.call;
	END;`,
	// 9: the acknowledgement log's position (acklog.go): the last record applied to this
	// file, committed with the records it applies.
	`CREATE TABLE ack_log (
		id      INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
		applied INTEGER NOT NULL CHECK (applied >= 0)
	) STRICT;
	INSERT INTO ack_log (id, applied) VALUES (1, 0);`,
}

// SchemaVersion is the schema version this binary writes and understands.
var SchemaVersion = len(migrations)

// timeLayout stores times in UTC with a fixed width, so that text order is time order.
const timeLayout = "2006-01-02T15:04:05.000000000Z"

// readConns is the size of the read pool.
const readConns = 4

// busyTimeout is how long a statement waits for a lock another process holds.
const busyTimeout = 10 * time.Second

// DB is a journal in an SQLite file. It implements journal.Journal.
type DB struct {
	path string
	w    *sql.DB // one connection, owned by wr once Open returns
	r    *sql.DB // read-only pool
	wr   *writer // group commit on w's connection
	ck   *checkpointer
	// fr is the acknowledgement log's front (front.go), nil when writes go to wr directly
	// (another process holds the log, or options.direct); lock holds the log's lock.
	fr   *front
	lock *os.File

	sources sources.Cache // Create's encodings of scenario sources

	closeOnce sync.Once
	closeErr  error
}

var (
	_ journal.Journal    = (*DB)(nil)
	_ journal.Backlogger = (*DB)(nil)
)

// Open opens the journal at path, creating the file and its parent folders if missing,
// and migrates it to SchemaVersion. The error wraps ErrCorrupt, ErrForeign or ErrTooNew
// when the file cannot be used as it is.
func Open(ctx context.Context, path string) (*DB, error) {
	return open(ctx, path, defaultOptions)
}

// options are the writer's settings; benchmarks compare variants in the same run.
type options struct {
	maxBatch int // largest batch committed at once (1: one transaction per write)
	// autoCheckpoint is SQLite's wal_autocheckpoint (pages): the commit that takes the WAL
	// past it checkpoints, on the writer's connection, before it is acknowledged.
	autoCheckpoint int
	// background starts the checkpointer goroutine (checkpoint.go) on its own connection.
	background bool
	// direct sends a call's writes to SQLite's writer, acknowledged after its commit,
	// instead of through the acknowledgement log (acklog.go).
	direct bool
	// busy is how long a statement waits for a lock another process holds (0: busyTimeout).
	busy time.Duration
	// heal is how often a stopped writer tries again (0: HealRetry).
	heal time.Duration
}

// defaultOptions are the journal as shipped.
var defaultOptions = options{maxBatch: MaxBatch, autoCheckpoint: WALCheckpointPages, background: true}

// open is Open with options o.
func open(ctx context.Context, path string, o options) (*DB, error) {
	if path == "" {
		return nil, errors.New("sqlitejournal: open: empty path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlitejournal: open %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o750); err != nil {
		return nil, fmt.Errorf("sqlitejournal: open %s: create its folder: %w", abs, err)
	}
	if fi, err := os.Stat(abs); err == nil && fi.IsDir() {
		return nil, fmt.Errorf("sqlitejournal: open %s: it is a directory, not a file", abs)
	}

	d := &DB{path: abs}
	ms := cmp.Or(o.busy, busyTimeout).Milliseconds()
	d.w, err = sql.Open("sqlite", dsn(abs, url.Values{
		"_pragma": {
			fmt.Sprintf("busy_timeout(%d)", ms),
			"foreign_keys(ON)",
			"journal_mode(WAL)",
			"synchronous(FULL)",
			fmt.Sprintf("wal_autocheckpoint(%d)", o.autoCheckpoint),
			// Statement journals in memory: each write of a batch is a statement that must
			// be undone alone if it fails, and SQLite copies the pages it changes to a
			// statement journal first, spilled to a temporary file past 64 KiB. A new
			// call's INSERT (a row and six index entries) spilled: pwrite calls were 58% of
			// Create's CPU. Nothing durable lives there (the WAL is the record).
			"temp_store(MEMORY)",
		},
		"_txlock": {"immediate"},
	}))
	if err != nil {
		return nil, fmt.Errorf("sqlitejournal: open %s: %w", abs, err)
	}
	d.w.SetMaxOpenConns(1)
	d.w.SetMaxIdleConns(1)
	d.w.SetConnMaxLifetime(0)
	d.w.SetConnMaxIdleTime(0)
	if err := d.setUp(ctx); err != nil {
		d.w.Close()
		return nil, fmt.Errorf("sqlitejournal: open %s: %w", abs, err)
	}

	queueLen := writeQueue
	if !o.direct {
		queueLen = applyQueue
	}
	d.wr, err = startWriter(ctx, d.w, o.maxBatch, queueLen)
	if err != nil {
		d.w.Close()
		return nil, fmt.Errorf("sqlitejournal: open %s: %w", abs, classify(err))
	}
	d.wr.healEvery = cmp.Or(o.heal, HealRetry)

	d.r, err = sql.Open("sqlite", dsn(abs, url.Values{
		"_pragma": {
			fmt.Sprintf("busy_timeout(%d)", ms),
			"query_only(ON)",
		},
	}))
	if err == nil {
		d.r.SetMaxOpenConns(readConns)
		d.r.SetMaxIdleConns(readConns)
		err = d.r.PingContext(ctx)
	}
	if err != nil {
		if d.r != nil {
			d.r.Close()
		}
		d.wr.close()
		d.w.Close()
		return nil, fmt.Errorf("sqlitejournal: open %s for reading: %w", abs, err)
	}
	if !o.direct {
		if err := d.startLog(ctx); err != nil {
			d.r.Close()
			d.wr.close()
			d.w.Close()
			return nil, fmt.Errorf("sqlitejournal: open %s: %w", abs, err)
		}
	}
	if o.background {
		d.ck, err = startCheckpointer(ctx, abs, d.wr)
		if err != nil {
			d.closeLog()
			d.r.Close()
			d.wr.close()
			d.w.Close()
			return nil, fmt.Errorf("sqlitejournal: open %s for checkpoints: %w", abs, err)
		}
	}
	return d, nil
}

// dsn is the driver's name for the file at abs with parameters q, as a file: URI so that
// any character may appear in the path.
func dsn(abs string, q url.Values) string {
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: q.Encode()}
	if !strings.HasPrefix(u.Path, "/") { // Windows: file:///C:/...
		u.Path = "/" + u.Path
	}
	return u.String()
}

// setUp checks the file on the write connection and migrates it.
func (d *DB) setUp(ctx context.Context) error {
	conn, err := d.w.Conn(ctx) // the first use runs the DSN's pragmas: a bad file fails here
	if err != nil {
		return classify(err)
	}
	defer conn.Close()

	var mode string
	if err := conn.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return classify(err)
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("cannot use write-ahead logging (journal_mode is %q): is the file on a network or read-only file system?", mode)
	}

	if err := quickCheck(ctx, conn); err != nil {
		return err
	}

	var appID, version int64
	if err := conn.QueryRowContext(ctx, "PRAGMA application_id").Scan(&appID); err != nil {
		return classify(err)
	}
	if err := conn.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return classify(err)
	}
	switch {
	case appID != 0 && appID != applicationID:
		return fmt.Errorf("%w (application_id %#x)", ErrForeign, appID)
	case version > int64(len(migrations)):
		return fmt.Errorf("%w: its schema version is %d, this binary knows versions up to %d", ErrTooNew, version, len(migrations))
	case version < 0:
		return fmt.Errorf("%w: schema version %d", ErrForeign, version)
	}
	if version == 0 {
		var n int
		if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema").Scan(&n); err != nil {
			return classify(err)
		}
		if n > 0 {
			return fmt.Errorf("%w (it has %d schema objects but no journal version)", ErrForeign, n)
		}
	}
	for v := int(version); v < len(migrations); v++ {
		if err := migrate(ctx, conn, v); err != nil {
			return err
		}
	}
	return nil
}

// quickCheck runs PRAGMA quick_check and reports its findings as ErrCorrupt.
func quickCheck(ctx context.Context, conn *sql.Conn) error {
	rows, err := conn.QueryContext(ctx, "PRAGMA quick_check(5)")
	if err != nil {
		return classify(err)
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return classify(err)
		}
		if s != "ok" {
			problems = append(problems, s)
		}
	}
	if err := rows.Err(); err != nil {
		return classify(err)
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: quick_check: %s", ErrCorrupt, strings.Join(problems, "; "))
	}
	return nil
}

// migrate takes the file from version v to v+1 in one transaction.
func migrate(ctx context.Context, conn *sql.Conn, v int) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return classify(err)
	}
	defer tx.Rollback()
	// Another process may have migrated the file since we looked.
	var now int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&now); err != nil {
		return classify(err)
	}
	if now != v {
		if now > len(migrations) {
			return fmt.Errorf("%w: its schema version is %d, this binary knows versions up to %d", ErrTooNew, now, len(migrations))
		}
		return tx.Commit()
	}
	if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
		return fmt.Errorf("migrate to schema version %d: %w", v+1, classify(err))
	}
	// PRAGMAs take no parameters; both values are integers of ours.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA application_id = %d; PRAGMA user_version = %d", applicationID, v+1)); err != nil {
		return fmt.Errorf("migrate to schema version %d: %w", v+1, classify(err))
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate to schema version %d: commit: %w", v+1, classify(err))
	}
	return nil
}

// code returns the SQLite extended result code of err, or 0.
func code(err error) int {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code()
	}
	return 0
}

// classify adds ErrCorrupt to errors that say the file is damaged or not a database.
func classify(err error) error {
	switch code(err) & 0xff {
	case sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB:
		return fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	return err
}

// SetCommitObserver has fn told about every committed batch (nil to stop); for metrics.
func (d *DB) SetCommitObserver(fn CommitObserver) {
	if fn == nil {
		d.wr.observer.Store(nil)
		return
	}
	d.wr.observer.Store(&fn)
}

// SetLogCommitObserver has fn told about every batch the acknowledgement log commits (nil
// to stop): how many writes it acknowledged, and how long its write and fsync took — the
// commit an input waits for, where SetCommitObserver's are SQLite's, behind the log. It
// does nothing when the log is off (another process holds the journal).
func (d *DB) SetLogCommitObserver(fn CommitObserver) {
	if d.fr == nil {
		return
	}
	if fn == nil {
		d.fr.observer.Store(nil)
		return
	}
	d.fr.observer.Store(&fn)
}

// Path returns the absolute path of the journal's file.
func (d *DB) Path() string { return d.path }

// Close closes the journal; the last connection to close checkpoints the WAL into the main
// file. Closing twice is harmless.
func (d *DB) Close() error {
	d.closeOnce.Do(func() {
		var ckErr error
		if d.ck != nil {
			ckErr = d.ck.close()
		}
		if d.fr != nil {
			d.fr.close() // every write it acknowledged is with the writer
		}
		wrErr := d.wr.close()
		d.closeErr = errors.Join(wrErr, ckErr, d.closeLog(), d.r.Close(), d.w.Close())
		if d.closeErr != nil {
			d.closeErr = fmt.Errorf("sqlitejournal: close %s: %w", d.path, d.closeErr)
		}
	})
	return d.closeErr
}

// Backlog implements journal.Backlogger: the writes waiting to be acknowledged. With the
// acknowledgement log, that is the front's queue, plus the writes acknowledged and not yet
// applied to SQLite past applyLagFree of them: a lag that costs the running calls nothing
// (their writes are acknowledged from the log), but that new calls must not grow further
// (it is memory, and the time reads wait for).
func (d *DB) Backlog() int {
	if d.fr == nil {
		return d.wr.q.Backlog()
	}
	return d.fr.q.Backlog() + max(0, d.wr.q.Backlog()-applyLagFree)
}

// ApplyLag returns how many writes were acknowledged from the acknowledgement log and are
// not yet applied to SQLite (0 without the log).
func (d *DB) ApplyLag() int {
	if d.fr == nil {
		return 0
	}
	acked := d.fr.acked()
	return int(acked - min(acked, d.wr.appliedLSN()))
}

// BacklogWait implements journal.Backlogger: how long the writes counted by Backlog will
// take, at the recent commits' pace (groupcommit.Queue.BacklogWait).
func (d *DB) BacklogWait() time.Duration {
	if d.fr == nil {
		return d.wr.q.BacklogWait()
	}
	t := d.fr.q.BacklogWait()
	if lag := d.wr.q.Backlog(); lag > applyLagFree {
		t += d.wr.q.BacklogWait() * time.Duration(lag-applyLagFree) / time.Duration(lag)
	}
	return t
}

// Create records a new call: journal.ErrExists if the id is taken. It waits in the write
// queue's low lane: the inputs of running calls go first.
func (d *DB) Create(ctx context.Context, c journal.Call) error {
	if err := checkTime(c.Created); err != nil {
		return fmt.Errorf("sqlitejournal: create call %q: created: %w", c.ID, err)
	}
	src, err := d.sources.Encode(c.Sources)
	if err != nil {
		return fmt.Errorf("sqlitejournal: create call %q: %w", c.ID, err)
	}
	if d.fr != nil {
		err = d.fr.do(ctx, &frontOp{op: opCreate, callID: c.ID, call: c, src: src}, true)
	} else {
		err = d.wr.doLow(ctx, func(w *writer) error { return createCall(w, src.Key, src.Data, c) })
	}
	if err != nil {
		if code(err) == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY {
			err = journal.ErrExists
		}
		return fmt.Errorf("sqlitejournal: create call %q: %w", c.ID, err)
	}
	return nil
}

// WritesRefused returns why the journal refuses a call's writes at the moment (its
// SQLite writer or its acknowledgement log stopped by a failing disk: see HealRetry), or
// nil when it takes them. A log that refused a write for want of space counts as
// refusing until it tries again (HealRetry later): whether there is room by then only
// the next write tells. /healthz reports it.
func (d *DB) WritesRefused() error {
	if err := d.wr.brokenErr(); err != nil {
		return err
	}
	if d.fr != nil {
		return d.fr.refusing.Load().current(time.Now())
	}
	return nil
}

// Append records the next entry of an open call, committed with the other writes waiting
// at the time (group commit), and returns after that commit. The checks run in
// this order: journal.ErrNotFound, ErrDuplicate (the client id is already recorded for the
// call), ErrFinished, ErrSeqGap (e.Seq is not one more than the last).
func (d *DB) Append(ctx context.Context, callID string, e journal.Entry) error {
	return appendFailed(callID, e, d.append(ctx, callID, e))
}

// appendFailed wraps err, an append's failure, with the entry and its call (nil stays nil).
func appendFailed(callID string, e journal.Entry, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("sqlitejournal: append seq %d to call %q: %w", e.Seq, callID, err)
}

// StartAppend starts Append (journal.Starter). With the acknowledgement log on a disk
// that writes back and nothing else waiting to be written, the entry is written to the log
// now and its disk starts writing it out while the caller applies it; wait syncs it. When
// other writes are under way, the entry is handed to the front's goroutine at once and
// joins its next batch, even one that starts while the caller works; wait waits for it.
// Without a log, or with it on tmpfs (nothing to write back), it returns nil.
func (d *DB) StartAppend(ctx context.Context, callID string, e journal.Entry) (wait func() error) {
	if !d.Starts() {
		return nil
	}
	o := &frontOp{op: opAppend, callID: callID, entry: e}
	if err := d.fr.prepare(ctx, o); err != nil {
		return func() error { return appendFailed(callID, e, err) }
	}
	w := d.fr.q.Begin(ctx, o)
	return func() error { return appendFailed(callID, e, w()) }
}

// Starts reports whether StartAppend writes anything early (journal.Starter): only with
// the acknowledgement log on a disk that writes back.
func (d *DB) Starts() bool { return d.fr != nil && d.fr.log.writeback }

func (d *DB) append(ctx context.Context, callID string, e journal.Entry) error {
	if d.fr != nil {
		return d.fr.do(ctx, &frontOp{op: opAppend, callID: callID, entry: e}, false)
	}
	return d.wr.do(ctx, func(w *writer) error { return appendEntry(w, callID, e) })
}

// createCall inserts a new call, and its sources (data, keyed key) unless they are known
// to be stored: the writer remembers the keys it stored, and a nil data says the
// acknowledgement log applied them before (a record that left them out).
func createCall(w *writer, key string, data []byte, c journal.Call) error {
	// The sources are stored once per content: when they are there already this finds
	// them and writes nothing, and when the writer knows they are, it does not even look.
	if _, ok := w.storedSources[key]; !ok && data != nil {
		if _, err := w.exec(`INSERT INTO sources (key, data) VALUES (?, ?) ON CONFLICT (key) DO NOTHING`,
			key, string(data)); err != nil {
			return err
		}
		w.storedSources[key] = struct{}{}
	}
	// The call's number: one more than the last (calls_by_n finds it at once).
	_, err := w.exec(`INSERT INTO calls
		(id, scenario_id, title, hash, sources, sources_key, seed, trainee, coach, created, token_hash, suggestions, n)
		VALUES (?, ?, ?, ?, '', ?, ?, ?, ?, ?, ?, ?, (SELECT coalesce(max(n), 0) + 1 FROM calls))`,
		c.ID, c.ScenarioID, c.Title, c.Hash, key, int64(c.Seed), c.Trainee, c.Coach,
		formatTime(c.Created), c.TokenHash, c.Suggestions)
	return err
}

// appendEntry checks and inserts one entry inside the writer's transaction. When the
// writer remembers the call and e is its next entry, that is one INSERT (its constraints
// and trigger still check the call, the seq and the client id); otherwise the full checks
// run first: three index seeks (the call by id, its head, the client id among its
// entries), then the INSERT that writes the entry at the end of the table, its index entry
// and (by trigger) the head.
func appendEntry(w *writer, callID string, e journal.Entry) error {
	if c, ok := w.calls[callID]; ok && e.Seq == c.last+1 {
		err := insertEntry(w, c.n, e)
		if err == nil {
			w.remember(callID, openCall{n: c.n, last: e.Seq})
			return nil
		}
		if code(err) == sqlite3.SQLITE_CONSTRAINT_UNIQUE {
			// The call exists and the memory says open: a duplicate comes first.
			return fmt.Errorf("client id %q: %w", e.ClientID, journal.ErrDuplicate)
		}
		// Anything else: the memory was wrong (it must not be); the full checks say why.
		delete(w.calls, callID)
	}
	var (
		n, last             int64
		finished, duplicate bool
	)
	row, err := w.queryRow(`SELECT c.n, c.result IS NOT NULL, h.seq,
			?2 != '' AND EXISTS (SELECT 1 FROM entries WHERE call = c.n AND client_id = ?2)
		FROM calls c JOIN heads h ON h.call = c.n WHERE c.id = ?1`, callID, e.ClientID)
	if err == nil {
		err = row.Scan(&n, &finished, &last, &duplicate)
	}
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return journal.ErrNotFound
	case err != nil:
		return err
	case duplicate:
		return fmt.Errorf("client id %q: %w", e.ClientID, journal.ErrDuplicate)
	case finished:
		return journal.ErrFinished
	case e.Seq != last+1:
		w.remember(callID, openCall{n: n, last: last})
		return fmt.Errorf("last is %d: %w", last, journal.ErrSeqGap)
	}
	if err := insertEntry(w, n, e); err != nil {
		// The checks above make these impossible; map them anyway.
		switch code(err) {
		case sqlite3.SQLITE_CONSTRAINT_CHECK, sqlite3.SQLITE_CONSTRAINT_TRIGGER:
			return fmt.Errorf("%w: %w", journal.ErrSeqGap, err)
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE:
			return fmt.Errorf("%w: %w", journal.ErrDuplicate, err)
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return fmt.Errorf("%w: %w", journal.ErrNotFound, err)
		}
		return err
	}
	w.remember(callID, openCall{n: n, last: e.Seq})
	return nil
}

// insertEntry inserts e as an entry of call number n: one statement, whose trigger
// entries_head refuses a gap and moves the call's head.
func insertEntry(w *writer, n int64, e journal.Entry) error {
	var clientID any // NULL when empty: UNIQUE lets NULLs repeat
	if e.ClientID != "" {
		clientID = e.ClientID
	}
	_, err := w.exec(`INSERT INTO entries (call, seq, client_id, type, at, text, idx)
		VALUES (?, ?, ?, ?, ?, ?, ?)`,
		n, e.Seq, clientID, string(e.Event.Type), e.Event.At, e.Event.Text, int64(e.Event.Index))
	return err
}

// Finish marks a call as ended with its result: journal.ErrNotFound or ErrFinished.
func (d *DB) Finish(ctx context.Context, callID string, r journal.Result) error {
	if err := d.finish(ctx, callID, r); err != nil {
		return fmt.Errorf("sqlitejournal: finish call %q: %w", callID, err)
	}
	return nil
}

func (d *DB) finish(ctx context.Context, callID string, r journal.Result) error {
	if err := checkTime(r.Ended); err != nil {
		return fmt.Errorf("ended: %w", err)
	}
	result, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode result: %w", err)
	}
	if d.fr != nil {
		return d.fr.do(ctx, &frontOp{op: opFinish, callID: callID, result: string(result), ended: formatTime(r.Ended)}, false)
	}
	return d.wr.do(ctx, func(w *writer) error { return finishCall(w, callID, string(result), formatTime(r.Ended)) })
}

// finishCall marks a call as ended with result (JSON of journal.Result) at ended.
func finishCall(w *writer, callID, result, ended string) error {
	var finished bool
	row, err := w.queryRow(`SELECT result IS NOT NULL FROM calls WHERE id = ?`, callID)
	if err == nil {
		err = row.Scan(&finished)
	}
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return journal.ErrNotFound
	case err != nil:
		return err
	case finished:
		return journal.ErrFinished
	}
	delete(w.calls, callID) // a finished call takes the full checks
	_, err = w.exec(`UPDATE calls SET result = ?, ended = ? WHERE id = ?`, result, ended, callID)
	return err
}

// callColumns are the columns scanCall reads, in order, from callTables.
const callColumns = `c.id, c.scenario_id, c.title, c.hash, coalesce(s.data, c.sources), c.seed, c.trainee, c.coach,
	c.created, c.token_hash, c.result, c.suggestions`

// callTables joins a call to its sources (stored once per content since schema 4).
const callTables = `calls c LEFT JOIN sources s ON s.key = c.sources_key`

type scanner interface{ Scan(dest ...any) error }

// scanCall reads one row of callColumns.
func scanCall(s scanner) (journal.Call, *journal.Result, error) {
	var (
		c                journal.Call
		sources, created string
		seed             int64
		result           sql.NullString
	)
	if err := s.Scan(&c.ID, &c.ScenarioID, &c.Title, &c.Hash, &sources, &seed, &c.Trainee,
		&c.Coach, &created, &c.TokenHash, &result, &c.Suggestions); err != nil {
		return c, nil, err
	}
	c.Seed = uint64(seed)
	var err error
	if c.Created, err = time.Parse(timeLayout, created); err != nil {
		return c, nil, fmt.Errorf("call %q: bad created time: %w", c.ID, err)
	}
	var src []engine.SourceFile
	if err := json.Unmarshal([]byte(sources), &src); err != nil {
		return c, nil, fmt.Errorf("call %q: bad sources: %w", c.ID, err)
	}
	c.Sources = src
	if !result.Valid {
		return c, nil, nil
	}
	r := new(journal.Result)
	if err := json.Unmarshal([]byte(result.String), r); err != nil {
		return c, nil, fmt.Errorf("call %q: bad result: %w", c.ID, err)
	}
	return c, r, nil
}

// Load returns a call, its entries in order, and its result (nil while open), all read in
// one snapshot.
func (d *DB) Load(ctx context.Context, callID string) (journal.Call, []journal.Entry, *journal.Result, error) {
	c, es, r, err := d.load(ctx, callID)
	if err != nil {
		return journal.Call{}, nil, nil, fmt.Errorf("sqlitejournal: load call %q: %w", callID, err)
	}
	return c, es, r, nil
}

func (d *DB) load(ctx context.Context, callID string) (journal.Call, []journal.Entry, *journal.Result, error) {
	if d.fr != nil {
		if err := d.wr.waitApplied(ctx, d.fr.callLSN(callID)); err != nil {
			return journal.Call{}, nil, nil, err
		}
	}
	tx, err := d.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return journal.Call{}, nil, nil, err
	}
	defer tx.Rollback()
	c, r, err := scanCall(tx.QueryRowContext(ctx, `SELECT `+callColumns+` FROM `+callTables+` WHERE c.id = ?`, callID))
	if errors.Is(err, sql.ErrNoRows) {
		return c, nil, nil, journal.ErrNotFound
	}
	if err != nil {
		return c, nil, nil, err
	}
	rows, err := tx.QueryContext(ctx, `SELECT seq, client_id, type, at, text, idx
		FROM entries WHERE call = (SELECT n FROM calls WHERE id = ?) ORDER BY seq`, callID)
	if err != nil {
		return c, nil, nil, err
	}
	defer rows.Close()
	var es []journal.Entry
	for rows.Next() {
		var (
			e        journal.Entry
			clientID sql.NullString
			typ      string
			idx      int64
		)
		if err := rows.Scan(&e.Seq, &clientID, &typ, &e.Event.At, &e.Event.Text, &idx); err != nil {
			return c, nil, nil, err
		}
		e.ClientID = clientID.String
		e.Event.Type = engine.EventType(typ)
		e.Event.Index = int(idx)
		es = append(es, e)
	}
	if err := rows.Err(); err != nil {
		return c, nil, nil, err
	}
	return c, es, r, nil
}

// List returns the calls f selects, newest Created first, then by id.
func (d *DB) List(ctx context.Context, f journal.Filter) ([]journal.Summary, error) {
	var (
		where []string
		args  []any
	)
	if f.Trainee != "" {
		where, args = append(where, "trainee = ?"), append(args, f.Trainee)
	}
	if f.ScenarioID != "" {
		where, args = append(where, "scenario_id = ?"), append(args, f.ScenarioID)
	}
	if f.Open != nil {
		if *f.Open {
			where = append(where, "result IS NULL")
		} else {
			where = append(where, "result IS NOT NULL")
		}
	}
	limit := f.Limit
	if limit <= 0 {
		limit = journal.DefaultLimit
	}
	if err := d.caughtUp(ctx); err != nil {
		return nil, fmt.Errorf("sqlitejournal: list calls: %w", err)
	}
	q := `SELECT ` + callColumns + ` FROM ` + callTables
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += ` ORDER BY c.created DESC, c.id LIMIT ?`
	args = append(args, limit)

	rows, err := d.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlitejournal: list calls: %w", err)
	}
	defer rows.Close()
	var out []journal.Summary
	for rows.Next() {
		c, r, err := scanCall(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlitejournal: list calls: %w", err)
		}
		out = append(out, journal.Summary{Call: c, Result: r})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitejournal: list calls: %w", err)
	}
	return out, nil
}

// summaryBatch bounds the ids in one Summaries query (SQLite allows 32,766 parameters).
const summaryBatch = 500

// Summaries implements journal.Summarizer: the calls with the given ids, summaryBatch
// at a time, in one query each.
func (d *DB) Summaries(ctx context.Context, ids []string) ([]journal.Summary, error) {
	if err := d.caughtUp(ctx); err != nil {
		return nil, fmt.Errorf("sqlitejournal: summaries: %w", err)
	}
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	out := make([]journal.Summary, 0, len(ids))
	for len(ids) > 0 {
		batch := ids[:min(len(ids), summaryBatch)]
		ids = ids[len(batch):]
		args := make([]any, len(batch))
		for i, id := range batch {
			args[i] = id
		}
		q := `SELECT ` + callColumns + ` FROM ` + callTables + ` WHERE c.id IN (?` + strings.Repeat(`, ?`, len(batch)-1) + `)`
		rows, err := d.r.QueryContext(ctx, q, args...)
		if err != nil {
			return nil, fmt.Errorf("sqlitejournal: summaries: %w", err)
		}
		for rows.Next() {
			c, r, err := scanCall(rows)
			if err != nil {
				rows.Close()
				return nil, fmt.Errorf("sqlitejournal: summaries: %w", err)
			}
			out = append(out, journal.Summary{Call: c, Result: r})
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("sqlitejournal: summaries: %w", err)
		}
	}
	return out, nil
}

// caughtUp returns once SQLite has applied every write acknowledged so far.
func (d *DB) caughtUp(ctx context.Context) error {
	if d.fr == nil {
		return nil
	}
	return d.wr.waitApplied(ctx, d.fr.acked())
}

// checkTime refuses times that timeLayout cannot store in order.
func checkTime(t time.Time) error {
	if y := t.UTC().Year(); y < 0 || y > 9999 {
		return fmt.Errorf("year %d is out of range 0-9999", y)
	}
	return nil
}

// formatTime returns t in UTC in timeLayout.
func formatTime(t time.Time) string {
	return t.UTC().Format(timeLayout)
}
