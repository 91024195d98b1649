package sqlitejournal

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/switchboard-sim/switchboard/web/accounts"
)

// The journal file also stores accounts (schema 6): DB implements accounts.Store.
var _ accounts.Store = (*DB)(nil)

// isUnique reports a UNIQUE or PRIMARY KEY violation.
func isUnique(err error) bool {
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}

// writeOne runs one insert or update on the writer, mapping a uniqueness violation to
// accounts.ErrExists and no row changed to accounts.ErrNotFound (when mustChange).
func (d *DB) writeOne(ctx context.Context, what string, mustChange bool, query string, args ...any) error {
	err := d.wr.do(ctx, func(w *writer) error {
		res, err := w.exec(query, args...)
		if err != nil {
			return err
		}
		if mustChange {
			if n, err := res.RowsAffected(); err == nil && n == 0 {
				return accounts.ErrNotFound
			}
		}
		return nil
	})
	switch {
	case err == nil:
		return nil
	case isUnique(err):
		return fmt.Errorf("sqlitejournal: %s: %w", what, accounts.ErrExists)
	case errors.Is(err, accounts.ErrNotFound):
		return fmt.Errorf("sqlitejournal: %s: %w", what, accounts.ErrNotFound)
	}
	return fmt.Errorf("sqlitejournal: %s: %w", what, classify(err))
}

func parseTime(s string) (time.Time, error) { return time.Parse(timeLayout, s) }

// CreateTeam implements accounts.Store.
func (d *DB) CreateTeam(ctx context.Context, t accounts.Team) error {
	return d.writeOne(ctx, "create team", false, `INSERT INTO teams (id, name, track, created) VALUES (?, ?, ?, ?)`,
		t.ID, t.Name, t.Track, formatTime(t.Created))
}

// SetAccountTrack implements accounts.Store.
func (d *DB) SetAccountTrack(ctx context.Context, id, track string) error {
	return d.writeOne(ctx, "assign a track to an account", true, `UPDATE accounts SET track = ? WHERE id = ?`, track, id)
}

// SetTeamTrack implements accounts.Store.
func (d *DB) SetTeamTrack(ctx context.Context, id, track string) error {
	return d.writeOne(ctx, "assign a track", true, `UPDATE teams SET track = ? WHERE id = ?`, track, id)
}

func scanTeam(sc interface{ Scan(...any) error }) (accounts.Team, error) {
	var t accounts.Team
	var created string
	if err := sc.Scan(&t.ID, &t.Name, &t.Track, &created); err != nil {
		return t, err
	}
	var err error
	t.Created, err = parseTime(created)
	return t, err
}

// Team implements accounts.Store.
func (d *DB) Team(ctx context.Context, id string) (accounts.Team, error) {
	t, err := scanTeam(d.r.QueryRowContext(ctx, `SELECT id, name, track, created FROM teams WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return t, accounts.ErrNotFound
	}
	if err != nil {
		return t, fmt.Errorf("sqlitejournal: team %q: %w", id, classify(err))
	}
	return t, nil
}

// Teams implements accounts.Store.
func (d *DB) Teams(ctx context.Context) ([]accounts.Team, error) {
	rows, err := d.r.QueryContext(ctx, `SELECT id, name, track, created FROM teams ORDER BY name, id`)
	if err != nil {
		return nil, fmt.Errorf("sqlitejournal: teams: %w", classify(err))
	}
	defer rows.Close()
	var out []accounts.Team
	for rows.Next() {
		t, err := scanTeam(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlitejournal: teams: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// CreateInvite implements accounts.Store.
func (d *DB) CreateInvite(ctx context.Context, inv accounts.Invite) error {
	return d.writeOne(ctx, "create invite", false,
		`INSERT INTO invites (token_hash, role, team, created_by, created, expires) VALUES (?, ?, ?, ?, ?, ?)`,
		inv.TokenHash, inv.Role, inv.Team, inv.CreatedBy, formatTime(inv.Created), formatTime(inv.Expires))
}

// Invite implements accounts.Store.
func (d *DB) Invite(ctx context.Context, hash string) (accounts.Invite, error) {
	var inv accounts.Invite
	var created, expires string
	var used sql.NullString
	err := d.r.QueryRowContext(ctx, `SELECT token_hash, role, team, created_by, created, expires, used, used_by FROM invites WHERE token_hash = ?`, hash).
		Scan(&inv.TokenHash, &inv.Role, &inv.Team, &inv.CreatedBy, &created, &expires, &used, &inv.UsedBy)
	if errors.Is(err, sql.ErrNoRows) {
		return inv, accounts.ErrNotFound
	}
	if err != nil {
		return inv, fmt.Errorf("sqlitejournal: invite: %w", classify(err))
	}
	if inv.Created, err = parseTime(created); err == nil {
		if inv.Expires, err = parseTime(expires); err == nil && used.Valid {
			inv.Used, err = parseTime(used.String)
		}
	}
	if err != nil {
		return inv, fmt.Errorf("sqlitejournal: invite: bad time: %w", err)
	}
	return inv, nil
}

// AcceptInvite implements accounts.Store: the account is created and the invite marked
// used in one savepoint, so a failure leaves both as they were.
func (d *DB) AcceptInvite(ctx context.Context, hash string, acc accounts.Account, now time.Time) error {
	err := d.wr.do(ctx, func(w *writer) error {
		row, err := w.queryRow(`SELECT used IS NOT NULL FROM invites WHERE token_hash = ?`, hash)
		if err != nil {
			return err
		}
		var used bool
		switch err := row.Scan(&used); {
		case errors.Is(err, sql.ErrNoRows):
			return accounts.ErrNotFound
		case err != nil:
			return err
		case used:
			return accounts.ErrInviteUsed
		}
		if _, err := w.exec(`SAVEPOINT accept_invite`); err != nil {
			return err
		}
		_, err = w.exec(`INSERT INTO accounts (id, login, name, role, team, track, password_hash, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			acc.ID, acc.Login, acc.Name, acc.Role, acc.Team, acc.Track, acc.PasswordHash, formatTime(acc.Created))
		if err == nil {
			_, err = w.exec(`UPDATE invites SET used = ?, used_by = ? WHERE token_hash = ?`, formatTime(now), acc.ID, hash)
		}
		if err != nil {
			_, _ = w.exec(`ROLLBACK TO accept_invite`)
			_, _ = w.exec(`RELEASE accept_invite`)
			return err
		}
		_, err = w.exec(`RELEASE accept_invite`)
		return err
	})
	switch {
	case err == nil:
		return nil
	case errors.Is(err, accounts.ErrNotFound), errors.Is(err, accounts.ErrInviteUsed):
		return err
	case isUnique(err):
		return fmt.Errorf("sqlitejournal: accept invite: login %q: %w", acc.Login, accounts.ErrExists)
	}
	return fmt.Errorf("sqlitejournal: accept invite: %w", classify(err))
}

// CreateAccount implements accounts.Store.
func (d *DB) CreateAccount(ctx context.Context, acc accounts.Account) error {
	return d.writeOne(ctx, "create account", false,
		`INSERT INTO accounts (id, login, name, role, team, track, password_hash, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		acc.ID, acc.Login, acc.Name, acc.Role, acc.Team, acc.Track, acc.PasswordHash, formatTime(acc.Created))
}

const accountCols = `id, login, name, role, team, track, password_hash, created`

func scanAccount(sc interface{ Scan(...any) error }) (accounts.Account, error) {
	var a accounts.Account
	var created string
	if err := sc.Scan(&a.ID, &a.Login, &a.Name, &a.Role, &a.Team, &a.Track, &a.PasswordHash, &created); err != nil {
		return a, err
	}
	var err error
	a.Created, err = parseTime(created)
	return a, err
}

func (d *DB) oneAccount(ctx context.Context, where string, arg any) (accounts.Account, error) {
	a, err := scanAccount(d.r.QueryRowContext(ctx, `SELECT `+accountCols+` FROM accounts WHERE `+where+` = ?`, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return a, accounts.ErrNotFound
	}
	if err != nil {
		return a, fmt.Errorf("sqlitejournal: account: %w", classify(err))
	}
	return a, nil
}

// Account implements accounts.Store.
func (d *DB) Account(ctx context.Context, id string) (accounts.Account, error) {
	return d.oneAccount(ctx, "id", id)
}

// AccountByLogin implements accounts.Store.
func (d *DB) AccountByLogin(ctx context.Context, login string) (accounts.Account, error) {
	return d.oneAccount(ctx, "login", login)
}

// Accounts implements accounts.Store.
func (d *DB) Accounts(ctx context.Context, team string) ([]accounts.Account, error) {
	rows, err := d.r.QueryContext(ctx, `SELECT `+accountCols+` FROM accounts WHERE ?1 = '' OR team = ?1 ORDER BY name, id`, team)
	if err != nil {
		return nil, fmt.Errorf("sqlitejournal: accounts: %w", classify(err))
	}
	defer rows.Close()
	var out []accounts.Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlitejournal: accounts: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// CreateSession implements accounts.Store.
func (d *DB) CreateSession(ctx context.Context, s accounts.Session) error {
	return d.writeOne(ctx, "create session", false, `INSERT INTO sessions (token_hash, account_id, created, expires) VALUES (?, ?, ?, ?)`,
		s.TokenHash, s.AccountID, formatTime(s.Created), formatTime(s.Expires))
}

// Session implements accounts.Store.
func (d *DB) Session(ctx context.Context, hash string) (accounts.Session, error) {
	var s accounts.Session
	var created, expires string
	err := d.r.QueryRowContext(ctx, `SELECT token_hash, account_id, created, expires FROM sessions WHERE token_hash = ?`, hash).
		Scan(&s.TokenHash, &s.AccountID, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return s, accounts.ErrNotFound
	}
	if err != nil {
		return s, fmt.Errorf("sqlitejournal: session: %w", classify(err))
	}
	if s.Created, err = parseTime(created); err == nil {
		s.Expires, err = parseTime(expires)
	}
	return s, err
}

// DeleteSession implements accounts.Store.
func (d *DB) DeleteSession(ctx context.Context, hash string) error {
	return d.writeOne(ctx, "delete session", false, `DELETE FROM sessions WHERE token_hash = ?`, hash)
}

// DeleteSessions implements accounts.Store.
func (d *DB) DeleteSessions(ctx context.Context, accountID string) (int, error) {
	var n int64
	err := d.wr.do(ctx, func(w *writer) error {
		res, err := w.exec(`DELETE FROM sessions WHERE account_id = ?`, accountID)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("sqlitejournal: revoke sessions: %w", classify(err))
	}
	return int(n), nil
}

// DeleteExpiredSessions implements accounts.Store. Times are stored fixed-width in UTC,
// so text order is time order.
func (d *DB) DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error) {
	var n int64
	err := d.wr.do(ctx, func(w *writer) error {
		res, err := w.exec(`DELETE FROM sessions WHERE expires <= ?`, formatTime(now))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("sqlitejournal: sweep expired sessions: %w", classify(err))
	}
	return int(n), nil
}

// LinkCall implements accounts.Store.
func (d *DB) LinkCall(ctx context.Context, l accounts.CallLink) error {
	return d.writeOne(ctx, "link call", false, `INSERT INTO call_links (call_id, account_id, track, step, created) VALUES (?, ?, ?, ?, ?)`,
		l.CallID, l.AccountID, l.Track, l.Step, formatTime(l.Created))
}

func scanLink(sc interface{ Scan(...any) error }) (accounts.CallLink, error) {
	var l accounts.CallLink
	var created string
	if err := sc.Scan(&l.CallID, &l.AccountID, &l.Track, &l.Step, &created); err != nil {
		return l, err
	}
	var err error
	l.Created, err = parseTime(created)
	return l, err
}

// CallLink implements accounts.Store.
func (d *DB) CallLink(ctx context.Context, callID string) (accounts.CallLink, error) {
	l, err := scanLink(d.r.QueryRowContext(ctx, `SELECT call_id, account_id, track, step, created FROM call_links WHERE call_id = ?`, callID))
	if errors.Is(err, sql.ErrNoRows) {
		return l, accounts.ErrNotFound
	}
	if err != nil {
		return l, fmt.Errorf("sqlitejournal: call link: %w", classify(err))
	}
	return l, nil
}

// CallLinks implements accounts.Store.
func (d *DB) CallLinks(ctx context.Context, ids []string) ([]accounts.CallLink, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	q := `SELECT call_id, account_id, track, step, created FROM call_links WHERE account_id IN (?` +
		strings.Repeat(", ?", len(ids)-1) + `) ORDER BY created, call_id`
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := d.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlitejournal: call links: %w", classify(err))
	}
	defer rows.Close()
	var out []accounts.CallLink
	for rows.Next() {
		l, err := scanLink(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlitejournal: call links: %w", err)
		}
		out = append(out, l)
	}
	return out, rows.Err()
}
