package pgjournal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/switchboard-sim/switchboard/engine/journal"
)

// Call ownership (journal.Leases) in the table call_leases. Every lease operation and
// every fenced write locks the call's row first (FOR NO KEY UPDATE), then reads the lease
// in the next statement, in the same transaction as its write: two instances racing for a
// call are serialised by the row lock, and a fenced write sees the lease as it is when the
// write commits. Leases go through the writer like every write, so a takeover is
// acknowledged only once durable.

var _ journal.Leases = (*DB)(nil)

// holds reports whether the stored lease (owner, epoch; NULL when none) is l.
func holds(l *journal.Lease, owner *string, epoch *int64) bool {
	return owner != nil && epoch != nil && *owner == l.Owner && *epoch == l.Epoch
}

// lockedLease locks callID's row and reads whether the call ended and its lease (nil for
// none). pgx.ErrNoRows when there is no such call.
func lockedLease(ctx context.Context, tx pgx.Tx, callID string) (finished bool, cur *journal.Lease, err error) {
	b := &pgx.Batch{}
	b.Queue(`SELECT 1 FROM calls WHERE id = $1 FOR NO KEY UPDATE`, callID)
	b.Queue(`SELECT c.result IS NOT NULL, l.owner, l.epoch, l.expires
		FROM calls c LEFT JOIN call_leases l ON l.call_id = c.id WHERE c.id = $1`, callID)
	br := tx.SendBatch(ctx, b)
	var (
		one     int
		owner   *string
		epoch   *int64
		expires *time.Time
	)
	err = br.QueryRow().Scan(&one)
	if err == nil {
		err = br.QueryRow().Scan(&finished, &owner, &epoch, &expires)
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return false, nil, err
	}
	if owner != nil && epoch != nil && expires != nil {
		cur = &journal.Lease{CallID: callID, Owner: *owner, Epoch: *epoch, Expires: *expires}
	}
	return finished, cur, nil
}

// CreateLeased implements journal.Leases: the call and its lease are inserted in one
// transaction.
func (d *DB) CreateLeased(ctx context.Context, c journal.Call, owner string, now time.Time, ttl time.Duration) (journal.Lease, error) {
	l, err := journal.DecideAcquire(nil, c.ID, owner, now, ttl)
	if err != nil { // cannot happen: nobody holds a call that does not exist yet
		return journal.Lease{}, fmt.Errorf("pgjournal: create call %q: %w", c.ID, err)
	}
	l.Expires = l.Expires.Truncate(time.Microsecond) // what timestamptz keeps
	ins, err := d.insertCall(c)
	if err == nil {
		err = d.wr.do(ctx, func(ctx context.Context, tx pgx.Tx) error {
			if err := ins(ctx, tx); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO call_leases (call_id, owner, epoch, expires) VALUES ($1, $2, $3, $4)`,
				l.CallID, l.Owner, l.Epoch, l.Expires)
			return err
		})
	}
	if err != nil {
		return journal.Lease{}, fmt.Errorf("pgjournal: create call %q for %q: %w", c.ID, owner, err)
	}
	return l, nil
}

// Acquire implements journal.Leases.
func (d *DB) Acquire(ctx context.Context, callID, owner string, now time.Time, ttl time.Duration) (journal.Lease, error) {
	var got journal.Lease
	err := d.wr.do(ctx, func(ctx context.Context, tx pgx.Tx) error {
		finished, cur, err := lockedLease(ctx, tx, callID)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return journal.ErrNotFound
		case err != nil:
			return err
		case finished:
			return journal.ErrFinished
		}
		next, err := journal.DecideAcquire(cur, callID, owner, now, ttl)
		if err != nil {
			return err
		}
		next.Expires = next.Expires.Truncate(time.Microsecond) // what timestamptz keeps
		if _, err := tx.Exec(ctx, `INSERT INTO call_leases (call_id, owner, epoch, expires) VALUES ($1, $2, $3, $4)
			ON CONFLICT (call_id) DO UPDATE SET owner = excluded.owner, epoch = excluded.epoch, expires = excluded.expires`,
			callID, next.Owner, next.Epoch, next.Expires); err != nil {
			return err
		}
		got = next
		return nil
	})
	if err != nil {
		return journal.Lease{}, fmt.Errorf("pgjournal: lease call %q for %q: %w", callID, owner, err)
	}
	return got, nil
}

// Renew implements journal.Leases.
func (d *DB) Renew(ctx context.Context, owner string, now time.Time, ttl time.Duration) (int, error) {
	var n int64
	err := d.wr.do(ctx, func(ctx context.Context, tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE call_leases l SET expires = $2 FROM calls c
			WHERE l.owner = $1 AND c.id = l.call_id AND c.result IS NULL`, owner, now.Add(ttl))
		n = tag.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("pgjournal: renew leases of %q: %w", owner, err)
	}
	return int(n), nil
}

// Release implements journal.Leases.
func (d *DB) Release(ctx context.Context, l journal.Lease) error {
	err := d.wr.do(ctx, func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE call_leases SET owner = '', expires = $4 WHERE call_id = $1 AND owner = $2 AND epoch = $3`,
			l.CallID, l.Owner, l.Epoch, time.Time{})
		return err
	})
	if err != nil {
		return fmt.Errorf("pgjournal: release lease on call %q: %w", l.CallID, err)
	}
	return nil
}

// AppendLeased implements journal.Leases.
func (d *DB) AppendLeased(ctx context.Context, l journal.Lease, e journal.Entry) error {
	err := d.wr.doAppend(ctx, &appendOp{callID: l.CallID, lease: &l, entry: e})
	if err != nil {
		return fmt.Errorf("pgjournal: append seq %d to call %q (epoch %d): %w", e.Seq, l.CallID, l.Epoch, err)
	}
	return nil
}

// FinishLeased implements journal.Leases.
func (d *DB) FinishLeased(ctx context.Context, l journal.Lease, r journal.Result) error {
	result, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("pgjournal: finish call %q: encode result: %w", l.CallID, err)
	}
	err = d.wr.do(ctx, func(ctx context.Context, tx pgx.Tx) error {
		finished, cur, err := lockedLease(ctx, tx, l.CallID)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return journal.ErrNotFound
		case err != nil:
			return err
		case cur == nil || cur.Owner != l.Owner || cur.Epoch != l.Epoch:
			return journal.ErrFenced
		case finished:
			return journal.ErrFinished
		}
		_, err = tx.Exec(ctx, `UPDATE calls SET result = $2, ended = $3 WHERE id = $1`, l.CallID, string(result), r.Ended)
		return err
	})
	if err != nil {
		return fmt.Errorf("pgjournal: finish call %q (epoch %d): %w", l.CallID, l.Epoch, err)
	}
	return nil
}

// Unowned implements journal.Leases.
func (d *DB) Unowned(ctx context.Context, now time.Time, limit int) ([]string, error) {
	if limit <= 0 {
		limit = journal.DefaultLimit
	}
	rows, err := d.pool.Query(ctx, `SELECT c.id FROM calls c LEFT JOIN call_leases l ON l.call_id = c.id
		WHERE c.result IS NULL AND (l.call_id IS NULL OR l.expires <= $1)
		ORDER BY c.created DESC, c.id LIMIT $2`, now, limit)
	if err != nil {
		return nil, fmt.Errorf("pgjournal: unowned calls: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("pgjournal: unowned calls: %w", err)
	}
	return ids, nil
}

// Adopt implements journal.Leases in one statement: it locks the orphans' call rows with
// SKIP LOCKED (rows another instance is adopting, acquiring or writing to are skipped, not
// waited for), as every lease operation and fenced write locks the call's row first, and
// inserts or takes over their leases; the ON CONFLICT clause checks again, on the lease as
// it is when locked, that it has expired.
func (d *DB) Adopt(ctx context.Context, owner string, now time.Time, ttl time.Duration, limit int) ([]journal.Lease, error) {
	if limit <= 0 {
		limit = journal.DefaultLimit
	}
	expires := now.Add(ttl).Truncate(time.Microsecond) // what timestamptz keeps
	var out []journal.Lease
	err := d.wr.do(ctx, func(ctx context.Context, tx pgx.Tx) error {
		out = out[:0]
		rows, err := tx.Query(ctx, `WITH o AS (
				SELECT c.id FROM calls c LEFT JOIN call_leases l ON l.call_id = c.id
				WHERE c.result IS NULL AND (l.call_id IS NULL OR l.expires <= $1)
				ORDER BY c.created DESC, c.id LIMIT $2
				FOR NO KEY UPDATE OF c SKIP LOCKED)
			INSERT INTO call_leases AS l (call_id, owner, epoch, expires)
			SELECT o.id, $3, 1, $4 FROM o
			ON CONFLICT (call_id) DO UPDATE SET owner = excluded.owner, epoch = l.epoch + 1, expires = excluded.expires
				WHERE l.expires <= $1
			RETURNING l.call_id, l.epoch`, now, limit, owner, expires)
		if err != nil {
			return err
		}
		leases, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (journal.Lease, error) {
			l := journal.Lease{Owner: owner, Expires: expires}
			err := row.Scan(&l.CallID, &l.Epoch)
			return l, err
		})
		out = leases
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("pgjournal: adopt calls for %q: %w", owner, err)
	}
	return out, nil
}
