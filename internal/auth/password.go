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
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/trustelem/zxcvbn"
	"github.com/trustelem/zxcvbn/match"
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

// DummyHash is a hash of a random password nobody knows, made with the
// current parameters. Checking a password against it costs what a real
// check costs and fails: a sign-in for an unknown account spends the same
// work as one for a real account, so time does not tell them apart.
const DummyHash = "$argon2id$v=19$m=19456,t=2,p=1$Rlq8l4zRsp9kc6i0VU0J+w$i35/dwOfSWbm4iAhi+r+LlmfAUWAek6EiVPMsO6LpkM"

// MinPasswordScore is the lowest zxcvbn score (0 to 4) a new password may
// have. 3 is "safely unguessable": an estimated 10^8 guesses or more, out of
// reach online and some protection even for a stolen argon2id hash; 2 falls
// to an attacker guessing online without limit.
const MinPasswordScore = 3

// maxScoredRunes bounds how much of a password zxcvbn reads. Its matching
// grows quickly with length (a 256-character password of l33t characters
// takes seconds); a password whose first 100 characters are strong is
// strong.
const maxScoredRunes = 100

// serviceWords are words a person may build a password for this service
// from; they count as guessable, like the account's own email.
var serviceWords = []string{"social connections tool", "lifelong links", "sct"}

// ValidatePassword returns an error saying why password is unacceptable as a
// new password, or nil. A password must have 12 to 256 characters and must
// not be easy to guess: zxcvbn (with its frequency lists of common
// passwords, words and names compiled in) must score it at least
// MinPasswordScore. userInputs are things the attacker may know about the
// account, such as its email; a password built from them is refused too.
// The error never repeats the password.
func ValidatePassword(password string, userInputs ...string) error {
	if !utf8.ValidString(password) {
		return errors.New("password must be valid UTF-8 text")
	}
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
	scored := password
	if n > maxScoredRunes {
		scored = string([]rune(password)[:maxScoredRunes])
	}
	r := zxcvbn.PasswordStrength(scored, guessableWords(slices.Concat(userInputs, serviceWords)))
	if r.Score < MinPasswordScore {
		return fmt.Errorf("password is too easy to guess: %s; try a few unrelated words instead", weakness(r.Sequence))
	}
	return nil
}

// guessableWords turns each input into the words a password might be built
// from: the whole input, and for an email each side of the @, each side
// with its separators dropped, and each piece of three or more letters or
// digits. "jo.smith@example.org" gives jo.smith@example.org, jo.smith,
// josmith, smith, example.org, exampleorg, example and org.
func guessableWords(inputs []string) []string {
	var words []string
	seen := make(map[string]bool)
	add := func(w string) {
		if w != "" && !seen[w] {
			seen[w] = true
			words = append(words, w)
		}
	}
	for _, in := range inputs {
		in = strings.ToLower(strings.TrimSpace(in))
		add(in)
		for _, part := range strings.Split(in, "@") {
			add(part)
			pieces := strings.FieldsFunc(part, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
			add(strings.Join(pieces, ""))
			for _, p := range pieces {
				if utf8.RuneCountInString(p) >= 3 {
					add(p)
				}
			}
		}
	}
	return words
}

// Kinds of guessable pattern, and how each is told. On a tie in length the
// first listed is told: the user inputs first, as the easiest to act on.
const (
	fromInputs = iota
	commonPassword
	keyboard
	repeated
	run
	dateOrYear
	commonWords
	numKinds
)

var kindHints = [numKinds]string{
	fromInputs:     "it is built from the account's email or this service's name",
	commonPassword: "it is close to a common password",
	keyboard:       "it follows a keyboard pattern such as qwerty",
	repeated:       "it repeats characters or a group of characters",
	run:            "it has a run such as abc or 1234",
	dateOrYear:     "it has a date or year",
	commonWords:    "it is made of a few common words or names",
}

// weakness says in words what makes a password guessable: the kind of the
// longest pattern zxcvbn found in it. It names the kind only, never the text
// that matched.
func weakness(seq []*match.Match) string {
	var longest [numKinds]int // characters of the longest match of each kind
	for _, m := range seq {
		k := -1
		switch {
		case m.Pattern == "dictionary" && m.DictionaryName == "user_inputs":
			k = fromInputs
		case m.Pattern == "dictionary" && m.DictionaryName == "passwords":
			k = commonPassword
		case m.Pattern == "dictionary":
			k = commonWords
		case m.Pattern == "spatial":
			k = keyboard
		case m.Pattern == "repeat":
			k = repeated
		case m.Pattern == "sequence":
			k = run
		case m.Pattern == "date" || m.Pattern == "regex":
			k = dateOrYear
		}
		if k >= 0 {
			longest[k] = max(longest[k], utf8.RuneCountInString(m.Token))
		}
	}
	best := -1
	for k, n := range longest {
		if n > 0 && (best < 0 || n > longest[best]) {
			best = k
		}
	}
	if best < 0 {
		return "it is close to a common password or pattern"
	}
	return kindHints[best]
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
