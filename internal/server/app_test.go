package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/lifelong-links/sct/forms"
	"github.com/lifelong-links/sct/internal/config"
	"github.com/lifelong-links/sct/internal/store"
	"github.com/lifelong-links/sct/internal/store/storetest"
)

// The server's scenario tests run on the embedded store, then in MongoDB
// mode.
func TestMain(m *testing.M) { os.Exit(storetest.RunBoth(m)) }

// testServer is the fully wired server on the embedded store, on a free port.
type testServer struct {
	base   string
	stop   func() error
	tokens map[string]string // access tokens by user name (see addUsers)
	st     *store.Store      // the server's open store, for what the API does not show
}

const (
	adminEmail    = "admin@example.org"
	adminPassword = "correct horse battery"
	userPassword  = "a long enough password"
)

func startServer(t *testing.T, dataDir string, definitions fs.FS) *testServer {
	t.Helper()
	s, err := startServerErr(t, dataDir, definitions)
	if err != nil {
		t.Fatalf("start server: %v", err)
	}
	return s
}

func startServerErr(t *testing.T, dataDir string, definitions fs.FS) (*testServer, error) {
	t.Helper()
	return startServerWith(t, dataDir, definitions, nil)
}

// startServerWith starts the server with the test settings, changed by
// change if it is set.
func startServerWith(t *testing.T, dataDir string, definitions fs.FS, change func(*config.Settings)) (*testServer, error) {
	t.Helper()
	settings := config.Defaults()
	settings.Addr = "127.0.0.1:0"
	settings.DataDir = dataDir
	settings.ShutdownTimeout = 5 * time.Second
	settings.BootstrapAdminEmail, settings.BootstrapAdminPassword = adminEmail, adminPassword
	if storetest.MongoDB() {
		// The URI path, with a database of the data directory's own, so
		// that a restart on the same directory finds the same data. (The
		// signing keys are still kept in the directory.)
		o := storetest.At(dataDir, store.Options{Database: settings.Database})
		settings.MongoDBURI, settings.Database = o.URI, o.Database
	}
	if change != nil {
		change(&settings)
	}
	ctx, cancel := context.WithCancel(context.Background())
	type started struct {
		addr string
		st   *store.Store
	}
	ready := make(chan started, 1)
	done := make(chan error, 1)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	go func() {
		done <- Run(ctx, settings, log, Options{Started: func(a string, st *store.Store) { ready <- started{a, st} }, Definitions: definitions})
	}()
	select {
	case up := <-ready:
		s := &testServer{base: "http://" + up.addr, tokens: map[string]string{}, st: up.st}
		var stopped bool
		s.stop = func() error {
			if stopped {
				return nil
			}
			stopped = true
			cancel()
			return <-done
		}
		t.Cleanup(func() { _ = s.stop() })
		return s, nil
	case err := <-done:
		cancel()
		return nil, err
	case <-time.After(60 * time.Second):
		cancel()
		return nil, errors.New("server did not start within 60s")
	}
}

// do sends a request as the first signed-in user named in as ("" for
// nobody) and returns the status and body.
func (s *testServer) do(t *testing.T, method, path, body string, as ...string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, s.base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if len(as) > 0 && as[0] != "" {
		tok, ok := s.tokens[as[0]]
		if !ok {
			t.Fatalf("no signed-in user %q", as[0])
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

// login signs a user in and keeps their access token under name.
func (s *testServer) login(t *testing.T, name, email, password string) map[string]any {
	t.Helper()
	status, body := s.do(t, "POST", "/api/v1/auth/login", fmt.Sprintf(`{"email":%q,"password":%q}`, email, password))
	if status != 200 {
		t.Fatalf("login %s: %d %s", email, status, body)
	}
	var out map[string]any
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatal(err)
	}
	s.tokens[name] = out["access_token"].(string)
	return out
}

// addUsers signs the bootstrap admin in as "admin", creates sites A, B and
// M, and signs in one user of each role: "coordA" and "leadA" (site A),
// "coordB" (site B) and "evaluator".
func (s *testServer) addUsers(t *testing.T) {
	t.Helper()
	s.login(t, "admin", adminEmail, adminPassword)
	for _, site := range []string{"A", "B", "M"} {
		if st, b := s.do(t, "POST", "/api/v1/sites", fmt.Sprintf(`{"code":%q,"name":"Site %s"}`, site, site), "admin"); st != 201 {
			t.Fatalf("site %s: %d %s", site, st, b)
		}
	}
	for _, u := range []struct{ name, role, sites string }{
		{"coordA", "coordinator", `["A"]`}, {"leadA", "site_lead", `["A"]`},
		{"coordB", "coordinator", `["B"]`}, {"evaluator", "evaluator", `[]`},
	} {
		email := strings.ToLower(u.name) + "@example.org"
		body := fmt.Sprintf(`{"email":%q,"role":%q,"sites":%s,"password":%q}`, email, u.role, u.sites, userPassword)
		if st, b := s.do(t, "POST", "/api/v1/users", body, "admin"); st != 201 {
			t.Fatalf("user %s: %d %s", u.name, st, b)
		}
		s.login(t, u.name, email, userPassword)
	}
}

// scenario is one HTTP exchange and what must and must not come back.
type scenario struct {
	name         string
	as           string // the signed-in user; "" for none
	method, path string
	body         string
	status       int
	want, absent []string
}

func runScenarios(t *testing.T, s *testServer, scenarios []scenario) {
	t.Helper()
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			status, body := s.do(t, sc.method, sc.path, sc.body, sc.as)
			if status != sc.status {
				t.Fatalf("status %d, want %d; body %s", status, sc.status, body)
			}
			for _, w := range sc.want {
				if !bytes.Contains(body, []byte(w)) {
					t.Errorf("body lacks %s\nbody: %s", w, body)
				}
			}
			for _, a := range sc.absent {
				if bytes.Contains(body, []byte(a)) {
					t.Errorf("body has %s\nbody: %s", a, body)
				}
			}
		})
	}
}

const (
	idA = "3b241101-e2bb-4255-8caf-4136c566a962"
	idB = "9f1c6a2e-5d4b-4c3a-9e8f-7a6b5c4d3e2f"
	idC = "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f"
)

func sctRequest(child, timepoint, completed, status, answers string) string {
	return fmt.Sprintf(`{"form":"sct","version":"1","child_id":%q,"timepoint":%q,"completed_on":%q,"mode":"paper","status":%q,"answers":%s}`,
		child, timepoint, completed, status, answers)
}

const firstAnswers = `{"nominees":[{"name":"Nan","relationship":"grandparent"},{"name":"Mum","relationship":"biological_mother"}],
	"key_people":[{"nominee":0,"reason":"important","support":{"emotional":4,"trust":4},"let_down":1}],
	"adequacy":{"emotional":3}}`

func TestAPI_ChildrenAndResponses(t *testing.T) {
	s := startServer(t, t.TempDir(), forms.FS())
	s.addUsers(t)
	submitted := sctRequest("C123", "baseline", "2019-06-14", "submitted", firstAnswers)
	revised := strings.Replace(submitted, `"let_down":1`, `"let_down":2`, 1)
	runScenarios(t, s, []scenario{
		{name: "health", method: "GET", path: "/healthz", status: 200, want: []string{`"ok"`}},
		{name: "ready while the store answers", method: "GET", path: "/readyz", status: 200, want: []string{`"ready"`}},
		{name: "forms are listed", method: "GET", path: "/api/v1/forms", status: 200,
			want: []string{`"form":"sct"`, `"form":"practice-summary"`, `"version":"2"`}},
		{name: "a form version is served", method: "GET", path: "/api/v1/forms/sct/versions/1", status: 200,
			want: []string{`"max_items":20`, `"biological_mother"`, `"Do they believe in you?"`}},
		{name: "an unknown form version is 404", method: "GET", path: "/api/v1/forms/sct/versions/7", status: 404},
		{name: "register a child", as: "coordA", method: "POST", path: "/api/v1/children", status: 201,
			body: `{"id":"C123","site":"A","group":"lifelong_links"}`, want: []string{`"id":"C123"`, `"site":"A"`}},
		{name: "a child ID is registered once", as: "coordA", method: "POST", path: "/api/v1/children", status: 409,
			body: `{"id":"C123","site":"A","group":"comparison"}`},
		{name: "a child needs a known group and a valid ID", as: "coordA", method: "POST", path: "/api/v1/children", status: 422,
			body: `{"id":"C 9","site":"A","group":"control"}`,
			want: []string{`{"path":"id","reason":"must be letters, digits`, `{"path":"group","reason":"must be one of lifelong_links, comparison"}`}},
		{name: "an administrator does not register children", as: "admin", method: "POST", path: "/api/v1/children", status: 403,
			body: `{"id":"C9","site":"A","group":"comparison"}`},
		{name: "a coordinator cannot register a child in another site", as: "coordA", method: "POST", path: "/api/v1/children", status: 403,
			body: `{"id":"C9","site":"B","group":"comparison"}`},
		{name: "a child body may not carry unknown fields such as a name", as: "coordA", method: "POST", path: "/api/v1/children", status: 400,
			body: `{"id":"C9","site":"A","group":"comparison","name":"Amy"}`, want: []string{`"path":"name"`}},
		{name: "read a child", as: "coordA", method: "GET", path: "/api/v1/children/C123", status: 200, want: []string{`"group":"lifelong_links"`}},
		{name: "an unknown child is 404", as: "coordA", method: "GET", path: "/api/v1/children/NOPE", status: 404},
		{name: "submit an SCT", as: "coordA", method: "PUT", path: "/api/v1/responses/" + idA, body: submitted, status: 201,
			want: []string{`"revision":1`, `"site":"A"`, `"status":"submitted"`}, absent: []string{"body_hash", "slot", "inputs"}},
		{name: "a retry is stored once", as: "coordA", method: "PUT", path: "/api/v1/responses/" + idA, body: submitted, status: 200,
			want: []string{`"revision":1`}},
		{name: "a changed body is a new revision", as: "coordA", method: "PUT", path: "/api/v1/responses/" + idA, body: revised, status: 200,
			want: []string{`"revision":2`, `"let_down":2`}},
		{name: "history keeps both revisions", as: "coordA", method: "GET", path: "/api/v1/responses/" + idA + "/revisions", status: 200,
			want: []string{`"revision":1`, `"let_down":1`, `"revision":2`, `"let_down":2`}},
		{name: "read the response", as: "coordA", method: "GET", path: "/api/v1/responses/" + idA, status: 200,
			want: []string{`"child_id":"C123"`, `"name":"Nan"`}},
		{name: "a second SCT for the same child and timepoint is refused", as: "coordA", method: "PUT", path: "/api/v1/responses/" + idB,
			body: submitted, status: 409, want: []string{"revise that response"}},
		{name: "nothing half-written after the refusal", as: "coordA", method: "GET", path: "/api/v1/responses/" + idB, status: 404},
		{name: "a submitted response cannot become a draft", as: "coordA", method: "PUT", path: "/api/v1/responses/" + idA,
			body: strings.Replace(revised, `"submitted"`, `"draft"`, 1), status: 409},
		{name: "a draft may be incomplete", as: "coordA", method: "PUT", path: "/api/v1/responses/" + idC, status: 201,
			body: `{"form":"sct","version":"1","child_id":"C123","mode":"online","status":"draft","answers":{"nominees":[{"name":"Jo"}]}}`,
			want: []string{`"status":"draft"`, `"revision":0`}},
		{name: "the id must be a version 4 UUID", as: "coordA", method: "PUT", path: "/api/v1/responses/1234", body: submitted, status: 400,
			want: []string{`"path":"id"`}},
		{name: "malformed JSON is 400", as: "coordA", method: "PUT", path: "/api/v1/responses/" + idB, body: `{"form":`, status: 400},
		{name: "a wrong type names the field", as: "coordA", method: "PUT", path: "/api/v1/responses/" + idB, status: 400,
			body: `{"form":"sct","version":1}`, want: []string{`"path":"version","reason":"must be text"`}},
		{name: "unknown fields are refused", as: "coordA", method: "PUT", path: "/api/v1/responses/" + idB, status: 400,
			body: strings.Replace(submitted, `"mode"`, `"colour":"red","mode"`, 1), want: []string{`"path":"colour"`}},
		{name: "a body over 1 MiB is refused", as: "coordA", method: "PUT", path: "/api/v1/responses/" + idB, status: 413,
			body: `{"form":"` + strings.Repeat("x", 1<<20) + `"}`},
		{name: "every answer fault is listed with its path", as: "coordA", method: "PUT", path: "/api/v1/responses/" + idB, status: 422,
			body: sctRequest("C123", "follow_up", "2019-07-01", "submitted", `{"nominees":[{"relationship":"aunt"}],
				"key_people":[{"nominee":4,"reason":"important","support":{"trust":5}}]}`),
			want: []string{
				`{"path":"answers.nominees[0].relationship","reason":"must be one of`,
				`{"path":"answers.key_people[0].nominee","reason":"points at nominees[4], but nominees has 1 entries"}`,
				`{"path":"answers.key_people[0].support.trust","reason":"must be a rating of 1 (not at all)`,
			}},
		{name: "an unknown form version is named", as: "coordA", method: "PUT", path: "/api/v1/responses/" + idB, status: 422,
			body: strings.Replace(submitted, `"version":"1"`, `"version":"3"`, 1),
			want: []string{`{"path":"version","reason":"form sct has no version \"3\"; published: 1"}`}},
		{name: "a follow-up before the baseline date is refused", as: "coordA", method: "PUT", path: "/api/v1/responses/" + idB, status: 422,
			body: sctRequest("C123", "follow_up", "2019-06-01", "submitted", `{}`),
			want: []string{`{"path":"completed_on","reason":"is 2019-06-01, before this child's baseline (2019-06-14)"}`}},
		{name: "a follow-up after the baseline is accepted", as: "coordA", method: "PUT", path: "/api/v1/responses/" + idB, status: 201,
			body: sctRequest("C123", "follow_up", "2020-01-10", "submitted", `{}`), want: []string{`"wave":1`}},
		{name: "the summary needs a timepoint", as: "leadA", method: "GET", path: "/api/v1/summaries/sct", status: 422,
			want: []string{`{"path":"timepoint","reason":"is required"}`}},
		{name: "the summary refuses unknown filters", as: "leadA", method: "GET", path: "/api/v1/summaries/sct?timepoint=baseline&colour=red", status: 400},
		{name: "the summary refuses from after to", as: "leadA", method: "GET", path: "/api/v1/summaries/sct?timepoint=baseline&from=2020-01-01&to=2019-01-01", status: 422},
		{name: "the summary counts the latest revision once", as: "leadA", method: "GET", path: "/api/v1/summaries/sct?timepoint=baseline", status: 200,
			want: []string{`"respondents":1`, `"strain":{"base":1,"not_at_all_or_not_really":1`}, absent: []string{"Nan"}},
		{name: "unknown API paths are JSON 404s", as: "coordA", method: "GET", path: "/api/v1/nothing", status: 404, want: []string{`"error":"not found"`}},
		{name: "the placeholder page is served", method: "GET", path: "/", status: 200, want: []string{"Social Connections Tool"}},
	})
}

// The fixture for the summary test. By hand, baseline (drafts never count):
//
//	R1 C1 site A lifelong_links 2019-06-14: nominees mother, sibling, sibling, friend (4);
//	   key: nominee 0 (mother) emotional 4 practical 2 let_down 1; nominee 1 (sibling) emotional 3 let_down 2;
//	   adequacy emotional 3, practical 1
//	R2 C2 site A comparison 2019-07-01: nominees grandparent, foster carer (2);
//	   key: nominee 1 (foster carer) emotional 1 practical 4 let_down 4; new school staff, emotional 2;
//	   adequacy emotional 2 (practical skipped)
//	R3 C3 site B lifelong_links 2019-08-20: nobody named; adequacy emotional 3, practical 3
//
//	respondents 3; nominee base 2 (R1, R2): sizes 4, 2 → mean 3, sd √(((4−3)²+(2−3)²)/1) = √2
//	mother, sibling, friend, grandparent, foster carer: 1 each of 2 → 50%
//	key-people base 2: mother, sibling, foster carer, school staff: 1 each → 50%
//	availability emotional: 4, 3, 1, 2 → base 4, probably/definitely 2 → 50%
//	availability practical: 2, 4 → base 2, 1 → 50%; advice: base 0 → null
//	strain: 1, 2, 4 → base 3, not at all/not really 2 (66.67%), probably/definitely 1 (33.33%)
//	adequacy emotional: 3, 2, 3 → total 3, no one 0, too few 1 (33.33%), enough 2 (66.67%)
//	adequacy practical: 1, 3 → total 2, no one 1 (50%), enough 1 (50%)
var summaryFixture = []struct{ id, child, site, group, completed, status, answers string }{
	{"0a9d3a61-0d5e-4d4b-9c2e-1f0e2d3c4b5a", "C1", "A", "lifelong_links", "2019-06-14", "submitted",
		`{"nominees":[{"name":"Mum","relationship":"biological_mother"},{"name":"Sam","relationship":"sibling"},{"name":"Ali","relationship":"sibling"},{"name":"Jo","relationship":"friend"}],
		  "key_people":[{"nominee":0,"reason":"important","support":{"emotional":4,"practical":2},"let_down":1},
		                {"nominee":1,"reason":"important","support":{"emotional":3},"let_down":2}],
		  "adequacy":{"emotional":3,"practical":1}}`},
	{"1b8e4b72-1e6f-4e5c-8d3f-2a1f3e4d5c6b", "C2", "A", "comparison", "2019-07-01", "submitted",
		`{"nominees":[{"name":"Nan","relationship":"grandparent"},{"name":"Pat","relationship":"foster_carer_current"}],
		  "key_people":[{"nominee":1,"reason":"important","support":{"emotional":1,"practical":4},"let_down":4},
		                {"name":"Mr K","relationship":"school_staff","reason":"support","support":{"emotional":2}}],
		  "adequacy":{"emotional":2}}`},
	{"2c7f5c83-2f70-4f6d-be40-3b2a4f5e6d7c", "C3", "B", "lifelong_links", "2019-08-20", "submitted",
		`{"nominees":[],"adequacy":{"emotional":3,"practical":3}}`},
	{"3d6a6d94-3a81-4a7e-af51-4c3b5a6f7e8d", "C4", "B", "comparison", "2019-08-21", "draft",
		`{"nominees":[{"name":"Kim","relationship":"friend"}],"adequacy":{"emotional":1}}`},
}

type share struct {
	Count   int      `json:"count"`
	Percent *float64 `json:"percent"`
}

type sctSummary struct {
	Respondents int `json:"respondents"`
	Nominees    struct {
		Base           int      `json:"base"`
		Mean           *float64 `json:"mean"`
		SD             *float64 `json:"sd"`
		ByRelationship []struct {
			Relationship string   `json:"relationship"`
			Count        int      `json:"count"`
			Percent      *float64 `json:"percent"`
		} `json:"by_relationship"`
	} `json:"nominees"`
	KeyPeople struct {
		Base           int `json:"base"`
		ByRelationship []struct {
			Relationship string `json:"relationship"`
			Count        int    `json:"count"`
		} `json:"by_relationship"`
	} `json:"key_people"`
	Availability []struct {
		Support              string   `json:"support"`
		Base                 int      `json:"base"`
		ProbablyOrDefinitely int      `json:"probably_or_definitely"`
		Percent              *float64 `json:"percent"`
	} `json:"availability"`
	Strain struct {
		Base                        int      `json:"base"`
		NotAtAllOrNotReally         int      `json:"not_at_all_or_not_really"`
		ProbablyOrDefinitely        int      `json:"probably_or_definitely"`
		NotAtAllOrNotReallyPercent  *float64 `json:"not_at_all_or_not_really_percent"`
		ProbablyOrDefinitelyPercent *float64 `json:"probably_or_definitely_percent"`
	} `json:"strain"`
	Adequacy []struct {
		Support string `json:"support"`
		Total   int    `json:"total"`
		NoOne   share  `json:"no_one"`
		TooFew  share  `json:"too_few"`
		Enough  share  `json:"enough"`
	} `json:"adequacy"`
}

func (s *testServer) summary(t *testing.T, query string) sctSummary {
	t.Helper()
	status, body := s.do(t, "GET", "/api/v1/summaries/sct?"+query, "", "evaluator")
	if status != 200 {
		t.Fatalf("summary %s: %d %s", query, status, body)
	}
	var out sctSummary
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func near(p *float64, want float64) bool { return p != nil && math.Abs(*p-want) < 1e-9 }

func seedSummaryFixture(t *testing.T, s *testServer) {
	t.Helper()
	for _, f := range summaryFixture {
		as := "coord" + f.site
		if st, b := s.do(t, "POST", "/api/v1/children", fmt.Sprintf(`{"id":%q,"site":%q,"group":%q}`, f.child, f.site, f.group), as); st != 201 {
			t.Fatalf("child %s: %d %s", f.child, st, b)
		}
		if st, b := s.do(t, "PUT", "/api/v1/responses/"+f.id, sctRequest(f.child, "baseline", f.completed, f.status, f.answers), as); st != 201 {
			t.Fatalf("response %s: %d %s", f.id, st, b)
		}
	}
}

func TestSummary_ReproducesHandComputedTables(t *testing.T) {
	s := startServer(t, t.TempDir(), forms.FS())
	s.addUsers(t)
	seedSummaryFixture(t, s)
	got := s.summary(t, "timepoint=baseline")

	if got.Respondents != 3 || got.Nominees.Base != 2 || !near(got.Nominees.Mean, 3) || !near(got.Nominees.SD, math.Sqrt2) {
		t.Errorf("respondents %d, nominee base %d mean %v sd %v; want 3, 2, 3, √2",
			got.Respondents, got.Nominees.Base, got.Nominees.Mean, got.Nominees.SD)
	}
	wantNamed := map[string]int{"biological_mother": 1, "sibling": 1, "friend": 1, "grandparent": 1, "foster_carer_current": 1}
	if len(got.Nominees.ByRelationship) != 15 {
		t.Errorf("%d relationship rows, want all 15 of the form", len(got.Nominees.ByRelationship))
	}
	for _, row := range got.Nominees.ByRelationship {
		want := wantNamed[row.Relationship]
		if row.Count != want || !near(row.Percent, float64(want)*50) {
			t.Errorf("nominees %s: %d (%v%%), want %d", row.Relationship, row.Count, *row.Percent, want)
		}
	}
	wantKey := map[string]int{"biological_mother": 1, "sibling": 1, "foster_carer_current": 1, "school_staff": 1}
	if got.KeyPeople.Base != 2 {
		t.Errorf("key people base %d, want 2", got.KeyPeople.Base)
	}
	for _, row := range got.KeyPeople.ByRelationship {
		if row.Count != wantKey[row.Relationship] {
			t.Errorf("key people %s: %d, want %d", row.Relationship, row.Count, wantKey[row.Relationship])
		}
	}
	avail := map[string]struct {
		base, yes int
		pct       *float64
	}{}
	for _, a := range got.Availability {
		avail[a.Support] = struct {
			base, yes int
			pct       *float64
		}{a.Base, a.ProbablyOrDefinitely, a.Percent}
	}
	if a := avail["emotional"]; a.base != 4 || a.yes != 2 || !near(a.pct, 50) {
		t.Errorf("availability emotional %+v, want 2 of 4", a)
	}
	if a := avail["practical"]; a.base != 2 || a.yes != 1 || !near(a.pct, 50) {
		t.Errorf("availability practical %+v, want 1 of 2", a)
	}
	if a := avail["advice"]; a.base != 0 || a.pct != nil {
		t.Errorf("availability advice %+v, want base 0 and no percent", a)
	}
	st := got.Strain
	if st.Base != 3 || st.NotAtAllOrNotReally != 2 || st.ProbablyOrDefinitely != 1 ||
		!near(st.NotAtAllOrNotReallyPercent, 200.0/3) || !near(st.ProbablyOrDefinitelyPercent, 100.0/3) {
		t.Errorf("strain %+v, want 2 and 1 of 3", st)
	}
	for _, a := range got.Adequacy {
		switch a.Support {
		case "emotional":
			if a.Total != 3 || a.NoOne.Count != 0 || a.TooFew.Count != 1 || a.Enough.Count != 2 ||
				!near(a.TooFew.Percent, 100.0/3) || !near(a.Enough.Percent, 200.0/3) {
				t.Errorf("adequacy emotional %+v", a)
			}
		case "practical":
			if a.Total != 2 || a.NoOne.Count != 1 || a.Enough.Count != 1 || !near(a.NoOne.Percent, 50) {
				t.Errorf("adequacy practical %+v", a)
			}
		default:
			if a.Total != 0 || a.Enough.Percent != nil {
				t.Errorf("adequacy %s %+v, want nothing answered", a.Support, a)
			}
		}
	}

	filters := []struct {
		name, query                 string
		respondents, base, adequacy int // adequacy: emotional total
	}{
		{"by site", "timepoint=baseline&site=A", 2, 2, 2},
		{"by group", "timepoint=baseline&group=lifelong_links", 2, 1, 2},
		{"by date, both ends inclusive", "timepoint=baseline&from=2019-06-14&to=2019-07-01", 2, 2, 2},
		{"by version", "timepoint=baseline&version=1", 3, 2, 3},
		{"an empty group", "timepoint=baseline&site=M", 0, 0, 0},
		{"another timepoint", "timepoint=follow_up", 0, 0, 0},
	}
	for _, f := range filters {
		t.Run(f.name, func(t *testing.T) {
			got := s.summary(t, f.query)
			if got.Respondents != f.respondents || got.Nominees.Base != f.base || got.Adequacy[0].Total != f.adequacy {
				t.Errorf("respondents %d, nominee base %d, emotional adequacy total %d; want %d, %d, %d",
					got.Respondents, got.Nominees.Base, got.Adequacy[0].Total, f.respondents, f.base, f.adequacy)
			}
			if f.respondents == 0 && (got.Nominees.Mean != nil || got.Adequacy[0].Enough.Percent != nil) {
				t.Error("an empty group must have no mean and no percentages")
			}
		})
	}
}

func TestRestart_KeepsEverything(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, dir, forms.FS())
	s.addUsers(t)
	seedSummaryFixture(t, s)
	_, before := s.do(t, "GET", "/api/v1/summaries/sct?timepoint=baseline", "", "evaluator")
	_, response := s.do(t, "GET", "/api/v1/responses/"+summaryFixture[0].id, "", "coordA")
	if err := s.stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}

	s = startServer(t, dir, forms.FS())
	s.login(t, "evaluator", "evaluator@example.org", userPassword)
	s.login(t, "coordA", "coorda@example.org", userPassword)
	if _, after := s.do(t, "GET", "/api/v1/summaries/sct?timepoint=baseline", "", "evaluator"); !bytes.Equal(before, after) || !bytes.Contains(after, []byte(`"respondents":3`)) {
		t.Errorf("summary changed across a restart:\n%s\n%s", before, after)
	}
	if _, again := s.do(t, "GET", "/api/v1/responses/"+summaryFixture[0].id, "", "coordA"); !bytes.Equal(response, again) {
		t.Errorf("response changed across a restart:\n%s\n%s", response, again)
	}
	if status, _ := s.do(t, "GET", "/api/v1/children/C3", "", "evaluator"); status != 200 {
		t.Errorf("child C3 after restart: %d", status)
	}
}

func TestStart_RefusesChangedPublishedVersion(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, dir, forms.FS())
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	changed := fstest.MapFS{}
	_ = fs.WalkDir(forms.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := fs.ReadFile(forms.FS(), p)
			if p == "sct/1.json" {
				b = bytes.Replace(b, []byte(`"max_items": 20`), []byte(`"max_items": 25`), 1)
			}
			changed[p] = &fstest.MapFile{Data: b}
		}
		return nil
	})
	_, err := startServerErr(t, dir, changed)
	if !errors.Is(err, store.ErrFormChanged) || !strings.Contains(err.Error(), "sct/1.json") {
		t.Fatalf("start with a changed sct version 1: %v; want ErrFormChanged naming sct/1.json", err)
	}
}

func TestStart_RefusesMalformedDefinition(t *testing.T) {
	broken := fstest.MapFS{"sct/1.json": {Data: []byte(`{"form":"sct","version":"1","title":"SCT","answers":{"type":"object","fields":[{"name":"a","type":"stars"}]}}`)}}
	_, err := startServerErr(t, t.TempDir(), broken)
	if err == nil || !strings.Contains(err.Error(), `sct/1.json: answers.a: unknown type "stars"`) {
		t.Fatalf("error %v; want it to name the file and the fault", err)
	}
}

// A request that is still arriving when the stop signal comes is finished
// and answered before the server exits.
func TestShutdown_FinishesInFlightRequest(t *testing.T) {
	s := startServer(t, t.TempDir(), forms.FS())
	s.addUsers(t)
	body := `{"id":"C77","site":"A","group":"comparison"}`
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /api/v1/children HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		s.tokens["coordA"], len(body), body[:10])
	time.Sleep(100 * time.Millisecond) // the server is now reading the body

	stopped := make(chan error, 1)
	go func() { stopped <- s.stop() }()
	time.Sleep(200 * time.Millisecond)
	if _, err := conn.Write([]byte(body[10:])); err != nil {
		t.Fatalf("finish the body: %v", err)
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("read the answer: %v", err)
	}
	if res.StatusCode != http.StatusCreated {
		t.Errorf("in-flight request got %d, want 201", res.StatusCode)
	}
	if err := <-stopped; err != nil {
		t.Errorf("stop: %v", err)
	}
}
