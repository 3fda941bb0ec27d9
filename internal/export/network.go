package export

import (
	"fmt"
	"strconv"

	"github.com/lifelong-links/sct/internal/form"
	"github.com/lifelong-links/sct/internal/store"
)

// The parts of a form whose responses are personal networks: the SCT's
// important people, each with a relationship, and its key people, each
// pointing at one of the important people by a ref or naming someone new,
// with a reason and the ratings of their support.
const (
	peopleList        = "nominees"
	keyList           = "key_people"
	relationshipField = "relationship"
	reasonField       = "reason"
)

// Node roles. A key person's role is their reason, but a key person chosen
// as one of the important people is "most_important", to tell them from the
// important people who are not key people.
const (
	RoleEgo           = "ego"
	RoleImportant     = "important"
	RoleMostImportant = "most_important"
)

// Network is the personal networks of a form's responses, one per response:
// the young person (the ego, node 0), everyone they named (nodes 1 to n, in
// the order named) and every key person who is not one of them (numbered
// after), with an edge from the ego to each. A key person who is one of the
// named people is that same node. Nodes are numbered, never named.
//
// It is written three ways: the Nodes layout (<form>_nodes.csv: one row per
// node), the Edges layout (<form>_edges.csv: one row per edge, the key
// person's ratings on it) and GraphML (<form>_network.graphml: one graph per
// response). A node's id, in all three, is <response id>:<node number>.
type Network struct {
	// Name is the GraphML file stem: "sct_network".
	Name  string
	Form  string
	title string
	Nodes *Layout
	Edges *Layout

	// roles and relationships number the codes of the role and
	// relationship columns of Nodes.
	roles, relationships map[string]string
	// edgeFrom is the first column of Edges filled from a key person.
	edgeFrom int
	plans    map[string]*networkPlan
}

// networkPlan says where one form version's people are.
type networkPlan struct {
	// ref is the key person's field pointing at a named person.
	ref string
	// edge fills Edges columns from a key person.
	edge []getter
}

// NewNetwork returns the network layouts of a form whose versions (oldest
// first) all have the SCT's shape: a list nominees with a relationship code,
// and a list key_people with a reason code, a ref to nominees and a
// relationship code for someone new. Every other non-sensitive answer about
// a key person (the support ratings, let_down) is an attribute of their
// edge.
func NewNetwork(defs []*form.Definition) (*Network, error) {
	nodes, nb, err := start(defs, nodesLayout)
	if err != nil {
		return nil, err
	}
	edges, eb, err := start(defs, edgesLayout)
	if err != nil {
		return nil, err
	}
	n := &Network{Name: stem(nodes.Form) + "_network", Form: nodes.Form, title: title(defs), Nodes: nodes, Edges: edges,
		plans: make(map[string]*networkPlan)}
	nodes.net, edges.net = n, n
	nodes.Name, edges.Name = stem(n.Form)+"_nodes", stem(n.Form)+"_edges"
	nodes.Title = fmt.Sprintf("%s network: one row per person in a response's network, the young person first (versions %s)", title(defs), versionList(defs))
	edges.Title = fmt.Sprintf("%s network: one row per tie from the young person to someone in their network (versions %s)", title(defs), versionList(defs))

	id := func(name, label string) Column {
		return Column{Name: name, key: "@" + name, source: "network", Kind: String, Width: 80, Label: label}
	}
	num := func(name, label string, labels []ValueLabel) Column {
		return Column{Name: name, key: "@" + name, source: "network", Kind: Numeric, Width: 8, Label: label,
			ValueLabels: labels, Missing: MissingNumeric}
	}
	if _, err := nb.add(id("id", "Person's id: <response_id>:<node> (joins source and target of the edges)")); err != nil {
		return nil, err
	}
	for _, c := range []Column{
		id("source", "The young person's id: <response_id>:0"),
		id("target", "The other person's id: <response_id>:<node>"),
	} {
		if _, err := eb.add(c); err != nil {
			return nil, err
		}
	}
	meta := metaColumns(defs, false)
	nodes.meta, edges.meta = meta, meta
	nodes.metaFrom, edges.metaFrom = 1, 2
	for _, m := range meta {
		if _, err := nb.add(m.column); err != nil {
			return nil, err
		}
		if _, err := eb.add(m.column); err != nil {
			return nil, err
		}
	}

	// Roles: the ego, a named person who is not a key person, then each
	// reason a key person is chosen for, in code order. Relationship codes
	// are those of both lists, over every version.
	n.roles = map[string]string{RoleEgo: "1", RoleImportant: "2"}
	roleLabels := []ValueLabel{{"1", "The young person (ego)"}, {"2", "Named as important, not a key person"}}
	rb := newBuilder()
	for _, d := range defs {
		people, key := topField(d, peopleList), topField(d, keyList)
		if err := checkNetwork(d, people, key); err != nil {
			return nil, err
		}
		for _, code := range d.CodeLists[itemField(key, reasonField).Codes] {
			role := roleOf(code.Code)
			if _, ok := n.roles[role]; !ok {
				n.roles[role] = strconv.Itoa(len(n.roles) + 1)
				roleLabels = append(roleLabels, ValueLabel{n.roles[role], code.Label})
			}
		}
		x := flattener{b: rb, def: d}
		for _, f := range []*form.Field{itemField(people, relationshipField), itemField(key, relationshipField)} {
			c, _ := x.codeColumn(f.Codes)
			c.Name, c.key, c.source, c.Label, c.Missing = relationshipField, "@relationship", form.TypeCode,
				"Relationship to the young person", MissingNumeric
			if _, err := rb.add(c); err != nil {
				return nil, err
			}
		}
	}
	for _, c := range []Column{
		num("node", "Number of the person in the network (0 = the young person, then the important people in the order named, then other key people)", nil),
		num("role", "Role in the network", roleLabels),
		rb.cols[0],
		num("nominee", "Number of the person among the important people (1 = first; -1 = not one of them)", nil),
		num("key_person", "Number of the person among the key people (1 = first; -1 = not a key person)", nil),
	} {
		i, err := nb.add(c)
		if err != nil {
			return nil, err
		}
		if c.Name == relationshipField {
			n.relationships = nb.cols[i].codes
		}
	}

	if _, err := eb.add(num("key_person", "Number of the other person among the key people (1 = first; -1 = not a key person)", nil)); err != nil {
		return nil, err
	}
	n.edgeFrom = len(eb.cols)
	for _, d := range defs {
		key := topField(d, keyList)
		p := &networkPlan{}
		x := flattener{b: eb, def: d, getters: &p.edge}
		for i := range key.Item.Fields {
			f := &key.Item.Fields[i]
			switch {
			case f.Type == form.TypeRef && f.Ref == peopleList:
				p.ref = f.Name
				continue
			case f.Name == reasonField || f.Name == relationshipField:
				continue // the node's
			}
			if err := x.field(f, f.Name, fieldLabel(f), []step{{key: f.Name, index: -1}}, "edge."+f.Name); err != nil {
				return nil, fmt.Errorf("form %s version %s, list %s: %w", d.Form, d.Version, keyList, err)
			}
		}
		n.plans[d.Version] = p
	}
	nodes.Columns, edges.Columns = nb.cols, eb.cols
	nodes.finish()
	edges.finish()
	return n, nil
}

func checkNetwork(d *form.Definition, people, key *form.Field) error {
	bad := func(what string) error {
		return fmt.Errorf("form %s version %s is not a network: %s", d.Form, d.Version, what)
	}
	switch {
	case people == nil || people.Type != form.TypeList || people.Item == nil || people.Item.Type != form.TypeObject:
		return bad("no list " + peopleList + " of objects")
	case key == nil || key.Type != form.TypeList || key.Item == nil || key.Item.Type != form.TypeObject:
		return bad("no list " + keyList + " of objects")
	}
	for _, f := range []struct {
		list *form.Field
		name string
	}{{people, relationshipField}, {key, relationshipField}, {key, reasonField}} {
		c := itemField(f.list, f.name)
		if c == nil || c.Type != form.TypeCode || c.Sensitive {
			return bad(f.list.Name + " has no code field " + f.name)
		}
		if _, ok := d.CodeLists[c.Codes]; !ok {
			return bad(f.list.Name + "." + f.name + " has no code list " + c.Codes)
		}
	}
	for _, f := range key.Item.Fields {
		if f.Type == form.TypeRef && f.Ref == peopleList {
			return nil
		}
	}
	return bad(keyList + " has no ref to " + peopleList)
}

func itemField(list *form.Field, name string) *form.Field {
	for i := range list.Item.Fields {
		if list.Item.Fields[i].Name == name {
			return &list.Item.Fields[i]
		}
	}
	return nil
}

func roleOf(reason string) string {
	if reason == RoleImportant {
		return RoleMostImportant
	}
	return reason
}

// person is one node of a response's network other than the ego.
type person struct {
	node         int
	role         string
	relationship string // a code, or empty
	nominee, key int    // 1-based; 0 when not one
	item         any    // the key person's answers; nil when not one
}

// people returns the nodes of a response's network after the ego: the named
// people in order, each key person who points at one of them becoming that
// node, then the key people who are someone new (or point at no one there).
func (n *Network) people(r *store.Response, p *networkPlan) []person {
	named, keys := r.Answers[peopleList], r.Answers[keyList]
	nNamed := length(named)
	out := make([]person, 0, nNamed+length(keys))
	for i := range nNamed {
		it, _ := item(named, i)
		out = append(out, person{node: i + 1, role: RoleImportant, relationship: codeAt(it, relationshipField), nominee: i + 1})
	}
	for i := range length(keys) {
		it, _ := item(keys, i)
		reason := codeAt(it, reasonField)
		role := roleOf(reason)
		if reason == "" {
			role = "" // a key person without a reason has no known role
		}
		if m, ok := it.(map[string]any); ok && p.ref != "" {
			if j, ok := form.Whole(m[p.ref]); ok && j >= 0 && j < int64(nNamed) && out[j].key == 0 {
				out[j].role, out[j].key, out[j].item = role, i+1, it
				continue
			}
		}
		out = append(out, person{node: len(out) + 1, role: role, relationship: codeAt(it, relationshipField), key: i + 1, item: it})
	}
	return out
}

func codeAt(it any, field string) string {
	m, _ := it.(map[string]any)
	s, _ := m[field].(string)
	return s
}

// nodeID is a node's id in every network file.
func nodeID(responseID string, node int) string {
	return responseID + ":" + strconv.Itoa(node)
}

func numberOrMissing(n int) string {
	if n <= 0 {
		return MissingNumeric
	}
	return strconv.Itoa(n)
}

// networkRows writes a response's rows of the Nodes or Edges layout.
func (w *Writer) networkRows(r *store.Response) error {
	l, n := w.l, w.l.net
	p := n.plans[r.Version]
	people := n.people(r, p)
	if l == n.Nodes {
		w.start(r)
		w.row[0] = nodeID(r.ID, 0)
		w.nodeRow(0, RoleEgo, "", 0, 0)
		if err := w.write(); err != nil {
			return err
		}
		for _, pp := range people {
			w.start(r)
			w.row[0] = nodeID(r.ID, pp.node)
			w.nodeRow(pp.node, pp.role, pp.relationship, pp.nominee, pp.key)
			if err := w.write(); err != nil {
				return err
			}
		}
		return nil
	}
	for _, pp := range people {
		w.start(r)
		w.row[0], w.row[1] = nodeID(r.ID, 0), nodeID(r.ID, pp.node)
		n.edgeRow(w.row, p, pp)
		if err := w.write(); err != nil {
			return err
		}
	}
	return nil
}

// nodeRow fills the columns after the meta columns of a Nodes row: node,
// role, relationship, nominee, key_person.
func (w *Writer) nodeRow(node int, role, relationship string, nominee, key int) {
	n, at := w.l.net, w.l.metaFrom+len(w.l.meta)
	w.row[at] = strconv.Itoa(node)
	w.row[at+1] = number(n.roles, role)
	w.row[at+2] = number(n.relationships, relationship)
	w.row[at+3] = numberOrMissing(nominee)
	w.row[at+4] = numberOrMissing(key)
}

// edgeRow fills the columns after the meta columns of an Edges row:
// key_person, then the key person's answers.
func (n *Network) edgeRow(row []string, p *networkPlan, pp person) {
	row[n.edgeFrom-1] = numberOrMissing(pp.key)
	if pp.item != nil {
		fill(row, p.edge, pp.item)
	}
}
