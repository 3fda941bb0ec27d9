package participation

import (
	"math"
	"strings"
	"testing"

	"github.com/lifelong-links/sct/internal/store"
)

func ip(v int) *int   { return &v }
func bp(v bool) *bool { return &v }

func TestCheck_NamesEveryFault(t *testing.T) {
	tests := []struct {
		name string
		p    store.Participation
		want []string
	}{
		{"a complete record", store.Participation{Eligible: bp(true), Participating: bp(true), StartedOn: "2019-01-10",
			ReasonNotParticipating: ip(0), CeasedOn: "2019-09-01", ReasonCeased: ip(1), PlanCompleted: ip(1), FGCCompleted: ip(0),
			ReviewFGCCompleted: ip(-1), Pauses: []store.Pause{{From: "2019-03-01", To: "2019-04-01"}}}, nil},
		{"codes outside Table 15", store.Participation{ReasonNotParticipating: ip(6), ReasonCeased: ip(0), PlanCompleted: ip(2)},
			[]string{"plan_completed: must be one of 1 yes", "reason_ceased: must be one of 1 completed", "reason_not_participating: must be one of 0 participated"}},
		{"participating with a refusal", store.Participation{Participating: bp(true), ReasonNotParticipating: ip(1)},
			[]string{"reason_not_participating: a participating child"}},
		{"ceased before it started", store.Participation{StartedOn: "2019-05-01", CeasedOn: "2019-04-01", ReasonCeased: ip(2)},
			[]string{"ceased_on: is before the date enrolled"}},
		{"a reason to cease needs a date", store.Participation{ReasonCeased: ip(2)}, []string{"ceased_on: is required"}},
		{"dates in another format", store.Participation{StartedOn: "10/01/2019", Pauses: []store.Pause{{}}},
			[]string{"pauses[0].from: is required", "started_on: must be a date"}},
		{"a pause ending before it began", store.Participation{StartedOn: "2019-01-01", Pauses: []store.Pause{{From: "2019-03-01", To: "2019-02-01"}}},
			[]string{"pauses[0].to: is before the pause began"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Check(tt.p)
			if len(got) != len(tt.want) {
				t.Fatalf("faults %v, want %d", got, len(tt.want))
			}
			for i, w := range tt.want {
				if g := got[i].Path + ": " + got[i].Reason; !strings.HasPrefix(g, w) {
					t.Errorf("fault %d = %q, want %q…", i, g, w)
				}
			}
		})
	}
}

// By hand: site A has 4 records, 3 participating: one withdrew (code 2) after
// a pause, one completed a plan without an FGC, one completed an FGC (and a
// plan: counted as FGC only). Site B: 1 participating, social worker withdrew
// (code 3). Total participating 4: withdrew 2 (50%), paused 1 (25%),
// plan without FGC 1 (25%), FGC 1 (25%). A child with no record is not counted.
func TestCount_Table7(t *testing.T) {
	children := []store.Child{
		{ID: "1", Site: "A", Participation: &store.Participation{Participating: bp(true), ReasonCeased: ip(2), CeasedOn: "x", Pauses: []store.Pause{{From: "a"}}}},
		{ID: "2", Site: "A", Participation: &store.Participation{Participating: bp(true), PlanCompleted: ip(1), FGCCompleted: ip(0)}},
		{ID: "3", Site: "A", Participation: &store.Participation{Participating: bp(true), PlanCompleted: ip(1), FGCCompleted: ip(1)}},
		{ID: "4", Site: "A", Participation: &store.Participation{Participating: bp(false), ReasonNotParticipating: ip(1)}},
		{ID: "5", Site: "B", Participation: &store.Participation{Participating: bp(true), ReasonCeased: ip(3)}},
		{ID: "6", Site: "B"},
	}
	got := Count(children)
	if len(got.Rows) != 2 {
		t.Fatalf("rows %+v", got.Rows)
	}
	a, b := got.Rows[0], got.Rows[1]
	if a != (Row{Site: "A", Children: 4, Participating: 3, Withdrew: 1, Paused: 1, PlanNoFGC: 1, FGC: 1}) {
		t.Errorf("site A %+v", a)
	}
	if b != (Row{Site: "B", Children: 1, Participating: 1, Withdrew: 1}) {
		t.Errorf("site B %+v", b)
	}
	tot := got.Total
	for name, c := range map[string]struct {
		s    Share
		want float64
	}{"withdrew": {tot.Withdrew, 50}, "paused": {tot.Paused, 25}, "plan": {tot.PlanNoFGC, 25}, "fgc": {tot.FGC, 25}} {
		if c.s.Percent == nil || math.Abs(*c.s.Percent-c.want) > 1e-9 {
			t.Errorf("total %s %+v, want %v%%", name, c.s, c.want)
		}
	}
	if empty := Count(nil); empty.Total.FGC.Percent != nil || len(empty.Rows) != 0 {
		t.Errorf("empty table %+v", empty)
	}
}
