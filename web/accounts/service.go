package accounts

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Sign-in throttling: every attempt (right or wrong) takes a token from the client
// address's bucket and from the login's. The login's bucket stops a password being
// guessed from many addresses; the address's, one address trying many logins.
const (
	SignInPerIPRate     = rate.Limit(1.0 / 3)  // one attempt every 3 s per address…
	SignInPerIPBurst    = 10                   // …after 10 at once
	SignInPerLoginRate  = rate.Limit(1.0 / 30) // one attempt every 30 s per login…
	SignInPerLoginBurst = 5                    // …after 5 at once
	maxLimiters         = 10_000               // buckets kept; the table is reset past it
)

// Options configure a Service.
type Options struct {
	// Now is the clock (nil: time.Now). Tests pass a fake one.
	Now func() time.Time
	// Argon2 are the parameters of new password hashes (zero: DefaultArgon2).
	Argon2 Argon2Params
}

// Service is the accounts' logic over a Store. Safe for concurrent use.
type Service struct {
	store Store
	now   func() time.Time
	argon Argon2Params
	// dummy is a hash checked when a login is unknown, so that a wrong login takes as
	// long as a wrong password and does not tell which logins exist.
	dummy string

	mu        sync.Mutex
	lastSweep time.Time // when SignIn last swept expired sessions, under mu
	byIP      map[string]*rate.Limiter
	byLogin   map[string]*rate.Limiter
}

// NewService returns a service over store.
func NewService(store Store, opts Options) *Service {
	s := &Service{store: store, now: opts.Now, argon: opts.Argon2,
		byIP: map[string]*rate.Limiter{}, byLogin: map[string]*rate.Limiter{}}
	if s.now == nil {
		s.now = time.Now
	}
	if s.argon == (Argon2Params{}) {
		s.argon = DefaultArgon2
	}
	s.dummy, _ = HashPassword("not a password of anyone", s.argon)
	return s
}

// Store returns the service's store.
func (s *Service) Store() Store { return s.store }

// Now returns the service clock's time.
func (s *Service) Now() time.Time { return s.now().UTC() }

// CreateTeam adds a team.
func (s *Service) CreateTeam(ctx context.Context, name, track string) (Team, error) {
	name, err := CheckName(name, MaxTeamNameLen)
	if err != nil {
		return Team{}, fmt.Errorf("team: %w", err)
	}
	t := Team{ID: newID("t_"), Name: name, Track: track, Created: s.Now()}
	if err := s.store.CreateTeam(ctx, t); err != nil {
		return Team{}, fmt.Errorf("creating team %q: %w", name, err)
	}
	return t, nil
}

// CreateInvite makes an invite for role (into team, which must exist when set) and
// returns the token for the link; the store keeps only its hash.
func (s *Service) CreateInvite(ctx context.Context, by, role, team string) (string, Invite, error) {
	if role != RoleTrainee && role != RoleSupervisor {
		return "", Invite{}, fmt.Errorf("invite: role must be %s or %s", RoleTrainee, RoleSupervisor)
	}
	if team != "" {
		if _, err := s.store.Team(ctx, team); err != nil {
			return "", Invite{}, fmt.Errorf("invite: team %q: %w", team, err)
		}
	}
	token, hash := NewToken()
	now := s.Now()
	inv := Invite{TokenHash: hash, Role: role, Team: team, CreatedBy: by, Created: now, Expires: now.Add(InviteTTL)}
	if err := s.store.CreateInvite(ctx, inv); err != nil {
		return "", Invite{}, fmt.Errorf("creating an invite: %w", err)
	}
	return token, inv, nil
}

// CheckInvite returns the invite of a token if it can still be used.
func (s *Service) CheckInvite(ctx context.Context, token string) (Invite, error) {
	inv, err := s.store.Invite(ctx, HashToken(token))
	if err != nil {
		return Invite{}, err
	}
	switch {
	case !inv.Used.IsZero():
		return inv, ErrInviteUsed
	case !s.Now().Before(inv.Expires):
		return inv, ErrInviteExpired
	}
	return inv, nil
}

// AcceptInvite creates the account an invite offers.
func (s *Service) AcceptInvite(ctx context.Context, token, login, name, password string) (Account, error) {
	inv, err := s.CheckInvite(ctx, token)
	if err != nil {
		return Account{}, err
	}
	acc, err := s.newAccount(login, name, password, inv.Role, inv.Team)
	if err != nil {
		return Account{}, err
	}
	if err := s.store.AcceptInvite(ctx, HashToken(token), acc, s.Now()); err != nil {
		return Account{}, err
	}
	return acc, nil
}

// AddAccount creates an account without an invite (the first supervisor, from the
// command line).
func (s *Service) AddAccount(ctx context.Context, login, name, password, role, team string) (Account, error) {
	acc, err := s.newAccount(login, name, password, role, team)
	if err != nil {
		return Account{}, err
	}
	if err := s.store.CreateAccount(ctx, acc); err != nil {
		return Account{}, fmt.Errorf("creating account %q: %w", acc.Login, err)
	}
	return acc, nil
}

// InputError is a problem with what a person typed: its message is for them.
type InputError struct{ Msg string }

func (e *InputError) Error() string { return e.Msg }

func (s *Service) newAccount(login, name, password, role, team string) (Account, error) {
	l, err := NormalizeLogin(login)
	if err != nil {
		return Account{}, &InputError{err.Error()}
	}
	n, err := CheckName(name, MaxNameLen)
	if err != nil {
		return Account{}, &InputError{err.Error()}
	}
	if err := CheckNewPassword(password); err != nil {
		return Account{}, &InputError{err.Error()}
	}
	if role != RoleTrainee && role != RoleSupervisor {
		return Account{}, &InputError{fmt.Sprintf("role must be %s or %s", RoleTrainee, RoleSupervisor)}
	}
	hash, err := HashPassword(password, s.argon)
	if err != nil {
		return Account{}, err
	}
	return Account{ID: newID("a_"), Login: l, Name: n, Role: role, Team: team, PasswordHash: hash, Created: s.Now()}, nil
}

// SignIn checks a login and password from the client address ip and starts a session:
// it returns the session token for the cookie. ErrThrottled when the address or the
// login has tried too often; ErrBadCredential for a wrong login or password alike.
func (s *Service) SignIn(ctx context.Context, login, password, ip string) (string, Account, error) {
	l, err := NormalizeLogin(login)
	if err != nil {
		l = "" // still throttled by address, and answered like a wrong password
	}
	if !s.allow(ip, l) {
		return "", Account{}, ErrThrottled
	}
	acc, err := s.store.AccountByLogin(ctx, l)
	if errors.Is(err, ErrNotFound) {
		_, _ = CheckPassword(password, s.dummy)
		return "", Account{}, ErrBadCredential
	}
	if err != nil {
		return "", Account{}, fmt.Errorf("sign in: %w", err)
	}
	ok, err := CheckPassword(password, acc.PasswordHash)
	if err != nil {
		return "", Account{}, fmt.Errorf("sign in %q: %w", acc.Login, err)
	}
	if !ok {
		return "", Account{}, ErrBadCredential
	}
	token, err := s.NewSession(ctx, acc.ID)
	if err != nil {
		return "", Account{}, err
	}
	s.mu.Lock()
	due := s.lastSweep.IsZero() || !s.Now().Before(s.lastSweep.Add(SweepEvery))
	if due {
		s.lastSweep = s.Now()
	}
	s.mu.Unlock()
	if due {
		// Best effort: a failed sweep is retried at a later sign-in and never stops this one.
		_, _ = s.SweepSessions(ctx)
	}
	return token, acc, nil
}

// SweepSessions removes the sessions that have expired from the store (they are refused
// anyway; this keeps the table small) and returns how many. SignIn calls it at most
// once every SweepEvery.
func (s *Service) SweepSessions(ctx context.Context) (int, error) {
	n, err := s.store.DeleteExpiredSessions(ctx, s.Now())
	if err != nil {
		return 0, fmt.Errorf("sweeping expired sessions: %w", err)
	}
	return n, nil
}

// NewSession starts a session for an account (after sign-in, or on accepting an invite)
// and returns its token.
func (s *Service) NewSession(ctx context.Context, accountID string) (string, error) {
	token, hash := NewToken()
	now := s.Now()
	if err := s.store.CreateSession(ctx, Session{TokenHash: hash, AccountID: accountID, Created: now, Expires: now.Add(SessionTTL)}); err != nil {
		return "", fmt.Errorf("starting a session: %w", err)
	}
	return token, nil
}

// Authenticate returns the account of a live session token; ErrSession otherwise.
func (s *Service) Authenticate(ctx context.Context, token string) (Account, error) {
	if token == "" {
		return Account{}, ErrSession
	}
	sess, err := s.store.Session(ctx, HashToken(token))
	if errors.Is(err, ErrNotFound) {
		return Account{}, ErrSession
	}
	if err != nil {
		return Account{}, fmt.Errorf("checking a session: %w", err)
	}
	if !s.Now().Before(sess.Expires) {
		_ = s.store.DeleteSession(ctx, sess.TokenHash)
		return Account{}, ErrSession
	}
	acc, err := s.store.Account(ctx, sess.AccountID)
	if errors.Is(err, ErrNotFound) {
		return Account{}, ErrSession
	}
	return acc, err
}

// SignOut ends the session of a token.
func (s *Service) SignOut(ctx context.Context, token string) error {
	return s.store.DeleteSession(ctx, HashToken(token))
}

// RevokeSessions ends every session of an account (signed in anywhere).
func (s *Service) RevokeSessions(ctx context.Context, accountID string) (int, error) {
	return s.store.DeleteSessions(ctx, accountID)
}

func (s *Service) allow(ip, login string) bool {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	a := limiter(&s.byIP, ip, SignInPerIPRate, SignInPerIPBurst).AllowN(now, 1)
	b := true
	if login != "" {
		b = limiter(&s.byLogin, login, SignInPerLoginRate, SignInPerLoginBurst).AllowN(now, 1)
	}
	return a && b
}

func limiter(m *map[string]*rate.Limiter, key string, r rate.Limit, burst int) *rate.Limiter {
	l, ok := (*m)[key]
	if !ok {
		if len(*m) >= maxLimiters {
			*m = map[string]*rate.Limiter{}
		}
		l = rate.NewLimiter(r, burst)
		(*m)[key] = l
	}
	return l
}
