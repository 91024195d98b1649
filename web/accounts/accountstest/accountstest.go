// Package accountstest checks that an accounts.Store behaves as the interface says. Each
// implementation's tests call Run with a function that returns an empty store.
package accountstest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/web/accounts"
)

var t0 = time.Date(2026, 12, 4, 20, 0, 0, 0, time.UTC)

// Run runs the store contract against stores made by newStore.
func Run(t *testing.T, newStore func(t *testing.T) accounts.Store) {
	ctx := context.Background()
	acc := func(id, login, team string) accounts.Account {
		return accounts.Account{ID: id, Login: login, Name: "Name " + id, Role: accounts.RoleTrainee, Team: team, PasswordHash: "$argon2id$x", Created: t0}
	}
	t.Run("teams", func(t *testing.T) {
		st := newStore(t)
		require.NoError(t, st.CreateTeam(ctx, accounts.Team{ID: "t1", Name: "B team", Created: t0}))
		require.NoError(t, st.CreateTeam(ctx, accounts.Team{ID: "t2", Name: "A team", Track: "foundations", Created: t0}))
		assert.ErrorIs(t, st.CreateTeam(ctx, accounts.Team{ID: "t1", Name: "again", Created: t0}), accounts.ErrExists)
		require.NoError(t, st.SetTeamTrack(ctx, "t1", "difficult-calls"))
		assert.ErrorIs(t, st.SetTeamTrack(ctx, "nope", "x"), accounts.ErrNotFound)
		require.NoError(t, st.CreateAccount(ctx, acc("a1", "ann", "t1")))
		require.NoError(t, st.SetAccountTrack(ctx, "a1", "foundations"))
		assert.ErrorIs(t, st.SetAccountTrack(ctx, "nope", "x"), accounts.ErrNotFound)
		got, err := st.Account(ctx, "a1")
		require.NoError(t, err)
		assert.Equal(t, "foundations", got.Track, "a trainee's own track")
		byLogin, err := st.AccountByLogin(ctx, "ann")
		require.NoError(t, err)
		assert.Equal(t, "foundations", byLogin.Track)
		members, err := st.Accounts(ctx, "t1")
		require.NoError(t, err)
		require.Len(t, members, 1)
		assert.Equal(t, "foundations", members[0].Track)
		require.NoError(t, st.SetAccountTrack(ctx, "a1", ""))
		got, err = st.Account(ctx, "a1")
		require.NoError(t, err)
		assert.Empty(t, got.Track, "cleared: the team's track again")
		tm, err := st.Team(ctx, "t1")
		require.NoError(t, err)
		assert.Equal(t, accounts.Team{ID: "t1", Name: "B team", Track: "difficult-calls", Created: t0}, tm)
		_, err = st.Team(ctx, "nope")
		assert.ErrorIs(t, err, accounts.ErrNotFound)
		all, err := st.Teams(ctx)
		require.NoError(t, err)
		require.Len(t, all, 2)
		assert.Equal(t, "A team", all[0].Name, "teams are listed by name")
	})
	t.Run("invites are used once", func(t *testing.T) {
		st := newStore(t)
		inv := accounts.Invite{TokenHash: "h1", Role: accounts.RoleTrainee, Team: "t1", CreatedBy: "a0", Created: t0, Expires: t0.Add(time.Hour)}
		require.NoError(t, st.CreateInvite(ctx, inv))
		got, err := st.Invite(ctx, "h1")
		require.NoError(t, err)
		assert.Equal(t, inv, got)
		_, err = st.Invite(ctx, "h2")
		assert.ErrorIs(t, err, accounts.ErrNotFound)

		require.NoError(t, st.CreateAccount(ctx, acc("a0", "taken", "")))
		assert.ErrorIs(t, st.AcceptInvite(ctx, "h1", acc("a1", "taken", "t1"), t0.Add(time.Minute)), accounts.ErrExists)
		got, _ = st.Invite(ctx, "h1")
		assert.True(t, got.Used.IsZero(), "a refused sign-up leaves the invite unused")
		_, err = st.Account(ctx, "a1")
		assert.ErrorIs(t, err, accounts.ErrNotFound, "and creates no account")

		require.NoError(t, st.AcceptInvite(ctx, "h1", acc("a1", "ann", "t1"), t0.Add(time.Minute)))
		got, _ = st.Invite(ctx, "h1")
		assert.Equal(t, t0.Add(time.Minute), got.Used)
		assert.Equal(t, "a1", got.UsedBy)
		assert.ErrorIs(t, st.AcceptInvite(ctx, "h1", acc("a2", "bob", "t1"), t0), accounts.ErrInviteUsed)
		assert.ErrorIs(t, st.AcceptInvite(ctx, "nope", acc("a3", "cy", "t1"), t0), accounts.ErrNotFound)
	})
	t.Run("an invite races itself", func(t *testing.T) {
		st := newStore(t)
		require.NoError(t, st.CreateInvite(ctx, accounts.Invite{TokenHash: "h", Role: accounts.RoleTrainee, CreatedBy: "x", Created: t0, Expires: t0.Add(time.Hour)}))
		var wg sync.WaitGroup
		errs := make([]error, 8)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = st.AcceptInvite(ctx, "h", acc(string(rune('a'+i)), "login"+string(rune('a'+i)), ""), t0)
			}()
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			if err == nil {
				ok++
			} else {
				assert.ErrorIs(t, err, accounts.ErrInviteUsed)
			}
		}
		assert.Equal(t, 1, ok, "exactly one sign-up wins")
		all, err := st.Accounts(ctx, "")
		require.NoError(t, err)
		assert.Len(t, all, 1)
	})
	t.Run("accounts", func(t *testing.T) {
		st := newStore(t)
		a := acc("a1", "ann@example.org", "t1")
		require.NoError(t, st.CreateAccount(ctx, a))
		assert.ErrorIs(t, st.CreateAccount(ctx, acc("a2", "ann@example.org", "")), accounts.ErrExists)
		require.NoError(t, st.CreateAccount(ctx, acc("a3", "cy", "t2")))
		got, err := st.AccountByLogin(ctx, "ann@example.org")
		require.NoError(t, err)
		assert.Equal(t, a, got)
		got, err = st.Account(ctx, "a1")
		require.NoError(t, err)
		assert.Equal(t, a, got)
		_, err = st.AccountByLogin(ctx, "nobody")
		assert.ErrorIs(t, err, accounts.ErrNotFound)
		team, err := st.Accounts(ctx, "t1")
		require.NoError(t, err)
		require.Len(t, team, 1)
		assert.Equal(t, "a1", team[0].ID)
		all, err := st.Accounts(ctx, "")
		require.NoError(t, err)
		assert.Len(t, all, 2)
	})
	t.Run("sessions are revocable", func(t *testing.T) {
		st := newStore(t)
		require.NoError(t, st.CreateAccount(ctx, acc("a1", "ann", "")))
		require.NoError(t, st.CreateAccount(ctx, acc("a2", "bob", "")))
		for _, h := range []string{"s1", "s2"} {
			require.NoError(t, st.CreateSession(ctx, accounts.Session{TokenHash: h, AccountID: "a1", Created: t0, Expires: t0.Add(time.Hour)}))
		}
		require.NoError(t, st.CreateSession(ctx, accounts.Session{TokenHash: "s3", AccountID: "a2", Created: t0, Expires: t0.Add(time.Hour)}))
		s, err := st.Session(ctx, "s1")
		require.NoError(t, err)
		assert.Equal(t, accounts.Session{TokenHash: "s1", AccountID: "a1", Created: t0, Expires: t0.Add(time.Hour)}, s)
		require.NoError(t, st.DeleteSession(ctx, "s1"))
		_, err = st.Session(ctx, "s1")
		assert.ErrorIs(t, err, accounts.ErrNotFound)
		n, err := st.DeleteSessions(ctx, "a1")
		require.NoError(t, err)
		assert.Equal(t, 1, n)
		_, err = st.Session(ctx, "s2")
		assert.ErrorIs(t, err, accounts.ErrNotFound)
		_, err = st.Session(ctx, "s3")
		assert.NoError(t, err, "another account's session is untouched")
	})
	t.Run("expired sessions are swept", func(t *testing.T) {
		st := newStore(t)
		require.NoError(t, st.CreateAccount(ctx, acc("a1", "ann", "")))
		for i, h := range []string{"old", "edge", "live"} {
			require.NoError(t, st.CreateSession(ctx, accounts.Session{TokenHash: h, AccountID: "a1", Created: t0, Expires: t0.Add(time.Duration(i) * time.Hour)}))
		}
		n, err := st.DeleteExpiredSessions(ctx, t0.Add(time.Hour))
		require.NoError(t, err)
		assert.Equal(t, 2, n, "expired before now, and exactly at now")
		for _, h := range []string{"old", "edge"} {
			_, err = st.Session(ctx, h)
			assert.ErrorIs(t, err, accounts.ErrNotFound, h)
		}
		_, err = st.Session(ctx, "live")
		assert.NoError(t, err)
		n, err = st.DeleteExpiredSessions(ctx, t0.Add(time.Hour))
		require.NoError(t, err)
		assert.Zero(t, n)
	})
	t.Run("call links", func(t *testing.T) {
		st := newStore(t)
		require.NoError(t, st.CreateAccount(ctx, acc("a1", "ann", "")))
		require.NoError(t, st.CreateAccount(ctx, acc("a2", "bob", "")))
		l2 := accounts.CallLink{CallID: "c2", AccountID: "a1", Track: "foundations", Step: "cheese-shop", Created: t0.Add(2 * time.Minute)}
		l1 := accounts.CallLink{CallID: "c1", AccountID: "a1", Created: t0.Add(time.Minute)}
		l3 := accounts.CallLink{CallID: "c3", AccountID: "a2", Created: t0}
		for _, l := range []accounts.CallLink{l2, l1, l3} {
			require.NoError(t, st.LinkCall(ctx, l))
		}
		assert.True(t, errors.Is(st.LinkCall(ctx, l1), accounts.ErrExists))
		got, err := st.CallLinks(ctx, []string{"a1"})
		require.NoError(t, err)
		assert.Equal(t, []accounts.CallLink{l1, l2}, got, "oldest first, only the account's")
		got, err = st.CallLinks(ctx, []string{"a1", "a2"})
		require.NoError(t, err)
		assert.Len(t, got, 3)
		one, err := st.CallLink(ctx, "c2")
		require.NoError(t, err)
		assert.Equal(t, l2, one)
		_, err = st.CallLink(ctx, "c9")
		assert.ErrorIs(t, err, accounts.ErrNotFound)
		none, err := st.CallLinks(ctx, nil)
		require.NoError(t, err)
		assert.Empty(t, none)
	})
}
