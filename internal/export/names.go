package export

import (
	"fmt"
	"strconv"
	"strings"
)

// builder collects a layout's columns, merging the same answer across form
// versions into one column and keeping names unique.
type builder struct {
	cols  []Column
	byKey map[string]int
	taken map[string]bool // names in use
}

func newBuilder() *builder {
	return &builder{byKey: make(map[string]int), taken: make(map[string]bool)}
}

// add returns the index of the column for c's key, adding it (under a safe,
// unique name) when the key is new and merging its codes when it is not.
func (b *builder) add(c Column) (int, error) {
	if i, ok := b.byKey[c.key]; ok {
		return i, b.merge(&b.cols[i], c)
	}
	c.Name = b.unique(c.Name)
	if c.codes != nil {
		// The builder owns the map from here: later versions add to it.
		codes := make(map[string]string, len(c.codes))
		for k, v := range c.codes {
			codes[k] = v
		}
		c.codes = codes
	}
	c.ValueLabels = append([]ValueLabel(nil), c.ValueLabels...)
	b.cols = append(b.cols, c)
	b.byKey[c.key] = len(b.cols) - 1
	return len(b.cols) - 1, nil
}

// merge folds a later version's column into the earlier one. Codes a later
// version adds are numbered after the earlier ones, so a number keeps its
// meaning in every version; an existing value keeps its first label.
func (b *builder) merge(old *Column, c Column) error {
	if old.Kind != c.Kind || old.source != c.source {
		return fmt.Errorf("column %s is a %s %s in one version and a %s %s in another: give the changed field a new name",
			old.Name, old.source, old.Kind, c.source, c.Kind)
	}
	old.Width = max(old.Width, c.Width)
	if old.codes != nil {
		code := make(map[string]string, len(c.codes)) // number → code
		for k, v := range c.codes {
			code[v] = k
		}
		for _, vl := range c.ValueLabels {
			k := code[vl.Value]
			if _, ok := old.codes[k]; ok {
				continue
			}
			n := strconv.Itoa(len(old.codes) + 1)
			old.codes[k] = n
			old.ValueLabels = append(old.ValueLabels, ValueLabel{n, vl.Label})
		}
		return nil
	}
	for _, vl := range c.ValueLabels {
		known := false
		for _, o := range old.ValueLabels {
			if o.Value == vl.Value {
				known = true
				break
			}
		}
		if !known {
			old.ValueLabels = append(old.ValueLabels, vl)
		}
	}
	return nil
}

// unique returns a safe form of name that no other column has, adding _2,
// _3, ... when needed.
func (b *builder) unique(name string) string {
	n := safeName(name)
	for i := 2; b.taken[n]; i++ {
		suffix := "_" + strconv.Itoa(i)
		base := safeName(name)
		n = strings.TrimRight(base[:min(len(base), MaxNameLength-len(suffix))], "_") + suffix
	}
	b.taken[n] = true
	return n
}

// spssReserved are the words SPSS does not accept as variable names.
var spssReserved = map[string]bool{"all": true, "and": true, "by": true, "eq": true, "ge": true, "gt": true,
	"le": true, "lt": true, "ne": true, "not": true, "or": true, "to": true, "with": true}

// safeName returns name as an SPSS (and R) variable name: lower-case letters,
// digits and underscores, starting with a letter, not ending with an
// underscore, at most MaxNameLength characters, not a reserved word.
func safeName(name string) string {
	var sb strings.Builder
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			sb.WriteRune(r)
		default:
			sb.WriteByte('_')
		}
	}
	n := sb.String()
	if n == "" || n[0] < 'a' || n[0] > 'z' {
		n = "v_" + n
	}
	if spssReserved[n] {
		n += "_v"
	}
	if len(n) > MaxNameLength {
		n = n[:MaxNameLength]
	}
	n = strings.TrimRight(n, "_")
	if n == "v" || n == "" {
		n = "v1"
	}
	return n
}

// ValidName reports whether name is a column name this package would make:
// what SPSS, R and (up to 32 characters) Stata accept.
func ValidName(name string) bool {
	if name == "" || len(name) > MaxNameLength || name[0] < 'a' || name[0] > 'z' || spssReserved[name] {
		return false
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}
