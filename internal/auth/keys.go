package auth

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
)

// MinSecretLen is the shortest HMAC secret ParseKeys accepts, in bytes.
const MinSecretLen = 32

// Key is one HMAC key with its id (the JWT "kid").
type Key struct {
	ID     string
	Secret []byte
}

// String names the key without its secret, so logging a Key leaks nothing.
func (k Key) String() string { return "Key(" + k.ID + ")" }

// GoString is String, so %#v leaks nothing either.
func (k Key) GoString() string { return k.String() }

// KeyRing signs with its first key and verifies with any of its keys, so keys
// rotate without logging everyone out: put the new key first and keep the
// old one until the tokens it signed have expired. Build one with
// ParseKeys; the zero KeyRing has no keys and cannot sign.
type KeyRing struct {
	keys []Key
}

// ParseKeys reads a key spec "kid1=<secret>,kid2=<secret>", secrets in
// base64 (URL-safe or standard, padding optional). Ids match
// [A-Za-z0-9_-]{1,32} and are unique; secrets decode to at least 32 bytes.
// Errors name the key id or position, never secret material.
func ParseKeys(spec string) (*KeyRing, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return nil, errors.New("key spec is empty")
	}
	entries := strings.Split(spec, ",")
	ring := &KeyRing{keys: make([]Key, 0, len(entries))}
	seen := make(map[string]bool, len(entries))
	for i, entry := range entries {
		// Positions, not contents, name malformed entries: a stray secret
		// pasted without "kid=" must not end up in a log.
		pos := i + 1
		id, secret, ok := strings.Cut(strings.TrimSpace(entry), "=")
		if !ok {
			return nil, fmt.Errorf("key %d: want kid=secret", pos)
		}
		id, secret = strings.TrimSpace(id), strings.TrimSpace(secret)
		if !validKeyID(id) {
			return nil, fmt.Errorf("key %d: id must be 1 to 32 of A-Z a-z 0-9 _ -", pos)
		}
		if seen[id] {
			return nil, fmt.Errorf("key %q: duplicate id", id)
		}
		seen[id] = true
		raw, ok := decodeSecret(secret)
		if !ok {
			return nil, fmt.Errorf("key %q: secret is not valid base64", id)
		}
		if len(raw) < MinSecretLen {
			return nil, fmt.Errorf("key %q: secret is %d bytes, want at least %d", id, len(raw), MinSecretLen)
		}
		ring.keys = append(ring.keys, Key{ID: id, Secret: raw})
	}
	return ring, nil
}

// GenerateKeySpec returns a key spec with one new random 32-byte key, its id
// made from the date and randomness, e.g. "k20261123-ab12cd=<secret>".
func GenerateKeySpec(now time.Time) (string, error) {
	buf := make([]byte, 3+MinSecretLen)
	if _, err := rand.Read(buf); err != nil {
		return "", fmt.Errorf("key generation: %w", err)
	}
	id := "k" + now.UTC().Format("20060102") + "-" + hex.EncodeToString(buf[:3])
	return id + "=" + base64.RawURLEncoding.EncodeToString(buf[3:]), nil
}

// SigningKeyID returns the id of the key new tokens are signed with.
func (k *KeyRing) SigningKeyID() string { return k.keys[0].ID }

// String lists the key ids without their secrets.
func (k *KeyRing) String() string {
	ids := make([]string, len(k.keys))
	for i, key := range k.keys {
		ids[i] = key.ID
	}
	return "KeyRing(" + strings.Join(ids, ",") + ")"
}

// GoString is String, so %#v leaks nothing either.
func (k *KeyRing) GoString() string { return k.String() }

func (k *KeyRing) signingKey() Key { return k.keys[0] }

// lookup returns the secret for id.
func (k *KeyRing) lookup(id string) ([]byte, bool) {
	for _, key := range k.keys {
		if key.ID == id {
			return key.Secret, true
		}
	}
	return nil, false
}

func validKeyID(id string) bool {
	if len(id) == 0 || len(id) > 32 {
		return false
	}
	for _, c := range []byte(id) {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

// decodeSecret accepts URL-safe or standard base64, with or without padding.
// The decoder's error is dropped on purpose: the secret stays out of errors.
func decodeSecret(s string) ([]byte, bool) {
	s = strings.TrimRight(s, "=")
	if s == "" {
		return nil, false
	}
	if raw, err := base64.RawURLEncoding.DecodeString(s); err == nil {
		return raw, true
	}
	if raw, err := base64.RawStdEncoding.DecodeString(s); err == nil {
		return raw, true
	}
	return nil, false
}
