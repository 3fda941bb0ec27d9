// Package disclosure hides small counts in a report before it is shared outside the
// evaluation team, so that no table lets a reader single out a few children.
//
// Apply works on the report's JSON, so every table the server writes is covered by the
// same rules without the table knowing about them. The rules, exactly:
//
// What is a count. A count is a JSON integer (a number with no fraction or exponent) in
// one of these places:
//   - a cell: the "count" member of any object; its percentage is the object's "percent"
//     member. Rows such as {"relationship": "sibling", "count": 3, "percent": 42.8} and
//     shares such as {"count": 3, "percent": 30} are cells.
//   - a named count: a member whose key is one of probably_or_definitely,
//     not_at_all_or_not_really, participating, withdrew, paused, plan_without_fgc, fgc,
//     set, met, no_one, too_few, enough, children, baseline, drafts, due_or_overdue or
//     without_baseline, when its value is an integer (so "enough" or "baseline" holding
//     an object is not one). Its percentage is the member "K_percent" for key K. When an
//     object that is not a cell has a plain "percent" member and exactly one named count
//     without a "K_percent" partner, "percent" belongs to that count (the availability
//     row's probably_or_definitely).
//   - a count map: every integer member of a "counts" object (tools by code, follow-up
//     statuses), and the members under whole-number keys (waves, form versions) of a
//     "follow_up", "practice_summary" or "by_version" object. Where an object has a
//     "percent" object of code → percentage, percent[code] belongs to count code of that
//     object's "counts" map, or else of its "total" member's "counts" map (the tools table).
//   - a cross-tabulation: every element of a "table" member that is an array of arrays of
//     integers (the paired adequacy table).
//
// Bases and totals ("base", "total", "respondents", "cases", "n", "pairs", and any
// integer not listed above, such as test statistics) are never hidden: a reader needs
// them to read the table. But when an object has an integer "base", "total" or
// "respondents" with 0 < value < threshold, every non-zero count in that object's
// subtree is hidden, since even large counts over a tiny base describe a few children.
//
// Primary suppression hides every count c with 0 < c < threshold, and every non-zero
// count under a small base.
//
// Complementary suppression works on groups of sibling counts: the cells and named counts
// that are direct members of one object, the cells that are elements of one array, the
// values of one count map, and each row and each column of a cross-tabulation. When a
// group has exactly one hidden count, a reader could work it out from the others and the
// total, so the smallest visible non-zero count of the group is hidden too (the first in
// the encoded output on a tie). A group with two or more hidden counts is left alone:
// the total gives only their sum. A direct member named A_or_B, where A and B are sibling
// counts of the same object (the adequacy row's no_one_or_too_few), is a subtotal: it is
// left out of its object's group and instead forms one group with A and B, and another
// with the rest of the object's group, which it completes to the total. Rows and columns
// and subtotals share counts between groups, so the rule is repeated until no group has
// exactly one hidden count that can be helped.
//
// Zero counts are never hidden (a zero reveals nothing about anyone) and never chosen as
// the complement, so a group whose only other counts are zeros keeps its single hidden
// count, and that count can still be worked out from the total. The rules also treat each
// group on its own: they do not link a table to its margins elsewhere in the report
// (per-site rows and their total row, a cross-tabulation and its marginal counts), nor
// alter means, SDs, minima, maxima or test statistics. Reports for sharing should still
// be read before they leave the team.
//
// Hiding a count replaces it and its percentage with null and sets "suppressed": true on
// the object holding it: the cell for a cell, the object with the member for a named
// count, the object holding the map or table for a count map or cross-tabulation (so a
// map keeps only codes as keys).
package disclosure

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// Apply marshals report to JSON and returns it, as generic JSON values, with small counts
// hidden by the rules of the package comment. When report encodes to a JSON object, the
// result also carries "disclosure": {"threshold": N, "suppressed_cells": k}, where k counts
// the hidden counts, primary and complementary. A threshold below 2 hides nothing and
// returns the report unchanged, without the "disclosure" member. Numbers are json.Number,
// so they encode again exactly as the report wrote them.
func Apply(report any, threshold int) (any, error) {
	raw, err := json.Marshal(report)
	if err != nil {
		return nil, fmt.Errorf("disclosure: encode report: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("disclosure: decode report: %w", err)
	}
	if threshold < 2 {
		return doc, nil
	}

	s := scan{threshold: int64(threshold)}
	// A one-element array makes a report that is itself a cell a group of one.
	s.array([]any{doc}, false)
	hidden := s.suppress()

	if obj, ok := doc.(map[string]any); ok {
		obj["disclosure"] = map[string]any{"threshold": threshold, "suppressed_cells": hidden}
	}
	return doc, nil
}

// slot is where a value sits: a member of an object or an element of an array.
// The zero slot is nowhere.
type slot struct {
	obj map[string]any
	key string
	arr []any
	i   int
}

// clear sets the value to null. An absent member stays absent, so hiding a count never
// adds a percentage the report did not have.
func (s slot) clear() {
	switch {
	case s.obj != nil:
		if _, ok := s.obj[s.key]; ok {
			s.obj[s.key] = nil
		}
	case s.arr != nil:
		s.arr[s.i] = nil
	}
}

// count is one count found in the report and what hiding it changes.
type count struct {
	n       int64
	at      slot
	percent slot
	holder  map[string]any // gets "suppressed": true; nil for a bare top-level map
	small   bool           // under a base below the threshold
	hidden  bool
}

// scan collects a report's counts and their sibling groups.
type scan struct {
	threshold int64
	counts    []*count
	groups    [][]*count
}

// place is how an object was reached.
type place struct {
	key      string         // member name it was found under; "" at the top or in an array
	parent   map[string]any // object it is a member of; nil at the top or in an array
	percents map[string]any // code → percentage map for its "counts" map, handed to a "total" member
	small    bool           // some enclosing object has a base below the threshold
}

func (s *scan) add(c *count) *count {
	s.counts = append(s.counts, c)
	return c
}

func (s *scan) group(g []*count) {
	if len(g) > 0 {
		s.groups = append(s.groups, g)
	}
}

func (s *scan) array(arr []any, small bool) {
	var g []*count
	for _, v := range arr {
		switch v := v.(type) {
		case map[string]any:
			if c, ok := s.cell(v, small); ok {
				g = append(g, c)
			}
			s.object(v, place{small: small})
		case []any:
			s.array(v, small)
		}
	}
	s.group(g)
}

// cell registers obj's "count" when obj is a cell.
func (s *scan) cell(obj map[string]any, small bool) (*count, bool) {
	n, ok := integer(obj["count"])
	if !ok {
		return nil, false
	}
	c := &count{n: n, at: slot{obj: obj, key: "count"}, holder: obj, small: small || s.smallBase(obj)}
	if _, isMap := obj["percent"].(map[string]any); !isMap {
		c.percent = slot{obj: obj, key: "percent"}
	}
	return s.add(c), true
}

func (s *scan) object(obj map[string]any, at place) {
	small := at.small || s.smallBase(obj)
	own, _ := obj["percent"].(map[string]any)
	owner := percentOwner(obj)

	var row []member
	for _, key := range slices.Sorted(maps.Keys(obj)) {
		v := obj[key]
		if n, ok := integer(v); ok {
			switch {
			case inCountMap(at.key, key):
				c := &count{n: n, at: slot{obj: obj, key: key}, holder: at.parent, small: small}
				if _, ok := at.percents[key]; ok {
					c.percent = slot{obj: at.percents, key: key}
				}
				row = append(row, member{key, s.add(c)})
			case namedCount(key):
				c := &count{n: n, at: slot{obj: obj, key: key}, holder: obj, small: small}
				if _, ok := obj[key+"_percent"]; ok {
					c.percent = slot{obj: obj, key: key + "_percent"}
				} else if key == owner {
					c.percent = slot{obj: obj, key: "percent"}
				}
				row = append(row, member{key, s.add(c)})
			}
			continue
		}
		switch child := v.(type) {
		case map[string]any:
			if c, ok := s.cell(child, small); ok {
				row = append(row, member{key, c})
			}
			next := place{key: key, parent: obj, small: small}
			switch key {
			case "counts":
				next.percents = own
				if own == nil {
					next.percents = at.percents
				}
			case "total":
				next.percents = own
			}
			s.object(child, next)
		case []any:
			if key == "table" && s.table(child, obj, small) {
				continue
			}
			s.array(child, small)
		}
	}
	s.siblings(row)
}

// member is a count that is a direct member of an object, under key.
type member struct {
	key string
	c   *count
}

// siblings registers the groups of one object's direct counts. A member named A_or_B,
// where A and B are sibling counts, is a subtotal rather than a cell of the row: it makes
// a group with A and B, and another with the rest of the row, which it completes to the
// total (no_one_or_too_few + enough = total). Without these, hiding too_few and
// no_one_or_too_few together would still leave too_few = total − enough − no_one.
func (s *scan) siblings(row []member) {
	byKey := make(map[string]*count, len(row))
	for _, m := range row {
		byKey[m.key] = m.c
	}
	type subtotal struct{ sum, a, b *count }
	var subs []subtotal
	for _, m := range row {
		// Any "_or_" may be the split: not_at_all_or_not_really is not one, as it has no
		// siblings not_at_all and not_really.
		for from := 0; ; {
			i := strings.Index(m.key[from:], "_or_")
			if i < 0 {
				break
			}
			at := from + i
			a, b := byKey[m.key[:at]], byKey[m.key[at+len("_or_"):]]
			if a != nil && b != nil {
				subs = append(subs, subtotal{m.c, a, b})
				break
			}
			from = at + 1
		}
	}
	var cells []*count
	for _, m := range row {
		if !slices.ContainsFunc(subs, func(st subtotal) bool { return st.sum == m.c }) {
			cells = append(cells, m.c)
		}
	}
	s.group(cells)
	for _, st := range subs {
		s.group([]*count{st.a, st.b, st.sum})
		rest := slices.DeleteFunc(slices.Clone(cells), func(c *count) bool { return c == st.a || c == st.b })
		s.group(append(rest, st.sum))
	}
}

// table registers a cross-tabulation, reporting false when arr is not an array of
// arrays of integers.
func (s *scan) table(arr []any, holder map[string]any, small bool) bool {
	var rows [][]*count
	for _, r := range arr {
		row, ok := r.([]any)
		if !ok {
			return false
		}
		cells := make([]*count, 0, len(row))
		for j, v := range row {
			n, ok := integer(v)
			if !ok {
				return false
			}
			cells = append(cells, &count{n: n, at: slot{arr: row, i: j}, holder: holder, small: small})
		}
		rows = append(rows, cells)
	}
	for _, row := range rows {
		for _, c := range row {
			s.add(c)
		}
		s.group(row)
	}
	for j := 0; ; j++ {
		var col []*count
		for _, row := range rows {
			if j < len(row) {
				col = append(col, row[j])
			}
		}
		if len(col) == 0 {
			return true
		}
		s.group(col)
	}
}

// suppress hides the counts the rules pick and returns how many it hid.
func (s *scan) suppress() int {
	for _, c := range s.counts {
		c.hidden = c.n > 0 && (c.n < s.threshold || c.small)
	}
	for changed := true; changed; {
		changed = false
		for _, g := range s.groups {
			hidden := 0
			var smallest *count
			for _, c := range g {
				switch {
				case c.hidden:
					hidden++
				case c.n > 0 && (smallest == nil || c.n < smallest.n):
					smallest = c
				}
			}
			if hidden == 1 && smallest != nil {
				smallest.hidden = true
				changed = true
			}
		}
	}

	k := 0
	for _, c := range s.counts {
		if !c.hidden {
			continue
		}
		k++
		c.at.clear()
		c.percent.clear()
		if c.holder != nil {
			c.holder["suppressed"] = true
		}
	}
	return k
}

// smallBase reports whether obj states a base below the threshold.
func (s *scan) smallBase(obj map[string]any) bool {
	for _, key := range []string{"base", "total", "respondents"} {
		if n, ok := integer(obj[key]); ok && n > 0 && n < s.threshold {
			return true
		}
	}
	return false
}

// percentOwner returns the named count a plain "percent" member belongs to, or "".
func percentOwner(obj map[string]any) string {
	if _, isCell := integer(obj["count"]); isCell {
		return ""
	}
	p, ok := obj["percent"]
	if !ok {
		return ""
	}
	if _, isMap := p.(map[string]any); isMap {
		return ""
	}
	owner, unpaired := "", 0
	for key, v := range obj {
		if _, ok := integer(v); !ok || !namedCount(key) {
			continue
		}
		if _, paired := obj[key+"_percent"]; !paired {
			owner = key
			unpaired++
		}
	}
	if unpaired != 1 {
		return ""
	}
	return owner
}

// namedCount reports whether an integer member called key is a count.
func namedCount(key string) bool {
	switch key {
	case "probably_or_definitely", "not_at_all_or_not_really", "participating", "withdrew",
		"paused", "plan_without_fgc", "fgc", "set", "met", "no_one", "too_few", "enough",
		"children", "baseline", "drafts", "due_or_overdue", "without_baseline":
		return true
	}
	return false
}

// inCountMap reports whether member key of an object found under mapKey is a count-map value.
func inCountMap(mapKey, key string) bool {
	switch mapKey {
	case "counts":
		return true
	case "follow_up", "practice_summary", "by_version":
		_, err := strconv.ParseUint(key, 10, 64)
		return err == nil
	}
	return false
}

// integer returns v as an integer when it is a JSON number without fraction or exponent.
func integer(v any) (int64, bool) {
	num, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(string(num), 10, 64)
	return n, err == nil
}
