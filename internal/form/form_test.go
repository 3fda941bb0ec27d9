package form_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/lifelong-links/sct/forms"
	"github.com/lifelong-links/sct/internal/form"
)

func registry(t *testing.T) *form.Registry {
	t.Helper()
	r, err := form.Load(forms.FS())
	if err != nil {
		t.Fatalf("load embedded forms: %v", err)
	}
	return r
}

func TestLoad_EmbeddedDefinitions(t *testing.T) {
	r := registry(t)
	if got := strings.Join(r.Forms(), ","); got != "practice-summary,sct" {
		t.Fatalf("forms = %s", got)
	}
	var versions []string
	for _, d := range r.Versions("practice-summary") {
		versions = append(versions, d.Version)
	}
	if got := strings.Join(versions, ","); got != "1,2" {
		t.Errorf("practice-summary versions = %s, want 1,2", got)
	}
	sct, ok := r.Get("sct", "1")
	if !ok {
		t.Fatal("sct version 1 missing")
	}
	if !sct.HasTimepoints() {
		t.Error("sct must name timepoints")
	}
	if got := len(sct.CodeList("relationship")); got != 15 {
		t.Errorf("relationship codes = %d, want 15 (14 of Table 3 and other)", got)
	}
	if f := sct.Field("nominees"); f == nil || f.MaxItems != 20 {
		t.Errorf("nominees field = %+v, want a list of at most 20", f)
	}
	if f := sct.Field("key_people.support.trust"); f == nil || f.Scale != "likelihood" {
		t.Errorf("key_people.support.trust = %+v, want a likelihood rating", f)
	}
	if len(sct.Hash) != 64 || len(sct.Canonical()) == 0 {
		t.Errorf("hash %q, canonical %d bytes", sct.Hash, len(sct.Canonical()))
	}
}

func TestParse_HashIgnoresLayout(t *testing.T) {
	a, err := form.Parse("x/1.json", []byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	var v any
	_ = json.Unmarshal([]byte(minimal), &v)
	compact, _ := json.Marshal(v)
	b, err := form.Parse("x/1.json", compact)
	if err != nil {
		t.Fatal(err)
	}
	if a.Hash != b.Hash {
		t.Error("same content in another layout must hash the same")
	}
	c, _ := form.Parse("x/1.json", []byte(strings.Replace(minimal, `"Minimal"`, `"Changed"`, 1)))
	if c.Hash == a.Hash {
		t.Error("changed content must hash differently")
	}
}

const minimal = `{
  "form": "x", "version": "1", "title": "Minimal",
  "code_lists": {"colour": [{"code": "red", "label": "Red"}]},
  "scales": {"s": [{"value": 1, "label": "Low"}, {"value": 2, "label": "High"}]},
  "answers": {"type": "object", "fields": [
    {"name": "people", "type": "list", "max_items": 3, "item": {"type": "object", "fields": [
      {"name": "colour", "type": "code", "codes": "colour"}]}},
    {"name": "pick", "type": "ref", "ref": "people"},
    {"name": "score", "type": "rating", "scale": "s"}
  ]}
}`

func TestParse_RejectsMalformedDefinition(t *testing.T) {
	tests := []struct {
		name, file, old, new, want string
	}{
		{"not JSON", "x/1.json", `"form"`, `form`, "invalid character"},
		{"unknown key", "x/1.json", `"title"`, `"titel": "", "title"`, `unknown field "titel"`},
		{"unknown type", "x/1.json", `"type": "rating"`, `"type": "stars"`, `answers.score: unknown type "stars"`},
		{"missing code list", "x/1.json", `"codes": "colour"`, `"codes": "color"`, `answers.people.item.colour: codes names "color"`},
		{"missing scale", "x/1.json", `"scale": "s"`, `"scale": "t"`, `answers.score: scale names "t"`},
		{"ref to nothing", "x/1.json", `"ref": "people"`, `"ref": "persons"`, `answers.pick: ref names "persons"`},
		{"list without limit", "x/1.json", `"max_items": 3, `, ``, "answers.people: a list needs max_items"},
		{"duplicate code", "x/1.json", `{"code": "red", "label": "Red"}`, `{"code": "red", "label": "Red"}, {"code": "red", "label": "Rouge"}`, `code "red" appears twice`},
		{"scale not increasing", "x/1.json", `"value": 2`, `"value": 1`, "scales.s[1]: values must increase"},
		{"duplicate field", "x/1.json", `{"name": "score"`, `{"name": "pick", "type": "text", "max_length": 3}, {"name": "score"`, `field "pick" appears twice`},
		{"bad version", "x/1.json", `"version": "1"`, `"version": ""`, "version: must be"},
		{"wrong file", "x/2.json", ``, ``, `must live in x/1.json`},
		{"no title", "x/1.json", `"title": "Minimal",`, ``, "title: is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := minimal
			if tt.old != "" {
				src = strings.Replace(minimal, tt.old, tt.new, 1)
			}
			_, err := form.Parse(tt.file, []byte(src))
			if err == nil {
				t.Fatal("parsed; want an error")
			}
			if !strings.HasPrefix(err.Error(), tt.file+": ") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want it to name %s and contain %q", err, tt.file, tt.want)
			}
		})
	}
}

func TestLoad_NamesFaultyFile(t *testing.T) {
	fsys := fstest.MapFS{
		"x/1.json": {Data: []byte(minimal)},
		"y/1.json": {Data: []byte(`{"form":"y","version":"1","title":"Y","answers":{"type":"object","fields":[{"name":"a","type":"text"}]}}`)},
	}
	_, err := form.Load(fsys)
	if err == nil || !strings.Contains(err.Error(), "y/1.json: answers.a: text needs max_length") {
		t.Fatalf("error %v, want it to name y/1.json and the fault", err)
	}
}

// sctBody builds SCT answers with n nominees and the given key people.
func sctBody(nominees int, keyPeople ...string) string {
	var ns []string
	for i := range nominees {
		ns = append(ns, fmt.Sprintf(`{"name":"P%d","relationship":"friend"}`, i))
	}
	return fmt.Sprintf(`{"nominees":[%s],"key_people":[%s],"adequacy":{"emotional":3,"trust":1}}`,
		strings.Join(ns, ","), strings.Join(keyPeople, ","))
}

const fullSupport = `"support":{"emotional":4,"practical":3,"advice":4,"advocacy":2,"socialising":4,"lifelong":4,"trust":4,"positive_feedback":1}`

func important(i int) string {
	return fmt.Sprintf(`{"nominee":%d,"reason":"important",%s,"let_down":1}`, i, fullSupport)
}

func TestValidate_SCT(t *testing.T) {
	sct, _ := registry(t).Get("sct", "1")
	tests := []struct {
		name     string
		body     string
		complete bool
		want     []string // "path: reason fragment"; none means valid
	}{
		{name: "full response", complete: true,
			body: sctBody(4, important(0), important(1), important(2),
				`{"reason":"support","name":"Mr K","relationship":"school_staff","support":{"trust":3}}`,
				`{"reason":"support","nominee":3}`)},
		{name: "skipped items are fine", complete: true, body: `{"nominees":[{"relationship":"sibling"}],"key_people":[{"nominee":0,"reason":"important","support":{"emotional":null}}],"adequacy":{}}`},
		{name: "empty submitted SCT", complete: true, body: `{}`},
		{name: "draft may be incomplete", body: `{"nominees":[{"name":"Nan"}],"key_people":[{"reason":"important"}]}`},
		{name: "key person points at missing nominee", complete: true, body: sctBody(2, important(2)),
			want: []string{"answers.key_people[0].nominee: points at nominees[2], but nominees has 2 entries"}},
		{name: "nominee chosen twice", complete: true, body: sctBody(3, important(1), important(1)),
			want: []string{"answers.key_people[1].nominee: 1 is already chosen at answers.key_people[0]"}},
		{name: "sixth key person", complete: true, body: sctBody(6, important(0), important(1), important(2), important(3), important(4), important(5)),
			want: []string{"answers.key_people: has 6 entries; at most 5 allowed"}},
		{name: "fourth most important person", complete: true, body: sctBody(4, important(0), important(1), important(2), important(3)),
			want: []string{`answers.key_people[3].reason: at most 3 entries may have reason "important"`}},
		{name: "third extra supporter", complete: true,
			body: sctBody(3, `{"reason":"support","nominee":0}`, `{"reason":"support","nominee":1}`, `{"reason":"support","nominee":2}`),
			want: []string{`answers.key_people[2].reason: at most 2 entries may have reason "support"`}},
		{name: "rating of 5", complete: true, body: sctBody(1, `{"nominee":0,"reason":"important","support":{"trust":5}}`),
			want: []string{"answers.key_people[0].support.trust: must be a rating of 1 (not at all), 2 (not really), 3 (probably), 4 (definitely); got 5"}},
		{name: "rating with a fraction", body: sctBody(1, `{"nominee":0,"reason":"important","let_down":2.5}`),
			want: []string{"answers.key_people[0].let_down: must be a rating"}},
		{name: "rating as text", body: `{"adequacy":{"advice":"3"}}`,
			want: []string{`answers.adequacy.advice: must be a rating of 1 (no one), 2 (too few people), 3 (enough people); got "3"`}},
		{name: "unknown relationship code", body: `{"nominees":[{"name":"A","relationship":"aunt"}]}`,
			want: []string{`answers.nominees[0].relationship: must be one of the 15 relationship codes`}},
		{name: "unknown field", body: `{"nominees":[],"pets":["Rex"]}`,
			want: []string{"answers.pets: is not a field of this form version"}},
		{name: "twenty-one nominees", body: sctBody(21),
			want: []string{"answers.nominees: has 21 entries; at most 20 allowed"}},
		{name: "important person must come from the list", complete: true,
			body: `{"key_people":[{"reason":"important","relationship":"friend"}]}`,
			want: []string{"answers.key_people[0].nominee: one of the 3 most important people must be someone from the list"}},
		{name: "both a nominee and a new person", body: sctBody(1, `{"reason":"support","nominee":0,"relationship":"friend"}`),
			want: []string{"answers.key_people[0]: has both nominee and relationship"}},
		{name: "key person without anyone", complete: true, body: `{"key_people":[{"reason":"support"}]}`,
			want: []string{"answers.key_people[0]: needs one of nominee or relationship"}},
		{name: "other text without other", body: `{"nominees":[{"relationship":"friend","other_text":"neighbour"}]}`,
			want: []string{`answers.nominees[0].other_text: is only allowed when relationship is "other"`}},
		{name: "submitted nominee needs a relationship", complete: true, body: `{"nominees":[{"name":"Nan"}]}`,
			want: []string{"answers.nominees[0].relationship: is required"}},
		{name: "name too long", body: `{"nominees":[{"name":"` + strings.Repeat("é", 61) + `"}]}`,
			want: []string{"answers.nominees[0].name: is 61 characters long; at most 60 allowed"}},
		{name: "not an object", body: `[1,2]`, want: []string{"answers: must be an object"}},
		{name: "broken JSON", body: `{"nominees":`, want: []string{"answers: is not valid JSON"}},
		{name: "every fault listed", body: `{"nominees":[{"relationship":"x"}],"adequacy":{"trust":0,"advice":9}}`,
			want: []string{"answers.nominees[0].relationship:", "answers.adequacy.advice:", "answers.adequacy.trust:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errs := sct.Validate([]byte(tt.body), tt.complete)
			if len(tt.want) == 0 {
				if len(errs) > 0 {
					t.Fatalf("rejected: %v", errs)
				}
				if out == nil {
					t.Fatal("valid answers gave no normalised output")
				}
				return
			}
			if len(errs) != len(tt.want) {
				t.Fatalf("got %d faults %v, want %d", len(errs), errs, len(tt.want))
			}
			for i, w := range tt.want {
				got := errs[i].Path + ": " + errs[i].Reason
				if !strings.HasPrefix(got, w) {
					t.Errorf("fault %d = %q, want it to start with %q", i, got, w)
				}
			}
		})
	}
}

func TestValidate_NormalisesAnswers(t *testing.T) {
	sct, _ := registry(t).Get("sct", "1")
	out, errs := sct.Validate([]byte(`{"nominees":[{"name":"  Nan ","relationship":"grandparent"}],
		"key_people":[{"nominee":0,"reason":"important","support":{"trust":4,"advice":null},"let_down":1}],
		"adequacy":{"emotional":3,"trust":null}}`), true)
	if errs != nil {
		t.Fatal(errs)
	}
	got, _ := json.Marshal(out)
	want := `{"adequacy":{"emotional":3},"key_people":[{"let_down":1,"nominee":0,"reason":"important","support":{"trust":4}}],"nominees":[{"name":"Nan","relationship":"grandparent"}]}`
	if string(got) != want {
		t.Errorf("normalised\n got %s\nwant %s", got, want)
	}
	if _, isInt := out["adequacy"].(map[string]any)["emotional"].(int64); !isInt {
		t.Error("ratings must come out as int64")
	}
}

func TestValidate_PracticeSummary(t *testing.T) {
	r := registry(t)
	oldFormat, _ := r.Get("practice-summary", "1")
	newFormat, _ := r.Get("practice-summary", "2")
	tests := []struct {
		name string
		def  *form.Definition
		body string
		want string
	}{
		{"new format with objectives", newFormat, `{"started_on":"2019-05-01","ended_on":"2019-12-01","tools_used":["genogram","ask_family"],"connections_identified":12,"connections_retained":11,"route":"fgc","fgc_attendees":14,"outcomes":["direct_contact"],"objectives":[{"category":"siblings","met":true},{"category":"family_history","met":false}]}`, ""},
		{"old format has no objectives", oldFormat, `{"started_on":"2018-05-01","objectives":[]}`, "answers.objectives: is not a field of this form version"},
		{"more retained than identified", oldFormat, `{"started_on":"2018-05-01","connections_identified":3,"connections_retained":4}`, "answers.connections_retained: is 4, more than connections_identified (3)"},
		{"ended before it started", newFormat, `{"started_on":"2019-05-01","ended_on":"2019-04-30"}`, "answers.ended_on: is 2019-04-30, before started_on (2019-05-01)"},
		{"attendees without an FGC", newFormat, `{"started_on":"2019-05-01","route":"plan_without_fgc","fgc_attendees":3}`, `answers.fgc_attendees: is only allowed when route is "fgc"`},
		{"tool listed twice", oldFormat, `{"started_on":"2018-05-01","tools_used":["genogram","genogram"]}`, `answers.tools_used[1]: "genogram" is listed twice`},
		{"negative count", oldFormat, `{"started_on":"2018-05-01","connections_identified":-1}`, "answers.connections_identified: must be at least 0"},
		{"start date required", oldFormat, `{}`, "answers.started_on: is required"},
		{"bad date", oldFormat, `{"started_on":"01/05/2018"}`, "answers.started_on: must be a date YYYY-MM-DD"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errs := tt.def.Validate([]byte(tt.body), true)
			if tt.want == "" {
				if errs != nil {
					t.Fatalf("rejected: %v", errs)
				}
				return
			}
			if len(errs) != 1 || !strings.HasPrefix(errs[0].Path+": "+errs[0].Reason, tt.want) {
				t.Fatalf("faults %v, want one starting %q", errs, tt.want)
			}
		})
	}
}

func TestValidate_BoundsFaultsOnHugeBodies(t *testing.T) {
	sct, _ := registry(t).Get("sct", "1")
	body := `{"adequacy":{` + strings.Repeat(`"x":1,`, 5000) + `"emotional":1}}`
	var b strings.Builder
	b.WriteString(`{"nominees":[`)
	for i := range 20 {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6}`)
	}
	b.WriteString(`]}`)
	for _, body := range []string{body, b.String()} {
		_, errs := sct.Validate([]byte(body), true)
		if len(errs) == 0 || len(errs) > 100 {
			t.Errorf("got %d faults, want between 1 and 100", len(errs))
		}
	}
}
