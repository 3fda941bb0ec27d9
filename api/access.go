package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/lifelong-links/sct/internal/access"
	"github.com/lifelong-links/sct/internal/auth"
	"github.com/lifelong-links/sct/internal/form"
	"github.com/lifelong-links/sct/internal/store"
	"github.com/lifelong-links/sct/internal/submission"
)

// scope says how a route finds the site a request touches, so the guard can
// check it before the handler runs.
type scope int

const (
	noSite        scope = iota // not about one site: the permission decides
	childParam                 // the child named by :id
	responseParam              // the response named by :id; for a new one, the body's child_id
	bodySite                   // the "site" of the JSON body
	querySite                  // the "site" filter of the query
)

type route struct {
	method, path string
	handler      echo.HandlerFunc
	perm         access.Permission
	scope        scope
}

const (
	principalKey = "principal"
	linkKey      = "link"     // a young person's link (store.Session), read by the guard
	responseKey  = "response" // the response the guard checked for a responseParam route
	childKey     = "child"    // the child the guard checked for a childParam route
	requestKey   = "request"  // the submission the guard decoded for a PUT of a response
)

// principal returns the caller the guard let through.
func principal(c echo.Context) access.Principal {
	p, _ := c.Get(principalKey).(access.Principal)
	return p
}

var (
	errUnauthenticated = invalid(http.StatusUnauthorized, "sign in first: this needs a valid bearer token")
	errForbidden       = invalid(http.StatusForbidden, "your role may not do this")
	errNotFound        = invalid(http.StatusNotFound, "not found")
)

// guard is the one place access is decided: it authenticates the caller,
// checks the route's permission against the caller's role, and checks the
// site the request touches against the caller's sites. A record in a site
// the caller does not reach is "not found", so its existence does not leak.
func (h *handlers) guard(r route) echo.HandlerFunc {
	spell := spellingsOf(r)
	return func(c echo.Context) error {
		if r.perm == access.PermPublic {
			return r.handler(c)
		}
		p, err := h.authenticate(c)
		if err != nil {
			return err
		}
		// Every identifier in the path gets its one spelling before
		// anything is looked up by it.
		if err := canonicalParams(c, spell); err != nil {
			return err
		}
		if !p.Can(r.perm) {
			return errForbidden
		}
		if err := h.checkScope(c, r, p); err != nil {
			return err
		}
		c.Set(principalKey, p)
		return r.handler(c)
	}
}

func (h *handlers) authenticate(c echo.Context) (access.Principal, error) {
	raw, ok := strings.CutPrefix(c.Request().Header.Get(echo.HeaderAuthorization), "Bearer ")
	if !ok || raw == "" {
		c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="sct"`)
		return access.Principal{}, errUnauthenticated
	}
	claims, err := h.tokens.Verify(strings.TrimSpace(raw))
	if err != nil {
		c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="sct", error="invalid_token"`)
		return access.Principal{}, errUnauthenticated
	}
	p := access.Principal{
		Subject: claims.Subject, Role: access.Role(claims.Role), Sites: claims.Sites, TokenID: claims.ID, Gen: claims.Gen,
		SessionID: claims.Session, ChildID: claims.Child, ResponseID: claims.Response,
	}
	if p.Role != access.YoungPerson {
		ok, err := h.accounts.Stands(c.Request().Context(), p.Subject, claims.Gen)
		if err != nil {
			return access.Principal{}, err
		}
		if !ok {
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="sct", error="invalid_token"`)
			return access.Principal{}, invalid(http.StatusUnauthorized, "this sign-in has ended; sign in again")
		}
	} else {
		// A session ends the moment its response is submitted, not when
		// its token expires: ask the store every time.
		sess, err := h.store.Session(c.Request().Context(), p.SessionID)
		if errors.Is(err, store.ErrNotFound) || (err == nil && !sess.Live(h.now())) {
			return access.Principal{}, invalid(http.StatusUnauthorized, "this link has been used up or has expired; ask your worker for a new one")
		}
		if err != nil {
			return access.Principal{}, err
		}
		if stands, err := h.accounts.LinkMakerStands(c.Request().Context(), sess.CreatedBy, sess.Site); err != nil {
			return access.Principal{}, err
		} else if !stands {
			return access.Principal{}, invalid(http.StatusUnauthorized, "this link has ended; ask your worker for a new one")
		}
		c.Set(linkKey, sess)
	}
	return p, nil
}

// youngPersonRoutes are all a young person's link may do: read and write
// its one response, see its map, and ask who it is.
var youngPersonRoutes = map[string]bool{
	http.MethodGet + " /api/v1/responses/:id":         true,
	http.MethodPut + " /api/v1/responses/:id":         true,
	http.MethodGet + " /api/v1/responses/:id/map.svg": true,
	http.MethodGet + " /api/v1/auth/me":               true,
}

func (h *handlers) checkScope(c echo.Context, r route, p access.Principal) error {
	ctx := c.Request().Context()
	if p.Role == access.YoungPerson && !youngPersonRoutes[r.method+" "+r.path] {
		return errForbidden
	}
	switch r.scope {
	case childParam:
		child, err := h.store.Child(ctx, c.Param("id"))
		if errors.Is(err, store.ErrNotFound) || (err == nil && !p.InSite(child.Site)) {
			return errNotFound
		}
		if err != nil {
			return err
		}
		c.Set(childKey, child) // the handler acts on this record only
	case responseParam:
		return h.checkResponse(c, p)
	case bodySite:
		var body struct {
			Site string `json:"site"`
		}
		if err := peekBody(c, &body); err != nil {
			return err
		}
		if body.Site != "" && !p.InSite(body.Site) {
			return invalid(http.StatusForbidden, "you may not act for another site")
		}
	case querySite:
		q := c.Request().URL.Query()
		if len(q["site"]) > 1 {
			return invalid(http.StatusBadRequest, "the query names more than one site",
				form.FieldError{Path: "site", Reason: "give one site"})
		}
		if p.AllSites() {
			return nil
		}
		site := q.Get("site")
		switch {
		case site == "" && len(p.Sites) == 1:
			q.Set("site", p.Sites[0])
			c.Request().URL.RawQuery = q.Encode()
		case site == "":
			return invalid(http.StatusForbidden, "say which of your sites with site=")
		case !p.InSite(site):
			return invalid(http.StatusForbidden, "you may not read another site's figures")
		}
	}
	return nil
}

// checkResponse lets a caller at the response named in the path only if it
// reaches it; one it does not reach is "not found", as one that does not
// exist. A PUT's body is decoded here, once, so that what the guard checked
// is what the handler stores; the submission service then checks the
// body's child against the same reach (see reachOf).
func (h *handlers) checkResponse(c echo.Context, p access.Principal) error {
	id := c.Param("id")
	link, _ := c.Get(linkKey).(store.Session)
	if p.Role == access.YoungPerson && id != link.ResponseID {
		return errNotFound
	}
	resp, err := h.store.Response(c.Request().Context(), id)
	switch {
	case err == nil:
		if !p.InSite(resp.Site) || (p.Role == access.YoungPerson && (resp.ChildID != link.ChildID || resp.Status != store.StatusDraft)) {
			return errNotFound
		}
		c.Set(responseKey, resp)
	case !errors.Is(err, store.ErrNotFound):
		return err
	case c.Request().Method != http.MethodPut:
		return errNotFound
	}
	if c.Request().Method != http.MethodPut {
		return nil
	}
	var body responseRequest
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	req := body.submission()
	if p.Role == access.YoungPerson {
		// What the link fixes need not be said again; what is said must match.
		if req.Timepoint == "" {
			req.Timepoint = link.Timepoint
		}
		if req.Wave == 0 {
			req.Wave = link.Wave
		}
		if err := linkAllows(link, req); err != nil {
			return err
		}
	}
	c.Set(requestKey, req)
	return nil
}

// linkAllows checks a young person's submission against their link: it may
// write one SCT of one form version, child, timepoint and wave, online.
func linkAllows(link store.Session, req submission.Request) error {
	var faults []form.FieldError
	check := func(path, got, want string) {
		if got != want {
			faults = append(faults, form.FieldError{Path: path, Reason: fmt.Sprintf("must be %q for this link", want)})
		}
	}
	check("form", req.Form, link.Form)
	check("version", req.Version, link.Version)
	check("child_id", req.ChildID, link.ChildID)
	check("timepoint", req.Timepoint, link.Timepoint)
	check("wave", strconv.Itoa(max(req.Wave, 1)), strconv.Itoa(max(link.Wave, 1)))
	check("mode", req.Mode, "online")
	if len(faults) > 0 {
		return invalid(http.StatusForbidden, "this link is for one SCT only; it cannot write this", faults...)
	}
	return nil
}

// reachOf is what the caller may touch, for the services that read records
// the guard could not check beforehand (the child a new response names).
func reachOf(p access.Principal) submission.Reach {
	return submission.Reach{Site: p.InSite, DraftsOnly: p.Role == access.YoungPerson}
}

// afterCallerLeft bounds what a request still writes once its caller has
// gone: the record of a change made, a link spent.
const afterCallerLeft = 10 * time.Second

// peekBody decodes what the guard needs from a JSON body and leaves the body
// in place for the handler. A body it cannot decode is left for the
// handler's decoder to report.
func peekBody(c echo.Context, v any) error {
	b, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return decodeProblem(err)
	}
	c.Request().Body = io.NopCloser(bytes.NewReader(b))
	_ = json.Unmarshal(b, v)
	return nil
}

// audit records an action of the current caller. An action that must be
// recorded does not happen when the record cannot be written. The record is
// written even if the caller has gone meanwhile: it is often written after
// the change it records.
func (h *handlers) audit(c echo.Context, action, target, site, detail string) error {
	p := principal(c)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request().Context()), afterCallerLeft)
	defer cancel()
	return h.store.AppendAudit(ctx, store.AuditEntry{
		Actor: p.Subject, Role: string(p.Role), Action: action, Target: target, Site: site,
		RequestID: requestID(c), Remote: c.RealIP(), Detail: detail,
	})
}

// tokenVerifier is what the guard needs of the token issuer.
type tokenVerifier interface {
	Verify(token string) (*auth.Claims, error)
}
