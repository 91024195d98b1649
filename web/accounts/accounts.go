// Package accounts holds trainee and supervisor accounts, teams (cohorts), invites that
// expire, revocable sign-in sessions with throttled sign-in, and the link from a
// trainee's calls to their account, so their history follows them across devices.
//
// Storage is behind Store: NewMemory for tests, the SQLite journal (web/storage/sqlitejournal)
// in production. Passwords are hashed with argon2id (golang.org/x/crypto/argon2); invite
// and session tokens are random and stored only as SHA-256 hashes. Every rule about time
// takes the time from the Service's clock, so tests use a fake one.
package accounts

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Roles of an account.
const (
	RoleTrainee    = "trainee"
	RoleSupervisor = "supervisor"
)

// Limits and lifetimes. Every one a user can hit is documented in docs/tracks.md.
const (
	// InviteTTL is how long an invite link can be used, from its creation.
	InviteTTL = 7 * 24 * time.Hour
	// SessionTTL is how long a sign-in lasts.
	SessionTTL = 30 * 24 * time.Hour
	// SweepEvery is how often, at most, a sign-in also removes the expired sessions from
	// the store (Service.SweepSessions).
	SweepEvery = time.Hour
	// MaxLoginLen and MaxNameLen bound a login (an e-mail address or a user name) and a
	// display name, in characters.
	MaxLoginLen = 100
	MaxNameLen  = 64
	// MaxTeamNameLen bounds a team's name.
	MaxTeamNameLen = 64
	tokenBytes     = 32
)

// Errors of the store and the service; check them with errors.Is.
var (
	ErrNotFound      = errors.New("not found")
	ErrExists        = errors.New("already exists")
	ErrInviteUsed    = errors.New("this invite has already been used")
	ErrInviteExpired = errors.New("this invite has expired; ask your supervisor for a new one")
	ErrBadCredential = errors.New("wrong login or password")
	ErrThrottled     = errors.New("too many sign-in attempts; wait a minute and try again")
	ErrSession       = errors.New("not signed in, or the session has ended")
)

// Account is a trainee or a supervisor.
type Account struct {
	ID    string `json:"id"`
	Login string `json:"login"` // lower case, unique
	Name  string `json:"name"`  // shown to supervisors and in records
	Role  string `json:"role"`
	// Team is the id of the account's team, "" for none.
	Team string `json:"team,omitempty"`
	// Track is a track assigned to this trainee alone, overriding the team's; "" for the
	// team's.
	Track        string    `json:"track,omitempty"`
	PasswordHash string    `json:"-"`
	Created      time.Time `json:"created"`
}

// Team is a cohort of trainees, with the track assigned to it.
type Team struct {
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	Track   string    `json:"track,omitempty"` // a track id, "" when none is assigned
	Created time.Time `json:"created"`
}

// Invite lets one person create an account with a role (and a team) until it expires.
type Invite struct {
	TokenHash string    `json:"-"`
	Role      string    `json:"role"`
	Team      string    `json:"team,omitempty"`
	CreatedBy string    `json:"created_by"` // an account id, or "secret:supervisor"
	Created   time.Time `json:"created"`
	Expires   time.Time `json:"expires"`
	// Used is when it was used, zero while unused; UsedBy the account it created.
	Used   time.Time `json:"used,omitzero"`
	UsedBy string    `json:"used_by,omitempty"`
}

// Session is a signed-in browser. Only the hash of its token is stored.
type Session struct {
	TokenHash string
	AccountID string
	Created   time.Time
	Expires   time.Time
}

// CallLink ties a call in the journal to the account that made it, and to the track step
// it was taken as ("" for free practice).
type CallLink struct {
	CallID    string    `json:"call_id"`
	AccountID string    `json:"account_id"`
	Track     string    `json:"track,omitempty"`
	Step      string    `json:"step,omitempty"`
	Created   time.Time `json:"created"`
}

// Store keeps accounts and what belongs to them. Every method is safe for concurrent use.
type Store interface {
	// CreateTeam adds a team; ErrExists if the id is taken.
	CreateTeam(ctx context.Context, t Team) error
	// SetTeamTrack assigns a track to a team ("" to clear it); ErrNotFound.
	SetTeamTrack(ctx context.Context, teamID, track string) error
	Team(ctx context.Context, id string) (Team, error)
	Teams(ctx context.Context) ([]Team, error)

	CreateInvite(ctx context.Context, inv Invite) error
	Invite(ctx context.Context, tokenHash string) (Invite, error)
	// AcceptInvite creates acc and marks the invite used by it, atomically: ErrInviteUsed
	// when the invite was used meanwhile, ErrExists when the login is taken (the invite
	// stays unused), ErrNotFound for an unknown invite.
	AcceptInvite(ctx context.Context, tokenHash string, acc Account, now time.Time) error

	// CreateAccount adds an account directly (the first supervisor, from the command
	// line); ErrExists when the login is taken.
	CreateAccount(ctx context.Context, acc Account) error
	Account(ctx context.Context, id string) (Account, error)
	AccountByLogin(ctx context.Context, login string) (Account, error)
	// Accounts lists the accounts of a team ("" lists every account), by name.
	Accounts(ctx context.Context, team string) ([]Account, error)
	// SetAccountTrack assigns a track to one account, overriding its team's ("" clears
	// it); ErrNotFound.
	SetAccountTrack(ctx context.Context, accountID, track string) error

	CreateSession(ctx context.Context, s Session) error
	// Session returns a session by its token hash; ErrNotFound when unknown or revoked.
	Session(ctx context.Context, tokenHash string) (Session, error)
	DeleteSession(ctx context.Context, tokenHash string) error
	// DeleteSessions revokes every session of an account and returns how many.
	DeleteSessions(ctx context.Context, accountID string) (int, error)
	// DeleteExpiredSessions removes every session that has expired at now (Expires not
	// after now) and returns how many.
	DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error)

	// LinkCall records whose a call is; ErrExists when the call is already linked.
	LinkCall(ctx context.Context, l CallLink) error
	// CallLink returns the link of one call; ErrNotFound.
	CallLink(ctx context.Context, callID string) (CallLink, error)
	// CallLinks lists the calls of the given accounts, oldest first.
	CallLinks(ctx context.Context, accountIDs []string) ([]CallLink, error)
}

// NewToken returns a random token for a link or a cookie, and the hash to store.
func NewToken() (token, hash string) {
	b := make([]byte, tokenBytes)
	_, _ = rand.Read(b)
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, HashToken(token)
}

// HashToken is the stored form of a token: hex SHA-256. Tokens are random, so a plain
// hash suffices; a leaked table does not hold a usable token.
func HashToken(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// newID returns a short random id for an account or a team.
func newID(prefix string) string {
	b := make([]byte, 9)
	_, _ = rand.Read(b)
	return prefix + base64.RawURLEncoding.EncodeToString(b)
}

// NormalizeLogin lower-cases and trims a login, and checks it: 3 to MaxLoginLen
// characters, no spaces or control characters.
func NormalizeLogin(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	n := utf8.RuneCountInString(s)
	switch {
	case !utf8.ValidString(s):
		return "", errors.New("the login is not valid UTF-8")
	case n < 3 || n > MaxLoginLen:
		return "", fmt.Errorf("the login must be 3 to %d characters", MaxLoginLen)
	case strings.ContainsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r)
	}):
		return "", errors.New("the login may not hold spaces, control or text-direction characters")
	}
	return s, nil
}

// CheckName trims and checks a display name (or a team's): 1 to max characters, no
// control or text-direction characters (which make one name show as another).
func CheckName(s string, max int) (string, error) {
	s = strings.TrimSpace(s)
	n := utf8.RuneCountInString(s)
	switch {
	case !utf8.ValidString(s):
		return "", errors.New("the name is not valid UTF-8")
	case n == 0 || n > max:
		return "", fmt.Errorf("the name must be 1 to %d characters", max)
	case strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) }):
		return "", errors.New("the name may not hold control or text-direction characters")
	}
	return s, nil
}

// CheckNewPassword checks a new password's length: MinPasswordLen characters to
// MaxPasswordLen bytes.
func CheckNewPassword(pw string) error {
	if utf8.RuneCountInString(pw) < MinPasswordLen {
		return fmt.Errorf("the password must be at least %d characters", MinPasswordLen)
	}
	if len(pw) > MaxPasswordLen {
		return fmt.Errorf("the password must be at most %d bytes", MaxPasswordLen)
	}
	return nil
}
