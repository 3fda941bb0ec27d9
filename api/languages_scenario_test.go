package api_test

import (
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"

	"github.com/lifelong-links/sct/forms"
	"github.com/lifelong-links/sct/internal/server/servertest"
)

// A form version is served in each language it has: the same codes, the
// wording translated, the language and direction said; an unknown
// language is a 404 naming the languages there are.
func TestAPI_FormLanguages(t *testing.T) {
	s := servertest.Start(t, t.TempDir(), forms.FS())
	langs := `"languages":[{"code":"en","name":"English","english_name":"English","dir":"ltr","draft":false},` +
		`{"code":"ar","name":"العربية","english_name":"Arabic","dir":"rtl","draft":true},` +
		`{"code":"cy","name":"Cymraeg","english_name":"Welsh","dir":"ltr","draft":true}]`
	servertest.RunScenarios(t, s, []servertest.Scenario{
		{Name: "the list names each version's languages", Method: "GET", Path: "/api/v1/forms", Status: 200,
			Want: []string{langs, `"languages":[{"code":"en","name":"English","english_name":"English","dir":"ltr","draft":false},` +
				`{"code":"cy","name":"Cymraeg","english_name":"Welsh","dir":"ltr","draft":true}]`}},
		{Name: "English by default, its languages listed", Method: "GET", Path: "/api/v1/forms/sct/versions/1", Status: 200,
			Want: []string{`"language":"en"`, `"dir":"ltr"`, langs, `"title":"Social Connections Tool"`, `"child":"My birth mum"`}},
		{Name: "Arabic is right to left, in Arabic, codes unchanged", Method: "GET", Path: "/api/v1/forms/sct/versions/1?lang=ar", Status: 200,
			Want: []string{`"dir":"rtl"`, `"language":"ar"`, `"title":"أداة الروابط الاجتماعية"`, `"code":"biological_mother"`,
				`"child":"أمي البيولوجية"`, `"value":4`, `"name":"positive_feedback"`, langs},
			Absent: []string{"My birth mum", "Do they believe in you?"}},
		{Name: "Welsh", Method: "GET", Path: "/api/v1/forms/sct/versions/1?lang=cy", Status: 200,
			Want:   []string{`"dir":"ltr"`, `"language":"cy"`, `"title":"Offeryn Cysylltiadau Cymdeithasol"`, `"code":"grandparent"`},
			Absent: []string{"My nan, grandma or grandad"}},
		{Name: "the tag is canonicalised: case", Method: "GET", Path: "/api/v1/forms/sct/versions/1?lang=AR", Status: 200,
			Want: []string{`"language":"ar"`, `"dir":"rtl"`}},
		{Name: "the tag is canonicalised: a region reads its language", Method: "GET", Path: "/api/v1/forms/sct/versions/1?lang=ar-EG", Status: 200,
			Want: []string{`"language":"ar"`}},
		{Name: "an unknown language is a 404 naming the languages there are", Method: "GET", Path: "/api/v1/forms/sct/versions/1?lang=fr", Status: 404,
			Want: []string{`"error":"sct version 1 has no wording in \"fr\"; its languages: en, ar, cy"`, `"path":"lang"`}},
		{Name: "each version names its own languages", Method: "GET", Path: "/api/v1/forms/practice-summary/versions/2?lang=ar", Status: 404,
			Want: []string{"its languages: en, cy"}},
		{Name: "a practice summary in Welsh", Method: "GET", Path: "/api/v1/forms/practice-summary/versions/2?lang=cy", Status: 200,
			Want: []string{`"title":"Crynodeb ymarfer (fformat newydd)"`, `"code":"genogram"`, `"dir":"ltr"`}},
		{Name: "a malformed tag is a 400", Method: "GET", Path: "/api/v1/forms/sct/versions/1?lang=!!", Status: 400,
			Want: []string{`{"path":"lang","reason":"must be a BCP 47 language tag, one of en, ar, cy"}`}},
	})

	// Each language's answer has its own ETag, and Content-Language.
	tags := map[string]bool{}
	for _, lang := range []string{"", "cy", "ar"} {
		res, body := s.Send(t, "GET", "/api/v1/forms/sct/versions/1?lang="+lang, "", nil)
		etag := res.Header.Get("ETag")
		if res.StatusCode != 200 || etag == "" || tags[etag] {
			t.Fatalf("lang %q: %d, ETag %q (seen: %v)", lang, res.StatusCode, etag, tags)
		}
		tags[etag] = true
		var def struct{ Language string }
		if err := json.Unmarshal(body, &def); err != nil || res.Header.Get("Content-Language") != def.Language {
			t.Errorf("lang %q: Content-Language %q, language %q (%v)", lang, res.Header.Get("Content-Language"), def.Language, err)
		}
		again, _ := s.Send(t, "GET", "/api/v1/forms/sct/versions/1?lang="+lang, "", map[string]string{"If-None-Match": etag})
		if again.StatusCode != 304 {
			t.Errorf("lang %q: If-None-Match with its own ETag is %d, want 304", lang, again.StatusCode)
		}
	}
}

// A response records the language it was completed in; the wide export
// carries it beside codes that are the same in every language.
func TestAPI_ResponseLanguage(t *testing.T) {
	s := servertest.Start(t, t.TempDir(), forms.FS())
	s.AddUsers(t)
	for _, child := range []string{"L1", "L2", "L3"} {
		if st, body := s.Do(t, "POST", "/api/v1/children", `{"id":"`+child+`","site":"A","group":"lifelong_links"}`, "coordA"); st != 201 {
			t.Fatalf("register %s: %d %s", child, st, body)
		}
	}
	withLang := func(child, lang string) string {
		return strings.Replace(sctRequest(child, "baseline", "2019-06-14", "submitted", firstAnswers), `"mode":"paper"`, `"mode":"online","language":`+lang, 1)
	}
	servertest.RunScenarios(t, s, []servertest.Scenario{
		{Name: "completed in Arabic", As: "coordA", Method: "PUT", Path: "/api/v1/responses/" + idA, Body: withLang("L1", `"AR"`), Status: 201,
			Want: []string{`"language":"ar"`, `"relationship":"grandparent"`}},
		{Name: "completed in Welsh", As: "coordA", Method: "PUT", Path: "/api/v1/responses/" + idB, Body: withLang("L2", `"cy"`), Status: 201,
			Want: []string{`"language":"cy"`}},
		{Name: "no language is English", As: "coordA", Method: "PUT", Path: "/api/v1/responses/" + idC,
			Body: sctRequest("L3", "baseline", "2019-06-14", "submitted", firstAnswers), Status: 201, Want: []string{`"language":"en"`}},
		{Name: "read back", As: "coordA", Method: "GET", Path: "/api/v1/responses/" + idA, Status: 200, Want: []string{`"language":"ar"`}},
		{Name: "a language the form does not have is refused, naming those it has", As: "coordA", Method: "PUT",
			Path: "/api/v1/responses/4a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", Body: withLang("L1", `"fr"`), Status: 422,
			Want: []string{`{"path":"language","reason":"form sct version 1 has no wording in \"fr\"; its languages: en, ar, cy"}`}},
		{Name: "nothing half-written", As: "coordA", Method: "GET", Path: "/api/v1/responses/4a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", Status: 404},
	})
	st, body := s.Do(t, "GET", "/api/v1/exports/sct_wide.csv", "", "evaluator")
	if st != 200 {
		t.Fatalf("export: %d %s", st, body)
	}
	rows, err := csv.NewReader(strings.NewReader(string(body))).ReadAll()
	if err != nil || len(rows) != 4 {
		t.Fatalf("export: %d rows, %v\n%s", len(rows), err, body)
	}
	col := map[string]int{}
	for i, name := range rows[0] {
		col[name] = i
	}
	got := map[string]string{}
	for _, r := range rows[1:] {
		got[r[col["child_id"]]] = r[col["language"]]
		if r[col["nominees_1_relationship"]] != rows[1][col["nominees_1_relationship"]] {
			t.Errorf("%s: nominee 1 coded %s, %s in another language", r[col["child_id"]], r[col["nominees_1_relationship"]], rows[1][col["nominees_1_relationship"]])
		}
	}
	if got["L1"] != "ar" || got["L2"] != "cy" || got["L3"] != "en" {
		t.Errorf("exported languages %v, want L1 ar, L2 cy, L3 en", got)
	}
}
