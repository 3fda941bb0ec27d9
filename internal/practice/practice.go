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
	c := NewCounter(scheme)
	bySite := map[string]Tally{}
	for _, cs := range cases {
		t := bySite[cs.Site]
		c.Add(&t, cs.Input)
		bySite[cs.Site] = t
	}
	return c.Report(bySite)
}

// nonNegative treats a missing or negative count as skipped; InputFromAnswers never
// produces a negative one, but an Input may be built or stored elsewhere.
func nonNegative(p *int) (int, bool) {
	if p == nil || *p < 0 {
		return 0, false
	}
	return *p, true
}

// daysBetween is the number of whole calendar days from start to end. It is false when
// either date is missing or not an ISO date, or when the end comes before the start.
func daysBetween(start, end string) (int64, bool) {
	s, err := time.Parse(time.DateOnly, start)
	if err != nil {
		return 0, false
	}
	e, err := time.Parse(time.DateOnly, end)
	if err != nil || e.Before(s) {
		return 0, false
	}
	return (e.Unix() - s.Unix()) / 86400, true // both are UTC midnights, so this is exact
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
