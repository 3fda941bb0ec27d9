package export

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Stata limits, in characters.
const (
	maxStataName       = 32
	maxStataVarLabel   = 80
	maxStataValueLabel = 32000
	maxStataDataLabel  = 80
)

// stataMissing is the extended missing value -1 becomes in Stata, so that a
// -1 the evaluation labelled ("Unknown", "Not applicable") keeps its label.
const stataMissing = ".a"

// Stata writes a do-file that reads csvFile (written for l by a Writer) into
// Stata 14 or later and labels it: import delimited with every column's
// type fixed (numeric, or string for strings and dates), each variable
// renamed to its Stata name (StataNames: at most 32 characters), dates
// converted to Stata dates, variable labels, value labels for every coded
// variable, and -1 in every numeric variable made the missing value .a.
func Stata(w io.Writer, l *Layout, csvFile string) error {
	if l == nil || len(l.Columns) == 0 {
		return fmt.Errorf("export: empty layout")
	}
	names := StataNames(l)
	b := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }

	p("* Encoding: UTF-8.\n")
	p("* %s.\n", stataComment(l.Title))
	p("* Reads %s; run it from the folder holding that file, or change the file name below.\n", stataComment(csvFile))
	p("* Missing answers: -1 in numeric variables becomes the missing value .a; strings and dates are empty.\n")
	p("* Variable names longer than Stata's 32 characters are shortened; the codebook lists them.\n\n")
	p("version 14\nclear\n\n")

	var numeric, text []int
	for i, c := range l.Columns {
		if c.Kind == Numeric {
			numeric = append(numeric, i+1)
		} else {
			text = append(text, i+1)
		}
	}
	p("import delimited using %s, ///\n", stataString(csvFile, 0))
	p("    delimiters(\",\") varnames(nonames) rowrange(2) encoding(\"utf-8\") bindquote(strict) ///\n")
	if len(numeric) > 0 {
		p("    numericcols(%s) ///\n", numlist(numeric))
	}
	if len(text) > 0 {
		p("    stringcols(%s) ///\n", numlist(text))
	}
	p("    clear\n\n")

	// import delimited names the columns v1, v2, ... without a header.
	for i := 0; i < len(names); i += 8 {
		end := min(i+8, len(names))
		var from []string
		for j := i; j < end; j++ {
			from = append(from, "v"+strconv.Itoa(j+1))
		}
		p("rename (%s) ///\n    (%s)\n", strings.Join(from, " "), strings.Join(names[i:end], " "))
	}
	p("\n")

	for i, c := range l.Columns {
		if c.Kind != Date {
			continue
		}
		n := names[i]
		p("generate double _sct_date = date(%s, \"YMD\")\n", n)
		p("order _sct_date, after(%s)\ndrop %s\nrename _sct_date %s\nformat %s %%tdCCYY-NN-DD\n\n", n, n, n, n)
	}

	p("label data %s\n", stataString(l.Title, maxStataDataLabel))
	for i, c := range l.Columns {
		p("label variable %s %s\n", names[i], stataString(c.Label, maxStataVarLabel))
	}
	p("\n")

	// Columns with the same codes share one value label, named after the
	// first of them.
	type valueLabel struct {
		name string
		vars []string
	}
	var sets []*valueLabel
	byCodes := map[string]*valueLabel{}
	for i, c := range l.Columns {
		if !c.Coded() || c.Kind != Numeric {
			continue
		}
		var sig strings.Builder
		for _, vl := range c.ValueLabels {
			sig.WriteString(vl.Value + "\x00" + vl.Label + "\x00")
		}
		set := byCodes[sig.String()]
		if set == nil {
			set = &valueLabel{name: names[i]}
			byCodes[sig.String()] = set
			sets = append(sets, set)
			p("label define %s ///\n", set.name)
			for _, vl := range c.ValueLabels {
				value := vl.Value
				if value == MissingNumeric {
					value = stataMissing
				}
				p("    %s %s ///\n", value, stataString(vl.Label, maxStataValueLabel))
			}
			p("    , replace\n")
		}
		set.vars = append(set.vars, names[i])
	}
	if len(sets) > 0 {
		p("\n")
	}
	for _, set := range sets {
		p("label values %s %s\n", wrapNames(set.vars), set.name)
	}
	if len(sets) > 0 {
		p("\n")
	}

	var missing []string
	for i, c := range l.Columns {
		if c.Kind == Numeric {
			missing = append(missing, names[i])
		}
	}
	if len(missing) > 0 {
		p("mvdecode %s, mv(%s=%s)\n\n", wrapNames(missing), MissingNumeric, stataMissing)
	}
	p("compress\n")
	return b.Flush()
}

// wrapNames lists names eight to a line, continued with ///.
func wrapNames(names []string) string {
	var sb strings.Builder
	for i, n := range names {
		if i > 0 {
			if i%8 == 0 {
				sb.WriteString(" ///\n    ")
			} else {
				sb.WriteByte(' ')
			}
		}
		sb.WriteString(n)
	}
	return sb.String()
}

// numlist writes column numbers as a Stata numlist, runs as a/b.
func numlist(ns []int) string {
	var parts []string
	for i := 0; i < len(ns); {
		j := i
		for j+1 < len(ns) && ns[j+1] == ns[j]+1 {
			j++
		}
		if j > i {
			parts = append(parts, strconv.Itoa(ns[i])+"/"+strconv.Itoa(ns[j]))
		} else {
			parts = append(parts, strconv.Itoa(ns[i]))
		}
		i = j + 1
	}
	return strings.Join(parts, " ")
}

// stataReserved are the words Stata does not accept as variable names (and
// str1 to str2045, matched by stataName).
var stataReserved = map[string]bool{"_all": true, "_b": true, "byte": true, "_coef": true, "_cons": true,
	"double": true, "float": true, "if": true, "in": true, "int": true, "long": true, "_n": true, "_pi": true,
	"_pred": true, "_rc": true, "_skip": true, "strl": true, "using": true, "with": true}

// StataNames returns the Stata name of each of l's columns, in order: the
// column's name when Stata accepts it, else a unique one of at most 32
// characters made from it (key_people_1_support_positive_feedback becomes
// key_people_1_support_positive_fe).
func StataNames(l *Layout) []string {
	out := make([]string, len(l.Columns))
	taken := make(map[string]bool, len(l.Columns))
	for _, c := range l.Columns {
		if len(c.Name) <= maxStataName && !stataReservedName(c.Name) {
			taken[c.Name] = true
		}
	}
	for i, c := range l.Columns {
		n := c.Name
		if len(n) <= maxStataName && !stataReservedName(n) {
			out[i] = n
			continue
		}
		base := strings.TrimRight(n[:min(len(n), maxStataName)], "_")
		if stataReservedName(base) {
			base += "_v"
		}
		n = base
		for k := 2; taken[n]; k++ {
			suffix := "_" + strconv.Itoa(k)
			n = strings.TrimRight(base[:min(len(base), maxStataName-len(suffix))], "_") + suffix
		}
		taken[n] = true
		out[i] = n
	}
	return out
}

func stataReservedName(n string) bool {
	if stataReserved[n] {
		return true
	}
	if rest, ok := strings.CutPrefix(n, "str"); ok && rest != "" {
		_, err := strconv.Atoi(rest)
		return err == nil
	}
	return false
}

// stataString returns s as a Stata string literal: on one line, within limit
// characters (when limit > 0), in compound double quotes, with $ escaped so
// Stata does not expand a global macro. Two things no escape can hide in a
// compound quote are replaced by their typographic twins: ` (it would open
// a local macro or a nested quote) by ‘, and the " of "' (which ends the
// quote) by ”.
func stataString(s string, limit int) string {
	s = truncateRunes(oneLine(s), limit)
	s = strings.ReplaceAll(s, "`", "‘")
	s = strings.ReplaceAll(s, `"'`, `”'`)
	var sb strings.Builder
	sb.WriteString("`\"")
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			continue // oneLine has made line breaks spaces; other controls go
		}
		if r == '$' {
			sb.WriteByte('\\')
		}
		sb.WriteRune(r)
	}
	sb.WriteString("\"'")
	return sb.String()
}

// stataComment makes text safe in a * comment: one line, and no /* or //
// that Stata would read as the start of another comment.
func stataComment(s string) string {
	s = strings.TrimSuffix(oneLine(s), ".")
	s = strings.ReplaceAll(s, "/*", "/ *")
	s = strings.ReplaceAll(s, "*/", "* /")
	return strings.ReplaceAll(s, "//", "/ /")
}

// truncateRunes cuts s to at most limit characters (limit > 0).
func truncateRunes(s string, limit int) string {
	if limit <= 0 || utf8.RuneCountInString(s) <= limit {
		return s
	}
	n := 0
	for i := range s {
		if n == limit {
			return s[:i]
		}
		n++
	}
	return s
}
