package sqlitejournal

import (
	"context"
	"fmt"
	"time"

	"github.com/switchboard-sim/switchboard/engine/journal"
)

var _ journal.Notes = (*DB)(nil)

// AddNote implements journal.Notes.
func (d *DB) AddNote(ctx context.Context, callID string, n journal.Note) error {
	if err := journal.CheckNote(n); err != nil {
		return fmt.Errorf("sqlitejournal: note on call %q: %w", callID, err)
	}
	if err := checkTime(n.Created); err != nil {
		return fmt.Errorf("sqlitejournal: note on call %q: created: %w", callID, err)
	}
	err := d.wr.do(ctx, func(w *writer) error {
		row, err := w.queryRow(`SELECT (SELECT COUNT(*) FROM calls WHERE id = ?1), (SELECT COUNT(*) FROM notes WHERE call_id = ?1)`, callID)
		if err != nil {
			return err
		}
		var calls, notes int
		if err := row.Scan(&calls, &notes); err != nil {
			return err
		}
		switch {
		case calls == 0:
			return journal.ErrNotFound
		case notes >= journal.MaxNotesPerCall:
			return journal.ErrTooManyNotes
		}
		_, err = w.exec(`INSERT INTO notes (call_id, n, at, text, author, created) VALUES (?, ?, ?, ?, ?, ?)`,
			callID, notes+1, n.At, n.Text, n.Author, formatTime(n.Created))
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlitejournal: note on call %q: %w", callID, classify(err))
	}
	return nil
}

// Notes implements journal.Notes.
func (d *DB) Notes(ctx context.Context, callID string) ([]journal.Note, error) {
	rows, err := d.r.QueryContext(ctx, `SELECT at, text, author, created FROM notes WHERE call_id = ? ORDER BY n`, callID)
	if err != nil {
		return nil, fmt.Errorf("sqlitejournal: notes of call %q: %w", callID, classify(err))
	}
	defer rows.Close()
	var out []journal.Note
	for rows.Next() {
		var n journal.Note
		var created string
		if err := rows.Scan(&n.At, &n.Text, &n.Author, &created); err != nil {
			return nil, fmt.Errorf("sqlitejournal: notes of call %q: %w", callID, err)
		}
		if n.Created, err = time.Parse(timeLayout, created); err != nil {
			return nil, fmt.Errorf("sqlitejournal: notes of call %q: bad created time: %w", callID, err)
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitejournal: notes of call %q: %w", callID, classify(err))
	}
	return out, nil
}
