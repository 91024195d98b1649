package access

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Role is what a secret lets its holder do.
type Role int

// The roles. Designers may do everything in the studio; supervisors may look (library,
// sources, graphs, paths taken, recorded calls) but not change or play anything.
const (
	RoleNone Role = iota
	RoleSupervisor
	RoleDesigner
)

func (r Role) String() string {
	switch r {
	case RoleDesigner:
		return "designer"
	case RoleSupervisor:
		return "supervisor"
	}
	return "none"
}

// Access secrets.
const (
	// SecretsFile is the file in the data folder that holds the generated secrets.
	SecretsFile = "access.json"
	// MinSecretLen is the shortest secret accepted from a flag or variable.
	MinSecretLen = 16
	secretBytes  = 24
	// CookieName holds a session id (never the secret) once the designer link was
	// opened or a secret was entered on the sign-in page.
	CookieName = "switchboard_studio"
)

// Secrets are the access secrets of the studio and the floor board.
type Secrets struct {
	Designer   string `json:"designer"`
	Supervisor string `json:"supervisor"`
}

// LoadSecrets returns the secrets kept in dataDir, creating them (readable by the owner
// only) on first use. A non-empty field of override replaces the kept one. created says
// whether new secrets were written.
func LoadSecrets(dataDir string, override Secrets) (s Secrets, created bool, err error) {
	for name, v := range map[string]string{"designer": override.Designer, "supervisor": override.Supervisor} {
		if v != "" && len(v) < MinSecretLen {
			return s, false, fmt.Errorf("the %s secret must be at least %d characters", name, MinSecretLen)
		}
	}
	p := filepath.Join(dataDir, SecretsFile)
	b, err := os.ReadFile(p)
	switch {
	case err == nil:
		if err := json.Unmarshal(b, &s); err != nil || len(s.Designer) < MinSecretLen || len(s.Supervisor) < MinSecretLen {
			return s, false, fmt.Errorf("%s is damaged: remove it to make new secrets", p)
		}
	case errors.Is(err, fs.ErrNotExist):
		s = Secrets{Designer: newSecret(), Supervisor: newSecret()}
		b, _ := json.MarshalIndent(s, "", "  ")
		if err := os.MkdirAll(dataDir, 0o755); err != nil {
			return s, false, fmt.Errorf("creating %s: %w", dataDir, err)
		}
		if err := os.WriteFile(p, append(b, '\n'), 0o600); err != nil {
			return s, false, fmt.Errorf("writing %s: %w", p, err)
		}
		created = true
	default:
		return s, false, fmt.Errorf("reading %s: %w", p, err)
	}
	if override.Designer != "" {
		s.Designer = override.Designer
	}
	if override.Supervisor != "" {
		s.Supervisor = override.Supervisor
	}
	if s.Designer == s.Supervisor {
		return s, created, errors.New("the designer and supervisor secrets must differ")
	}
	return s, created, nil
}

func newSecret() string {
	b := make([]byte, secretBytes)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// RoleOf returns the role a presented secret grants.
func (s Secrets) RoleOf(secret string) Role {
	if secret == "" {
		return RoleNone
	}
	// Both comparisons always run, in constant time.
	d := subtle.ConstantTimeCompare([]byte(secret), []byte(s.Designer))
	v := subtle.ConstantTimeCompare([]byte(secret), []byte(s.Supervisor))
	switch {
	case d == 1:
		return RoleDesigner
	case v == 1:
		return RoleSupervisor
	}
	return RoleNone
}

// callTokenBytes is the random bytes in a call token.
const callTokenBytes = 32

// NewCallToken returns a new call token (given once to the client that started the call)
// and its hash (the only form kept, in the journal).
func NewCallToken() (token, hash string) {
	b := make([]byte, callTokenBytes)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, HashCallToken(token)
}

// HashCallToken returns the hash of a call token as the journal keeps it.
func HashCallToken(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// CallTokenOK reports, in constant time, whether token is the call token of hash.
func CallTokenOK(token, hash string) bool {
	if token == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(HashCallToken(token)), []byte(hash)) == 1
}
