package form_test

import (
	"encoding/json"
	"errors"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/lifelong-links/sct/internal/form"
)

// The shipped translations are complete: loading fails when any wording
// key lacks a translation, or a translation has a key its definition does
// not (TestLoadTranslation_Completeness shows both), so loading the
// embedded forms at all checks every shipped language.
func TestLoad_ShipsSCTInEnglishWelshAndArabic(t *testing.T) {
	r := registry(t)
	sct, _ := r.Get("sct", "1")
	var got []string
	for _, l := range sct.Languages() {
		got = append(got, l.Code+"/"+l.Dir)
	}
	if want := []string{"en/ltr", "ar/rtl", "cy/ltr"}; !slices.Equal(got, want) {
		t.Fatalf("sct 1 languages = %v, want %v", got, want)
	}
	for _, l := range sct.Languages()[1:] {
		if !l.Draft {
			t.Errorf("%s: shipped as reviewed; no native speaker has reviewed it, so it must be a draft", l.Code)
		}
	}
	// The practice summaries, read by staff, are in English and Welsh.
	for _, d := range r.Versions("practice-summary") {
		if got := d.LanguageCodes(); !slices.Equal(got, []string{"en", "cy"}) {
			t.Errorf("practice-summary %s: languages %v, want en, cy", d.Version, got)
		}
	}
}

// A translation is words only: with every wording blanked, each language's
// definition is the English one (codes, values, limits, structure).
func TestLocalized_CodesNeverChange(t *testing.T) {
	sct, _ := registry(t).Get("sct", "1")
	english := sct.WordingKeys()
	blank := func(code string) map[string]any {
		l, err := sct.Localized(code)
		if err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		if err := json.Unmarshal(l.JSON, &doc); err != nil {
			t.Fatal(err)
		}
		if doc["language"] != code {
			t.Errorf("%s: language %v", code, doc["language"])
		}
		delete(doc, "language")
		delete(doc, "dir")
		blankWords(doc)
		return doc
	}
	want := blank("en")
	for _, code := range []string{"cy", "ar"} {
		if got := blank(code); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: the definition differs from the English beyond its wordings", code)
		}
		l, _ := sct.Localized(code)
		same := 0
		for key, en := range english {
			if strings.Contains(string(l.JSON), mustQuote(en)) {
				same++
				t.Logf("%s: %s reads as in English (%q)", code, key, en)
			}
		}
		// Names ("Lifelong Links") may stay as they are; wholesale English may not.
		if same > len(english)/20 {
			t.Errorf("%s: %d of %d wordings are the English", code, same, len(english))
		}
	}
}

func mustQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// blankWords empties every string attribute that holds words.
func blankWords(v any) {
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			switch k {
			case "title", "description", "label", "child", "prompt", "help", "limit_message", "reason":
				if _, ok := c.(string); ok && k != "reason" || isRuleReason(x) {
					x[k] = ""
					continue
				}
			}
			blankWords(c)
		}
	case []any:
		for _, c := range x {
			blankWords(c)
		}
	}
}

// isRuleReason tells a rule (whose reason is words) from a key person's
// field named reason.
func isRuleReason(m map[string]any) bool { _, ok := m["require"]; return ok }

func TestLocalized_CanonicalisesTheTag(t *testing.T) {
	sct, _ := registry(t).Get("sct", "1")
	tests := []struct {
		name, tag, want string
		err             error
	}{
		{"empty is English", "", "en", nil},
		{"exact", "ar", "ar", nil},
		{"upper case", "AR", "ar", nil},
		{"region falls back to the language", "ar-EG", "ar", nil},
		{"underscore and case", "cy_gb", "cy", nil},
		{"English region", "en-GB", "en", nil},
		{"no such language", "fr", "", form.ErrNoLanguage},
		{"not a tag", "!!", "", form.ErrBadLanguage},
		{"too long", "abcdefghi", "", form.ErrBadLanguage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := sct.Localized(tt.tag)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("error %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil || l.Language.Code != tt.want {
				t.Fatalf("got %+v, %v; want %s", l, err, tt.want)
			}
		})
	}
}

const minimalCy = `{
  "form": "x", "version": "1", "language": "cy", "name": "Cymraeg", "english_name": "Welsh", "dir": "ltr",
  "draft": true, "reviewed": null,
  "wordings": {
    "title": "Lleiaf",
    "code_lists.colour.red:label": "Coch",
    "scales.s.1:label": "Isel",
    "scales.s.2:label": "Uchel"
  }
}`

func TestLoadTranslation_Completeness(t *testing.T) {
	tests := []struct {
		name, file, old, new, want string
	}{
		{"a wording lacks its translation", "x/1.cy.json", `"scales.s.2:label": "Uchel"`, `"scales.s.2:labl": "Uchel"`, "no translation of scales.s.2:label"},
		{"a key the definition does not have", "x/1.cy.json", `"title": "Lleiaf",`, `"title": "Lleiaf", "description": "Disgrifiad",`, "description: the definition has no such wording"},
		{"an empty translation", "x/1.cy.json", `"Isel"`, `" "`, "empty translation of scales.s.1:label"},
		{"tag not canonical", "x/1.cy.json", `"language": "cy"`, `"language": "CY"`, `must be written canonically, "cy" not "CY"`},
		{"English is the definition's own", "x/1.en.json", `"language": "cy"`, `"language": "en"`, "the definition's own language"},
		{"direction", "x/1.cy.json", `"dir": "ltr"`, `"dir": "left"`, "dir: must be ltr or rtl"},
		{"review not said", "x/1.cy.json", `"draft": true, "reviewed": null,`, ``, "reviewed: is required"},
		{"unreviewed but not draft", "x/1.cy.json", `"draft": true`, `"draft": false`, "draft: must be true while no native speaker has reviewed"},
		{"reviewed but draft", "x/1.cy.json", `"reviewed": null`, `"reviewed": {"by": "A Reviewer", "on": "2026-12-01"}`, "draft: must be false once reviewed"},
		{"review without a date", "x/1.cy.json", `"draft": true, "reviewed": null`, `"draft": false, "reviewed": {"by": "A Reviewer", "on": "soon"}`, "reviewed.on: must be a date"},
		{"wrong file", "x/1.ar.json", ``, ``, "must live in x/1.cy.json"},
		{"no such version", "x/2.cy.json", `"version": "1"`, `"version": "2"`, `translates form "x" version "2", which is not defined`},
		{"unknown key", "x/1.cy.json", `"dir"`, `"direction": "ltr", "dir"`, `unknown field "direction"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := minimalCy
			if tt.old != "" {
				if !strings.Contains(src, tt.old) {
					t.Fatalf("the case changes nothing: %q", tt.old)
				}
				src = strings.Replace(src, tt.old, tt.new, 1)
			}
			fsys := fstest.MapFS{"x/1.json": {Data: []byte(minimal)}, tt.file: {Data: []byte(src)}}
			_, err := form.Load(fsys)
			if err == nil {
				t.Fatal("loaded; want an error")
			}
			if !strings.HasPrefix(err.Error(), tt.file+": ") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want it to name %s and contain %q", err, tt.file, tt.want)
			}
		})
	}
	t.Run("complete and reviewed loads", func(t *testing.T) {
		src := strings.Replace(minimalCy, `"draft": true, "reviewed": null`, `"draft": false, "reviewed": {"by": "A Reviewer", "on": "2026-12-01"}`, 1)
		r, err := form.Load(fstest.MapFS{"x/1.json": {Data: []byte(minimal)}, "x/1.cy.json": {Data: []byte(src)}})
		if err != nil {
			t.Fatal(err)
		}
		d, _ := r.Get("x", "1")
		l, err := d.Localized("cy")
		if err != nil || l.Language.Draft || !strings.Contains(string(l.JSON), `"title":"Lleiaf"`) || !strings.Contains(string(l.JSON), `"code":"red","label":"Coch"`) {
			t.Fatalf("cy: %+v %v\n%s", l, err, l.JSON)
		}
		if keys := slices.Sorted(maps.Keys(d.WordingKeys())); len(keys) != 4 {
			t.Errorf("wording keys %v", keys)
		}
	})
}
