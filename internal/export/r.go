package export

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/lifelong-links/sct/internal/form"
)

// R writes a script that reads csvFile (written for l by a Writer) into a
// data frame named after the layout, with base R only: every column's class
// fixed (numeric, character, Date), -1 in numeric variables and empty
// strings and dates made NA, coded variables made factors with their labels
// (ratings ordered factors), and each variable's label kept as its "label"
// attribute, as haven and RStudio's viewer read it. The script is ASCII:
// other characters are \u escapes, so it reads the same in any locale.
func R(w io.Writer, l *Layout, csvFile string) error {
	if l == nil || len(l.Columns) == 0 {
		return fmt.Errorf("export: empty layout")
	}
	b := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }

	p("# %s.\n", rComment(l.Title))
	p("# Reads %s into the data frame %s; run it from the folder holding that\n", rComment(csvFile), l.Name)
	p("# file (setwd), or change the file name below. Base R only.\n")
	p("# Missing answers: -1 in numeric variables and empty strings and dates are NA.\n")
	p("# Coded variables are factors (ratings ordered); as.integer() gives a factor's\n")
	p("# position among its levels, which the codebook lists.\n\n")

	p("%s <- local({\n", l.Name)
	p("  d <- utils::read.csv(%s, fileEncoding = \"UTF-8\", na.strings = \"\",\n", rString(csvFile))
	p("    check.names = FALSE, stringsAsFactors = FALSE, colClasses = c(\n")
	for i, c := range l.Columns {
		sep := ","
		if i == len(l.Columns)-1 {
			sep = ""
		}
		p("      %s = %s%s\n", rString(c.Name), rString(rClass(c.Kind)), sep)
	}
	p("    ))\n")

	var numeric []string
	for _, c := range l.Columns {
		if c.Kind == Numeric {
			numeric = append(numeric, rString(c.Name))
		}
	}
	if len(numeric) > 0 {
		p("  numeric <- c(%s)\n", wrapR(numeric, "    "))
		p("  d[numeric] <- lapply(d[numeric], function(x) replace(x, x == %s, NA))\n", MissingNumeric)
	}
	for _, c := range l.Columns {
		if !c.Coded() || c.Kind != Numeric {
			continue
		}
		var levels, labels []string
		for _, vl := range c.ValueLabels {
			if vl.Value == MissingNumeric {
				continue // NA already
			}
			levels = append(levels, vl.Value)
			labels = append(labels, rString(vl.Label))
		}
		ordered := ""
		if c.source == form.TypeRating {
			ordered = ", ordered = TRUE"
		}
		p("  d[[%s]] <- factor(d[[%s]], levels = c(%s),\n    labels = c(%s)%s)\n",
			rString(c.Name), rString(c.Name), strings.Join(levels, ", "), wrapR(labels, "      "), ordered)
	}
	p("  labels <- c(\n")
	for i, c := range l.Columns {
		sep := ","
		if i == len(l.Columns)-1 {
			sep = ""
		}
		p("    %s = %s%s\n", rString(c.Name), rString(c.Label), sep)
	}
	p("  )\n")
	p("  for (v in names(labels)) attr(d[[v]], \"label\") <- labels[[v]]\n")
	p("  d\n})\n")
	return b.Flush()
}

func rClass(k Kind) string {
	switch k {
	case Numeric:
		return "numeric"
	case Date:
		return "Date"
	}
	return "character"
}

// wrapR joins items with commas, a few to a line.
func wrapR(items []string, indent string) string {
	var sb strings.Builder
	line := 0
	for i, it := range items {
		if i > 0 {
			sb.WriteString(",")
			if line+len(it) > 70 {
				sb.WriteString("\n" + indent)
				line = 0
			} else {
				sb.WriteString(" ")
			}
		}
		sb.WriteString(it)
		line += len(it) + 2
	}
	return sb.String()
}

// rString returns s as an R string literal: on one line, in double quotes,
// with \ and " escaped and every character outside printable ASCII written
// as a \u escape, so the script means the same in any locale.
func rString(s string) string {
	var sb strings.Builder
	sb.WriteByte('"')
	for _, r := range oneLine(s) {
		switch {
		case r < 0x20 || r == 0x7f:
			// oneLine has made line breaks spaces; other controls go.
		case r == '\\' || r == '"':
			sb.WriteByte('\\')
			sb.WriteRune(r)
		case r >= 0x20 && r < 0x7f:
			sb.WriteRune(r)
		case r <= 0xffff:
			fmt.Fprintf(&sb, `\u{%04x}`, r)
		default:
			fmt.Fprintf(&sb, `\U{%08x}`, r)
		}
	}
	sb.WriteByte('"')
	return sb.String()
}

// rComment makes text safe in a # comment: one line, printable ASCII.
func rComment(s string) string {
	s = strings.TrimSuffix(oneLine(s), ".")
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r >= 0x7f {
			return '?'
		}
		return r
	}, s)
}
