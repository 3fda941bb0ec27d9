package export

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// Codebook writes a Markdown codebook of the parts: the conventions, then
// per CSV a table of every variable's name, label, kind, codes and missing
// value (and the Stata names of the variables Stata must shorten), and per
// GraphML file a table of its attributes.
func Codebook(w io.Writer, parts ...Part) error {
	b := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	p("# Codebook\n\n")
	p("Pseudonymised: children appear only by the local authority's child ID; names and free text are never exported.\n\n")
	p("- Codes are numbered 1..n in the order the form definition lists them; ratings are their scale values; booleans are 1 yes, 0 no.\n")
	p("- A multi-select question is one 0/1 variable per code, named `<question>_<code>`.\n")
	p("- Missing (skipped, or not asked in that form version): **-1** in numeric variables, empty in strings and dates.\n")
	p("- Dates are `YYYY-MM-DD`. `statistical_year` is the April-to-March year of the date completed, e.g. `2019-20`.\n")
	p("- List items are numbered from 1. A reference to a list item holds that item's number (the `item` variable of the long file).\n")
	p("- `language` is the language a form was completed in (a BCP 47 tag: `en` English, `cy` Welsh, `ar` Arabic). Codes and values are the same in every language.\n")
	p("- Each CSV has, under the same name, syntax that reads and labels it:\n")
	p("  - `.sps` for SPSS (and GNU PSPP): variable and value labels, -1 declared missing;\n")
	p("  - `.do` for Stata 14 or later: variable and value labels, -1 made the missing value `.a` (labelled where the codes label -1), dates as Stata dates; names longer than Stata's 32 characters are shortened as listed under each file;\n")
	p("  - `.R` for R (base R only): a data frame named after the file, coded variables as factors with their labels (ratings ordered), -1 and empty values as `NA`, dates as `Date`, each variable's label in its `label` attribute.\n")
	for _, part := range parts {
		if n := part.Network; n != nil {
			networkSection(p, n)
			continue
		}
		l := part.Layout
		if l == nil {
			continue
		}
		var with []string
		for _, s := range Syntaxes() {
			with = append(with, "`"+l.Name+s.Ext+"` ("+s.Tool+")")
		}
		p("\n## %s.csv\n\n%s. %d variables. Read with %s or %s.\n\n",
			l.Name, cell(l.Title), len(l.Columns), strings.Join(with[:len(with)-1], ", "), with[len(with)-1])
		if vs := l.versions; len(vs) > 0 {
			p("Form `%s`, versions %s. A variable a version does not ask is missing in its rows.\n\n", l.Form, strings.Join(vs, ", "))
		}
		if l.net != nil {
			p("A person's `id` is `<response_id>:<node>`; node 0 is the young person. The GraphML file `%s.graphml` holds the same networks.\n\n", l.net.Name)
		}
		var renamed []string
		for i, n := range StataNames(l) {
			if n != l.Columns[i].Name {
				renamed = append(renamed, "`"+l.Columns[i].Name+"` → `"+n+"`")
			}
		}
		if len(renamed) > 0 {
			p("In Stata: %s.\n\n", strings.Join(renamed, ", "))
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

func networkSection(p func(string, ...any), n *Network) {
	p("\n## %s.graphml\n\n", n.Name)
	p("%s networks as GraphML (http://graphml.graphdrawing.org/), for Gephi, igraph, NetworkX, yEd, Cytoscape and the like: ", cell(n.title))
	p("one directed graph per response (`id` the response ID), the young person as node `<response_id>:0` with an edge to each person they named ")
	p("and each key person (a key person who is one of the named people is that same node). People are numbered, never named. ")
	p("The same networks are in `%s.csv` and `%s.csv`. An attribute a person or tie does not have (a rating skipped, a person who is not a key person) is left out.\n\n", n.Nodes.Name, n.Edges.Name)
	p("| Attribute | Of | Type | Meaning |\n| --- | --- | --- | --- |\n")
	for _, k := range n.graphKeys() {
		p("| `%s` | %s | %s | %s |\n", k.name, k.domain, k.typ, cell(k.desc))
	}
}

// cell makes text safe inside a Markdown table cell.
func cell(s string) string {
	return strings.ReplaceAll(oneLine(s), "|", `\|`)
}
