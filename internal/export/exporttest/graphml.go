// Package exporttest checks export files the way the tools that read them
// would: GraphML against the structure of the GraphML schema, network sizes
// against the wide file.
package exporttest

import (
	"bytes"
	"encoding/csv"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// GraphMLNamespace is the namespace every GraphML element is in.
const GraphMLNamespace = "http://graphml.graphdrawing.org/xmlns"

// Graph is one graph of a GraphML document, as read back.
type Graph struct {
	ID    string
	Data  map[string]string // attr.name → value
	Nodes []string          // ids, in order
	Node  map[string]Attrs  // id → its data
	Edges []Edge            // in order
}

// Attrs are an element's data by attr.name.
type Attrs map[string]string

// Edge is one edge as read back.
type Edge struct {
	Source, Target string
	Data           Attrs
}

// Key is one declared attribute.
type Key struct {
	ID, For, Name, Type string
}

// Document is a GraphML document as read back.
type Document struct {
	Keys   []Key
	Graphs []Graph
}

type element struct {
	name     xml.Name
	attrs    map[string]string
	children []*element
	text     strings.Builder
}

func parse(data []byte) (*element, error) {
	d := xml.NewDecoder(bytes.NewReader(data))
	var stack []*element
	var root *element
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			e := &element{name: t.Name, attrs: map[string]string{}}
			for _, a := range t.Attr {
				if a.Name.Space == "" {
					e.attrs[a.Name.Local] = a.Value
				}
			}
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				p.children = append(p.children, e)
			} else if root != nil {
				return nil, errors.New("more than one root element")
			} else {
				root = e
			}
			stack = append(stack, e)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text.Write(t)
			}
		}
	}
	if root == nil {
		return nil, errors.New("no root element")
	}
	return root, nil
}

var attrTypes = map[string]bool{"boolean": true, "int": true, "long": true, "float": true, "double": true, "string": true}
var keyDomains = map[string]bool{"graph": true, "node": true, "edge": true, "all": true, "graphml": true,
	"hyperedge": true, "port": true, "endpoint": true}

// ReadGraphML parses a GraphML document and checks it follows the GraphML
// schema's structure: the root is graphml in the GraphML namespace (as is
// every element); an optional desc, then the key declarations, then the
// graphs; every key has a unique id, a known domain (for) and attr.type
// and an attr.name; every graph has an id and edgedefault; every data
// element names a declared key of its parent's domain, and its value is of
// the key's type; node ids are unique in the document; every edge's source
// and target are nodes of its graph. It returns every problem found.
func ReadGraphML(data []byte) (*Document, []error) {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	root, err := parse(data)
	if err != nil {
		return nil, []error{fmt.Errorf("not well-formed XML: %w", err)}
	}
	var walk func(e *element)
	walk = func(e *element) {
		if e.name.Space != GraphMLNamespace {
			bad("element %s is in namespace %q, not GraphML's", e.name.Local, e.name.Space)
		}
		for _, c := range e.children {
			walk(c)
		}
	}
	walk(root)
	if root.name.Local != "graphml" {
		return nil, append(errs, fmt.Errorf("root element is %s, not graphml", root.name.Local))
	}
	doc := &Document{}
	keys := map[string]Key{}
	nodeIDs := map[string]bool{}
	seenGraph := false
	for i, c := range root.children {
		switch c.name.Local {
		case "desc":
			if i != 0 {
				bad("graphml's desc is child %d, not the first", i+1)
			}
		case "key":
			if seenGraph {
				bad("key %q is declared after a graph", c.attrs["id"])
			}
			k := Key{ID: c.attrs["id"], For: c.attrs["for"], Name: c.attrs["attr.name"], Type: c.attrs["attr.type"]}
			switch {
			case k.ID == "":
				bad("a key has no id")
			case keys[k.ID] != Key{}:
				bad("key id %q is declared twice", k.ID)
			}
			if !keyDomains[k.For] {
				bad("key %q is for %q", k.ID, k.For)
			}
			if k.Name == "" || !attrTypes[k.Type] {
				bad("key %q has attr.name %q and attr.type %q", k.ID, k.Name, k.Type)
			}
			for j, kc := range c.children {
				if !(kc.name.Local == "desc" && j == 0 || kc.name.Local == "default") {
					bad("key %q holds %s", k.ID, kc.name.Local)
				}
			}
			keys[k.ID] = k
			doc.Keys = append(doc.Keys, k)
		case "graph":
			seenGraph = true
			doc.Graphs = append(doc.Graphs, readGraph(c, keys, nodeIDs, bad))
		case "data":
			seenGraph = true
			readData(c, "graphml", keys, bad)
		default:
			bad("graphml holds %s", c.name.Local)
		}
	}
	return doc, errs
}

func readData(e *element, domain string, keys map[string]Key, bad func(string, ...any)) (name, value string) {
	k, ok := keys[e.attrs["key"]]
	if !ok {
		bad("data names key %q, which is not declared", e.attrs["key"])
		return "", ""
	}
	if k.For != domain && k.For != "all" {
		bad("data of key %q (for %s) is on a %s", k.ID, k.For, domain)
	}
	if len(e.children) > 0 {
		bad("data of key %q holds elements", k.ID)
	}
	value = e.text.String()
	switch k.Type {
	case "int", "long":
		if _, err := strconv.ParseInt(value, 10, 64); err != nil {
			bad("data of %s key %q is %q", k.Type, k.ID, value)
		}
	case "float", "double":
		if _, err := strconv.ParseFloat(value, 64); err != nil {
			bad("data of %s key %q is %q", k.Type, k.ID, value)
		}
	case "boolean":
		if value != "true" && value != "false" {
			bad("data of boolean key %q is %q", k.ID, value)
		}
	}
	return k.Name, value
}

func readGraph(e *element, keys map[string]Key, nodeIDs map[string]bool, bad func(string, ...any)) Graph {
	g := Graph{ID: e.attrs["id"], Data: map[string]string{}, Node: map[string]Attrs{}}
	if d := e.attrs["edgedefault"]; d != "directed" && d != "undirected" {
		bad("graph %q has edgedefault %q", g.ID, d)
	}
	attrs := func(el *element, domain string) Attrs {
		a := Attrs{}
		for _, c := range el.children {
			if c.name.Local != "data" {
				if c.name.Local != "desc" {
					bad("a %s of graph %q holds %s", domain, g.ID, c.name.Local)
				}
				continue
			}
			name, value := readData(c, domain, keys, bad)
			if _, dup := a[name]; dup {
				bad("a %s of graph %q has %s twice", domain, g.ID, name)
			}
			a[name] = value
		}
		return a
	}
	var edges []*element
	for i, c := range e.children {
		switch c.name.Local {
		case "desc":
			if i != 0 {
				bad("graph %q's desc is not its first child", g.ID)
			}
		case "data":
			name, value := readData(c, "graph", keys, bad)
			g.Data[name] = value
		case "node":
			id := c.attrs["id"]
			if id == "" {
				bad("a node of graph %q has no id", g.ID)
			}
			if nodeIDs[id] {
				bad("node id %q is used twice in the document", id)
			}
			nodeIDs[id] = true
			g.Nodes = append(g.Nodes, id)
			g.Node[id] = attrs(c, "node")
		case "edge":
			edges = append(edges, c)
		default:
			bad("graph %q holds %s", g.ID, c.name.Local)
		}
	}
	for _, c := range edges {
		ed := Edge{Source: c.attrs["source"], Target: c.attrs["target"], Data: attrs(c, "edge")}
		for _, end := range []string{ed.Source, ed.Target} {
			if _, ok := g.Node[end]; !ok {
				bad("an edge of graph %q ends at %q, which is not one of its nodes", g.ID, end)
			}
		}
		g.Edges = append(g.Edges, ed)
	}
	return g
}

// WideNetworkSizes reads an SCT wide CSV and returns, per response id, the
// number of people in the response's network as the wide file gives them:
// the young person, everyone named (n_nominees), and every key person who
// is not one of them (a key_people_<i>_reason whose key_people_<i>_nominee
// is -1, or no named person's number).
func WideNetworkSizes(wide []byte) (map[string]int, error) {
	all, err := csv.NewReader(bytes.NewReader(wide)).ReadAll()
	if err != nil {
		return nil, err
	}
	if len(all) == 0 {
		return nil, errors.New("no header")
	}
	col := map[string]int{}
	for i, name := range all[0] {
		col[name] = i
	}
	for _, need := range []string{"response_id", "n_nominees", "key_people_1_reason", "key_people_1_nominee"} {
		if _, ok := col[need]; !ok {
			return nil, fmt.Errorf("no column %s", need)
		}
	}
	out := map[string]int{}
	for _, row := range all[1:] {
		named, err := strconv.Atoi(row[col["n_nominees"]])
		if err != nil {
			return nil, fmt.Errorf("n_nominees %q: %w", row[col["n_nominees"]], err)
		}
		n := 1 + named
		pointed := map[int]bool{}
		for i := 1; ; i++ {
			reason, ok := col["key_people_"+strconv.Itoa(i)+"_reason"]
			if !ok {
				break
			}
			if row[reason] == "-1" {
				continue
			}
			// A key person is one of the named people when their nominee
			// number is one of them, and no earlier key person's.
			nominee, err := strconv.Atoi(row[col["key_people_"+strconv.Itoa(i)+"_nominee"]])
			if err != nil || nominee < 1 || nominee > named || pointed[nominee] {
				n++
				continue
			}
			pointed[nominee] = true
		}
		if _, dup := out[row[col["response_id"]]]; dup {
			return nil, fmt.Errorf("response %s has two rows", row[col["response_id"]])
		}
		out[row[col["response_id"]]] = n
	}
	return out, nil
}
