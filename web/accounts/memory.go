package accounts

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"
)

// Memory is a Store in memory, for tests and for a server without a journal file.
type Memory struct {
	mu       sync.Mutex
	teams    map[string]Team
	invites  map[string]Invite
	accounts map[string]Account
	sessions map[string]Session
	links    []CallLink
}

var _ Store = (*Memory)(nil)

// NewMemory returns an empty store.
func NewMemory() *Memory {
	return &Memory{teams: map[string]Team{}, invites: map[string]Invite{}, accounts: map[string]Account{}, sessions: map[string]Session{}}
}

// CreateTeam implements Store.
func (m *Memory) CreateTeam(_ context.Context, t Team) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.teams[t.ID]; ok {
		return ErrExists
	}
	m.teams[t.ID] = t
	return nil
}

// SetAccountTrack implements Store.
func (m *Memory) SetAccountTrack(_ context.Context, id, track string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	a, ok := m.accounts[id]
	if !ok {
		return ErrNotFound
	}
	a.Track = track
	m.accounts[id] = a
	return nil
}

// SetTeamTrack implements Store.
func (m *Memory) SetTeamTrack(_ context.Context, id, track string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.teams[id]
	if !ok {
		return ErrNotFound
	}
	t.Track = track
	m.teams[id] = t
	return nil
}

// Team implements Store.
func (m *Memory) Team(_ context.Context, id string) (Team, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.teams[id]
	if !ok {
		return Team{}, ErrNotFound
	}
	return t, nil
}

// Teams implements Store.
func (m *Memory) Teams(context.Context) ([]Team, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Team, 0, len(m.teams))
	for _, t := range m.teams {
		out = append(out, t)
	}
	slices.SortFunc(out, func(a, b Team) int { return strings.Compare(a.Name+a.ID, b.Name+b.ID) })
	return out, nil
}

// CreateInvite implements Store.
func (m *Memory) CreateInvite(_ context.Context, inv Invite) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.invites[inv.TokenHash]; ok {
		return ErrExists
	}
	m.invites[inv.TokenHash] = inv
	return nil
}

// Invite implements Store.
func (m *Memory) Invite(_ context.Context, hash string) (Invite, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	inv, ok := m.invites[hash]
	if !ok {
		return Invite{}, ErrNotFound
	}
	return inv, nil
}

// AcceptInvite implements Store.
func (m *Memory) AcceptInvite(_ context.Context, hash string, acc Account, now time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	inv, ok := m.invites[hash]
	switch {
	case !ok:
		return ErrNotFound
	case !inv.Used.IsZero():
		return ErrInviteUsed
	}
	if err := m.addLocked(acc); err != nil {
		return err
	}
	inv.Used, inv.UsedBy = now, acc.ID
	m.invites[hash] = inv
	return nil
}

func (m *Memory) addLocked(acc Account) error {
	for _, a := range m.accounts {
		if a.Login == acc.Login {
			return ErrExists
		}
	}
	if _, ok := m.accounts[acc.ID]; ok {
		return ErrExists
	}
	m.accounts[acc.ID] = acc
	return nil
}

// CreateAccount implements Store.
func (m *Memory) CreateAccount(_ context.Context, acc Account) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.addLocked(acc)
}

// Account implements Store.
func (m *Memory) Account(_ context.Context, id string) (Account, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	a, ok := m.accounts[id]
	if !ok {
		return Account{}, ErrNotFound
	}
	return a, nil
}

// AccountByLogin implements Store.
func (m *Memory) AccountByLogin(_ context.Context, login string) (Account, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, a := range m.accounts {
		if a.Login == login {
			return a, nil
		}
	}
	return Account{}, ErrNotFound
}

// Accounts implements Store.
func (m *Memory) Accounts(_ context.Context, team string) ([]Account, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Account
	for _, a := range m.accounts {
		if team == "" || a.Team == team {
			out = append(out, a)
		}
	}
	slices.SortFunc(out, func(a, b Account) int { return strings.Compare(a.Name+a.ID, b.Name+b.ID) })
	return out, nil
}

// CreateSession implements Store.
func (m *Memory) CreateSession(_ context.Context, s Session) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sessions[s.TokenHash] = s
	return nil
}

// Session implements Store.
func (m *Memory) Session(_ context.Context, hash string) (Session, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.sessions[hash]
	if !ok {
		return Session{}, ErrNotFound
	}
	return s, nil
}

// DeleteSession implements Store.
func (m *Memory) DeleteSession(_ context.Context, hash string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.sessions, hash)
	return nil
}

// DeleteSessions implements Store.
func (m *Memory) DeleteSessions(_ context.Context, accountID string) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for k, s := range m.sessions {
		if s.AccountID == accountID {
			delete(m.sessions, k)
			n++
		}
	}
	return n, nil
}

// DeleteExpiredSessions implements Store.
func (m *Memory) DeleteExpiredSessions(_ context.Context, now time.Time) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for k, s := range m.sessions {
		if !now.Before(s.Expires) {
			delete(m.sessions, k)
			n++
		}
	}
	return n, nil
}

// LinkCall implements Store.
func (m *Memory) LinkCall(_ context.Context, l CallLink) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, x := range m.links {
		if x.CallID == l.CallID {
			return ErrExists
		}
	}
	m.links = append(m.links, l)
	return nil
}

// CallLink implements Store.
func (m *Memory) CallLink(_ context.Context, callID string) (CallLink, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, x := range m.links {
		if x.CallID == callID {
			return x, nil
		}
	}
	return CallLink{}, ErrNotFound
}

// CallLinks implements Store.
func (m *Memory) CallLinks(_ context.Context, ids []string) ([]CallLink, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []CallLink
	for _, x := range m.links {
		if slices.Contains(ids, x.AccountID) {
			out = append(out, x)
		}
	}
	slices.SortStableFunc(out, func(a, b CallLink) int { return a.Created.Compare(b.Created) })
	return out, nil
}
