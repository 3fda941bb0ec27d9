package form

// Redact returns a copy of answers without the answers the definition marks
// sensitive (names, free text): the pseudonymised view evaluators get.
// Answers the definition does not know are dropped too, so nothing slips
// through unchecked.
func (d *Definition) Redact(answers map[string]any) map[string]any {
	out, _ := redact(&d.Answers, answers).(map[string]any)
	if out == nil {
		out = map[string]any{}
	}
	return out
}

func redact(f *Field, v any) any {
	switch f.Type {
	case TypeObject:
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		out := make(map[string]any, len(m))
		for i := range f.Fields {
			c := &f.Fields[i]
			x, has := m[c.Name]
			if !has || c.Sensitive {
				continue
			}
			if r := redact(c, x); r != nil {
				out[c.Name] = r
			}
		}
		return out
	case TypeList:
		items, ok := v.([]any)
		if !ok {
			return nil
		}
		out := make([]any, len(items))
		for i, it := range items {
			out[i] = redact(f.Item, it)
		}
		return out
	}
	return v
}

// SensitivePaths lists the dotted paths of sensitive answers, for checks.
func (d *Definition) SensitivePaths() []string {
	var out []string
	var walk func(f *Field, prefix string)
	walk = func(f *Field, prefix string) {
		for f.Type == TypeList && f.Item != nil {
			f = f.Item
		}
		for i := range f.Fields {
			c := &f.Fields[i]
			p := c.Name
			if prefix != "" {
				p = prefix + "." + c.Name
			}
			if c.Sensitive {
				out = append(out, p)
			}
			walk(c, p)
		}
	}
	walk(&d.Answers, "")
	return out
}
