package api

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/lifelong-links/sct/internal/accounts"
	"github.com/lifelong-links/sct/internal/form"
	"github.com/lifelong-links/sct/internal/store"
)

type siteRequest struct {
	Code string `json:"code" validate:"required,site"`
	Name string `json:"name" validate:"required,max=100"`
}

func (h *handlers) listSites(c echo.Context) error {
	sites, err := h.store.Sites(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"sites": each(sites, siteOut)})
}

func (h *handlers) createSite(c echo.Context) error {
	var req siteRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	site, err := h.store.CreateSite(c.Request().Context(), store.Site{Code: req.Code, Name: req.Name})
	if err != nil {
		return err
	}
	if err := h.audit(c, "site.create", "site:"+site.Code, site.Code, ""); err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, siteOut(site))
}

type userRequest struct {
	Email    string   `json:"email" validate:"required,email,max=254"`
	Role     string   `json:"role" validate:"required,oneof=admin evaluator site_lead coordinator"`
	Sites    []string `json:"sites" validate:"max=50,dive,site"`
	Password string   `json:"password" validate:"required,max=256"`
}

type userChangeRequest struct {
	Role     *string  `json:"role" validate:"omitempty,oneof=admin evaluator site_lead coordinator"`
	Sites    []string `json:"sites" validate:"omitempty,max=50,dive,site"`
	Disabled *bool    `json:"disabled"`
	Password *string  `json:"password" validate:"omitempty,max=256"`
}

func (h *handlers) listUsers(c echo.Context) error {
	users, err := h.accounts.Users(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"users": each(users, userOut)})
}

func (h *handlers) createUser(c echo.Context) error {
	var req userRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	u, err := h.accounts.CreateUser(c.Request().Context(), accounts.NewUser{Email: req.Email, Role: req.Role, Sites: req.Sites, Password: req.Password})
	if err != nil {
		return err
	}
	if err := h.audit(c, "user.create", "user:"+u.ID, "", "role "+u.Role); err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, userOut(u))
}

func (h *handlers) updateUser(c echo.Context) error {
	var req userChangeRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	u, err := h.accounts.UpdateUser(c.Request().Context(), c.Param("id"),
		accounts.UserChange{Role: req.Role, Sites: req.Sites, Disabled: req.Disabled, Password: req.Password})
	if err != nil {
		return err
	}
	if err := h.audit(c, "user.update", "user:"+u.ID, "", ""); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, userOut(u))
}

type auditQuery struct {
	Actor  string `query:"actor"`
	Action string `query:"action"`
	Target string `query:"target"`
	Site   string `query:"site"`
	From   string `query:"from"`
	To     string `query:"to"`
	Limit  int64  `query:"limit"`
	Before string `query:"before"`
}

// auditPage is the audit trail's page size unless a limit is given (at
// most store.MaxAuditPage).
const auditPage = 100

// auditCursor writes an entry's place in the list as the next page's
// "before": its time in milliseconds and its id.
func auditCursor(e store.AuditEntry) string {
	return strconv.FormatInt(e.At.UnixMilli(), 10) + "." + e.ID
}

func parseAuditCursor(s string) (*store.AuditCursor, bool) {
	ms, id, ok := strings.Cut(s, ".")
	n, err := strconv.ParseInt(ms, 10, 64)
	if !ok || err != nil || id == "" || len(id) > 64 {
		return nil, false
	}
	return &store.AuditCursor{At: time.UnixMilli(n).UTC(), ID: id}, true
}

func (h *handlers) listAudit(c echo.Context) error {
	var q auditQuery
	if err := (&echo.DefaultBinder{}).BindQueryParams(c, &q); err != nil {
		return invalid(http.StatusBadRequest, "a filter has the wrong type")
	}
	if q.Limit < 0 || q.Limit > store.MaxAuditPage {
		return invalid(http.StatusBadRequest, "a filter is out of range",
			form.FieldError{Path: "limit", Reason: fmt.Sprintf("must be 1 to %d", store.MaxAuditPage)})
	}
	if q.Limit == 0 {
		q.Limit = auditPage
	}
	f := store.AuditFilter{Actor: q.Actor, Action: q.Action, Target: q.Target, Site: q.Site, Limit: q.Limit}
	if q.Before != "" {
		var ok bool
		if f.Before, ok = parseAuditCursor(q.Before); !ok {
			return invalid(http.StatusBadRequest, "a filter has the wrong form",
				form.FieldError{Path: "before", Reason: "must be the next value of an earlier page"})
		}
	}
	for _, t := range []struct {
		name, v string
		dst     *time.Time
	}{{"from", q.From, &f.From}, {"to", q.To, &f.To}} {
		if t.v == "" {
			continue
		}
		v, err := time.Parse(time.RFC3339, t.v)
		if err != nil {
			return invalid(http.StatusBadRequest, "a filter has the wrong form",
				form.FieldError{Path: t.name, Reason: "must be a time like 2026-01-31T09:00:00Z"})
		}
		*t.dst = v
	}
	entries, more, err := h.store.Audit(c.Request().Context(), f)
	if err != nil {
		return err
	}
	out := map[string]any{"entries": each(entries, auditOut)}
	if more {
		out["next"] = auditCursor(entries[len(entries)-1])
	}
	return c.JSON(http.StatusOK, out)
}

type siteChangeRequest struct {
	FollowUpMonths int `json:"followup_months" validate:"required,min=1,max=36"`
}

// updateSite changes a site's follow-up interval.
func (h *handlers) updateSite(c echo.Context) error {
	var req siteChangeRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	site, err := h.store.SetFollowUpMonths(c.Request().Context(), c.Param("code"), req.FollowUpMonths)
	if err != nil {
		return err
	}
	if err := h.audit(c, "site.update", "site:"+site.Code, site.Code, "followup_months"); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, siteOut(site))
}
