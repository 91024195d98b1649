package pgjournal

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/switchboard-sim/switchboard/engine/journal"
)

// AddNote implements journal.Notes. The call's row is locked while the notes are counted,
// so two instances adding notes at once number them without collision.
func (d *DB) AddNote(ctx context.Context, callID string, n journal.Note) error {
	if err := journal.CheckNote(n); err != nil {
		return fmt.Errorf("pgjournal: note on call %q: %w", callID, err)
	}
	err := d.wr.do(ctx, func(ctx context.Context, tx pgx.Tx) error {
		// Lock the call, then count in a new statement (a new snapshot): see appendEntry.
		var notes int
		b := &pgx.Batch{}
		b.Queue(`SELECT 1 FROM calls WHERE id = $1 FOR NO KEY UPDATE`, callID)
		b.Queue(`SELECT count(*) FROM notes WHERE call_id = $1`, callID)
		br := tx.SendBatch(ctx, b)
		var one int
		err := br.QueryRow().Scan(&one)
		if err == nil {
			err = br.QueryRow().Scan(&notes)
		}
		if cerr := br.Close(); err == nil {
			err = cerr
		}
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return journal.ErrNotFound
		case err != nil:
			return err
		case notes >= journal.MaxNotesPerCall:
			return journal.ErrTooManyNotes
		}
		_, err = tx.Exec(ctx, `INSERT INTO notes (call_id, n, at, text, author, created) VALUES ($1, $2, $3, $4, $5, $6)`,
			callID, notes+1, n.At, n.Text, n.Author, n.Created)
		return err
	})
	if err != nil {
		return fmt.Errorf("pgjournal: note on call %q: %w", callID, err)
	}
	return nil
}

// Notes implements journal.Notes.
func (d *DB) Notes(ctx context.Context, callID string) ([]journal.Note, error) {
	rows, err := d.pool.Query(ctx, `SELECT at, text, author, created FROM notes WHERE call_id = $1 ORDER BY n`, callID)
	if err != nil {
		return nil, fmt.Errorf("pgjournal: notes of call %q: %w", callID, err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (journal.Note, error) {
		var n journal.Note
		err := row.Scan(&n.At, &n.Text, &n.Author, &n.Created)
		return n, err
	})
	if err != nil {
		return nil, fmt.Errorf("pgjournal: notes of call %q: %w", callID, err)
	}
	return out, nil
}
