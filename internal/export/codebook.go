package export

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// Codebook writes a Markdown codebook of the layouts: the conventions, then
// per file a table of every variable's name, label, kind, codes and missing
// value.
func Codebook(w io.Writer, layouts ...*Layout) error {
	b := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	p("# Codebook\n\n")
	p("Pseudonymised: children appear only by the local authority's child ID; names and free text are never exported.\n\n")
	p("- Codes are numbered 1..n in the order the form definition lists them; ratings are their scale values; booleans are 1 yes, 0 no.\n")
	p("- A multi-select question is one 0/1 variable per code, named `<question>_<code>`.\n")
	p("- Missing (skipped, or not asked in that form version): **-1** in numeric variables, empty in strings and dates.\n")
	p("- Dates are `YYYY-MM-DD`. `statistical_year` is the April-to-March year of the date completed, e.g. `2019-20`.\n")
	p("- List items are numbered from 1. A reference to a list item holds that item's number (the `item` variable of the long file).\n")
	p("- Each CSV has an SPSS syntax file of the same name (`.sps`) that reads and labels it. R and Stata users can read the CSV and use this codebook.\n")
	for _, l := range layouts {
		if l == nil {
			continue
		}
		p("\n## %s.csv\n\n%s. %d variables.\n\n", l.Name, cell(l.Title), len(l.Columns))
		if vs := l.versions; len(vs) > 0 {
			p("Form `%s`, versions %s. A variable a version does not ask is missing in its rows.\n\n", l.Form, strings.Join(vs, ", "))
		}
		p("| Variable | Label | Kind | Codes | Missing |\n| --- | --- | --- | --- | --- |\n")
		for _, c := range l.Columns {
			codes := make([]string, len(c.ValueLabels))
			for i, vl := range c.ValueLabels {
				codes[i] = vl.Value + " = " + vl.Label
			}
			missing := "empty"
			if c.Missing != "" {
				missing = c.Missing
			}
			p("| `%s` | %s | %s | %s | %s |\n", c.Name, cell(c.Label), c.Kind, cell(strings.Join(codes, "; ")), missing)
		}
	}
	return b.Flush()
}

// cell makes text safe inside a Markdown table cell.
func cell(s string) string {
	return strings.ReplaceAll(oneLine(s), "|", `\|`)
}
