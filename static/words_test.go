package static

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"

	"golang.org/x/text/feature/plural"
	"golang.org/x/text/language"
)

// pageWords is one static/i18n/<code>.json: the page's own words in one
// language.
type pageWords struct {
	Language    string                   `json:"language"`
	Name        string                   `json:"name"`
	EnglishName string                   `json:"english_name"`
	Dir         string                   `json:"dir"`
	Draft       bool                     `json:"draft"`
	Reviewed    *struct{ By, On string } `json:"reviewed"`
	Words       map[string]any           `json:"words"`
}

func loadWords(t *testing.T) map[string]pageWords {
	t.Helper()
	files, err := fs.Glob(FS(), "i18n/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no page words: %v", err)
	}
	out := map[string]pageWords{}
	for _, f := range files {
		b, err := fs.ReadFile(FS(), f)
		if err != nil {
			t.Fatal(err)
		}
		var w pageWords
		if err := json.Unmarshal(b, &w); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if f != "i18n/"+w.Language+".json" {
			t.Errorf("%s says it is %q", f, w.Language)
		}
		out[w.Language] = w
	}
	return out
}

// pluralForms are the plural categories a language's numbers fall in,
// by the CLDR rules: English has one and other, Welsh and Arabic six.
func pluralForms(code string) []string {
	names := map[plural.Form]string{plural.Zero: "zero", plural.One: "one", plural.Two: "two", plural.Few: "few", plural.Many: "many", plural.Other: "other"}
	seen := map[string]bool{}
	for n := 0; n <= 1000; n++ {
		seen[names[plural.Cardinal.MatchPlural(language.Make(code), n, 0, 0, 0, 0)]] = true
	}
	return slices.Sorted(maps.Keys(seen))
}

var placeholder = regexp.MustCompile(`\{(\w+)\}`)

func vars(s string) []string {
	var out []string
	for _, m := range placeholder.FindAllStringSubmatch(s, -1) {
		if !slices.Contains(out, m[1]) {
			out = append(out, m[1])
		}
	}
	slices.Sort(out)
	return out
}

// Every page word has its translation in every shipped language, with the
// same placeholders, and every plural form the language's numbers need; a
// translation has no word English does not. A translation not reviewed
// by a native speaker says it is a draft.
func TestPageWords_CompleteInEveryLanguage(t *testing.T) {
	all := loadWords(t)
	en, ok := all["en"]
	if !ok {
		t.Fatal("no English page words")
	}
	for code, w := range all {
		t.Run(code, func(t *testing.T) {
			canon, err := language.Parse(code)
			if err != nil || canon.String() != code {
				t.Errorf("%q is not a canonical language tag", code)
			}
			if w.Name == "" || w.EnglishName == "" || (w.Dir != "ltr" && w.Dir != "rtl") {
				t.Errorf("name %q, english_name %q, dir %q", w.Name, w.EnglishName, w.Dir)
			}
			switch {
			case code == "en" && w.Draft:
				t.Error("English is the source, not a draft")
			case code != "en" && w.Reviewed == nil && !w.Draft:
				t.Error("not reviewed by a native speaker, so it must say draft: true")
			case w.Reviewed != nil && (w.Draft || w.Reviewed.By == "" || w.Reviewed.On == ""):
				t.Errorf("reviewed %+v with draft %v", *w.Reviewed, w.Draft)
			}
			forms := pluralForms(code)
			for key, src := range en.Words {
				got, ok := w.Words[key]
				if !ok {
					t.Errorf("%s: no translation", key)
					continue
				}
				switch s := src.(type) {
				case string:
					g, ok := got.(string)
					if !ok || strings.TrimSpace(g) == "" {
						t.Errorf("%s: %v, want words", key, got)
					} else if !slices.Equal(vars(g), vars(s)) {
						t.Errorf("%s: placeholders %v, want %v", key, vars(g), vars(s))
					}
				case map[string]any:
					g, ok := got.(map[string]any)
					if !ok || !slices.Equal(slices.Sorted(maps.Keys(g)), forms) {
						t.Errorf("%s: plural forms %v, want %v (the forms %s numbers take)", key, keysOf(got), forms, code)
						continue
					}
					want := vars(fmt.Sprint(s["other"]))
					for form, text := range g {
						for _, v := range vars(fmt.Sprint(text)) {
							if !slices.Contains(want, v) {
								t.Errorf("%s.%s: placeholder {%s} English does not have", key, form, v)
							}
						}
					}
				default:
					t.Errorf("%s: English is neither words nor plural forms", key)
				}
			}
			for key := range w.Words {
				if _, ok := en.Words[key]; !ok {
					t.Errorf("%s: no such page word in English", key)
				}
			}
		})
	}
}

func keysOf(v any) []string {
	m, _ := v.(map[string]any)
	return slices.Sorted(maps.Keys(m))
}

// The pages ask only for words there are; every word is asked for; the
// language list the pages offer is the files there are; and the service
// worker keeps every script and every language's words for use offline.
func TestPageWords_MatchThePages(t *testing.T) {
	all := loadWords(t)
	en := all["en"]
	scripts, _ := fs.Glob(FS(), "js/*.js")
	var src, asking strings.Builder
	for _, f := range scripts {
		b, _ := fs.ReadFile(FS(), f)
		src.Write(b)
		if strings.Contains(string(b), "from './i18n.js'") {
			asking.Write(b) // its t and tx are the page words'
		}
	}
	js := src.String()
	for _, m := range regexp.MustCompile(`\btx?\('([A-Za-z.]+)'`).FindAllStringSubmatch(asking.String(), -1) {
		if _, ok := en.Words[m[1]]; !ok {
			t.Errorf("the pages ask for %q, which is not a page word", m[1])
		}
	}
	for key := range en.Words {
		dynamic := strings.HasPrefix(key, "path.") && strings.Contains(js, "t(`path.${")
		if !strings.Contains(js, "'"+key+"'") && !dynamic {
			t.Errorf("page word %q is never used", key)
		}
	}
	i18n, _ := fs.ReadFile(FS(), "js/i18n.js")
	m := regexp.MustCompile(`PAGE_LANGUAGES = \[([^\]]*)\]`).FindSubmatch(i18n)
	if m == nil {
		t.Fatal("i18n.js names no PAGE_LANGUAGES")
	}
	offered := strings.Fields(strings.NewReplacer("'", " ", ",", " ").Replace(string(m[1])))
	if got, want := slices.Sorted(slices.Values(offered)), slices.Sorted(maps.Keys(all)); !slices.Equal(got, want) {
		t.Errorf("PAGE_LANGUAGES %v, but the page words are in %v", got, want)
	}
	sw, _ := fs.ReadFile(FS(), "sw.js")
	for _, f := range scripts {
		if !strings.Contains(string(sw), "'/"+f+"'") {
			t.Errorf("sw.js does not keep /%s", f)
		}
	}
	for code := range all {
		if !strings.Contains(string(sw), "'/i18n/"+code+".json'") {
			t.Errorf("sw.js does not keep /i18n/%s.json", code)
		}
	}
}
