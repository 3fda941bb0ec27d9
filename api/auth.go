package api

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/lifelong-links/sct/internal/access"
	"github.com/lifelong-links/sct/internal/accounts"
)

type loginRequest struct {
	Email    string `json:"email" validate:"required,max=254"`
	Password string `json:"password" validate:"required,max=256"`
}

type tokenResponse struct {
	AccessToken      string    `json:"access_token"`
	TokenType        string    `json:"token_type"`
	ExpiresIn        int       `json:"expires_in"`
	RefreshToken     string    `json:"refresh_token,omitempty"`
	RefreshExpiresIn int       `json:"refresh_expires_in,omitempty"`
	User             *userJSON `json:"user,omitempty"`
}

func signInResponse(in accounts.SignIn) tokenResponse {
	return tokenResponse{AccessToken: in.AccessToken, TokenType: "Bearer", ExpiresIn: in.ExpiresIn,
		RefreshToken: in.RefreshToken, RefreshExpiresIn: in.RefreshExpiresIn, User: ptr(userOut(in.User))}
}

// signInRefused answers the errors of signing in: a limit reached (429,
// saying when to try again), and the service's refusals (401, in its
// words).
func signInRefused(c echo.Context, err error) error {
	var limited *accounts.LimitedError
	switch {
	case errors.As(err, &limited):
		c.Response().Header().Set("Retry-After", strconv.Itoa(int(limited.RetryAfter.Seconds())+1))
		return invalid(http.StatusTooManyRequests, "too many failed attempts; try again later")
	case errors.Is(err, accounts.ErrBadLogin), errors.Is(err, accounts.ErrSignInEnded),
		errors.Is(err, accounts.ErrBadCode), errors.Is(err, accounts.ErrGrantEnded):
		msg := err.Error()
		if errors.Is(err, accounts.ErrSignInEnded) {
			msg = accounts.ErrSignInEnded.Error()
		}
		return invalid(http.StatusUnauthorized, msg)
	}
	return err
}

func (h *handlers) login(c echo.Context) error {
	var req loginRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	in, err := h.accounts.Login(c.Request().Context(), req.Email, req.Password, c.RealIP())
	if errors.Is(err, accounts.ErrBadLogin) {
		c.Set(principalKey, access.Principal{Subject: "email:" + accounts.NormalEmail(req.Email)})
		if err := h.audit(c, "login_failed", "", "", ""); err != nil {
			return err
		}
	}
	if err != nil {
		return signInRefused(c, err)
	}
	u := in.User
	c.Set(principalKey, access.Principal{Subject: u.ID, Role: access.Role(u.Role), Sites: u.Sites})
	if err := h.audit(c, "login", "user:"+u.ID, "", ""); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, signInResponse(in))
}

type refreshRequest struct {
	RefreshToken string `json:"refresh_token" validate:"required,max=128"`
}

func (h *handlers) refresh(c echo.Context) error {
	var req refreshRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	in, err := h.accounts.Refresh(c.Request().Context(), req.RefreshToken)
	if errors.Is(err, accounts.ErrTokenReused) {
		h.log.Warn("refresh token reused: sign-in revoked", "request_id", requestID(c))
	}
	if err != nil {
		return signInRefused(c, err)
	}
	return c.JSON(http.StatusOK, signInResponse(in))
}

// logout ends the sign-in the refresh token belongs to.
func (h *handlers) logout(c echo.Context) error {
	var req refreshRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	userID, err := h.accounts.Logout(c.Request().Context(), req.RefreshToken)
	if err != nil {
		return err
	}
	if userID != "" { // else ended already: logging out again is not an error
		c.Set(principalKey, access.Principal{Subject: userID})
		if err := h.audit(c, "logout", "user:"+userID, "", ""); err != nil {
			return err
		}
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
	in, err := h.accounts.OpenSession(c.Request().Context(), req.Code, c.RealIP())
	if err != nil {
		return signInRefused(c, err)
	}
	return h.linkTokens(c, in, "session.open")
}

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
	in, err := h.accounts.RenewSession(c.Request().Context(), req.Grant, c.RealIP())
	if err != nil {
		return signInRefused(c, err)
	}
	return h.linkTokens(c, in, "session.renew")
}

// linkTokens answers a young person's access token, with the device grant
// when one was just made, and records it.
func (h *handlers) linkTokens(c echo.Context, in accounts.LinkSignIn, action string) error {
	sess := in.Session
	c.Set(principalKey, access.Principal{Subject: "session:" + sess.ID, Role: access.YoungPerson})
	if err := h.audit(c, action, "child:"+sess.ChildID, sess.Site, ""); err != nil {
		return err
	}
	out := map[string]any{"access_token": in.AccessToken, "token_type": "Bearer", "expires_in": in.ExpiresIn, "session": sessionOut(sess)}
	if in.DeviceGrant != "" {
		out["device_grant"] = in.DeviceGrant
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

// AccessTTL is how long an access token lives.
const AccessTTL = accounts.AccessTTL
