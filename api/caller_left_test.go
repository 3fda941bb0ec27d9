package api

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/lifelong-links/sct/internal/access"
	"github.com/lifelong-links/sct/internal/store"
)

// A caller who leaves once a change is made still leaves its record in the
// audit trail: the record is written after the change.
func TestAudit_WrittenAfterTheCallerLeft(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req := httptest.NewRequestWithContext(ctx, http.MethodPut, "/api/v1/responses/x", nil)
	c := echo.New().NewContext(req, httptest.NewRecorder())
	c.Set(principalKey, access.Principal{Subject: "coordinator A", Role: access.Coordinator, Sites: []string{"A"}})
	if err := f.h.audit(c, "response.put", "response:left", "A", "submitted"); err != nil {
		t.Fatalf("audit after the caller left: %v", err)
	}
	entries, _, err := f.st.Audit(context.Background(), store.AuditFilter{Target: "response:left"})
	if err != nil || len(entries) != 1 || entries[0].Actor != "coordinator A" {
		t.Errorf("audit trail: %+v, %v; want the one entry", entries, err)
	}
}

// A request its caller abandoned is recorded as 499 and logged as such,
// not as a failure of the server.
func TestErrorHandler_CallerWhoLeftIsNotAServerFailure(t *testing.T) {
	var logs bytes.Buffer
	handle := errorHandler(slog.New(slog.NewTextHandler(&logs, nil)))
	tests := []struct {
		name       string
		callerLeft bool
		err        error
		wantStatus int
		wantLog    string
	}{
		{name: "caller left", callerLeft: true, err: fmt.Errorf("read child: %w", context.Canceled), wantStatus: statusCallerLeft, wantLog: "abandoned"},
		{name: "cancelled while the caller waits", err: fmt.Errorf("read child: %w", context.Canceled), wantStatus: http.StatusInternalServerError, wantLog: "request failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logs.Reset()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tt.callerLeft {
				cancel()
			}
			rec := httptest.NewRecorder()
			c := echo.New().NewContext(httptest.NewRequestWithContext(ctx, http.MethodGet, "/api/v1/children/C1", nil), rec)
			handle(tt.err, c)
			if rec.Code != tt.wantStatus || !strings.Contains(logs.String(), tt.wantLog) {
				t.Errorf("status %d, log %q; want %d and %q", rec.Code, logs.String(), tt.wantStatus, tt.wantLog)
			}
		})
	}
}
