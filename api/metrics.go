package api

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/lifelong-links/sct/internal/metrics"
	"github.com/lifelong-links/sct/internal/store"
	"github.com/lifelong-links/sct/internal/submission"
)

// unmatchedRoute is the route label of a request no route matched, and
// otherMethod the method label of a method HTTP does not define, so that
// what strangers send never becomes a label value.
const (
	unmatchedRoute = "(unmatched)"
	otherMethod    = "OTHER"
)

// measure records every request by its route pattern, method and the status
// the client gets. It runs outermost, after routing, so its time includes
// the other middleware and the error handler's work is known: for an error
// it takes the status the error handler will send.
func measure(m *metrics.Metrics) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			err := next(c)
			status := c.Response().Status
			if err != nil && !c.Response().Committed {
				status = problemFor(err).Status
			}
			route := c.Path()
			if route == "" {
				route = unmatchedRoute
			}
			method := c.Request().Method
			switch method {
			case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
				http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
			default:
				method = otherMethod
			}
			m.ObserveRequest(route, method, status, time.Since(start))
			return err
		}
	}
}

// metrics serves the Prometheus metrics: counts and timings by route, form
// and version; no identifiers, no personal data.
func (h *handlers) metrics(c echo.Context) error {
	if h.meter == nil {
		return errNotFound
	}
	h.meter.Handler().ServeHTTP(c.Response(), c.Request())
	return nil
}

// countSubmission counts a stored response; an unchanged resend stored
// nothing and is not counted.
func (h *handlers) countSubmission(r store.Response, outcome submission.Outcome) {
	if h.meter == nil || (outcome != submission.Created && outcome != submission.Revised) {
		return
	}
	h.meter.CountSubmission(r.Form, r.Version, r.Status)
}
