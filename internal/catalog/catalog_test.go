package catalog

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/lifelong-links/sct/internal/summary/summarytest"
)

// What a deriver returns is handed to the tables as it is at submission,
// and read back from its stored JSON after a start: the two must be the
// same value, for every shape of answers (skipped items, empty lists,
// both practice summary formats).
func TestDerive_ValueIsWhatItsJSONReadsBackAs(t *testing.T) {
	type answers struct {
		form, version string
		text          []byte
	}
	var all []answers
	fixtures := summarytest.Fixtures(t)
	if len(fixtures) < 6 {
		t.Fatalf("found %d SCT fixtures", len(fixtures))
	}
	for _, f := range fixtures {
		all = append(all, answers{SCT, "1", f.Answers})
	}
	for _, a := range []struct{ version, text string }{
		{"1", `{}`},
		{"1", `{"started_on":"2018-10-10","ended_on":"2018-09-01","tools_used":["sct","genogram","sct"],
			"connections_identified":8,"connections_retained":6,"outcomes":["increased_knowledge"]}`},
		{"2", `{"started_on":"2019-09-01","tools_used":[],"outcomes":[],"route":"neither","objectives":[]}`},
		{"2", `{"started_on":"2019-07-01","route":"fgc","fgc_attendees":4,"outcomes":["direct_contact"],
			"objectives":[{"category":"wider_family","met":true},{"category":"school"},{"met":false}]}`},
	} {
		all = append(all, answers{PracticeSummary, a.version, []byte(a.text)})
	}
	for _, a := range all {
		f, _ := Lookup(a.form)
		v, err := f.Derive(a.version, a.text)
		if err != nil {
			t.Fatalf("%s %s: %v", a.form, a.text, err)
		}
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		back := reflect.New(reflect.TypeOf(v))
		if err := json.Unmarshal(b, back.Interface()); err != nil {
			t.Fatal(err)
		}
		if got := back.Elem().Interface(); !reflect.DeepEqual(got, v) {
			t.Errorf("%s answers %s:\n derived   %#v\n read back %#v", a.form, a.text, v, got)
		}
	}
}
