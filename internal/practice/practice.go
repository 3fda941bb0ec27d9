// Package practice computes the practice-summary tables evaluators read: the tools used
// by site (report Table 2), the children's objectives and how many were met (Table 5),
// the outcomes achieved (Table 6), the connections identified and retained, and the
// process (route, FGC attendance, time to completion).
//
// Each submitted summary is reduced once, at submit time, to an Input stored beside the
// response, so the tables never re-read answers. The old format (version "1", before
// April 2019) and the new format (version "2") are summarised together wherever the
// variable is shared; objectives exist in the new format only. Every table states its
// base and the format versions it covers. The package does no I/O.
package practice

import (
	"cmp"
	"math"
	"slices"
	"time"

	"github.com/lifelong-links/sct/internal/form"
	"github.com/lifelong-links/sct/internal/stats"
)

// Route codes, from the route code list of both form versions.
const (
	RouteFGC            = "fgc"
	RoutePlanWithoutFGC = "plan_without_fgc"
	RouteNeither        = "neither"
)

// Case is one summary's Input with the site it belongs to.
type Case struct {
	Site  string
	Input Input
}

// Scheme gives row order, taken from the form definitions: the tool, outcome and
// objective-category codes. Codes outside the scheme are left out of every count, so each
// total is the sum of its rows.
type Scheme struct {
	Tools               []string
	Outcomes            []string
	ObjectiveCategories []string
}

// Report holds the practice tables. Percentages are exact (count*100/base); a percentage,
// mean, SD, minimum or maximum that has no base is nil, so it encodes as JSON null.
//
// Summaries of a form version other than "1" or "2" are counted in Cases and ByVersion
// and nowhere else, since their items may not mean the same thing.
type Report struct {
	Cases       int              `json:"cases"`
	ByVersion   map[string]int   `json:"by_version"` // always has "1" and "2"
	Tools       ToolsTable       `json:"tools"`
	Objectives  ObjectivesTable  `json:"objectives"`
	Outcomes    OutcomesTable    `json:"outcomes"`
	Connections ConnectionsTable `json:"connections"`
	Process     ProcessSummary   `json:"process"`
}

// ToolsTable is report Table 2. Base is the number of summaries that answered tools_used;
// a case's number of tools counts each scheme tool once.
type ToolsTable struct {
	Versions []string            `json:"versions"`
	Base     int                 `json:"base"`
	BySite   []SiteTools         `json:"by_site"` // every site with a summary, sorted by site
	Total    ToolTotals          `json:"total"`
	Percent  map[string]*float64 `json:"percent"` // per tool: share of Base that used it
}

// SiteTools is one site's row of Table 2. Cases is the number of its summaries that
// answered tools_used, the base of MeanTools.
type SiteTools struct {
	Site      string         `json:"site"`
	Cases     int            `json:"cases"`
	Counts    map[string]int `json:"counts"`
	MeanTools *float64       `json:"mean_tools"`
}

// ToolTotals is the total row of Table 2, over the table's Base.
type ToolTotals struct {
	Counts    map[string]int `json:"counts"`
	MeanTools *float64       `json:"mean_tools"`
}

// ObjectivesTable is report Table 5 (new format only). Base is the number of version "2"
// summaries with at least one objective in a scheme category.
type ObjectivesTable struct {
	Versions     []string       `json:"versions"`
	Base         int            `json:"base"`
	ByCategory   []ObjectiveRow `json:"by_category"`
	TotalSet     int            `json:"total_set"`
	TotalMet     int            `json:"total_met"`
	MeanShareMet *float64       `json:"mean_share_met"` // percent, see Note
	AllMet       Share          `json:"all_met"`        // children with every objective met, over Base
	Note         string         `json:"note"`
}

// ObjectiveRow counts the objectives set, and met, in one category.
type ObjectiveRow struct {
	Category string `json:"category"`
	Set      int    `json:"set"`
	Met      int    `json:"met"`
}

// objectivesNote is the Note of every ObjectivesTable.
const objectivesNote = "mean_share_met is the mean, over the children in the base, of each child's objectives met " +
	"as a percentage of their objectives set; an objective whose met answer was skipped counts as not met, " +
	"in met, mean_share_met and all_met alike"

// OutcomesTable is report Table 6. Base is the number of summaries that answered outcomes.
type OutcomesTable struct {
	Versions []string     `json:"versions"`
	Base     int          `json:"base"`
	Rows     []OutcomeRow `json:"rows"`
}

// OutcomeRow counts the summaries reporting one outcome.
type OutcomeRow struct {
	Outcome string   `json:"outcome"`
	Count   int      `json:"count"`
	Percent *float64 `json:"percent"`
}

// ConnectionsTable describes the people identified at discovery and how many were still
// connections when the plan was made or the FGC held. Base is the number of summaries
// with connections_identified.
type ConnectionsTable struct {
	Versions   []string        `json:"versions"`
	Base       int             `json:"base"`
	Identified IdentifiedStats `json:"identified"`
	Retained   RetainedStats   `json:"retained"`
}

// IdentifiedStats summarises connections_identified over the ConnectionsTable base.
type IdentifiedStats struct {
	Total int      `json:"total"`
	Mean  *float64 `json:"mean"`
	Min   *int     `json:"min"`
	Max   *int     `json:"max"`
}

// RetainedStats is over its own Base: summaries with both connections_identified and
// connections_retained. Percent is Total over IdentifiedTotal, nil when that is 0.
type RetainedStats struct {
	Base            int      `json:"base"`
	Total           int      `json:"total"`
	IdentifiedTotal int      `json:"identified_total"`
	Percent         *float64 `json:"percent"`
}

// ProcessSummary describes how the work concluded and how long it took.
type ProcessSummary struct {
	Versions           []string        `json:"versions"`
	Route              RouteTable      `json:"route"`
	FGCAttendance      AttendanceStats `json:"fgc_attendance"`
	MonthsToCompletion MonthsStats     `json:"months_to_completion"`
}

// RouteTable counts the routes. Base is the number of summaries whose route is one of
// the three route codes.
type RouteTable struct {
	Base           int   `json:"base"`
	FGC            Share `json:"fgc"`
	PlanWithoutFGC Share `json:"plan_without_fgc"`
	Neither        Share `json:"neither"`
}

// AttendanceStats summarises fgc_attendees over the summaries whose route is fgc and
// that give the number attending.
type AttendanceStats struct {
	Base int      `json:"base"`
	Mean *float64 `json:"mean"`
	SD   *float64 `json:"sd"` // sample SD (n−1), nil below 2 cases
	Min  *int     `json:"min"`
	Max  *int     `json:"max"`
}

// MonthsStats summarises time to completion over the summaries with both dates and
// ended_on not before started_on. Months are whole days divided by 365.25/12.
type MonthsStats struct {
	Base int      `json:"base"`
	Mean *float64 `json:"mean"`
	Min  *float64 `json:"min"`
	Max  *float64 `json:"max"`
}

// Share is a count and its exact percentage of the enclosing base.
type Share = stats.Share

// daysPerMonth is the mean length of a month in days.
const daysPerMonth = 365.25 / 12

// Tables computes every practice table from the cases. Rows follow the scheme order, and
// every scheme code gets a row or a key even when its count is zero.
func Tables(scheme Scheme, cases []Case) Report {
	toolSet := inScheme(scheme.Tools)
	outcomeSet := inScheme(scheme.Outcomes)
	categorySet := inScheme(scheme.ObjectiveCategories)

	r := Report{Cases: len(cases), ByVersion: map[string]int{"1": 0, "2": 0}}

	toolTotal := zeroCounts(scheme.Tools)
	toolSum := 0
	sites := map[string]*SiteTools{}
	siteSums := map[string]int{}

	outcomeCounts := map[string]int{}
	objSet, objMet := map[string]int{}, map[string]int{}
	var shareSum float64
	allMet := 0

	var identified []int
	var retained RetainedStats
	routes := map[string]int{}
	var attendees []int
	var months []float64

	for _, c := range cases {
		in := c.Input
		r.ByVersion[in.Version]++
		if in.Version != "1" && in.Version != "2" {
			continue
		}

		s := sites[c.Site]
		if s == nil {
			s = &SiteTools{Site: c.Site, Counts: zeroCounts(scheme.Tools)}
			sites[c.Site] = s
		}
		if in.ToolsAnswered {
			r.Tools.Base++
			s.Cases++
			for _, t := range once(in.Tools, toolSet) {
				s.Counts[t]++
				toolTotal[t]++
				siteSums[c.Site]++
				toolSum++
			}
		}

		if in.OutcomesAnswered {
			r.Outcomes.Base++
			for _, o := range once(in.Outcomes, outcomeSet) {
				outcomeCounts[o]++
			}
		}

		if in.Version == "2" {
			set, met := 0, 0
			for _, o := range in.Objectives {
				if !categorySet[o.Category] {
					continue
				}
				set++
				objSet[o.Category]++
				if o.Met != nil && *o.Met {
					met++
					objMet[o.Category]++
				}
			}
			if set > 0 {
				r.Objectives.Base++
				r.Objectives.TotalSet += set
				r.Objectives.TotalMet += met
				shareSum += float64(met) * 100 / float64(set)
				if met == set {
					allMet++
				}
			}
		}

		id, ok := nonNegative(in.Identified)
		if ok {
			identified = append(identified, id)
			if ret, ok := nonNegative(in.Retained); ok {
				retained.Base++
				retained.Total += ret
				retained.IdentifiedTotal += id
			}
		}

		switch in.Route {
		case RouteFGC, RoutePlanWithoutFGC, RouteNeither:
			routes[in.Route]++
			r.Process.Route.Base++
		}
		if n, ok := nonNegative(in.Attendees); ok && in.Route == RouteFGC {
			attendees = append(attendees, n)
		}

		if m, ok := monthsBetween(in.StartedOn, in.EndedOn); ok {
			months = append(months, m)
		}
	}

	// Table 2.
	r.Tools.Versions = []string{"1", "2"}
	r.Tools.BySite = make([]SiteTools, 0, len(sites))
	for site, s := range sites {
		s.MeanTools = mean(siteSums[site], s.Cases)
		r.Tools.BySite = append(r.Tools.BySite, *s)
	}
	slices.SortFunc(r.Tools.BySite, func(a, b SiteTools) int { return cmp.Compare(a.Site, b.Site) })
	r.Tools.Total = ToolTotals{Counts: toolTotal, MeanTools: mean(toolSum, r.Tools.Base)}
	r.Tools.Percent = make(map[string]*float64, len(scheme.Tools))
	for _, t := range scheme.Tools {
		r.Tools.Percent[t] = percent(toolTotal[t], r.Tools.Base)
	}

	// Table 5.
	r.Objectives.Versions = []string{"2"}
	r.Objectives.ByCategory = make([]ObjectiveRow, 0, len(scheme.ObjectiveCategories))
	for _, c := range scheme.ObjectiveCategories {
		r.Objectives.ByCategory = append(r.Objectives.ByCategory, ObjectiveRow{Category: c, Set: objSet[c], Met: objMet[c]})
	}
	if r.Objectives.Base > 0 {
		m := shareSum / float64(r.Objectives.Base)
		r.Objectives.MeanShareMet = &m
	}
	r.Objectives.AllMet = share(allMet, r.Objectives.Base)
	r.Objectives.Note = objectivesNote

	// Table 6.
	r.Outcomes.Versions = []string{"1", "2"}
	r.Outcomes.Rows = make([]OutcomeRow, 0, len(scheme.Outcomes))
	for _, o := range scheme.Outcomes {
		r.Outcomes.Rows = append(r.Outcomes.Rows, OutcomeRow{Outcome: o, Count: outcomeCounts[o], Percent: percent(outcomeCounts[o], r.Outcomes.Base)})
	}

	// Connections.
	r.Connections.Versions = []string{"1", "2"}
	r.Connections.Base = len(identified)
	total := 0
	for _, n := range identified {
		total += n
	}
	r.Connections.Identified = IdentifiedStats{
		Total: total,
		Mean:  mean(total, len(identified)),
		Min:   extreme(identified, slices.Min[[]int]),
		Max:   extreme(identified, slices.Max[[]int]),
	}
	retained.Percent = percent(retained.Total, retained.IdentifiedTotal)
	r.Connections.Retained = retained

	// Process.
	r.Process.Versions = []string{"1", "2"}
	r.Process.Route.FGC = share(routes[RouteFGC], r.Process.Route.Base)
	r.Process.Route.PlanWithoutFGC = share(routes[RoutePlanWithoutFGC], r.Process.Route.Base)
	r.Process.Route.Neither = share(routes[RouteNeither], r.Process.Route.Base)
	r.Process.FGCAttendance = attendanceStats(attendees)
	r.Process.MonthsToCompletion = monthsStats(months)
	return r
}

// inScheme returns the codes as a set.
func inScheme(codes []string) map[string]bool {
	set := make(map[string]bool, len(codes))
	for _, c := range codes {
		set[c] = true
	}
	return set
}

// zeroCounts gives every code a key, so a table's shape does not depend on its data.
func zeroCounts(codes []string) map[string]int {
	m := make(map[string]int, len(codes))
	for _, c := range codes {
		m[c] = 0
	}
	return m
}

// once returns the codes that are in the scheme, each once, so an Input built by hand
// with a repeated code cannot push a percentage past 100.
func once(codes []string, scheme map[string]bool) []string {
	out := make([]string, 0, len(codes))
	for _, c := range codes {
		if scheme[c] && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

// nonNegative treats a missing or negative count as skipped; InputFromAnswers never
// produces a negative one, but an Input may be built or stored elsewhere.
func nonNegative(p *int) (int, bool) {
	if p == nil || *p < 0 {
		return 0, false
	}
	return *p, true
}

// monthsBetween is the time from start to end in months of 365.25/12 days, counting whole
// calendar days. It is false when either date is missing or not an ISO date, or when the
// end comes before the start.
func monthsBetween(start, end string) (float64, bool) {
	s, err := time.Parse(time.DateOnly, start)
	if err != nil {
		return 0, false
	}
	e, err := time.Parse(time.DateOnly, end)
	if err != nil || e.Before(s) {
		return 0, false
	}
	days := (e.Unix() - s.Unix()) / 86400 // both are UTC midnights, so this is exact
	return float64(days) / daysPerMonth, true
}

func attendanceStats(xs []int) AttendanceStats {
	a := AttendanceStats{
		Base: len(xs),
		Min:  extreme(xs, slices.Min[[]int]),
		Max:  extreme(xs, slices.Max[[]int]),
	}
	sum := 0
	for _, x := range xs {
		sum += x
	}
	a.Mean = mean(sum, len(xs))
	if len(xs) >= 2 {
		var ss float64
		for _, x := range xs {
			d := float64(x) - *a.Mean
			ss += d * d
		}
		sd := math.Sqrt(ss / float64(len(xs)-1))
		a.SD = &sd
	}
	return a
}

func monthsStats(xs []float64) MonthsStats {
	m := MonthsStats{
		Base: len(xs),
		Min:  extreme(xs, slices.Min[[]float64]),
		Max:  extreme(xs, slices.Max[[]float64]),
	}
	if len(xs) > 0 {
		var sum float64
		for _, x := range xs {
			sum += x
		}
		mean := sum / float64(len(xs))
		m.Mean = &mean
	}
	return m
}

// extreme applies pick (slices.Min or slices.Max) to xs, or is nil when xs is empty,
// where pick would panic.
func extreme[T int | float64](xs []T, pick func([]T) T) *T {
	if len(xs) == 0 {
		return nil
	}
	v := pick(xs)
	return &v
}

var (
	share   = stats.NewShare
	percent = stats.Percent
	mean    = stats.Mean
)

// SchemeOf takes the rows of the practice tables from a form version (the
// latest: its code lists include every earlier version's codes).
func SchemeOf(def *form.Definition) Scheme {
	return Scheme{Tools: def.CodeList("tool"), Outcomes: def.CodeList("outcome"), ObjectiveCategories: def.CodeList("objective")}
}
