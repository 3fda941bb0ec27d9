package api

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/lifelong-links/sct/forms"
	"github.com/lifelong-links/sct/internal/access"
	"github.com/lifelong-links/sct/internal/auth"
	"github.com/lifelong-links/sct/internal/form"
	"github.com/lifelong-links/sct/internal/store"
	"github.com/lifelong-links/sct/internal/store/storetest"
	"github.com/lifelong-links/sct/internal/submission"
	"github.com/lifelong-links/sct/static"
)

// Words that identify people in the site-A fixture. No caller outside site A
// may ever see them, and evaluators never.
var secrets = []string{"Nanna-Secret", "Neighbour-Secret", "Mr-Secret-K"}

const (
	respA  = "5f0e2d1c-3b4a-4c5d-9e6f-7a8b9c0d1e2f" // CA1's baseline, site A
	respYP = "6a1f3e2d-4c5b-4d6e-8f70-8b9cad0e1f20" // the site-B young person's response
)

type fixture struct {
	srv     *httptest.Server
	st      *store.Store
	tokens  map[string]string // by caller name
	userIDs map[string]string // the staff callers' accounts, by caller name
	userA   store.User
	h       *handlers
}

// The fixture's webhook, of site A, and one of its deliveries.
const (
	fixtureHook     = "7d1f3a5b-9c2e-4f60-8a1b-2c3d4e5f6a7b"
	fixtureDelivery = "msg_0123456789abcdef0123456789abcdef"
)

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, reg := openStore(t, nil)
	spec, _ := auth.GenerateKeySpec(time.Now())
	keys, err := auth.ParseKeys(spec)
	if err != nil {
		t.Fatal(err)
	}
	tokens := auth.NewTokens(keys, "sct", time.Now)
	srv := serveAPI(t, Deps{Forms: reg, Store: st, Tokens: tokens, Logger: log, Static: static.FS()})
	f := &fixture{srv: srv, st: st, tokens: map[string]string{}, userIDs: map[string]string{}}
	f.h = &handlers{forms: reg, store: st, tokens: tokens, pages: pages(static.FS())}

	for _, s := range []string{"A", "B"} {
		if _, err := st.CreateSite(ctx, store.Site{Code: s, Name: "Site " + s}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.CreateWebhook(ctx, store.Webhook{ID: fixtureHook, URL: "https://receiver.example.org/hook",
		Events: []string{"response.submitted"}, Sites: []string{"A"}, Secret: "whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0"}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.RecordDelivery(ctx, store.Delivery{ID: fixtureDelivery, WebhookID: fixtureHook, Type: "response.submitted",
		Key: respA, Seq: 1, Body: `{"type":"response.submitted"}`, Site: "A", NextAt: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []store.Child{{ID: "CA1", Site: "A", Group: "lifelong_links"}, {ID: "CB1", Site: "B", Group: "comparison"}} {
		if _, err := st.CreateChild(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	answers := `{"nominees":[{"name":"Nanna-Secret","relationship":"grandparent"},{"name":"N","relationship":"other","other_text":"Neighbour-Secret"}],
		"key_people":[{"nominee":0,"reason":"important","support":{"trust":4},"let_down":1},
		              {"name":"Mr-Secret-K","relationship":"school_staff","reason":"support","support":{"advice":3}}],
		"adequacy":{"emotional":3}}`
	svc := submission.New(reg, st, time.Now)
	if _, _, err := svc.Put(ctx, respA, submission.Request{Form: "sct", Version: "1", ChildID: "CA1", Timepoint: "baseline",
		CompletedOn: "2019-06-14", Mode: "paper", Status: "submitted", Answers: json.RawMessage(answers)}, submission.Reach{}); err != nil {
		t.Fatal(err)
	}
	f.userA, err = st.CreateUser(ctx, store.User{ID: uuid.NewString(), Email: "a@example.org", PasswordHash: "x", Role: "coordinator", Sites: []string{"A"}})
	if err != nil {
		t.Fatal(err)
	}
	maker := staffUser(t, st, "coordinator", "B") // who made the young person's link
	sess, err := st.CreateSession(ctx, store.Session{ID: uuid.NewString(), CodeHash: "h", ChildID: "CB1", Site: "B",
		ResponseID: respYP, Form: "sct", Version: "1", Timepoint: "baseline", Wave: 1, ExpiresAt: time.Now().Add(time.Hour), CreatedBy: maker.ID})
	if err != nil {
		t.Fatal(err)
	}
	issue := func(name string, c auth.Claims) {
		tok, _, err := tokens.Issue(c, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		f.tokens[name] = tok
	}
	sub := func(s string) auth.Claims { c := auth.Claims{}; c.Subject = s; return c }
	for name, c := range map[string]auth.Claims{
		"coordinator A":  {Role: "coordinator", Sites: []string{"A"}},
		"coordinator B":  {Role: "coordinator", Sites: []string{"B"}},
		"site lead B":    {Role: "site_lead", Sites: []string{"B"}},
		"evaluator":      {Role: "evaluator"},
		"admin":          {Role: "admin"},
		"young person B": {Role: "young_person", Sites: []string{"B"}, Session: sess.ID, Child: "CB1", Response: respYP},
	} {
		subject := name
		if c.Role != "young_person" {
			u := staffUser(t, st, c.Role, c.Sites...)
			f.userIDs[name], subject = u.ID, u.ID
		}
		c.RegisteredClaims = sub(subject).RegisteredClaims
		issue(name, c)
	}
	return f
}

// The API's tests run on the embedded store, then in MongoDB mode.
func TestMain(m *testing.M) { os.Exit(storetest.RunBoth(m)) }

// openStore opens a fresh store for a test, stamping records
// with now (nil: the clock), and loads the published forms.
func openStore(t *testing.T, now func() time.Time) (*store.Store, *form.Registry) {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := store.Open(context.Background(), storetest.Fresh(t, store.Options{Database: "test", Logger: log, Now: now}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close(context.Background()) })
	reg, err := form.Load(forms.FS())
	if err != nil {
		t.Fatal(err)
	}
	return st, reg
}

// staffUser stores an account with the given role and sites, for a token
// made in a test to stand for.
func staffUser(tb testing.TB, st *store.Store, role string, sites ...string) store.User {
	tb.Helper()
	id := uuid.NewString()
	u, err := st.CreateUser(context.Background(), store.User{ID: id, Email: id + "@example.org", PasswordHash: "x", Role: role, Sites: sites})
	if err != nil {
		tb.Fatal(err)
	}
	return u
}

func (f *fixture) do(t *testing.T, caller, method, path, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, f.srv.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if caller != "" {
		req.Header.Set("Authorization", "Bearer "+f.tokens[caller])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// aimAtSiteA fills a route's parameters, query and body so that the request
// touches site A's records.
func (f *fixture) aimAtSiteA(r route) (path, body string) {
	path = r.path
	switch {
	case strings.HasPrefix(path, "/api/v1/children/:id"):
		path = strings.Replace(path, ":id", "CA1", 1)
	case strings.HasPrefix(path, "/api/v1/responses/:id"):
		path = strings.Replace(path, ":id", respA, 1)
	case strings.HasPrefix(path, "/api/v1/users/:id"):
		path = strings.Replace(path, ":id", f.userA.ID, 1)
	case strings.HasPrefix(path, "/api/v1/sites/:code"):
		path = strings.Replace(path, ":code", "A", 1)
	case strings.HasPrefix(path, "/api/v1/webhooks/:id"):
		path = strings.Replace(path, ":id", fixtureHook, 1)
		path = strings.Replace(path, ":delivery", fixtureDelivery, 1)
	}
	if r.scope == querySite {
		path += "?timepoint=baseline&site=A"
	}
	switch {
	case r.method == http.MethodPut && r.scope == responseParam:
		body = `{"form":"sct","version":"1","child_id":"CA1","timepoint":"baseline","completed_on":"2019-06-15","mode":"paper","status":"submitted","answers":{}}`
	case r.path == "/api/v1/children":
		body = `{"id":"CNEW","site":"A","group":"comparison"}`
	case r.path == "/api/v1/users":
		body = `{"email":"new@example.org","role":"coordinator","sites":["A"],"password":"a long enough password"}`
	case r.method == http.MethodPatch:
		body = `{"disabled":true}`
	case r.path == "/api/v1/sites":
		body = `{"code":"Q","name":"Q"}`
	default:
		body = `{}`
	}
	return path, body
}

// Every route is in the route table with a permission that means something;
// a route added any other way, or without a permission, fails here.
func TestRoutes_AllDeclaredWithPermission(t *testing.T) {
	f := newFixture(t)
	declared := map[string]route{}
	for _, r := range f.h.routes() {
		declared[r.method+" "+r.path] = r
		granted := false
		for _, role := range append(access.StaffRoles(), access.YoungPerson) {
			granted = granted || slices.Contains(access.Granted(role), r.perm)
		}
		if r.perm != access.PermPublic && r.perm != access.PermSignedIn && !granted {
			t.Errorf("%s %s: permission %q is granted to no role", r.method, r.path, r.perm)
		}
	}
	e := mustNew(t, Deps{Forms: f.h.forms, Store: f.st, Static: static.FS(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	for _, r := range e.Routes() {
		if _, ok := declared[r.Method+" "+r.Path]; !ok {
			t.Errorf("%s %s is routed but not in the route table", r.Method, r.Path)
		}
	}
}

// For every route and every caller from another site, a request aimed at
// site A's records is refused and shows nothing of them, and changes nothing.
func TestRoutes_OtherSiteCallersGetNothing(t *testing.T) {
	f := newFixture(t)
	for _, r := range f.h.routes() {
		if r.perm == access.PermPublic {
			continue
		}
		for _, caller := range []string{"", "coordinator B", "site lead B", "young person B"} {
			name := r.method + " " + r.path + " as " + caller
			if caller == "" {
				name += "nobody"
			}
			t.Run(name, func(t *testing.T) {
				path, body := f.aimAtSiteA(r)
				status, got := f.do(t, caller, r.method, path, body)
				switch {
				case caller == "" && status != http.StatusUnauthorized:
					t.Errorf("status %d without a token, want 401", status)
				case r.scope != noSite && status != http.StatusForbidden && status != http.StatusNotFound && status != http.StatusUnauthorized:
					t.Errorf("status %d, want 403 or 404; body %s", status, got)
				case r.scope == noSite && status < 400 && !slices.Contains([]string{"/api/v1/sites", "/api/v1/auth/me", "/api/v1/calendar"}, r.path):
					t.Errorf("status %d for a route %s may not use; body %s", status, caller, got)
				}
				for _, leak := range append([]string{"CA1", respA, f.userA.ID}, secrets...) {
					if strings.Contains(got, leak) {
						t.Errorf("body shows %q: %s", leak, got)
					}
				}
			})
		}
	}
	ctx := context.Background()
	if r, err := f.st.Response(ctx, respA); err != nil || r.Revision != 1 || r.CompletedOn != "2019-06-14" {
		t.Errorf("site A's response changed: %+v %v", r, err)
	}
	if _, err := f.st.Child(ctx, "CNEW"); err == nil {
		t.Error("a child was created in site A by another site")
	}
	if u, err := f.st.User(ctx, f.userA.ID); err != nil || u.Disabled {
		t.Errorf("site A's user changed: %+v %v", u, err)
	}
	if sites, _ := f.st.Sites(ctx); len(sites) != 2 {
		t.Errorf("sites %v, want A and B only", sites)
	}
}

// Whatever an evaluator may read carries no names or free text, yet the
// pseudonymised answers are there.
func TestEvaluator_NeverSeesNames(t *testing.T) {
	f := newFixture(t)
	read := 0
	for _, r := range f.h.routes() {
		if r.method != http.MethodGet {
			continue
		}
		path, _ := f.aimAtSiteA(r)
		status, got := f.do(t, "evaluator", r.method, path, "")
		if status == http.StatusOK {
			read++
		}
		for _, s := range secrets {
			if strings.Contains(got, s) {
				t.Errorf("%s shows %q to an evaluator: %s", path, s, got)
			}
		}
		if r.path == "/api/v1/responses/:id" && (status != http.StatusOK || !strings.Contains(got, `"relationship":"school_staff"`)) {
			t.Errorf("evaluator's view of a response: %d %s; want the pseudonymised answers", status, got)
		}
	}
	if read < 4 {
		t.Errorf("evaluator could read only %d routes; the check saw too little", read)
	}
	// Its own site sees the names: their absence above is redaction.
	if status, got := f.do(t, "coordinator A", "GET", "/api/v1/responses/"+respA, ""); status != http.StatusOK || !strings.Contains(got, secrets[0]) {
		t.Errorf("coordinator A's view: %d %s; want the names", status, got)
	}
}

// serveAPI builds the API and serves it on a free local port. The port's
// address is added to d.AllowedHosts, as the server adds its listen address:
// requests to it may make links.
func serveAPI(tb testing.TB, d Deps) *httptest.Server {
	tb.Helper()
	srv := httptest.NewUnstartedServer(nil)
	d.AllowedHosts = append(d.AllowedHosts, srv.Listener.Addr().String())
	srv.Config.Handler = mustNew(tb, d)
	srv.Start()
	tb.Cleanup(srv.Close)
	return srv
}

// mustNew builds the API or stops the test.
func mustNew(tb testing.TB, d Deps) *echo.Echo {
	tb.Helper()
	e, err := New(d)
	if err != nil {
		tb.Fatal(err)
	}
	return e
}
