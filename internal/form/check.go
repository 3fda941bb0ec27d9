package form

import (
	"fmt"
	"regexp"
	"slices"
	"time"
)

var (
	idPattern   = regexp.MustCompile(`^[a-z][a-z0-9_-]*$`)
	versionForm = regexp.MustCompile(`^[0-9A-Za-z][0-9A-Za-z._-]*$`)
)

// check returns every fault in the definition, each naming where it is.
func (d *Definition) check() []string {
	var faults []string
	fault := func(where, format string, args ...any) {
		faults = append(faults, where+": "+fmt.Sprintf(format, args...))
	}
	if !idPattern.MatchString(d.Form) {
		fault("form", "must be a lower-case identifier, got %q", d.Form)
	}
	if !versionForm.MatchString(d.Version) {
		fault("version", "must be letters, digits, dots or dashes, got %q", d.Version)
	}
	if d.Title == "" {
		fault("title", "is required")
	}
	if d.InUse != nil {
		for name, v := range map[string]string{"in_use.from": d.InUse.From, "in_use.to": d.InUse.To} {
			if v != "" && !isDate(v) {
				fault(name, "must be a date YYYY-MM-DD, got %q", v)
			}
		}
	}
	for i, tp := range d.Timepoints {
		if tp != "baseline" && tp != "follow_up" {
			fault(fmt.Sprintf("timepoints[%d]", i), "must be baseline or follow_up, got %q", tp)
		}
	}
	for name, codes := range d.CodeLists {
		if len(codes) == 0 {
			fault("code_lists."+name, "is empty")
		}
		seen := map[string]bool{}
		for i, c := range codes {
			where := fmt.Sprintf("code_lists.%s[%d]", name, i)
			if !idPattern.MatchString(c.Code) {
				fault(where, "code must be a lower-case identifier, got %q", c.Code)
			}
			if c.Label == "" {
				fault(where, "label is required")
			}
			if seen[c.Code] {
				fault(where, "code %q appears twice", c.Code)
			}
			seen[c.Code] = true
		}
	}
	for name, points := range d.Scales {
		if len(points) < 2 {
			fault("scales."+name, "needs at least two points")
		}
		for i, p := range points {
			if p.Label == "" {
				fault(fmt.Sprintf("scales.%s[%d]", name, i), "label is required")
			}
			if i > 0 && p.Value <= points[i-1].Value {
				fault(fmt.Sprintf("scales.%s[%d]", name, i), "values must increase")
			}
		}
	}
	if d.Answers.Type != TypeObject {
		fault("answers", "must be an object, got %q", d.Answers.Type)
	}
	d.checkField(&d.Answers, nil, "answers", true, fault)
	return faults
}

func (d *Definition) checkField(f, parent *Field, where string, top bool, fault func(string, string, ...any)) {
	if parent != nil && parent.Type == TypeObject && !idPattern.MatchString(f.Name) {
		fault(where, "name must be a lower-case identifier, got %q", f.Name)
	}
	sibling := func(attr, name string, types ...string) {
		if name == "" {
			return
		}
		s := (*Field)(nil)
		if parent != nil {
			s = parent.child(name)
		}
		if s == nil {
			fault(where, "%s names %q, which is not a field beside it", attr, name)
			return
		}
		if len(types) > 0 && !slices.Contains(types, s.Type) {
			fault(where, "%s names %q, which is a %s", attr, name, s.Type)
		}
	}
	for name := range f.OnlyIf {
		sibling("only_if", name, TypeCode)
	}
	switch f.Type {
	case TypeObject:
		if len(f.Fields) == 0 {
			fault(where, "an object needs fields")
		}
		names := map[string]bool{}
		for i := range f.Fields {
			c := &f.Fields[i]
			if names[c.Name] {
				fault(where, "field %q appears twice", c.Name)
			}
			names[c.Name] = true
			d.checkField(c, f, fmt.Sprintf("%s.%s", where, c.Name), false, fault)
		}
		for _, n := range f.ExactlyOneOf {
			if !names[n] {
				fault(where, "exactly_one_of names %q, which is not a field", n)
			}
		}
		for i, r := range f.Rules {
			for n := range r.When {
				if c := f.child(n); c == nil || c.Type != TypeCode {
					fault(fmt.Sprintf("%s.rules[%d]", where, i), "when names %q, which is not a code field", n)
				}
			}
			for _, n := range r.Require {
				if !names[n] {
					fault(fmt.Sprintf("%s.rules[%d]", where, i), "require names %q, which is not a field", n)
				}
			}
		}
	case TypeList:
		if f.Item == nil {
			fault(where, "a list needs an item")
			return
		}
		if f.MaxItems <= 0 {
			fault(where, "a list needs max_items above 0")
		}
		d.checkField(f.Item, f, where+".item", false, fault)
		for _, n := range f.Unique {
			if f.Item.child(n) == nil {
				fault(where, "unique names %q, which is not an item field", n)
			}
		}
		if m := f.MaxBy; m != nil {
			c := f.Item.child(m.Field)
			if c == nil || c.Type != TypeCode {
				fault(where, "max_by names %q, which is not a code field of the item", m.Field)
			} else {
				for code := range m.Max {
					if !slices.Contains(d.CodeList(c.Codes), code) {
						fault(where, "max_by names code %q, which is not in code list %q", code, c.Codes)
					}
				}
			}
		}
	case TypeText:
		if f.MaxLength <= 0 {
			fault(where, "text needs max_length above 0")
		}
	case TypeCode, TypeCodes:
		if _, ok := d.CodeLists[f.Codes]; !ok {
			fault(where, "codes names %q, which is not a code list", f.Codes)
		}
	case TypeRating:
		if _, ok := d.Scales[f.Scale]; !ok {
			fault(where, "scale names %q, which is not a scale", f.Scale)
		}
	case TypeInteger:
		if f.Min != nil && f.Max != nil && *f.Min > *f.Max {
			fault(where, "min is above max")
		}
		sibling("not_more_than", f.NotMoreThan, TypeInteger)
	case TypeDate:
		sibling("not_before", f.NotBefore, TypeDate)
	case TypeBoolean:
	case TypeRef:
		target := d.Answers.child(f.Ref)
		if target == nil || target.Type != TypeList {
			fault(where, "ref names %q, which is not a top-level list", f.Ref)
		}
	default:
		fault(where, "unknown type %q", f.Type)
	}
	if top && parent != nil {
		fault(where, "unexpected nesting")
	}
}

func isDate(s string) bool {
	_, err := time.Parse(time.DateOnly, s)
	return err == nil
}
