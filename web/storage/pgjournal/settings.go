package pgjournal

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Settings that every instance sharing the database must agree on (the studio's secrets,
// the token instances present to each other) live in the table settings, one text value
// per key. A value is created once, by the first instance that needs it, and read by the
// others: two instances starting together agree on the same value.

// MaxSettingBytes bounds a setting's key and its value.
const MaxSettingBytes = 4096

// ErrSettingTooLarge is returned for a key or value over MaxSettingBytes.
var ErrSettingTooLarge = fmt.Errorf("setting larger than %d bytes", MaxSettingBytes)

// Setting returns the value stored under key. When there is none it stores create's
// value and returns it; when another instance stored one first, that one is returned and
// create's is dropped. create is called at most once, and only when key has no value yet.
func (d *DB) Setting(ctx context.Context, key string, create func() (string, error)) (string, error) {
	if len(key) == 0 || len(key) > MaxSettingBytes {
		return "", fmt.Errorf("pgjournal: setting %q: %w", key, ErrSettingTooLarge)
	}
	v, ok, err := d.readSetting(ctx, key)
	if err != nil || ok {
		return v, err
	}
	nv, err := create()
	if err != nil {
		return "", fmt.Errorf("pgjournal: setting %q: %w", key, err)
	}
	if len(nv) > MaxSettingBytes {
		return "", fmt.Errorf("pgjournal: setting %q: %w", key, ErrSettingTooLarge)
	}
	err = d.wr.do(ctx, func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO settings (key, value, created) VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING`,
			key, nv, time.Now())
		return err
	})
	if err != nil {
		return "", fmt.Errorf("pgjournal: setting %q: %w", key, err)
	}
	v, ok, err = d.readSetting(ctx, key)
	if err == nil && !ok {
		err = fmt.Errorf("pgjournal: setting %q vanished after it was written", key)
	}
	return v, err
}

// SetSetting stores value under key, replacing any value (an operator's explicit choice,
// such as a secret given on the command line).
func (d *DB) SetSetting(ctx context.Context, key, value string) error {
	if len(key) == 0 || len(key) > MaxSettingBytes || len(value) > MaxSettingBytes {
		return fmt.Errorf("pgjournal: setting %q: %w", key, ErrSettingTooLarge)
	}
	err := d.wr.do(ctx, func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO settings (key, value, created) VALUES ($1, $2, $3)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value, time.Now())
		return err
	})
	if err != nil {
		return fmt.Errorf("pgjournal: set setting %q: %w", key, err)
	}
	return nil
}

func (d *DB) readSetting(ctx context.Context, key string) (string, bool, error) {
	var v string
	err := d.pool.QueryRow(ctx, `SELECT value FROM settings WHERE key = $1`, key).Scan(&v)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return "", false, nil
	case err != nil:
		return "", false, fmt.Errorf("pgjournal: read setting %q: %w", key, err)
	}
	return v, true, nil
}
