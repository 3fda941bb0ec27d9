package api

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
)

// Past the limit a request is turned away quickly with 503 and Retry-After,
// while the admitted ones finish and health checks still answer.
func TestLimitInFlight_TurnsAwayQuicklyWhenFull(t *testing.T) {
	e := echo.New()
	e.HTTPErrorHandler = errorHandler(slog.New(slog.NewTextHandler(io.Discard, nil)))
	release := make(chan struct{})
	entered := make(chan struct{}, 2)
	e.Use(limitInFlight(2))
	e.GET("/api/v1/slow", func(c echo.Context) error {
		entered <- struct{}{}
		<-release
		return c.String(http.StatusOK, "done")
	})
	e.GET("/healthz", func(c echo.Context) error { return c.String(http.StatusOK, "ok") })
	srv := httptest.NewServer(e)
	defer srv.Close()

	var wg sync.WaitGroup
	codes := make(chan int, 2)
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := http.Get(srv.URL + "/api/v1/slow")
			if err == nil {
				codes <- res.StatusCode
				res.Body.Close()
			}
		}()
	}
	<-entered
	<-entered

	start := time.Now()
	res, err := http.Get(srv.URL + "/api/v1/slow")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" {
		t.Errorf("third request: %d, Retry-After %q; want 503 with Retry-After", res.StatusCode, res.Header.Get("Retry-After"))
	}
	if waited := time.Since(start); waited > 2*time.Second {
		t.Errorf("turned away after %s; want it quick", waited)
	}
	if res, err := http.Get(srv.URL + "/healthz"); err != nil || res.StatusCode != http.StatusOK {
		t.Errorf("health check while full: %v %v", res, err)
	}

	close(release)
	wg.Wait()
	close(codes)
	for c := range codes {
		if c != http.StatusOK {
			t.Errorf("an admitted request got %d", c)
		}
	}
	if res, err := http.Get(srv.URL + "/api/v1/slow"); err != nil || res.StatusCode != http.StatusOK {
		t.Errorf("after the load passed: %v %v", res, err)
	}
}
