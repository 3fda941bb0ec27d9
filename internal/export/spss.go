package export

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// SPSS limits on labels, in bytes.
const (
	maxVariableLabel = 256
	maxValueLabel    = 120
)

// SPSS writes syntax that reads csvFile (written for l by a Writer) into SPSS
// and labels it: GET DATA with every variable's format (numeric F, string A,
// date SDATE10), VARIABLE LABELS, VALUE LABELS for every coded variable, and
// MISSING VALUES declaring -1 for every numeric variable.
func SPSS(w io.Writer, l *Layout, csvFile string) error {
	if l == nil || len(l.Columns) == 0 {
		return fmt.Errorf("export: empty layout")
	}
	b := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }

	p("* Encoding: UTF-8.\n")
	p("* %s.\n", strings.TrimSuffix(oneLine(l.Title), "."))
	p("* Reads %s; run it from the folder holding that file, or change /FILE to its full path.\n", oneLine(csvFile))
	p("* Missing answers: -1 in numeric variables (declared below), empty in strings and dates.\n\n")

	p("GET DATA\n  /TYPE=TXT\n  /FILE=%s\n  /ENCODING='UTF8'\n  /ARRANGEMENT=DELIMITED\n", quote(csvFile, 0))
	p("  /DELIMITERS=\",\"\n  /QUALIFIER='\"'\n  /FIRSTCASE=2\n  /VARIABLES=\n")
	for _, c := range l.Columns {
		p("    %s %s\n", c.Name, spssFormat(c))
	}
	p(".\nCACHE.\nEXECUTE.\n\n")

	p("VARIABLE LABELS\n")
	for i, c := range l.Columns {
		sep := "  "
		if i > 0 {
			sep = "  /"
		}
		p("%s%s %s\n", sep, c.Name, quote(c.Label, maxVariableLabel))
	}
	p(".\n\n")

	first := true
	for _, c := range l.Columns {
		if !c.Coded() {
			continue
		}
		if first {
			p("VALUE LABELS\n")
		}
		sep := "  /"
		if first {
			sep = "  "
		}
		first = false
		p("%s%s\n", sep, c.Name)
		for _, vl := range c.ValueLabels {
			value := vl.Value
			if c.Kind != Numeric {
				value = quote(value, 0)
			}
			p("    %s %s\n", value, quote(vl.Label, maxValueLabel))
		}
	}
	if !first {
		p(".\n\n")
	}

	var numeric []string
	for _, c := range l.Columns {
		if c.Kind == Numeric {
			numeric = append(numeric, c.Name)
		}
	}
	if len(numeric) > 0 {
		p("MISSING VALUES\n")
		for _, n := range numeric {
			p("  %s\n", n)
		}
		p("  (%s).\n\n", MissingNumeric)
	}
	p("EXECUTE.\n")
	return b.Flush()
}

func spssFormat(c Column) string {
	switch c.Kind {
	case Numeric:
		return "F" + strconv.Itoa(max(c.Width, 2)) + ".0"
	case Date:
		return "SDATE10"
	}
	return "A" + strconv.Itoa(min(max(c.Width, 1), 32767))
}

// quote returns s as an SPSS string: on one line, within limit bytes (when
// limit > 0, cut at a character boundary), in single quotes with any single
// quote doubled.
func quote(s string, limit int) string {
	s = oneLine(s)
	if limit > 0 && len(s) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
