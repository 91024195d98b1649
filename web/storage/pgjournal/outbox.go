package pgjournal

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/switchboard-sim/switchboard/engine/journal"
)

// Enqueue implements journal.Outbox.
func (d *DB) Enqueue(ctx context.Context, callID string, now time.Time) error {
	if err := d.wr.do(ctx, func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO outbox (call_id, due) VALUES ($1, $2) ON CONFLICT (call_id) DO NOTHING`,
			callID, now)
		return err
	}); err != nil {
		return fmt.Errorf("pgjournal: enqueue %q: %w", callID, err)
	}
	return nil
}

// Due implements journal.Outbox: one statement selects the calls due with FOR UPDATE SKIP
// LOCKED (rows another instance is claiming at that moment are skipped, not waited for)
// and moves their next attempt journal.OutboxClaim ahead, so that instances sharing the
// outbox claim disjoint calls.
func (d *DB) Due(ctx context.Context, now time.Time, limit int) ([]journal.OutboxItem, error) {
	if limit <= 0 {
		limit = journal.DefaultLimit
	}
	rows, err := d.pool.Query(ctx, `WITH c AS (
			SELECT call_id, due FROM outbox WHERE sent IS NULL AND due <= $1
			ORDER BY due, call_id LIMIT $2 FOR UPDATE SKIP LOCKED)
		UPDATE outbox o SET due = $3 FROM c WHERE o.call_id = c.call_id
		RETURNING o.call_id, o.attempts, o.last_error, c.due`, now, limit, now.Add(journal.OutboxClaim))
	if err != nil {
		return nil, fmt.Errorf("pgjournal: outbox: %w", err)
	}
	items, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (journal.OutboxItem, error) {
		var it journal.OutboxItem
		err := row.Scan(&it.CallID, &it.Attempts, &it.LastError, &it.Due)
		return it, err
	})
	if err != nil {
		return nil, fmt.Errorf("pgjournal: outbox: %w", err)
	}
	slices.SortFunc(items, func(a, b journal.OutboxItem) int {
		if c := a.Due.Compare(b.Due); c != 0 {
			return c
		}
		return strings.Compare(a.CallID, b.CallID)
	})
	return items, nil
}

// Sent implements journal.Outbox.
func (d *DB) Sent(ctx context.Context, callID string, at time.Time) error {
	return d.updateOutbox(ctx, callID, `UPDATE outbox SET sent = $2 WHERE call_id = $1`, callID, at)
}

// Retry implements journal.Outbox.
func (d *DB) Retry(ctx context.Context, callID string, next time.Time, lastError string) error {
	return d.updateOutbox(ctx, callID, `UPDATE outbox SET attempts = attempts + 1, last_error = $2, due = $3 WHERE call_id = $1`,
		callID, lastError, next)
}

func (d *DB) updateOutbox(ctx context.Context, callID, query string, args ...any) error {
	err := d.wr.do(ctx, func(ctx context.Context, tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, query, args...)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return journal.ErrNotFound
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("pgjournal: outbox %q: %w", callID, err)
	}
	return nil
}
