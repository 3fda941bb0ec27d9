package api

import (
	"encoding/base64"
	"errors"
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
	"rsc.io/qr"

	"github.com/lifelong-links/sct/internal/auth"
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
	ctx := c.Request().Context()
	ok, err := h.store.SiteExists(ctx, req.Site)
	if err != nil {
		return err
	}
	if !ok {
		return invalid(http.StatusUnprocessableEntity, "the request has invalid fields",
			form.FieldError{Path: "site", Reason: "no site " + req.Site + " is set up; an administrator creates sites"})
	}
	child, err := h.store.CreateChild(ctx, store.Child{
		ID: req.ID, Site: req.Site, Group: req.Group, AgeBand: req.AgeBand, StartedOn: req.StartedOn,
	})
	if errors.Is(err, store.ErrConflict) {
		// The same words whichever site holds the ID: a child of another
		// site is not shown to exist.
		return invalid(http.StatusConflict, "this child ID cannot be registered",
			form.FieldError{Path: "id", Reason: "cannot be used; check it, and if it is right ask an administrator"})
	}
	if err != nil {
		return err
	}
	if err := h.audit(c, "child.create", "child:"+child.ID, child.Site, ""); err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/api/v1/children/"+child.ID)
	return c.JSON(http.StatusCreated, child)
}

type childWithResponses struct {
	store.Child
	Responses []store.ResponseInfo `json:"responses"`
}

// listChildren lists a site's children with their responses (no answers):
// what a worker needs to see who has what, and what is missing.
func (h *handlers) listChildren(c echo.Context) error {
	site := c.QueryParam("site")
	if site == "" {
		return invalid(http.StatusUnprocessableEntity, "the request has invalid fields",
			form.FieldError{Path: "site", Reason: "is required"})
	}
	ctx := c.Request().Context()
	children, err := h.store.ChildrenOfSite(ctx, site)
	if err != nil {
		return err
	}
	responses, err := h.store.ResponsesOfSite(ctx, site)
	if err != nil {
		return err
	}
	byChild := map[string][]store.ResponseInfo{}
	for _, r := range responses {
		byChild[r.ChildID] = append(byChild[r.ChildID], r)
	}
	out := make([]childWithResponses, len(children))
	for i, ch := range children {
		out[i] = childWithResponses{Child: ch, Responses: byChild[ch.ID]}
		if out[i].Responses == nil {
			out[i].Responses = []store.ResponseInfo{}
		}
	}
	return c.JSON(http.StatusOK, map[string]any{"site": site, "children": out})
}

func (h *handlers) getChild(c echo.Context) error {
	return c.JSON(http.StatusOK, checkedChild(c))
}

// eraseChild removes a child and all their responses on request. The audit
// keeps that it happened.
func (h *handlers) eraseChild(c echo.Context) error {
	ctx := c.Request().Context()
	child := checkedChild(c)
	// Recorded first: if the erasure is cut short the record says it was
	// asked for, and running it again finishes it.
	if err := h.audit(c, "child.erase", "child:"+child.ID, child.Site, ""); err != nil {
		return err
	}
	if err := h.store.EraseChild(ctx, child.ID); err != nil {
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
	store.Session
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
	ctx := c.Request().Context()
	child := checkedChild(c)
	if req.Minutes == 0 {
		req.Minutes = 120
	}
	versions := h.forms.Versions("sct")
	def := versions[len(versions)-1]
	formID, version := def.Form, def.Version
	if req.ResponseID == "" {
		req.ResponseID = uuid.NewString()
	} else {
		// A link may carry on this child's SCT draft, and takes what that
		// draft is; any other existing response is out of its reach (a
		// submitted SCT holds names the link must not show).
		draft, err := h.store.Response(ctx, req.ResponseID)
		switch {
		case err == nil && draft.ChildID == child.ID && draft.Form == formID && draft.Status == store.StatusDraft:
			version, req.Timepoint, req.Wave = draft.Version, draft.Timepoint, draft.Wave
		case err == nil:
			return invalid(http.StatusConflict, "a link opens a new SCT or carries on this child's SCT draft; this response is neither",
				form.FieldError{Path: "response_id", Reason: "is not a draft SCT of this child; leave it out to start a new one"})
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
	}
	if req.Timepoint == "" {
		var err error
		if req.Timepoint, req.Wave, err = h.nextTimepoint(c, child.ID); err != nil {
			return err
		}
	}
	if req.Wave == 0 {
		req.Wave = 1
	}
	code, err := auth.NewShortCode()
	if err != nil {
		return err
	}
	sess, err := h.store.CreateSession(ctx, store.Session{
		ID: uuid.NewString(), CodeHash: auth.HashOpaque(auth.NormalizeShortCode(code)),
		ChildID: child.ID, Site: child.Site, ResponseID: req.ResponseID, Form: formID, Version: version,
		Timepoint: req.Timepoint, Wave: req.Wave,
		CreatedBy: principal(c).Subject, ExpiresAt: h.now().Add(time.Duration(req.Minutes) * time.Minute).UTC().Truncate(time.Millisecond),
	})
	if err != nil {
		return err
	}
	if err := h.audit(c, "session.create", "child:"+child.ID, child.Site, "response "+sess.ResponseID); err != nil {
		return err
	}
	// The code travels in the fragment, which browsers never send to a
	// server or put in a Referer.
	link := base + "/#join=" + auth.NormalizeShortCode(code)
	png, err := qrPNG(link)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, sessionResponse{Session: sess, Code: code, Link: link, QRPNG: png})
}

// nextTimepoint is the SCT a child is due next: the baseline, or else the
// follow-up after the last one submitted.
func (h *handlers) nextTimepoint(c echo.Context, childID string) (string, int, error) {
	ctx := c.Request().Context()
	_, _, err := h.store.SlotHolder(ctx, childID, "sct", "baseline", 1)
	if errors.Is(err, store.ErrNotFound) {
		return "baseline", 1, nil
	}
	if err != nil {
		return "", 0, err
	}
	for wave := 1; ; wave++ {
		_, _, err := h.store.SlotHolder(ctx, childID, "sct", "follow_up", wave)
		if errors.Is(err, store.ErrNotFound) {
			return "follow_up", wave, nil
		}
		if err != nil {
			return "", 0, err
		}
	}
}

func qrPNG(text string) (string, error) {
	code, err := qr.Encode(text, qr.M)
	if err != nil {
		return "", err
	}
	code.Scale = 6
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(code.PNG()), nil
}
