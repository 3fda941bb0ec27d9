package api

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
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

// Bodies that trickle in hold their connections, not the places in flight:
// with more of them open than there are places, other callers are served,
// and a trickled body that does arrive whole is answered as usual.
func TestReadBodyFirst_TricklingBodiesHoldNoPlace(t *testing.T) {
	f := newFixture(t)
	const places = 4
	srv := serveAPI(t, Deps{Forms: f.h.forms, Store: f.st, Tokens: f.h.tokens, MaxInFlight: places,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	addr := strings.TrimPrefix(srv.URL, "http://")
	body := `{"email":"nobody@example.org","password":"not the password"}`
	var conns []net.Conn
	for range 2 * places {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		conns = append(conns, c)
		fmt.Fprintf(c, "POST /api/v1/auth/login HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", addr, len(body), body[:9])
	}
	time.Sleep(200 * time.Millisecond) // each request has reached the server
	for _, p := range []string{"/api/v1/forms", "/api/v1/setup"} {
		res, err := http.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Errorf("GET %s while %d bodies trickle in: %d; want 200", p, 2*places, res.StatusCode)
		}
	}
	res, err := http.Post(srv.URL+"/api/v1/auth/login", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Errorf("a sign-in while bodies trickle in: %d; want 401 (wrong password), not turned away", res.StatusCode)
	}
	// The rest of one trickled body arrives: it is answered as any other.
	fmt.Fprint(conns[0], body[9:])
	conns[0].SetReadDeadline(time.Now().Add(10 * time.Second))
	got, err := http.ReadResponse(bufio.NewReader(conns[0]), nil)
	if err != nil {
		t.Fatal(err)
	}
	got.Body.Close()
	if got.StatusCode != http.StatusUnauthorized {
		t.Errorf("the trickled sign-in, once whole: %d; want 401", got.StatusCode)
	}
}

// The bodies read ahead are bounded in memory as their bytes arrive: bodies
// announced at the limit but never sent hold no more of the budget than the
// chunk they wait for, while bodies that did arrive and wait hold it, and a
// body finding it spent is turned away with 503 and Retry-After rather than
// read.
func TestReadBodyFirst_HoldsAtMostItsBudget(t *testing.T) {
	e := echo.New()
	e.HTTPErrorHandler = errorHandler(slog.New(slog.NewTextHandler(io.Discard, nil)))
	release := make(chan struct{})
	held := make(chan struct{}, 8)
	e.Use(readBodyFirst(MaxBody, 2*MaxBody))
	e.POST("/api/v1/echo", func(c echo.Context) error {
		b, err := io.ReadAll(c.Request().Body)
		if err != nil {
			return err
		}
		if len(b) > 1000 {
			held <- struct{}{}
			<-release // a large body stays held while its request is served
		}
		return c.String(http.StatusOK, strconv.Itoa(len(b)))
	})
	srv := httptest.NewServer(e)
	defer srv.Close()
	defer close(release)
	addr := strings.TrimPrefix(srv.URL, "http://")
	var stalled []net.Conn
	defer func() { // before the server closes, which waits for them
		for _, c := range stalled {
			c.Close()
		}
	}()
	stall := func(announce int, send string) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		stalled = append(stalled, c)
		fmt.Fprintf(c, "POST /api/v1/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", announce, send)
	}
	// A body let through by mistake would be held: a request fails rather
	// than wait for it.
	client := &http.Client{Timeout: 10 * time.Second}
	post := func(body string) *http.Response {
		res, err := client.Post(srv.URL+"/api/v1/echo", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	for range 8 {
		stall(MaxBody, `{"a":`)
	}
	time.Sleep(100 * time.Millisecond)
	if res := post(`{"a":1}`); res.StatusCode != http.StatusOK {
		t.Fatalf("a small body while 8 bodies of 1 MiB are announced and not sent: %d; want 200", res.StatusCode)
	}
	// Two bodies of 700 KiB that arrive whole and are held by their
	// requests leave too little of the budget of 2 MiB for a third (with
	// the stalled bodies' chunks or without them).
	big := `"` + strings.Repeat("x", 700<<10) + `"`
	for range 2 {
		go func() {
			if res, err := http.Post(srv.URL+"/api/v1/echo", "application/json", strings.NewReader(big)); err == nil {
				res.Body.Close()
			}
		}()
	}
	for range 2 { // both read whole and held, however slow the machine
		select {
		case <-held:
		case <-time.After(10 * time.Second):
			t.Fatal("two bodies of 700 KiB were not both read within 10 s")
		}
	}
	res := post(big)
	if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" {
		t.Errorf("a body with the budget spent: %d, Retry-After %q; want 503 with Retry-After", res.StatusCode, res.Header.Get("Retry-After"))
	}
}
