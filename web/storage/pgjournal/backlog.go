package pgjournal

import "github.com/switchboard-sim/switchboard/engine/journal"

// Backlog implements journal.Backlogger: the writes waiting for the writer.
func (d *DB) Backlog() int { return d.wr.q.Backlog() }

var _ journal.Backlogger = (*DB)(nil)
