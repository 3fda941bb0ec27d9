package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
)

// opaqueLen is the number of random bytes in an opaque token.
const opaqueLen = 32

// ShortCodeAlphabet has no look-alikes: no I, L, O, 0 or 1.
const ShortCodeAlphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"

// shortCodeLen is the number of characters in a short code, without the dash.
const shortCodeLen = 8

// NewOpaqueToken returns a random token (32 bytes, base64url without
// padding) to hand out, and its hash to store.
func NewOpaqueToken() (token, hash string, err error) {
	buf := make([]byte, opaqueLen)
	if _, err := rand.Read(buf); err != nil {
		return "", "", fmt.Errorf("opaque token: %w", err)
	}
	token = base64.RawURLEncoding.EncodeToString(buf)
	return token, HashOpaque(token), nil
}

// HashOpaque returns the SHA-256 of token in hex, the only form in which
// opaque tokens are stored. A plain hash suffices: the token has 256 bits of
// entropy, so there is nothing to brute-force.
func HashOpaque(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// NewShortCode returns a random code of 8 characters from ShortCodeAlphabet,
// shown as "ABCD-EFGH". Compare and store codes through NormalizeShortCode.
func NewShortCode() (string, error) {
	// Rejection sampling keeps every character equally likely: bytes at or
	// above the largest multiple of the alphabet size are drawn again.
	const n = len(ShortCodeAlphabet)
	const limit = 256 - 256%n
	code := make([]byte, 0, shortCodeLen+1)
	buf := make([]byte, 2*shortCodeLen)
	for len(code) < shortCodeLen+1 {
		if _, err := rand.Read(buf); err != nil {
			return "", fmt.Errorf("short code: %w", err)
		}
		for _, b := range buf {
			if int(b) >= limit {
				continue
			}
			if len(code) == shortCodeLen/2 {
				code = append(code, '-')
			}
			code = append(code, ShortCodeAlphabet[int(b)%n])
			if len(code) == shortCodeLen+1 {
				break
			}
		}
	}
	return string(code), nil
}

// NormalizeShortCode uppercases s and drops spaces and dashes, so
// "abcd efgh" and "ABCD-EFGH" both give "ABCDEFGH". It returns "" unless the
// result is 8 characters of ShortCodeAlphabet.
func NormalizeShortCode(s string) string {
	var b strings.Builder
	b.Grow(shortCodeLen)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '-' || c == '\t':
			continue
		case 'a' <= c && c <= 'z':
			// ASCII only: unicode.ToUpper maps some non-ASCII letters
			// (ſ → S) into the alphabet.
			c -= 'a' - 'A'
		}
		if strings.IndexByte(ShortCodeAlphabet, c) < 0 || b.Len() == shortCodeLen {
			return ""
		}
		b.WriteByte(c)
	}
	if b.Len() != shortCodeLen {
		return ""
	}
	return b.String()
}
