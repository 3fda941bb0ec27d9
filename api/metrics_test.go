package api

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/lifelong-links/sct/internal/auth"
	"github.com/lifelong-links/sct/internal/metrics"
)

// A server with metrics over the fixture's store, and a coordinator A token
// it accepts.
func newMeteredServer(t *testing.T) (f *fixture, srv *httptest.Server, token string) {
	t.Helper()
	f = newFixture(t)
	spec, _ := auth.GenerateKeySpec(time.Now())
	keys, err := auth.ParseKeys(spec)
	if err != nil {
		t.Fatal(err)
	}
	tokens := auth.NewTokens(keys, "sct", time.Now)
	srv = serveAPI(t, Deps{Forms: f.h.forms, Store: f.st, Tokens: tokens,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Metrics: metrics.New()})
	c := auth.Claims{Role: "coordinator", Sites: []string{"A"}}
	c.Subject = f.userA.ID
	token, _, err = tokens.Issue(c, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return f, srv, token
}

func send(t *testing.T, srv *httptest.Server, token, method, path, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// Requests are counted and timed by their route pattern, so identifiers in
// URLs never become labels; stored responses are counted by form, version
// and status, and an unchanged resend is not.
func TestMetrics_CountByRoutePatternNeverByID(t *testing.T) {
	_, srv, token := newMeteredServer(t)
	const (
		newResp = "0b9e4f3a-6c1d-4e2f-9a8b-7c6d5e4f3a2b"
		absent  = "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f"
	)
	draft := `{"form":"sct","version":"1","child_id":"CA1","timepoint":"follow_up","mode":"paper","status":"draft","answers":{}}`
	submitted := `{"form":"sct","version":"1","child_id":"CA1","timepoint":"follow_up","completed_on":"2020-01-10","mode":"paper","status":"submitted",
		"answers":{"nominees":[{"name":"Aunt-Secret","relationship":"other_relative"}],"key_people":[],"adequacy":{"emotional":3}}}`
	for _, tc := range []struct {
		name, token, method, path, body string
		want                            int
	}{
		{"read", token, http.MethodGet, "/api/v1/responses/" + respA, "", http.StatusOK},
		{"read absent", token, http.MethodGet, "/api/v1/responses/" + absent, "", http.StatusNotFound},
		{"read without token", "", http.MethodGet, "/api/v1/responses/" + respA, "", http.StatusUnauthorized},
		{"new draft", token, http.MethodPut, "/api/v1/responses/" + newResp, draft, http.StatusCreated},
		{"same draft again", token, http.MethodPut, "/api/v1/responses/" + newResp, draft, http.StatusOK},
		{"submitted", token, http.MethodPut, "/api/v1/responses/" + newResp, submitted, http.StatusOK},
		{"child", token, http.MethodGet, "/api/v1/children/CA1", "", http.StatusOK},
		{"no route", "", http.MethodGet, "/no/such/path-CA1", "", http.StatusNotFound},
		{"made-up method", "", "BREW", "/api/v1/children/CA1", "", http.StatusMethodNotAllowed},
	} {
		if got, body := send(t, srv, tc.token, tc.method, tc.path, tc.body); got != tc.want {
			t.Fatalf("%s: %s %s: status %d, want %d; body %s", tc.name, tc.method, tc.path, got, tc.want, body)
		}
	}
	status, scrape := send(t, srv, "", http.MethodGet, "/metrics", "")
	if status != http.StatusOK {
		t.Fatalf("GET /metrics: %d", status)
	}
	for _, want := range []string{
		`sct_http_requests_total{code="200",method="GET",route="/api/v1/responses/:id"} 1`,
		`sct_http_requests_total{code="404",method="GET",route="/api/v1/responses/:id"} 1`,
		`sct_http_requests_total{code="401",method="GET",route="/api/v1/responses/:id"} 1`,
		`sct_http_requests_total{code="201",method="PUT",route="/api/v1/responses/:id"} 1`,
		`sct_http_requests_total{code="200",method="PUT",route="/api/v1/responses/:id"} 2`,
		`sct_http_requests_total{code="200",method="GET",route="/api/v1/children/:id"} 1`,
		`sct_http_requests_total{code="404",method="GET",route="(unmatched)"} 1`,
		`sct_http_requests_total{code="405",method="OTHER",route="/api/v1/children/:id"} 1`,
		`sct_http_request_duration_seconds_count{method="GET",route="/api/v1/responses/:id"} 3`,
		`sct_http_request_duration_seconds_bucket{method="PUT",route="/api/v1/responses/:id",le="+Inf"} 3`,
		`sct_submissions_total{form="sct",status="draft",version="1"} 1`,
		`sct_submissions_total{form="sct",status="submitted",version="1"} 1`,
		`sct_build_info{`,
		`go_goroutines `,
		`process_start_time_seconds `,
	} {
		if !strings.Contains(scrape, want) {
			t.Errorf("scrape lacks %s", want)
		}
	}
	for _, leak := range append([]string{respA, newResp, absent, "CA1", "/no/such", "Aunt-Secret", "BREW"}, secrets...) {
		if strings.Contains(scrape, leak) {
			t.Errorf("scrape shows %q", leak)
		}
	}
	if t.Failed() {
		t.Log(scrape)
	}
}

// The scrape is itself a request, counted under its own route.
func TestMetrics_ScrapeIsCounted(t *testing.T) {
	_, srv, _ := newMeteredServer(t)
	send(t, srv, "", http.MethodGet, "/metrics", "")
	if _, scrape := send(t, srv, "", http.MethodGet, "/metrics", ""); !strings.Contains(scrape,
		`sct_http_requests_total{code="200",method="GET",route="/metrics"} 1`) {
		t.Errorf("the first scrape is not counted:\n%s", scrape)
	}
}

// Without metrics nothing is recorded and /metrics is not there.
func TestMetrics_AbsentWithoutMetrics(t *testing.T) {
	f := newFixture(t)
	if status, body := f.do(t, "", http.MethodGet, "/metrics", ""); status != http.StatusNotFound {
		t.Errorf("GET /metrics without metrics: %d %s, want 404", status, body)
	}
}
