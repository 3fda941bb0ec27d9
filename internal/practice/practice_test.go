package practice

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// Row orders of both form versions (forms/practice-summary/1.json and 2.json); functions
// so that no test can change them for another.
func toolCodes() []string {
	return []string{"sct", "genogram", "online_search", "mobility_map", "deep_file_search", "ecomap", "ask_family"}
}

func outcomeCodes() []string {
	return []string{
		"direct_contact", "increased_network", "indirect_contact", "increased_knowledge", "sense_of_identity",
		"long_term_commitment", "overnight_stays", "repaired_relationships", "other",
	}
}

func objectiveCodes() []string {
	return []string{
		"siblings", "mother", "father", "wider_family", "grandparents", "friends", "pets", "professionals",
		"former_foster_carers", "former_residential_placement", "leaving_care_support", "family_history",
		"family_photos", "family_correspondence", "other",
	}
}

func practiceScheme() Scheme {
	return Scheme{Tools: toolCodes(), Outcomes: outcomeCodes(), ObjectiveCategories: objectiveCodes()}
}

func intp(n int) *int           { return &n }
func floatp(v float64) *float64 { return &v }
func boolp(b bool) *bool        { return &b }

// tools gives Table 2 counts in the report's column order: SCT, Genogram, Online,
// Mobility map, Deep file, Eco-map, Ask family.
func tools(sct, genogram, online, mobility, deepFile, ecomap, askFamily int) map[string]int {
	return map[string]int{
		"sct": sct, "genogram": genogram, "online_search": online, "mobility_map": mobility,
		"deep_file_search": deepFile, "ecomap": ecomap, "ask_family": askFamily,
	}
}

// toolPercents is tools for percentages; nil stands for a null percent.
func toolPercents(sct, genogram, online, mobility, deepFile, ecomap, askFamily *float64) map[string]*float64 {
	return map[string]*float64{
		"sct": sct, "genogram": genogram, "online_search": online, "mobility_map": mobility,
		"deep_file_search": deepFile, "ecomap": ecomap, "ask_family": askFamily,
	}
}

// objectiveRows gives every category a row in scheme order, {set, met} from the map or zero.
func objectiveRows(setMet map[string][2]int) []ObjectiveRow {
	rows := make([]ObjectiveRow, 0, len(objectiveCodes()))
	for _, c := range objectiveCodes() {
		rows = append(rows, ObjectiveRow{Category: c, Set: setMet[c][0], Met: setMet[c][1]})
	}
	return rows
}

// emptyReport is the hand-written report of no cases: zero counts, null percents, every
// row and key present. Tests start from it and fill in what their cases change.
func emptyReport() Report {
	outcomeRows := make([]OutcomeRow, 0, len(outcomeCodes()))
	for _, o := range outcomeCodes() {
		outcomeRows = append(outcomeRows, OutcomeRow{Outcome: o})
	}
	return Report{
		ByVersion: map[string]int{"1": 0, "2": 0},
		Tools: ToolsTable{
			Versions: []string{"1", "2"},
			BySite:   []SiteTools{},
			Total:    ToolTotals{Counts: tools(0, 0, 0, 0, 0, 0, 0)},
			Percent:  toolPercents(nil, nil, nil, nil, nil, nil, nil),
		},
		Objectives: ObjectivesTable{
			Versions:   []string{"2"},
			ByCategory: objectiveRows(nil),
			Note:       objectivesNote,
		},
		Outcomes:    OutcomesTable{Versions: []string{"1", "2"}, Rows: outcomeRows},
		Connections: ConnectionsTable{Versions: []string{"1", "2"}},
		Process:     ProcessSummary{Versions: []string{"1", "2"}},
	}
}

// fixture is seven summaries from two sites, three old format and four new, given as the
// answers a coordinator would submit. The comment on each says what it exercises.
var fixture = []struct{ site, version, answers string }{
	// c1: old format, 3 tools, FGC with 12 attending, 181 days (Jan 31 + Feb 28 + Mar 31 + Apr 30 + May 31 + Jun 30).
	{"A", "1", `{"started_on":"2018-01-01","ended_on":"2018-07-01","tools_used":["sct","genogram","ask_family"],
		"connections_identified":10,"connections_retained":9,"route":"fgc","fgc_attendees":12,
		"outcomes":["direct_contact","increased_network"]}`},
	// c2: old format; tools, retained and ended_on skipped; plan without FGC, no attendees; outcomes answered with none ticked.
	{"A", "1", `{"started_on":"2018-03-01","connections_identified":5,"route":"plan_without_fgc","outcomes":[]}`},
	// c3: new format, 4 tools, all objectives met, FGC with 14, 214 days (May 31 + Jun 30 + Jul 31 + Aug 31 + Sep 30 + Oct 31 + Nov 30).
	{"A", "2", `{"started_on":"2019-05-01","ended_on":"2019-12-01",
		"tools_used":["genogram","mobility_map","deep_file_search","ask_family"],
		"connections_identified":12,"connections_retained":11,"route":"fgc","fgc_attendees":14,
		"outcomes":["direct_contact","sense_of_identity"],
		"objectives":[{"category":"siblings","met":true},{"category":"mother","met":true}]}`},
	// c4: new format, 1 tool, 3 objectives of which 1 met (father not met, family_history's met skipped),
	// FGC with 19, 366 days (a year spanning 29 February 2020).
	{"B", "2", `{"started_on":"2019-06-01","ended_on":"2020-06-01","tools_used":["genogram"],
		"connections_identified":3,"connections_retained":3,"route":"fgc","fgc_attendees":19,
		"outcomes":["direct_contact","other"],"outcomes_other_text":"Joined a football club",
		"objectives":[{"category":"siblings","met":true},{"category":"father","met":false},
		{"category":"family_history","description":"Why I came into care"}]}`},
	// c5: new format, tools answered with none ticked, no objectives, neither route, no attendees,
	// outcomes skipped, completed the day it started (0 days).
	{"B", "2", `{"started_on":"2019-09-01","ended_on":"2019-09-01","tools_used":[],"route":"neither"}`},
	// c6: old format, 5 tools, route skipped, ended_on before started_on (the form forbids it; left out of months).
	{"B", "1", `{"started_on":"2018-10-10","ended_on":"2018-09-01",
		"tools_used":["sct","genogram","online_search","ecomap","ask_family"],
		"connections_identified":8,"connections_retained":6,"outcomes":["increased_knowledge"]}`},
	// c7: new format, tools and connections skipped, 1 objective met, FGC without attendees given, not ended.
	{"B", "2", `{"started_on":"2019-07-01","route":"fgc","outcomes":["direct_contact"],
		"objectives":[{"category":"wider_family","met":true}]}`},
}

func fixtureCases(t *testing.T) []Case {
	t.Helper()
	cases := make([]Case, 0, len(fixture))
	for i, f := range fixture {
		in, err := InputFromAnswers(f.version, []byte(f.answers))
		if err != nil {
			t.Fatalf("fixture c%d: %v", i+1, err)
		}
		cases = append(cases, Case{Site: f.site, Input: in})
	}
	return cases
}

// fixtureReport is the report of the fixture, computed by hand.
func fixtureReport() Report {
	const month = 365.25 / 12 // days
	return Report{
		Cases:     7,
		ByVersion: map[string]int{"1": 3, "2": 4}, // c1, c2, c6 old; c3, c4, c5, c7 new
		Tools: ToolsTable{
			Versions: []string{"1", "2"},
			Base:     5, // c1, c3, c4, c5, c6 answered; c2 and c7 skipped
			BySite: []SiteTools{
				// A: c1 (sct, genogram, ask_family) + c3 (genogram, mobility, deep file, ask_family) = 3 + 4 = 7 tools over 2 cases.
				{Site: "A", Cases: 2, Counts: tools(1, 2, 0, 1, 1, 0, 2), MeanTools: floatp(7.0 / 2)},
				// B: c4 (genogram) + c5 (none) + c6 (sct, genogram, online, ecomap, ask_family) = 1 + 0 + 5 = 6 over 3.
				{Site: "B", Cases: 3, Counts: tools(1, 2, 1, 0, 0, 1, 1), MeanTools: floatp(6.0 / 3)},
			},
			// A + B: 7 + 6 = 13 tools over 5 cases.
			Total: ToolTotals{Counts: tools(2, 4, 1, 1, 1, 1, 3), MeanTools: floatp(13.0 / 5)},
			// Each count × 100 / 5.
			Percent: toolPercents(floatp(40), floatp(80), floatp(20), floatp(20), floatp(20), floatp(20), floatp(60)),
		},
		Objectives: ObjectivesTable{
			Versions: []string{"2"},
			Base:     3, // c3, c4, c7; c5 is new format but set none
			ByCategory: objectiveRows(map[string][2]int{
				"siblings":       {2, 2}, // c3 met, c4 met
				"mother":         {1, 1}, // c3
				"father":         {1, 0}, // c4, met false
				"wider_family":   {1, 1}, // c7
				"family_history": {1, 0}, // c4, met skipped: not met
			}),
			TotalSet: 6, // 2 + 3 + 1
			TotalMet: 4, // 2 + 1 + 1
			// Per child met/set: c3 2/2 = 100%, c4 1/3 = 33.3…%, c7 1/1 = 100%; mean (100 + 100/3 + 100) / 3 = 700/9.
			MeanShareMet: floatp(700.0 / 9),
			AllMet:       Share{Count: 2, Percent: floatp(200.0 / 3)}, // c3, c7 of 3
			Note:         objectivesNote,
		},
		Outcomes: OutcomesTable{
			Versions: []string{"1", "2"},
			Base:     6, // all but c5; c2 answered with none ticked
			Rows: []OutcomeRow{
				{Outcome: "direct_contact", Count: 4, Percent: floatp(400.0 / 6)},    // c1, c3, c4, c7
				{Outcome: "increased_network", Count: 1, Percent: floatp(100.0 / 6)}, // c1
				{Outcome: "indirect_contact", Count: 0, Percent: floatp(0)},
				{Outcome: "increased_knowledge", Count: 1, Percent: floatp(100.0 / 6)}, // c6
				{Outcome: "sense_of_identity", Count: 1, Percent: floatp(100.0 / 6)},   // c3
				{Outcome: "long_term_commitment", Count: 0, Percent: floatp(0)},
				{Outcome: "overnight_stays", Count: 0, Percent: floatp(0)},
				{Outcome: "repaired_relationships", Count: 0, Percent: floatp(0)},
				{Outcome: "other", Count: 1, Percent: floatp(100.0 / 6)}, // c4
			},
		},
		Connections: ConnectionsTable{
			Versions: []string{"1", "2"},
			Base:     5, // c1 10, c2 5, c3 12, c4 3, c6 8
			Identified: IdentifiedStats{
				Total: 38, // 10 + 5 + 12 + 3 + 8
				Mean:  floatp(38.0 / 5),
				Min:   intp(3),
				Max:   intp(12),
			},
			Retained: RetainedStats{
				Base:            4,  // c1, c3, c4, c6; c2 skipped retained
				Total:           29, // 9 + 11 + 3 + 6
				IdentifiedTotal: 33, // 10 + 12 + 3 + 8
				Percent:         floatp(2900.0 / 33),
			},
		},
		Process: ProcessSummary{
			Versions: []string{"1", "2"},
			Route: RouteTable{
				Base:           6,                                           // all but c6
				FGC:            Share{Count: 4, Percent: floatp(400.0 / 6)}, // c1, c3, c4, c7
				PlanWithoutFGC: Share{Count: 1, Percent: floatp(100.0 / 6)}, // c2
				Neither:        Share{Count: 1, Percent: floatp(100.0 / 6)}, // c5
			},
			FGCAttendance: AttendanceStats{
				Base: 3,                     // c1 12, c3 14, c4 19; c7 is FGC with none given
				Mean: floatp(15),            // 45 / 3
				SD:   floatp(math.Sqrt(13)), // deviations −3, −1, 4: (9 + 1 + 16) / (3 − 1) = 13
				Min:  intp(12),
				Max:  intp(19),
			},
			MonthsToCompletion: MonthsStats{
				Base: 4,                                           // c1 181, c3 214, c4 366, c5 0 days
				Mean: floatp((181.0 + 214 + 366 + 0) / 4 / month), // 761 / 4 = 190.25 days = 6.25… months
				Min:  floatp(0),
				Max:  floatp(366 / month),
			},
		},
	}
}

func TestTables(t *testing.T) {
	siteA := emptyReport()
	siteA.Cases = 4
	siteA.ByVersion = map[string]int{"1": 2, "2": 2}
	siteA.Tools.Base = 4
	// Report Table 2, site A: SCT 3, Genogram 4, Online 1, Mobility map 4, Deep file 2, Eco-map 1,
	// Ask family 4; 7 + 5 + 4 + 3 = 19 tools over 4 cases = 4.75.
	siteA.Tools.BySite = []SiteTools{{Site: "A", Cases: 4, Counts: tools(3, 4, 1, 4, 2, 1, 4), MeanTools: floatp(4.75)}}
	siteA.Tools.Total = ToolTotals{Counts: tools(3, 4, 1, 4, 2, 1, 4), MeanTools: floatp(4.75)}
	// Each count × 100 / 4.
	siteA.Tools.Percent = toolPercents(floatp(75), floatp(100), floatp(25), floatp(100), floatp(50), floatp(25), floatp(100))

	unknownVersion := emptyReport()
	unknownVersion.Cases = 1
	unknownVersion.ByVersion = map[string]int{"1": 0, "2": 0, "3": 1}

	nothingAnswered := emptyReport()
	nothingAnswered.Cases = 1
	nothingAnswered.ByVersion = map[string]int{"1": 1, "2": 0}
	nothingAnswered.Tools.BySite = []SiteTools{{Site: "D", Cases: 0, Counts: tools(0, 0, 0, 0, 0, 0, 0)}}

	handBuilt := emptyReport()
	handBuilt.Cases = 1
	handBuilt.ByVersion = map[string]int{"1": 0, "2": 1}
	handBuilt.Tools.Base = 1
	handBuilt.Tools.BySite = []SiteTools{{Site: "C", Cases: 1, Counts: tools(1, 0, 0, 0, 0, 0, 0), MeanTools: floatp(1)}}
	handBuilt.Tools.Total = ToolTotals{Counts: tools(1, 0, 0, 0, 0, 0, 0), MeanTools: floatp(1)}
	handBuilt.Tools.Percent = toolPercents(floatp(100), floatp(0), floatp(0), floatp(0), floatp(0), floatp(0), floatp(0))
	handBuilt.Outcomes.Base = 1
	for i := range handBuilt.Outcomes.Rows {
		handBuilt.Outcomes.Rows[i].Percent = floatp(0)
	}
	handBuilt.Outcomes.Rows[0] = OutcomeRow{Outcome: "direct_contact", Count: 1, Percent: floatp(100)}
	// Retained 0 of identified 0: a base of 1 but nothing to take a share of.
	handBuilt.Connections.Base = 1
	handBuilt.Connections.Identified = IdentifiedStats{Total: 0, Mean: floatp(0), Min: intp(0), Max: intp(0)}
	handBuilt.Connections.Retained = RetainedStats{Base: 1}

	tests := []struct {
		name  string
		cases func(t *testing.T) []Case
		want  Report
	}{
		{
			name:  "summarises old and new formats across two sites",
			cases: fixtureCases,
			want:  fixtureReport(),
		},
		{
			name:  "no cases gives zero bases and null percents",
			cases: func(*testing.T) []Case { return nil },
			want:  emptyReport(),
		},
		{
			name: "reproduces report Table 2 row for site A",
			cases: func(*testing.T) []Case {
				return []Case{
					{"A", Input{Version: "1", ToolsAnswered: true, Tools: toolCodes()}},                                                                   // all 7
					{"A", Input{Version: "1", ToolsAnswered: true, Tools: []string{"sct", "genogram", "mobility_map", "deep_file_search", "ask_family"}}}, // 5
					{"A", Input{Version: "2", ToolsAnswered: true, Tools: []string{"sct", "genogram", "mobility_map", "ask_family"}}},                     // 4
					{"A", Input{Version: "2", ToolsAnswered: true, Tools: []string{"genogram", "mobility_map", "ask_family"}}},                            // 3
				}
			},
			want: siteA,
		},
		{
			name:  "lists a site whose summaries skipped tools, with a null mean",
			cases: func(*testing.T) []Case { return []Case{{"D", Input{Version: "1", StartedOn: "2018-05-01"}}} },
			want:  nothingAnswered,
		},
		{
			name: "counts an unknown form version only in by_version",
			cases: func(*testing.T) []Case {
				return []Case{{"C", Input{
					Version: "3", ToolsAnswered: true, Tools: []string{"sct"}, Identified: intp(4), Route: RouteFGC,
					Attendees: intp(9), OutcomesAnswered: true, Outcomes: []string{"other"},
					Objectives: []Objective{{Category: "pets", Met: boolp(true)}}, StartedOn: "2020-01-01", EndedOn: "2020-02-01",
				}}}
			},
			want: unknownVersion,
		},
		{
			name: "ignores repeated codes, codes outside the scheme and negative counts",
			cases: func(*testing.T) []Case {
				return []Case{{"C", Input{
					Version: "2", ToolsAnswered: true, Tools: []string{"sct", "sct", "telepathy"},
					OutcomesAnswered: true, Outcomes: []string{"direct_contact", "direct_contact", "fame"},
					Objectives: []Objective{{Category: "unicorns", Met: boolp(true)}},
					Identified: intp(0), Retained: intp(0), Attendees: intp(-2), Route: "maybe",
					StartedOn: "2020-13-01", EndedOn: "2021-01-01",
				}}}
			},
			want: handBuilt,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Tables(practiceScheme(), tt.cases(t))
			for _, d := range diffValues("Report", reflect.ValueOf(got), reflect.ValueOf(tt.want)) {
				t.Error(d)
			}
		})
	}
}

func TestTables_JSONNamesAndNulls(t *testing.T) {
	b, err := json.Marshal(Tables(practiceScheme(), nil))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path string
		want any
	}{
		{"cases", 0.0},
		{"by_version.1", 0.0},
		{"by_version.2", 0.0},
		{"tools.versions", []any{"1", "2"}},
		{"tools.base", 0.0},
		{"tools.by_site", []any{}},
		{"tools.total.counts.ask_family", 0.0},
		{"tools.total.mean_tools", nil},
		{"tools.percent.sct", nil},
		{"objectives.versions", []any{"2"}},
		{"objectives.base", 0.0},
		{"objectives.by_category.0", map[string]any{"category": "siblings", "set": 0.0, "met": 0.0}},
		{"objectives.total_set", 0.0},
		{"objectives.total_met", 0.0},
		{"objectives.mean_share_met", nil},
		{"objectives.all_met", map[string]any{"count": 0.0, "percent": nil}},
		{"objectives.note", objectivesNote},
		{"outcomes.versions", []any{"1", "2"}},
		{"outcomes.base", 0.0},
		{"outcomes.rows.8", map[string]any{"outcome": "other", "count": 0.0, "percent": nil}},
		{"connections.versions", []any{"1", "2"}},
		{"connections.base", 0.0},
		{"connections.identified", map[string]any{"total": 0.0, "mean": nil, "min": nil, "max": nil}},
		{"connections.retained", map[string]any{"base": 0.0, "total": 0.0, "identified_total": 0.0, "percent": nil}},
		{"process.versions", []any{"1", "2"}},
		{"process.route.base", 0.0},
		{"process.route.fgc", map[string]any{"count": 0.0, "percent": nil}},
		{"process.route.plan_without_fgc", map[string]any{"count": 0.0, "percent": nil}},
		{"process.route.neither", map[string]any{"count": 0.0, "percent": nil}},
		{"process.fgc_attendance", map[string]any{"base": 0.0, "mean": nil, "sd": nil, "min": nil, "max": nil}},
		{"process.months_to_completion", map[string]any{"base": 0.0, "mean": nil, "min": nil, "max": nil}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			got, ok := lookup(doc, tt.path)
			if !ok {
				t.Fatalf("%s is missing from %s", tt.path, b)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("%s = %#v, want %#v", tt.path, got, tt.want)
			}
		})
	}
}

// lookup follows a dotted path of object keys and array indexes.
func lookup(v any, path string) (any, bool) {
	for _, k := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[k]; !ok {
				return nil, false
			}
		case []any:
			var i int
			if _, err := fmt.Sscan(k, &i); err != nil || i < 0 || i >= len(x) {
				return nil, false
			}
			v = x[i]
		default:
			return nil, false
		}
	}
	return v, true
}

func TestInputFromAnswers(t *testing.T) {
	tests := []struct {
		name    string
		version string
		answers string // inline JSON, or @file in testdata
		want    Input
	}{
		{
			name:    "old format reads every shared item and no free text",
			version: "1",
			answers: "@old_format.json",
			want: Input{
				Version: "1", StartedOn: "2018-02-05", EndedOn: "2018-11-20",
				ToolsAnswered: true, Tools: []string{"ask_family", "genogram", "sct"},
				Identified: intp(9), Retained: intp(8), Route: "fgc", Attendees: intp(11),
				OutcomesAnswered: true, Outcomes: []string{"direct_contact", "other", "repaired_relationships"},
			},
		},
		{
			name:    "new format adds objectives, met skipped stays nil",
			version: "2",
			answers: "@new_format.json",
			want: Input{
				Version: "2", StartedOn: "2019-05-01", EndedOn: "2019-12-01",
				ToolsAnswered: true, Tools: []string{"ask_family", "genogram"},
				Identified: intp(12), Retained: intp(11), Route: "plan_without_fgc",
				OutcomesAnswered: true, Outcomes: []string{"direct_contact"},
				Objectives: []Objective{
					{Category: "siblings", Met: boolp(true)},
					{Category: "family_history"},
					{Category: "mother", Met: boolp(false)},
				},
			},
		},
		{
			name:    "skipped items stay absent",
			version: "2",
			answers: `{"started_on":"2019-04-02"}`,
			want:    Input{Version: "2", StartedOn: "2019-04-02"},
		},
		{
			name:    "null items are skipped",
			version: "2",
			answers: `{"tools_used":null,"connections_identified":null,"route":null,"outcomes":null,"objectives":null}`,
			want:    Input{Version: "2"},
		},
		{
			name:    "empty lists are answered with nothing ticked",
			version: "1",
			answers: `{"tools_used":[],"outcomes":[]}`,
			want:    Input{Version: "1", ToolsAnswered: true, Tools: []string{}, OutcomesAnswered: true, Outcomes: []string{}},
		},
		{
			name:    "whole-valued numbers are read as counts",
			version: "1",
			answers: `{"connections_identified":3.0,"connections_retained":0,"fgc_attendees":1e1}`,
			want:    Input{Version: "1", Identified: intp(3), Retained: intp(0), Attendees: intp(10)},
		},
		{
			name:    "fractional, negative and huge counts are skipped",
			version: "1",
			answers: `{"connections_identified":2.5,"connections_retained":-1,"fgc_attendees":1e300}`,
			want:    Input{Version: "1"},
		},
		{
			name:    "repeated and blank codes count once",
			version: "2",
			answers: `{"tools_used":["sct","","sct","genogram"],"outcomes":["other","other"]}`,
			want: Input{
				Version: "2", ToolsAnswered: true, Tools: []string{"genogram", "sct"},
				OutcomesAnswered: true, Outcomes: []string{"other"},
			},
		},
		{
			name:    "old format keeps no objectives",
			version: "1",
			answers: `{"objectives":[{"category":"siblings","met":true}]}`,
			want:    Input{Version: "1"},
		},
		{
			name:    "objective without a category is dropped",
			version: "2",
			answers: `{"objectives":[{"met":true},{"category":"pets"}]}`,
			want:    Input{Version: "2", Objectives: []Objective{{Category: "pets"}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			answers := []byte(tt.answers)
			if file, ok := strings.CutPrefix(tt.answers, "@"); ok {
				var err error
				if answers, err = os.ReadFile(filepath.Join("testdata", file)); err != nil {
					t.Fatal(err)
				}
			}
			got, err := InputFromAnswers(tt.version, answers)
			if err != nil {
				t.Fatalf("InputFromAnswers: %v", err)
			}
			for _, d := range diffValues("Input", reflect.ValueOf(got), reflect.ValueOf(tt.want)) {
				t.Error(d)
			}
		})
	}
}

func TestInputFromAnswers_RejectsUndecodableJSON(t *testing.T) {
	tests := []struct{ name, answers string }{
		{"empty", ""},
		{"truncated object", `{"tools_used":["sct"`},
		{"array", `["sct"]`},
		{"null", `null`},
		{"string", `"tools"`},
		{"trailing data", `{} {}`},
		{"codes not a list", `{"tools_used":"sct"}`},
		{"count as text", `{"connections_identified":"12"}`},
		{"met as text", `{"objectives":[{"category":"pets","met":"yes"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if in, err := InputFromAnswers("2", []byte(tt.answers)); err == nil {
				t.Errorf("InputFromAnswers(%q) = %+v, want an error", tt.answers, in)
			}
		})
	}
}

// The stored Input must decode to what was stored; above all a list answered with
// nothing ticked must not come back as skipped.
func TestInput_RoundTripsThroughJSON(t *testing.T) {
	tests := []struct {
		name string
		in   Input
	}{
		{"skipped lists", Input{Version: "1"}},
		{"empty answered lists", Input{Version: "1", ToolsAnswered: true, Tools: []string{}, OutcomesAnswered: true, Outcomes: []string{}}},
		{"everything", Input{
			Version: "2", ToolsAnswered: true, Tools: []string{"sct"}, Identified: intp(0), Retained: intp(0),
			Route: RouteFGC, Attendees: intp(3), OutcomesAnswered: true, Outcomes: []string{"other"},
			Objectives: []Objective{{Category: "pets"}, {Category: "mother", Met: boolp(false)}},
			StartedOn:  "2019-04-01", EndedOn: "2019-05-01",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			var got Input
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatal(err)
			}
			for _, d := range diffValues("Input", reflect.ValueOf(got), reflect.ValueOf(tt.in)) {
				t.Errorf("%s (JSON %s)", d, b)
			}
		})
	}
}

// FuzzInputFromAnswers checks that no answers, however odd, make InputFromAnswers or
// Tables panic. Plain go test runs the seeds.
func FuzzInputFromAnswers(f *testing.F) {
	for _, c := range fixture {
		f.Add(c.version, []byte(c.answers))
	}
	f.Add("2", []byte(`{"connections_identified":-1e308,"objectives":[{"category":"pets","met":null}]}`))
	f.Add("1", []byte(`{"started_on":"0000-00-00","ended_on":"9999-12-31","fgc_attendees":1e6}`))
	f.Fuzz(func(t *testing.T, version string, answers []byte) {
		in, err := InputFromAnswers(version, answers)
		if err != nil {
			return
		}
		Tables(practiceScheme(), []Case{{Site: "A", Input: in}, {Site: "A", Input: in}})
	})
}

// diffValues compares got and want field by field, float64 values within a tiny relative
// tolerance, nil and empty slices and maps as different (they encode differently), and
// says where they differ.
func diffValues(path string, got, want reflect.Value) []string {
	mismatch := func() []string {
		return []string{fmt.Sprintf("%s: got %s, want %s", path, show(got), show(want))}
	}
	switch got.Kind() {
	case reflect.Pointer:
		if got.IsNil() || want.IsNil() {
			if got.IsNil() != want.IsNil() {
				return mismatch()
			}
			return nil
		}
		return diffValues(path, got.Elem(), want.Elem())
	case reflect.Struct:
		var out []string
		for i := range got.NumField() {
			out = append(out, diffValues(path+"."+got.Type().Field(i).Name, got.Field(i), want.Field(i))...)
		}
		return out
	case reflect.Slice:
		if got.IsNil() != want.IsNil() || got.Len() != want.Len() {
			return mismatch()
		}
		var out []string
		for i := range got.Len() {
			out = append(out, diffValues(fmt.Sprintf("%s[%d]", path, i), got.Index(i), want.Index(i))...)
		}
		return out
	case reflect.Map:
		if got.IsNil() != want.IsNil() || got.Len() != want.Len() {
			return mismatch()
		}
		keys := want.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
		var out []string
		for _, k := range keys {
			p := fmt.Sprintf("%s[%q]", path, k.String())
			g := got.MapIndex(k)
			if !g.IsValid() {
				out = append(out, p+": missing")
				continue
			}
			out = append(out, diffValues(p, g, want.MapIndex(k))...)
		}
		return out
	case reflect.Float64:
		g, w := got.Float(), want.Float()
		if math.Abs(g-w) > 1e-12*max(1, math.Abs(w)) {
			return mismatch()
		}
		return nil
	default:
		if !reflect.DeepEqual(got.Interface(), want.Interface()) {
			return mismatch()
		}
		return nil
	}
}

func show(v reflect.Value) string {
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return "nil"
		}
		return "&" + show(v.Elem())
	}
	return fmt.Sprintf("%#v", v.Interface())
}
