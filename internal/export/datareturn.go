package export

import (
	"archive/zip"
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
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

// Part is one file of a data return: a layout and a callback that writes
// its rows to the Writer it is given (from a streaming cursor, say); or a
// network and a callback that writes its graphs.
type Part struct {
	Layout *Layout
	Rows   func(*Writer) error

	// Network, instead of Layout, makes the part the network's GraphML
	// file, <Network.Name>.graphml.
	Network *Network
	Graphs  func(*GraphWriter) error
}

// Name is the part's file stem.
func (p Part) Name() string {
	switch {
	case p.Layout != nil:
		return p.Layout.Name
	case p.Network != nil:
		return p.Network.Name
	}
	return ""
}

// Files returns the names of the part's files: a layout's CSV and the
// syntax files that read it, or a network's GraphML.
func (p Part) Files() []string {
	switch {
	case p.Layout != nil:
		out := []string{p.Layout.Name + ".csv"}
		for _, s := range Syntaxes() {
			out = append(out, p.Layout.Name+s.Ext)
		}
		return out
	case p.Network != nil:
		return []string{p.Network.Name + ".graphml"}
	}
	return nil
}

// Syntax is a program, written beside a layout's CSV, that reads the CSV
// into a statistics package and labels it.
type Syntax struct {
	Ext   string // the file name's ending: ".sps"
	Tool  string // what reads it: "SPSS"
	Write func(w io.Writer, l *Layout, csvFile string) error
}

// Syntaxes are the syntax files beside every CSV, in the order a data
// return holds them: SPSS, Stata, R.
func Syntaxes() []Syntax {
	return []Syntax{{".sps", "SPSS", SPSS}, {".do", "Stata", Stata}, {".R", "R", R}}
}

// Files returns the names of the files DataReturn writes for parts, in
// order.
func Files(parts ...Part) []string {
	var out []string
	for _, p := range parts {
		out = append(out, p.Files()...)
	}
	return append(out, "codebook.md", "README.txt")
}

// DataReturn streams a zip to w: for each layout part, <name>.csv and the
// syntax files that read it (<name>.sps, <name>.do, <name>.R); for each
// network part, <name>.graphml; codebook.md covering every part; and
// README.txt giving the site, the period, when it was made and the rows in
// each file. Each part's rows go straight into the zip as its callback
// writes them.
func DataReturn(w io.Writer, about About, parts ...Part) error {
	seen := map[string]bool{}
	for _, p := range parts {
		if (p.Layout == nil || p.Rows == nil) == (p.Network == nil || p.Graphs == nil) {
			return errors.New("export: a data return part needs a layout and rows, or a network and graphs")
		}
		if !ValidName(p.Name()) {
			return fmt.Errorf("export: %q is not a safe file name", p.Name())
		}
		if seen[p.Name()] {
			return fmt.Errorf("export: two parts are named %s", p.Name())
		}
		seen[p.Name()] = true
	}
	made := about.Made.UTC()
	zw := zip.NewWriter(w)
	create := func(name string) (io.Writer, error) {
		return zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: made})
	}
	rows := make([]int, len(parts))
	for i, p := range parts {
		name := p.Name()
		if p.Network != nil {
			f, err := create(name + ".graphml")
			if err != nil {
				return err
			}
			gw, err := NewGraphWriter(f, p.Network)
			if err != nil {
				return err
			}
			if err := p.Graphs(gw); err != nil {
				return fmt.Errorf("export: %s graphs: %w", name, err)
			}
			if err := gw.Close(); err != nil {
				return err
			}
			rows[i] = gw.Graphs()
			continue
		}
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
		for _, s := range Syntaxes() {
			if f, err = create(name + s.Ext); err != nil {
				return err
			}
			if err := s.Write(f, p.Layout, name+".csv"); err != nil {
				return err
			}
		}
	}
	f, err := create("codebook.md")
	if err != nil {
		return err
	}
	if err := Codebook(f, parts...); err != nil {
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
		if n := part.Network; n != nil {
			p("  %s.graphml  %s networks as GraphML, one graph per response; %d graphs.\r\n", n.Name, oneLine(n.title), rows[i])
			continue
		}
		l := part.Layout
		p("  %s.csv  %s; %d rows.\r\n", l.Name, oneLine(l.Title), rows[i])
		var with []string
		for _, s := range Syntaxes() {
			with = append(with, s.Tool+" with "+l.Name+s.Ext)
		}
		p("      Read into %s.\r\n", strings.Join(with, ", "))
	}
	p("  codebook.md  every variable: name, label, kind, codes and missing value.\r\n\r\n")
	p("Missing answers are -1 in numeric variables and empty in strings and dates.\r\n")
	p("The syntax files read the CSV of the same name from the folder they are run in.\r\n")
	return b.Flush()
}
