package metrics

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("scrape: status %d", rec.Code)
	}
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}

func TestMetrics_RecordsWhatItIsTold(t *testing.T) {
	m := New()
	m.ObserveRequest("/api/v1/responses/:id", http.MethodPut, http.StatusCreated, 30*time.Millisecond)
	m.ObserveRequest("/api/v1/responses/:id", http.MethodPut, http.StatusCreated, 40*time.Millisecond)
	m.CountSubmission("sct", "1", "submitted")
	m.ObserveCommand("insert", 2*time.Millisecond)
	m.ObserveCommand("find", 7*time.Second)

	got := scrape(t, m)
	for _, want := range []string{
		`sct_http_requests_total{code="201",method="PUT",route="/api/v1/responses/:id"} 2`,
		`sct_http_request_duration_seconds_count{method="PUT",route="/api/v1/responses/:id"} 2`,
		`sct_http_request_duration_seconds_bucket{method="PUT",route="/api/v1/responses/:id",le="0.05"} 2`,
		`sct_submissions_total{form="sct",status="submitted",version="1"} 1`,
		`sct_store_command_duration_seconds_bucket{command="insert",le="0.0025"} 1`,
		`sct_store_command_duration_seconds_bucket{command="find",le="5"} 0`,
		`sct_store_command_duration_seconds_count{command="find"} 1`,
		`sct_build_info{goversion="go`,
		"go_goroutines ",
		"process_start_time_seconds ",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("scrape lacks %q", want)
		}
	}
	if t.Failed() {
		t.Log(got)
	}
}

// Each Metrics has its own registry: two in one process (as in tests, or two
// servers) neither collide nor see each other's counts.
func TestMetrics_RegistriesAreSeparate(t *testing.T) {
	a, b := New(), New()
	a.CountSubmission("sct", "1", "draft")
	if got := scrape(t, b); strings.Contains(got, "sct_submissions_total{") {
		t.Errorf("b sees a's submission:\n%s", got)
	}
}
