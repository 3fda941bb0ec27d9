package exporttest

import (
	"strings"
	"testing"
)

func doc(body string) []byte {
	return []byte(`<?xml version="1.0"?><graphml xmlns="` + GraphMLNamespace + `">` +
		`<key id="r" for="node" attr.name="role" attr.type="string"/><key id="w" for="edge" attr.name="weight" attr.type="int"/>` +
		body + `</graphml>`)
}

// The checker finds each way a document can break GraphML's structure.
func TestReadGraphML_FindsEachBreak(t *testing.T) {
	good := `<graph id="g" edgedefault="directed"><node id="a"><data key="r">ego</data></node><node id="b"/>` +
		`<edge source="a" target="b"><data key="w">3</data></edge></graph>`
	tests := []struct {
		name, data, want string
	}{
		{"a good document", string(doc(good)), ""},
		{"not XML", "<graphml>", "well-formed"},
		{"another root", `<graph xmlns="` + GraphMLNamespace + `"/>`, "root element"},
		{"no namespace", `<graphml><graph id="g" edgedefault="directed"/></graphml>`, "namespace"},
		{"an undeclared key", string(doc(`<graph id="g" edgedefault="directed"><node id="a"><data key="x">1</data></node></graph>`)), "not declared"},
		{"a key of another domain", string(doc(`<graph id="g" edgedefault="directed"><node id="a"><data key="w">1</data></node></graph>`)), "is on a node"},
		{"a value not of its type", string(doc(`<graph id="g" edgedefault="directed"><node id="a"/><node id="b"/><edge source="a" target="b"><data key="w">x</data></edge></graph>`)), "int key"},
		{"a node id twice", string(doc(`<graph id="g" edgedefault="directed"><node id="a"/></graph><graph id="h" edgedefault="directed"><node id="a"/></graph>`)), "used twice"},
		{"an edge to nowhere", string(doc(`<graph id="g" edgedefault="directed"><node id="a"/><edge source="a" target="z"/></graph>`)), "not one of its nodes"},
		{"an edge to another graph's node", string(doc(`<graph id="g" edgedefault="directed"><node id="a"/></graph><graph id="h" edgedefault="directed"><node id="b"/><edge source="b" target="a"/></graph>`)), "not one of its nodes"},
		{"a key after a graph", strings.Replace(string(doc(good)), `</graphml>`, `<key id="k" for="node" attr.name="k" attr.type="int"/></graphml>`, 1), "after a graph"},
		{"a key without a type", strings.Replace(string(doc(good)), `attr.type="string"`, ``, 1), "attr.type"},
		{"no edgedefault", strings.Replace(string(doc(good)), ` edgedefault="directed"`, ``, 1), "edgedefault"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, errs := ReadGraphML([]byte(tt.data))
			if tt.want == "" {
				if len(errs) > 0 || len(d.Graphs) != 1 || len(d.Graphs[0].Nodes) != 2 || d.Graphs[0].Edges[0].Data["weight"] != "3" {
					t.Errorf("errors %v, document %+v", errs, d)
				}
				return
			}
			found := false
			for _, err := range errs {
				found = found || strings.Contains(err.Error(), tt.want)
			}
			if !found {
				t.Errorf("errors %v, want one mentioning %q", errs, tt.want)
			}
		})
	}
}

func TestWideNetworkSizes_CountsEachPersonOnce(t *testing.T) {
	wide := "response_id,n_nominees,key_people_1_reason,key_people_1_nominee,key_people_2_reason,key_people_2_nominee\n" +
		"r1,3,1,2,2,-1\n" + // a named key person, someone new: 1 + 3 + 1
		"r2,0,-1,-1,-1,-1\n" + // no one: 1
		"r3,2,1,1,1,1\n" + // the same person twice: the second is counted apart
		"r4,1,1,5,-1,-1\n" // pointing past the list: someone new
	got, err := WideNetworkSizes([]byte(wide))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"r1": 5, "r2": 1, "r3": 4, "r4": 3}
	for id, n := range want {
		if got[id] != n {
			t.Errorf("%s: %d people, want %d", id, got[id], n)
		}
	}
	if _, err := WideNetworkSizes([]byte("response_id\nr1\n")); err == nil {
		t.Error("a file without the counts: no error")
	}
}
