package api_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/lifelong-links/sct/forms"
	"github.com/lifelong-links/sct/internal/server/servertest"
)

// mapNames are the names the map tests' SCTs give: each must reach site
// staff and never an evaluator, in any part of the SVG.
var mapNames = []string{"Nanna Rose", "</text><script>alert(1)</script>", "Auntie & Co", "Mr Khan", "neighbour's dog"}

const mapBaseline = `{"nominees":[{"name":"Nanna Rose","relationship":"grandparent"},
	{"name":"</text><script>alert(1)</script>","relationship":"friend"},
	{"name":"Auntie & Co","relationship":"other","other_text":"neighbour's dog"}],
 "key_people":[{"nominee":0,"reason":"important","support":{"emotional":4,"trust":4},"let_down":1},
	{"name":"Mr Khan","relationship":"school_staff","reason":"support","support":{"emotional":3,"practical":2}}],
 "adequacy":{"emotional":2,"practical":1,"trust":3}}`

const mapFollowUp = `{"nominees":[{"name":" nanna rose ","relationship":"grandparent"},
	{"name":"Pat","relationship":"foster_carer_current"},{"name":"Mr Khan","relationship":"school_staff"}],
 "key_people":[{"nominee":1,"reason":"important","support":{"emotional":4,"practical":4}},
	{"nominee":0,"reason":"important","support":{"emotional":3}}],
 "adequacy":{"emotional":3,"practical":1}}`

func putSCT(t *testing.T, s *servertest.Server, as, child, timepoint string, wave int, date, answers string) string {
	t.Helper()
	id := uuid.NewString()
	body := fmt.Sprintf(`{"form":"sct","version":"1","child_id":%q,"timepoint":%q,"wave":%d,"completed_on":%q,"mode":"online","status":"submitted","answers":%s}`,
		child, timepoint, wave, date, answers)
	if st, b := s.Do(t, "PUT", "/api/v1/responses/"+id, body, as); st != 201 {
		t.Fatalf("SCT %s %s: %d %s", child, timepoint, st, b)
	}
	return id
}

// svgMap is what the tests read of a map.
type svgMap struct {
	XMLName xml.Name `xml:"svg"`
	Title   string   `xml:"title"`
	Desc    string   `xml:"desc"`
}

// getMap fetches a response's map as a caller and checks it is an SVG
// document: image/svg+xml, well-formed to its end, an svg root in the SVG
// namespace with a title and a description.
func getMap(t *testing.T, s *servertest.Server, as, id string) (svgMap, string) {
	t.Helper()
	res, body := s.Send(t, "GET", "/api/v1/responses/"+id+"/map.svg", "", map[string]string{"Authorization": "Bearer " + s.Tokens[as]})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("map as %s: %d %s", as, res.StatusCode, body)
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "image/svg+xml") {
		t.Errorf("map as %s: Content-Type %q", as, ct)
	}
	if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("map as %s: Cache-Control %q, want no-store", as, cc)
	}
	dec := xml.NewDecoder(bytes.NewReader(body))
	for {
		if _, err := dec.Token(); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("map as %s is not well-formed XML: %v", as, err)
		}
	}
	var m svgMap
	if err := xml.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	if m.XMLName.Space != "http://www.w3.org/2000/svg" || m.XMLName.Local != "svg" {
		t.Errorf("map as %s: root %v, want svg in the SVG namespace", as, m.XMLName)
	}
	if m.Title == "" || m.Desc == "" {
		t.Errorf("map as %s: title %q, desc %q", as, m.Title, m.Desc)
	}
	// Names and wordings in the text alternative are isolated (FSI … PDI);
	// the checks below read the words.
	m.Desc = strings.NewReplacer("\u2068", "", "\u2069", "").Replace(m.Desc)
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "sandbox") {
		t.Errorf("map as %s: Content-Security-Policy %q, want one that runs and loads nothing", as, csp)
	}
	return m, string(body)
}

// The maps and then and now share one server: each part uses children of
// its own.
func TestMapsAndThenAndNow(t *testing.T) {
	s := servertest.Start(t, t.TempDir(), forms.FS())
	s.AddUsers(t)
	t.Run("names for the child's site only", func(t *testing.T) { mapNamesForTheChildsSiteOnly(t, s) })
	t.Run("a link sees its own response only", func(t *testing.T) { mapLinkSeesItsOwnResponseOnly(t, s) })
	t.Run("then and now", func(t *testing.T) { thenAndNow(t, s) })
}

func mapNamesForTheChildsSiteOnly(t *testing.T, s *servertest.Server) {
	createChild(t, s, "coordA", "MAP1", "A")
	id := putSCT(t, s, "coordA", "MAP1", "baseline", 1, "2019-06-14", mapBaseline)

	for _, as := range []string{"coordA", "leadA"} {
		t.Run("site staff "+as+" see names", func(t *testing.T) {
			m, raw := getMap(t, s, as, id)
			for _, name := range []string{"Nanna Rose", "Mr Khan", "neighbour&#39;s dog", "Auntie &amp; Co", "&lt;/text&gt;&lt;script&gt;"} {
				if !strings.Contains(raw, name) {
					t.Errorf("the map lacks %q", name)
				}
			}
			if strings.Contains(raw, "<script") || strings.Contains(raw, "</text><script>") {
				t.Error("a name was written into the SVG as markup")
			}
			for _, want := range []string{"Nanna Rose: Grandparent (Family)", "Mr Khan: School staff (School)", "Inner circle", "Middle circle"} {
				if !strings.Contains(m.Desc, want) {
					t.Errorf("desc lacks %q: %s", want, m.Desc)
				}
			}
			if !strings.Contains(m.Title, "Baseline, 2019-06-14") {
				t.Errorf("title %q", m.Title)
			}
		})
	}
	for _, as := range []string{"evaluator", "admin"} {
		t.Run(as+" sees relationships only", func(t *testing.T) {
			m, raw := getMap(t, s, as, id)
			for _, name := range append(mapNames, "Nanna", "Khan", "Auntie", "neighbour", "script") {
				if strings.Contains(raw, name) || strings.Contains(raw, strings.ReplaceAll(name, "'", "&#39;")) {
					t.Errorf("the %s's map holds %q", as, name)
				}
			}
			if !strings.Contains(m.Desc, "Grandparent (Family)") || !strings.Contains(m.Desc, "Names are not shown.") {
				t.Errorf("desc %q", m.Desc)
			}
		})
	}
	servertest.RunScenarios(t, s, []servertest.Scenario{
		{Name: "another site's staff are refused", As: "coordB", Method: "GET", Path: "/api/v1/responses/" + id + "/map.svg", Status: 404, Absent: mapNames},
		{Name: "no token", Method: "GET", Path: "/api/v1/responses/" + id + "/map.svg", Status: 401},
		{Name: "a response that does not exist", As: "coordA", Method: "GET", Path: "/api/v1/responses/" + uuid.NewString() + "/map.svg", Status: 404},
		{Name: "a malformed id", As: "coordA", Method: "GET", Path: "/api/v1/responses/nope/map.svg", Status: 400},
	})

	t.Run("reads that show names are audited, others not", func(t *testing.T) {
		rows := auditRows(t, s, "action=response.map.read&target=response:"+id)
		if len(rows) != 2 {
			t.Fatalf("%d audit entries for the map, want 2 (the coordinator's and the site lead's): %+v", len(rows), rows)
		}
		for _, r := range rows {
			if r.Site != "A" || r.RequestID == "" {
				t.Errorf("audit entry %+v", r)
			}
		}
	})

	t.Run("a practice summary has no map", func(t *testing.T) {
		ps := uuid.NewString()
		body := `{"form":"practice-summary","version":"2","child_id":"MAP1","completed_on":"2019-07-01","mode":"online","status":"draft","answers":{}}`
		if st, b := s.Do(t, "PUT", "/api/v1/responses/"+ps, body, "coordA"); st != 201 {
			t.Fatalf("practice summary: %d %s", st, b)
		}
		if st, b := s.Do(t, "GET", "/api/v1/responses/"+ps+"/map.svg", "", "coordA"); st != 404 || !strings.Contains(string(b), "only an SCT") {
			t.Errorf("%d %s", st, b)
		}
	})
}

// A young person's link sees the map of its own response, with names, and
// of no other.
func mapLinkSeesItsOwnResponseOnly(t *testing.T, s *servertest.Server) {
	createChild(t, s, "coordA", "MAP2", "A")
	createChild(t, s, "coordA", "MAP3", "A")
	other := putSCT(t, s, "coordA", "MAP3", "baseline", 1, "2019-06-14", mapBaseline)
	code, rid, _ := openLink(t, s, "coordA", "MAP2")
	redeem(t, s, "young", code)
	draft := fmt.Sprintf(`{"form":"sct","version":"1","child_id":"MAP2","timepoint":"baseline","mode":"online","status":"draft","answers":%s}`, mapBaseline)
	if st, b := s.Do(t, "PUT", "/api/v1/responses/"+rid, draft, "young"); st != 201 {
		t.Fatalf("draft: %d %s", st, b)
	}
	m, raw := getMap(t, s, "young", rid)
	if !strings.Contains(raw, "Nanna Rose") || !strings.Contains(m.Desc, "Mr Khan") {
		t.Errorf("the young person's own map lacks their names: %s", m.Desc)
	}
	if !strings.Contains(m.Title, "draft") {
		t.Errorf("title %q does not say it is a draft", m.Title)
	}
	servertest.RunScenarios(t, s, []servertest.Scenario{
		{Name: "another child's map", As: "young", Method: "GET", Path: "/api/v1/responses/" + other + "/map.svg", Status: 404, Absent: mapNames},
		{Name: "then and now", As: "young", Method: "GET", Path: "/api/v1/children/MAP2/change", Status: 403},
	})
}

type changeOut struct {
	ChildID  string `json:"child_id"`
	Matching string `json:"matching"`
	Baseline struct {
		ResponseID  string `json:"response_id"`
		NetworkSize int    `json:"network_size"`
		KeyPeople   []struct {
			Name string `json:"name"`
		} `json:"key_people"`
	} `json:"baseline"`
	FollowUp *struct {
		ResponseID  string `json:"response_id"`
		Wave        int    `json:"wave"`
		NetworkSize int    `json:"network_size"`
	} `json:"follow_up"`
	Changes *struct {
		NetworkSize int `json:"network_size"`
		Kept        struct {
			Count int      `json:"count"`
			Names []string `json:"names"`
		} `json:"kept"`
		Adequacy []struct {
			Support   string `json:"support"`
			Direction string `json:"direction"`
		} `json:"adequacy"`
	} `json:"changes"`
}

func getChange(t *testing.T, s *servertest.Server, as, child string) (changeOut, string) {
	t.Helper()
	st, b := s.Do(t, "GET", "/api/v1/children/"+child+"/change", "", as)
	if st != 200 {
		t.Fatalf("change as %s: %d %s", as, st, b)
	}
	var out changeOut
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out, string(b)
}

func thenAndNow(t *testing.T, s *servertest.Server) {
	createChild(t, s, "coordA", "CH1", "A")

	if st, b := s.Do(t, "GET", "/api/v1/children/CH1/change", "", "coordA"); st != 404 || !strings.Contains(string(b), "no submitted SCT") {
		t.Errorf("without an SCT: %d %s; want 404 saying there is none", st, b)
	}
	base := putSCT(t, s, "coordA", "CH1", "baseline", 1, "2019-06-14", mapBaseline)
	c, raw := getChange(t, s, "coordA", "CH1")
	if c.FollowUp != nil || c.Changes != nil || !strings.Contains(raw, `"follow_up":null`) || c.Baseline.ResponseID != base || c.Baseline.NetworkSize != 3 {
		t.Errorf("with a baseline only: %s", raw)
	}

	putSCT(t, s, "coordA", "CH1", "follow_up", 1, "2020-01-10", mapBaseline)
	fu2 := putSCT(t, s, "coordA", "CH1", "follow_up", 2, "2020-07-10", mapFollowUp)
	// The second follow-up is wave 2: the latest.
	c, raw = getChange(t, s, "coordA", "CH1")
	if c.FollowUp == nil || c.Changes == nil {
		t.Fatalf("with follow-ups: %s", raw)
	}
	if c.FollowUp.ResponseID != fu2 || c.FollowUp.Wave != 2 || c.Changes.NetworkSize != 0 {
		t.Errorf("follow-up %+v, network size change %d; want wave 2 (%s), 0", *c.FollowUp, c.Changes.NetworkSize, fu2)
	}
	if c.Changes.Kept.Count != 2 || strings.Join(c.Changes.Kept.Names, ",") != "nanna rose,Mr Khan" {
		t.Errorf("kept %+v; want nanna rose and Mr Khan", c.Changes.Kept)
	}
	if !strings.Contains(c.Matching, "by name only") {
		t.Errorf("matching %q", c.Matching)
	}
	dirs := map[string]string{}
	for _, a := range c.Changes.Adequacy {
		dirs[a.Support] = a.Direction
	}
	if dirs["emotional"] != "better" || dirs["practical"] != "same" || dirs["trust"] != "not_known" {
		t.Errorf("adequacy %v", dirs)
	}
	if rows := auditRows(t, s, "action=child.change.read&target=child:CH1"); len(rows) != 2 {
		t.Errorf("%d audit entries for then and now, want 2: %+v", len(rows), rows)
	}

	t.Run("an evaluator gets counts without names", func(t *testing.T) {
		c, raw := getChange(t, s, "evaluator", "CH1")
		for _, name := range append(mapNames, "nanna rose", "Pat") {
			if strings.Contains(raw, name) {
				t.Errorf("the evaluator's then and now holds %q: %s", name, raw)
			}
		}
		if c.Changes == nil || c.Changes.Kept.Count != 2 || len(c.Baseline.KeyPeople) != 2 {
			t.Errorf("the evaluator's counts: %s", raw)
		}
		if rows := auditRows(t, s, "action=child.change.read&target=child:CH1"); len(rows) != 2 {
			t.Errorf("a read without names was audited: %d entries", len(rows))
		}
	})
	servertest.RunScenarios(t, s, []servertest.Scenario{
		{Name: "another site's staff are refused", As: "coordB", Method: "GET", Path: "/api/v1/children/CH1/change", Status: 404, Absent: mapNames},
		{Name: "an unknown child", As: "coordA", Method: "GET", Path: "/api/v1/children/NOPE/change", Status: 404},
	})
}
