package pgjournal

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/switchboard-sim/switchboard/engine/journal"
)

// Backlog implements journal.Backlogger: the writes waiting for the writer.
func (d *DB) Backlog() int { return d.wr.q.Backlog() }

var _ journal.Backlogger = (*DB)(nil)

// doLow is do in the write queue's low lane: a new call joins a batch after every write
// of running calls waiting at the time (groupcommit.Queue.DoLow).
func (w *writer) doLow(ctx context.Context, run func(ctx context.Context, tx pgx.Tx) error) error {
	return w.q.DoLow(ctx, op{run: run})
}
