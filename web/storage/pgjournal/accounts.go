package pgjournal

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/switchboard-sim/switchboard/web/accounts"
)

// The database also stores accounts (schema 3), shared by every instance: DB implements
// accounts.Store. Times are returned in UTC.
var _ accounts.Store = (*DB)(nil)

// writeOne runs one statement on the writer, mapping a uniqueness violation to
// accounts.ErrExists and no row changed to accounts.ErrNotFound (when mustChange).
func (d *DB) writeOne(ctx context.Context, what string, mustChange bool, query string, args ...any) error {
	err := d.wr.do(ctx, func(ctx context.Context, tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, query, args...)
		if err != nil {
			return err
		}
		if mustChange && tag.RowsAffected() == 0 {
			return accounts.ErrNotFound
		}
		return nil
	})
	return accountsErr(what, err)
}

// accountsErr wraps err with what, mapping a uniqueness violation to ErrExists.
func accountsErr(what string, err error) error {
	switch {
	case err == nil:
		return nil
	case pgCode(err) == "23505":
		return fmt.Errorf("pgjournal: %s: %w: %w", what, accounts.ErrExists, err)
	case errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("pgjournal: %s: %w", what, accounts.ErrNotFound)
	}
	return fmt.Errorf("pgjournal: %s: %w", what, err)
}

// CreateTeam implements accounts.Store.
func (d *DB) CreateTeam(ctx context.Context, t accounts.Team) error {
	return d.writeOne(ctx, "create team", false, `INSERT INTO teams (id, name, track, created) VALUES ($1, $2, $3, $4)`,
		t.ID, t.Name, t.Track, t.Created)
}

// SetAccountTrack implements accounts.Store.
func (d *DB) SetAccountTrack(ctx context.Context, id, track string) error {
	return d.writeOne(ctx, "assign a track to an account", true, `UPDATE accounts SET track = $2 WHERE id = $1`, id, track)
}

// SetTeamTrack implements accounts.Store.
func (d *DB) SetTeamTrack(ctx context.Context, id, track string) error {
	return d.writeOne(ctx, "assign a track", true, `UPDATE teams SET track = $2 WHERE id = $1`, id, track)
}

func scanTeam(row pgx.Row) (accounts.Team, error) {
	var t accounts.Team
	err := row.Scan(&t.ID, &t.Name, &t.Track, &t.Created)
	t.Created = t.Created.UTC()
	return t, err
}

// Team implements accounts.Store.
func (d *DB) Team(ctx context.Context, id string) (accounts.Team, error) {
	t, err := scanTeam(d.pool.QueryRow(ctx, `SELECT id, name, track, created FROM teams WHERE id = $1`, id))
	return t, accountsErr(fmt.Sprintf("team %q", id), err)
}

// Teams implements accounts.Store.
func (d *DB) Teams(ctx context.Context) ([]accounts.Team, error) {
	rows, err := d.pool.Query(ctx, `SELECT id, name, track, created FROM teams ORDER BY name, id`)
	if err != nil {
		return nil, accountsErr("teams", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (accounts.Team, error) { return scanTeam(r) })
	return out, accountsErr("teams", err)
}

// CreateInvite implements accounts.Store.
func (d *DB) CreateInvite(ctx context.Context, inv accounts.Invite) error {
	return d.writeOne(ctx, "create invite", false,
		`INSERT INTO invites (token_hash, role, team, created_by, created, expires) VALUES ($1, $2, $3, $4, $5, $6)`,
		inv.TokenHash, inv.Role, inv.Team, inv.CreatedBy, inv.Created, inv.Expires)
}

// Invite implements accounts.Store.
func (d *DB) Invite(ctx context.Context, hash string) (accounts.Invite, error) {
	var inv accounts.Invite
	var used *time.Time
	err := d.pool.QueryRow(ctx, `SELECT token_hash, role, team, created_by, created, expires, used, used_by FROM invites WHERE token_hash = $1`, hash).
		Scan(&inv.TokenHash, &inv.Role, &inv.Team, &inv.CreatedBy, &inv.Created, &inv.Expires, &used, &inv.UsedBy)
	if err != nil {
		return accounts.Invite{}, accountsErr("invite", err)
	}
	inv.Created, inv.Expires = inv.Created.UTC(), inv.Expires.UTC()
	if used != nil {
		inv.Used = used.UTC()
	}
	return inv, nil
}

// AcceptInvite implements accounts.Store: the invite is marked used (only if it is still
// unused: the row lock serialises instances accepting one invite at once) and the account
// created in one transaction, so a failure (the login is taken) leaves both as they were.
func (d *DB) AcceptInvite(ctx context.Context, hash string, acc accounts.Account, now time.Time) error {
	err := d.wr.do(ctx, func(ctx context.Context, tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE invites SET used = $2, used_by = $3 WHERE token_hash = $1 AND used IS NULL`, hash, now, acc.ID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			var exists bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM invites WHERE token_hash = $1)`, hash).Scan(&exists); err != nil {
				return err
			}
			if exists {
				return accounts.ErrInviteUsed
			}
			return accounts.ErrNotFound
		}
		_, err = tx.Exec(ctx, `INSERT INTO accounts (id, login, name, role, team, track, password_hash, created) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			acc.ID, acc.Login, acc.Name, acc.Role, acc.Team, acc.Track, acc.PasswordHash, acc.Created)
		return err // a failure aborts the transaction: the invite stays unused
	})
	switch {
	case err == nil:
		return nil
	case errors.Is(err, accounts.ErrNotFound), errors.Is(err, accounts.ErrInviteUsed):
		return err
	}
	return accountsErr(fmt.Sprintf("accept invite: login %q", acc.Login), err)
}

// CreateAccount implements accounts.Store.
func (d *DB) CreateAccount(ctx context.Context, acc accounts.Account) error {
	return d.writeOne(ctx, "create account", false,
		`INSERT INTO accounts (id, login, name, role, team, track, password_hash, created) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		acc.ID, acc.Login, acc.Name, acc.Role, acc.Team, acc.Track, acc.PasswordHash, acc.Created)
}

const accountCols = `id, login, name, role, team, track, password_hash, created`

func scanAccount(row pgx.Row) (accounts.Account, error) {
	var a accounts.Account
	err := row.Scan(&a.ID, &a.Login, &a.Name, &a.Role, &a.Team, &a.Track, &a.PasswordHash, &a.Created)
	a.Created = a.Created.UTC()
	return a, err
}

// Account implements accounts.Store.
func (d *DB) Account(ctx context.Context, id string) (accounts.Account, error) {
	a, err := scanAccount(d.pool.QueryRow(ctx, `SELECT `+accountCols+` FROM accounts WHERE id = $1`, id))
	return a, accountsErr("account", err)
}

// AccountByLogin implements accounts.Store.
func (d *DB) AccountByLogin(ctx context.Context, login string) (accounts.Account, error) {
	a, err := scanAccount(d.pool.QueryRow(ctx, `SELECT `+accountCols+` FROM accounts WHERE login = $1`, login))
	return a, accountsErr("account", err)
}

// Accounts implements accounts.Store.
func (d *DB) Accounts(ctx context.Context, team string) ([]accounts.Account, error) {
	rows, err := d.pool.Query(ctx, `SELECT `+accountCols+` FROM accounts WHERE $1 = '' OR team = $1 ORDER BY name, id`, team)
	if err != nil {
		return nil, accountsErr("accounts", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (accounts.Account, error) { return scanAccount(r) })
	return out, accountsErr("accounts", err)
}

// CreateSession implements accounts.Store.
func (d *DB) CreateSession(ctx context.Context, s accounts.Session) error {
	return d.writeOne(ctx, "create session", false, `INSERT INTO sessions (token_hash, account_id, created, expires) VALUES ($1, $2, $3, $4)`,
		s.TokenHash, s.AccountID, s.Created, s.Expires)
}

// Session implements accounts.Store.
func (d *DB) Session(ctx context.Context, hash string) (accounts.Session, error) {
	var s accounts.Session
	err := d.pool.QueryRow(ctx, `SELECT token_hash, account_id, created, expires FROM sessions WHERE token_hash = $1`, hash).
		Scan(&s.TokenHash, &s.AccountID, &s.Created, &s.Expires)
	if err != nil {
		return accounts.Session{}, accountsErr("session", err)
	}
	s.Created, s.Expires = s.Created.UTC(), s.Expires.UTC()
	return s, nil
}

// DeleteSession implements accounts.Store.
func (d *DB) DeleteSession(ctx context.Context, hash string) error {
	return d.writeOne(ctx, "delete session", false, `DELETE FROM sessions WHERE token_hash = $1`, hash)
}

// DeleteSessions implements accounts.Store.
func (d *DB) DeleteSessions(ctx context.Context, accountID string) (int, error) {
	var n int64
	err := d.wr.do(ctx, func(ctx context.Context, tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM sessions WHERE account_id = $1`, accountID)
		n = tag.RowsAffected()
		return err
	})
	if err != nil {
		return 0, accountsErr("revoke sessions", err)
	}
	return int(n), nil
}

// DeleteExpiredSessions implements accounts.Store.
func (d *DB) DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error) {
	var n int64
	err := d.wr.do(ctx, func(ctx context.Context, tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM sessions WHERE expires <= $1`, now)
		n = tag.RowsAffected()
		return err
	})
	if err != nil {
		return 0, accountsErr("sweep expired sessions", err)
	}
	return int(n), nil
}

// LinkCall implements accounts.Store.
func (d *DB) LinkCall(ctx context.Context, l accounts.CallLink) error {
	return d.writeOne(ctx, "link call", false, `INSERT INTO call_links (call_id, account_id, track, step, created) VALUES ($1, $2, $3, $4, $5)`,
		l.CallID, l.AccountID, l.Track, l.Step, l.Created)
}

func scanLink(row pgx.Row) (accounts.CallLink, error) {
	var l accounts.CallLink
	err := row.Scan(&l.CallID, &l.AccountID, &l.Track, &l.Step, &l.Created)
	l.Created = l.Created.UTC()
	return l, err
}

// CallLink implements accounts.Store.
func (d *DB) CallLink(ctx context.Context, callID string) (accounts.CallLink, error) {
	l, err := scanLink(d.pool.QueryRow(ctx, `SELECT call_id, account_id, track, step, created FROM call_links WHERE call_id = $1`, callID))
	return l, accountsErr("call link", err)
}

// CallLinks implements accounts.Store.
func (d *DB) CallLinks(ctx context.Context, ids []string) ([]accounts.CallLink, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := d.pool.Query(ctx, `SELECT call_id, account_id, track, step, created FROM call_links
		WHERE account_id = ANY($1) ORDER BY created, call_id`, ids)
	if err != nil {
		return nil, accountsErr("call links", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (accounts.CallLink, error) { return scanLink(r) })
	return out, accountsErr("call links", err)
}
