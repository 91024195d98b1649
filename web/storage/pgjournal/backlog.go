package pgjournal

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/switchboard-sim/switchboard/engine/journal"
)

// Backlog implements journal.Backlogger: the writes waiting for the writer.
func (d *DB) Backlog() int { return d.wr.q.Backlog() }

// BacklogWait implements journal.Backlogger: how long the waiting writes will take to
// commit, at the recent commits' pace (groupcommit.Queue.BacklogWait).
func (d *DB) BacklogWait() time.Duration { return d.wr.q.BacklogWait() }

var _ journal.Backlogger = (*DB)(nil)

// doLow is do in the write queue's low lane: a new call joins a batch after every write
// of running calls waiting at the time (groupcommit.Queue.DoLow).
func (w *writer) doLow(ctx context.Context, run func(ctx context.Context, tx pgx.Tx) error) error {
	return w.q.DoLow(ctx, op{run: run})
}
