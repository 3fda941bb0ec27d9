package api

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/lifelong-links/sct/internal/access"
	"github.com/lifelong-links/sct/internal/accounts"
)

// setupStatus says whether the first administrator may be created through
// this server (the sign-in page then says there are no accounts yet). It
// says nothing else.
func (h *handlers) setupStatus(c echo.Context) error {
	open, err := h.accounts.SetupOpen(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, setupStatusJSON{Open: open})
}

type setupStatusJSON struct {
	Open bool `json:"open"`
}

type setupRequest struct {
	Token    string `json:"token" validate:"required,max=128"`
	Email    string `json:"email" validate:"required,email,max=254"`
	Password string `json:"password" validate:"required,max=256"`
}

// setup creates the first administrator with the token from the server's
// log. It can do nothing else, and nothing once an account exists.
func (h *handlers) setup(c echo.Context) error {
	var req setupRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	u, err := h.accounts.CreateFirstAdmin(c.Request().Context(), req.Token, req.Email, req.Password, c.RealIP())
	switch {
	case errors.Is(err, accounts.ErrSetupClosed):
		return invalid(http.StatusConflict, err.Error())
	case errors.Is(err, accounts.ErrBadSetupToken):
		c.Set(principalKey, access.Principal{Subject: "setup"})
		if err := h.audit(c, "setup_failed", "", "", "wrong setup token"); err != nil {
			return err
		}
		return invalid(http.StatusUnauthorized, err.Error())
	case err != nil:
		return signInRefused(c, err)
	}
	c.Set(principalKey, access.Principal{Subject: "setup"})
	if err := h.audit(c, "user.create", "user:"+u.ID, "", "first administrator, through the setup address"); err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, userOut(u))
}
