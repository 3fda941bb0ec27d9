package auth_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/crypto/argon2"

	"github.com/lifelong-links/sct/internal/auth"
)

// Passwords. Argon2 is slow under -race, so one hash is shared by the cases.

func TestCheckPassword_MatchesOnlyTheRightPassword(t *testing.T) {
	hash, err := auth.HashPassword("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q: want OWASP-minimum argon2id PHC string", hash)
	}
	tests := []struct {
		name     string
		hash     string
		password string
		want     bool
	}{
		{"right password matches", hash, "correct horse battery staple", true},
		{"wrong password fails", hash, "correct horse battery stapler", false},
		{"empty password fails", hash, "", false},
		{"lowered time cost fails because stored params are used", strings.Replace(hash, "t=2", "t=1", 1), "correct horse battery staple", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := auth.CheckPassword(tt.hash, tt.password); got != tt.want {
				t.Errorf("CheckPassword = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestHashPassword_SaltsEachHash(t *testing.T) {
	a, err := auth.HashPassword("same password twice")
	if err != nil {
		t.Fatal(err)
	}
	b, err := auth.HashPassword("same password twice")
	if err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Errorf("two hashes of one password are equal: %q", a)
	}
}

func TestCheckPassword_HonoursStoredParams(t *testing.T) {
	// A hash made with other parameters, as after raising the cost.
	salt := []byte("0123456789abcdef")
	phc := func(m, tm uint32, p uint8, password string) string {
		key := argon2.IDKey([]byte(password), salt, tm, m, p, 32)
		return fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$%s$%s", m, tm, p,
			base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
	}
	tests := []struct {
		name     string
		hash     string
		password string
		want     bool
	}{
		{"t=3 hash verifies", phc(8192, 3, 1, "pass phrase one"), "pass phrase one", true},
		{"p=2 hash verifies", phc(8192, 1, 2, "pass phrase one"), "pass phrase one", true},
		{"t=3 hash rejects wrong password", phc(8192, 3, 1, "pass phrase one"), "pass phrase two", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := auth.CheckPassword(tt.hash, tt.password); got != tt.want {
				t.Errorf("CheckPassword = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCheckPassword_MalformedHashIsFalseNotPanic(t *testing.T) {
	const (
		salt = "MDEyMzQ1Njc4OWFiY2RlZg"                      // 16 bytes
		key  = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY" // 32 bytes
	)
	good := "$argon2id$v=19$m=8192,t=1,p=1$" + salt + "$" + key
	tests := []struct {
		name string
		hash string
	}{
		{"empty", ""},
		{"only dollars", "$$$$$"},
		{"bcrypt prefix", "$2a$10$" + salt + key},
		{"argon2i prefix", strings.Replace(good, "argon2id", "argon2i", 1)},
		{"wrong version", strings.Replace(good, "v=19", "v=16", 1)},
		{"bad base64 salt", strings.Replace(good, salt, "!!!!"+salt[4:], 1)},
		{"bad base64 key", strings.Replace(good, key, key[:10]+"*"+key[11:], 1)},
		{"padded base64 key", good + "="},
		{"params missing p", strings.Replace(good, ",p=1", "", 1)},
		{"params reordered", strings.Replace(good, "m=8192,t=1", "t=1,m=8192", 1)},
		{"zero time", strings.Replace(good, "t=1", "t=0", 1)},
		{"zero lanes", strings.Replace(good, "p=1", "p=0", 1)},
		{"lanes overflow a byte", strings.Replace(good, "p=1", "p=256", 1)},
		{"negative memory", strings.Replace(good, "m=8192", "m=-1", 1)},
		{"huge memory", strings.Replace(good, "m=8192", "m=4294967295", 1)},
		{"non-numeric time", strings.Replace(good, "t=1", "t=x", 1)},
		{"truncated before key", good[:strings.LastIndex(good, "$")]},
		{"truncated key", good[:len(good)-30]},
		{"extra field", good + "$extra"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if auth.CheckPassword(tt.hash, "any password at all") {
				t.Errorf("CheckPassword(%q) = true, want false", tt.hash)
			}
		})
	}
}

// The dummy hash is a real hash of the current parameters (so checking
// against it costs a real check's work) that no ordinary password matches.
func TestDummyHash_IsACurrentHashNoPasswordMatches(t *testing.T) {
	fresh, err := auth.HashPassword("x")
	if err != nil {
		t.Fatal(err)
	}
	params := func(h string) string { return strings.Join(strings.Split(h, "$")[:4], "$") }
	if params(auth.DummyHash) != params(fresh) {
		t.Errorf("dummy hash parameters %q, new hashes %q", params(auth.DummyHash), params(fresh))
	}
	for _, pw := range []string{"", "x", "password", "not a real account"} {
		if auth.CheckPassword(auth.DummyHash, pw) {
			t.Errorf("%q matches the dummy hash", pw)
		}
	}
}

func TestValidatePassword(t *testing.T) {
	const email = "Jordan.Mills@Example.org"
	tests := []struct {
		name     string
		password string
		inputs   []string // what is known of the account, such as its email
		wantErr  string   // empty: acceptable
	}{
		// Length.
		{"twelve characters accepted", "plum kite ox", nil, ""},
		{"eleven characters rejected", "abcdefghijk", nil, "at least 12"},
		{"empty rejected", "", nil, "at least 12"},
		{"twelve multibyte runes accepted", "ééééééééééé√", nil, ""},
		{"eleven multibyte runes rejected despite 22 bytes", "ééééééééééé", nil, "at least 12"},
		{"256 characters accepted", strings.Repeat("unrelated words ", 16), nil, ""},
		{"257 characters rejected", strings.Repeat("unrelated words ", 16) + "x", nil, "at most 256"},
		{"invalid UTF-8 rejected", "plum kite ox \xff", nil, "valid UTF-8"},
		// Repeated characters.
		{"one repeated character rejected", strings.Repeat("a", 20), nil, "repeated"},
		{"one repeated multibyte character rejected", strings.Repeat("é", 20), nil, "repeated"},
		{"two alternating characters rejected", strings.Repeat("ab", 10), nil, "repeats characters"},
		{"a repeated group rejected", "abcabcabcabcabc", nil, "repeats characters"},
		{"one character repeated then another rejected", "aaaaaaaaaaab", nil, "repeats characters"},
		// Common passwords and patterns.
		{"password1234 rejected", "password1234", nil, "common password"},
		{"capital, digits and a symbol on a common word rejected", "Password123!", nil, "common password"},
		{"l33t spelling of a common password rejected", "P@ssw0rd2024!", nil, "common password"},
		{"a common keyboard row and digits rejected", "qwertyuiop123", nil, "common password"},
		{"a keyboard walk rejected", "zxcvbnm,./asdf", nil, "keyboard pattern"},
		{"another keyboard walk rejected", "hjkl;'yuiop[]", nil, "keyboard pattern"},
		{"the alphabet in order rejected", "abcdefghijkl", nil, "run such as abc"},
		// The account's email.
		{"email's local part and digits rejected", "jordan.mills2024", []string{email}, "account's email"},
		{"email's local part without its dot and a year rejected", "jordanmills1987", []string{email}, "account's email"},
		{"email's local part and digits accepted for another account", "jordan.mills2024", []string{"someone@example.org"}, ""},
		{"the service's name and digits rejected", "lifelonglinks123", nil, "service's name"},
		// Strong passphrases.
		{"passphrase with spaces accepted", "correct horse battery staple", nil, ""},
		{"four unrelated words accepted", "violet anchor pebble mustard", []string{email}, ""},
		{"four more unrelated words accepted", "tram ladder quietly orange", []string{email}, ""},
		{"three short words and a digit accepted", "gravel oboe 7", nil, ""},
		{"email's words reordered among others accepted", "mills jordan 88", []string{email}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := auth.ValidatePassword(tt.password, tt.inputs...)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("ValidatePassword: %v, want nil", err)
			case tt.wantErr != "" && err == nil:
				t.Errorf("ValidatePassword = nil, want error containing %q", tt.wantErr)
			case tt.wantErr != "" && !strings.Contains(err.Error(), tt.wantErr):
				t.Errorf("ValidatePassword: %v, want error containing %q", err, tt.wantErr)
			case err != nil && tt.password != "" && strings.Contains(err.Error(), tt.password):
				t.Errorf("ValidatePassword: %v, shows the password", err)
			}
		})
	}
}

// Keys.

// secret returns a base64url secret of n bytes, all b.
func secret(b byte, n int) string {
	return base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte{b}, n))
}

func TestParseKeys(t *testing.T) {
	// '?' bytes encode to "Pz8/" in standard base64 and "Pz8_" in base64url.
	std := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{'?'}, 33))
	short := secret('s', 31)
	tests := []struct {
		name      string
		spec      string
		wantIDs   string // signing id; empty: want an error
		wantErr   string
		forbidden string // must not appear in the error
	}{
		{"one key", "k1=" + secret('a', 32), "k1", "", ""},
		{"two keys sign with the first", "new=" + secret('a', 32) + ",old=" + secret('b', 32), "new", "", ""},
		{"spaces and padding tolerated", " k_1-A = " + base64.URLEncoding.EncodeToString(bytes.Repeat([]byte{'?'}, 32)) + " ", "k_1-A", "", ""},
		{"standard base64 with padding", "k1=" + std, "k1", "", ""},
		{"duplicate id", "k1=" + secret('a', 32) + ",k1=" + secret('b', 32), "", `key "k1": duplicate id`, secret('b', 32)},
		{"short secret", "k1=" + short, "", `key "k1": secret is 31 bytes`, short},
		{"bad base64", "k1=" + secret('a', 32) + "*!", "", `key "k1": secret is not valid base64`, secret('a', 32)},
		{"mixed alphabets", "k1=" + "Pz8_Pz8/" + secret('a', 32), "", `key "k1": secret is not valid base64`, secret('a', 32)},
		{"empty spec", "", "", "empty", ""},
		{"blank spec", "  \n", "", "empty", ""},
		{"empty secret", "k1=", "", `key "k1": secret is not valid base64`, ""},
		{"trailing comma", "k1=" + secret('a', 32) + ",", "", "key 2: want kid=secret", secret('a', 32)},
		{"secret without id", secret('z', 32), "", "key 1: want kid=secret", secret('z', 32)},
		{"bad id chars", "k.1=" + secret('a', 32), "", "key 1: id must be", secret('a', 32)},
		{"empty id", "=" + secret('a', 32), "", "key 1: id must be", secret('a', 32)},
		{"id too long", strings.Repeat("k", 33) + "=" + secret('a', 32), "", "key 1: id must be", secret('a', 32)},
		{"padded secret with no id", base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{'q'}, 32)), "", "key 1: id must be",
			strings.TrimRight(base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{'q'}, 32)), "=")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ring, err := auth.ParseKeys(tt.spec)
			if tt.wantIDs != "" {
				if err != nil {
					t.Fatalf("ParseKeys: %v", err)
				}
				if got := ring.SigningKeyID(); got != tt.wantIDs {
					t.Errorf("SigningKeyID = %q, want %q", got, tt.wantIDs)
				}
				return
			}
			if err == nil {
				t.Fatalf("ParseKeys = %v, want error containing %q", ring, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseKeys: %v, want error containing %q", err, tt.wantErr)
			}
			if tt.forbidden != "" && strings.Contains(err.Error(), tt.forbidden[:16]) {
				t.Errorf("ParseKeys error %q leaks secret material", err)
			}
		})
	}
}

func TestKeyRing_FormattingHidesSecrets(t *testing.T) {
	s := secret('x', 32)
	ring, err := auth.ParseKeys("k1=" + s)
	if err != nil {
		t.Fatal(err)
	}
	raw := string(bytes.Repeat([]byte{'x'}, 32))
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		out := fmt.Sprintf(verb, ring)
		if strings.Contains(out, s[:16]) || strings.Contains(out, raw[:16]) || !strings.Contains(out, "k1") {
			t.Errorf("Sprintf(%q, ring) = %q: want the id and no secret", verb, out)
		}
	}
	key := auth.Key{ID: "k1", Secret: []byte(raw)}
	for _, verb := range []string{"%v", "%+v", "%#v"} {
		if out := fmt.Sprintf(verb, key); strings.Contains(out, raw[:16]) || strings.Contains(out, "120") {
			t.Errorf("Sprintf(%q, key) = %q leaks the secret", verb, out)
		}
	}
}

func TestGenerateKeySpec_RoundTripsThroughParseKeys(t *testing.T) {
	now := time.Date(2026, 11, 23, 23, 30, 0, 0, time.UTC)
	a, err := auth.GenerateKeySpec(now)
	if err != nil {
		t.Fatal(err)
	}
	b, err := auth.GenerateKeySpec(now)
	if err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Errorf("two generated specs are equal: %q", a)
	}
	ring, err := auth.ParseKeys(a)
	if err != nil {
		t.Fatalf("ParseKeys(GenerateKeySpec()): %v", err)
	}
	id := ring.SigningKeyID()
	if !strings.HasPrefix(id, "k20261123-") || len(id) != len("k20261123-ab12cd") {
		t.Errorf("generated id %q: want k20261123-xxxxxx", id)
	}
	// Rotation: the new spec goes in front of the old one.
	if _, err := auth.ParseKeys(b + "," + a); err != nil {
		t.Errorf("rotated spec: %v", err)
	}
}

// Tokens.

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

const issuer = "sct-test"

func mustRing(t *testing.T, spec string) *auth.KeyRing {
	t.Helper()
	ring, err := auth.ParseKeys(spec)
	if err != nil {
		t.Fatal(err)
	}
	return ring
}

func TestTokens_RoundTripKeepsClaims(t *testing.T) {
	ring := mustRing(t, "cur="+secret('c', 32)+",old="+secret('o', 32))
	tokens := auth.NewTokens(ring, issuer, func() time.Time { return t0 })
	in := auth.Claims{
		Role: "young_person", Sites: []string{"north", "south"},
		Session: "sess-1", Child: "child-1", Response: "resp-1",
		RegisteredClaims: jwt.RegisteredClaims{Subject: "user-1"},
	}
	tok, exp, err := tokens.Issue(in, 15*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if want := t0.Add(15 * time.Minute); !exp.Equal(want) {
		t.Errorf("expiry = %v, want %v", exp, want)
	}
	got, err := tokens.Verify(tok)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if got.Role != in.Role || strings.Join(got.Sites, ",") != "north,south" || got.Session != in.Session ||
		got.Child != in.Child || got.Response != in.Response || got.Subject != "user-1" {
		t.Errorf("claims = %+v, want %+v", got, in)
	}
	if got.ID == "" || got.Issuer != issuer || !got.ExpiresAt.Equal(exp) || !got.IssuedAt.Equal(t0) || !got.NotBefore.Equal(t0) {
		t.Errorf("registered claims = %+v: want jti, iss, iat, nbf and exp set", got.RegisteredClaims)
	}
	parsed, _, err := jwt.NewParser().ParseUnverified(tok, &jwt.MapClaims{})
	if err != nil {
		t.Fatal(err)
	}
	if parsed.Header["kid"] != "cur" || parsed.Header["alg"] != "HS256" {
		t.Errorf("header = %v, want kid cur, alg HS256", parsed.Header)
	}
	tok2, _, err := tokens.Issue(in, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	got2, err := tokens.Verify(tok2)
	if err != nil {
		t.Fatal(err)
	}
	if got2.ID == got.ID {
		t.Errorf("two tokens share jti %q", got.ID)
	}
}

func TestTokens_IssueRejectsNonPositiveTTL(t *testing.T) {
	tokens := auth.NewTokens(mustRing(t, "k="+secret('k', 32)), issuer, func() time.Time { return t0 })
	if _, _, err := tokens.Issue(auth.Claims{Role: "admin"}, 0); err == nil {
		t.Error("Issue with ttl 0: want error")
	}
}

func TestTokens_ExpiryHonoursLeeway(t *testing.T) {
	now := t0
	tokens := auth.NewTokens(mustRing(t, "k="+secret('k', 32)), issuer, func() time.Time { return now })
	tok, exp, err := tokens.Issue(auth.Claims{Role: "admin"}, 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		at      time.Time
		wantErr error
	}{
		{"valid before expiry", exp.Add(-time.Second), nil},
		{"accepted within leeway after expiry", exp.Add(29 * time.Second), nil},
		{"rejected past expiry plus leeway", exp.Add(31 * time.Second), jwt.ErrTokenExpired},
		{"rejected before nbf minus leeway", t0.Add(-31 * time.Second), jwt.ErrTokenNotValidYet},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now = tt.at
			_, err := tokens.Verify(tok)
			checkVerifyErr(t, err, tt.wantErr)
		})
	}
}

// checkVerifyErr wants nil if want is nil, else an error that is both
// ErrInvalidToken and want.
func checkVerifyErr(t *testing.T, err, want error) {
	t.Helper()
	switch {
	case want == nil && err != nil:
		t.Errorf("Verify: %v, want success", err)
	case want != nil && err == nil:
		t.Errorf("Verify succeeded, want %v", want)
	case want != nil && !errors.Is(err, auth.ErrInvalidToken):
		t.Errorf("Verify: %v, want errors.Is ErrInvalidToken", err)
	case want != nil && !errors.Is(err, want):
		t.Errorf("Verify: %v, want errors.Is %v", err, want)
	}
}

// craft signs claims with method under kid, bypassing Issue, so each case
// can break one rule.
func craft(t *testing.T, method jwt.SigningMethod, kid string, key any, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestTokens_VerifyRejectsBadTokens(t *testing.T) {
	curSecret := bytes.Repeat([]byte{'c'}, 32)
	oldSpec := "old=" + secret('o', 32)
	clock := func() time.Time { return t0 }
	tokens := auth.NewTokens(mustRing(t, "cur="+secret('c', 32)+","+oldSpec), issuer, clock)

	claims := func(edit func(jwt.MapClaims)) jwt.MapClaims {
		c := jwt.MapClaims{"role": "admin", "iss": issuer, "iat": t0.Unix(), "nbf": t0.Unix(), "exp": t0.Add(time.Hour).Unix()}
		if edit != nil {
			edit(c)
		}
		return c
	}
	issue := func(tk *auth.Tokens) string {
		s, _, err := tk.Issue(auth.Claims{Role: "coordinator"}, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	good := issue(tokens)
	parts := strings.Split(good, ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(payload, &m); err != nil {
		t.Fatal(err)
	}
	m["role"] = "admin"
	forged, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString(forged) + "." + parts[2]

	tests := []struct {
		name    string
		token   string
		wantErr error // nil: accepted
	}{
		{"own token accepted", good, nil},
		{"crafted baseline accepted", craft(t, jwt.SigningMethodHS256, "cur", curSecret, claims(nil)), nil},
		{"old key still verifies after rotation", issue(auth.NewTokens(mustRing(t, oldSpec), issuer, clock)), nil},
		{"unknown kid rejected", issue(auth.NewTokens(mustRing(t, "gone="+secret('c', 32)), issuer, clock)), jwt.ErrTokenUnverifiable},
		{"missing kid rejected", craft(t, jwt.SigningMethodHS256, "", curSecret, claims(nil)), jwt.ErrTokenUnverifiable},
		{"known kid with another secret rejected", craft(t, jwt.SigningMethodHS256, "cur", bytes.Repeat([]byte{'x'}, 32), claims(nil)), jwt.ErrTokenSignatureInvalid},
		{"alg none rejected", craft(t, jwt.SigningMethodNone, "cur", jwt.UnsafeAllowNoneSignatureType, claims(nil)), jwt.ErrTokenSignatureInvalid},
		{"HS384 with the right secret rejected", craft(t, jwt.SigningMethodHS384, "cur", curSecret, claims(nil)), jwt.ErrTokenSignatureInvalid},
		{"HS512 with the right secret rejected", craft(t, jwt.SigningMethodHS512, "cur", curSecret, claims(nil)), jwt.ErrTokenSignatureInvalid},
		{"tampered payload rejected", tampered, jwt.ErrTokenSignatureInvalid},
		{"altered signature rejected", flipSignature(good), jwt.ErrTokenSignatureInvalid},
		{"garbage rejected", "not.a.token", jwt.ErrTokenMalformed},
		{"empty rejected", "", jwt.ErrTokenMalformed},
		{"missing exp rejected", craft(t, jwt.SigningMethodHS256, "cur", curSecret, claims(func(c jwt.MapClaims) { delete(c, "exp") })), jwt.ErrTokenRequiredClaimMissing},
		{"wrong issuer rejected", issue(auth.NewTokens(mustRing(t, "cur="+secret('c', 32)), "someone-else", clock)), jwt.ErrTokenInvalidIssuer},
		{"missing issuer rejected", craft(t, jwt.SigningMethodHS256, "cur", curSecret, claims(func(c jwt.MapClaims) { delete(c, "iss") })), jwt.ErrTokenRequiredClaimMissing},
		{"iat beyond leeway in the future rejected", craft(t, jwt.SigningMethodHS256, "cur", curSecret, claims(func(c jwt.MapClaims) {
			delete(c, "nbf")
			c["iat"] = t0.Add(auth.Leeway + time.Minute).Unix()
		})), jwt.ErrTokenUsedBeforeIssued},
		{"token issued by a clock in the future rejected", issue(auth.NewTokens(mustRing(t, "cur="+secret('c', 32)), issuer, func() time.Time { return t0.Add(time.Hour) })), jwt.ErrTokenUsedBeforeIssued},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			claims, err := tokens.Verify(tt.token)
			checkVerifyErr(t, err, tt.wantErr)
			if err != nil && claims != nil {
				t.Errorf("Verify returned claims %+v with error", claims)
			}
		})
	}
}

// flipSignature changes one character in the middle of the signature.
func flipSignature(tok string) string {
	i := strings.LastIndex(tok, ".") + 10
	c := byte('A')
	if tok[i] == 'A' {
		c = 'B'
	}
	return tok[:i] + string(c) + tok[i+1:]
}

// Opaque tokens and short codes.

func TestNewOpaqueToken_UniqueAndHashedBySHA256(t *testing.T) {
	seen := make(map[string]bool, 1000)
	for range 1000 {
		tok, hash, err := auth.NewOpaqueToken()
		if err != nil {
			t.Fatal(err)
		}
		if seen[tok] {
			t.Fatalf("token %q drawn twice", tok)
		}
		seen[tok] = true
		if raw, err := base64.RawURLEncoding.DecodeString(tok); err != nil || len(raw) != 32 {
			t.Fatalf("token %q: want 32 bytes of unpadded base64url", tok)
		}
		if hash != auth.HashOpaque(tok) || len(hash) != 64 {
			t.Fatalf("hash %q: want HashOpaque(token), 64 hex digits", hash)
		}
	}
}

func TestHashOpaque_Deterministic(t *testing.T) {
	tests := []struct {
		name  string
		token string
		want  string
	}{
		{"empty is SHA-256 of nothing", "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		{"abc is the FIPS test vector", "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := auth.HashOpaque(tt.token); got != tt.want || auth.HashOpaque(tt.token) != got {
				t.Errorf("HashOpaque(%q) = %q, want %q", tt.token, got, tt.want)
			}
		})
	}
}

func TestNewShortCode_UniqueAndWellFormed(t *testing.T) {
	seen := make(map[string]bool, 1000)
	used := make(map[rune]bool)
	for range 1000 {
		code, err := auth.NewShortCode()
		if err != nil {
			t.Fatal(err)
		}
		if len(code) != 9 || code[4] != '-' {
			t.Fatalf("code %q: want ABCD-EFGH shape", code)
		}
		norm := auth.NormalizeShortCode(code)
		if norm != code[:4]+code[5:] {
			t.Fatalf("NormalizeShortCode(%q) = %q", code, norm)
		}
		if seen[norm] {
			t.Fatalf("code %q drawn twice", code)
		}
		seen[norm] = true
		for _, r := range norm {
			used[r] = true
		}
	}
	// 8000 draws from 31 characters: every one should turn up.
	if len(used) != len(auth.ShortCodeAlphabet) {
		t.Errorf("codes used %d distinct characters, want all %d", len(used), len(auth.ShortCodeAlphabet))
	}
}

func TestNormalizeShortCode(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"display form", "ABCD-EFGH", "ABCDEFGH"},
		{"lower case with space", "abcd efgh", "ABCDEFGH"},
		{"plain", "23456789", "23456789"},
		{"extra spaces and dashes", " ab-cd  ef--gh ", "ABCDEFGH"},
		{"too short", "ABCD-EFG", ""},
		{"too long", "ABCD-EFGHJ", ""},
		{"empty", "", ""},
		{"look-alike O rejected", "ABCD-EFGO", ""},
		{"look-alike zero rejected", "ABCD-EFG0", ""},
		{"look-alike I and one rejected", "ABCD-EFI1", ""},
		{"lower-case l rejected", "abcd-efgl", ""},
		{"non-ASCII long s does not become S", "ABCD-EFGſ", ""},
		{"punctuation rejected", "ABCD.EFGH", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := auth.NormalizeShortCode(tt.in); got != tt.want {
				t.Errorf("NormalizeShortCode(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
