package auth

import (
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
)

// ErrInvalidToken is wrapped by every error Verify returns.
var ErrInvalidToken = errors.New("invalid token")

// Leeway is the clock skew Verify tolerates on exp, nbf and iat.
const Leeway = 30 * time.Second

// Claims are the access token's claims.
type Claims struct {
	Role     string   `json:"role"`
	Sites    []string `json:"sites,omitempty"`
	Session  string   `json:"sid,omitempty"`   // young-person session id
	Child    string   `json:"child,omitempty"` // young-person session: the child
	Response string   `json:"rsp,omitempty"`   // young-person session: the one response it may touch
	Gen      int      `json:"gen,omitempty"`   // staff: the account's token generation when issued
	jwt.RegisteredClaims
}

// Tokens issues and verifies access tokens: HS256 only, the "kid" header
// naming the signing key.
type Tokens struct {
	keys   *KeyRing
	issuer string
	now    func() time.Time
	parser *jwt.Parser
}

// NewTokens returns Tokens that sign with keys, stamp and require issuer,
// and read the time from now (time.Now if nil).
func NewTokens(keys *KeyRing, issuer string, now func() time.Time) *Tokens {
	if now == nil {
		now = time.Now
	}
	return &Tokens{
		keys:   keys,
		issuer: issuer,
		now:    now,
		parser: jwt.NewParser(
			// Pinning the algorithm stops "none" and algorithm-confusion
			// tokens before any key is looked up.
			jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
			jwt.WithExpirationRequired(),
			jwt.WithIssuer(issuer),
			jwt.WithIssuedAt(),
			jwt.WithLeeway(Leeway),
			jwt.WithTimeFunc(now),
			jwt.WithStrictDecoding(),
		),
	}
}

// Issue signs c as an access token valid for ttl. It sets iss, iat, nbf, exp
// and a random jti, and returns the token and its expiry.
func (t *Tokens) Issue(c Claims, ttl time.Duration) (string, time.Time, error) {
	if ttl <= 0 {
		return "", time.Time{}, fmt.Errorf("token ttl %v: must be positive", ttl)
	}
	jti, err := uuid.NewRandom()
	if err != nil {
		return "", time.Time{}, fmt.Errorf("token id: %w", err)
	}
	now := t.now()
	c.Issuer = t.issuer
	c.IssuedAt = jwt.NewNumericDate(now)
	c.NotBefore = jwt.NewNumericDate(now)
	c.ExpiresAt = jwt.NewNumericDate(now.Add(ttl))
	c.ID = jti.String()

	key := t.keys.signingKey()
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, c)
	tok.Header["kid"] = key.ID
	signed, err := tok.SignedString(key.Secret)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("sign token: %w", err)
	}
	return signed, c.ExpiresAt.Time, nil
}

// Verify checks token's signature, key id, algorithm (HS256 only), expiry
// (required), issuer and issue time, and returns its claims. Every error
// wraps ErrInvalidToken.
func (t *Tokens) Verify(token string) (*Claims, error) {
	var c Claims
	_, err := t.parser.ParseWithClaims(token, &c, t.key)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	return &c, nil
}

// key finds the verification secret named by the token's "kid" header.
func (t *Tokens) key(tok *jwt.Token) (any, error) {
	if tok.Method != jwt.SigningMethodHS256 {
		return nil, fmt.Errorf("unexpected algorithm %v", tok.Header["alg"])
	}
	kid, ok := tok.Header["kid"].(string)
	if !ok || kid == "" {
		return nil, errors.New("no key id")
	}
	secret, ok := t.keys.lookup(kid)
	if !ok {
		return nil, fmt.Errorf("unknown key id %q", kid)
	}
	return secret, nil
}
