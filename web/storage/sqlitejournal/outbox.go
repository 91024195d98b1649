package sqlitejournal

import (
	"context"
	"fmt"
	"time"

	"github.com/switchboard-sim/switchboard/engine/journal"
)

var _ journal.Outbox = (*DB)(nil)

// Enqueue implements journal.Outbox.
func (d *DB) Enqueue(ctx context.Context, callID string, now time.Time) error {
	if err := d.wr.do(ctx, func(w *writer) error {
		_, err := w.exec(`INSERT INTO outbox (call_id, due) VALUES (?, ?) ON CONFLICT (call_id) DO NOTHING`,
			callID, formatTime(now))
		return err
	}); err != nil {
		return fmt.Errorf("sqlitejournal: enqueue %q: %w", callID, classify(err))
	}
	return nil
}

// Due implements journal.Outbox: the calls due are read and claimed (their next attempt
// moved journal.OutboxClaim ahead) in one write transaction.
func (d *DB) Due(ctx context.Context, now time.Time, limit int) ([]journal.OutboxItem, error) {
	if limit <= 0 {
		limit = journal.DefaultLimit
	}
	var items []journal.OutboxItem
	err := d.wr.do(ctx, func(w *writer) error {
		items = items[:0]
		s, err := w.stmt(`SELECT call_id, attempts, last_error, due FROM outbox
			WHERE sent IS NULL AND due <= ? ORDER BY due, call_id LIMIT ?`)
		if err != nil {
			return classify(err)
		}
		rows, err := s.Query(formatTime(now), limit)
		if err != nil {
			return classify(err)
		}
		defer rows.Close()
		for rows.Next() {
			var it journal.OutboxItem
			var due string
			if err := rows.Scan(&it.CallID, &it.Attempts, &it.LastError, &due); err != nil {
				return err
			}
			if it.Due, err = time.Parse(timeLayout, due); err != nil {
				return fmt.Errorf("due %q: %w", due, err)
			}
			items = append(items, it)
		}
		if err := rows.Err(); err != nil {
			return classify(err)
		}
		if len(items) == 0 {
			return nil
		}
		// The same rows as the SELECT: the writer's connection is the only one writing.
		_, err = w.exec(`UPDATE outbox SET due = ? WHERE call_id IN (SELECT call_id FROM outbox
			WHERE sent IS NULL AND due <= ? ORDER BY due, call_id LIMIT ?)`,
			formatTime(now.Add(journal.OutboxClaim)), formatTime(now), limit)
		return classify(err)
	})
	if err != nil {
		return nil, fmt.Errorf("sqlitejournal: outbox: %w", err)
	}
	return items, nil
}

// Sent implements journal.Outbox.
func (d *DB) Sent(ctx context.Context, callID string, at time.Time) error {
	return d.updateOutbox(ctx, callID, `UPDATE outbox SET sent = ? WHERE call_id = ?`, formatTime(at), callID)
}

// Retry implements journal.Outbox.
func (d *DB) Retry(ctx context.Context, callID string, next time.Time, lastError string) error {
	return d.updateOutbox(ctx, callID, `UPDATE outbox SET attempts = attempts + 1, last_error = ?, due = ? WHERE call_id = ?`,
		lastError, formatTime(next), callID)
}

func (d *DB) updateOutbox(ctx context.Context, callID, query string, args ...any) error {
	err := d.wr.do(ctx, func(w *writer) error {
		res, err := w.exec(query, args...)
		if err != nil {
			return classify(err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return journal.ErrNotFound
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlitejournal: outbox %q: %w", callID, err)
	}
	return nil
}
