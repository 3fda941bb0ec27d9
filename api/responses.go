package api

import (
	"net/http"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/lifelong-links/sct/internal/form"
	"github.com/lifelong-links/sct/internal/store"
	"github.com/lifelong-links/sct/internal/submission"
)

// responseID reads the {id} of a response route: a version 4 UUID made by
// the client, so that a retried submission is stored once.
func responseID(c echo.Context) (string, error) {
	raw := c.Param("id")
	id, err := uuid.Parse(raw)
	if err != nil || id.Version() != 4 || len(raw) != 36 {
		return "", invalid(http.StatusBadRequest, "the response id in the URL is not valid",
			form.FieldError{Path: "id", Reason: "must be a version 4 UUID like 3b241101-e2bb-4255-8caf-4136c566a962"})
	}
	return id.String(), nil
}

func (h *handlers) putResponse(c echo.Context) error {
	id, err := responseID(c)
	if err != nil {
		return err
	}
	var req submission.Request
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	r, outcome, err := h.submit.Put(c.Request().Context(), id, req)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if outcome == submission.Created {
		status = http.StatusCreated
		c.Response().Header().Set(echo.HeaderLocation, "/api/v1/responses/"+id)
	}
	return c.JSON(status, r)
}

func (h *handlers) getResponse(c echo.Context) error {
	id, err := responseID(c)
	if err != nil {
		return err
	}
	r, err := h.store.Response(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, r)
}

func (h *handlers) getRevisions(c echo.Context) error {
	id, err := responseID(c)
	if err != nil {
		return err
	}
	revs, err := h.store.Revisions(c.Request().Context(), id)
	if err != nil {
		return err
	}
	if len(revs) == 0 {
		if _, err := h.store.Response(c.Request().Context(), id); err != nil {
			return err
		}
		revs = []store.Response{}
	}
	return c.JSON(http.StatusOK, map[string]any{"id": id, "revisions": revs})
}
