package export

import (
	"bufio"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/lifelong-links/sct/internal/store"
)

// GraphMLNamespace is the namespace of GraphML documents.
const GraphMLNamespace = "http://graphml.graphdrawing.org/xmlns"

// graphKey is one attribute a GraphML file declares with <key>.
type graphKey struct {
	domain string // graph, node or edge
	name   string // attr.name
	typ    string // attr.type: string, int
	desc   string
	// col is the Edges column an edge attribute comes from; -1 otherwise.
	col int
	// codes, for a coded column, turns its number back into its code.
	codes map[string]string
}

func (k graphKey) id() string { return k.domain + "_" + k.name }

// graphKeys are the attributes of a network's GraphML: the response's facts
// on each graph; role, relationship, nominee and key_person on each node;
// key_person and the key person's answers (the Edges layout's columns) on
// each edge.
func (n *Network) graphKeys() []graphKey {
	keys := []graphKey{
		{domain: "graph", name: "response_id", typ: "string", desc: "Response ID", col: -1},
		{domain: "graph", name: "child_id", typ: "string", desc: "Child ID (pseudonymous, the local authority's)", col: -1},
		{domain: "graph", name: "site", typ: "string", desc: "Site", col: -1},
		{domain: "graph", name: "group", typ: "string", desc: "Group: lifelong_links or comparison", col: -1},
		{domain: "graph", name: "timepoint", typ: "string", desc: "Timepoint: baseline or follow_up", col: -1},
		{domain: "graph", name: "wave", typ: "int", desc: "Wave: which baseline or follow-up (1 = first)", col: -1},
		{domain: "graph", name: "version", typ: "string", desc: "Form version", col: -1},
		{domain: "graph", name: "completed_on", typ: "string", desc: "Date completed, YYYY-MM-DD", col: -1},
		{domain: "graph", name: "statistical_year", typ: "string", desc: "Statistical year (April to March) of the date completed", col: -1},
		{domain: "node", name: "role", typ: "string", col: -1,
			desc: "ego (the young person); important (named, not a key person); most_important (one of the 3 most important people); support (someone else they would turn to for support)"},
		{domain: "node", name: "relationship", typ: "string", desc: "Relationship to the young person, as a code of the form (grandparent, friend, ...)", col: -1},
		{domain: "node", name: "nominee", typ: "int", desc: "Number of the person among the important people (1 = first)", col: -1},
		{domain: "node", name: "key_person", typ: "int", desc: "Number of the person among the key people (1 = first)", col: -1},
		{domain: "edge", name: "key_person", typ: "int", desc: "Number of the other person among the key people (1 = first)", col: -1},
	}
	for i := n.edgeFrom; i < len(n.Edges.Columns); i++ {
		c := &n.Edges.Columns[i]
		k := graphKey{domain: "edge", name: c.Name, typ: "string", desc: c.Label, col: i}
		switch {
		case c.codes != nil:
			k.codes = make(map[string]string, len(c.codes))
			for code, number := range c.codes {
				k.codes[number] = code
			}
		case c.Kind == Numeric:
			k.typ = "int"
			k.desc += valueList(c.ValueLabels)
		}
		keys = append(keys, k)
	}
	return keys
}

func valueList(vls []ValueLabel) string {
	s := ""
	for i, vl := range vls {
		if i == 0 {
			s = ": "
		} else {
			s += "; "
		}
		s += vl.Value + " " + vl.Label
	}
	return s
}

// GraphWriter streams a network's GraphML: one <graph> per response, after
// the <key> declarations. Close ends the document.
type GraphWriter struct {
	n      *Network
	b      *bufio.Writer
	keys   []graphKey
	row    []string // an Edges row, for the key person's answers
	graphs int
	closed bool
	err    error
}

// NewGraphWriter writes the GraphML header and n's attribute declarations
// to w and returns a GraphWriter for its graphs.
func NewGraphWriter(w io.Writer, n *Network) (*GraphWriter, error) {
	if n == nil || n.Nodes == nil || n.Edges == nil {
		return nil, errors.New("export: no network")
	}
	g := &GraphWriter{n: n, b: bufio.NewWriter(w), keys: n.graphKeys(), row: make([]string, len(n.Edges.Columns))}
	p := g.p
	p(xml.Header)
	p(`<graphml xmlns="%s" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"`+"\n", GraphMLNamespace)
	p(`    xsi:schemaLocation="%s http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">`+"\n", GraphMLNamespace)
	p("  <desc>%s networks: one directed graph per response, from the young person (node 0) to each person in their network. Pseudonymised: people are numbered, never named.</desc>\n",
		text(n.title))
	for _, k := range g.keys {
		p(`  <key id="%s" for="%s" attr.name="%s" attr.type="%s"><desc>%s</desc></key>`+"\n",
			k.id(), k.domain, k.name, k.typ, text(k.desc))
	}
	if err := g.b.Flush(); err != nil {
		return nil, err
	}
	return g, g.err
}

// p writes to the buffer, keeping the first error (the reader gone, say)
// for Response and Close to return.
func (g *GraphWriter) p(format string, args ...any) {
	if _, err := fmt.Fprintf(g.b, format, args...); err != nil && g.err == nil {
		g.err = err
	}
}

// Graphs returns the number of graphs written.
func (g *GraphWriter) Graphs() int { return g.graphs }

// Response writes r's network as one graph.
func (g *GraphWriter) Response(r store.Response) error {
	n := g.n
	if g.closed {
		return errors.New("export: GraphML already closed")
	}
	if r.Form != n.Form {
		return fmt.Errorf("export: response %s is form %s, network %s is form %s", r.ID, r.Form, n.Name, n.Form)
	}
	plan := n.plans[r.Version]
	if plan == nil {
		return fmt.Errorf("export: response %s is %s version %s, which network %s does not cover", r.ID, r.Form, r.Version, n.Name)
	}
	people := n.people(&r, plan)
	p := g.p
	p(`  <graph id="%s" edgedefault="directed">`+"\n", text(r.ID))
	graph := map[string]string{
		"response_id": r.ID, "child_id": r.ChildID, "site": r.Site, "group": r.Group, "timepoint": r.Timepoint,
		"wave": strconv.Itoa(max(r.Wave, 1)), "version": r.Version, "completed_on": dateOrEmpty(r.CompletedOn),
		"statistical_year": StatisticalYear(r.CompletedOn),
	}
	for _, k := range g.keys {
		if k.domain == "graph" && graph[k.name] != "" {
			g.data(4, k.id(), graph[k.name])
		}
	}
	p(`    <node id="%s">`, text(nodeID(r.ID, 0)))
	g.data(0, "node_role", RoleEgo)
	p("</node>\n")
	for _, pp := range people {
		p(`    <node id="%s">`, text(nodeID(r.ID, pp.node)))
		g.data(0, "node_role", pp.role)
		g.data(0, "node_relationship", pp.relationship)
		if pp.nominee > 0 {
			g.data(0, "node_nominee", strconv.Itoa(pp.nominee))
		}
		if pp.key > 0 {
			g.data(0, "node_key_person", strconv.Itoa(pp.key))
		}
		p("</node>\n")
	}
	for _, pp := range people {
		p(`    <edge source="%s" target="%s">`, text(nodeID(r.ID, 0)), text(nodeID(r.ID, pp.node)))
		if pp.key > 0 {
			g.data(0, "edge_key_person", strconv.Itoa(pp.key))
			copy(g.row, n.Edges.missing)
			n.edgeRow(g.row, plan, pp)
			for _, k := range g.keys {
				if k.col < 0 {
					continue
				}
				v := g.row[k.col]
				if v == n.Edges.Columns[k.col].Missing {
					continue
				}
				if k.codes != nil {
					v = k.codes[v]
				}
				g.data(0, k.id(), v)
			}
		}
		p("</edge>\n")
	}
	p("  </graph>\n")
	if g.err != nil {
		return g.err
	}
	g.graphs++
	return nil
}

// data writes one <data> element, indented by indent spaces on a line of
// its own (0: inline); an empty value is left out.
func (g *GraphWriter) data(indent int, key, value string) {
	if value == "" {
		return
	}
	if indent > 0 {
		g.p("%*s", indent, "")
	}
	g.p(`<data key="%s">%s</data>`, key, text(value))
	if indent > 0 {
		g.p("\n")
	}
}

// Close ends the document and flushes it.
func (g *GraphWriter) Close() error {
	if !g.closed {
		g.closed = true
		g.p("</graphml>\n")
	}
	if g.err != nil {
		return g.err
	}
	return g.b.Flush()
}

// text escapes s for XML character data and attribute values: markup
// characters and quotes become references, characters XML cannot hold
// become U+FFFD.
func text(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(oneLine(s))) // a strings.Builder does not fail
	return b.String()
}
