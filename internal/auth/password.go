// Package auth holds the cryptography of signing in: password hashes, the
// keys and access tokens, opaque tokens and the short codes a young person
// types. It is pure Go: no I/O, no store.
package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Argon2id parameters for new hashes: the OWASP minimum (19 MiB, 2 passes,
// 1 lane). Stored hashes carry their own parameters, so these can be raised
// without invalidating old passwords.
const (
	argonMemory  = 19456 // KiB
	argonTime    = 2
	argonThreads = 1
	argonKeyLen  = 32
	argonSaltLen = 16
)

// Bounds on parameters read from a stored hash, so a corrupted or hostile
// string cannot make a check allocate gigabytes or run for minutes.
const (
	maxArgonMemory = 1 << 21 // KiB (2 GiB)
	maxArgonTime   = 32
	minSaltLen     = 8
	minKeyLen      = 16
	maxKeyLen      = 64
)

// Password length limits, in characters (runes).
const (
	MinPasswordLen = 12
	MaxPasswordLen = 256
)

// dummySalt is fixed because CheckDummy only has to cost the same as a real
// check; its result is thrown away.
const dummySalt = "sct-dummy-salt!!"

var b64 = base64.RawStdEncoding.Strict()

// HashPassword returns an argon2id hash of password in PHC string form:
// "$argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>", salt and key in standard
// base64 without padding.
func HashPassword(password string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, argonMemory, argonTime, argonThreads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// CheckPassword reports whether password matches hash, comparing in constant
// time. It uses the m, t and p stored in hash, so hashes made with other
// parameters still verify. A malformed hash gives false.
func CheckPassword(hash, password string) bool {
	p, err := parseHash(hash)
	if err != nil {
		return false
	}
	key := argon2.IDKey([]byte(password), p.salt, p.time, p.memory, p.threads, uint32(len(p.key)))
	return subtle.ConstantTimeCompare(key, p.key) == 1
}

// CheckDummy spends as long as CheckPassword does on a current hash, and
// always fails. Call it when the account is unknown, so response times do
// not reveal which emails exist.
func CheckDummy(password string) {
	key := argon2.IDKey([]byte(password), []byte(dummySalt), argonTime, argonMemory, argonThreads, argonKeyLen)
	subtle.ConstantTimeCompare(key, make([]byte, argonKeyLen))
}

// ValidatePassword returns an error saying why password is unacceptable as a
// new password, or nil.
func ValidatePassword(password string) error {
	n := utf8.RuneCountInString(password)
	switch {
	case n < MinPasswordLen:
		return fmt.Errorf("password must be at least %d characters", MinPasswordLen)
	case n > MaxPasswordLen:
		return fmt.Errorf("password must be at most %d characters", MaxPasswordLen)
	}
	first, _ := utf8.DecodeRuneInString(password)
	if strings.Trim(password, string(first)) == "" {
		return errors.New("password must not be one character repeated")
	}
	return nil
}

// argonParams is a parsed PHC string.
type argonParams struct {
	memory  uint32
	time    uint32
	threads uint8
	salt    []byte
	key     []byte
}

// parseHash reads "$argon2id$v=19$m=..,t=..,p=..$salt$key", rejecting
// anything outside the bounds above.
func parseHash(hash string) (argonParams, error) {
	var p argonParams
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, errors.New("not an argon2id PHC string")
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, errors.New("unsupported argon2 version")
	}
	params := strings.Split(parts[3], ",")
	if len(params) != 3 {
		return p, errors.New("want parameters m, t and p")
	}
	m, err := param(params[0], "m", 1, maxArgonMemory)
	if err != nil {
		return p, err
	}
	t, err := param(params[1], "t", 1, maxArgonTime)
	if err != nil {
		return p, err
	}
	threads, err := param(params[2], "p", 1, 255)
	if err != nil {
		return p, err
	}
	if m < 8*threads {
		return p, errors.New("m must be at least 8 per lane")
	}
	salt, err := b64.DecodeString(parts[4])
	if err != nil || len(salt) < minSaltLen {
		return p, errors.New("bad salt")
	}
	key, err := b64.DecodeString(parts[5])
	if err != nil || len(key) < minKeyLen || len(key) > maxKeyLen {
		return p, errors.New("bad key")
	}
	return argonParams{memory: m, time: t, threads: uint8(threads), salt: salt, key: key}, nil
}

// param reads "name=value" with value in [lo, hi].
func param(s, name string, lo, hi uint32) (uint32, error) {
	v, ok := strings.CutPrefix(s, name+"=")
	if !ok {
		return 0, fmt.Errorf("want parameter %s", name)
	}
	n, err := strconv.ParseUint(v, 10, 32)
	if err != nil || uint32(n) < lo || uint32(n) > hi {
		return 0, fmt.Errorf("parameter %s out of range", name)
	}
	return uint32(n), nil
}
