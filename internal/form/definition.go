// Package form loads the published form definitions and validates answers
// against them. A definition is data (see the top-level forms directory); this
// package is the only place that interprets it.
package form

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"
)

// Field types a definition may use.
const (
	TypeObject  = "object"  // named fields
	TypeList    = "list"    // items of one shape
	TypeText    = "text"    // free text
	TypeCode    = "code"    // one code from a code list
	TypeCodes   = "codes"   // several distinct codes from a code list
	TypeRating  = "rating"  // one value of a scale
	TypeInteger = "integer" // a whole number
	TypeBoolean = "boolean" // true or false
	TypeDate    = "date"    // an ISO date, YYYY-MM-DD
	TypeRef     = "ref"     // the index of an item in a top-level list
)

// Definition is one published version of a form.
type Definition struct {
	Form        string                  `json:"form"`
	Version     string                  `json:"version"`
	Title       string                  `json:"title"`
	Description string                  `json:"description,omitempty"`
	InUse       *Period                 `json:"in_use,omitempty"`
	Timepoints  []string                `json:"timepoints,omitempty"`
	CodeLists   map[string][]Code       `json:"code_lists,omitempty"`
	Scales      map[string][]ScalePoint `json:"scales,omitempty"`
	Answers     Field                   `json:"answers"`

	// Hash is the SHA-256 of the definition's canonical JSON: the identity of
	// a published version.
	Hash string `json:"-"`
	// File is where the definition was loaded from.
	File string `json:"-"`
	// canonical is the definition as compact JSON with sorted keys.
	canonical []byte
	// localized is what it serves in each language, by code; langOrder
	// lists the codes, its own language first.
	localized map[string]*Localized
	langOrder []string
}

// Period is when a version was in use; either end may be open.
type Period struct {
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
}

// Code is one entry of a code list.
type Code struct {
	Code  string `json:"code"`
	Label string `json:"label"`
	// Child is the wording shown to a young person, where it differs.
	Child string `json:"child,omitempty"`
	Icon  string `json:"icon,omitempty"`
}

// ScalePoint is one value of a rating scale.
type ScalePoint struct {
	Value int    `json:"value"`
	Label string `json:"label"`
	Child string `json:"child,omitempty"`
}

// Field describes one answer: a question, or a group or list of them.
type Field struct {
	Name   string `json:"name,omitempty"`
	Type   string `json:"type"`
	Label  string `json:"label,omitempty"`
	Prompt string `json:"prompt,omitempty"` // child-friendly wording
	Help   string `json:"help,omitempty"`

	// Required answers must be present when a response is submitted.
	Required bool `json:"required,omitempty"`
	// Sensitive answers may identify someone (names, free text): they never
	// reach evaluators.
	Sensitive bool `json:"sensitive,omitempty"`
	// OnlyIf allows the answer only when sibling fields hold these codes.
	OnlyIf map[string]string `json:"only_if,omitempty"`

	MaxLength int    `json:"max_length,omitempty"` // text
	Codes     string `json:"codes,omitempty"`      // code, codes: the code list
	Scale     string `json:"scale,omitempty"`      // rating
	Min       *int   `json:"min,omitempty"`        // integer
	Max       *int   `json:"max,omitempty"`        // integer
	// NotMoreThan names a sibling integer this one may not exceed.
	NotMoreThan string `json:"not_more_than,omitempty"`
	// NotBefore names a sibling date this one may not precede.
	NotBefore string `json:"not_before,omitempty"`
	Ref       string `json:"ref,omitempty"` // ref: the top-level list

	// List fields.
	Item     *Field `json:"item,omitempty"`
	MaxItems int    `json:"max_items,omitempty"`
	// Unique names item fields whose present values must differ across items.
	Unique []string `json:"unique,omitempty"`
	// MaxBy caps the number of items per code of one item field.
	MaxBy *MaxBy `json:"max_by,omitempty"`
	// LimitMessage is what the page says, kindly, when a limit is reached.
	LimitMessage string `json:"limit_message,omitempty"`

	// Object fields.
	Fields []Field `json:"fields,omitempty"`
	// ExactlyOneOf names fields of which a submitted answer has exactly one
	// (a draft at most one).
	ExactlyOneOf []string `json:"exactly_one_of,omitempty"`
	Rules        []Rule   `json:"rules,omitempty"`
}

// MaxBy caps list items per code: {"field":"reason","max":{"important":3}}.
type MaxBy struct {
	Field string         `json:"field"`
	Max   map[string]int `json:"max"`
}

// Rule requires fields of an object when its other fields hold given codes.
type Rule struct {
	When    map[string]string `json:"when"`
	Require []string          `json:"require"`
	Reason  string            `json:"reason,omitempty"`
}

// Canonical returns the definition as published: compact JSON, sorted keys.
func (d *Definition) Canonical() []byte { return d.canonical }

// Field returns the field at a dotted path of names below the answers root
// (list items are passed through), or nil.
func (d *Definition) Field(dotted string) *Field {
	f := &d.Answers
	for _, name := range strings.Split(dotted, ".") {
		for f.Type == TypeList && f.Item != nil {
			f = f.Item
		}
		f = f.child(name)
		if f == nil {
			return nil
		}
	}
	return f
}

// CodeList returns the codes of a list in definition order.
func (d *Definition) CodeList(name string) []string {
	out := make([]string, 0, len(d.CodeLists[name]))
	for _, c := range d.CodeLists[name] {
		out = append(out, c.Code)
	}
	return out
}

// HasTimepoints reports whether responses to this form name a timepoint.
func (d *Definition) HasTimepoints() bool { return len(d.Timepoints) > 0 }

func (f *Field) child(name string) *Field {
	for i := range f.Fields {
		if f.Fields[i].Name == name {
			return &f.Fields[i]
		}
	}
	return nil
}

// Parse decodes and checks one definition file. file names the definition in
// errors and must be <form>/<version>.json.
func Parse(file string, data []byte) (*Definition, error) {
	var d Definition
	if err := decodeStrict(file, "definition", data, &d); err != nil {
		return nil, err
	}
	var generic any
	if err := json.Unmarshal(data, &generic); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	canonical, err := json.Marshal(generic) // map keys come out sorted
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	sum := sha256.Sum256(canonical)
	d.Hash, d.File, d.canonical = hex.EncodeToString(sum[:]), file, canonical

	if faults := d.check(); len(faults) > 0 {
		return nil, fmt.Errorf("%s: %s", file, strings.Join(faults, "; "))
	}
	want := d.Form + "/" + d.Version + ".json"
	if file != want && !strings.HasSuffix(file, "/"+want) {
		return nil, fmt.Errorf("%s: form %q version %q must live in %s", file, d.Form, d.Version, want)
	}
	if err := d.localize(nil); err != nil {
		return nil, err
	}
	return &d, nil
}

// Registry holds every loaded definition.
type Registry struct {
	defs  map[string]*Definition // by form + "@" + version
	forms []string               // sorted form ids
}

// Load reads every <form>/<version>.json in fsys, and beside each any
// translations, <form>/<version>.<language>.json. Any fault stops loading
// with an error naming the file and the fault: a translation that lacks a
// wording of its definition, or has one the definition does not, is one.
func Load(fsys fs.FS) (*Registry, error) {
	files, err := fs.Glob(fsys, "*/*.json")
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, errors.New("no form definitions found")
	}
	r := &Registry{defs: make(map[string]*Definition)}
	type pending struct {
		file string
		data []byte
		head struct{ Form, Version string }
	}
	var translations []pending
	for _, file := range files {
		data, err := fs.ReadFile(fsys, file)
		if err != nil {
			return nil, err
		}
		// A translation says which language it is in; a definition does not.
		var head struct {
			Form, Version string
			Language      *string
		}
		if err := json.Unmarshal(data, &head); err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		if head.Language != nil {
			p := pending{file: path.Clean(file), data: data}
			p.head.Form, p.head.Version = head.Form, head.Version
			translations = append(translations, p)
			continue
		}
		d, err := Parse(path.Clean(file), data)
		if err != nil {
			return nil, err
		}
		key := d.Form + "@" + d.Version
		if _, dup := r.defs[key]; dup {
			return nil, fmt.Errorf("%s: form %q version %q defined twice", file, d.Form, d.Version)
		}
		if _, seen := r.byForm(d.Form); !seen {
			r.forms = append(r.forms, d.Form)
		}
		r.defs[key] = d
	}
	sort.Strings(r.forms)
	byDef := map[*Definition][]*Translation{}
	for _, p := range translations {
		d, ok := r.defs[p.head.Form+"@"+p.head.Version]
		if !ok {
			return nil, fmt.Errorf("%s: translates form %q version %q, which is not defined", p.file, p.head.Form, p.head.Version)
		}
		t, err := ParseTranslation(p.file, p.data, d)
		if err != nil {
			return nil, err
		}
		byDef[d] = append(byDef[d], t)
	}
	for d, ts := range byDef {
		if err := d.localize(ts); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// Get returns one version of a form.
func (r *Registry) Get(form, version string) (*Definition, bool) {
	d, ok := r.defs[form+"@"+version]
	return d, ok
}

// Forms returns the form ids, sorted.
func (r *Registry) Forms() []string { return append([]string(nil), r.forms...) }

// Versions returns a form's definitions, oldest version first.
func (r *Registry) Versions(form string) []*Definition {
	defs, _ := r.byForm(form)
	return defs
}

// All returns every definition, by form then version.
func (r *Registry) All() []*Definition {
	var out []*Definition
	for _, f := range r.forms {
		out = append(out, r.Versions(f)...)
	}
	return out
}

func (r *Registry) byForm(form string) ([]*Definition, bool) {
	var out []*Definition
	for _, d := range r.defs {
		if d.Form == form {
			out = append(out, d)
		}
	}
	sort.Slice(out, func(i, j int) bool { return versionLess(out[i].Version, out[j].Version) })
	return out, len(out) > 0
}

// versionLess orders "2" before "10"; versions that are not numbers sort as text.
func versionLess(a, b string) bool {
	if len(a) != len(b) && isDigits(a) && isDigits(b) {
		return len(a) < len(b)
	}
	return a < b
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// decodeStrict decodes one JSON document of a forms file into v, refusing
// fields v does not have and anything after the document; what names the
// document in the error about trailing data.
func decodeStrict(file, what string, data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("%s: trailing data after the %s", file, what)
	}
	return nil
}
