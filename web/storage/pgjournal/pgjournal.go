// Package pgjournal stores Switchboard's call journal (engine/journal: Journal, Outbox and
// Notes) in PostgreSQL, through github.com/jackc/pgx/v5 and its connection pool. It is the
// adapter for several `switchboard serve` instances sharing one database; SQLite
// (web/storage/sqlitejournal) stays the embedded default. Both pass engine/journal/journaltest.
//
// A *DB is safe for concurrent use by many goroutines. Writes (Create, Append, Finish,
// AddNote and the outbox's) go to one writer goroutine per DB that commits them in groups:
// every write waiting when a transaction starts joins it, and each is acknowledged only
// after that transaction commits (see writer.go), so one commit — one WAL flush — serves
// many writes under load. A write has been made durable when it returns nil (with the
// server's default synchronous_commit=on). Reads use the pool directly; Load reads in one
// REPEATABLE READ snapshot.
//
// Writes to one call from several instances are serialised by a row lock on the call
// (SELECT … FOR NO KEY UPDATE) taken before the checks, so the checks (finished, sequence,
// duplicate client id) always see the latest committed entries.
//
// Open checks the schema version (table schema_version) and applies pending migrations,
// each in its own transaction under an advisory lock, so instances starting together
// migrate once. It refuses a schema written by a newer Switchboard (ErrTooNew) and one
// that holds other tables but no journal version (ErrForeign). The tables live in the
// first schema of the connection's search_path (add ?search_path=NAME to the URL to keep
// them apart from other applications).
package pgjournal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/switchboard-sim/switchboard/engine"
	"github.com/switchboard-sim/switchboard/engine/journal"
	"github.com/switchboard-sim/switchboard/web/storage/sources"
)

// Errors Open returns, wrapped with details; check them with errors.Is.
var (
	// ErrForeign: the schema holds tables but is not a Switchboard journal.
	ErrForeign = errors.New("the database schema has tables but is not a Switchboard journal")
	// ErrTooNew: the schema was written by a newer Switchboard. Upgrade the binary.
	ErrTooNew = errors.New("journal was written by a newer version of Switchboard")
	// ErrBadURL: the database URL cannot be parsed.
	ErrBadURL = errors.New("bad PostgreSQL URL")
	// ErrUnreachable: no connection to the server could be made.
	ErrUnreachable = errors.New("cannot connect to PostgreSQL")
)

// migrations are the schema, one step per version: migrations[i] takes the schema from
// version i to i+1 (recorded in schema_version). Append new steps; never edit a released
// one.
//
// Ids and other keys are text COLLATE "C", so that they compare and sort byte by byte as
// Go strings do whatever the database's locale. Entry text is bytea: PostgreSQL text
// cannot hold NUL, and an event's text is kept exactly.
var migrations = []string{
	// 1: calls, their entries, shared scenario sources, the xAPI outbox, notes.
	`CREATE TABLE sources (
		key  text COLLATE "C" NOT NULL PRIMARY KEY, -- hex SHA-256 of data
		data bytea NOT NULL                         -- JSON array of engine.SourceFile
	);
	CREATE TABLE calls (
		id          text COLLATE "C" NOT NULL PRIMARY KEY,
		scenario_id text COLLATE "C" NOT NULL,
		title       text NOT NULL,
		hash        text NOT NULL,
		sources_key text COLLATE "C" NOT NULL REFERENCES sources (key),
		seed        bigint NOT NULL,  -- the uint64 seed's bits as an int64
		trainee     text COLLATE "C" NOT NULL,
		coach       boolean NOT NULL,
		suggestions text NOT NULL,
		created     timestamptz NOT NULL,
		token_hash  text NOT NULL,
		result      text,             -- JSON journal.Result; NULL while the call is open
		ended       timestamptz       -- result's Ended; NULL while open
	);
	CREATE INDEX calls_by_created  ON calls (created DESC, id);
	CREATE INDEX calls_by_trainee  ON calls (trainee, created DESC, id);
	CREATE INDEX calls_by_scenario ON calls (scenario_id, created DESC, id);
	CREATE INDEX calls_open        ON calls (created DESC, id) WHERE result IS NULL;
	CREATE TABLE entries (
		call_id   text COLLATE "C" NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
		seq       bigint NOT NULL CHECK (seq >= 1),
		client_id text COLLATE "C",   -- NULL when the entry has none
		type      text NOT NULL,      -- engine.Event fields
		at        bigint NOT NULL,
		text      bytea NOT NULL,
		idx       bigint NOT NULL,
		PRIMARY KEY (call_id, seq),
		UNIQUE (call_id, client_id)
	);
	CREATE TABLE outbox (
		call_id    text COLLATE "C" NOT NULL PRIMARY KEY,
		due        timestamptz NOT NULL,
		attempts   integer NOT NULL DEFAULT 0,
		last_error text NOT NULL DEFAULT '',
		sent       timestamptz         -- NULL until reported
	);
	CREATE INDEX outbox_due ON outbox (due, call_id) WHERE sent IS NULL;
	CREATE TABLE notes (
		call_id text COLLATE "C" NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
		n       integer NOT NULL CHECK (n >= 1),
		at      bigint NOT NULL CHECK (at >= 0), -- ms on the call clock
		text    text NOT NULL,
		author  text NOT NULL,
		created timestamptz NOT NULL,
		PRIMARY KEY (call_id, n)
	);`,
	// 2: call ownership (journal.Leases): one row per call an instance has owned.
	`CREATE TABLE call_leases (
		call_id text COLLATE "C" NOT NULL PRIMARY KEY REFERENCES calls (id) ON DELETE CASCADE,
		owner   text COLLATE "C" NOT NULL,          -- the instance's id
		epoch   bigint NOT NULL CHECK (epoch >= 1), -- +1 at every takeover: the fencing token
		expires timestamptz NOT NULL
	);
	CREATE INDEX call_leases_by_owner ON call_leases (owner);`,
	// 3: accounts (web/accounts), as in the SQLite journal's schema 6: teams, accounts,
	// invites, sign-in sessions, and which account made which call. Tokens are stored as
	// hex SHA-256 only.
	`CREATE TABLE teams (
		id      text COLLATE "C" NOT NULL PRIMARY KEY,
		name    text COLLATE "C" NOT NULL,
		track   text NOT NULL DEFAULT '',
		created timestamptz NOT NULL
	);
	CREATE TABLE accounts (
		id            text COLLATE "C" NOT NULL PRIMARY KEY,
		login         text COLLATE "C" NOT NULL UNIQUE,
		name          text COLLATE "C" NOT NULL,
		role          text NOT NULL CHECK (role IN ('trainee', 'supervisor')),
		team          text COLLATE "C" NOT NULL DEFAULT '',
		password_hash text NOT NULL,
		created       timestamptz NOT NULL
	);
	CREATE INDEX accounts_by_team ON accounts (team, name);
	CREATE TABLE invites (
		token_hash text COLLATE "C" NOT NULL PRIMARY KEY,
		role       text NOT NULL,
		team       text NOT NULL DEFAULT '',
		created_by text NOT NULL,
		created    timestamptz NOT NULL,
		expires    timestamptz NOT NULL,
		used       timestamptz,          -- NULL while unused
		used_by    text NOT NULL DEFAULT ''
	);
	CREATE TABLE sessions (
		token_hash text COLLATE "C" NOT NULL PRIMARY KEY,
		account_id text COLLATE "C" NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
		created    timestamptz NOT NULL,
		expires    timestamptz NOT NULL
	);
	CREATE INDEX sessions_by_account ON sessions (account_id);
	CREATE TABLE call_links (
		call_id    text COLLATE "C" NOT NULL PRIMARY KEY,
		account_id text COLLATE "C" NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
		track      text NOT NULL DEFAULT '',
		step       text NOT NULL DEFAULT '',
		created    timestamptz NOT NULL
	);
	CREATE INDEX call_links_by_account ON call_links (account_id, created);`,
	// 4: a track assigned to one trainee, overriding the team's (web/accounts), as in the
	// SQLite journal's schema 7.
	`ALTER TABLE accounts ADD COLUMN track text NOT NULL DEFAULT '';`,
	// 5: settings every instance shares (settings.go): the studio's secrets, the peers'
	// token. A value is written once (the first instance to need it) and then only read.
	`CREATE TABLE settings (
		key     text COLLATE "C" NOT NULL PRIMARY KEY,
		value   text NOT NULL,
		created timestamptz NOT NULL
	);`,
	// 6: the scenario library every instance mirrors into its folder (library.go): its
	// files (a deleted one stays as a tombstone), their replaced versions, and the studio's
	// sign-in sessions (ids as hex SHA-256 only).
	`CREATE TABLE library_files (
		path     text COLLATE "C" NOT NULL PRIMARY KEY,
		content  bytea,                      -- NULL for a tombstone
		hash     text NOT NULL,              -- hex SHA-256 of content; '' for a tombstone
		deleted  boolean NOT NULL,
		modified timestamptz NOT NULL,
		author   text NOT NULL,              -- instance (and role) that wrote it
		version  bigint NOT NULL UNIQUE CHECK (version >= 1)
	);
	CREATE TABLE library_revisions (
		id      bigserial PRIMARY KEY,       -- newer revisions have higher ids
		path    text COLLATE "C" NOT NULL,
		content bytea NOT NULL,
		hash    text NOT NULL,
		saved   timestamptz NOT NULL,
		author  text NOT NULL,
		lint    text NOT NULL DEFAULT '',   -- 'passed', 'errors' or '' (unknown)
		errors  integer NOT NULL DEFAULT 0
	);
	CREATE INDEX library_revisions_by_path ON library_revisions (path, id DESC);
	CREATE TABLE studio_sessions (
		token_hash text COLLATE "C" NOT NULL PRIMARY KEY,
		role       text NOT NULL,
		created    timestamptz NOT NULL,
		expires    timestamptz NOT NULL
	);
	CREATE INDEX studio_sessions_by_expiry ON studio_sessions (expires);`,
	// 7: the live instances and the URL each advertises to the others (peers.go,
	// web/peers): registered at start, seen every heartbeat, removed when stopping.
	`CREATE TABLE instances (
		name    text COLLATE "C" NOT NULL PRIMARY KEY,
		url     text NOT NULL,
		started timestamptz NOT NULL,
		seen    timestamptz NOT NULL
	);`,
}

// SchemaVersion is the schema version this binary writes and understands.
var SchemaVersion = len(migrations)

// Pool limits.
const (
	// MaxConns bounds the connections one DB opens (the writer's included).
	MaxConns = 8
	// connectTimeout bounds how long Open waits for the server.
	connectTimeout = 10 * time.Second
)

// DB is a journal in PostgreSQL. It implements journal.Journal, Outbox and Notes.
type DB struct {
	pool *pgxpool.Pool
	wr   *writer
	url  string // redacted

	sources sources.Cache // insertCall's encodings of scenario sources

	closeOnce sync.Once
}

var (
	_ journal.Journal = (*DB)(nil)
	_ journal.Outbox  = (*DB)(nil)
	_ journal.Notes   = (*DB)(nil)
)

// Redact returns rawURL with its password replaced by "xxxxx", for logs and errors; also
// when rawURL does not parse.
func Redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return passwordInURL.ReplaceAllString(rawURL, "${1}xxxxx@")
	}
	if u.User == nil {
		return rawURL
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

// passwordInURL finds the password of a URL that does not parse.
var passwordInURL = regexp.MustCompile(`(://[^:/@]*:)[^@]*@`)

// Open connects to the PostgreSQL database at rawURL (postgres://user:password@host:port/db
// with libpq's parameters, e.g. sslmode, search_path) and migrates its schema to
// SchemaVersion. The error wraps ErrBadURL, ErrUnreachable, ErrForeign or ErrTooNew when
// the database cannot be used as it is; it never contains the password.
func Open(ctx context.Context, rawURL string) (*DB, error) {
	return open(ctx, rawURL, MaxBatch)
}

func open(ctx context.Context, rawURL string, maxBatch int) (*DB, error) {
	red := Redact(rawURL)
	cfg, err := pgxpool.ParseConfig(rawURL)
	if err != nil {
		// pgx's parse errors may quote the URL: say what is wrong without it.
		return nil, fmt.Errorf("pgjournal: open %s: %w (want postgres://user:password@host:port/database)", red, ErrBadURL)
	}
	if !strings.HasPrefix(rawURL, "postgres://") && !strings.HasPrefix(rawURL, "postgresql://") {
		return nil, fmt.Errorf("pgjournal: open %s: %w: it must start with postgres:// or postgresql://", red, ErrBadURL)
	}
	cfg.MaxConns = MaxConns
	if cfg.ConnConfig.ConnectTimeout == 0 || cfg.ConnConfig.ConnectTimeout > connectTimeout {
		cfg.ConnConfig.ConnectTimeout = connectTimeout
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("pgjournal: open %s: %w", red, err)
	}
	d := &DB{pool: pool, url: red}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		if ctx.Err() != nil {
			return nil, fmt.Errorf("pgjournal: open %s: %w", red, ctx.Err())
		}
		return nil, fmt.Errorf("pgjournal: open %s: %w: %w", red, ErrUnreachable, err)
	}
	if err := d.migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("pgjournal: open %s: %w", red, err)
	}
	d.wr, err = startWriter(ctx, pool, maxBatch)
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("pgjournal: open %s: %w", red, err)
	}
	return d, nil
}

// migrate applies pending migrations, one transaction each.
func (d *DB) migrate(ctx context.Context) error {
	for {
		done, err := d.migrateOne(ctx)
		if err != nil || done {
			return err
		}
	}
}

// migrateOne applies the next migration, if any, in one transaction under an advisory
// lock keyed by the schema, so that instances starting together wait for each other.
func (d *DB) migrateOne(ctx context.Context) (done bool, err error) {
	tx, err := d.pool.Begin(ctx)
	if err != nil {
		return false, err
	}
	defer tx.Rollback(ctx)
	var schema *string
	if err := tx.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return false, err
	}
	if schema == nil {
		return false, errors.New("no schema to create the tables in: the search_path names no existing schema")
	}
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('switchboard journal ' || current_schema()))`); err != nil {
		return false, fmt.Errorf("lock for migrating: %w", err)
	}
	var tables []string
	rows, err := tx.Query(ctx, `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY 1`)
	if err != nil {
		return false, err
	}
	tables, err = pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return false, err
	}
	version := 0
	switch {
	case len(tables) == 0:
		if _, err := tx.Exec(ctx, `CREATE TABLE schema_version (
			version integer NOT NULL PRIMARY KEY,
			applied timestamptz NOT NULL DEFAULT now()
		)`); err != nil {
			return false, fmt.Errorf("create schema_version: %w", err)
		}
	case !contains(tables, "schema_version"):
		return false, fmt.Errorf("%w (schema %s has tables %s)", ErrForeign, *schema, strings.Join(tables, ", "))
	default:
		if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_version`).Scan(&version); err != nil {
			return false, fmt.Errorf("read schema_version: %w", err)
		}
	}
	switch {
	case version > len(migrations):
		return false, fmt.Errorf("%w: its schema version is %d, this binary knows versions up to %d", ErrTooNew, version, len(migrations))
	case version == len(migrations):
		return true, tx.Commit(ctx)
	}
	if _, err := tx.Exec(ctx, migrations[version]); err != nil {
		return false, fmt.Errorf("migrate to schema version %d: %w", version+1, err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO schema_version (version) VALUES ($1)`, version+1); err != nil {
		return false, fmt.Errorf("migrate to schema version %d: %w", version+1, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return false, fmt.Errorf("migrate to schema version %d: commit: %w", version+1, err)
	}
	return false, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// CommitObserver is told about each committed batch: how many writes it held (including
// those refused by their checks) and how long BEGIN … COMMIT took. The same type as
// web/storage/sqlitejournal's.
type CommitObserver = func(writes int, took time.Duration)

// SetCommitObserver has fn told about every committed batch (nil to stop); for metrics.
func (d *DB) SetCommitObserver(fn CommitObserver) {
	if fn == nil {
		d.wr.observer.Store(nil)
		return
	}
	d.wr.observer.Store(&fn)
}

// URL returns the database's URL with its password hidden.
func (d *DB) URL() string { return d.url }

// Pool returns the connection pool (for the call ownership leases and tests).
func (d *DB) Pool() *pgxpool.Pool { return d.pool }

// Close waits for the queued writes and closes the pool. Closing twice is harmless.
func (d *DB) Close() error {
	d.closeOnce.Do(func() {
		d.wr.close()
		d.pool.Close()
	})
	return nil
}

// pgCode returns the SQLSTATE of err, or "".
func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// Create records a new call: journal.ErrExists if the id is taken.
func (d *DB) Create(ctx context.Context, c journal.Call) error {
	ins, err := d.insertCall(c)
	if err == nil {
		err = d.wr.doLow(ctx, ins) // behind the running calls' writes
	}
	if err != nil {
		return fmt.Errorf("pgjournal: create call %q: %w", c.ID, err)
	}
	return nil
}

// insertCall returns the write that records a new call (journal.ErrExists when the id is
// taken).
func (d *DB) insertCall(c journal.Call) (func(ctx context.Context, tx pgx.Tx) error, error) {
	src, err := d.sources.Encode(c.Sources)
	if err != nil {
		return nil, err
	}
	key := src.Key
	return func(ctx context.Context, tx pgx.Tx) error {
		// The sources are stored once per content.
		if _, err := tx.Exec(ctx, `INSERT INTO sources (key, data) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING`,
			key, src.Data); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `INSERT INTO calls
			(id, scenario_id, title, hash, sources_key, seed, trainee, coach, suggestions, created, token_hash)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (id) DO NOTHING`,
			c.ID, c.ScenarioID, c.Title, c.Hash, key, int64(c.Seed), c.Trainee, c.Coach, c.Suggestions,
			c.Created, c.TokenHash)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return journal.ErrExists
		}
		return nil
	}, nil
}

// Append records the next entry of an open call, committed with the other writes waiting
// at the time (group commit), and returns after that commit. The checks run in this order:
// journal.ErrNotFound, ErrDuplicate (the client id is already recorded for the call),
// ErrFinished, ErrSeqGap (e.Seq is not one more than the last).
func (d *DB) Append(ctx context.Context, callID string, e journal.Entry) error {
	err := d.wr.doAppend(ctx, &appendOp{callID: callID, entry: e})
	if err != nil {
		return fmt.Errorf("pgjournal: append seq %d to call %q: %w", e.Seq, callID, err)
	}
	return nil
}

// appendEntry checks and inserts one entry inside the writer's transaction, fenced by l
// when it is not nil. The call's row is locked first, and the checks run in the next
// statement: in READ COMMITTED each statement takes a new snapshot, so they see every
// entry and lease committed before the lock was granted, by any instance. (One statement
// that locked and counted would count with the snapshot it started with.) Both statements
// go in one round trip.
func appendEntry(ctx context.Context, tx pgx.Tx, callID string, l *journal.Lease, e journal.Entry) error {
	var finished, duplicate bool
	var last int64
	var owner *string
	var epoch *int64
	b := &pgx.Batch{}
	b.Queue(`SELECT 1 FROM calls WHERE id = $1 FOR NO KEY UPDATE`, callID)
	b.Queue(`SELECT
			c.result IS NOT NULL,
			(SELECT coalesce(max(seq), 0) FROM entries WHERE call_id = c.id),
			$2 <> '' AND EXISTS (SELECT 1 FROM entries WHERE call_id = c.id AND client_id = $2),
			l.owner, l.epoch
		FROM calls c LEFT JOIN call_leases l ON l.call_id = c.id WHERE c.id = $1`, callID, e.ClientID)
	br := tx.SendBatch(ctx, b)
	var one int
	err := br.QueryRow().Scan(&one)
	if err == nil {
		err = br.QueryRow().Scan(&finished, &last, &duplicate, &owner, &epoch)
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return journal.ErrNotFound
	case err != nil:
		return err
	case l != nil && !holds(l, owner, epoch):
		return journal.ErrFenced
	case duplicate:
		return fmt.Errorf("client id %q: %w", e.ClientID, journal.ErrDuplicate)
	case finished:
		return journal.ErrFinished
	case e.Seq != last+1:
		return fmt.Errorf("last is %d: %w", last, journal.ErrSeqGap)
	}
	var clientID *string // NULL when empty: UNIQUE lets NULLs repeat
	if e.ClientID != "" {
		clientID = &e.ClientID
	}
	_, err = tx.Exec(ctx, `INSERT INTO entries (call_id, seq, client_id, type, at, text, idx)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		callID, e.Seq, clientID, string(e.Event.Type), e.Event.At, []byte(e.Event.Text), int64(e.Event.Index))
	if err != nil {
		// The lock and the checks make these impossible; map them anyway.
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "23505" {
			if strings.Contains(pe.ConstraintName, "client") {
				return fmt.Errorf("%w: %w", journal.ErrDuplicate, err)
			}
			return fmt.Errorf("%w: %w", journal.ErrSeqGap, err)
		}
		return err
	}
	return nil
}

// Finish marks a call as ended with its result: journal.ErrNotFound or ErrFinished.
func (d *DB) Finish(ctx context.Context, callID string, r journal.Result) error {
	result, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("pgjournal: finish call %q: encode result: %w", callID, err)
	}
	err = d.wr.do(ctx, func(ctx context.Context, tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE calls SET result = $2, ended = $3 WHERE id = $1 AND result IS NULL`,
			callID, string(result), r.Ended)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 1 {
			return nil
		}
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM calls WHERE id = $1)`, callID).Scan(&exists); err != nil {
			return err
		}
		if exists {
			return journal.ErrFinished
		}
		return journal.ErrNotFound
	})
	if err != nil {
		return fmt.Errorf("pgjournal: finish call %q: %w", callID, err)
	}
	return nil
}

// Summaries implements journal.Summarizer: the calls with the given ids in one query.
func (d *DB) Summaries(ctx context.Context, ids []string) ([]journal.Summary, error) {
	out := []journal.Summary{}
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := d.pool.Query(ctx, `SELECT `+callColumns+` FROM `+callTables+` WHERE c.id = ANY($1)`, ids)
	if err != nil {
		return nil, fmt.Errorf("pgjournal: summaries: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		c, r, err := scanCall(rows)
		if err != nil {
			return nil, fmt.Errorf("pgjournal: summaries: %w", err)
		}
		out = append(out, journal.Summary{Call: c, Result: r})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pgjournal: summaries: %w", err)
	}
	return out, nil
}

// callColumns are the columns scanCall reads, in order, from callTables.
const callColumns = `c.id, c.scenario_id, c.title, c.hash, s.data, c.seed, c.trainee, c.coach,
	c.created, c.token_hash, c.result, c.suggestions`

// callTables joins a call to its sources.
const callTables = `calls c JOIN sources s ON s.key = c.sources_key`

// scanCall reads one row of callColumns.
func scanCall(row pgx.Row) (journal.Call, *journal.Result, error) {
	var (
		c       journal.Call
		sources []byte
		seed    int64
		result  *string
	)
	if err := row.Scan(&c.ID, &c.ScenarioID, &c.Title, &c.Hash, &sources, &seed, &c.Trainee,
		&c.Coach, &c.Created, &c.TokenHash, &result, &c.Suggestions); err != nil {
		return c, nil, err
	}
	c.Seed = uint64(seed)
	var src []engine.SourceFile
	if err := json.Unmarshal(sources, &src); err != nil {
		return c, nil, fmt.Errorf("call %q: bad sources: %w", c.ID, err)
	}
	c.Sources = src
	if result == nil {
		return c, nil, nil
	}
	r := new(journal.Result)
	if err := json.Unmarshal([]byte(*result), r); err != nil {
		return c, nil, fmt.Errorf("call %q: bad result: %w", c.ID, err)
	}
	return c, r, nil
}

// Load returns a call, its entries in order, and its result (nil while open), all read in
// one snapshot.
func (d *DB) Load(ctx context.Context, callID string) (journal.Call, []journal.Entry, *journal.Result, error) {
	c, es, r, err := d.load(ctx, callID)
	if err != nil {
		return journal.Call{}, nil, nil, fmt.Errorf("pgjournal: load call %q: %w", callID, err)
	}
	return c, es, r, nil
}

func (d *DB) load(ctx context.Context, callID string) (journal.Call, []journal.Entry, *journal.Result, error) {
	if err := ctx.Err(); err != nil {
		return journal.Call{}, nil, nil, err
	}
	tx, err := d.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return journal.Call{}, nil, nil, err
	}
	defer tx.Rollback(ctx)
	c, r, err := scanCall(tx.QueryRow(ctx, `SELECT `+callColumns+` FROM `+callTables+` WHERE c.id = $1`, callID))
	if errors.Is(err, pgx.ErrNoRows) {
		return c, nil, nil, journal.ErrNotFound
	}
	if err != nil {
		return c, nil, nil, err
	}
	rows, err := tx.Query(ctx, `SELECT seq, client_id, type, at, text, idx
		FROM entries WHERE call_id = $1 ORDER BY seq`, callID)
	if err != nil {
		return c, nil, nil, err
	}
	var es []journal.Entry
	for rows.Next() {
		var (
			e        journal.Entry
			clientID *string
			typ      string
			text     []byte
			idx      int64
		)
		if err := rows.Scan(&e.Seq, &clientID, &typ, &e.Event.At, &text, &idx); err != nil {
			rows.Close()
			return c, nil, nil, err
		}
		if clientID != nil {
			e.ClientID = *clientID
		}
		e.Event.Type = engine.EventType(typ)
		e.Event.Text = string(text)
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
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("pgjournal: list calls: %w", err)
	}
	var (
		where []string
		args  []any
	)
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if f.Trainee != "" {
		where = append(where, "c.trainee = "+arg(f.Trainee))
	}
	if f.ScenarioID != "" {
		where = append(where, "c.scenario_id = "+arg(f.ScenarioID))
	}
	if f.Open != nil {
		if *f.Open {
			where = append(where, "c.result IS NULL")
		} else {
			where = append(where, "c.result IS NOT NULL")
		}
	}
	limit := f.Limit
	if limit <= 0 {
		limit = journal.DefaultLimit
	}
	q := `SELECT ` + callColumns + ` FROM ` + callTables
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += ` ORDER BY c.created DESC, c.id LIMIT ` + arg(limit)

	rows, err := d.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("pgjournal: list calls: %w", err)
	}
	defer rows.Close()
	var out []journal.Summary
	for rows.Next() {
		c, r, err := scanCall(rows)
		if err != nil {
			return nil, fmt.Errorf("pgjournal: list calls: %w", err)
		}
		out = append(out, journal.Summary{Call: c, Result: r})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pgjournal: list calls: %w", err)
	}
	return out, nil
}
