package api

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/lifelong-links/sct/internal/access"
	"github.com/lifelong-links/sct/internal/store"
	"github.com/lifelong-links/sct/internal/submission"
)

// view is a response as the caller may see it: without names and free text
// for evaluators.
func (h *handlers) view(c echo.Context, r store.Response) responseJSON {
	if principal(c).SeesNames() {
		return responseOut(r)
	}
	r.RevisionReason = "" // free text, as the answers' are
	r.AnswersJSON = nil
	if def, ok := h.forms.Get(r.Form, r.Version); ok {
		r.Answers = def.Redact(r.Answers)
	} else {
		r.Answers = map[string]any{}
	}
	return responseOut(r)
}

// auditRead records a read that shows names; pseudonymised reads are not
// identifiable and are not recorded one by one.
func (h *handlers) auditRead(c echo.Context, action string, r store.Response) error {
	if !principal(c).SeesNames() {
		return nil
	}
	return h.audit(c, action, "response:"+r.ID, r.Site, "child "+r.ChildID)
}

// putResponse stores the body the guard decoded and checked, within the
// caller's reach.
func (h *handlers) putResponse(c echo.Context) error {
	id := c.Param("id")
	req, _ := c.Get(requestKey).(submission.Request)
	r, outcome, err := h.submit.Put(c.Request().Context(), id, req, reachOf(principal(c)))
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
		if err := h.accounts.SpendLink(ctx, p.SessionID); err != nil {
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
	r := checkedResponse(c)
	if err := h.auditRead(c, "response.read", r); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, h.view(c, r))
}

func (h *handlers) getRevisions(c echo.Context) error {
	current := checkedResponse(c)
	id := current.ID
	revs, err := h.submit.Revisions(c.Request().Context(), id)
	if err != nil {
		return err
	}
	if err := h.auditRead(c, "response.revisions.read", current); err != nil {
		return err
	}
	out := make([]responseJSON, len(revs))
	for i, r := range revs {
		out[i] = h.view(c, r)
	}
	return c.JSON(http.StatusOK, map[string]any{"id": id, "revisions": out})
}

// checkedResponse is the response the guard read and let the caller at:
// handlers of a responseParam route serve that record and no other.
func checkedResponse(c echo.Context) store.Response {
	r, _ := c.Get(responseKey).(store.Response)
	return r
}

// checkedChild is the child the guard read and let the caller at.
func checkedChild(c echo.Context) store.Child {
	ch, _ := c.Get(childKey).(store.Child)
	return ch
}
