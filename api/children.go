package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/lifelong-links/sct/internal/store"
)

// childRequest is the body of POST /api/v1/children. The ID is the local
// authority's pseudonymous child ID; names never enter the system.
type childRequest struct {
	ID        string `json:"id" validate:"required,max=64,code"`
	Site      string `json:"site" validate:"required,site"`
	Group     string `json:"group" validate:"required,oneof=lifelong_links comparison"`
	AgeBand   string `json:"age_band" validate:"omitempty,oneof=5-9 10-12 13-15 16-18"`
	StartedOn string `json:"started_on" validate:"omitempty,datetime=2006-01-02"`
}

func (h *handlers) createChild(c echo.Context) error {
	var req childRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	child, err := h.store.CreateChild(c.Request().Context(), store.Child{
		ID: req.ID, Site: req.Site, Group: req.Group, AgeBand: req.AgeBand, StartedOn: req.StartedOn,
	})
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/api/v1/children/"+child.ID)
	return c.JSON(http.StatusCreated, child)
}

func (h *handlers) getChild(c echo.Context) error {
	child, err := h.store.Child(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, child)
}
