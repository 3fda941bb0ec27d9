package form

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// FieldError is one fault in a request, with the path of the field it is in.
type FieldError struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
}

// RequestError is a request a service refuses for its fields' values.
type RequestError struct {
	Message string // what is wrong, in a few words ("": the request has invalid fields)
	Faults  []FieldError
}

func (e *RequestError) Error() string {
	parts := make([]string, len(e.Faults))
	for i, f := range e.Faults {
		parts[i] = f.Path + " " + f.Reason
	}
	return "invalid request: " + strings.Join(parts, "; ")
}

// maxErrors bounds the faults reported for one body, so that a huge bad body
// costs no more than a small one.
const maxErrors = 100

// Validate checks answers (a JSON object) against the definition and returns
// them normalised: whole numbers as int64, nulls and blank text dropped (a
// skipped item is an absent item). A draft (complete false) may leave out
// anything; a submitted response (complete true) must also have every
// required answer. Every fault is reported with its path below "answers".
func (d *Definition) Validate(raw []byte, complete bool) (map[string]any, []FieldError) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, []FieldError{{Path: "answers", Reason: "is not valid JSON: " + err.Error()}}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, []FieldError{{Path: "answers", Reason: "has trailing data after the object"}}
	}
	root, ok := doc.(map[string]any)
	if !ok {
		return nil, []FieldError{{Path: "answers", Reason: "must be an object"}}
	}
	v := &validation{d: d, complete: complete, root: root}
	out, _ := v.value(&d.Answers, "answers", root)
	if len(v.errs) > 0 {
		return nil, v.errs
	}
	m, _ := out.(map[string]any)
	return m, nil
}

type validation struct {
	d        *Definition
	complete bool
	root     map[string]any
	errs     []FieldError
}

func (v *validation) fail(path, format string, args ...any) {
	if len(v.errs) < maxErrors {
		v.errs = append(v.errs, FieldError{Path: path, Reason: fmt.Sprintf(format, args...)})
	}
}

// present reports whether an answer was given: null and blank text are skipped items.
func present(x any, ok bool) bool {
	if !ok || x == nil {
		return false
	}
	if s, isText := x.(string); isText && strings.TrimSpace(s) == "" {
		return false
	}
	return true
}

// value checks x against f and returns its normalised form; ok is false when
// x was rejected.
func (v *validation) value(f *Field, path string, x any) (any, bool) {
	switch f.Type {
	case TypeObject:
		return v.object(f, path, x)
	case TypeList:
		return v.list(f, path, x)
	case TypeText:
		s, ok := x.(string)
		if !ok {
			v.fail(path, "must be text")
			return nil, false
		}
		if n := utf8.RuneCountInString(s); n > f.MaxLength {
			v.fail(path, "is %d characters long; at most %d allowed", n, f.MaxLength)
			return nil, false
		}
		if i := strings.IndexFunc(s, unsafeInText); i >= 0 {
			r, _ := utf8.DecodeRuneInString(s[i:])
			v.fail(path, "must not contain the control character U+%04X", r)
			return nil, false
		}
		return strings.TrimSpace(s), true
	case TypeCode:
		s, ok := x.(string)
		if !ok || !slices.Contains(v.d.CodeList(f.Codes), s) {
			v.fail(path, "must be one of %s; got %s", v.codeChoices(f.Codes), show(x))
			return nil, false
		}
		return s, true
	case TypeCodes:
		return v.codes(f, path, x)
	case TypeRating:
		n, ok := Whole(x)
		if !ok || !v.onScale(f.Scale, n) {
			v.fail(path, "must be a rating %s; got %s", v.scaleChoices(f.Scale), show(x))
			return nil, false
		}
		return n, true
	case TypeInteger:
		n, ok := Whole(x)
		if !ok {
			v.fail(path, "must be a whole number; got %s", show(x))
			return nil, false
		}
		if f.Min != nil && n < int64(*f.Min) {
			v.fail(path, "must be at least %d; got %d", *f.Min, n)
			return nil, false
		}
		if f.Max != nil && n > int64(*f.Max) {
			v.fail(path, "must be at most %d; got %d", *f.Max, n)
			return nil, false
		}
		return n, true
	case TypeBoolean:
		b, ok := x.(bool)
		if !ok {
			v.fail(path, "must be true or false; got %s", show(x))
			return nil, false
		}
		return b, true
	case TypeDate:
		s, ok := x.(string)
		if !ok || !isDate(s) {
			v.fail(path, "must be a date YYYY-MM-DD; got %s", show(x))
			return nil, false
		}
		return s, true
	case TypeRef:
		n, ok := Whole(x)
		if !ok || n < 0 {
			v.fail(path, "must be the number of a person in %s, counting from 0; got %s", f.Ref, show(x))
			return nil, false
		}
		items, _ := v.root[f.Ref].([]any)
		if n >= int64(len(items)) {
			v.fail(path, "points at %s[%d], but %s has %d entries", f.Ref, n, f.Ref, len(items))
			return nil, false
		}
		return n, true
	}
	v.fail(path, "has a type this server does not know")
	return nil, false
}

func (v *validation) object(f *Field, path string, x any) (any, bool) {
	m, ok := x.(map[string]any)
	if !ok {
		v.fail(path, "must be an object")
		return nil, false
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if f.child(k) == nil {
			v.fail(path+"."+k, "is not a field of this form version")
		}
	}
	out := make(map[string]any, len(m))
	rejected := map[string]bool{} // given but invalid: already reported, not absent
	valid := true
	for i := range f.Fields {
		c := &f.Fields[i]
		p := path + "." + c.Name
		x, given := m[c.Name]
		if !present(x, given) {
			if c.Required && v.complete {
				v.fail(p, "is required")
				valid = false
			}
			continue
		}
		nv, ok := v.value(c, p, x)
		if !ok {
			rejected[c.Name] = true
			valid = false
			continue
		}
		out[c.Name] = nv
	}
	// Checks across fields run on what was accepted, so one fault is not
	// reported twice.
	for i := range f.Fields {
		c := &f.Fields[i]
		p := path + "." + c.Name
		val, has := out[c.Name]
		if !has {
			continue
		}
		for other, want := range c.OnlyIf {
			if out[other] != want {
				v.fail(p, "is only allowed when %s is %q", other, want)
				valid = false
			}
		}
		if c.NotMoreThan != "" {
			if limit, ok := out[c.NotMoreThan].(int64); ok && val.(int64) > limit {
				v.fail(p, "is %d, more than %s (%d)", val, c.NotMoreThan, limit)
				valid = false
			}
		}
		if c.NotBefore != "" {
			if start, ok := out[c.NotBefore].(string); ok && val.(string) < start {
				v.fail(p, "is %s, before %s (%s)", val, c.NotBefore, start)
				valid = false
			}
		}
	}
	if len(f.ExactlyOneOf) > 0 {
		var given []string
		for _, n := range f.ExactlyOneOf {
			if _, has := out[n]; has || rejected[n] {
				given = append(given, n)
			}
		}
		switch {
		case len(given) > 1:
			v.fail(path, "has both %s; give only one", strings.Join(given, " and "))
			valid = false
		case len(given) == 0 && v.complete:
			v.fail(path, "needs one of %s", strings.Join(f.ExactlyOneOf, " or "))
			valid = false
		}
	}
	if v.complete && valid {
		for _, r := range f.Rules {
			if !matches(out, r.When) {
				continue
			}
			for _, n := range r.Require {
				if _, has := out[n]; !has {
					reason := r.Reason
					if reason == "" {
						reason = "is required here"
					}
					v.fail(path+"."+n, "%s", reason)
					valid = false
				}
			}
		}
	}
	return out, valid
}

func matches(m map[string]any, when map[string]string) bool {
	for k, want := range when {
		if m[k] != want {
			return false
		}
	}
	return true
}

func (v *validation) list(f *Field, path string, x any) (any, bool) {
	items, ok := x.([]any)
	if !ok {
		v.fail(path, "must be a list")
		return nil, false
	}
	if len(items) > f.MaxItems {
		v.fail(path, "has %d entries; at most %d allowed", len(items), f.MaxItems)
		return nil, false
	}
	out := make([]any, len(items))
	valid := true
	for i, it := range items {
		p := fmt.Sprintf("%s[%d]", path, i)
		if it == nil {
			v.fail(p, "is empty")
			valid = false
			continue
		}
		nv, ok := v.value(f.Item, p, it)
		valid = valid && ok
		out[i] = nv
	}
	if !valid {
		return nil, false
	}
	for _, name := range f.Unique {
		first := map[any]int{}
		for i, it := range out {
			val, has := it.(map[string]any)[name]
			if !has {
				continue
			}
			if j, dup := first[val]; dup {
				v.fail(fmt.Sprintf("%s[%d].%s", path, i, name), "%v is already chosen at %s[%d]", val, path, j)
				valid = false
				continue
			}
			first[val] = i
		}
	}
	if m := f.MaxBy; m != nil {
		count := map[string]int{}
		for i, it := range out {
			code, _ := it.(map[string]any)[m.Field].(string)
			limit, capped := m.Max[code]
			if !capped {
				continue
			}
			count[code]++
			if count[code] == limit+1 {
				v.fail(fmt.Sprintf("%s[%d].%s", path, i, m.Field), "at most %d entries may have %s %q", limit, m.Field, code)
				valid = false
			}
		}
	}
	return out, valid
}

func (v *validation) codes(f *Field, path string, x any) (any, bool) {
	items, ok := x.([]any)
	if !ok {
		v.fail(path, "must be a list of codes")
		return nil, false
	}
	allowed := v.d.CodeList(f.Codes)
	if len(items) > len(allowed) {
		v.fail(path, "has %d codes; there are only %d", len(items), len(allowed))
		return nil, false
	}
	out := make([]any, 0, len(items))
	seen := map[string]bool{}
	valid := true
	for i, it := range items {
		p := fmt.Sprintf("%s[%d]", path, i)
		s, ok := it.(string)
		switch {
		case !ok || !slices.Contains(allowed, s):
			v.fail(p, "must be one of %s; got %s", v.codeChoices(f.Codes), show(it))
			valid = false
		case seen[s]:
			v.fail(p, "%q is listed twice", s)
			valid = false
		default:
			seen[s] = true
			out = append(out, s)
		}
	}
	return out, valid
}

func (v *validation) onScale(scale string, n int64) bool {
	for _, p := range v.d.Scales[scale] {
		if int64(p.Value) == n {
			return true
		}
	}
	return false
}

func (v *validation) scaleChoices(scale string) string {
	pts := v.d.Scales[scale]
	parts := make([]string, len(pts))
	for i, p := range pts {
		parts[i] = fmt.Sprintf("%d (%s)", p.Value, strings.ToLower(p.Label))
	}
	return "of " + strings.Join(parts, ", ")
}

func (v *validation) codeChoices(list string) string {
	codes := v.d.CodeList(list)
	if len(codes) > 8 {
		return fmt.Sprintf("the %d %s codes of this form version (see its code_lists.%s)", len(codes), list, list)
	}
	return strings.Join(codes, ", ")
}

// Whole returns an answer as an integer when it is a whole number: a JSON
// number written without a fraction, as a request decodes it (so that 3.0
// is not a rating), or a Go number of whole value, as validated and stored
// answers hold them.
func Whole(x any) (int64, bool) {
	switch n := x.(type) {
	case json.Number:
		v, err := strconv.ParseInt(string(n), 10, 64)
		return v, err == nil
	case int64:
		return n, true
	case int:
		return int64(n), true
	case int32:
		return int64(n), true
	case float64:
		if n == math.Trunc(n) && math.Abs(n) < 1<<53 {
			return int64(n), true
		}
	}
	return 0, false
}

// show renders a rejected value briefly for an error message.
func show(x any) string {
	switch t := x.(type) {
	case nil:
		return "nothing"
	case json.Number:
		return string(t)
	case string:
		if utf8.RuneCountInString(t) > 40 {
			t = string([]rune(t)[:40]) + "…"
		}
		return strconv.Quote(t)
	case bool:
		return strconv.FormatBool(t)
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return "a value of the wrong kind"
}

// unsafeInText reports the characters text answers may not hold: control
// characters other than tab and line breaks, and the explicit direction
// marks (embeddings, overrides and isolates), which, left open, reverse how
// whatever is shown after a name reads (a map's list of people, a table).
// Plain left-to-right and right-to-left marks are allowed.
func unsafeInText(r rune) bool {
	switch {
	case r == '\t' || r == '\n' || r == '\r':
		return false
	case unicode.IsControl(r):
		return true
	case r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}
