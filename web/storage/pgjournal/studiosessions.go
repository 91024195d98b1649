package pgjournal

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/switchboard-sim/switchboard/web/access"
)

// The studio's sign-in sessions (access.SessionStore), shared by every instance: a
// supervisor signed in on one instance is recognised by all. Only the hash of a session
// id is stored. A sign-in and a revocation also sweep expired sessions.

var _ access.SessionStore = (*DB)(nil)

// CreateStudioSession implements access.SessionStore.
func (d *DB) CreateStudioSession(ctx context.Context, idHash, role string, created, expires time.Time) error {
	// Sign-ins are rare (and throttled): each sweeps the expired sessions too.
	if _, err := d.pool.Exec(ctx, `WITH swept AS (DELETE FROM studio_sessions WHERE expires <= $3)
		INSERT INTO studio_sessions (token_hash, role, created, expires) VALUES ($1, $2, $3, $4)`,
		idHash, role, created, expires); err != nil {
		return fmt.Errorf("pgjournal: create studio session: %w", err)
	}
	return nil
}

// StudioSessionRole implements access.SessionStore.
func (d *DB) StudioSessionRole(ctx context.Context, idHash string, now time.Time) (string, error) {
	var role string
	err := d.pool.QueryRow(ctx, `SELECT role FROM studio_sessions WHERE token_hash = $1 AND expires > $2`, idHash, now).Scan(&role)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return "", nil
	case err != nil:
		return "", fmt.Errorf("pgjournal: studio session: %w", err)
	}
	return role, nil
}

// RevokeStudioSession implements access.SessionStore.
func (d *DB) RevokeStudioSession(ctx context.Context, idHash string) error {
	if _, err := d.pool.Exec(ctx, `DELETE FROM studio_sessions WHERE token_hash = $1 OR expires <= $2`, idHash, time.Now()); err != nil {
		return fmt.Errorf("pgjournal: revoke studio session: %w", err)
	}
	return nil
}
