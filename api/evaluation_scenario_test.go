package api_test

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/lifelong-links/sct/forms"
	"github.com/lifelong-links/sct/internal/server/servertest"
)

// The evaluation fixture, by hand:
//
//	site A: P1 lifelong_links  baseline 2019-06-14 (4 people, emotional 2)  follow-up 2020-01-10 (6 people, emotional 3)
//	        P2 lifelong_links  baseline 2019-07-01 (3 people, emotional 3)  follow-up 2020-01-20 (3 people, emotional 3)
//	        P3 comparison      baseline 2019-08-01 (5 people, emotional 1)  follow-up 2020-02-01 (2 people, emotional 2)
//	        P5 lifelong_links  nothing yet
//	site B: P4 comparison      baseline 2019-09-01 (1 person)
//
// Paired network size: changes +2, 0, −3 → the zero drops; |2| ranks 1, |3|
// ranks 2; W+ = 1, W− = 2, n = 2; mean n(n+1)/4 = 1.5; variance
// n(n+1)(2n+1)/24 = 1.25; z = (1 − 1.5)/√1.25 = −0.447214; p = 0.654721.
// Baseline sizes 4, 3, 5: mean 4, median 4, SD 1. Follow-up 6, 3, 2: median 3.
func seedEvaluation(t *testing.T, s *servertest.Server) {
	t.Helper()
	people := func(n int) string {
		var ps []string
		for i := range n {
			ps = append(ps, fmt.Sprintf(`{"name":"N%d","relationship":"friend"}`, i))
		}
		return "[" + strings.Join(ps, ",") + "]"
	}
	children := []struct{ id, site, group string }{
		{"P1", "A", "lifelong_links"}, {"P2", "A", "lifelong_links"}, {"P3", "A", "comparison"}, {"P5", "A", "lifelong_links"}, {"P4", "B", "comparison"},
	}
	for _, c := range children {
		if st, b := s.Do(t, "POST", "/api/v1/children", fmt.Sprintf(`{"id":%q,"site":%q,"group":%q}`, c.id, c.site, c.group), "coord"+c.site); st != 201 {
			t.Fatalf("child %s: %d %s", c.id, st, b)
		}
	}
	scts := []struct {
		id, child, site, timepoint, date string
		people, emotional                int
	}{
		{"a1000000-0000-4000-8000-000000000001", "P1", "A", "baseline", "2019-06-14", 4, 2},
		{"a1000000-0000-4000-8000-000000000002", "P2", "A", "baseline", "2019-07-01", 3, 3},
		{"a1000000-0000-4000-8000-000000000003", "P3", "A", "baseline", "2019-08-01", 5, 1},
		{"a1000000-0000-4000-8000-000000000004", "P4", "B", "baseline", "2019-09-01", 1, 3},
		{"a1000000-0000-4000-8000-000000000005", "P1", "A", "follow_up", "2020-01-10", 6, 3},
		{"a1000000-0000-4000-8000-000000000006", "P2", "A", "follow_up", "2020-01-20", 3, 3},
		{"a1000000-0000-4000-8000-000000000007", "P3", "A", "follow_up", "2020-02-01", 2, 2},
	}
	for _, x := range scts {
		answers := fmt.Sprintf(`{"nominees":%s,"adequacy":{"emotional":%d}}`, people(x.people), x.emotional)
		if st, b := s.Do(t, "PUT", "/api/v1/responses/"+x.id, sctRequest(x.child, x.timepoint, x.date, "submitted", answers), "coord"+x.site); st != 201 {
			t.Fatalf("SCT %s %s: %d %s", x.child, x.timepoint, st, b)
		}
	}
}

func getJSON(t *testing.T, s *servertest.Server, as, path string) map[string]any {
	t.Helper()
	st, b := s.Do(t, "GET", path, "", as)
	if st != 200 {
		t.Fatalf("GET %s as %s: %d %s", path, as, st, b)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// dig walks decoded JSON by keys and indexes.
func dig(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			a, _ := v.([]any)
			if k >= len(a) {
				return nil
			}
			v = a[k]
		}
	}
	return v
}

func num(t *testing.T, v any, want float64, what string) {
	t.Helper()
	f, ok := v.(float64)
	if !ok || math.Abs(f-want) > 1e-5 {
		t.Errorf("%s = %v, want %v", what, v, want)
	}
}

func TestPaired_ComparesTheSameChildren(t *testing.T) {
	s := servertest.Start(t, t.TempDir(), forms.FS())
	s.AddUsers(t)
	seedEvaluation(t, s)

	got := getJSON(t, s, "evaluator", "/api/v1/summaries/sct/paired")
	num(t, got["pairs"], 3, "pairs")
	ns := dig(got, "network_size")
	num(t, dig(ns, "baseline", "mean"), 4, "baseline mean")
	num(t, dig(ns, "baseline", "sd"), 1, "baseline sd")
	num(t, dig(ns, "baseline", "median"), 4, "baseline median")
	num(t, dig(ns, "follow_up", "median"), 3, "follow-up median")
	num(t, dig(ns, "wilcoxon", "zeros"), 1, "zero differences")
	num(t, dig(ns, "wilcoxon", "z"), -0.447214, "z")
	num(t, dig(ns, "wilcoxon", "p"), 0.654721, "p")
	if dig(got, "groups", "network_size_change") == nil {
		t.Error("both groups have pairs: the Mann-Whitney comparison is missing")
	}
	// Emotional adequacy: P1 2→3, P2 3→3, P3 1→2.
	emotional := dig(got, "adequacy", 0)
	num(t, dig(emotional, "base"), 3, "emotional base")
	num(t, dig(emotional, "table", 1, 2), 1, "too few → enough")

	num(t, getJSON(t, s, "evaluator", "/api/v1/summaries/sct/paired?group=comparison")["pairs"], 1, "comparison pairs")
	num(t, getJSON(t, s, "evaluator", "/api/v1/summaries/sct/paired?wave=2")["pairs"], 0, "wave 2 pairs")
	num(t, getJSON(t, s, "evaluator", "/api/v1/summaries/sct/paired?from=2019-07-01")["pairs"], 2, "pairs from 2019-07-01")
	num(t, getJSON(t, s, "leadA", "/api/v1/summaries/sct/paired")["pairs"], 3, "site lead A's pairs (their site filled in)")
	if st, _ := s.Do(t, "GET", "/api/v1/summaries/sct/paired?timepoint=baseline", "", "evaluator"); st != 400 {
		t.Errorf("a timepoint filter on the paired summary got %d, want 400", st)
	}
}

func TestFollowUps_DueListReturnsAndCalendar(t *testing.T) {
	s := servertest.Start(t, t.TempDir(), forms.FS())
	s.AddUsers(t)
	seedEvaluation(t, s)
	// P2 withdrew after a pause: nothing more is due for them.
	if st, b := s.Do(t, "PUT", "/api/v1/children/P2/participation",
		`{"participating":true,"started_on":"2019-06-01","ceased_on":"2019-12-01","reason_ceased":2,"pauses":[{"from":"2019-08-01","to":"2019-09-01"}]}`, "coordA"); st != 200 {
		t.Fatalf("participation: %d %s", st, b)
	}
	if st, b := s.Do(t, "PUT", "/api/v1/children/P1/participation", `{"participating":true,"fgc_completed":1,"reason_ceased":7}`, "coordA"); st != 422 || !strings.Contains(string(b), `"path":"reason_ceased"`) {
		t.Errorf("a code outside Table 15: %d %s", st, b)
	}
	if st, _ := s.Do(t, "PUT", "/api/v1/children/P1/participation", `{"participating":true,"fgc_completed":1}`, "coordA"); st != 200 {
		t.Errorf("participation P1: %d", st)
	}

	due := getJSON(t, s, "coordA", "/api/v1/followups")
	byChild := map[string]map[string]any{}
	for _, it := range due["children"].([]any) {
		m := it.(map[string]any)
		byChild[m["child_id"].(string)] = m
	}
	// Today is long after 2020: the follow-ups of P1 and P3 are overdue.
	want := map[string]struct {
		status, due string
		wave        float64
	}{
		"P1": {"overdue", "2020-07-10", 2}, "P3": {"overdue", "2020-08-01", 2},
		"P2": {"ceased", "", 0}, "P5": {"no_baseline", "", 0},
	}
	if len(byChild) != 4 {
		t.Errorf("due list %v, want site A's 4 children only", due["children"])
	}
	for id, w := range want {
		g := byChild[id]
		if g["status"] != w.status || (w.due != "" && g["due_on"] != w.due) || (w.wave > 0 && g["next_wave"] != w.wave) {
			t.Errorf("%s: %v, want %+v", id, g, w)
		}
		// The child's own record carries the same line.
		if own := getJSON(t, s, "coordA", "/api/v1/children/"+id)["follow_up"]; !reflect.DeepEqual(own, any(g)) {
			t.Errorf("%s's record has follow_up %v; want the due list's %v", id, own, g)
		}
	}

	// Site A's interval becomes 3 months: P1's next follow-up falls due 3
	// months after their last SCT, on the site's list, on every site's list
	// and on their own record alike; site B's children keep the default.
	if st, b := s.Do(t, "PATCH", "/api/v1/sites/A", `{"followup_months":3}`, "admin"); st != 200 {
		t.Fatalf("site A's interval: %d %s", st, b)
	}
	for _, path := range []string{"/api/v1/followups?site=A", "/api/v1/followups"} {
		for _, it := range getJSON(t, s, "coordA", path)["children"].([]any) {
			if m := it.(map[string]any); m["child_id"] == "P1" && m["due_on"] != "2020-04-10" {
				t.Errorf("%s with a 3-month interval: P1 %v, want due 2020-04-10", path, m)
			}
		}
	}
	if own := getJSON(t, s, "coordA", "/api/v1/children/P1")["follow_up"]; dig(own, "due_on") != "2020-04-10" {
		t.Errorf("P1's record with a 3-month interval: follow_up %v, want due 2020-04-10", own)
	}
	if st, b := s.Do(t, "PATCH", "/api/v1/sites/A", `{"followup_months":6}`, "admin"); st != 200 {
		t.Fatalf("site A's interval back to 6 months: %d %s", st, b)
	}
	if own := getJSON(t, s, "coordA", "/api/v1/children/P1")["follow_up"]; dig(own, "due_on") != "2020-07-10" {
		t.Errorf("P1's record with the interval back to 6 months: follow_up %v, want due 2020-07-10", own)
	}

	ret := getJSON(t, s, "evaluator", "/api/v1/summaries/returns")
	siteA := dig(ret, "returns", 0)
	num(t, dig(siteA, "children"), 4, "site A children")
	num(t, dig(siteA, "baseline"), 3, "site A baselines")
	num(t, dig(siteA, "follow_up", "1"), 3, "site A first follow-ups")
	num(t, dig(siteA, "due_or_overdue"), 2, "site A due or overdue")
	num(t, dig(siteA, "without_baseline"), 1, "site A without a baseline")
	num(t, dig(ret, "returns", 1, "baseline"), 1, "site B baselines")

	table7 := getJSON(t, s, "evaluator", "/api/v1/summaries/participation")
	row := dig(table7, "table7", "rows", 0)
	num(t, dig(row, "participating"), 2, "Table 7 participating")
	num(t, dig(row, "withdrew"), 1, "Table 7 withdrew")
	num(t, dig(row, "paused"), 1, "Table 7 paused")
	num(t, dig(row, "fgc"), 1, "Table 7 FGC")

	if got := getJSON(t, s, "coordA", "/api/v1/calendar"); got["exists"] != false || got["made_at"] != nil {
		t.Errorf("before any address: %v; want exists false", got)
	}
	st, b := s.Do(t, "POST", "/api/v1/calendar", "", "coordA")
	if st != 201 {
		t.Fatalf("calendar: %d %s", st, b)
	}
	if got := getJSON(t, s, "coordA", "/api/v1/calendar"); got["exists"] != true || got["made_at"] == nil || strings.Contains(fmt.Sprint(got), "ics") {
		t.Errorf("after making an address: %v; want exists true, when, and not the address", got)
	}
	var cal struct{ URL string }
	_ = json.Unmarshal(b, &cal)
	res, err := http.Get(cal.URL) // a calendar program: no token
	if err != nil {
		t.Fatal(err)
	}
	feed, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/calendar") {
		t.Fatalf("feed: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	for _, w := range []string{"child P1 (site A)", "child P3 (site A)", "DTSTART;VALUE=DATE:20200710"} {
		if !strings.Contains(string(feed), w) {
			t.Errorf("feed lacks %q:\n%s", w, feed)
		}
	}
	if strings.Contains(string(feed), "P4") || strings.Contains(string(feed), "child P2") {
		t.Errorf("feed shows another site's child or a ceased one:\n%s", feed)
	}
	if res, _ := http.Get(strings.Replace(cal.URL, "/calendar/", "/calendar/x", 1)); res == nil || res.StatusCode != 404 {
		t.Error("a wrong calendar address must be 404")
	}
	if st, _ := s.Do(t, "GET", "/api/v1/followups?site=A", "", "coordB"); st != 403 {
		t.Errorf("coordinator B reading site A's due list: %d, want 403", st)
	}
	// Roles that reach every site have no feed of every site's children.
	for _, who := range []string{"evaluator", "admin"} {
		for _, method := range []string{"POST", "GET"} {
			if st, b := s.Do(t, method, "/api/v1/calendar", "", who); st != 403 || !strings.Contains(string(b), "coordinators and site leads") {
				t.Errorf("%s: %s /api/v1/calendar: %d %s, want 403", who, method, st, b)
			}
		}
	}
}

// By hand: P1 new format (genogram, ask family; 10 found, 9 kept; FGC with 12;
// objectives siblings met, mother not met), P2 old format (genogram; 5 and 5;
// plan without FGC). Tools base 2, mean (2 + 1)/2 = 1.5; objectives base 1,
// set 2, met 1, mean share met 50%, none with all met; retained 14 of 15 =
// 93.33%.
func TestPracticeSummary_Tables(t *testing.T) {
	s := servertest.Start(t, t.TempDir(), forms.FS())
	s.AddUsers(t)
	seedEvaluation(t, s)
	summaries := []struct{ id, child, version, answers string }{
		{"b1000000-0000-4000-8000-000000000001", "P1", "2", `{"started_on":"2019-05-01","ended_on":"2019-12-01","tools_used":["genogram","ask_family"],
			"connections_identified":10,"connections_retained":9,"route":"fgc","fgc_attendees":12,"outcomes":["direct_contact"],
			"objectives":[{"category":"siblings","met":true},{"category":"mother","met":false,"description":"Find Mum"}]}`},
		{"b1000000-0000-4000-8000-000000000002", "P2", "1", `{"started_on":"2018-05-01","tools_used":["genogram"],
			"connections_identified":5,"connections_retained":5,"route":"plan_without_fgc"}`},
	}
	for _, x := range summaries {
		body := fmt.Sprintf(`{"form":"practice-summary","version":%q,"child_id":%q,"completed_on":"2019-12-02","mode":"online","status":"submitted","answers":%s}`, x.version, x.child, x.answers)
		if st, b := s.Do(t, "PUT", "/api/v1/responses/"+x.id, body, "coordA"); st != 201 {
			t.Fatalf("practice summary %s: %d %s", x.child, st, b)
		}
	}
	got := getJSON(t, s, "evaluator", "/api/v1/summaries/practice")
	num(t, got["cases"], 2, "cases")
	num(t, dig(got, "tools", "base"), 2, "tools base")
	num(t, dig(got, "tools", "total", "mean_tools"), 1.5, "mean tools")
	num(t, dig(got, "objectives", "base"), 1, "objectives base")
	num(t, dig(got, "objectives", "total_set"), 2, "objectives set")
	num(t, dig(got, "objectives", "total_met"), 1, "objectives met")
	num(t, dig(got, "objectives", "mean_share_met"), 50, "mean share met")
	num(t, dig(got, "connections", "retained", "percent"), 1400.0/15, "retained percent")
	if b, _ := json.Marshal(got); strings.Contains(string(b), "Find Mum") {
		t.Error("free text reached the practice tables")
	}
}

func TestSummaries_SuppressSmallCounts(t *testing.T) {
	s := servertest.Start(t, t.TempDir(), forms.FS())
	s.AddUsers(t)
	seedEvaluation(t, s)
	_, b := s.Do(t, "GET", "/api/v1/summaries/sct?timepoint=baseline&suppress=5", "", "evaluator")
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	small := 0
	var walk func(any)
	walk = func(x any) {
		switch t := x.(type) {
		case map[string]any:
			if c, ok := t["count"].(float64); ok && c > 0 && c < 5 {
				small++
			}
			for _, y := range t {
				walk(y)
			}
		case []any:
			for _, y := range t {
				walk(y)
			}
		}
	}
	walk(v)
	if small > 0 || !strings.Contains(string(b), `"suppressed":true`) {
		t.Errorf("%d counts under 5 shown, or nothing marked suppressed: %s", small, b)
	}
	if st, _ := s.Do(t, "GET", "/api/v1/summaries/sct?timepoint=baseline&suppress=1", "", "evaluator"); st != 422 {
		t.Errorf("suppress=1 got %d, want 422", st)
	}
}

func TestExports_DataReturnIsPseudonymisedAndAudited(t *testing.T) {
	s := servertest.Start(t, t.TempDir(), forms.FS())
	s.AddUsers(t)
	seedEvaluation(t, s)
	named := sctRequest("P5", "baseline", "2019-10-01", "submitted",
		`{"nominees":[{"name":"Zebedee-Secret","relationship":"other","other_text":"Lodger-Secret"}],"key_people":[{"nominee":0,"reason":"important","support":{"trust":4}}]}`)
	if st, b := s.Do(t, "PUT", "/api/v1/responses/a1000000-0000-4000-8000-000000000009", named, "coordA"); st != 201 {
		t.Fatalf("SCT with names: %d %s", st, b)
	}
	if st, _ := s.Do(t, "PUT", "/api/v1/children/P1/participation", `{"participating":true,"started_on":"2019-05-01","fgc_completed":1}`, "coordA"); st != 200 {
		t.Fatal("participation")
	}

	st, body := s.Do(t, "GET", "/api/v1/exports/data-return.zip?site=A", "", "leadA")
	if st != 200 {
		t.Fatalf("data return: %d %s", st, body)
	}
	zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	for _, f := range zr.File {
		rc, _ := f.Open()
		b, _ := io.ReadAll(rc)
		rc.Close()
		files[f.Name] = string(b)
	}
	for _, want := range []string{"sct_wide.csv", "sct_wide.sps", "sct_wide.do", "sct_wide.R", "sct_long.csv", "sct_long.sps",
		"sct_nodes.csv", "sct_edges.csv", "sct_network.graphml", "practice_summary_wide.csv", "practice_summary_wide.sps",
		"practice_summary_long.csv", "participation.csv", "participation.sps", "participation.do", "participation.R", "codebook.md", "README.txt"} {
		if _, ok := files[want]; !ok {
			t.Errorf("data return lacks %s (has %d files)", want, len(files))
		}
	}
	for name, content := range files {
		for _, secret := range []string{"Zebedee-Secret", "Lodger-Secret", "N0"} {
			if strings.Contains(content, secret) {
				t.Errorf("%s contains %q", name, secret)
			}
		}
		if strings.Contains(content, "P4") && strings.HasSuffix(name, ".csv") {
			t.Errorf("%s contains site B's child", name)
		}
	}
	if rows := strings.Count(strings.TrimSpace(files["sct_wide.csv"]), "\n"); rows != 7 {
		t.Errorf("sct_wide.csv has %d rows, want site A's 7 submitted SCTs", rows)
	}
	if !strings.Contains(files["participation.csv"], "P1,A,1,2019-20,-1,1,2019-05-01") {
		t.Errorf("participation.csv:\n%s", files["participation.csv"])
	}

	st, csv := s.Do(t, "GET", "/api/v1/exports/sct_long.csv", "", "evaluator")
	if st != 200 || !strings.HasPrefix(string(csv), "response_id,") || strings.Contains(string(csv), "Zebedee") {
		t.Errorf("sct_long.csv as evaluator: %d %.200s", st, csv)
	}
	if st, _ := s.Do(t, "GET", "/api/v1/exports/sct_wide.csv?site=A", "", "coordA"); st != 403 {
		t.Errorf("a coordinator exporting: %d, want 403", st)
	}
	if st, _ := s.Do(t, "GET", "/api/v1/exports/data-return.zip?site=B", "", "leadA"); st != 403 {
		t.Errorf("site lead A exporting site B: %d, want 403", st)
	}
	if st, _ := s.Do(t, "GET", "/api/v1/exports/nothing.csv", "", "evaluator"); st != 404 {
		t.Errorf("an unknown export: %d, want 404", st)
	}
	audit := getJSON(t, s, "admin", "/api/v1/audit?action=export")
	if n := len(audit["entries"].([]any)); n != 2 {
		t.Errorf("%d export entries in the audit, want 2", n)
	}
}

// The due list comes a page at a time, the counts of the whole list on
// each page, and the pages together are the whole list.
func TestFollowUps_PagesOverHTTP(t *testing.T) {
	s := servertest.Start(t, t.TempDir(), forms.FS())
	s.AddUsers(t)
	for i := range 5 {
		child := fmt.Sprintf("D%d", i)
		if st, b := s.Do(t, "POST", "/api/v1/children", fmt.Sprintf(`{"id":%q,"site":"A","group":"comparison"}`, child), "coordA"); st != 201 {
			t.Fatalf("child: %d %s", st, b)
		}
		if i%2 == 0 {
			body := sctRequest(child, "baseline", fmt.Sprintf("2019-0%d-14", i+1), "submitted", firstAnswers)
			if st, b := s.Do(t, "PUT", "/api/v1/responses/"+uuid.NewString(), body, "coordA"); st != 201 {
				t.Fatalf("SCT: %d %s", st, b)
			}
		}
	}
	type page struct {
		Counts   map[string]int
		Children []struct {
			ChildID string `json:"child_id"`
			Status  string
		}
		Next string
	}
	read := func(path string) page {
		t.Helper()
		status, body := s.Do(t, "GET", path, "", "coordA")
		var p page
		if err := json.Unmarshal(body, &p); status != 200 || err != nil {
			t.Fatalf("%s: %d %s", path, status, body)
		}
		return p
	}
	whole := read("/api/v1/followups?site=A")
	var paged []string
	path := "/api/v1/followups?site=A&limit=2"
	for pages := 0; pages < 10; pages++ {
		p := read(path)
		if !reflect.DeepEqual(p.Counts, whole.Counts) {
			t.Errorf("a page's counts %v, the whole list's %v", p.Counts, whole.Counts)
		}
		for _, c := range p.Children {
			paged = append(paged, c.ChildID)
		}
		if p.Next == "" {
			break
		}
		path = "/api/v1/followups?site=A&limit=2&after=" + url.QueryEscape(p.Next)
	}
	var all []string
	for _, c := range whole.Children {
		all = append(all, c.ChildID)
	}
	if len(all) != 5 || !reflect.DeepEqual(paged, all) || whole.Counts["no_baseline"] != 2 || whole.Counts["overdue"] != 3 {
		t.Errorf("pages %v, whole list %v with counts %v", paged, all, whole.Counts)
	}
	servertest.RunScenarios(t, s, []servertest.Scenario{
		{Name: "a cursor the server did not make", As: "coordA", Method: "GET", Path: "/api/v1/followups?site=A&after=zz", Status: 400,
			Want: []string{`"path":"after"`}},
		{Name: "a page over the limit", As: "coordA", Method: "GET", Path: "/api/v1/followups?site=A&limit=501", Status: 400,
			Want: []string{`"path":"limit"`}},
	})
}
