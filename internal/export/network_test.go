package export

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/lifelong-links/sct/internal/export/exporttest"
	"github.com/lifelong-links/sct/internal/store"
)

func sctNetwork(t *testing.T) *Network {
	t.Helper()
	return must[*Network](t)(NewNetwork(registry(t).Versions("sct")))
}

// networkResponses are SCTs of every shape a network takes: names and key
// people of both kinds, a supporter who is one of the named people, someone
// new only, no one at all, and a key person pointing past the list.
func networkResponses() []store.Response {
	r := func(n int, answers map[string]any) store.Response {
		s := sctResponse(answers)
		s.ID = "3f1c2d9e-0000-4000-8000-00000000000" + strconv.Itoa(n)
		return s
	}
	return []store.Response{
		r(1, fullSCT()),
		r(2, map[string]any{
			"nominees": []any{
				map[string]any{"name": "Gertrude", "relationship": "biological_mother"},
				map[string]any{"name": "Barnaby", "relationship": "sibling"},
			},
			"key_people": []any{
				map[string]any{"nominee": int64(1), "reason": "support", "let_down": int64(4)},
				map[string]any{"nominee": int64(0), "reason": "important", "support": map[string]any{"advice": int64(3)}},
			},
		}),
		r(3, map[string]any{"key_people": []any{
			map[string]any{"name": "Ptolemy", "relationship": "school_staff", "reason": "support"},
		}}),
		r(4, nil),
		r(5, map[string]any{
			"nominees":   []any{map[string]any{"name": "Cuthbert", "relationship": "friend"}},
			"key_people": []any{map[string]any{"nominee": int64(7), "reason": "important"}},
		}),
	}
}

func networkFiles(t *testing.T, n *Network, rs []store.Response) (nodes, edges, graphml []byte) {
	t.Helper()
	var g bytes.Buffer
	gw := must[*GraphWriter](t)(NewGraphWriter(&g, n))
	for _, r := range rs {
		if err := gw.Response(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := gw.Close(); err != nil {
		t.Fatal(err)
	}
	return write(t, n.Nodes, rs...), write(t, n.Edges, rs...), g.Bytes()
}

func TestNetwork_GraphMLFollowsTheSchemaAndMatchesTheWideFile(t *testing.T) {
	n := sctNetwork(t)
	rs := networkResponses()
	nodesCSV, edgesCSV, graphml := networkFiles(t, n, rs)

	doc, errs := exporttest.ReadGraphML(graphml)
	for _, err := range errs {
		t.Error(err)
	}
	if doc == nil {
		t.FailNow()
	}
	wide, err := exporttest.WideNetworkSizes(write(t, layouts(t)["sct_wide"], rs...))
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.Graphs) != len(wide) || len(wide) != len(rs) {
		t.Fatalf("%d graphs, %d rows in the wide file, %d responses", len(doc.Graphs), len(wide), len(rs))
	}
	// By hand: ego + 3 named + 1 new supporter; ego + 2 named (both key
	// people); ego + 1 new; ego alone; ego + 1 named + the key person whose
	// ref points past the list, as someone of their own.
	want := map[string]int{rs[0].ID: 5, rs[1].ID: 3, rs[2].ID: 2, rs[3].ID: 1, rs[4].ID: 3}
	nodeRows, edgeRows := records(t, n.Nodes, nodesCSV), records(t, n.Edges, edgesCSV)
	for _, g := range doc.Graphs {
		id := g.Data["response_id"]
		if g.ID != id || len(g.Nodes) != wide[id] || wide[id] != want[id] {
			t.Errorf("graph %q (response %s): %d nodes, the wide file says %d, by hand %d", g.ID, id, len(g.Nodes), wide[id], want[id])
		}
		if len(g.Edges) != len(g.Nodes)-1 {
			t.Errorf("graph %s: %d edges for %d nodes", id, len(g.Edges), len(g.Nodes))
		}
		for _, e := range g.Edges {
			if e.Source != id+":0" {
				t.Errorf("graph %s: an edge starts at %s, not the young person", id, e.Source)
			}
		}
		for i, node := range g.Nodes {
			if node != id+":"+strconv.Itoa(i) {
				t.Errorf("graph %s: node %d is %q", id, i, node)
			}
		}
		var rows, edges int
		for _, row := range nodeRows {
			if row["response_id"] == id {
				rows++
				role := n.Nodes.Columns[slicesIndex(n.Nodes, "role")].ValueLabels
				if g.Node[row["id"]] == nil {
					t.Errorf("nodes file has %s, the graph does not", row["id"])
				} else if got := labelOf(role, row["role"]); got == "" {
					t.Errorf("node %s has role %q", row["id"], row["role"])
				}
			}
		}
		for _, row := range edgeRows {
			if row["response_id"] == id {
				edges++
			}
		}
		if rows != len(g.Nodes) || edges != len(g.Edges) {
			t.Errorf("graph %s: the CSVs have %d nodes and %d edges, the GraphML %d and %d", id, rows, edges, len(g.Nodes), len(g.Edges))
		}
	}
	// Every declared attribute of the edges is a column of the edges file.
	for _, k := range doc.Keys {
		if k.For == "edge" && slicesIndex(n.Edges, k.Name) < 0 {
			t.Errorf("edge attribute %s is not a column of %s", k.Name, n.Edges.Name)
		}
	}
}

func slicesIndex(l *Layout, name string) int {
	for i, c := range l.Columns {
		if c.Name == name {
			return i
		}
	}
	return -1
}

func labelOf(vls []ValueLabel, value string) string {
	for _, vl := range vls {
		if vl.Value == value {
			return vl.Label
		}
	}
	return ""
}

func TestNetwork_NodesAndEdgesCarryRolesRelationshipsAndRatings(t *testing.T) {
	n := sctNetwork(t)
	rs := networkResponses()
	nodesCSV, edgesCSV, graphml := networkFiles(t, n, rs[:2])
	doc, errs := exporttest.ReadGraphML(graphml)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	g := doc.Graphs[1] // Gertrude (mother, most important), Barnaby (sibling, support)
	id := rs[1].ID
	wantNodes := map[string]exporttest.Attrs{
		id + ":0": {"role": "ego"},
		id + ":1": {"role": "most_important", "relationship": "biological_mother", "nominee": "1", "key_person": "2"},
		id + ":2": {"role": "support", "relationship": "sibling", "nominee": "2", "key_person": "1"},
	}
	for node, want := range wantNodes {
		if got := g.Node[node]; !equalAttrs(got, want) {
			t.Errorf("node %s = %v, want %v", node, got, want)
		}
	}
	wantEdges := []exporttest.Attrs{
		{"key_person": "2", "support_advice": "3"},
		{"key_person": "1", "let_down": "4"},
	}
	for i, e := range g.Edges {
		if !equalAttrs(e.Data, wantEdges[i]) {
			t.Errorf("edge to %s = %v, want %v", e.Target, e.Data, wantEdges[i])
		}
	}
	if g.Data["child_id"] != "C123" || g.Data["timepoint"] != "follow_up" || g.Data["wave"] != "2" || g.Data["group"] != "lifelong_links" {
		t.Errorf("graph data %v", g.Data)
	}

	// The same in the CSVs, coded as in every other file.
	rel := n.Nodes.Columns[slicesIndex(n.Nodes, "relationship")]
	role := n.Nodes.Columns[slicesIndex(n.Nodes, "role")]
	var got []string
	for _, row := range records(t, n.Nodes, nodesCSV) {
		if row["response_id"] == id {
			got = append(got, strings.Join([]string{row["node"], labelOf(role.ValueLabels, row["role"]),
				labelOf(rel.ValueLabels, row["relationship"]), row["nominee"], row["key_person"]}, "|"))
		}
	}
	want := []string{
		"0|The young person (ego)||-1|-1",
		"1|One of the 3 most important people|Biological mother|1|2",
		"2|Someone else they would turn to for support|Sibling|2|1",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("nodes rows:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, row := range records(t, n.Edges, edgesCSV) {
		if row["target"] == id+":2" {
			checkRow(t, n.Edges, row, map[string]string{"source": id + ":0", "target": id + ":2", "response_id": id,
				"child_id": "C123", "site": "A", "group": "1", "timepoint": "2", "wave": "2", "version": "1",
				"completed_on": "2019-03-31", "statistical_year": "2018-19", "key_person": "1", "let_down": "4"})
		}
	}
}

func equalAttrs(a, b exporttest.Attrs) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestNetwork_NeverWritesNamesOrFreeText(t *testing.T) {
	n := sctNetwork(t)
	sct, _ := registry(t).Get("sct", "1")
	rs := networkResponses()
	var secrets []string
	for _, r := range rs {
		secrets = append(secrets, sensitiveValues(sct, r.Answers)...)
	}
	if len(secrets) < 6 {
		t.Fatalf("only %d names to look for", len(secrets))
	}
	nodes, edges, graphml := networkFiles(t, n, rs)
	for name, out := range map[string][]byte{"nodes": nodes, "edges": edges, "graphml": graphml} {
		for _, s := range secrets {
			for _, word := range strings.Fields(s) {
				if len(word) > 3 && bytes.Contains(bytes.ToLower(out), []byte(strings.ToLower(word))) {
					t.Errorf("%s holds %q (from %q)", name, word, s)
				}
			}
		}
	}
}

func TestNetwork_RejectsAFormThatIsNotANetwork(t *testing.T) {
	reg := registry(t)
	if _, err := NewNetwork(reg.Versions("practice-summary")); err == nil || !strings.Contains(err.Error(), "not a network") {
		t.Errorf("practice summary as a network: %v", err)
	}
	if _, err := NewNetwork(nil); err == nil {
		t.Error("no definitions: no error")
	}
	n := sctNetwork(t)
	other := sctResponse(nil)
	other.Version = "9"
	if err := NewGraphWriterOrFail(t, n).Response(other); err == nil || !strings.Contains(err.Error(), "does not cover") {
		t.Errorf("a version the network does not cover: %v", err)
	}
	ps := sctResponse(nil)
	ps.Form = "practice-summary"
	if _, err := NewWriter(&bytes.Buffer{}, n.Nodes); err != nil {
		t.Fatal(err)
	}
	w := must[*Writer](t)(NewWriter(&bytes.Buffer{}, n.Edges))
	if err := w.Response(other); err == nil || !strings.Contains(err.Error(), "does not cover") {
		t.Error("edges of a version the network does not cover: no error")
	}
	if err := w.Response(ps); err == nil || !strings.Contains(err.Error(), "is form practice-summary") {
		t.Error("edges of another form: no error")
	}
}

func NewGraphWriterOrFail(t *testing.T, n *Network) *GraphWriter {
	t.Helper()
	return must[*GraphWriter](t)(NewGraphWriter(&bytes.Buffer{}, n))
}

// failingWriter takes n bytes, then fails, as a connection whose reader has
// gone does.
type failingWriter struct{ n int }

func (f *failingWriter) Write(p []byte) (int, error) {
	if len(p) > f.n {
		return 0, errors.New("reader gone")
	}
	f.n -= len(p)
	return len(p), nil
}

// A GraphML writer whose reader has gone says so, so the cursor feeding it
// stops, rather than writing every graph into the void.
func TestGraphWriter_StopsWhenTheReaderHasGone(t *testing.T) {
	n := sctNetwork(t)
	g := must[*GraphWriter](t)(NewGraphWriter(&failingWriter{n: 1 << 16}, n))
	var err error
	written := 0
	for ; written < 10_000 && err == nil; written++ {
		err = g.Response(sctResponse(fullSCT()))
	}
	if err == nil || !strings.Contains(err.Error(), "reader gone") {
		t.Fatalf("after %d graphs: %v", written, err)
	}
	if written > 100 {
		t.Errorf("%d graphs written before the failure showed", written)
	}
	if err := g.Close(); err == nil {
		t.Error("Close after a failed write: no error")
	}
}
