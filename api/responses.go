package api

import (
	"context"
	"net/http"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/lifelong-links/sct/internal/access"
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

// view is a response as the caller may see it: without names and free text
// for evaluators.
func (h *handlers) view(c echo.Context, r store.Response) store.Response {
	if principal(c).SeesNames() {
		return r
	}
	if def, ok := h.forms.Get(r.Form, r.Version); ok {
		r.Answers = def.Redact(r.Answers)
	} else {
		r.Answers = map[string]any{}
	}
	return r
}

// auditRead records a read that shows names; pseudonymised reads are not
// identifiable and are not recorded one by one.
func (h *handlers) auditRead(c echo.Context, action string, r store.Response) error {
	if !principal(c).SeesNames() {
		return nil
	}
	return h.audit(c, action, "response:"+r.ID, r.Site, "child "+r.ChildID)
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
	h.countSubmission(r, outcome)
	if outcome != submission.Unchanged {
		if err := h.audit(c, "response.put", "response:"+r.ID, r.Site, r.Status); err != nil {
			return err
		}
	}
	p := principal(c)
	if p.Role == access.YoungPerson && r.Status == store.StatusSubmitted {
		// The response is in: the link is spent even if the phone has gone.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request().Context()), afterCallerLeft)
		defer cancel()
		if err := h.store.SpendSession(ctx, p.SessionID); err != nil {
			return err
		}
	}
	status := http.StatusOK
	if outcome == submission.Created {
		status = http.StatusCreated
		c.Response().Header().Set(echo.HeaderLocation, "/api/v1/responses/"+id)
	}
	return c.JSON(status, h.view(c, r))
}

func (h *handlers) getResponse(c echo.Context) error {
	id, err := responseID(c)
	if err != nil {
		return err
	}
	r, err := h.response(c, id)
	if err != nil {
		return err
	}
	if err := h.auditRead(c, "response.read", r); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, h.view(c, r))
}

func (h *handlers) getRevisions(c echo.Context) error {
	id, err := responseID(c)
	if err != nil {
		return err
	}
	current, err := h.response(c, id)
	if err != nil {
		return err
	}
	revs, err := h.store.Revisions(c.Request().Context(), id)
	if err != nil {
		return err
	}
	if err := h.auditRead(c, "response.revisions.read", current); err != nil {
		return err
	}
	out := make([]store.Response, len(revs))
	for i, r := range revs {
		out[i] = h.view(c, r)
	}
	return c.JSON(http.StatusOK, map[string]any{"id": id, "revisions": out})
}

// response is the response the guard read already, or else a fresh read:
// on the embedded store every read costs a pass over the collection.
func (h *handlers) response(c echo.Context, id string) (store.Response, error) {
	if r, ok := c.Get(responseKey).(store.Response); ok && r.ID == id {
		return r, nil
	}
	return h.store.Response(c.Request().Context(), id)
}
