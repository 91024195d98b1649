package accounts

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Argon2Params are the argon2id parameters of new password hashes. Each hash records its
// own, so raising them later keeps old passwords working.
type Argon2Params struct {
	MemoryKiB uint32
	Time      uint32
	Threads   uint8
}

// DefaultArgon2 are the parameters OWASP's password storage guidance gives as a minimum
// for argon2id: 19 MiB of memory, 2 passes, 1 thread (about 30 ms on one core).
var DefaultArgon2 = Argon2Params{MemoryKiB: 19 * 1024, Time: 2, Threads: 1}

// Password limits.
const (
	MinPasswordLen = 10  // characters in a new password
	MaxPasswordLen = 256 // bytes: longer input is refused before hashing
	saltBytes      = 16
	keyBytes       = 32
	// maxHashMemoryKiB bounds the memory a stored hash may ask for when verifying, so a
	// damaged or hostile row cannot make the server allocate without limit.
	maxHashMemoryKiB = 1 << 20
)

// errBadHash: a stored hash that is not one this package wrote.
var errBadHash = errors.New("stored password hash is not in the $argon2id$ format")

// HashPassword returns the PHC string of an argon2id hash of pw with a random salt:
// $argon2id$v=19$m=19456,t=2,p=1$SALT$KEY (base64 without padding).
func HashPassword(pw string, p Argon2Params) (string, error) {
	if len(pw) > MaxPasswordLen {
		return "", fmt.Errorf("password is over %d bytes", MaxPasswordLen)
	}
	salt := make([]byte, saltBytes)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password salt: %w", err)
	}
	key := argon2.IDKey([]byte(pw), salt, p.Time, p.MemoryKiB, p.Threads, keyBytes)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.MemoryKiB, p.Time, p.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// CheckPassword reports whether pw matches the stored hash, in constant time.
func CheckPassword(pw, hash string) (bool, error) {
	if len(pw) > MaxPasswordLen {
		return false, nil
	}
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, errBadHash
	}
	var v int
	var p Argon2Params
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return false, errBadHash
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.MemoryKiB, &p.Time, &p.Threads); err != nil ||
		p.MemoryKiB == 0 || p.MemoryKiB > maxHashMemoryKiB || p.Time == 0 || p.Time > 10 || p.Threads == 0 {
		return false, errBadHash
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	key, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(key) == 0 || len(key) > 128 {
		return false, errBadHash
	}
	got := argon2.IDKey([]byte(pw), salt, p.Time, p.MemoryKiB, p.Threads, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}
