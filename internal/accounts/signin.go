package accounts

import (
	"cmp"
	"context"
	"errors"
	"math"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/lifelong-links/sct/internal/access"
	"github.com/lifelong-links/sct/internal/auth"
	"github.com/lifelong-links/sct/internal/store"
)

// Sign-in limits. Failures are counted in the store, so every instance
// sees them, in fixed windows; an attempt is counted before it is checked
// (see reserve), so attempts sent at once cannot all slip under a limit.
//
// Failures from elsewhere cannot lock an owner out: the account-wide and
// address-wide limits do not apply at an address the account has signed in
// from lately. Guesses stay bounded: about MaxAccountFailures an hour from
// all other addresses together, and MaxPairFailures per window from each
// address the account is known at.
const (
	// FailureWindow is the window of the per-account-and-address and
	// per-address limits (and of counts stored before windows said when
	// they end).
	FailureWindow = 15 * time.Minute

	MaxPairFailures    = 5   // one account from one address, per FailureWindow
	MaxAddressFailures = 20  // one address, accounts it is not known for (or codes, or grants), per FailureWindow
	MaxAccountFailures = 100 // one account, from addresses it is not known at, per accountWindow
	accountWindow      = time.Hour

	knownAddressFor   = 60 * 24 * time.Hour // an address stays known this long after a sign-in from it
	maxKnownAddresses = 5                   // the most recent are kept
)

// afterCallerLeft bounds what the service still writes once its caller
// has gone (taking back a counted attempt).
const afterCallerLeft = 10 * time.Second

// SignIn is a staff sign-in's tokens.
type SignIn struct {
	User             store.User
	AccessToken      string
	ExpiresIn        int // seconds
	RefreshToken     string
	RefreshExpiresIn int // seconds
}

// Login checks a staff member's email and password from addr (their
// address) and signs them in. It answers ErrBadLogin for an unknown email,
// a disabled account and a wrong password alike, after the same work, and
// a *LimitedError once too many attempts failed.
func (s *Service) Login(ctx context.Context, email, password, addr string) (SignIn, error) {
	email = NormalEmail(email)
	u, err := s.store.UserByEmail(ctx, email)
	found := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return SignIn{}, err
	}
	limits := []limit{{"pair:" + email + "|" + addr, MaxPairFailures, FailureWindow}}
	if !found || !knownAt(u, addr, s.now()) {
		limits = append(limits, limit{"address:" + addr, MaxAddressFailures, FailureWindow},
			limit{"account:" + email, MaxAccountFailures, accountWindow})
	}
	release, err := s.reserve(ctx, limits)
	if err != nil {
		return SignIn{}, err
	}
	// One password check whatever the account: an unknown email, a
	// disabled account and a wrong password cost the same work.
	hash := auth.DummyHash
	if found {
		hash = u.PasswordHash
	}
	var ok bool
	if err := s.withPasswordSlot(ctx, func() { ok = s.checkPassword(hash, password) }); err != nil {
		release() // not tried: it counts against no limit
		return SignIn{}, err
	}
	if !ok || !found || u.Disabled {
		return SignIn{}, ErrBadLogin
	}
	release()
	s.rememberAddress(ctx, u, addr)
	return s.issue(ctx, u, uuid.NewString(), u.SignInGen, s.now().Add(s.signInLifetime), false)
}

// NormalEmail is an email as accounts are found by: trimmed, lower case.
func NormalEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// knownAt reports whether u signed in from addr lately.
func knownAt(u store.User, addr string, now time.Time) bool {
	for _, k := range u.KnownAddresses {
		if k.Address == addr && now.Sub(k.At) < knownAddressFor {
			return true
		}
	}
	return false
}

// rememberAddress notes that u signed in from addr, keeping the most recent
// few. Losing a note costs only a stricter limit next time, so a failure
// to write it does not fail the sign-in.
func (s *Service) rememberAddress(ctx context.Context, u store.User, addr string) {
	now := s.now().UTC().Truncate(time.Millisecond)
	if n := len(u.KnownAddresses); n > 0 && u.KnownAddresses[n-1].Address == addr && now.Sub(u.KnownAddresses[n-1].At) < 24*time.Hour {
		return // noted today already: no write on every sign-in
	}
	kept := []store.KnownAddress{}
	for _, k := range u.KnownAddresses {
		if k.Address != addr && now.Sub(k.At) < knownAddressFor {
			kept = append(kept, k)
		}
	}
	kept = append(kept, store.KnownAddress{Address: addr, At: now})
	kept = kept[max(0, len(kept)-maxKnownAddresses):]
	if err := s.store.SetKnownAddresses(ctx, u.ID, kept); err != nil {
		s.log.Warn("noting a sign-in address", "err", err)
	}
}

// limit caps the failures counted under a key in windows of a length.
type limit struct {
	key    string
	max    int
	window time.Duration
}

// reserve counts an attempt under every limit before it is made, and
// refuses it with a *LimitedError when any count is then over its limit.
// The counts stand: a refused attempt was an attempt. release takes them
// back once the attempt turns out not to be a failure.
func (s *Service) reserve(ctx context.Context, limits []limit) (release func(), err error) {
	now := s.now()
	takeBack := func(counted []limit) {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), afterCallerLeft)
		defer cancel()
		for _, l := range counted {
			if _, err := s.store.CountAttempt(rctx, l.key, now.Truncate(l.window), l.window, -1); err != nil {
				s.log.Warn("taking back a counted attempt", "err", err)
			}
		}
	}
	// Narrowest first: an attempt refused by one limit is not counted
	// under the wider ones, so one address spending its own allowance does
	// not spend an account's allowance everywhere else.
	for i, l := range limits {
		window := now.Truncate(l.window)
		n, err := s.store.CountAttempt(ctx, l.key, window, l.window, 1)
		if err != nil {
			return nil, err
		}
		if n > l.max {
			takeBack(limits[:i])
			return nil, &LimitedError{RetryAfter: window.Add(l.window).Sub(now)}
		}
	}
	return func() { takeBack(limits) }, nil
}

func jwtSubject(subject string) jwt.RegisteredClaims { return jwt.RegisteredClaims{Subject: subject} }

// issue makes a new access token and a new refresh token of the same
// family. However often it is refreshed, a sign-in ends at ends.
func (s *Service) issue(ctx context.Context, u store.User, family string, gen int, ends time.Time, renewal bool) (SignIn, error) {
	refresh, hash, err := auth.NewOpaqueToken()
	if err != nil {
		return SignIn{}, err
	}
	now := s.now()
	expires := now.Add(s.refreshTTL).UTC()
	if ends.Before(expires) {
		expires = ends.UTC()
	}
	if err := s.store.InsertRefreshToken(ctx, store.RefreshToken{
		Hash: hash, UserID: u.ID, Family: family, ExpiresAt: expires, Ends: ends.UTC(), SignInGen: &gen,
	}); err != nil {
		return SignIn{}, err
	}
	// A renewal: a revocation made while it was under way (a copied token
	// caught, the account changed) missed the token just stored, so look
	// again now that it is there: at the sign-in's tokens, and at the
	// account, whose SignInGen a change to it raises before it revokes its
	// tokens (revoking an account's tokens is many writes, and one
	// may have read them before this token was stored). A new sign-in's
	// family has nothing to find.
	if renewal {
		revoked, err := s.store.FamilyRevoked(ctx, family)
		if err != nil {
			return SignIn{}, err
		}
		if !revoked {
			now, err := s.store.User(ctx, u.ID)
			switch {
			case errors.Is(err, store.ErrNotFound):
				revoked = true
			case err != nil:
				return SignIn{}, err
			default:
				revoked = now.SignInGen != gen || now.Disabled
			}
		}
		if revoked {
			if err := s.store.RevokeTokenFamily(ctx, family); err != nil {
				return SignIn{}, err
			}
			return SignIn{}, ErrSignInEnded
		}
	}
	token, _, err := s.tokens.Issue(auth.Claims{Role: u.Role, Sites: u.Sites, Gen: u.TokenGen,
		RegisteredClaims: jwtSubject(u.ID)}, AccessTTL)
	if err != nil {
		return SignIn{}, err
	}
	return SignIn{User: u, AccessToken: token, ExpiresIn: int(AccessTTL / time.Second),
		RefreshToken: refresh, RefreshExpiresIn: int(expires.Sub(now).Seconds())}, nil
}

// Refresh turns a refresh token into a new pair of the same sign-in. A
// token used twice ends its whole sign-in: two holders of one token, and
// one is not the user.
func (s *Service) Refresh(ctx context.Context, refreshToken string) (SignIn, error) {
	t, err := s.store.UseRefreshToken(ctx, auth.HashOpaque(refreshToken))
	if errors.Is(err, store.ErrReused) {
		// Their sign-in is revoked (a refresh of it under way finds that
		// once it has stored its successor; see issue).
		return SignIn{}, ErrTokenReused
	}
	if errors.Is(err, store.ErrNotFound) {
		return SignIn{}, ErrSignInEnded
	}
	if err != nil {
		return SignIn{}, err
	}
	u, err := s.store.User(ctx, t.UserID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && u.Disabled) {
		return SignIn{}, ErrSignInEnded
	}
	if err != nil {
		return SignIn{}, err
	}
	gen := u.SignInGen
	changed := false
	if t.SignInGen != nil {
		gen = *t.SignInGen
		changed = u.SignInGen != gen
	} else {
		// A token stored before tokens kept the generation: the account
		// changed since it was made if it was updated after.
		changed = u.UpdatedAt.After(t.CreatedAt)
	}
	if changed { // the account changed since the sign-in was made
		if err := s.store.RevokeTokenFamily(ctx, t.Family); err != nil {
			return SignIn{}, err
		}
		return SignIn{}, ErrSignInEnded
	}
	ends := t.Ends
	if ends.IsZero() { // a sign-in from before sign-ins had an end
		ends = s.now().Add(s.signInLifetime)
	}
	return s.issue(ctx, u, t.Family, gen, ends, true)
}

// Logout ends the sign-in the refresh token belongs to, and the account's
// access tokens on every device (the others refresh). It returns the
// account signed out, or "" when the sign-in had ended already (not an
// error).
func (s *Service) Logout(ctx context.Context, refreshToken string) (string, error) {
	t, err := s.store.UseRefreshToken(ctx, auth.HashOpaque(refreshToken))
	switch {
	case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrReused):
		return "", nil
	case err != nil:
		return "", err
	}
	if err := s.store.RevokeTokenFamily(ctx, t.Family); err != nil {
		return "", err
	}
	if err := s.store.EndAccessTokens(ctx, t.UserID); err != nil {
		return "", err
	}
	s.live.forget(t.UserID)
	return t.UserID, nil
}

// LinkSignIn is a young person's token for their one response.
type LinkSignIn struct {
	Session     store.Session
	AccessToken string
	ExpiresIn   int // seconds
	// DeviceGrant renews the token on this device (only when a code is
	// redeemed).
	DeviceGrant string
}

// OpenSession turns a young person's one-time code, tried from addr, into
// a token for their one response and a device grant.
func (s *Service) OpenSession(ctx context.Context, code, addr string) (LinkSignIn, error) {
	release, err := s.reserve(ctx, []limit{{"code-address:" + addr, MaxAddressFailures, FailureWindow}})
	if err != nil {
		return LinkSignIn{}, err
	}
	grant, grantHash, err := auth.NewOpaqueToken()
	if err != nil {
		return LinkSignIn{}, err
	}
	code = auth.NormalizeShortCode(code)
	sess, err := s.store.OpenSession(ctx, auth.HashOpaque(code), grantHash, s.now().Add(DeviceGrantFor))
	if code == "" || errors.Is(err, store.ErrNotFound) {
		return LinkSignIn{}, ErrBadCode
	}
	if err != nil {
		return LinkSignIn{}, err
	}
	release()
	if ok, err := s.LinkMakerStands(ctx, sess.CreatedBy, sess.Site); err != nil || !ok {
		return LinkSignIn{}, cmp.Or(err, ErrBadCode)
	}
	// The token lasts the link's time; the grant renews it after that.
	out, err := s.linkToken(sess, sess.ExpiresAt.Sub(s.now()))
	out.DeviceGrant = grant
	return out, err
}

// RenewSession gives the phone holding a link's device grant, from addr, a
// new access token for its one response while the session lives.
func (s *Service) RenewSession(ctx context.Context, grant, addr string) (LinkSignIn, error) {
	release, err := s.reserve(ctx, []limit{{"grant-address:" + addr, MaxAddressFailures, FailureWindow}})
	if err != nil {
		return LinkSignIn{}, err
	}
	sess, err := s.store.SessionByGrant(ctx, auth.HashOpaque(grant))
	if errors.Is(err, store.ErrNotFound) {
		return LinkSignIn{}, ErrGrantEnded
	}
	if err != nil {
		return LinkSignIn{}, err
	}
	release()
	if ok, err := s.LinkMakerStands(ctx, sess.CreatedBy, sess.Site); err != nil || !ok {
		return LinkSignIn{}, cmp.Or(err, ErrGrantEnded)
	}
	ends := sess.ExpiresAt
	if sess.GrantUntil != nil && sess.GrantUntil.After(ends) {
		ends = *sess.GrantUntil
	}
	return s.linkToken(sess, min(AccessTTL, ends.Sub(s.now())))
}

// linkToken issues a young person's access token for a live session,
// lasting ttl.
func (s *Service) linkToken(sess store.Session, ttl time.Duration) (LinkSignIn, error) {
	now := s.now()
	token, exp, err := s.tokens.Issue(auth.Claims{
		Role: string(access.YoungPerson), Sites: []string{sess.Site},
		Session: sess.ID, Child: sess.ChildID, Response: sess.ResponseID,
		RegisteredClaims: jwtSubject("session:" + sess.ID),
	}, ttl)
	if err != nil {
		return LinkSignIn{}, err
	}
	return LinkSignIn{Session: sess, AccessToken: token, ExpiresIn: int(math.Ceil(exp.Sub(now).Seconds()))}, nil
}
