// Package api is the HTTP interface: Echo handlers that decode and validate
// requests, call the form, submission, summary and store packages, and write
// JSON. Every route and the permission it needs is declared in routes().
package api

import (
	"context"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/lifelong-links/sct/internal/form"
	"github.com/lifelong-links/sct/internal/store"
	"github.com/lifelong-links/sct/internal/submission"
	"github.com/lifelong-links/sct/internal/summary"
)

// MaxBody is the largest request body accepted.
const MaxBody = 1 << 20

// Store is what the API needs of the store.
type Store interface {
	submission.Store
	Ping(ctx context.Context) error
	CreateChild(ctx context.Context, c store.Child) (store.Child, error)
	Revisions(ctx context.Context, id string) ([]store.Response, error)
	EachSCTInput(ctx context.Context, f store.Filter, fn func(summary.Input)) error
}

// Deps are what the API is built from.
type Deps struct {
	Forms  *form.Registry
	Store  Store
	Static fs.FS // the phone pages
	Logger *slog.Logger
	Now    func() time.Time
}

// New returns the HTTP handler for the whole API.
func New(d Deps) *echo.Echo {
	if d.Now == nil {
		d.Now = time.Now
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.Validator = newValidator()
	e.HTTPErrorHandler = errorHandler(d.Logger)
	e.Use(
		middleware.RequestIDWithConfig(middleware.RequestIDConfig{TargetHeader: echo.HeaderXRequestID}),
		requestLogger(d.Logger),
		middleware.RecoverWithConfig(middleware.RecoverConfig{DisableStackAll: true, DisablePrintStack: true}),
		middleware.BodyLimit("1M"),
	)
	h := &handlers{
		forms:  d.Forms,
		store:  d.Store,
		submit: submission.New(d.Forms, d.Store, d.Now),
		log:    d.Logger,
	}
	for _, r := range h.routes() {
		e.Add(r.method, r.path, r.handler)
	}
	registerStatic(e, d.Static)
	return e
}

// Permission names what a route lets a caller do; the access layer grants
// permissions to roles.
type Permission string

// Permissions.
const (
	PermPublic       Permission = "public"        // anyone, no token
	PermChildRead    Permission = "child:read"    // a child's record
	PermChildWrite   Permission = "child:write"   // register a child
	PermResponseRead Permission = "response:read" // a response with its answers
	PermResponsePut  Permission = "response:put"  // save or submit a response
	PermSummaryRead  Permission = "summary:read"  // aggregate tables
)

type route struct {
	method, path string
	handler      echo.HandlerFunc
	perm         Permission
}

type handlers struct {
	forms  *form.Registry
	store  Store
	submit *submission.Service
	log    *slog.Logger
}

// routes is the route table: every route, with the permission it needs.
func (h *handlers) routes() []route {
	return []route{
		{http.MethodGet, "/healthz", h.healthz, PermPublic},
		{http.MethodGet, "/readyz", h.readyz, PermPublic},

		{http.MethodGet, "/api/v1/forms", h.listForms, PermPublic},
		{http.MethodGet, "/api/v1/forms/:form/versions/:version", h.getForm, PermPublic},

		{http.MethodPost, "/api/v1/children", h.createChild, PermChildWrite},
		{http.MethodGet, "/api/v1/children/:id", h.getChild, PermChildRead},

		{http.MethodPut, "/api/v1/responses/:id", h.putResponse, PermResponsePut},
		{http.MethodGet, "/api/v1/responses/:id", h.getResponse, PermResponseRead},
		{http.MethodGet, "/api/v1/responses/:id/revisions", h.getRevisions, PermResponseRead},

		{http.MethodGet, "/api/v1/summaries/sct", h.sctSummary, PermSummaryRead},
	}
}

func (h *handlers) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

func (h *handlers) readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	if err := h.store.Ping(ctx); err != nil {
		h.log.Warn("not ready", "err", err)
		c.Response().Header().Set("Retry-After", "5")
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "store unavailable"})
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
}

func requestID(c echo.Context) string {
	return c.Response().Header().Get(echo.HeaderXRequestID)
}

func requestLogger(log *slog.Logger) echo.MiddlewareFunc {
	return middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		LogStatus: true, LogURIPath: true, LogMethod: true, LogLatency: true, LogRequestID: true, LogRemoteIP: true,
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			level := slog.LevelInfo
			if v.Status >= 500 {
				level = slog.LevelError
			}
			log.LogAttrs(c.Request().Context(), level, "request",
				slog.String("request_id", v.RequestID), slog.String("method", v.Method),
				slog.String("path", v.URIPath), slog.Int("status", v.Status),
				slog.Duration("latency", v.Latency), slog.String("remote", v.RemoteIP))
			return nil
		},
	})
}
