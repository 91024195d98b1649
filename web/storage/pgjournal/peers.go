package pgjournal

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/switchboard-sim/switchboard/web/peers"
)

// The registry of live instances (peers.Registry) in the table instances: each instance
// upserts its row every heartbeat and deletes it when it stops; a row not seen for a
// while is ignored by readers and deleted by the next heartbeat of any instance.

var _ peers.Registry = (*DB)(nil)

// Heartbeat implements peers.Registry.
func (d *DB) Heartbeat(ctx context.Context, inst peers.Instance, forgetBefore time.Time) error {
	err := d.wr.do(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO instances (name, url, started, seen) VALUES ($1, $2, $3, $4)
			ON CONFLICT (name) DO UPDATE SET url = excluded.url, seen = excluded.seen`,
			inst.Name, inst.URL, inst.Started, inst.Seen); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM instances WHERE seen < $1 AND name <> $2`, forgetBefore, inst.Name)
		return err
	})
	if err != nil {
		return fmt.Errorf("pgjournal: heartbeat of instance %q: %w", inst.Name, err)
	}
	return nil
}

// RemoveInstance implements peers.Registry.
func (d *DB) RemoveInstance(ctx context.Context, name string) error {
	err := d.wr.do(ctx, func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `DELETE FROM instances WHERE name = $1`, name)
		return err
	})
	if err != nil {
		return fmt.Errorf("pgjournal: remove instance %q: %w", name, err)
	}
	return nil
}

// Instances implements peers.Registry.
func (d *DB) Instances(ctx context.Context, seenSince time.Time) ([]peers.Instance, error) {
	rows, err := d.pool.Query(ctx, `SELECT name, url, started, seen FROM instances WHERE seen >= $1 ORDER BY name`, seenSince)
	if err != nil {
		return nil, fmt.Errorf("pgjournal: list instances: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (peers.Instance, error) {
		var i peers.Instance
		err := row.Scan(&i.Name, &i.URL, &i.Started, &i.Seen)
		return i, err
	})
	if err != nil {
		return nil, fmt.Errorf("pgjournal: list instances: %w", err)
	}
	return out, nil
}

// CallOwner implements peers.Registry.
func (d *DB) CallOwner(ctx context.Context, callID string, now, seenSince time.Time) (peers.Instance, bool, error) {
	var i peers.Instance
	err := d.pool.QueryRow(ctx, `SELECT i.name, i.url, i.started, i.seen
		FROM call_leases l JOIN calls c ON c.id = l.call_id JOIN instances i ON i.name = l.owner
		WHERE l.call_id = $1 AND l.expires > $2 AND c.result IS NULL AND i.seen >= $3`, callID, now, seenSince).
		Scan(&i.Name, &i.URL, &i.Started, &i.Seen)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return peers.Instance{}, false, nil
	case err != nil:
		return peers.Instance{}, false, fmt.Errorf("pgjournal: owner of call %q: %w", callID, err)
	}
	return i, true, nil
}
