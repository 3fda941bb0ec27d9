package api

import (
	"bytes"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/lifelong-links/sct/internal/access"
	"github.com/lifelong-links/sct/internal/accounts"
	"github.com/lifelong-links/sct/internal/caseload"
	"github.com/lifelong-links/sct/internal/form"
	"github.com/lifelong-links/sct/internal/store"
)

// followUpsPage is the children a page of the due list holds unless a
// limit is given (at most caseload.MaxPage).
const followUpsPage = 100

// followups lists, a page at a time, who is due an SCT, overdue, or has no
// baseline, with the counts of the whole list.
func (h *handlers) followups(c echo.Context) error {
	q, err := bindSummaryQuery(c, "site", "limit", "after")
	if err != nil {
		return err
	}
	limit, err := pageLimit(c, followUpsPage, caseload.MaxPage)
	if err != nil {
		return err
	}
	after := c.QueryParam("after")
	if len(after) > 200 {
		return invalid(http.StatusBadRequest, "a filter has the wrong form",
			form.FieldError{Path: "after", Reason: "must be the next value of an earlier page"})
	}
	page, err := h.eval.FollowUps(c.Request().Context(), q.Site, after, limit)
	if errors.Is(err, caseload.ErrBadCursor) {
		return invalid(http.StatusBadRequest, "a filter has the wrong form",
			form.FieldError{Path: "after", Reason: "must be the next value of an earlier page"})
	}
	if err != nil {
		return err
	}
	out := map[string]any{"site": q.Site, "today": h.now().Format("2006-01-02"), "counts": page.Counts, "children": page.Items}
	if page.Next != "" {
		out["next"] = page.Next
	}
	return c.JSON(http.StatusOK, out)
}

// returns counts each site's submitted forms by timepoint, live.
func (h *handlers) returns(c echo.Context) error {
	q, err := bindSummaryQuery(c, "site")
	if err != nil {
		return err
	}
	returns, err := h.eval.Returns(c.Request().Context(), q.Site)
	if err != nil {
		return err
	}
	return h.table(c, q, map[string]any{"returns": returns, "filters": q})
}

// createCalendar gives the caller a private address for their follow-up
// calendar; a new one replaces the old.
func (h *handlers) createCalendar(c echo.Context) error {
	base, err := h.publicBase(c) // before the new token replaces the old
	if err != nil {
		return err
	}
	p := principal(c)
	if err := calendarRole(p); err != nil {
		return err
	}
	token, err := h.accounts.NewCalendarToken(c.Request().Context(), p.Subject, p.Gen)
	if errors.Is(err, accounts.ErrSignInEnded) {
		return invalid(http.StatusUnauthorized, err.Error())
	}
	if err != nil {
		return err
	}
	if err := h.audit(c, "calendar.create", "user:"+p.Subject, "", ""); err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, map[string]string{
		"url": base + "/api/v1/calendar/" + token + ".ics",
	})
}

// calendarRole refuses a calendar address to roles that reach every site:
// a feed is for the staff who make follow-ups happen, and an address of
// every site's children, synced to a calendar service, would spread far
// more than anyone needs.
func calendarRole(p access.Principal) error {
	if !p.Role.SiteBound() {
		return invalid(http.StatusForbidden, "calendar addresses are for coordinators and site leads")
	}
	return nil
}

// calendarStatus says whether the caller has a working calendar address,
// and since when: the page asks before replacing one a calendar may follow.
func (h *handlers) calendarStatus(c echo.Context) error {
	p := principal(c)
	if err := calendarRole(p); err != nil {
		return err
	}
	at, ok, err := h.accounts.CalendarMadeAt(c.Request().Context(), p.Subject)
	if err != nil {
		return err
	}
	out := struct {
		Exists bool       `json:"exists"`
		MadeAt *time.Time `json:"made_at,omitempty"`
	}{Exists: ok}
	if ok {
		out.MadeAt = &at
	}
	return c.JSON(http.StatusOK, out)
}

// calendar serves a worker's follow-up feed to their calendar program, which
// cannot sign in: the secret address is the credential.
func (h *handlers) calendar(c echo.Context) error {
	token := strings.TrimSuffix(c.Param("token"), ".ics")
	ctx := c.Request().Context()
	u, err := h.accounts.CalendarUser(ctx, token)
	if errors.Is(err, store.ErrNotFound) {
		return errNotFound
	}
	if err != nil {
		return err
	}
	if !access.Role(u.Role).SiteBound() {
		return errNotFound // made before addresses were for site staff only
	}
	var feed bytes.Buffer
	if err := h.eval.Calendar(ctx, &feed, u.Sites); err != nil {
		return err
	}
	return c.Blob(http.StatusOK, "text/calendar; charset=utf-8", feed.Bytes())
}
