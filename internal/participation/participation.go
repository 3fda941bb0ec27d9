// Package participation checks children's Lifelong Links participation
// records (the codes of the report's Table 15) and counts them by site as
// the report's Table 7 does.
package participation

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/lifelong-links/sct/internal/form"
	"github.com/lifelong-links/sct/internal/stats"
	"github.com/lifelong-links/sct/internal/store"
)

// Check returns every fault in a record, with its field path.
func Check(p store.Participation) []form.FieldError {
	var faults []form.FieldError
	fault := func(path, reason string) { faults = append(faults, form.FieldError{Path: path, Reason: reason}) }
	code := func(path string, v *int, allowed []int, meaning string) {
		if v != nil && !slices.Contains(allowed, *v) {
			fault(path, "must be one of "+meaning)
		}
	}
	// The codes of Table 15.
	code("reason_not_participating", p.ReasonNotParticipating, []int{0, 1, 2, 3, 4, 5, -1},
		"0 participated, 1 refusal by child, 2 agency consent, 3 foster carer, 4 birth parent, 5 being considered, -1 unknown")
	code("reason_ceased", p.ReasonCeased, []int{1, 2, 3, 4, -1},
		"1 completed, 2 child withdrew, 3 social worker withdrew, 4 other, -1 unknown")
	for path, v := range map[string]*int{"plan_completed": p.PlanCompleted, "fgc_completed": p.FGCCompleted, "review_fgc_completed": p.ReviewFGCCompleted} {
		code(path, v, []int{1, 0, -1}, "1 yes, 0 no, -1 not applicable")
	}
	date := func(path, v string) {
		if _, err := time.Parse(time.DateOnly, v); v != "" && err != nil {
			fault(path, "must be a date YYYY-MM-DD")
		}
	}
	date("started_on", p.StartedOn)
	date("ceased_on", p.CeasedOn)
	for i, pause := range p.Pauses {
		date(fmt.Sprintf("pauses[%d].from", i), pause.From)
		date(fmt.Sprintf("pauses[%d].to", i), pause.To)
		if pause.From == "" {
			fault(fmt.Sprintf("pauses[%d].from", i), "is required")
		}
	}
	if p.Participating != nil && *p.Participating && p.ReasonNotParticipating != nil && *p.ReasonNotParticipating > 0 {
		fault("reason_not_participating", "a participating child has no reason for not participating (use 0)")
	}
	if p.StartedOn != "" && p.CeasedOn != "" && p.CeasedOn < p.StartedOn {
		fault("ceased_on", "is before the date enrolled")
	}
	if p.CeasedOn == "" && p.ReasonCeased != nil && *p.ReasonCeased >= 1 && *p.ReasonCeased <= 4 {
		fault("ceased_on", "is required with a reason for ceasing")
	}
	for i, pause := range p.Pauses {
		if pause.To != "" && pause.To < pause.From {
			fault(fmt.Sprintf("pauses[%d].to", i), "is before the pause began")
		}
		if p.StartedOn != "" && pause.From != "" && pause.From < p.StartedOn {
			fault(fmt.Sprintf("pauses[%d].from", i), "is before the date enrolled")
		}
	}
	slices.SortFunc(faults, func(a, b form.FieldError) int { return strings.Compare(a.Path, b.Path) })
	return faults
}

// Row is one site's line of Table 7.
type Row struct {
	Site          string `json:"site"`
	Children      int    `json:"children"` // children with a participation record
	Participating int    `json:"participating"`
	Withdrew      int    `json:"withdrew"`         // the child or their social worker withdrew
	Paused        int    `json:"paused"`           // at least one child-led pause
	PlanNoFGC     int    `json:"plan_without_fgc"` // completed a plan without an FGC
	FGC           int    `json:"fgc"`              // completed an FGC
}

// Share is a count with its percentage of the participating children.
type Share = stats.Share

// Table7 is the report's Table 7: per site, and in total with percentages of
// the participating children.
type Table7 struct {
	Rows  []Row `json:"rows"`
	Total struct {
		Participating int   `json:"participating"`
		Withdrew      Share `json:"withdrew"`
		Paused        Share `json:"paused"`
		PlanNoFGC     Share `json:"plan_without_fgc"`
		FGC           Share `json:"fgc"`
	} `json:"total"`
}

// Count builds Table 7 from children's records; children without one are
// not counted.
func Count(children []store.Child) Table7 {
	by := map[string]*Row{}
	for _, c := range children {
		r, ok := RowOf(c)
		if !ok {
			continue
		}
		if by[c.Site] == nil {
			by[c.Site] = &Row{Site: c.Site}
		}
		by[c.Site].Add(r, 1)
	}
	rows := make([]Row, 0, len(by))
	for _, r := range by {
		rows = append(rows, *r)
	}
	return Table(rows)
}

// RowOf is what one child adds to their site's row: nothing (false)
// without a participation record.
func RowOf(c store.Child) (Row, bool) {
	p := c.Participation
	if p == nil {
		return Row{}, false
	}
	r := Row{Site: c.Site, Children: 1}
	if p.Participating == nil || !*p.Participating {
		return r, true
	}
	r.Participating = 1
	if p.ReasonCeased != nil && (*p.ReasonCeased == 2 || *p.ReasonCeased == 3) {
		r.Withdrew = 1
	}
	if len(p.Pauses) > 0 {
		r.Paused = 1
	}
	if p.FGCCompleted != nil && *p.FGCCompleted == 1 {
		r.FGC = 1
	} else if p.PlanCompleted != nil && *p.PlanCompleted == 1 {
		r.PlanNoFGC = 1
	}
	return r, true
}

// Add adds sign times another row's counts to r (sign -1 takes them off).
func (r *Row) Add(o Row, sign int) {
	r.Children += sign * o.Children
	r.Participating += sign * o.Participating
	r.Withdrew += sign * o.Withdrew
	r.Paused += sign * o.Paused
	r.PlanNoFGC += sign * o.PlanNoFGC
	r.FGC += sign * o.FGC
}

// Table builds Table 7 from each site's row (rows of no children are left
// out).
func Table(rows []Row) Table7 {
	var t Table7
	t.Rows = []Row{}
	for _, r := range rows {
		if r.Children == 0 {
			continue
		}
		t.Rows = append(t.Rows, r)
		t.Total.Participating += r.Participating
		t.Total.Withdrew.Count += r.Withdrew
		t.Total.Paused.Count += r.Paused
		t.Total.PlanNoFGC.Count += r.PlanNoFGC
		t.Total.FGC.Count += r.FGC
	}
	slices.SortFunc(t.Rows, func(a, b Row) int { return strings.Compare(a.Site, b.Site) })
	for _, s := range []*Share{&t.Total.Withdrew, &t.Total.Paused, &t.Total.PlanNoFGC, &t.Total.FGC} {
		s.Percent = stats.Percent(s.Count, t.Total.Participating)
	}
	return t
}
