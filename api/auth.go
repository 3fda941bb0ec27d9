package api

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

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
// from lately. Guesses stay bounded: about maxAccountFailures an hour from
// all other addresses together, and maxPairFailures per window from each
// address the account is known at.
const (
	// FailureWindow is the window of the per-account-and-address and
	// per-address limits (and of counts stored before windows said when
	// they end).
	FailureWindow = 15 * time.Minute

	maxPairFailures    = 5   // one account from one address, per FailureWindow
	maxAddressFailures = 20  // one address, accounts it is not known for, per FailureWindow
	maxAccountFailures = 100 // one account, from addresses it is not known at, per accountWindow
	accountWindow      = time.Hour

	knownAddressFor   = 60 * 24 * time.Hour // an address stays known this long after a sign-in from it
	maxKnownAddresses = 5                   // the most recent are kept
)

var errBadLogin = invalid(http.StatusUnauthorized, "wrong email or password")

type loginRequest struct {
	Email    string `json:"email" validate:"required,max=254"`
	Password string `json:"password" validate:"required,max=256"`
}

type tokenResponse struct {
	AccessToken      string      `json:"access_token"`
	TokenType        string      `json:"token_type"`
	ExpiresIn        int         `json:"expires_in"`
	RefreshToken     string      `json:"refresh_token,omitempty"`
	RefreshExpiresIn int         `json:"refresh_expires_in,omitempty"`
	User             *store.User `json:"user,omitempty"`
}

func (h *handlers) login(c echo.Context) error {
	var req loginRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	ctx := c.Request().Context()
	email := strings.ToLower(strings.TrimSpace(req.Email))
	addr := c.RealIP()
	u, err := h.store.UserByEmail(ctx, email)
	found := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	limits := []limit{{"pair:" + email + "|" + addr, maxPairFailures, FailureWindow}}
	if !found || !knownAt(u, addr, h.now()) {
		limits = append(limits, limit{"address:" + addr, maxAddressFailures, FailureWindow},
			limit{"account:" + email, maxAccountFailures, accountWindow})
	}
	release, err := h.reserve(c, limits)
	if err != nil {
		return err
	}
	// One password check whatever the account: an unknown email, a
	// disabled account and a wrong password cost the same work.
	hash := auth.DummyHash
	if found {
		hash = u.PasswordHash
	}
	if ok := h.checkPassword(hash, req.Password); !ok || !found || u.Disabled {
		return h.loginFailed(c, email)
	}
	release()
	h.rememberAddress(ctx, u, addr)
	c.Set(principalKey, access.Principal{Subject: u.ID, Role: access.Role(u.Role), Sites: u.Sites})
	if err := h.audit(c, "login", "user:"+u.ID, "", ""); err != nil {
		return err
	}
	return h.issueTokens(c, u, uuid.NewString(), h.now().Add(h.signInLifetime), false)
}

func (h *handlers) loginFailed(c echo.Context, email string) error {
	c.Set(principalKey, access.Principal{Subject: "email:" + email})
	if err := h.audit(c, "login_failed", "", "", ""); err != nil {
		return err
	}
	return errBadLogin
}

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
func (h *handlers) rememberAddress(ctx context.Context, u store.User, addr string) {
	now := h.now().UTC().Truncate(time.Millisecond)
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
	if err := h.store.SetKnownAddresses(ctx, u.ID, kept); err != nil {
		h.log.Warn("noting a sign-in address", "err", err)
	}
}

// limit caps the failures counted under a key in windows of a length.
type limit struct {
	key    string
	max    int
	window time.Duration
}

// reserve counts an attempt under every limit before it is made, and
// refuses it with 429 when any count is then over its limit. The counts
// stand: a refused attempt was an attempt. release takes them back once
// the attempt turns out not to be a failure.
func (h *handlers) reserve(c echo.Context, limits []limit) (release func(), err error) {
	ctx := c.Request().Context()
	now := h.now()
	takeBack := func(counted []limit) {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), afterCallerLeft)
		defer cancel()
		for _, l := range counted {
			if _, err := h.store.CountAttempt(rctx, l.key, now.Truncate(l.window), l.window, -1); err != nil {
				h.log.Warn("taking back a counted attempt", "err", err)
			}
		}
	}
	// Narrowest first: an attempt refused by one limit is not counted
	// under the wider ones, so one address spending its own allowance does
	// not spend an account's allowance everywhere else.
	for i, l := range limits {
		window := now.Truncate(l.window)
		n, err := h.store.CountAttempt(ctx, l.key, window, l.window, 1)
		if err != nil {
			return nil, err
		}
		if n > l.max {
			takeBack(limits[:i])
			wait := window.Add(l.window).Sub(now)
			c.Response().Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
			return nil, invalid(http.StatusTooManyRequests, "too many failed attempts; try again later")
		}
	}
	return func() { takeBack(limits) }, nil
}

func jwtSubject(subject string) jwt.RegisteredClaims { return jwt.RegisteredClaims{Subject: subject} }

// issueTokens answers a sign-in or refresh with a new access token and a new
// refresh token of the same family. However often it is refreshed, a
// sign-in ends at ends.
func (h *handlers) issueTokens(c echo.Context, u store.User, family string, ends time.Time, renewal bool) error {
	ctx := c.Request().Context()
	refresh, hash, err := auth.NewOpaqueToken()
	if err != nil {
		return err
	}
	now := h.now()
	expires := now.Add(h.refreshTTL).UTC()
	if ends.Before(expires) {
		expires = ends.UTC()
	}
	if err := h.store.InsertRefreshToken(ctx, store.RefreshToken{
		Hash: hash, UserID: u.ID, Family: family, ExpiresAt: expires, Ends: ends.UTC(),
	}); err != nil {
		return err
	}
	// A renewal: a revocation made while it was under way (a copied token
	// caught, the account changed) missed the token just stored, so look
	// again now that it is there. A new sign-in's family has nothing to find.
	if renewal {
		revoked, err := h.store.FamilyRevoked(ctx, family)
		if err != nil {
			return err
		}
		if revoked {
			if err := h.store.RevokeTokenFamily(ctx, family); err != nil {
				return err
			}
			return errBadRefresh
		}
	}
	access, _, err := h.tokens.Issue(auth.Claims{Role: u.Role, Sites: u.Sites, Gen: u.TokenGen,
		RegisteredClaims: jwtSubject(u.ID)}, AccessTTL)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, tokenResponse{
		AccessToken: access, TokenType: "Bearer", ExpiresIn: int(AccessTTL / time.Second),
		RefreshToken: refresh, RefreshExpiresIn: int(expires.Sub(now).Seconds()), User: &u,
	})
}

type refreshRequest struct {
	RefreshToken string `json:"refresh_token" validate:"required,max=128"`
}

var errBadRefresh = invalid(http.StatusUnauthorized, "this sign-in has ended; sign in again")

func (h *handlers) refresh(c echo.Context) error {
	var req refreshRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	ctx := c.Request().Context()
	t, err := h.store.UseRefreshToken(ctx, auth.HashOpaque(req.RefreshToken))
	if errors.Is(err, store.ErrReused) {
		// Two holders of one token: one is not the user. Their sign-in is
		// revoked (a refresh of it under way finds that once it has stored
		// its successor; see issueTokens).
		h.log.Warn("refresh token reused: sign-in revoked", "request_id", requestID(c))
		return errBadRefresh
	}
	if errors.Is(err, store.ErrNotFound) {
		return errBadRefresh
	}
	if err != nil {
		return err
	}
	u, err := h.store.User(ctx, t.UserID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && u.Disabled) {
		return errBadRefresh
	}
	if err != nil {
		return err
	}
	ends := t.Ends
	if ends.IsZero() { // a sign-in from before sign-ins had an end
		ends = h.now().Add(h.signInLifetime)
	}
	return h.issueTokens(c, u, t.Family, ends, true)
}

// logout ends the sign-in the refresh token belongs to.
func (h *handlers) logout(c echo.Context) error {
	var req refreshRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	ctx := c.Request().Context()
	t, err := h.store.UseRefreshToken(ctx, auth.HashOpaque(req.RefreshToken))
	switch {
	case err == nil:
		if err := h.store.RevokeTokenFamily(ctx, t.Family); err != nil {
			return err
		}
		// The access tokens go too (every device's: the others refresh).
		if err := h.store.EndAccessTokens(ctx, t.UserID); err != nil {
			return err
		}
		h.live.forget(t.UserID)
		c.Set(principalKey, access.Principal{Subject: t.UserID})
		if err := h.audit(c, "logout", "user:"+t.UserID, "", ""); err != nil {
			return err
		}
	case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrReused):
		// Already ended: logging out again is not an error.
	default:
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

type sessionOpenRequest struct {
	Code string `json:"code" validate:"required,max=32"`
}

// openSession turns a young person's one-time code into a token for their
// one response.
func (h *handlers) openSession(c echo.Context) error {
	var req sessionOpenRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	release, err := h.reserve(c, []limit{{"code-address:" + c.RealIP(), maxAddressFailures, FailureWindow}})
	if err != nil {
		return err
	}
	grant, grantHash, err := auth.NewOpaqueToken()
	if err != nil {
		return err
	}
	code := auth.NormalizeShortCode(req.Code)
	sess, err := h.store.OpenSession(c.Request().Context(), auth.HashOpaque(code), grantHash, h.now().Add(DeviceGrantFor))
	if code == "" || errors.Is(err, store.ErrNotFound) {
		return invalid(http.StatusUnauthorized, "this code does not work: it may be mistyped, used already or expired")
	}
	if err != nil {
		return err
	}
	release()
	// The token lasts the link's time; the grant renews it after that.
	return h.sessionTokens(c, sess, sess.ExpiresAt.Sub(h.now()), "session.open", grant)
}

// DeviceGrantFor is how long the phone that redeemed a young person's code
// may go on sending that one SCT after the link's own time is up: answers
// kept on a phone without signal still reach the server when it is back.
const DeviceGrantFor = 30 * 24 * time.Hour

type grantRequest struct {
	Grant string `json:"grant" validate:"required,max=128"`
}

// renewSession gives the phone holding a link's device grant a new access
// token for its one response, while the session lives.
func (h *handlers) renewSession(c echo.Context) error {
	var req grantRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	release, err := h.reserve(c, []limit{{"grant-address:" + c.RealIP(), maxAddressFailures, FailureWindow}})
	if err != nil {
		return err
	}
	sess, err := h.store.SessionByGrant(c.Request().Context(), auth.HashOpaque(req.Grant))
	if errors.Is(err, store.ErrNotFound) {
		return invalid(http.StatusUnauthorized, "this link has been used up or has ended; ask your worker for a new one")
	}
	if err != nil {
		return err
	}
	release()
	ends := sess.ExpiresAt
	if sess.GrantUntil != nil && sess.GrantUntil.After(ends) {
		ends = *sess.GrantUntil
	}
	return h.sessionTokens(c, sess, min(AccessTTL, ends.Sub(h.now())), "session.renew", "")
}

// sessionTokens answers a young person's access token for a live session,
// lasting ttl, with the device grant when one was just made.
func (h *handlers) sessionTokens(c echo.Context, sess store.Session, ttl time.Duration, action, grant string) error {
	now := h.now()
	subject := "session:" + sess.ID
	token, exp, err := h.tokens.Issue(auth.Claims{
		Role: string(access.YoungPerson), Sites: []string{sess.Site},
		Session: sess.ID, Child: sess.ChildID, Response: sess.ResponseID,
		RegisteredClaims: jwtSubject(subject),
	}, ttl)
	if err != nil {
		return err
	}
	c.Set(principalKey, access.Principal{Subject: subject, Role: access.YoungPerson})
	if err := h.audit(c, action, "child:"+sess.ChildID, sess.Site, ""); err != nil {
		return err
	}
	out := map[string]any{
		"access_token": token, "token_type": "Bearer", "expires_in": int(math.Ceil(exp.Sub(now).Seconds())),
		"session": sess,
	}
	if grant != "" {
		out["device_grant"] = grant
	}
	return c.JSON(http.StatusOK, out)
}

func (h *handlers) me(c echo.Context) error {
	p := principal(c)
	out := map[string]any{"subject": p.Subject, "role": p.Role, "sites": p.Sites, "permissions": access.Granted(p.Role)}
	if p.Role == access.YoungPerson {
		out["child_id"], out["response_id"] = p.ChildID, p.ResponseID
	}
	return c.JSON(http.StatusOK, out)
}
