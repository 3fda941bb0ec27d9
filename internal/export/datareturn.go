package export

import (
	"archive/zip"
	"bufio"
	"errors"
	"fmt"
	"io"
	"time"
)

// About says whose data return it is and when it was made.
type About struct {
	Site string
	// From and To bound the period returned, YYYY-MM-DD, both inclusive;
	// either may be empty (open).
	From, To string
	// Made is when the return was made; the caller's clock, so tests can
	// fix it.
	Made time.Time
}

// Period describes the period in words.
func (a About) Period() string {
	switch {
	case a.From != "" && a.To != "":
		return a.From + " to " + a.To
	case a.From != "":
		return "from " + a.From
	case a.To != "":
		return "up to " + a.To
	}
	return "all dates"
}

// FileName suggests a name for the zip: data_return_<site>_<from>_<to>.zip.
func (a About) FileName() string {
	date := func(s string) string {
		if s == "" {
			return "open"
		}
		return safeName("d" + s)[1:]
	}
	name := "data_return_" + safeName(a.Site)
	if a.From != "" || a.To != "" {
		name += "_" + date(a.From) + "_" + date(a.To)
	}
	return name + ".zip"
}

// Part is one file of a data return: its layout and a callback that writes
// its rows to the Writer it is given (from a streaming cursor, say).
type Part struct {
	Layout *Layout
	Rows   func(*Writer) error
}

// Files returns the names of the files DataReturn writes for parts, in
// order.
func Files(parts ...Part) []string {
	var out []string
	for _, p := range parts {
		if p.Layout != nil {
			out = append(out, p.Layout.Name+".csv", p.Layout.Name+".sps")
		}
	}
	return append(out, "codebook.md", "README.txt")
}

// DataReturn streams a zip to w: for each part, <name>.csv and the SPSS
// syntax <name>.sps that reads it; codebook.md covering every part; and
// README.txt giving the site, the period, when it was made and the rows in
// each file. Each part's rows go straight into the zip as its callback
// writes them.
func DataReturn(w io.Writer, about About, parts ...Part) error {
	seen := map[string]bool{}
	layouts := make([]*Layout, 0, len(parts))
	for _, p := range parts {
		if p.Layout == nil || p.Rows == nil {
			return errors.New("export: a data return part needs a layout and rows")
		}
		if !ValidName(p.Layout.Name) {
			return fmt.Errorf("export: %q is not a safe file name", p.Layout.Name)
		}
		if seen[p.Layout.Name] {
			return fmt.Errorf("export: two parts are named %s", p.Layout.Name)
		}
		seen[p.Layout.Name] = true
		layouts = append(layouts, p.Layout)
	}
	made := about.Made.UTC()
	zw := zip.NewWriter(w)
	create := func(name string) (io.Writer, error) {
		return zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: made})
	}
	rows := make([]int, len(parts))
	for i, p := range parts {
		name := p.Layout.Name
		f, err := create(name + ".csv")
		if err != nil {
			return err
		}
		cw, err := NewWriter(f, p.Layout)
		if err != nil {
			return err
		}
		if err := p.Rows(cw); err != nil {
			return fmt.Errorf("export: %s rows: %w", name, err)
		}
		if err := cw.Flush(); err != nil {
			return err
		}
		rows[i] = cw.Rows()
		if f, err = create(name + ".sps"); err != nil {
			return err
		}
		if err := SPSS(f, p.Layout, name+".csv"); err != nil {
			return err
		}
	}
	f, err := create("codebook.md")
	if err != nil {
		return err
	}
	if err := Codebook(f, layouts...); err != nil {
		return err
	}
	if f, err = create("README.txt"); err != nil {
		return err
	}
	if err := readme(f, about, made, parts, rows); err != nil {
		return err
	}
	return zw.Close()
}

func readme(w io.Writer, about About, made time.Time, parts []Part, rows []int) error {
	b := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	p("Lifelong Links data return\r\n\r\n")
	p("Site:   %s\r\n", oneLine(about.Site))
	p("Period: %s\r\n", oneLine(about.Period()))
	p("Made:   %s\r\n\r\n", made.Format("2006-01-02 15:04:05 UTC"))
	p("Pseudonymised for evaluators: children appear only by the local authority's\r\n")
	p("child ID; names and free text are never exported.\r\n\r\n")
	p("Files:\r\n")
	for i, part := range parts {
		l := part.Layout
		p("  %s.csv  %s; %d rows. Read into SPSS with %s.sps.\r\n", l.Name, oneLine(l.Title), rows[i], l.Name)
	}
	p("  codebook.md  every variable: name, label, kind, codes and missing value.\r\n\r\n")
	p("Missing answers are -1 in numeric variables and empty in strings and dates.\r\n")
	return b.Flush()
}
