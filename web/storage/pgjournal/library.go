package pgjournal

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/switchboard-sim/switchboard/web/library/libstore"
)

// The scenario library shared by every instance (libstore.Store; web/library mirrors it
// into each instance's folder). Writes take a transaction-scoped advisory lock, so they
// commit one after the other in the order of their versions: a reader that has seen
// version N has seen every change before it, and the change feed (version > N) misses
// nothing. Library writes are rare (a designer's save), so the lock costs nothing that
// matters; they go through the pool, not the calls' group-commit writer. Each committed
// change is announced with NOTIFY on LibraryChannel, the payload naming the schema, so
// that instances on other schemas of the same database ignore it.

// LibraryChannel is the NOTIFY channel of library changes.
const LibraryChannel = "switchboard_library"

// Reconnection of ListenLibrary.
const (
	listenMinBackoff = 100 * time.Millisecond
	listenMaxBackoff = 5 * time.Second
)

var _ libstore.Store = (*DB)(nil)

func libHash(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// libraryTx runs f in a transaction holding the library's advisory lock.
func (d *DB) libraryTx(ctx context.Context, f func(tx pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('switchboard library ' || current_schema()))`); err != nil {
			return fmt.Errorf("library lock: %w", err)
		}
		return f(tx)
	})
}

// LibraryChanges implements libstore.Store.
func (d *DB) LibraryChanges(ctx context.Context, after int64) ([]libstore.File, error) {
	rows, err := d.pool.Query(ctx, `SELECT path, content, hash, deleted, modified, author, version
		FROM library_files WHERE version > $1 ORDER BY version`, after)
	if err != nil {
		return nil, fmt.Errorf("pgjournal: library changes: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (libstore.File, error) {
		var f libstore.File
		err := r.Scan(&f.Path, &f.Content, &f.Hash, &f.Deleted, &f.Modified, &f.By, &f.Version)
		f.Modified = f.Modified.UTC()
		return f, err
	})
	if err != nil {
		return nil, fmt.Errorf("pgjournal: library changes: %w", err)
	}
	return out, nil
}

// PutLibraryFile implements libstore.Store.
func (d *DB) PutLibraryFile(ctx context.Context, f libstore.File, base string, replaced libstore.Lint) (int64, error) {
	if f.Path == "" {
		return 0, errors.New("pgjournal: put library file: empty path")
	}
	newHash := ""
	var content []byte
	if !f.Deleted {
		content = f.Content
		if content == nil {
			content = []byte{}
		}
		newHash = libHash(content)
	}
	modified := f.Modified
	if modified.IsZero() {
		modified = time.Now()
	}
	var version int64
	err := d.libraryTx(ctx, func(tx pgx.Tx) error {
		var cur []byte
		var curHash, curBy string
		var deleted bool
		err := tx.QueryRow(ctx, `SELECT content, hash, deleted, author FROM library_files WHERE path = $1`, f.Path).Scan(&cur, &curHash, &deleted, &curBy)
		live := err == nil && !deleted
		switch {
		case errors.Is(err, pgx.ErrNoRows):
		case err != nil:
			return err
		}
		if !live {
			curHash = ""
		}
		switch {
		case curHash == newHash && (live || f.Deleted):
			return nil // what is stored already
		case curHash != base:
			return libstore.ErrConflict
		}
		if live {
			if err := keepRevision(ctx, tx, f.Path, cur, curBy, replaced, false); err != nil {
				return err
			}
		}
		if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) + 1 FROM library_files`).Scan(&version); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO library_files (path, content, hash, deleted, modified, author, version)
			VALUES ($1, $2, $3, $4, $5, $6, $7)
			ON CONFLICT (path) DO UPDATE SET content = excluded.content, hash = excluded.hash, deleted = excluded.deleted,
				modified = excluded.modified, author = excluded.author, version = excluded.version`,
			f.Path, content, newHash, f.Deleted, modified, f.By, version); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `SELECT pg_notify($1, current_schema())`, LibraryChannel)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("pgjournal: put library file %s: %w", f.Path, err)
	}
	return version, nil
}

// keepRevision adds data as the newest revision of p, unless the newest one (any one,
// with anyHash) has its hash, and removes those beyond libstore.MaxRevisions.
func keepRevision(ctx context.Context, tx pgx.Tx, p string, data []byte, by string, lint libstore.Lint, anyHash bool) error {
	h := libHash(data)
	q := `SELECT EXISTS (SELECT 1 FROM (SELECT hash FROM library_revisions WHERE path = $1 ORDER BY id DESC LIMIT 1) n WHERE hash = $2)`
	if anyHash {
		q = `SELECT EXISTS (SELECT 1 FROM library_revisions WHERE path = $1 AND hash = $2)`
	}
	var exists bool
	if err := tx.QueryRow(ctx, q, p, h).Scan(&exists); err != nil {
		return fmt.Errorf("keeping a revision: %w", err)
	}
	if exists {
		return nil
	}
	if _, err := tx.Exec(ctx, `INSERT INTO library_revisions (path, content, hash, saved, author, lint, errors)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, p, data, h, time.Now(), by, lint.Lint, lint.Errors); err != nil {
		return fmt.Errorf("keeping a revision: %w", err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM library_revisions WHERE path = $1 AND id < (
		SELECT min(id) FROM (SELECT id FROM library_revisions WHERE path = $1 ORDER BY id DESC LIMIT $2) k)`,
		p, libstore.MaxRevisions); err != nil {
		return fmt.Errorf("removing old revisions: %w", err)
	}
	return nil
}

// KeepLibraryRevision implements libstore.Store.
func (d *DB) KeepLibraryRevision(ctx context.Context, p string, data []byte, by string) error {
	err := d.libraryTx(ctx, func(tx pgx.Tx) error {
		var curHash string
		err := tx.QueryRow(ctx, `SELECT hash FROM library_files WHERE path = $1 AND NOT deleted`, p).Scan(&curHash)
		switch {
		case err == nil && curHash == libHash(data):
			return nil
		case err != nil && !errors.Is(err, pgx.ErrNoRows):
			return err
		}
		return keepRevision(ctx, tx, p, data, by, libstore.Lint{}, true)
	})
	if err != nil {
		return fmt.Errorf("pgjournal: keep a revision of %s: %w", p, err)
	}
	return nil
}

// LibraryRevisions implements libstore.Store.
func (d *DB) LibraryRevisions(ctx context.Context, p string) ([]libstore.Revision, error) {
	rows, err := d.pool.Query(ctx, `SELECT id, saved, length(content), hash, author, lint, errors
		FROM library_revisions WHERE path = $1 ORDER BY id DESC`, p)
	if err != nil {
		return nil, fmt.Errorf("pgjournal: revisions of %s: %w", p, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (libstore.Revision, error) {
		var rv libstore.Revision
		err := r.Scan(&rv.ID, &rv.Saved, &rv.Size, &rv.Hash, &rv.By, &rv.Lint.Lint, &rv.Errors)
		rv.Saved = rv.Saved.UTC()
		return rv, err
	})
	if err != nil {
		return nil, fmt.Errorf("pgjournal: revisions of %s: %w", p, err)
	}
	if out == nil {
		out = []libstore.Revision{}
	}
	return out, nil
}

// LibraryRevision implements libstore.Store.
func (d *DB) LibraryRevision(ctx context.Context, p string, id int64) ([]byte, error) {
	var data []byte
	err := d.pool.QueryRow(ctx, `SELECT content FROM library_revisions WHERE path = $1 AND id = $2`, p, id).Scan(&data)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, fmt.Errorf("pgjournal: revision %d of %s: %w", id, p, libstore.ErrNotFound)
	case err != nil:
		return nil, fmt.Errorf("pgjournal: revision %d of %s: %w", id, p, err)
	}
	return data, nil
}

// ListenLibrary implements libstore.Store: it LISTENs on LibraryChannel on a connection of
// its own (outside the pool: one more connection per instance), reconnecting with backoff
// (listenMinBackoff doubling up to listenMaxBackoff) when the connection fails.
func (d *DB) ListenLibrary(ctx context.Context, changed func()) error {
	backoff := listenMinBackoff
	failing := false
	for {
		err := d.listenOnce(ctx, changed, func() { backoff, failing = listenMinBackoff, false })
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !failing {
			slog.Warn("library changes: listening connection lost; reconnecting", "err", err)
			failing = true
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, listenMaxBackoff)
	}
}

// listenOnce connects, listens and calls changed until the connection fails.
func (d *DB) listenOnce(ctx context.Context, changed func(), connected func()) error {
	cctx, cancel := context.WithTimeout(ctx, connectTimeout)
	conn, err := pgx.ConnectConfig(cctx, d.pool.Config().ConnConfig.Copy())
	cancel()
	if err != nil {
		return err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_ = conn.Close(cctx)
		cancel()
	}()
	var schema string
	if err := conn.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, `LISTEN `+LibraryChannel); err != nil {
		return err
	}
	connected()
	changed() // changes made while not listening
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		if n.Channel == LibraryChannel && n.Payload == schema {
			changed()
		}
	}
}
