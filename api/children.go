package api

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"
	"rsc.io/qr"

	"github.com/lifelong-links/sct/internal/accounts"
	"github.com/lifelong-links/sct/internal/auth"
	"github.com/lifelong-links/sct/internal/children"
	"github.com/lifelong-links/sct/internal/followup"
	"github.com/lifelong-links/sct/internal/form"
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
	child, err := h.children.Register(c.Request().Context(), store.Child{
		ID: req.ID, Site: req.Site, Group: req.Group, AgeBand: req.AgeBand, StartedOn: req.StartedOn,
	})
	if errors.Is(err, children.ErrIDTaken) {
		return invalid(http.StatusConflict, err.Error(),
			form.FieldError{Path: "id", Reason: "cannot be used; check it, and if it is right ask an administrator"})
	}
	if err != nil {
		return err
	}
	if err := h.audit(c, "child.create", "child:"+child.ID, child.Site, ""); err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/api/v1/children/"+child.ID)
	return c.JSON(http.StatusCreated, childOut(child))
}

type childWithResponses struct {
	childJSON
	Responses []responseInfoJSON `json:"responses"`
}

// childrenPageSize is the children a page of a site's list holds unless a
// limit is given (at most store.MaxChildrenPage).
const childrenPageSize = 100

// listChildren lists a site's children with their responses (no answers),
// a page at a time: what a worker needs to see who has what, and what is
// missing.
func (h *handlers) listChildren(c echo.Context) error {
	site := c.QueryParam("site")
	if site == "" {
		return invalid(http.StatusUnprocessableEntity, "the request has invalid fields",
			form.FieldError{Path: "site", Reason: "is required"})
	}
	limit, err := pageLimit(c, childrenPageSize, store.MaxChildrenPage)
	if err != nil {
		return err
	}
	after := c.QueryParam("after")
	if after != "" && !codePattern.MatchString(after) {
		return invalid(http.StatusBadRequest, "a filter has the wrong form",
			form.FieldError{Path: "after", Reason: "must be the next value of an earlier page"})
	}
	list, next, err := h.children.Page(c.Request().Context(), site, after, limit)
	if err != nil {
		return err
	}
	out := make([]childWithResponses, len(list))
	for i, ch := range list {
		out[i] = childWithResponses{childJSON: childOut(ch.Child), Responses: each(ch.Responses, responseInfoOut)}
	}
	page := map[string]any{"site": site, "children": out}
	if next != "" {
		page["next"] = next
	}
	return c.JSON(http.StatusOK, page)
}

func (h *handlers) getChild(c echo.Context) error {
	child := checkedChild(c)
	out := struct {
		childJSON
		FollowUp *followup.Item `json:"follow_up,omitempty"`
	}{childJSON: childOut(child)}
	item, ok, err := h.eval.FollowUpOf(c.Request().Context(), child.ID, child.Site)
	if err != nil {
		return err
	}
	if ok {
		out.FollowUp = &item
	}
	return c.JSON(http.StatusOK, out)
}

// eraseChild removes a child and all their responses on request. The audit
// keeps that it happened.
func (h *handlers) eraseChild(c echo.Context) error {
	child := checkedChild(c)
	// Recorded first: if the erasure is cut short the record says it was
	// asked for, and running it again finishes it.
	if err := h.audit(c, "child.erase", "child:"+child.ID, child.Site, ""); err != nil {
		return err
	}
	if err := h.children.Erase(c.Request().Context(), child.ID); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

type sessionRequest struct {
	ResponseID string `json:"response_id" validate:"omitempty,uuid4"`
	Minutes    int    `json:"minutes" validate:"omitempty,min=10,max=240"`
	Timepoint  string `json:"timepoint" validate:"omitempty,oneof=baseline follow_up"`
	Wave       int    `json:"wave" validate:"omitempty,min=1,max=99"`
}

type sessionResponse struct {
	sessionJSON
	Code  string `json:"code"`
	Link  string `json:"link"`
	QRPNG string `json:"qr_png"`
}

// createSession opens a link for a young person to complete one SCT for a
// child: a one-time short code, its link and the link as a QR code.
func (h *handlers) createSession(c echo.Context) error {
	base, err := h.publicBase(c) // before anything is stored
	if err != nil {
		return err
	}
	var req sessionRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	child := checkedChild(c)
	link, err := h.accounts.CreateLink(c.Request().Context(), accounts.LinkRequest{Child: child, ResponseID: req.ResponseID,
		Minutes: req.Minutes, Timepoint: req.Timepoint, Wave: req.Wave, CreatedBy: principal(c).Subject})
	if errors.Is(err, accounts.ErrNotLinkable) {
		return invalid(http.StatusConflict, err.Error(),
			form.FieldError{Path: "response_id", Reason: "is not a draft SCT of this child; leave it out to start a new one"})
	}
	if err != nil {
		return err
	}
	sess := link.Session
	if err := h.audit(c, "session.create", "child:"+child.ID, child.Site, "response "+sess.ResponseID); err != nil {
		return err
	}
	// The code travels in the fragment, which browsers never send to a
	// server or put in a Referer.
	url := base + "/#join=" + auth.NormalizeShortCode(link.Code)
	png, err := qrPNG(url)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, sessionResponse{sessionJSON: sessionOut(sess), Code: link.Code, Link: url, QRPNG: png})
}

func qrPNG(text string) (string, error) {
	code, err := qr.Encode(text, qr.M)
	if err != nil {
		return "", err
	}
	code.Scale = 6
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(code.PNG()), nil
}

// putParticipation replaces a child's participation record.
func (h *handlers) putParticipation(c echo.Context) error {
	var p participationJSON
	if err := decodeJSON(c, &p); err != nil {
		return err
	}
	child, err := h.children.SetParticipation(c.Request().Context(), checkedChild(c).ID, p.stored())
	if err != nil {
		return err
	}
	if err := h.audit(c, "participation.put", "child:"+child.ID, child.Site, ""); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, childOut(child))
}

// pageLimit reads a paged list's limit: def when none is given, else 1 to
// most.
func pageLimit(c echo.Context, def, most int) (int, error) {
	v := c.QueryParam("limit")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > most {
		return 0, invalid(http.StatusBadRequest, "a filter is out of range",
			form.FieldError{Path: "limit", Reason: fmt.Sprintf("must be 1 to %d", most)})
	}
	return n, nil
}
