package export

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/lifelong-links/sct/internal/form"
	"github.com/lifelong-links/sct/internal/store"
)

// Wide returns the layout with one row per response of a form: the response's
// meta columns, then every non-sensitive answer, lists expanded to numbered
// slots up to their max_items. defs are the form's versions, oldest first
// (form.Registry.Versions); the layout is the union of their columns in
// first-seen order, and a column a response's version lacks is missing.
func Wide(defs []*form.Definition) (*Layout, error) {
	l, b, err := start(defs, wideLayout)
	if err != nil {
		return nil, err
	}
	l.Name = stem(l.Form) + "_wide"
	l.Title = fmt.Sprintf("%s: one row per response (versions %s)", title(defs), versionList(defs))
	l.meta = metaColumns(defs, true)
	for _, m := range l.meta {
		if _, err := b.add(m.column); err != nil {
			return nil, err
		}
	}
	for _, d := range defs {
		p := &plan{}
		f := flattener{b: b, def: d, getters: &p.getters, counts: true}
		if err := f.field(&d.Answers, "", "", nil, ""); err != nil {
			return nil, fmt.Errorf("form %s version %s: %w", d.Form, d.Version, err)
		}
		l.plans[d.Version] = p
	}
	l.Columns = b.cols
	l.finish()
	return l, nil
}

// Long returns the layout with one row per item of the named top-level lists
// of a form (all of its top-level lists when none are named): the response's
// meta columns, "list" (which list the row comes from), "item" (the item's
// 1-based number in that list: what a ref to it exports as), then the
// non-sensitive fields of the items. Fields of the same name in different
// lists share a column (nominees and key people both have relationship).
// defs are the form's versions, oldest first.
func Long(defs []*form.Definition, lists ...string) (*Layout, error) {
	l, b, err := start(defs, longLayout)
	if err != nil {
		return nil, err
	}
	if len(lists) == 0 {
		lists = topLists(defs)
		if len(lists) == 0 {
			return nil, fmt.Errorf("form %s has no lists", l.Form)
		}
	}
	for i, name := range lists {
		if slices.Contains(lists[:i], name) {
			return nil, fmt.Errorf("list %q named twice", name)
		}
		found := false
		for _, d := range defs {
			if c := topField(d, name); c != nil && c.Type == form.TypeList && !c.Sensitive {
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("form %s has no top-level list %q", l.Form, name)
		}
	}
	l.Name = stem(l.Form) + "_long"
	l.Title = fmt.Sprintf("%s: one row per item of %s (versions %s)", title(defs), strings.Join(lists, ", "), versionList(defs))
	l.meta = metaColumns(defs, false)
	for _, m := range l.meta {
		if _, err := b.add(m.column); err != nil {
			return nil, err
		}
	}
	if l.listCol, err = b.add(Column{Name: "list", key: "@list", source: "list", Kind: String, Width: longest(lists),
		Label: "List the row comes from (" + strings.Join(lists, ", ") + ")"}); err != nil {
		return nil, err
	}
	if l.itemCol, err = b.add(Column{Name: "item", key: "@item", source: "item", Kind: Numeric, Width: 8, Missing: MissingNumeric,
		Label: "Number of the item within its list (1 = first)"}); err != nil {
		return nil, err
	}
	for _, d := range defs {
		p := &plan{}
		for _, name := range lists {
			lf := topField(d, name)
			if lf == nil || lf.Type != form.TypeList || lf.Sensitive {
				continue
			}
			lp := listPlan{name: name}
			f := flattener{b: b, def: d, getters: &lp.getters}
			prefix, label := "", "" // an object item's fields are the columns
			if lf.Item.Type != form.TypeObject {
				prefix, label = "value", fieldLabel(lf)
			}
			if err := f.field(lf.Item, prefix, label, nil, "item"); err != nil {
				return nil, fmt.Errorf("form %s version %s, list %s: %w", d.Form, d.Version, name, err)
			}
			p.lists = append(p.lists, lp)
		}
		l.plans[d.Version] = p
	}
	l.Columns = b.cols
	l.finish()
	return l, nil
}

// plan says where one form version's answers go.
type plan struct {
	getters []getter   // wide: from the answers
	lists   []listPlan // long: from each item of each list
}

type listPlan struct {
	name    string
	getters []getter // from one item
}

// getter fills one column from the value at a path.
type getter struct {
	col  int
	path []step
	// value turns the value found into text; ok false leaves the column
	// missing.
	value func(v any) (text string, ok bool)
	// absent, when not empty, is written when nothing is at the path.
	absent string
}

// step is one move into answers: a key of an object, or an item of a list.
type step struct {
	key   string
	index int // >= 0: the item of a list; -1: the key of an object
}

func lookup(root any, path []step) (any, bool) {
	v := root
	for _, s := range path {
		if s.index >= 0 {
			var ok bool
			if v, ok = item(v, s.index); !ok {
				return nil, false
			}
			continue
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = m[s.key]; !ok {
			return nil, false
		}
	}
	return v, v != nil
}

func item(list any, i int) (any, bool) {
	switch l := list.(type) {
	case []any:
		if i < len(l) {
			return l[i], true
		}
	case []map[string]any:
		if i < len(l) {
			return l[i], true
		}
	}
	return nil, false
}

func length(list any) int {
	switch l := list.(type) {
	case []any:
		return len(l)
	case []map[string]any:
		return len(l)
	}
	return 0
}

func start(defs []*form.Definition, kind layoutKind) (*Layout, *builder, error) {
	if len(defs) == 0 {
		return nil, nil, errors.New("no form definitions")
	}
	l := &Layout{Form: defs[0].Form, kind: kind, plans: make(map[string]*plan)}
	for _, d := range defs {
		if d == nil {
			return nil, nil, errors.New("nil form definition")
		}
		if d.Form != l.Form {
			return nil, nil, fmt.Errorf("one layout cannot hold forms %s and %s", l.Form, d.Form)
		}
		if _, dup := l.plans[d.Version]; dup {
			return nil, nil, fmt.Errorf("form %s version %s given twice", d.Form, d.Version)
		}
		l.plans[d.Version] = nil
		l.versions = append(l.versions, d.Version)
	}
	return l, newBuilder(), nil
}

func stem(formID string) string { return strings.ReplaceAll(formID, "-", "_") }

// title is what the versions' titles have in common ("Practice summary" of
// "Practice summary (old format)" and "(new format)"), or the form id.
func title(defs []*form.Definition) string {
	t := defs[0].Title
	for _, d := range defs[1:] {
		n := 0
		for n < len(t) && n < len(d.Title) && t[n] == d.Title[n] {
			n++
		}
		for n > 0 && n < len(t) && !utf8.RuneStart(t[n]) {
			n--
		}
		t = t[:n]
	}
	if len(defs) > 1 {
		t = strings.TrimRight(t, " (-:")
	}
	if t == "" {
		return defs[0].Form
	}
	return t
}

func versionList(defs []*form.Definition) string {
	vs := make([]string, len(defs))
	for i, d := range defs {
		vs[i] = d.Version
	}
	return strings.Join(vs, ", ")
}

func topField(d *form.Definition, name string) *form.Field {
	for i := range d.Answers.Fields {
		if d.Answers.Fields[i].Name == name {
			return &d.Answers.Fields[i]
		}
	}
	return nil
}

// topLists returns the non-sensitive top-level lists of all versions, in
// first-seen order.
func topLists(defs []*form.Definition) []string {
	var out []string
	seen := map[string]bool{}
	for _, d := range defs {
		for _, f := range d.Answers.Fields {
			if f.Type == form.TypeList && !f.Sensitive && !seen[f.Name] {
				seen[f.Name] = true
				out = append(out, f.Name)
			}
		}
	}
	return out
}

func longest(ss []string) int {
	n := 1
	for _, s := range ss {
		n = max(n, len(s))
	}
	return n
}

// flattener turns one definition's fields into columns and getters.
type flattener struct {
	b       *builder
	def     *form.Definition
	getters *[]getter
	// counts adds, for each list, the number of its items and of its items
	// holding each code of a required code field (wide layouts).
	counts bool
}

// field adds the columns of f, found at path, named name (the prefix so far),
// labelled label, identified across versions by key.
func (x *flattener) field(f *form.Field, name, label string, path []step, key string) error {
	if f.Sensitive {
		return nil
	}
	add := func(c Column, g getter) error {
		c.Name, c.key, c.source = name, key, f.Type
		if c.Label == "" {
			c.Label = label
		}
		if c.Kind == Numeric {
			c.Missing = MissingNumeric
		}
		col, err := x.b.add(c)
		if err != nil {
			return err
		}
		g.col, g.path = col, path
		*x.getters = append(*x.getters, g)
		return nil
	}
	switch f.Type {
	case form.TypeObject:
		for i := range f.Fields {
			c := &f.Fields[i]
			if err := x.field(c, join(name, "_", c.Name), join(label, ": ", fieldLabel(c)),
				extend(path, step{key: c.Name, index: -1}), join(key, ".", c.Name)); err != nil {
				return err
			}
		}
		return nil
	case form.TypeList:
		if f.Item == nil || f.MaxItems <= 0 {
			return fmt.Errorf("list %s needs an item and max_items to be exported", key)
		}
		if x.counts {
			if err := x.listCounts(f, name, label, path, key); err != nil {
				return err
			}
		}
		for i := 1; i <= f.MaxItems; i++ {
			n := strconv.Itoa(i)
			if err := x.field(f.Item, name+"_"+n, label+" "+n, extend(path, step{index: i - 1}), key+"["+n+"]"); err != nil {
				return err
			}
		}
		return nil
	case form.TypeCode:
		c, ok := x.codeColumn(f.Codes)
		if !ok {
			return fmt.Errorf("%s: no code list %q", key, f.Codes)
		}
		c.Name, c.key, c.source, c.Label, c.Missing = name, key, f.Type, label, MissingNumeric
		col, err := x.b.add(c)
		if err != nil {
			return err
		}
		numbers := x.b.cols[col].codes // merged with earlier versions' codes
		*x.getters = append(*x.getters, getter{col: col, path: path, value: func(v any) (string, bool) {
			s, _ := v.(string)
			n, ok := numbers[s]
			return n, ok
		}})
		return nil
	case form.TypeCodes:
		list, ok := x.def.CodeLists[f.Codes]
		if !ok {
			return fmt.Errorf("%s: no code list %q", key, f.Codes)
		}
		for _, code := range list {
			col, err := x.b.add(Column{Name: join(name, "_", code.Code), key: key + "=" + code.Code, source: f.Type,
				Kind: Numeric, Width: 8, Missing: MissingNumeric, Label: join(label, ": ", code.Label),
				ValueLabels: []ValueLabel{{"0", "Not selected"}, {"1", "Selected"}}})
			if err != nil {
				return err
			}
			want := code.Code
			*x.getters = append(*x.getters, getter{col: col, path: path, value: func(v any) (string, bool) {
				return selected(v, want)
			}})
		}
		return nil
	case form.TypeRating:
		points, ok := x.def.Scales[f.Scale]
		if !ok {
			return fmt.Errorf("%s: no scale %q", key, f.Scale)
		}
		c := Column{Kind: Numeric, Width: 8}
		valid := make(map[int]bool, len(points))
		for _, p := range points {
			c.ValueLabels = append(c.ValueLabels, ValueLabel{strconv.Itoa(p.Value), p.Label})
			valid[p.Value] = true
		}
		return add(c, getter{value: func(v any) (string, bool) {
			n, ok := form.Whole(v)
			if !ok || n < -1<<31 || n > 1<<31 || !valid[int(n)] {
				return "", false
			}
			return strconv.FormatInt(n, 10), true
		}})
	case form.TypeInteger:
		w := 12
		if f.Max != nil && *f.Max < 10_000_000 && (f.Min == nil || *f.Min > -1_000_000) {
			w = 8
		}
		return add(Column{Kind: Numeric, Width: w}, getter{value: func(v any) (string, bool) {
			n, ok := form.Whole(v)
			if !ok {
				return "", false
			}
			return strconv.FormatInt(n, 10), true
		}})
	case form.TypeBoolean:
		return add(Column{Kind: Numeric, Width: 8, ValueLabels: []ValueLabel{{"0", "No"}, {"1", "Yes"}}},
			getter{value: func(v any) (string, bool) {
				b, ok := v.(bool)
				if !ok {
					return "", false
				}
				if b {
					return "1", true
				}
				return "0", true
			}})
	case form.TypeDate:
		return add(Column{Kind: Date, Width: 10}, getter{value: func(v any) (string, bool) {
			s, _ := v.(string)
			return s, isDate(s)
		}})
	case form.TypeText:
		w := f.MaxLength * 4 // SPSS widths are bytes; UTF-8 takes up to 4 a character
		if w <= 0 || w > 32767 {
			w = 32767
		}
		return add(Column{Kind: String, Width: w}, getter{value: func(v any) (string, bool) {
			s, ok := v.(string)
			return oneLine(s), ok && s != ""
		}})
	case form.TypeRef:
		target := fieldLabel(topField(x.def, f.Ref))
		return add(Column{Kind: Numeric, Width: 8,
			Label: label + " (number of the item in " + target + ", 1 = first)"},
			getter{value: func(v any) (string, bool) {
				n, ok := form.Whole(v)
				if !ok || n < 0 {
					return "", false
				}
				return strconv.FormatInt(n+1, 10), true
			}})
	}
	return fmt.Errorf("%s: cannot export a field of type %q", key, f.Type)
}

// listCounts adds n_<list> and <list>_<field>_<code> counts for a list.
func (x *flattener) listCounts(f *form.Field, name, label string, path []step, key string) error {
	col, err := x.b.add(Column{Name: "n_" + name, key: "#" + key, source: "count", Kind: Numeric, Width: 8,
		Missing: MissingNumeric, Label: "Number of " + label})
	if err != nil {
		return err
	}
	// An unanswered list counts 0 items; only a version without the list
	// leaves its counts missing.
	*x.getters = append(*x.getters, getter{col: col, path: path, absent: "0",
		value: func(v any) (string, bool) { return strconv.Itoa(length(v)), true }})
	if f.Item == nil || f.Item.Type != form.TypeObject {
		return nil
	}
	for i := range f.Item.Fields {
		c := &f.Item.Fields[i]
		if c.Type != form.TypeCode || !c.Required || c.Sensitive {
			continue
		}
		for _, code := range x.def.CodeLists[c.Codes] {
			col, err := x.b.add(Column{Name: name + "_" + c.Name + "_" + code.Code, key: "#" + key + "." + c.Name + "=" + code.Code,
				source: "count", Kind: Numeric, Width: 8, Missing: MissingNumeric,
				Label: "Number of " + label + " with " + fieldLabel(c) + ": " + code.Label})
			if err != nil {
				return err
			}
			field, want := c.Name, code.Code
			*x.getters = append(*x.getters, getter{col: col, path: path, absent: "0",
				value: func(v any) (string, bool) { return strconv.Itoa(countCode(v, field, want)), true }})
		}
	}
	return nil
}

func countCode(list any, field, code string) int {
	n := 0
	for i := range length(list) {
		it, _ := item(list, i)
		if m, ok := it.(map[string]any); ok {
			if s, ok := m[field].(string); ok && s == code {
				n++
			}
		}
	}
	return n
}

// codeColumn returns a code column's value labels and code numbers for one
// version's code list; the builder merges them with earlier versions'.
func (x *flattener) codeColumn(list string) (Column, bool) {
	codes, ok := x.def.CodeLists[list]
	if !ok {
		return Column{}, false
	}
	c := Column{Kind: Numeric, Width: 8, codes: make(map[string]string, len(codes))}
	for i, code := range codes {
		n := strconv.Itoa(i + 1)
		c.codes[code.Code] = n
		c.ValueLabels = append(c.ValueLabels, ValueLabel{n, code.Label})
	}
	return c, true
}

// selected reports whether a multi-select answer holds code, as 1 or 0.
func selected(v any, code string) (string, bool) {
	switch l := v.(type) {
	case []any:
		for _, x := range l {
			if s, ok := x.(string); ok && s == code {
				return "1", true
			}
		}
		return "0", true
	case []string:
		for _, s := range l {
			if s == code {
				return "1", true
			}
		}
		return "0", true
	}
	return "", false
}

func fieldLabel(f *form.Field) string {
	switch {
	case f == nil:
		return ""
	case f.Label != "":
		return f.Label
	case f.Prompt != "":
		return f.Prompt
	}
	return f.Name
}

func join(a, sep, b string) string {
	if a == "" {
		return b
	}
	return a + sep + b
}

// extend appends to a copy of path, so siblings never share a backing array.
func extend(path []step, s step) []step {
	out := make([]step, len(path), len(path)+1)
	copy(out, path)
	return append(out, s)
}

// metaColumn is a column taken from the response rather than its answers.
type metaColumn struct {
	column Column
	get    func(r *store.Response) string
}

var (
	groupCodes     = []ValueLabel{{"1", "Lifelong Links"}, {"2", "Comparison"}}
	groupNumbers   = map[string]string{"lifelong_links": "1", "comparison": "2"}
	modeCodes      = []ValueLabel{{"1", "Online"}, {"2", "Paper"}}
	modeNumbers    = map[string]string{"online": "1", "paper": "2"}
	timepointNames = map[string]string{"baseline": "Baseline", "follow_up": "Follow-up"}
)

// number returns the exported number of a code, or -1.
func number(numbers map[string]string, code string) string {
	if n, ok := numbers[code]; ok {
		return n
	}
	return MissingNumeric
}

func metaColumns(defs []*form.Definition, wide bool) []metaColumn {
	str := func(name, label string, width int, get func(r *store.Response) string) metaColumn {
		return metaColumn{Column{Name: name, key: "@" + name, source: "meta", Kind: String, Width: width, Label: label}, get}
	}
	num := func(name, label string, labels []ValueLabel, get func(r *store.Response) string) metaColumn {
		return metaColumn{Column{Name: name, key: "@" + name, source: "meta", Kind: Numeric, Width: 8, Label: label,
			ValueLabels: labels, Missing: MissingNumeric}, get}
	}
	out := []metaColumn{
		str("response_id", "Response ID", 64, func(r *store.Response) string { return r.ID }),
		str("child_id", "Child ID (pseudonymous, the local authority's)", 64, func(r *store.Response) string { return r.ChildID }),
		str("site", "Site", 16, func(r *store.Response) string { return r.Site }),
		num("group", "Group", groupCodes, func(r *store.Response) string { return number(groupNumbers, r.Group) }),
	}
	var timepoints []string
	seen := map[string]bool{}
	for _, d := range defs {
		for _, tp := range d.Timepoints {
			if !seen[tp] {
				seen[tp] = true
				timepoints = append(timepoints, tp)
			}
		}
	}
	if len(timepoints) > 0 {
		numbers := make(map[string]string, len(timepoints))
		var labels []ValueLabel
		for i, tp := range timepoints {
			n := strconv.Itoa(i + 1)
			numbers[tp] = n
			l := timepointNames[tp]
			if l == "" {
				l = tp
			}
			labels = append(labels, ValueLabel{n, l})
		}
		out = append(out,
			num("timepoint", "Timepoint", labels, func(r *store.Response) string { return number(numbers, r.Timepoint) }),
			num("wave", "Wave: which baseline or follow-up (1 = first)", nil, func(r *store.Response) string {
				return strconv.Itoa(max(r.Wave, 1)) // absent means 1
			}))
	}
	out = append(out, str("version", "Form version", 16, func(r *store.Response) string { return r.Version }))
	if wide {
		out = append(out, num("mode", "Mode of completion", modeCodes, func(r *store.Response) string { return number(modeNumbers, r.Mode) }),
			// The answers' codes are the same in every language; this says
			// only which wording the young person read.
			str("language", "Language completed in (BCP 47 tag: en English, cy Welsh, ar Arabic)", 16,
				func(r *store.Response) string { return r.LanguageOrDefault() }))
	}
	out = append(out,
		metaColumn{Column{Name: "completed_on", key: "@completed_on", source: "meta", Kind: Date, Width: 10, Label: "Date completed"},
			func(r *store.Response) string {
				if isDate(r.CompletedOn) {
					return r.CompletedOn
				}
				return ""
			}},
		str("statistical_year", "Statistical year (April to March) of the date completed", 7,
			func(r *store.Response) string { return StatisticalYear(r.CompletedOn) }))
	if wide {
		out = append(out, num("revision", "Revision (number of submitted revisions)", nil,
			func(r *store.Response) string { return strconv.Itoa(r.Revision) }))
	}
	return out
}
