package practice

import (
	"math/rand/v2"
	"reflect"
	"testing"
)

// A packed input unpacks to the input it was packed from, with skipped
// items (nil) told from answered ones with nothing ticked (empty), and
// every count, code and date as it was.
func TestPacked_UnpacksToWhatWasPacked(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	pick := func(from ...string) string { return from[r.IntN(len(from))] }
	count := func() *int {
		if r.IntN(4) == 0 {
			return nil
		}
		n := []int{0, 1, 63, 64, 500, maxCount, -1, -300}[r.IntN(8)]
		return &n
	}
	list := func(from ...string) []string {
		switch r.IntN(3) {
		case 0:
			return nil
		case 1:
			return []string{}
		}
		var out []string
		for _, s := range from {
			if r.IntN(2) == 0 {
				out = append(out, s)
			}
		}
		if out == nil {
			out = []string{}
		}
		return out
	}
	for range 3000 {
		in := Input{Version: pick("1", "2", "", "3"), Tools: list("sct", "genogram", "mobility_map", "x y"), ToolsAnswered: r.IntN(2) == 0,
			Identified: count(), Retained: count(), Route: pick("fgc", "neither", ""), Attendees: count(),
			Outcomes: list("direct_contact", "é"), OutcomesAnswered: r.IntN(2) == 0,
			StartedOn: pick("", "2019-04-01", "2020-02-29"), EndedOn: pick("", "2019-10-31")}
		switch r.IntN(3) {
		case 1:
			in.Objectives = []Objective{}
		case 2:
			for range 1 + r.IntN(4) {
				o := Objective{Category: pick("siblings", "mother", "")}
				if m := r.IntN(3); m > 0 {
					met := m == 2
					o.Met = &met
				}
				in.Objectives = append(in.Objectives, o)
			}
		}
		if got := Pack(in).Unpack(); !reflect.DeepEqual(got, in) {
			t.Fatalf("packed %+v\nunpacked %+v", in, got)
		}
	}
}

// Two equal inputs pack alike, so that the admin check, which compares what
// is held with what the stored responses give, finds them equal.
func TestPacked_EqualInputsPackAlike(t *testing.T) {
	n, m := 3, 3
	a := Input{Version: "2", Tools: []string{"sct"}, ToolsAnswered: true, Identified: &n, Objectives: []Objective{{Category: "mother"}}}
	b := Input{Version: "2", Tools: []string{"sct"}, ToolsAnswered: true, Identified: &m, Objectives: []Objective{{Category: "mother"}}}
	if Pack(a) != Pack(b) {
		t.Errorf("equal inputs packed as %q and %q", Pack(a).s, Pack(b).s)
	}
}
