package api

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/sync/semaphore"
)

// overloadWait is how long a request waits for a free place before it is
// turned away.
const overloadWait = 200 * time.Millisecond

// serverBusy turns a request away for now: 503, to try again in a second.
func serverBusy(c echo.Context) error {
	c.Response().Header().Set("Retry-After", "1")
	return invalid(http.StatusServiceUnavailable, "the server is busy; try again in a moment")
}

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
					return serverBusy(c)
				case <-c.Request().Context().Done():
					return c.Request().Context().Err()
				}
			}
			defer func() { <-places }()
			return next(c)
		}
	}
}

// Bodies read before their requests take a place are bounded twice: all
// of them together hold at most bodyBudget bytes in memory (counted as the
// bytes arrive, so a body that is announced but never sent holds nothing),
// and each must arrive within bodyReadTime of its headers. A body that
// finds the budget spent waits overloadWait, then gets 503 with
// Retry-After, as a request finding no place does.
const (
	bodyBudget   = 64 << 20
	bodyReadTime = 15 * time.Second
	bodyChunk    = 32 << 10
)

// readBodyFirst reads an API request's body into memory (at most limit and
// one byte more) before the request takes a place among those in flight:
// a body that trickles in, from a phone on a poor connection or from
// someone holding places on purpose, holds its connection while it
// arrives, not a place the other requests need. The handlers then read
// what it read; a body over the limit is left to the body limit to refuse,
// and one announced as over it is not read at all. budgetBytes bounds the
// bodies held at once (bodyBudget in the server).
func readBodyFirst(limit, budgetBytes int64) echo.MiddlewareFunc {
	budget := semaphore.NewWeighted(budgetBytes)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 || r.ContentLength > limit || !strings.HasPrefix(r.URL.Path, "/api/") {
				return next(c)
			}
			rc := http.NewResponseController(c.Response().Writer)
			_ = rc.SetReadDeadline(time.Now().Add(bodyReadTime)) // not every writer can: the server's own read timeout still holds
			var body bytes.Buffer
			var held int64
			defer func() { budget.Release(held) }()
			for int64(body.Len()) <= limit {
				n := min(bodyChunk, limit+1-int64(body.Len()))
				wait, cancel := context.WithTimeout(r.Context(), overloadWait)
				err := budget.Acquire(wait, n)
				cancel()
				if err != nil {
					return serverBusy(c)
				}
				got, err := io.CopyN(&body, r.Body, n)
				budget.Release(n - got)
				held += got
				if err == io.EOF {
					break
				}
				if err != nil {
					return invalid(http.StatusBadRequest, "the body did not arrive whole: "+err.Error())
				}
			}
			_ = rc.SetReadDeadline(time.Time{})
			r.Body = io.NopCloser(bytes.NewReader(body.Bytes()))
			return next(c)
		}
	}
}
