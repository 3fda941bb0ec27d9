package api

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/lifelong-links/sct/internal/logbuf"
	"github.com/lifelong-links/sct/internal/store"
)

// send makes one request with the given headers and returns the answer
// with its body read.
func (f *fixture) send(t *testing.T, method, path, body string, header map[string]string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(method, f.srv.URL+path, strings.NewReader(body))
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

// No API answer may be kept by a browser or a proxy: most hold personal
// data. Only a form definition, which holds none, may be cached.
func TestAPI_AnswersAreNotStored(t *testing.T) {
	f := newFixture(t)
	for _, r := range f.h.routes() {
		if !strings.HasPrefix(r.path, "/api/v1/") {
			continue
		}
		for _, caller := range []string{"", "coordinator A", "admin", "evaluator"} {
			path, body := f.aimAtSiteA(r)
			header := map[string]string{"Content-Type": "application/json"}
			if caller != "" {
				header["Authorization"] = "Bearer " + f.tokens[caller]
			}
			res, got := f.send(t, r.method, path, body, header)
			want := "no-store"
			if r.path == "/api/v1/forms/:form/versions/:version" && res.StatusCode == http.StatusOK {
				want = "public, no-cache"
			}
			if cc := res.Header.Get("Cache-Control"); cc != want {
				t.Errorf("%s %s as %q: %d with Cache-Control %q, want %q (%.80s)", r.method, path, caller, res.StatusCode, cc, want, got)
			}
		}
	}
}

// Every route that takes a body refuses one not declared JSON, whoever
// calls: what another site's page can send without asking first.
func TestAPI_RefusesBodiesNotDeclaredJSON(t *testing.T) {
	f := newFixture(t)
	types := map[string]string{
		"text":            "text/plain;charset=UTF-8",
		"form":            "application/x-www-form-urlencoded",
		"multipart":       "multipart/form-data; boundary=x",
		"no type":         "",
		"json in latin-1": "application/json; charset=iso-8859-1",
		"json-ish":        "application/jsonp",
		"not parseable":   "application/json; ;",
	}
	for _, r := range f.h.routes() {
		if r.method == http.MethodGet || !strings.HasPrefix(r.path, "/api/") {
			continue
		}
		for name, ct := range types {
			for _, caller := range []string{"", "coordinator A"} {
				path, body := f.aimAtSiteA(r)
				if body == "" || body == "{}" {
					body = `{"email":"a@example.org","password":"wrong password here"}`
				}
				header := map[string]string{}
				if ct != "" {
					header["Content-Type"] = ct
				}
				if caller != "" {
					header["Authorization"] = "Bearer " + f.tokens[caller]
				}
				res, got := f.send(t, r.method, path, body, header)
				if res.StatusCode != http.StatusUnsupportedMediaType || !strings.Contains(got, "application/json") {
					t.Errorf("%s %s with %s as %q: %d %s; want 415", r.method, r.path, name, caller, res.StatusCode, got)
				}
			}
		}
	}
	// JSON with or without its charset still goes through.
	for _, ct := range []string{"application/json", "application/json; charset=utf-8", "Application/JSON; charset=UTF-8"} {
		res, got := f.send(t, "POST", "/api/v1/auth/login", `{"email":"a@example.org","password":"wrong password here"}`, map[string]string{"Content-Type": ct})
		if res.StatusCode != http.StatusUnauthorized {
			t.Errorf("login with %q: %d %s; want 401", ct, res.StatusCode, got)
		}
	}
}

// The request log says the status the client was sent.
func TestRequestLog_RecordsTheStatusSent(t *testing.T) {
	f := newFixture(t)
	var logged logbuf.Buffer
	e := mustNew(t, Deps{Forms: f.h.forms, Store: f.st, Tokens: f.h.tokens, Logger: slog.New(slog.NewTextHandler(&logged, nil))})
	srv := httptest.NewServer(e)
	defer srv.Close()
	for _, tc := range []struct {
		method, path, body string
		status             string
	}{
		{"GET", "/api/v1/users", "", "status=401"},
		{"GET", "/api/v1/responses/not-a-uuid", "", "status=401"},
		{"POST", "/api/v1/auth/login", `{"email":"x"}`, "status=422"},
		{"POST", "/api/v1/auth/login", `text`, "status=415"},
		{"GET", "/api/v1/nothing-here", "", "status=404"},
		{"GET", "/healthz", "", "status=200"},
	} {
		before := len(logged.String())
		req, _ := http.NewRequest(tc.method, srv.URL+tc.path, strings.NewReader(tc.body))
		if strings.HasPrefix(tc.body, "{") {
			req.Header.Set("Content-Type", "application/json")
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		line := logged.String()[before:]
		if !strings.Contains(line, "path="+tc.path) || !strings.Contains(line, tc.status) {
			t.Errorf("%s %s answered %d, logged %q; want %s", tc.method, tc.path, res.StatusCode, line, tc.status)
		}
	}
}

// A client's request id is kept only if it is a short safe token; anything
// else is replaced by one the server makes, in the answer and the audit.
func TestRequestID_OnlyASafeTokenIsKept(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		name, sent string
		kept       bool
	}{
		{"a plain token", "req-42.a_b:c", true},
		{"too long", strings.Repeat("a", 65), false},
		{"spaces", "a b", false},
		{"markup", "<script>", false},
		{"not ASCII", "réq", false},
		{"a forged log field", `x" status=200 actor="admin`, false},
		{"a tab", "a\tb", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			email := strings.ToLower(strings.ReplaceAll(tc.name, " ", "-")) + "@example.org"
			res, _ := f.send(t, "POST", "/api/v1/auth/login", `{"email":"`+email+`","password":"wrong password here"}`,
				map[string]string{"Content-Type": "application/json", "X-Request-ID": tc.sent})
			got := res.Header.Get("X-Request-ID")
			if tc.kept != (got == tc.sent) || !regexp.MustCompile(`^[A-Za-z0-9._:-]{1,64}$`).MatchString(got) {
				t.Errorf("sent %q, answered with %q; kept should be %v", tc.sent, got, tc.kept)
			}
			entries, _, err := f.st.Audit(context.Background(), store.AuditFilter{Actor: "email:" + email, Limit: 1})
			if err != nil || len(entries) != 1 || entries[0].RequestID != got {
				t.Errorf("audit %+v %v; want the request id %q", entries, err, got)
			}
		})
	}
}
