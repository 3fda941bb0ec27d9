package api_test

import (
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"strings"
	"testing"

	"github.com/lifelong-links/sct/forms"
	"github.com/lifelong-links/sct/internal/server/servertest"
)

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
	s := servertest.Start(t, t.TempDir(), forms.FS())
	s.AddUsers(t)
	submitted := sctRequest("C123", "baseline", "2019-06-14", "submitted", firstAnswers)
	revised := strings.Replace(submitted, `"let_down":1`, `"let_down":2`, 1)
	servertest.RunScenarios(t, s, []servertest.Scenario{
		{Name: "health", Method: "GET", Path: "/healthz", Status: 200, Want: []string{`"ok"`}},
		{Name: "ready while the store answers", Method: "GET", Path: "/readyz", Status: 200, Want: []string{`"ready"`}},
		{Name: "forms are listed", Method: "GET", Path: "/api/v1/forms", Status: 200,
			Want: []string{`"form":"sct"`, `"form":"practice-summary"`, `"version":"2"`}},
		{Name: "a form version is served", Method: "GET", Path: "/api/v1/forms/sct/versions/1", Status: 200,
			Want: []string{`"max_items":20`, `"biological_mother"`, `"Do they believe in you?"`}},
		{Name: "an unknown form version is 404", Method: "GET", Path: "/api/v1/forms/sct/versions/7", Status: 404},
		{Name: "register a child", As: "coordA", Method: "POST", Path: "/api/v1/children", Status: 201,
			Body: `{"id":"C123","site":"A","group":"lifelong_links"}`, Want: []string{`"id":"C123"`, `"site":"A"`}},
		{Name: "a child ID is registered once", As: "coordA", Method: "POST", Path: "/api/v1/children", Status: 409,
			Body: `{"id":"C123","site":"A","group":"comparison"}`},
		{Name: "a child needs a known group and a valid ID", As: "coordA", Method: "POST", Path: "/api/v1/children", Status: 422,
			Body: `{"id":"C 9","site":"A","group":"control"}`,
			Want: []string{`{"path":"id","reason":"must be letters, digits`, `{"path":"group","reason":"must be one of lifelong_links, comparison"}`}},
		{Name: "an administrator does not register children", As: "admin", Method: "POST", Path: "/api/v1/children", Status: 403,
			Body: `{"id":"C9","site":"A","group":"comparison"}`},
		{Name: "a coordinator cannot register a child in another site", As: "coordA", Method: "POST", Path: "/api/v1/children", Status: 403,
			Body: `{"id":"C9","site":"B","group":"comparison"}`},
		{Name: "a child body may not carry unknown fields such as a name", As: "coordA", Method: "POST", Path: "/api/v1/children", Status: 400,
			Body: `{"id":"C9","site":"A","group":"comparison","name":"Amy"}`, Want: []string{`"path":"name"`}},
		{Name: "read a child", As: "coordA", Method: "GET", Path: "/api/v1/children/C123", Status: 200, Want: []string{`"group":"lifelong_links"`}},
		{Name: "an unknown child is 404", As: "coordA", Method: "GET", Path: "/api/v1/children/NOPE", Status: 404},
		{Name: "submit an SCT", As: "coordA", Method: "PUT", Path: "/api/v1/responses/" + idA, Body: submitted, Status: 201,
			Want: []string{`"revision":1`, `"site":"A"`, `"status":"submitted"`}, Absent: []string{"body_hash", "slot", "inputs"}},
		{Name: "a retry is stored once", As: "coordA", Method: "PUT", Path: "/api/v1/responses/" + idA, Body: submitted, Status: 200,
			Want: []string{`"revision":1`}},
		{Name: "a changed body is a new revision", As: "coordA", Method: "PUT", Path: "/api/v1/responses/" + idA, Body: revised, Status: 200,
			Want: []string{`"revision":2`, `"let_down":2`}},
		{Name: "history keeps both revisions", As: "coordA", Method: "GET", Path: "/api/v1/responses/" + idA + "/revisions", Status: 200,
			Want: []string{`"revision":1`, `"let_down":1`, `"revision":2`, `"let_down":2`}},
		{Name: "read the response", As: "coordA", Method: "GET", Path: "/api/v1/responses/" + idA, Status: 200,
			Want: []string{`"child_id":"C123"`, `"name":"Nan"`}},
		{Name: "a second SCT for the same child and timepoint is refused", As: "coordA", Method: "PUT", Path: "/api/v1/responses/" + idB,
			Body: submitted, Status: 409, Want: []string{"revise that response"}},
		{Name: "nothing half-written after the refusal", As: "coordA", Method: "GET", Path: "/api/v1/responses/" + idB, Status: 404},
		{Name: "a submitted response cannot become a draft", As: "coordA", Method: "PUT", Path: "/api/v1/responses/" + idA,
			Body: strings.Replace(revised, `"submitted"`, `"draft"`, 1), Status: 409},
		{Name: "a draft may be incomplete", As: "coordA", Method: "PUT", Path: "/api/v1/responses/" + idC, Status: 201,
			Body: `{"form":"sct","version":"1","child_id":"C123","mode":"online","status":"draft","answers":{"nominees":[{"name":"Jo"}]}}`,
			Want: []string{`"status":"draft"`, `"revision":0`}},
		{Name: "the id must be a version 4 UUID", As: "coordA", Method: "PUT", Path: "/api/v1/responses/1234", Body: submitted, Status: 400,
			Want: []string{`"path":"id"`}},
		{Name: "malformed JSON is 400", As: "coordA", Method: "PUT", Path: "/api/v1/responses/" + idB, Body: `{"form":`, Status: 400},
		{Name: "a wrong type names the field", As: "coordA", Method: "PUT", Path: "/api/v1/responses/" + idB, Status: 400,
			Body: `{"form":"sct","version":1}`, Want: []string{`"path":"version","reason":"must be text"`}},
		{Name: "unknown fields are refused", As: "coordA", Method: "PUT", Path: "/api/v1/responses/" + idB, Status: 400,
			Body: strings.Replace(submitted, `"mode"`, `"colour":"red","mode"`, 1), Want: []string{`"path":"colour"`}},
		{Name: "a body over 1 MiB is refused", As: "coordA", Method: "PUT", Path: "/api/v1/responses/" + idB, Status: 413,
			Body: `{"form":"` + strings.Repeat("x", 1<<20) + `"}`},
		{Name: "every answer fault is listed with its path", As: "coordA", Method: "PUT", Path: "/api/v1/responses/" + idB, Status: 422,
			Body: sctRequest("C123", "follow_up", "2019-07-01", "submitted", `{"nominees":[{"relationship":"aunt"}],
				"key_people":[{"nominee":4,"reason":"important","support":{"trust":5}}]}`),
			Want: []string{
				`{"path":"answers.nominees[0].relationship","reason":"must be one of`,
				`{"path":"answers.key_people[0].nominee","reason":"points at nominees[4], but nominees has 1 entries"}`,
				`{"path":"answers.key_people[0].support.trust","reason":"must be a rating of 1 (not at all)`,
			}},
		{Name: "an unknown form version is named", As: "coordA", Method: "PUT", Path: "/api/v1/responses/" + idB, Status: 422,
			Body: strings.Replace(submitted, `"version":"1"`, `"version":"3"`, 1),
			Want: []string{`{"path":"version","reason":"form sct has no version \"3\"; published: 1"}`}},
		{Name: "a follow-up before the baseline date is refused", As: "coordA", Method: "PUT", Path: "/api/v1/responses/" + idB, Status: 422,
			Body: sctRequest("C123", "follow_up", "2019-06-01", "submitted", `{}`),
			Want: []string{`{"path":"completed_on","reason":"is 2019-06-01, before this child's baseline (2019-06-14)"}`}},
		{Name: "a follow-up after the baseline is accepted", As: "coordA", Method: "PUT", Path: "/api/v1/responses/" + idB, Status: 201,
			Body: sctRequest("C123", "follow_up", "2020-01-10", "submitted", `{}`), Want: []string{`"wave":1`}},
		{Name: "the summary needs a timepoint", As: "leadA", Method: "GET", Path: "/api/v1/summaries/sct", Status: 422,
			Want: []string{`{"path":"timepoint","reason":"is required"}`}},
		{Name: "the summary refuses unknown filters", As: "leadA", Method: "GET", Path: "/api/v1/summaries/sct?timepoint=baseline&colour=red", Status: 400},
		{Name: "the summary refuses from after to", As: "leadA", Method: "GET", Path: "/api/v1/summaries/sct?timepoint=baseline&from=2020-01-01&to=2019-01-01", Status: 422},
		{Name: "the summary counts the latest revision once", As: "leadA", Method: "GET", Path: "/api/v1/summaries/sct?timepoint=baseline", Status: 200,
			Want: []string{`"respondents":1`, `"strain":{"base":1,"not_at_all_or_not_really":1`}, Absent: []string{"Nan"}},
		{Name: "unknown API paths are JSON 404s", As: "coordA", Method: "GET", Path: "/api/v1/nothing", Status: 404, Want: []string{`"error":"not found"`}},
		{Name: "the placeholder page is served", Method: "GET", Path: "/", Status: 200, Want: []string{"Social Connections Tool"}},
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

func sctSummaryOf(t *testing.T, s *servertest.Server, query string) sctSummary {
	t.Helper()
	status, body := s.Do(t, "GET", "/api/v1/summaries/sct?"+query, "", "evaluator")
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

func seedSummaryFixture(t *testing.T, s *servertest.Server) {
	t.Helper()
	for _, f := range summaryFixture {
		as := "coord" + f.site
		if st, b := s.Do(t, "POST", "/api/v1/children", fmt.Sprintf(`{"id":%q,"site":%q,"group":%q}`, f.child, f.site, f.group), as); st != 201 {
			t.Fatalf("child %s: %d %s", f.child, st, b)
		}
		if st, b := s.Do(t, "PUT", "/api/v1/responses/"+f.id, sctRequest(f.child, "baseline", f.completed, f.status, f.answers), as); st != 201 {
			t.Fatalf("response %s: %d %s", f.id, st, b)
		}
	}
}

func TestSummary_ReproducesHandComputedTables(t *testing.T) {
	s := servertest.Start(t, t.TempDir(), forms.FS())
	s.AddUsers(t)
	seedSummaryFixture(t, s)
	got := sctSummaryOf(t, s, "timepoint=baseline")

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
			got := sctSummaryOf(t, s, f.query)
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

// A site's children come a page at a time: next leads to the rest, and odd
// cursors and limits are refused naming the field.
func TestChildren_PagesOverHTTP(t *testing.T) {
	s := servertest.Start(t, t.TempDir(), forms.FS())
	s.AddUsers(t)
	for i := range 5 {
		body := fmt.Sprintf(`{"id":"K%d","site":"A","group":"comparison"}`, i)
		if st, b := s.Do(t, "POST", "/api/v1/children", body, "coordA"); st != 201 {
			t.Fatalf("child: %d %s", st, b)
		}
	}
	var got []string
	path := "/api/v1/children?site=A&limit=2"
	for pages := 0; pages < 10; pages++ {
		status, body := s.Do(t, "GET", path, "", "coordA")
		if status != 200 {
			t.Fatalf("%s: %d %s", path, status, body)
		}
		var page struct {
			Children []struct{ ID string }
			Next     string
		}
		if err := json.Unmarshal(body, &page); err != nil {
			t.Fatal(err)
		}
		for _, c := range page.Children {
			got = append(got, c.ID)
		}
		if page.Next == "" {
			break
		}
		path = "/api/v1/children?site=A&limit=2&after=" + url.QueryEscape(page.Next)
	}
	if strings.Join(got, ",") != "K0,K1,K2,K3,K4" {
		t.Errorf("children over pages of 2: %v", got)
	}
	servertest.RunScenarios(t, s, []servertest.Scenario{
		{Name: "a cursor that is no child ID", As: "coordA", Method: "GET", Path: "/api/v1/children?site=A&after=%20x", Status: 400,
			Want: []string{`"path":"after"`}},
		{Name: "a page over the limit", As: "coordA", Method: "GET", Path: "/api/v1/children?site=A&limit=501", Status: 400,
			Want: []string{`"path":"limit"`}},
		{Name: "another site's page is not the coordinator's", As: "coordA", Method: "GET", Path: "/api/v1/children?site=B&limit=2", Status: 403},
	})
}
