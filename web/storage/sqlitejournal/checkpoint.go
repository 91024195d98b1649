package sqlitejournal

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"sync/atomic"
	"time"
)

// Checkpoints off the commit path. In WAL mode a commit appends the pages it changed to
// the WAL; a checkpoint copies them back into the main file and fsyncs it. SQLite's default
// (wal_autocheckpoint = 1,000 pages, ~4 MB) runs that checkpoint inside the COMMIT that
// crosses the limit, on the writer's connection, before any write of the batch is
// acknowledged. A group commit of 800 events from 800 calls dirties ~1,600 pages, so with
// the default every commit also checkpointed: twice the bytes written and a second fsync
// on the commit path.
//
// Instead a checkpointer goroutine, on a connection of its own, runs
// PRAGMA wal_checkpoint(PASSIVE) after commits (at most once per checkpointInterval).
// PASSIVE never blocks the writer nor readers; it copies what it can. The writer keeps
// wal_autocheckpoint = WALCheckpointPages as the bound: if the checkpointer falls behind (or
// readers keep the WAL from being reset), the commit that crosses it checkpoints as before,
// which by then has little left to copy. Durability is unchanged: a write is acknowledged
// after its COMMIT fsynced the WAL (synchronous=FULL); the WAL is the durable record and
// recovery replays it after kill -9 or power loss.

// WALCheckpointPages is the WAL size, in pages (4 KiB), past which the committing
// connection itself checkpoints (SQLite's wal_autocheckpoint): the bound on the WAL when
// the background checkpointer does not keep up. 16,384 pages is 64 MiB.
const WALCheckpointPages = 16384

// checkpointInterval is the least time between two background checkpoints.
const checkpointInterval = 200 * time.Millisecond

// checkpointer runs passive checkpoints on its own connection.
type checkpointer struct {
	db      *sql.DB
	runs    atomic.Int64 // checkpoints attempted, for tests
	stop    chan struct{}
	stopped chan struct{}
}

// startCheckpointer opens a connection to the file at abs and starts the goroutine, which
// checkpoints after the writer w commits.
func startCheckpointer(ctx context.Context, abs string, w *writer) (*checkpointer, error) {
	db, err := sql.Open("sqlite", dsn(abs, url.Values{
		"_pragma": {
			fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()),
			"synchronous(FULL)",
		},
	}))
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, err
	}
	c := &checkpointer{db: db, stop: make(chan struct{}), stopped: make(chan struct{})}
	go c.run(w.committed)
	return c, nil
}

// run checkpoints after each signal on committed, no more often than checkpointInterval.
func (c *checkpointer) run(committed <-chan struct{}) {
	defer close(c.stopped)
	for {
		select {
		case <-c.stop:
			return
		case <-committed:
		}
		// A failed passive checkpoint loses nothing (the WAL holds the commits); the next
		// one, or the writer's at WALCheckpointPages, retries.
		_, _ = c.db.ExecContext(context.Background(), "PRAGMA wal_checkpoint(PASSIVE)")
		c.runs.Add(1)
		select {
		case <-c.stop:
			return
		case <-time.After(checkpointInterval):
		}
	}
}

// close stops the goroutine and closes its connection.
func (c *checkpointer) close() error {
	close(c.stop)
	<-c.stopped
	return c.db.Close()
}
