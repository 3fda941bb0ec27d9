package api

import (
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

// FailureWindow is the fixed window in which failed sign-ins are counted,
// in the store so that every server instance sees them.
const FailureWindow = 15 * time.Minute

// Sign-in limits: failures per FailureWindow.
const (
	maxAccountFailures = 5
	maxAddressFailures = 20
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
	limits := []limit{{"account:" + email, maxAccountFailures}, {"address:" + c.RealIP(), maxAddressFailures}}
	if err := h.checkLimits(c, limits); err != nil {
		return err
	}
	u, err := h.store.UserByEmail(ctx, email)
	switch {
	case errors.Is(err, store.ErrNotFound):
		auth.CheckDummy(req.Password)
	case err != nil:
		return err
	}
	if err != nil || u.Disabled || !auth.CheckPassword(u.PasswordHash, req.Password) {
		return h.loginFailed(c, email, limits)
	}
	c.Set(principalKey, access.Principal{Subject: u.ID, Role: access.Role(u.Role), Sites: u.Sites})
	if err := h.audit(c, "login", "user:"+u.ID, "", ""); err != nil {
		return err
	}
	return h.issueTokens(c, u, uuid.NewString())
}

func (h *handlers) loginFailed(c echo.Context, email string, limits []limit) error {
	if err := h.countFailures(c, limits); err != nil {
		return err
	}
	c.Set(principalKey, access.Principal{Subject: "email:" + email})
	if err := h.audit(c, "login_failed", "", "", ""); err != nil {
		return err
	}
	return errBadLogin
}

// limit caps the failures counted under a key in one window.
type limit struct {
	key string
	max int
}

// checkLimits refuses an attempt while an account or address has failed too
// often in the current window.
func (h *handlers) checkLimits(c echo.Context, limits []limit) error {
	now := h.now()
	window := now.Truncate(FailureWindow)
	for _, l := range limits {
		n, err := h.store.Failures(c.Request().Context(), l.key, window)
		if err != nil {
			return err
		}
		if n >= l.max {
			wait := int(window.Add(FailureWindow).Sub(now).Seconds()) + 1
			c.Response().Header().Set("Retry-After", strconv.Itoa(wait))
			return invalid(http.StatusTooManyRequests, "too many failed attempts; try again later")
		}
	}
	return nil
}

func (h *handlers) countFailures(c echo.Context, limits []limit) error {
	for _, l := range limits {
		if _, err := h.store.CountFailure(c.Request().Context(), l.key, h.now().Truncate(FailureWindow)); err != nil {
			return err
		}
	}
	return nil
}

func jwtSubject(subject string) jwt.RegisteredClaims { return jwt.RegisteredClaims{Subject: subject} }

// issueTokens answers a sign-in or refresh with a new access token and a new
// refresh token of the same family.
func (h *handlers) issueTokens(c echo.Context, u store.User, family string) error {
	access, _, err := h.tokens.Issue(auth.Claims{Role: u.Role, Sites: u.Sites,
		RegisteredClaims: jwtSubject(u.ID)}, AccessTTL)
	if err != nil {
		return err
	}
	refresh, hash, err := auth.NewOpaqueToken()
	if err != nil {
		return err
	}
	if err := h.store.InsertRefreshToken(c.Request().Context(), store.RefreshToken{
		Hash: hash, UserID: u.ID, Family: family, ExpiresAt: h.now().Add(h.refreshTTL).UTC(),
	}); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, tokenResponse{
		AccessToken: access, TokenType: "Bearer", ExpiresIn: int(AccessTTL / time.Second),
		RefreshToken: refresh, RefreshExpiresIn: int(h.refreshTTL.Seconds()), User: &u,
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
	return h.issueTokens(c, u, t.Family)
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
	limits := []limit{{"code-address:" + c.RealIP(), maxAddressFailures}}
	if err := h.checkLimits(c, limits); err != nil {
		return err
	}
	code := auth.NormalizeShortCode(req.Code)
	sess, err := h.store.OpenSession(c.Request().Context(), auth.HashOpaque(code))
	if code == "" || errors.Is(err, store.ErrNotFound) {
		if err := h.countFailures(c, limits); err != nil {
			return err
		}
		return invalid(http.StatusUnauthorized, "this code does not work: it may be mistyped, used already or expired")
	}
	if err != nil {
		return err
	}
	subject := "session:" + sess.ID
	token, exp, err := h.tokens.Issue(auth.Claims{
		Role: string(access.YoungPerson), Sites: []string{sess.Site},
		Session: sess.ID, Child: sess.ChildID, Response: sess.ResponseID,
		RegisteredClaims: jwtSubject(subject),
	}, sess.ExpiresAt.Sub(h.now()))
	if err != nil {
		return err
	}
	c.Set(principalKey, access.Principal{Subject: subject, Role: access.YoungPerson})
	if err := h.audit(c, "session.open", "child:"+sess.ChildID, sess.Site, ""); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{
		"access_token": token, "token_type": "Bearer", "expires_in": int(math.Ceil(exp.Sub(h.now()).Seconds())),
		"session": sess,
	})
}

func (h *handlers) me(c echo.Context) error {
	p := principal(c)
	out := map[string]any{"subject": p.Subject, "role": p.Role, "sites": p.Sites, "permissions": access.Granted(p.Role)}
	if p.Role == access.YoungPerson {
		out["child_id"], out["response_id"] = p.ChildID, p.ResponseID
	}
	return c.JSON(http.StatusOK, out)
}
