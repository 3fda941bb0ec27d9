package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

// overloadWait is how long a request waits for a free place before it is
// turned away.
const overloadWait = 200 * time.Millisecond

// limitInFlight admits at most max requests at once. A request that finds
// no free place within overloadWait gets 503 with Retry-After at once,
// rather than queueing without bound and timing out later, so clients back
// off (the phone pages keep answers on the device and retry). Health checks
// and metrics are never turned away.
func limitInFlight(max int) echo.MiddlewareFunc {
	places := make(chan struct{}, max)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			p := c.Request().URL.Path
			if p == "/healthz" || p == "/readyz" || p == "/metrics" || !strings.HasPrefix(p, "/api/") {
				return next(c)
			}
			select {
			case places <- struct{}{}:
			default:
				t := time.NewTimer(overloadWait)
				defer t.Stop()
				select {
				case places <- struct{}{}:
				case <-t.C:
					c.Response().Header().Set("Retry-After", "1")
					return invalid(http.StatusServiceUnavailable, "the server is busy; try again in a moment")
				case <-c.Request().Context().Done():
					return c.Request().Context().Err()
				}
			}
			defer func() { <-places }()
			return next(c)
		}
	}
}
