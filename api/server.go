// Package api is the HTTP interface: Echo handlers that decode and validate
// a request, ask one service (submission, evaluation, accounts, children)
// and write the answer as JSON in the API's own types. Every route, the
// permission it needs and the site it touches are declared in routes();
// guard enforces them, reading the record a path names before the handler
// runs.
package api

import (
	"context"
	"io/fs"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/lifelong-links/sct/internal/access"
	"github.com/lifelong-links/sct/internal/accounts"
	"github.com/lifelong-links/sct/internal/auth"
	"github.com/lifelong-links/sct/internal/catalog"
	"github.com/lifelong-links/sct/internal/children"
	"github.com/lifelong-links/sct/internal/config"
	"github.com/lifelong-links/sct/internal/evaluation"
	"github.com/lifelong-links/sct/internal/form"
	"github.com/lifelong-links/sct/internal/metrics"
	"github.com/lifelong-links/sct/internal/store"
	"github.com/lifelong-links/sct/internal/submission"
	"github.com/lifelong-links/sct/internal/webhook"
)

// MaxBody is the largest request body accepted.
const MaxBody = 1 << 20

// Store is what the API needs of the store.
type Store interface {
	submission.Store
	evaluation.Store
	accounts.Store
	accounts.LinkStore
	accounts.CalendarStore
	children.Store
	Ping(ctx context.Context) error
	SetFollowUpMonths(ctx context.Context, code string, months int) (store.Site, error)

	CreateSite(ctx context.Context, site store.Site) (store.Site, error)

	Session(ctx context.Context, id string) (store.Session, error)

	webhook.ServiceStore

	AppendAudit(ctx context.Context, e store.AuditEntry) error
	Audit(ctx context.Context, f store.AuditFilter) ([]store.AuditEntry, bool, error)
}

// Tokens issues and verifies access tokens.
type Tokens interface {
	tokenVerifier
	Issue(c auth.Claims, ttl time.Duration) (string, time.Time, error)
}

// Deps are what the API is built from.
type Deps struct {
	Forms *form.Registry
	Store Store
	// Evaluation builds the tables (nil: one over Store, made here).
	Evaluation *evaluation.Service
	// Accounts signs callers in (nil: one over Store and Tokens, made
	// here from the settings below).
	Accounts   *accounts.Service
	Tokens     Tokens
	RefreshTTL time.Duration // how long a sign-in lasts without use
	// SignInLifetime is how long a sign-in lasts however often it is
	// refreshed (0: the settings' default).
	SignInLifetime time.Duration
	// CheckPassword checks a password against a stored hash (nil:
	// auth.CheckPassword). Tests count its calls.
	CheckPassword func(hash, password string) bool
	Static        fs.FS // the phone pages
	Logger        *slog.Logger
	Now           func() time.Time
	Metrics       *metrics.Metrics // nil: nothing is recorded and /metrics is 404
	// MaxInFlight caps the API requests served at once (0: the settings' default).
	MaxInFlight int
	// TrustedProxies are the networks whose X-Forwarded-For is believed.
	TrustedProxies []*net.IPNet
	// PublicURL, if set, is the scheme and host (nothing more) that every
	// link the server makes starts with; the request's Host and
	// X-Forwarded-* headers are then ignored.
	PublicURL *url.URL
	// SetupToken, if set, lets the first administrator be created with it
	// (POST /api/v1/setup) while the store has no account.
	SetupToken string
	// AllowedHosts are the Host header values (host or host:port, compared
	// without regard to case) believed for links when PublicURL is nil: the
	// listen address and any the administrator lists. Empty with no
	// PublicURL: no links are made (421).
	AllowedHosts []string
	// Webhooks registers and lists webhooks (nil: one over Store that lets
	// deliveries go to the public internet only, and tells no dispatcher).
	Webhooks *webhook.Service
}

// New returns the HTTP handler for the whole API.
func New(d Deps) (*echo.Echo, error) {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.RefreshTTL == 0 {
		d.RefreshTTL = config.Defaults().RefreshTTL
	}
	if d.SignInLifetime == 0 {
		d.SignInLifetime = config.Defaults().SignInLifetime
	}
	if d.CheckPassword == nil {
		d.CheckPassword = auth.CheckPassword
	}
	if d.MaxInFlight <= 0 {
		d.MaxInFlight = config.Defaults().MaxInFlight
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.Validator = newValidator()
	e.HTTPErrorHandler = errorHandler(d.Logger)
	// The peer address is the client unless it is a proxy we were told to
	// trust: a forwarded-for header from anyone else is the client's own
	// say-so and would let it dodge the sign-in limits.
	e.IPExtractor = echo.ExtractIPDirect()
	if len(d.TrustedProxies) > 0 {
		// Only the networks named: not Echo's default of every loopback,
		// link-local and private address, which would believe any client
		// on the same network about where it is.
		opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
		for _, n := range d.TrustedProxies {
			opts = append(opts, echo.TrustIPRange(n))
		}
		e.IPExtractor = echo.ExtractIPFromXFFHeader(opts...)
	}
	if d.Metrics != nil {
		e.Use(measure(d.Metrics)) // first, so it times the whole request
	}
	e.Use(
		dropUnsafeRequestID,
		middleware.RequestIDWithConfig(middleware.RequestIDConfig{TargetHeader: echo.HeaderXRequestID}),
		requestLogger(d.Logger),
		middleware.RecoverWithConfig(middleware.RecoverConfig{DisableStackAll: true, DisablePrintStack: true}),
		securityHeaders,
		apiHeaders,
		requireJSONBody,
		readBodyFirst(MaxBody, bodyBudget),
		limitInFlight(d.MaxInFlight),
		middleware.BodyLimit(strconv.Itoa(MaxBody)+"B"),
		// The fastest level: most answers are small JSON, where setting up a
		// stronger compressor costs more than it saves. API answers under 4
		// KiB (a submission's echo, a child) go as they are: compressing one
		// saves a packet at most and costs building a Huffman table each time
		// (a twentieth of a submission's CPU). The pages' files, fetched once
		// over a phone's connection, are compressed from 1 KiB.
		middleware.GzipWithConfig(middleware.GzipConfig{MinLength: 4096, Level: 1, Skipper: notAPI}),
		middleware.GzipWithConfig(middleware.GzipConfig{MinLength: 1024, Level: 1, Skipper: isAPI}),
	)
	lk, err := newLinks(d.PublicURL, d.AllowedHosts)
	if err != nil {
		return nil, err
	}
	if d.Accounts == nil {
		versions := d.Forms.Versions(catalog.SCT)
		d.Accounts = accounts.New(accounts.Options{Store: d.Store, Tokens: d.Tokens, RefreshTTL: d.RefreshTTL,
			SignInLifetime: d.SignInLifetime, CheckPassword: d.CheckPassword, Logger: d.Logger, Now: d.Now,
			Links: d.Store, Calendars: d.Store, SCTVersion: versions[len(versions)-1].Version, SetupToken: d.SetupToken})
	}
	if d.Evaluation == nil {
		if d.Evaluation, err = evaluation.New(d.Store, d.Forms, d.Now); err != nil {
			return nil, err
		}
	}
	if d.Webhooks == nil {
		d.Webhooks = webhook.NewService(webhook.ServiceOptions{Store: d.Store, Now: d.Now})
	}
	h := &handlers{
		webhooks: d.Webhooks,
		forms:    d.Forms,
		eval:     d.Evaluation,
		store:    d.Store,
		tokens:   d.Tokens,
		accounts: d.Accounts,
		children: children.New(d.Store),
		submit:   submission.New(d.Forms, d.Store, d.Now),
		log:      d.Logger,
		now:      d.Now,
		meter:    d.Metrics,
		pages:    pages(d.Static),
		links:    lk,
	}
	for _, r := range h.routes() {
		e.Add(r.method, r.path, h.guard(r))
	}
	return e, nil
}

type handlers struct {
	webhooks *webhook.Service
	forms    *form.Registry
	eval     *evaluation.Service
	store    Store
	tokens   Tokens
	accounts *accounts.Service
	children *children.Service
	submit   *submission.Service
	log      *slog.Logger
	now      func() time.Time
	meter    *metrics.Metrics
	links    links
	pages    echo.HandlerFunc // the phone pages; nil: none
}

// routes is the route table: every route, the permission it needs and how
// the site it touches is found. Nothing is routed any other way.
func (h *handlers) routes() []route {
	const public, signedIn = access.PermPublic, access.PermSignedIn
	table := []route{
		{http.MethodGet, "/healthz", h.healthz, public, noSite},
		{http.MethodGet, "/readyz", h.readyz, public, noSite},
		{http.MethodGet, "/metrics", h.metrics, public, noSite},
		{http.MethodGet, "/api/openapi.yaml", h.openapi, public, noSite},

		{http.MethodPost, "/api/v1/auth/login", h.login, public, noSite},
		{http.MethodPost, "/api/v1/auth/refresh", h.refresh, public, noSite},
		{http.MethodPost, "/api/v1/auth/logout", h.logout, public, noSite},
		{http.MethodPost, "/api/v1/auth/session", h.openSession, public, noSite},
		{http.MethodPost, "/api/v1/auth/session/renew", h.renewSession, public, noSite},
		{http.MethodGet, "/api/v1/auth/me", h.me, signedIn, noSite},
		// The first run's way in: the setup token is the credential, tried
		// against the same limits as a sign-in.
		{http.MethodGet, "/api/v1/setup", h.setupStatus, public, noSite},
		{http.MethodPost, "/api/v1/setup", h.setup, public, noSite},

		{http.MethodGet, "/api/v1/forms", h.listForms, public, noSite},
		{http.MethodGet, "/api/v1/forms/:form/versions/:version", h.getForm, public, noSite},

		{http.MethodGet, "/api/v1/sites", h.listSites, access.PermSiteRead, noSite},
		{http.MethodPost, "/api/v1/sites", h.createSite, access.PermSiteManage, noSite},
		{http.MethodPatch, "/api/v1/sites/:code", h.updateSite, access.PermSiteManage, noSite},
		{http.MethodGet, "/api/v1/users", h.listUsers, access.PermUserManage, noSite},
		{http.MethodPost, "/api/v1/users", h.createUser, access.PermUserManage, noSite},
		{http.MethodPatch, "/api/v1/users/:id", h.updateUser, access.PermUserManage, noSite},
		{http.MethodGet, "/api/v1/audit", h.listAudit, access.PermAuditRead, noSite},
		{http.MethodGet, "/api/v1/admin/summaries/check", h.checkSummaries, access.PermMaintain, noSite},
		{http.MethodPost, "/api/v1/admin/summaries/rebuild", h.rebuildSummaries, access.PermMaintain, noSite},
		{http.MethodGet, "/api/v1/webhooks", h.listWebhooks, access.PermWebhookManage, noSite},
		{http.MethodPost, "/api/v1/webhooks", h.createWebhook, access.PermWebhookManage, noSite},
		{http.MethodDelete, "/api/v1/webhooks/:id", h.deleteWebhook, access.PermWebhookManage, noSite},
		{http.MethodGet, "/api/v1/webhooks/:id/deliveries", h.listDeliveries, access.PermWebhookManage, noSite},
		{http.MethodPost, "/api/v1/webhooks/:id/deliveries/:delivery/retry", h.retryDelivery, access.PermWebhookManage, noSite},

		{http.MethodGet, "/api/v1/children", h.listChildren, access.PermChildRead, querySite},
		{http.MethodPost, "/api/v1/children", h.createChild, access.PermChildWrite, bodySite},
		{http.MethodGet, "/api/v1/children/:id", h.getChild, access.PermChildRead, childParam},
		{http.MethodDelete, "/api/v1/children/:id", h.eraseChild, access.PermChildErase, childParam},
		{http.MethodPost, "/api/v1/children/:id/sessions", h.createSession, access.PermSessionCreate, childParam},
		{http.MethodPut, "/api/v1/children/:id/participation", h.putParticipation, access.PermChildWrite, childParam},
		{http.MethodGet, "/api/v1/children/:id/change", h.getChange, access.PermChildRead, childParam},
		{http.MethodGet, "/api/v1/followups", h.followups, access.PermChildRead, querySite},
		{http.MethodGet, "/api/v1/calendar", h.calendarStatus, access.PermChildRead, noSite},
		{http.MethodPost, "/api/v1/calendar", h.createCalendar, access.PermChildRead, noSite},
		{http.MethodGet, "/api/v1/calendar/:token", h.calendar, public, noSite},

		{http.MethodPut, "/api/v1/responses/:id", h.putResponse, access.PermResponsePut, responseParam},
		{http.MethodGet, "/api/v1/responses/:id", h.getResponse, access.PermResponseRead, responseParam},
		{http.MethodGet, "/api/v1/responses/:id/revisions", h.getRevisions, access.PermResponseRead, responseParam},
		{http.MethodGet, "/api/v1/responses/:id/map.svg", h.getMap, access.PermResponseRead, responseParam},

		{http.MethodGet, "/api/v1/summaries/sct", h.sctSummary, access.PermSummaryRead, querySite},
		{http.MethodGet, "/api/v1/summaries/sct/paired", h.sctPaired, access.PermSummaryRead, querySite},
		{http.MethodGet, "/api/v1/summaries/practice", h.practiceSummary, access.PermSummaryRead, querySite},
		{http.MethodGet, "/api/v1/summaries/participation", h.participationTable, access.PermSummaryRead, querySite},
		{http.MethodGet, "/api/v1/summaries/returns", h.returns, access.PermSummaryRead, querySite},
		{http.MethodGet, "/api/v1/exports/:file", h.exportFile, access.PermExport, querySite},
	}
	if h.pages != nil {
		// Last: every other path is the phone pages'.
		table = append(table, route{http.MethodGet, "/*", h.pages, public, noSite})
	}
	return table
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
		// The error handler answers here, so the status logged is the one
		// sent, not the 200 a response starts with.
		HandleError: true,
		LogStatus:   true, LogURIPath: true, LogMethod: true, LogLatency: true, LogRequestID: true, LogRemoteIP: true,
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			level := slog.LevelInfo
			if v.Status >= 500 {
				level = slog.LevelError
			}
			path := v.URIPath
			if strings.HasPrefix(path, calendarPrefix) {
				path = calendarPrefix + "(secret)" // the address is the credential
			}
			log.LogAttrs(c.Request().Context(), level, "request",
				slog.String("request_id", v.RequestID), slog.String("method", v.Method),
				slog.String("path", path), slog.Int("status", v.Status),
				slog.Duration("latency", v.Latency), slog.String("remote", v.RemoteIP))
			return nil
		},
	})
}

// securityHeaders keeps pages from being framed, sniffed or leaking where
// they were opened from, and allows scripts from this server only.
func securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		hd := c.Response().Header()
		hd.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
			"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("Cross-Origin-Opener-Policy", "same-origin")
		return next(c)
	}
}

// apiHeaders keeps every API answer out of caches: most hold personal data,
// and one that does not (a form definition) says so itself.
func apiHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if isAPI(c) {
			c.Response().Header().Set("Cache-Control", "no-store")
		}
		return next(c)
	}
}

// requireJSONBody refuses an API request whose body is not declared JSON.
// Another web page can send text, form or untyped bodies without asking
// first (no CORS preflight); JSON it cannot, so this closes the API to
// other sites' pages (failed sign-ins posted to lock accounts, say).
func requireJSONBody(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		switch req.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			return next(c)
		}
		ct := req.Header.Get(echo.HeaderContentType)
		hasBody := req.ContentLength != 0 || len(req.TransferEncoding) > 0
		if !isAPI(c) || (ct == "" && !hasBody) {
			return next(c)
		}
		mt, params, err := mime.ParseMediaType(ct)
		charset, hasCharset := params["charset"]
		if err != nil || mt != echo.MIMEApplicationJSON || (hasCharset && !strings.EqualFold(charset, "utf-8")) {
			return invalid(http.StatusUnsupportedMediaType, "send the body as JSON, with Content-Type: application/json")
		}
		return next(c)
	}
}

// safeRequestID is what a client's X-Request-ID must look like to be kept:
// it goes into logs and the audit trail.
var safeRequestID = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,64}$`)

// dropUnsafeRequestID removes a client's request id that is not a short
// safe token, so that one is made instead.
func dropUnsafeRequestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Request().Header
		if vs := h.Values(echo.HeaderXRequestID); len(vs) > 1 || (len(vs) == 1 && !safeRequestID.MatchString(vs[0])) {
			h.Del(echo.HeaderXRequestID)
		}
		return next(c)
	}
}

// calendarPrefix starts the path of a calendar feed, whose rest is secret.
const calendarPrefix = "/api/v1/calendar/"

func isAPI(c echo.Context) bool { return strings.HasPrefix(c.Request().URL.Path, "/api/") }

func notAPI(c echo.Context) bool { return !isAPI(c) }
