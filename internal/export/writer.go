package export

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/lifelong-links/sct/internal/store"
)

// Writer streams the rows of one layout as CSV, header first. It holds one
// row at a time, however many it writes.
type Writer struct {
	l    *Layout
	csv  *csv.Writer
	row  []string
	rows int
}

// NewWriter writes l's header to w and returns a Writer for its rows.
func NewWriter(w io.Writer, l *Layout) (*Writer, error) {
	if l == nil || len(l.Columns) == 0 {
		return nil, errors.New("export: empty layout")
	}
	if len(l.missing) != len(l.Columns) {
		return nil, fmt.Errorf("export: layout %s was not made by this package", l.Name)
	}
	cw := csv.NewWriter(w)
	header := make([]string, len(l.Columns))
	for i, c := range l.Columns {
		header[i] = c.Name
	}
	if err := cw.Write(header); err != nil {
		return nil, err
	}
	return &Writer{l: l, csv: cw, row: make([]string, len(l.Columns))}, nil
}

// Rows returns the number of rows written, not counting the header.
func (w *Writer) Rows() int { return w.rows }

// Response writes r: one row in a wide layout, one row per item of the
// layout's lists in a long layout (none when the lists are empty), one row
// per person (the young person first) in a network's nodes layout and one
// per tie in its edges layout. Answers
// the layout does not know are never written; a response of another form, or
// of a version the layout was not made from, is an error.
func (w *Writer) Response(r store.Response) error {
	l := w.l
	if l.kind != wideLayout && l.kind != longLayout && l.kind != nodesLayout && l.kind != edgesLayout {
		return fmt.Errorf("export: layout %s does not take responses", l.Name)
	}
	if r.Form != l.Form {
		return fmt.Errorf("export: response %s is form %s, layout %s is form %s", r.ID, r.Form, l.Name, l.Form)
	}
	p := l.plans[r.Version]
	covered := p != nil
	if l.net != nil {
		covered = l.net.plans[r.Version] != nil
	}
	if !covered {
		return fmt.Errorf("export: response %s is %s version %s, which layout %s does not cover", r.ID, r.Form, r.Version, l.Name)
	}
	if l.net != nil {
		return w.networkRows(&r)
	}
	if l.kind == wideLayout {
		w.start(&r)
		fill(w.row, p.getters, r.Answers)
		return w.write()
	}
	for _, lp := range p.lists {
		list := r.Answers[lp.name]
		for i := range length(list) {
			it, _ := item(list, i)
			w.start(&r)
			w.row[l.listCol] = lp.name
			w.row[l.itemCol] = strconv.Itoa(i + 1)
			fill(w.row, lp.getters, it)
			if err := w.write(); err != nil {
				return err
			}
		}
	}
	return nil
}

// Participation writes one child's participation row.
func (w *Writer) Participation(p Participation) error {
	if w.l.kind != participationLayout {
		return fmt.Errorf("export: layout %s does not take participation records", w.l.Name)
	}
	participationRow(w.row, &p)
	return w.write()
}

// Flush writes any buffered rows to the underlying writer.
func (w *Writer) Flush() error {
	w.csv.Flush()
	return w.csv.Error()
}

// start resets the row to missing values and fills the response's meta
// columns.
func (w *Writer) start(r *store.Response) {
	copy(w.row, w.l.missing)
	for i, m := range w.l.meta {
		w.row[w.l.metaFrom+i] = m.get(r)
	}
}

func (w *Writer) write() error {
	if err := w.csv.Write(w.row); err != nil {
		return err
	}
	w.rows++
	return nil
}

// fill sets the columns the getters find answers for, from root.
func fill(row []string, getters []getter, root any) {
	for i := range getters {
		g := &getters[i]
		v, ok := lookup(root, g.path)
		if !ok {
			if g.absent != "" {
				row[g.col] = g.absent
			}
			continue
		}
		if s, ok := g.value(v); ok {
			row[g.col] = s
		}
	}
}
