package form

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/text/language"
)

// Default is the language a definition itself is written in.
const Default = "en"

// Language is one language a form version can be read in.
type Language struct {
	// Code is the canonical BCP 47 tag, e.g. "cy" or "ar".
	Code string `json:"code"`
	// Name is the language's name in that language ("Cymraeg"), as a
	// person picking it looks for it.
	Name string `json:"name"`
	// EnglishName is its name in English ("Welsh").
	EnglishName string `json:"english_name"`
	// Dir is the writing direction: "ltr" or "rtl".
	Dir string `json:"dir"`
	// Draft marks a translation no native speaker has reviewed yet.
	Draft bool `json:"draft"`
}

// Review says who checked a translation, a native speaker, and when.
type Review struct {
	By string `json:"by"`
	On string `json:"on"`
}

// Translation is the wording of one form version in another language: a
// file <form>/<version>.<language>.json beside the definition. Its wordings
// are keyed as WordingKeys names them; codes, values and structure are the
// definition's and never change with the language.
type Translation struct {
	Form        string            `json:"form"`
	Version     string            `json:"version"`
	Language    string            `json:"language"`
	Name        string            `json:"name"`
	EnglishName string            `json:"english_name"`
	Dir         string            `json:"dir"`
	Draft       bool              `json:"draft"`
	Reviewed    *Review           `json:"reviewed"`
	Wordings    map[string]string `json:"wordings"`

	// File is where the translation was loaded from.
	File string `json:"-"`
}

// english is the definition's own language.
var english = Language{Code: Default, Name: "English", EnglishName: "English", Dir: "ltr"}

// Errors of Localized.
var (
	// ErrBadLanguage means a language tag is not BCP 47.
	ErrBadLanguage = errors.New("not a language tag")
	// ErrNoLanguage means the form version has no wording in that language.
	ErrNoLanguage = errors.New("no wording in that language")
)

// CanonicalLanguage canonicalises a BCP 47 tag once, as every check then
// compares it: case and separators normalised ("AR" → "ar", "cy_gb" →
// "cy-GB"), deprecated codes replaced ("iw" → "he").
func CanonicalLanguage(tag string) (string, error) {
	t, err := language.Parse(strings.ReplaceAll(strings.TrimSpace(tag), "_", "-"))
	if err != nil || tag == "" {
		return "", fmt.Errorf("%q: %w", tag, ErrBadLanguage)
	}
	return t.String(), nil
}

// Localized is a definition in one language, as served.
type Localized struct {
	Language Language
	// JSON is the definition with its wordings in the language, and the
	// language, direction and every language the version has beside them.
	JSON []byte
	// ETag identifies JSON: it changes when a translation does, while the
	// definition's own Hash never does.
	ETag string
}

// Languages lists the languages the version can be read in: its own first,
// then its translations by code.
func (d *Definition) Languages() []Language {
	out := make([]Language, 0, len(d.localized))
	for _, code := range d.langOrder {
		out = append(out, d.localized[code].Language)
	}
	return out
}

// Localized returns the definition in a language. The tag is canonicalised,
// then matched exactly or, failing that, by its base language: "ar-EG"
// reads the Arabic of "ar", while "ar" never reads a regional "ar-EG".
// An empty tag is the definition's own language.
func (d *Definition) Localized(tag string) (*Localized, error) {
	if tag == "" {
		tag = Default
	}
	code, err := CanonicalLanguage(tag)
	if err != nil {
		return nil, err
	}
	if l, ok := d.localized[code]; ok {
		return l, nil
	}
	t := language.Make(code)
	if base, conf := t.Base(); conf != language.No {
		if l, ok := d.localized[base.String()]; ok {
			return l, nil
		}
	}
	return nil, fmt.Errorf("%s: %w", code, ErrNoLanguage)
}

// LanguageCodes lists the codes of the version's languages.
func (d *Definition) LanguageCodes() []string { return slices.Clone(d.langOrder) }

// WordingKeys returns every wording a person reads in the definition, by
// key, in English. Keys name where each sits: "title", "description",
// "code_lists.<list>.<code>:label" or ":child", "scales.<scale>.<value>:label"
// or ":child", "answers.<field>.<field>:label", ":prompt", ":help" or
// ":limit_message" (list items are passed through), and
// "answers.<field>.rules[<i>]:reason".
func (d *Definition) WordingKeys() map[string]string {
	doc := d.generic()
	out := map[string]string{}
	eachWording(doc, func(key string, obj map[string]any, attr string) {
		out[key] = obj[attr].(string)
	})
	return out
}

// generic is the definition as decoded JSON, a fresh copy each call.
func (d *Definition) generic() map[string]any {
	var doc map[string]any
	if err := json.Unmarshal(d.canonical, &doc); err != nil {
		panic(fmt.Sprintf("canonical definition does not decode: %v", err)) // made by json.Marshal
	}
	return doc
}

// wordingAttrs are a field's attributes that hold words.
var wordingAttrs = []string{"label", "prompt", "help", "limit_message"}

// eachWording calls fn for every non-empty wording of a decoded definition,
// in a fixed order, with its key, the object holding it and its attribute.
func eachWording(doc map[string]any, fn func(key string, obj map[string]any, attr string)) {
	visit := func(key string, obj map[string]any, attr string) {
		if s, ok := obj[attr].(string); ok && s != "" {
			fn(key, obj, attr)
		}
	}
	visit("title", doc, "title")
	visit("description", doc, "description")
	lists, _ := doc["code_lists"].(map[string]any)
	for _, name := range slices.Sorted(maps.Keys(lists)) {
		codes, _ := lists[name].([]any)
		for _, c := range codes {
			code, _ := c.(map[string]any)
			where := "code_lists." + name + "." + fmt.Sprint(code["code"])
			visit(where+":label", code, "label")
			visit(where+":child", code, "child")
		}
	}
	scales, _ := doc["scales"].(map[string]any)
	for _, name := range slices.Sorted(maps.Keys(scales)) {
		points, _ := scales[name].([]any)
		for _, p := range points {
			point, _ := p.(map[string]any)
			where := "scales." + name + "." + strconv.FormatFloat(point["value"].(float64), 'f', -1, 64)
			visit(where+":label", point, "label")
			visit(where+":child", point, "child")
		}
	}
	var field func(where string, f map[string]any)
	field = func(where string, f map[string]any) {
		for _, attr := range wordingAttrs {
			visit(where+":"+attr, f, attr)
		}
		rules, _ := f["rules"].([]any)
		for i, r := range rules {
			rule, _ := r.(map[string]any)
			visit(fmt.Sprintf("%s.rules[%d]:reason", where, i), rule, "reason")
		}
		if item, ok := f["item"].(map[string]any); ok {
			// A list's item has no name of its own: its words are the list's.
			for _, attr := range wordingAttrs {
				visit(where+".item:"+attr, item, attr)
			}
			rules, _ := item["rules"].([]any)
			for i, r := range rules {
				rule, _ := r.(map[string]any)
				visit(fmt.Sprintf("%s.rules[%d]:reason", where, i), rule, "reason")
			}
			f = item
		}
		fields, _ := f["fields"].([]any)
		for _, c := range fields {
			child, _ := c.(map[string]any)
			field(where+"."+fmt.Sprint(child["name"]), child)
		}
	}
	if answers, ok := doc["answers"].(map[string]any); ok {
		field("answers", answers)
	}
}

// ParseTranslation decodes and checks one translation file against the
// definition it translates: every wording key the definition has, and no
// other, each with words.
func ParseTranslation(file string, data []byte, d *Definition) (*Translation, error) {
	var present map[string]json.RawMessage
	if err := json.Unmarshal(data, &present); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	var t Translation
	if err := decodeStrict(file, "translation", data, &t); err != nil {
		return nil, err
	}
	t.File = file
	var faults []string
	fault := func(where, format string, args ...any) {
		faults = append(faults, where+": "+fmt.Sprintf(format, args...))
	}
	code, err := CanonicalLanguage(t.Language)
	switch {
	case err != nil:
		fault("language", "must be a BCP 47 language tag, got %q", t.Language)
	case code != t.Language:
		fault("language", "must be written canonically, %q not %q", code, t.Language)
	case code == Default:
		fault("language", "%q is the definition's own language; its wording is the definition's", code)
	}
	if t.Name == "" {
		fault("name", "is required: the language's name in that language")
	}
	if t.EnglishName == "" {
		fault("english_name", "is required")
	}
	if t.Dir != "ltr" && t.Dir != "rtl" {
		fault("dir", "must be ltr or rtl, got %q", t.Dir)
	}
	for _, key := range []string{"draft", "reviewed"} {
		if _, ok := present[key]; !ok {
			fault(key, "is required (a translation not yet reviewed by a native speaker is draft, reviewed null)")
		}
	}
	switch {
	case t.Reviewed == nil && !t.Draft:
		fault("draft", "must be true while no native speaker has reviewed the translation (reviewed is null)")
	case t.Reviewed != nil && t.Draft:
		fault("draft", "must be false once reviewed")
	case t.Reviewed != nil:
		if strings.TrimSpace(t.Reviewed.By) == "" {
			fault("reviewed.by", "is required: who reviewed it")
		}
		if !isDate(t.Reviewed.On) {
			fault("reviewed.on", "must be a date YYYY-MM-DD, got %q", t.Reviewed.On)
		}
	}
	if t.Form != d.Form || t.Version != d.Version {
		fault("form", "translates %s version %s, but lives beside %s version %s", t.Form, t.Version, d.Form, d.Version)
	}
	want := d.WordingKeys()
	var missing, extra, empty []string
	for k := range want {
		if _, ok := t.Wordings[k]; !ok {
			missing = append(missing, k)
		}
	}
	for k, v := range t.Wordings {
		if _, ok := want[k]; !ok {
			extra = append(extra, k)
		} else if strings.TrimSpace(v) == "" {
			empty = append(empty, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	sort.Strings(empty)
	if len(missing) > 0 {
		fault("wordings", "no translation of %s", strings.Join(missing, ", "))
	}
	if len(extra) > 0 {
		fault("wordings", "%s: the definition has no such wording", strings.Join(extra, ", "))
	}
	if len(empty) > 0 {
		fault("wordings", "empty translation of %s", strings.Join(empty, ", "))
	}
	if len(faults) > 0 {
		return nil, fmt.Errorf("%s: %s", file, strings.Join(faults, "; "))
	}
	wantFile := d.Form + "/" + d.Version + "." + t.Language + ".json"
	if file != wantFile && !strings.HasSuffix(file, "/"+wantFile) {
		return nil, fmt.Errorf("%s: the %s translation of %s version %s must live in %s", file, t.Language, d.Form, d.Version, wantFile)
	}
	return &t, nil
}

// localize builds what the definition serves in each of its languages.
func (d *Definition) localize(translations []*Translation) error {
	langs := []Language{english}
	byCode := map[string]*Translation{}
	for _, t := range translations {
		if _, dup := byCode[t.Language]; dup {
			return fmt.Errorf("%s: a second %s translation of %s version %s", t.File, t.Language, d.Form, d.Version)
		}
		byCode[t.Language] = t
		langs = append(langs, Language{Code: t.Language, Name: t.Name, EnglishName: t.EnglishName, Dir: t.Dir, Draft: t.Draft})
	}
	sort.SliceStable(langs[1:], func(i, j int) bool { return langs[1+i].Code < langs[1+j].Code })
	d.localized = make(map[string]*Localized, len(langs))
	d.langOrder = d.langOrder[:0]
	for _, l := range langs {
		doc := d.generic()
		if t := byCode[l.Code]; t != nil {
			eachWording(doc, func(key string, obj map[string]any, attr string) { obj[attr] = t.Wordings[key] })
		}
		doc["language"], doc["dir"], doc["languages"] = l.Code, l.Dir, langs
		b, err := json.Marshal(doc)
		if err != nil {
			return fmt.Errorf("%s: %w", d.File, err)
		}
		sum := sha256.Sum256(b)
		d.localized[l.Code] = &Localized{Language: l, JSON: b, ETag: hex.EncodeToString(sum[:])}
		d.langOrder = append(d.langOrder, l.Code)
	}
	return nil
}
