package export

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lifelong-links/sct/forms"
	"github.com/lifelong-links/sct/internal/export/exporttest"
	"github.com/lifelong-links/sct/internal/form"
	"github.com/lifelong-links/sct/internal/store"
)

func registry(t *testing.T) *form.Registry {
	t.Helper()
	reg, err := form.Load(forms.FS())
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

func demoVersions(t *testing.T) []*form.Definition {
	t.Helper()
	reg, err := form.Load(os.DirFS("testdata/forms"))
	if err != nil {
		t.Fatal(err)
	}
	return reg.Versions("demo")
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// layouts returns every layout a data return holds, by name.
func layouts(t *testing.T) map[string]*Layout {
	t.Helper()
	reg := registry(t)
	l := must[*Layout](t)
	return map[string]*Layout{
		"sct_wide":              l(Wide(reg.Versions("sct"))),
		"sct_long":              l(Long(reg.Versions("sct"))),
		"practice_summary_wide": l(Wide(reg.Versions("practice-summary"))),
		"practice_summary_long": l(Long(reg.Versions("practice-summary"))),
		"participation":         ParticipationLayout(),
		"demo_wide":             l(Wide(demoVersions(t))),
	}
}

// write returns the CSV the layout's Writer makes of the responses.
func write(t *testing.T, l *Layout, responses ...store.Response) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, l)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range responses {
		if err := w.Response(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// records parses CSV into rows keyed by the header, checking the header is
// the layout's.
func records(t *testing.T, l *Layout, data []byte) []map[string]string {
	t.Helper()
	all, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(all) == 0 {
		t.Fatal("no header")
	}
	var names []string
	for _, c := range l.Columns {
		names = append(names, c.Name)
	}
	if !slices.Equal(all[0], names) {
		t.Fatalf("header = %v\nwant %v", all[0], names)
	}
	var out []map[string]string
	for _, rec := range all[1:] {
		m := make(map[string]string, len(rec))
		for i, v := range rec {
			m[all[0][i]] = v
		}
		out = append(out, m)
	}
	return out
}

// checkRow compares every column of a row: those in want hold that value,
// the rest their missing value.
func checkRow(t *testing.T, l *Layout, got, want map[string]string) {
	t.Helper()
	for name := range want {
		if _, ok := got[name]; !ok {
			t.Errorf("no column %s", name)
		}
	}
	for _, c := range l.Columns {
		w, ok := want[c.Name]
		if !ok {
			w = c.Missing
		}
		if got[c.Name] != w {
			t.Errorf("%s = %q, want %q", c.Name, got[c.Name], w)
		}
	}
}

func sctResponse(answers map[string]any) store.Response {
	return store.Response{ID: "3f1c2d9e-0000-4000-8000-000000000001", Form: "sct", Version: "1", ChildID: "C123",
		Site: "A", Group: "lifelong_links", Timepoint: "follow_up", Wave: 2, CompletedOn: "2019-03-31",
		Mode: "paper", Language: "ar", Status: store.StatusSubmitted, Revision: 2, Answers: answers}
}

// fullSCT has names and free text wherever the SCT allows them.
func fullSCT() map[string]any {
	return map[string]any{
		"nominees": []any{
			map[string]any{"name": "Nanna Pearl", "relationship": "grandparent"},
			map[string]any{"name": "Mr Kowalski", "relationship": "other", "other_text": "my boxing coach Zebedee"},
			map[string]any{"name": "Shaniqua", "relationship": "friend"},
		},
		"key_people": []any{
			map[string]any{"nominee": int64(0), "reason": "important",
				"support": map[string]any{"emotional": int64(4), "trust": int64(3)}, "let_down": int64(1)},
			map[string]any{"name": "Auntie Philomena", "relationship": "other", "other_text": "lollipop lady Bernadette",
				"reason": "support", "support": map[string]any{"practical": int64(2)}},
		},
		"adequacy": map[string]any{"emotional": int64(3), "advice": int64(1)},
	}
}

// sensitiveValues returns every string in answers at a path the definition
// marks sensitive.
func sensitiveValues(d *form.Definition, answers map[string]any) []string {
	var out []string
	var walk func(v any, path []string)
	walk = func(v any, path []string) {
		if l, ok := v.([]any); ok {
			for _, it := range l {
				walk(it, path)
			}
			return
		}
		if len(path) == 0 {
			if s, ok := v.(string); ok && s != "" {
				out = append(out, s)
			}
			return
		}
		if m, ok := v.(map[string]any); ok {
			walk(m[path[0]], path[1:])
		}
	}
	for _, p := range d.SensitivePaths() {
		walk(answers, strings.Split(p, "."))
	}
	return out
}

var slot = regexp.MustCompile(`\[\d+\]`)

func TestLayouts_AreSafeForEvaluators(t *testing.T) {
	reg := registry(t)
	all := layouts(t)
	tests := []struct {
		name   string
		layout *Layout
		defs   []*form.Definition
	}{
		{"sct wide", all["sct_wide"], reg.Versions("sct")},
		{"sct long", all["sct_long"], reg.Versions("sct")},
		{"practice summary wide", all["practice_summary_wide"], reg.Versions("practice-summary")},
		{"practice summary long", all["practice_summary_long"], reg.Versions("practice-summary")},
		{"participation", all["participation"], nil},
		{"demo wide", all["demo_wide"], demoVersions(t)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var sensitive []string
			for _, d := range tt.defs {
				sensitive = append(sensitive, d.SensitivePaths()...)
			}
			if tt.defs != nil && len(sensitive) == 0 {
				t.Fatal("the definitions have no sensitive answers to test against")
			}
			seen := map[string]bool{}
			for _, c := range tt.layout.Columns {
				if !ValidName(c.Name) || len(c.Name) > 64 {
					t.Errorf("column %q is not a valid SPSS name", c.Name)
				}
				if seen[strings.ToLower(c.Name)] {
					t.Errorf("column %q appears twice", c.Name)
				}
				seen[strings.ToLower(c.Name)] = true
				if c.Label == "" {
					t.Errorf("column %s has no label", c.Name)
				}
				// The key is the answer's dotted path with list slots, or the
				// path below a list item in a long layout.
				path := strings.SplitN(slot.ReplaceAllString(c.key, ""), "=", 2)[0]
				for _, s := range sensitive {
					rest, long := strings.CutPrefix(path, "item.")
					if path == s || long && strings.HasSuffix(s, "."+rest) {
						t.Errorf("column %s exports sensitive answer %s", c.Name, s)
					}
				}
				leaf := c.Name[strings.LastIndex(c.Name, "_")+1:]
				if leaf == "name" || strings.HasSuffix(c.Name, "other_text") || strings.HasSuffix(c.Name, "description") {
					t.Errorf("column %s looks like a name or free text", c.Name)
				}
				switch c.source {
				case form.TypeCode, form.TypeCodes, form.TypeRating, form.TypeBoolean:
					if !c.Coded() {
						t.Errorf("coded column %s has no value labels", c.Name)
					}
				}
				if c.Kind == Numeric && c.Missing != "-1" {
					t.Errorf("numeric column %s has missing value %q, want -1", c.Name, c.Missing)
				}
				if c.Kind != Numeric && c.Missing != "" {
					t.Errorf("%s column %s has missing value %q, want empty", c.Kind, c.Name, c.Missing)
				}
			}
			for _, name := range []string{"child_id", "site", "group", "statistical_year"} {
				if !seen[name] {
					t.Errorf("no %s column", name)
				}
			}
		})
	}
}

func TestWide_SCTCodeColumnsLabelEveryCode(t *testing.T) {
	reg := registry(t)
	def, _ := reg.Get("sct", "1")
	l := must[*Layout](t)(Wide([]*form.Definition{def}))
	tests := []struct {
		column string
		want   []ValueLabel
	}{
		{"group", []ValueLabel{{"1", "Lifelong Links"}, {"2", "Comparison"}}},
		{"timepoint", []ValueLabel{{"1", "Baseline"}, {"2", "Follow-up"}}},
		{"mode", []ValueLabel{{"1", "Online"}, {"2", "Paper"}}},
		{"nominees_20_relationship", codeLabels(def.CodeLists["relationship"])},
		{"key_people_5_reason", codeLabels(def.CodeLists["reason"])},
		{"key_people_3_support_positive_feedback", []ValueLabel{{"1", "Not at all"}, {"2", "Not really"}, {"3", "Probably"}, {"4", "Definitely"}}},
		{"adequacy_lifelong", []ValueLabel{{"1", "No one"}, {"2", "Too few people"}, {"3", "Enough people"}}},
	}
	for _, tt := range tests {
		t.Run(tt.column, func(t *testing.T) {
			c := column(l, tt.column)
			if c == nil {
				t.Fatalf("no column %s", tt.column)
			}
			if !slices.Equal(c.ValueLabels, tt.want) {
				t.Errorf("value labels = %v\nwant %v", c.ValueLabels, tt.want)
			}
		})
	}
	if len(codeLabels(def.CodeLists["relationship"])) != 15 || codeLabels(def.CodeLists["relationship"])[3] != (ValueLabel{"4", "Grandparent"}) {
		t.Error("relationship codes are not numbered 1..15 in definition order")
	}
}

func codeLabels(codes []form.Code) []ValueLabel {
	var out []ValueLabel
	for i, c := range codes {
		out = append(out, ValueLabel{fmt.Sprint(i + 1), c.Label})
	}
	return out
}

func column(l *Layout, name string) *Column {
	for i := range l.Columns {
		if l.Columns[i].Name == name {
			return &l.Columns[i]
		}
	}
	return nil
}

func TestWide_SCTRowHoldsAnswersAndMissingAsMinusOne(t *testing.T) {
	reg := registry(t)
	def, _ := reg.Get("sct", "1")
	l := must[*Layout](t)(Wide([]*form.Definition{def}))
	meta := map[string]string{
		"response_id": "3f1c2d9e-0000-4000-8000-000000000001", "child_id": "C123", "site": "A", "group": "1",
		"timepoint": "2", "wave": "2", "version": "1", "mode": "2", "language": "ar", "completed_on": "2019-03-31",
		"statistical_year": "2018-19", "revision": "2",
	}
	zeroCounts := func(want map[string]string) map[string]string {
		for _, c := range def.CodeLists["relationship"] {
			if _, set := want["nominees_relationship_"+c.Code]; !set {
				want["nominees_relationship_"+c.Code] = "0"
			}
		}
		for _, c := range def.CodeLists["reason"] {
			if _, set := want["key_people_reason_"+c.Code]; !set {
				want["key_people_reason_"+c.Code] = "0"
			}
		}
		for k, v := range meta {
			want[k] = v
		}
		return want
	}
	tests := []struct {
		name    string
		answers map[string]any
		want    map[string]string // columns not named hold -1 or empty
	}{
		{
			name:    "answers with skips",
			answers: fullSCT(),
			want: zeroCounts(map[string]string{
				"n_nominees": "3", "nominees_relationship_grandparent": "1", "nominees_relationship_other": "1",
				"nominees_relationship_friend": "1",
				"nominees_1_relationship":      "4", "nominees_2_relationship": "15", "nominees_3_relationship": "10",
				"n_key_people": "2", "key_people_reason_important": "1", "key_people_reason_support": "1",
				"key_people_1_reason": "1", "key_people_1_nominee": "1", "key_people_1_support_emotional": "4",
				"key_people_1_support_trust": "3", "key_people_1_let_down": "1",
				"key_people_2_reason": "2", "key_people_2_relationship": "15", "key_people_2_support_practical": "2",
				"adequacy_emotional": "3", "adequacy_advice": "1",
			}),
		},
		{
			name:    "nothing answered counts no one and leaves every answer missing",
			answers: map[string]any{},
			want:    zeroCounts(map[string]string{"n_nominees": "0", "n_key_people": "0"}),
		},
		{
			name: "values the definition does not know are missing",
			answers: map[string]any{
				"nominees":   []any{map[string]any{"relationship": "cousin_twice_removed"}, "not an object"},
				"key_people": []any{map[string]any{"nominee": "zero", "let_down": int64(7), "reason": 3}},
				"adequacy":   map[string]any{"emotional": 2.5, "practical": float64(2), "advice": int32(3)},
				"unknown":    "ignored",
			},
			want: zeroCounts(map[string]string{"n_nominees": "2", "n_key_people": "1",
				"adequacy_practical": "2", "adequacy_advice": "3"}),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows := records(t, l, write(t, l, sctResponse(tt.answers)))
			if len(rows) != 1 {
				t.Fatalf("%d rows, want 1", len(rows))
			}
			checkRow(t, l, rows[0], tt.want)
		})
	}
}

func TestStatisticalYear_IsTheAprilToMarchYear(t *testing.T) {
	tests := []struct{ date, want string }{
		{"2019-06-14", "2019-20"},
		{"2019-03-31", "2018-19"},
		{"2019-04-01", "2019-20"},
		{"1999-12-31", "1999-00"},
		{"2020-01-01", "2019-20"},
		{"", ""},
		{"2019-13-01", ""},
		{"14/06/2019", ""},
	}
	for _, tt := range tests {
		t.Run(tt.date, func(t *testing.T) {
			if got := StatisticalYear(tt.date); got != tt.want {
				t.Errorf("StatisticalYear(%q) = %q, want %q", tt.date, got, tt.want)
			}
		})
	}
}

func TestExport_NeverWritesNamesOrFreeText(t *testing.T) {
	reg := registry(t)
	all := layouts(t)
	sct, _ := reg.Get("sct", "1")
	ps2, _ := reg.Get("practice-summary", "2")
	psAnswers := map[string]any{
		"started_on": "2019-05-01", "tools_used": []any{"genogram"},
		"outcomes": []any{"other"}, "outcomes_other_text": "met Grandad Ebenezer at the seaside",
		"objectives": []any{map[string]any{"category": "father", "met": true, "description": "find Dad Horatio"}},
	}
	ps := store.Response{ID: "p1", Form: "practice-summary", Version: "2", ChildID: "C9", Site: "B",
		Group: "lifelong_links", CompletedOn: "2019-09-01", Mode: "online", Answers: psAnswers}
	tests := []struct {
		name     string
		layout   *Layout
		response store.Response
		secrets  []string
	}{
		{"sct wide", all["sct_wide"], sctResponse(fullSCT()), sensitiveValues(sct, fullSCT())},
		{"sct long", all["sct_long"], sctResponse(fullSCT()), sensitiveValues(sct, fullSCT())},
		{"practice summary wide", all["practice_summary_wide"], ps, sensitiveValues(ps2, psAnswers)},
		{"practice summary long", all["practice_summary_long"], ps, sensitiveValues(ps2, psAnswers)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if len(tt.secrets) < 2 {
				t.Fatalf("only %d sensitive values to look for", len(tt.secrets))
			}
			out := write(t, tt.layout, tt.response)
			if len(records(t, tt.layout, out)) == 0 {
				t.Fatal("no rows written")
			}
			for _, s := range tt.secrets {
				for _, word := range strings.Fields(s) {
					if len(word) > 3 && bytes.Contains(bytes.ToLower(out), []byte(strings.ToLower(word))) {
						t.Errorf("output holds %q (from %q)", word, s)
					}
				}
			}
		})
	}
}

func TestWide_PracticeSummaryIsTheUnionOfVersions(t *testing.T) {
	reg := registry(t)
	l := must[*Layout](t)(Wide(reg.Versions("practice-summary")))
	if want := "Practice summary: one row per response (versions 1, 2)"; l.Title != want {
		t.Errorf("title = %q, want %q", l.Title, want)
	}
	for _, name := range []string{"n_objectives", "objectives_1_category", "objectives_1_met", "objectives_40_met",
		"objectives_category_pets", "tools_used_sct", "tools_used_genogram", "tools_used_ask_family", "outcomes_other"} {
		if column(l, name) == nil {
			t.Errorf("no column %s", name)
		}
	}
	if column(l, "objectives_41_category") != nil {
		t.Error("more objective slots than max_items")
	}
	// Version 1's columns come first, in its order; version 2 adds after them.
	if i, j := slices.IndexFunc(l.Columns, func(c Column) bool { return c.Name == "outcomes_other" }),
		slices.IndexFunc(l.Columns, func(c Column) bool { return c.Name == "n_objectives" }); i > j {
		t.Errorf("objectives (column %d) come before version 1's last column (%d)", j, i)
	}
	base := func(version string, answers map[string]any) store.Response {
		return store.Response{ID: "p-" + version, Form: "practice-summary", Version: version, ChildID: "C7",
			Site: "D", Group: "lifelong_links", CompletedOn: "2019-03-01", Mode: "online", Revision: 1, Answers: answers}
	}
	meta := func(version string, want map[string]string) map[string]string {
		for k, v := range map[string]string{"response_id": "p-" + version, "child_id": "C7", "site": "D", "group": "1",
			"version": version, "mode": "1", "language": "en", "completed_on": "2019-03-01", "statistical_year": "2018-19", "revision": "1"} {
			want[k] = v
		}
		return want
	}
	objectiveZeros := func(want map[string]string) map[string]string {
		def, _ := reg.Get("practice-summary", "2")
		for _, c := range def.CodeLists["objective"] {
			if _, set := want["objectives_category_"+c.Code]; !set {
				want["objectives_category_"+c.Code] = "0"
			}
		}
		return want
	}
	tests := []struct {
		name     string
		response store.Response
		want     map[string]string
	}{
		{
			name: "version 1 has objectives missing",
			response: base("1", map[string]any{"started_on": "2018-06-01", "tools_used": []any{"sct", "genogram"},
				"connections_identified": int64(12), "route": "fgc", "fgc_attendees": int64(14)}),
			want: meta("1", map[string]string{"started_on": "2018-06-01", "tools_used_sct": "1", "tools_used_genogram": "1",
				"tools_used_online_search": "0", "tools_used_mobility_map": "0", "tools_used_deep_file_search": "0",
				"tools_used_ecomap": "0", "tools_used_ask_family": "0", "connections_identified": "12", "route": "1",
				"fgc_attendees": "14"}),
		},
		{
			name: "version 2 fills objectives",
			response: base("2", map[string]any{"started_on": "2019-01-10", "ended_on": "2019-02-28",
				"route": "plan_without_fgc", "outcomes": []any{"direct_contact", "other"},
				"objectives": []any{
					map[string]any{"category": "siblings", "met": true},
					map[string]any{"category": "other", "met": false},
					map[string]any{"category": "siblings"},
				}}),
			want: meta("2", objectiveZeros(map[string]string{"started_on": "2019-01-10", "ended_on": "2019-02-28", "route": "2",
				"outcomes_direct_contact": "1", "outcomes_increased_network": "0", "outcomes_indirect_contact": "0",
				"outcomes_increased_knowledge": "0", "outcomes_sense_of_identity": "0", "outcomes_long_term_commitment": "0",
				"outcomes_overnight_stays": "0", "outcomes_repaired_relationships": "0", "outcomes_other": "1",
				"n_objectives": "3", "objectives_category_siblings": "2", "objectives_category_other": "1",
				"objectives_1_category": "1", "objectives_1_met": "1", "objectives_2_category": "15", "objectives_2_met": "0",
				"objectives_3_category": "1"})),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows := records(t, l, write(t, l, tt.response))
			if len(rows) != 1 {
				t.Fatalf("%d rows, want 1", len(rows))
			}
			checkRow(t, l, rows[0], tt.want)
		})
	}
}

func TestWide_CodesAddedInALaterVersionKeepEarlierNumbers(t *testing.T) {
	defs := demoVersions(t)
	l := must[*Layout](t)(Wide(defs))
	if got, want := column(l, "colour").ValueLabels, []ValueLabel{{"1", "Red"}, {"2", "Green"}, {"3", "Blue"}}; !slices.Equal(got, want) {
		t.Errorf("colour labels = %v, want %v", got, want)
	}
	for _, name := range []string{"by_v", "day_count", "pets_3_kind", "likes_blue", "seen_on", "comment"} {
		if column(l, name) == nil {
			t.Errorf("no column %s", name)
		}
	}
	if c := column(l, "comment"); c.Kind != String || c.Width != 320 {
		t.Errorf("comment is %s width %d, want string width 320 (80 characters, the widest version)", c.Kind, c.Width)
	}
	r := func(version string, answers map[string]any) store.Response {
		return store.Response{ID: "d" + version, Form: "demo", Version: version, ChildID: "X", Site: "S",
			Group: "comparison", Timepoint: "baseline", Mode: "online", Answers: answers}
	}
	tests := []struct {
		name     string
		response store.Response
		want     map[string]string
	}{
		{"version 1 green is 2", r("1", map[string]any{"colour": "green", "by": int64(-3), "comment": `Likes "red", a lot`}),
			map[string]string{"colour": "2", "by_v": "-3", "comment": `Likes "red", a lot`, "n_pets": "0",
				"pets_kind_cat": "0", "pets_kind_dog": "0"}},
		{"version 2 green is still 2", r("2", map[string]any{"colour": "green", "seen_on": "2020-02-29"}),
			map[string]string{"colour": "2", "seen_on": "2020-02-29", "n_pets": "0", "pets_kind_cat": "0", "pets_kind_dog": "0"}},
		{"version 2 blue is 3", r("2", map[string]any{"colour": "blue", "likes": []any{}, "pets": []any{
			map[string]any{"kind": "dog", "name": "Rex"}, map[string]any{"kind": "dog"}, map[string]any{"kind": "cat"}}}),
			map[string]string{"colour": "3", "likes_blue": "0", "likes_red": "0", "likes_green": "0",
				"n_pets": "3", "pets_kind_cat": "1", "pets_kind_dog": "2", "pets_1_kind": "2", "pets_2_kind": "2", "pets_3_kind": "1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows := records(t, l, write(t, l, tt.response))
			want := map[string]string{"response_id": tt.response.ID, "child_id": "X", "site": "S", "group": "2",
				"timepoint": "1", "wave": "1", "version": tt.response.Version, "mode": "1", "language": "en", "revision": "0"}
			for k, v := range tt.want {
				want[k] = v
			}
			checkRow(t, l, rows[0], want)
		})
	}
}

func TestWide_RejectsAFieldWhoseTypeChangesBetweenVersions(t *testing.T) {
	parse := func(version, typ string) *form.Definition {
		d, err := form.Parse("demo/"+version+".json", []byte(`{"form":"demo","version":"`+version+`","title":"Demo",
			"answers":{"type":"object","fields":[{"name":"count","type":"`+typ+`"}]}}`))
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	tests := []struct {
		name    string
		defs    []*form.Definition
		wantErr string
	}{
		{"integer then date", []*form.Definition{parse("1", "integer"), parse("2", "date")}, "count"},
		{"same type", []*form.Definition{parse("1", "integer"), parse("2", "integer")}, ""},
		{"no definitions", nil, "no form definitions"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Wide(tt.defs)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("Wide() error = %v, want one mentioning %q", err, tt.wantErr)
			}
		})
	}
}

func TestLong_SCTHasOneRowPerNomineeAndKeyPerson(t *testing.T) {
	reg := registry(t)
	l := must[*Layout](t)(Long(reg.Versions("sct")))
	meta := map[string]string{"response_id": "3f1c2d9e-0000-4000-8000-000000000001", "child_id": "C123", "site": "A",
		"group": "1", "timepoint": "2", "wave": "2", "version": "1", "completed_on": "2019-03-31", "statistical_year": "2018-19"}
	want := []map[string]string{
		{"list": "nominees", "item": "1", "relationship": "4"},
		{"list": "nominees", "item": "2", "relationship": "15"},
		{"list": "nominees", "item": "3", "relationship": "10"},
		{"list": "key_people", "item": "1", "reason": "1", "nominee": "1", "support_emotional": "4", "support_trust": "3", "let_down": "1"},
		{"list": "key_people", "item": "2", "reason": "2", "relationship": "15", "support_practical": "2"},
	}
	out := write(t, l, sctResponse(fullSCT()), sctResponse(map[string]any{"adequacy": map[string]any{"trust": int64(3)}}))
	rows := records(t, l, out)
	if len(rows) != len(want) {
		t.Fatalf("%d rows, want %d (3 nominees, 2 key people, none for a response without lists)", len(rows), len(want))
	}
	for i := range want {
		t.Run(fmt.Sprintf("row %d", i+1), func(t *testing.T) {
			for k, v := range meta {
				want[i][k] = v
			}
			checkRow(t, l, rows[i], want[i])
		})
	}
	for _, c := range l.Columns {
		if strings.HasPrefix(c.Name, "adequacy") || strings.Contains(c.Name, "name") {
			t.Errorf("long layout has column %s", c.Name)
		}
	}
}

func TestLong_RejectsAListTheFormDoesNotHave(t *testing.T) {
	reg := registry(t)
	tests := []struct {
		name  string
		lists []string
		ok    bool
	}{
		{"nominees only", []string{"nominees"}, true},
		{"objects are not lists", []string{"adequacy"}, false},
		{"unknown list", []string{"pets"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Long(reg.Versions("sct"), tt.lists...)
			if (err == nil) != tt.ok {
				t.Errorf("Long(%v) error = %v, want ok %v", tt.lists, err, tt.ok)
			}
		})
	}
}

func TestWriter_RejectsRowsItCannotPlace(t *testing.T) {
	all := layouts(t)
	tests := []struct {
		name  string
		write func(w *Writer) error
	}{
		{"another form", func(w *Writer) error {
			return w.Response(store.Response{ID: "x", Form: "practice-summary", Version: "1"})
		}},
		{"an unknown version", func(w *Writer) error {
			return w.Response(store.Response{ID: "x", Form: "sct", Version: "9"})
		}},
		{"participation in a response layout", func(w *Writer) error { return w.Participation(Participation{ChildID: "C1"}) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			w := must[*Writer](t)(NewWriter(&buf, all["sct_wide"]))
			if err := tt.write(w); err == nil {
				t.Error("no error")
			}
			if w.Rows() != 0 {
				t.Errorf("%d rows written", w.Rows())
			}
		})
	}
	w := must[*Writer](t)(NewWriter(io.Discard, all["participation"]))
	if err := w.Response(sctResponse(nil)); err == nil {
		t.Error("participation layout took a response")
	}
}

func TestParticipation_RowCodesUnknownAsMinusOne(t *testing.T) {
	yes, no := true, false
	n := func(i int) *int { return &i }
	tests := []struct {
		name string
		p    Participation
		want string
	}{
		{"participating, completed with FGC",
			Participation{ChildID: "C1", Site: "A", Group: "lifelong_links", Eligible: &yes, Participating: &yes,
				StartedOn: "2018-05-02", ReasonNotParticipating: n(0), CeasedOn: "2019-04-30", ReasonCeased: n(1),
				PlanCompleted: n(1), FGCCompleted: n(1), ReviewFGCCompleted: n(-1), Pauses: 2},
			"C1,A,1,2018-19,1,1,2018-05-02,0,2019-04-30,1,1,1,-1,2"},
		{"refused, year given",
			Participation{ChildID: "C2", Site: "B", Group: "comparison", StatisticalYear: "2019-20", Eligible: &yes,
				Participating: &no, ReasonNotParticipating: n(1)},
			"C2,B,2,2019-20,1,0,,1,,-1,-1,-1,-1,0"},
		{"nothing known",
			Participation{ChildID: "C3", Site: "C"},
			"C3,C,-1,,-1,-1,,-1,,-1,-1,-1,-1,0"},
	}
	l := ParticipationLayout()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			w := must[*Writer](t)(NewWriter(&buf, l))
			if err := w.Participation(tt.p); err != nil {
				t.Fatal(err)
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
			if lines[0] != "child_id,site,group,statistical_year,ll_eligible,ll_participate,ll_start,ll_np,ll_cease,ll_exit,ll_plan,ll_fgc,ll_revfgc,ll_pauses" {
				t.Errorf("header = %s", lines[0])
			}
			if len(lines) != 2 || lines[1] != tt.want {
				t.Errorf("row = %q, want %q", lines[1:], tt.want)
			}
		})
	}
}

func TestSafeName_MakesSPSSNames(t *testing.T) {
	tests := []struct{ in, want string }{
		{"key_people_1_support_trust", "key_people_1_support_trust"},
		{"Day-Count", "day_count"},
		{"1st", "v_1st"},
		{"to", "to_v"},
		{"with", "with_v"},
		{"trailing_", "trailing"},
		{strings.Repeat("a", 70), strings.Repeat("a", 64)},
		{"", "v1"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got := safeName(tt.in)
			if got != tt.want || !ValidName(got) {
				t.Errorf("safeName(%q) = %q (valid %v), want %q", tt.in, got, ValidName(got), tt.want)
			}
		})
	}
	b := newBuilder()
	long := strings.Repeat("x", 64)
	var names []string
	for i := range 3 {
		idx, err := b.add(Column{Name: long, key: fmt.Sprint(i), Kind: Numeric})
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, b.cols[idx].Name)
	}
	if want := []string{long, long[:62] + "_2", long[:62] + "_3"}; !slices.Equal(names, want) {
		t.Errorf("clashing names became %v, want %v", names, want)
	}
}

// syntax is what a small parser reads back from an SPSS syntax file.
type syntax struct {
	file          string
	firstCase     string
	variables     []string          // in order
	formats       map[string]string // variable → format
	varLabels     map[string]string
	valueLabels   map[string][]ValueLabel
	missing       map[string]string // variable → missing value
	commandsEnded bool
}

// tokens splits syntax into commands of tokens. A command ends with a period
// that ends a line; quoted strings may hold anything, with the quote doubled.
func tokens(t *testing.T, src string) [][]string {
	t.Helper()
	var cmds [][]string
	var cur []string
	for _, line := range strings.Split(src, "\n") {
		if strings.HasPrefix(line, "*") {
			if !strings.HasSuffix(line, ".") {
				t.Errorf("comment does not end with a period: %q", line)
			}
			continue
		}
		end := false
		for i := 0; i < len(line); {
			c := line[i]
			switch {
			case c == ' ' || c == '\t' || c == '\r':
				i++
			case c == '\'' || c == '"':
				var sb strings.Builder
				j := i + 1
				for ; ; j++ {
					if j >= len(line) {
						t.Fatalf("unterminated string in %q", line)
					}
					if line[j] == c {
						if j+1 < len(line) && line[j+1] == c {
							sb.WriteByte(c)
							j++
							continue
						}
						break
					}
					sb.WriteByte(line[j])
				}
				cur = append(cur, "\x00"+sb.String()) // \x00 marks a string
				i = j + 1
			case strings.IndexByte("/=()", c) >= 0:
				cur = append(cur, string(c))
				i++
			default:
				j := i
				for j < len(line) && strings.IndexByte(" \t\r/=()'\"", line[j]) < 0 {
					j++
				}
				word := line[i:j]
				if strings.TrimSpace(line[j:]) == "" && strings.HasSuffix(word, ".") {
					word, end = strings.TrimSuffix(word, "."), true
				}
				if word != "" {
					cur = append(cur, word)
				}
				i = j
			}
		}
		if end {
			cmds = append(cmds, cur)
			cur = nil
		}
	}
	if len(cur) > 0 {
		t.Errorf("syntax ends inside a command: %v", cur)
	}
	return cmds
}

func isString(tok string) bool  { return strings.HasPrefix(tok, "\x00") }
func unquote(tok string) string { return strings.TrimPrefix(tok, "\x00") }
func isVarName(tok string) bool { return !isString(tok) && ValidName(tok) }
func groups(toks []string) [][]string {
	var out [][]string
	var cur []string
	for _, tok := range toks {
		if tok == "/" {
			out = append(out, cur)
			cur = nil
			continue
		}
		cur = append(cur, tok)
	}
	return append(out, cur)
}

func parseSPSS(t *testing.T, src string) syntax {
	t.Helper()
	s := syntax{formats: map[string]string{}, varLabels: map[string]string{},
		valueLabels: map[string][]ValueLabel{}, missing: map[string]string{}}
	for _, cmd := range tokens(t, src) {
		head := strings.ToUpper(strings.Join(cmd[:min(2, len(cmd))], " "))
		switch {
		case head == "GET DATA":
			for i, g := range groups(cmd[2:]) {
				if i == 0 && len(g) == 0 {
					continue // the command starts with a subcommand
				}
				if len(g) < 3 || g[1] != "=" {
					t.Errorf("GET DATA subcommand %v", g)
					continue
				}
				switch strings.ToUpper(g[0]) {
				case "FILE":
					s.file = unquote(g[2])
				case "FIRSTCASE":
					s.firstCase = g[2]
				case "VARIABLES":
					rest := g[2:]
					if len(rest)%2 != 0 {
						t.Fatalf("VARIABLES has an odd number of words: %v", rest)
					}
					for i := 0; i < len(rest); i += 2 {
						s.variables = append(s.variables, rest[i])
						s.formats[rest[i]] = rest[i+1]
					}
				}
			}
		case head == "VARIABLE LABELS":
			for _, g := range groups(cmd[2:]) {
				if len(g) != 2 || !isVarName(g[0]) || !isString(g[1]) {
					t.Errorf("VARIABLE LABELS entry %q", g)
					continue
				}
				s.varLabels[g[0]] = unquote(g[1])
			}
		case head == "VALUE LABELS":
			for _, g := range groups(cmd[2:]) {
				var names []string
				for len(g) > 0 && isVarName(g[0]) {
					names, g = append(names, g[0]), g[1:]
				}
				if len(names) == 0 || len(g)%2 != 0 {
					t.Errorf("VALUE LABELS entry %q", g)
					continue
				}
				for i := 0; i < len(g); i += 2 {
					if !isString(g[i+1]) {
						t.Errorf("value %s has label %q, not a string", g[i], g[i+1])
					}
					for _, n := range names {
						s.valueLabels[n] = append(s.valueLabels[n], ValueLabel{unquote(g[i]), unquote(g[i+1])})
					}
				}
			}
		case head == "MISSING VALUES":
			rest := cmd[2:]
			open := slices.Index(rest, "(")
			if open < 0 || len(rest) != open+3 || rest[open+2] != ")" {
				t.Errorf("MISSING VALUES %v", rest)
				continue
			}
			for _, n := range rest[:open] {
				s.missing[n] = rest[open+1]
			}
		case head == "EXECUTE":
			s.commandsEnded = true
		}
	}
	return s
}

func TestSPSS_SyntaxParsesBackWithEveryLabel(t *testing.T) {
	for name, l := range layouts(t) {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := SPSS(&buf, l, name+".csv"); err != nil {
				t.Fatal(err)
			}
			s := parseSPSS(t, buf.String())
			if s.file != name+".csv" || s.firstCase != "2" || !s.commandsEnded {
				t.Errorf("GET DATA reads %q from case %q; EXECUTE %v", s.file, s.firstCase, s.commandsEnded)
			}
			var names []string
			numeric := map[string]bool{}
			for _, c := range l.Columns {
				names = append(names, c.Name)
				if c.Kind == Numeric {
					numeric[c.Name] = true
				}
			}
			if !slices.Equal(s.variables, names) {
				t.Errorf("/VARIABLES = %v\nwant %v", s.variables, names)
			}
			format := map[Kind]*regexp.Regexp{
				Numeric: regexp.MustCompile(`^F\d+\.0$`),
				String:  regexp.MustCompile(`^A\d+$`),
				Date:    regexp.MustCompile(`^SDATE10$`),
			}
			for _, c := range l.Columns {
				if !format[c.Kind].MatchString(s.formats[c.Name]) {
					t.Errorf("%s %s has format %q", c.Kind, c.Name, s.formats[c.Name])
				}
				if got, ok := s.varLabels[c.Name]; !ok || got != c.Label {
					t.Errorf("%s variable label = %q, want %q", c.Name, got, c.Label)
				}
				if c.Coded() && !slices.Equal(s.valueLabels[c.Name], c.ValueLabels) {
					t.Errorf("%s value labels = %v\nwant %v", c.Name, s.valueLabels[c.Name], c.ValueLabels)
				}
				if !c.Coded() && len(s.valueLabels[c.Name]) > 0 {
					t.Errorf("%s has value labels but is not coded", c.Name)
				}
			}
			for n := range numeric {
				if s.missing[n] != "-1" {
					t.Errorf("MISSING VALUES for %s = %q, want -1", n, s.missing[n])
				}
			}
			for n := range s.missing {
				if !numeric[n] {
					t.Errorf("MISSING VALUES names %s, which is not numeric", n)
				}
			}
		})
	}
}

func TestSPSS_EscapesApostrophesInLabels(t *testing.T) {
	l := must[*Layout](t)(Wide(demoVersions(t)))
	var buf bytes.Buffer
	if err := SPSS(&buf, l, "it's.csv"); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{`comment 'Child''s view'`, `1 'Don''t know'`, `/FILE='it''s.csv'`} {
		if !strings.Contains(out, want) {
			t.Errorf("syntax lacks %s", want)
		}
	}
	s := parseSPSS(t, out)
	if s.varLabels["comment"] != "Child's view" || s.valueLabels["certainty"][0].Label != "Don't know" || s.file != "it's.csv" {
		t.Errorf("read back %q, %v, %q", s.varLabels["comment"], s.valueLabels["certainty"], s.file)
	}
}

func TestSPSS_CutsOverlongLabelsAtACharacterBoundary(t *testing.T) {
	l := ParticipationLayout()
	l.Columns[0].Label = strings.Repeat("é", 200) // 400 bytes
	var buf bytes.Buffer
	if err := SPSS(&buf, l, "p.csv"); err != nil {
		t.Fatal(err)
	}
	got := parseSPSS(t, buf.String()).varLabels["child_id"]
	if len(got) > maxVariableLabel || !strings.HasPrefix(l.Columns[0].Label, got) || got == "" {
		t.Errorf("label cut to %d bytes: %q", len(got), got)
	}
}

func TestCodebook_MentionsEveryVariable(t *testing.T) {
	all := layouts(t)
	net := must[*Network](t)(NewNetwork(registry(t).Versions("sct")))
	all[net.Nodes.Name], all[net.Edges.Name] = net.Nodes, net.Edges
	ps := []Part{{Network: net}}
	for _, l := range all {
		ps = append(ps, Part{Layout: l})
	}
	var buf bytes.Buffer
	if err := Codebook(&buf, ps...); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	t.Run("network", func(t *testing.T) {
		if !strings.Contains(out, "## sct_network.graphml") {
			t.Error("no section for the GraphML")
		}
		for _, k := range net.graphKeys() {
			if !strings.Contains(out, "| `"+k.name+"` | "+k.domain+" | "+k.typ+" | ") {
				t.Errorf("no row for the %s attribute %s", k.domain, k.name)
			}
		}
	})
	for name, l := range all {
		t.Run(name, func(t *testing.T) {
			head := fmt.Sprintf("## %s.csv\n\n%s. %d variables. Read with `%s.sps` (SPSS), `%s.do` (Stata) or `%s.R` (R).",
				l.Name, cell(l.Title), len(l.Columns), l.Name, l.Name, l.Name)
			if !strings.Contains(out, head) {
				t.Errorf("no section for %s starting %q", l.Name, head)
			}
			for i, n := range StataNames(l) {
				if c := l.Columns[i].Name; n != c && !strings.Contains(out, "`"+c+"` → `"+n+"`") {
					t.Errorf("the codebook does not give %s's Stata name %s", c, n)
				}
			}
			for _, c := range l.Columns {
				line := "| `" + c.Name + "` | " + cell(c.Label) + " | " + c.Kind.String() + " | "
				if !strings.Contains(out, line) {
					t.Errorf("no row for %s starting %q", c.Name, line)
				}
				for _, vl := range c.ValueLabels {
					if !strings.Contains(out, vl.Value+" = "+cell(vl.Label)) {
						t.Errorf("%s: code %s = %s missing", c.Name, vl.Value, vl.Label)
					}
				}
			}
		})
	}
}

func TestDataReturn_ZipHoldsEveryFile(t *testing.T) {
	all := layouts(t)
	ps := store.Response{ID: "p1", Form: "practice-summary", Version: "2", ChildID: "C9", Site: "A",
		Group: "lifelong_links", CompletedOn: "2019-09-01", Mode: "online",
		Answers: map[string]any{"objectives": []any{map[string]any{"category": "mother", "description": "Mum Gwendolyn"}}}}
	responses := func(rs ...store.Response) func(*Writer) error {
		return func(w *Writer) error {
			for _, r := range rs {
				if err := w.Response(r); err != nil {
					return err
				}
			}
			return nil
		}
	}
	yes := true
	reg := registry(t)
	net := must[*Network](t)(NewNetwork(reg.Versions("sct")))
	parts := []Part{
		{Layout: all["sct_wide"], Rows: responses(sctResponse(fullSCT()), sctResponse(nil))},
		{Layout: all["sct_long"], Rows: responses(sctResponse(fullSCT()))},
		{Layout: net.Nodes, Rows: responses(sctResponse(fullSCT()))},
		{Layout: net.Edges, Rows: responses(sctResponse(fullSCT()))},
		{Network: net, Graphs: func(g *GraphWriter) error { return g.Response(sctResponse(fullSCT())) }},
		{Layout: all["practice_summary_wide"], Rows: responses(ps)},
		{Layout: all["practice_summary_long"], Rows: responses()},
		{Layout: all["participation"], Rows: func(w *Writer) error {
			return w.Participation(Participation{ChildID: "C123", Site: "A", Group: "lifelong_links", Participating: &yes})
		}},
	}
	made := time.Date(2019, 10, 1, 9, 30, 0, 0, time.UTC)
	var buf bytes.Buffer
	if err := DataReturn(&buf, About{Site: "A", From: "2019-04-01", To: "2019-09-30", Made: made}, parts...); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"sct_wide.csv", "sct_wide.sps", "sct_wide.do", "sct_wide.R", "sct_long.csv", "sct_long.sps", "sct_long.do", "sct_long.R",
		"sct_nodes.csv", "sct_nodes.sps", "sct_nodes.do", "sct_nodes.R", "sct_edges.csv", "sct_edges.sps", "sct_edges.do", "sct_edges.R",
		"sct_network.graphml",
		"practice_summary_wide.csv", "practice_summary_wide.sps", "practice_summary_wide.do", "practice_summary_wide.R",
		"practice_summary_long.csv", "practice_summary_long.sps", "practice_summary_long.do", "practice_summary_long.R",
		"participation.csv", "participation.sps", "participation.do", "participation.R", "codebook.md", "README.txt",
	}
	files := map[string][]byte{}
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		files[f.Name], err = io.ReadAll(rc)
		if err != nil {
			t.Fatal(err)
		}
		rc.Close()
		if !f.Modified.Equal(made) {
			t.Errorf("%s modified %v, want %v", f.Name, f.Modified, made)
		}
	}
	if !slices.Equal(names, want) || !slices.Equal(Files(parts...), want) {
		t.Errorf("zip holds %v\nFiles says %v\nwant %v", names, Files(parts...), want)
	}
	wantRows := map[string]int{"sct_wide": 2, "sct_long": 5, "sct_nodes": 5, "sct_edges": 4, "practice_summary_wide": 1,
		"practice_summary_long": 0, "participation": 1}
	for _, p := range parts {
		name := p.Name()
		t.Run(name, func(t *testing.T) {
			if p.Network != nil {
				doc, errs := exporttest.ReadGraphML(files[name+".graphml"])
				if len(errs) > 0 || len(doc.Graphs) != 1 || len(doc.Graphs[0].Nodes) != 5 {
					t.Errorf("%s.graphml: %v", name, errs)
				}
				if !bytes.Contains(files["codebook.md"], []byte("## "+name+".graphml")) ||
					!bytes.Contains(files["README.txt"], []byte(name+".graphml  ")) {
					t.Errorf("the codebook or README does not list %s.graphml", name)
				}
				return
			}
			if s := parseStata(t, string(files[name+".do"])); s.file != name+".csv" || len(s.names) != len(p.Layout.Columns) {
				t.Errorf("%s.do reads %q with %d variables", name, s.file, len(s.names))
			}
			if r := string(files[name+".R"]); !strings.Contains(r, name+" <- local({") || !strings.Contains(r, `read.csv("`+name+`.csv"`) {
				t.Errorf("%s.R does not read %s.csv into %s", name, name, name)
			}
			if rows := records(t, p.Layout, files[name+".csv"]); len(rows) != wantRows[name] {
				t.Errorf("%d rows, want %d", len(rows), wantRows[name])
			}
			if s := parseSPSS(t, string(files[name+".sps"])); s.file != name+".csv" || len(s.variables) != len(p.Layout.Columns) {
				t.Errorf("%s.sps reads %q with %d variables", name, s.file, len(s.variables))
			}
			if !bytes.Contains(files["codebook.md"], []byte("## "+name+".csv")) {
				t.Errorf("codebook has no section for %s", name)
			}
			if !bytes.Contains(files["README.txt"], []byte(fmt.Sprintf("%s.csv  ", name))) ||
				!bytes.Contains(files["README.txt"], []byte(fmt.Sprintf("; %d rows.", wantRows[name]))) {
				t.Errorf("README does not list %s with its rows", name)
			}
		})
	}
	readme := string(files["README.txt"])
	for _, s := range []string{"Site:   A", "Period: 2019-04-01 to 2019-09-30", "Made:   2019-10-01 09:30:00 UTC"} {
		if !strings.Contains(readme, s) {
			t.Errorf("README lacks %q:\n%s", s, readme)
		}
	}
	for _, secret := range []string{"Nanna", "Kowalski", "Zebedee", "Philomena", "Gwendolyn", "Shaniqua", "Bernadette", "boxing", "lollipop"} {
		for name, data := range files {
			if bytes.Contains(data, []byte(secret)) {
				t.Errorf("%s holds %q", name, secret)
			}
		}
	}
	if got := (About{Site: "A", From: "2019-04-01", To: "2019-09-30"}).FileName(); got != "data_return_a_2019_04_01_2019_09_30.zip" {
		t.Errorf("FileName() = %q", got)
	}
}

func TestDataReturn_RejectsBadParts(t *testing.T) {
	all := layouts(t)
	none := func(*Writer) error { return nil }
	failing := func(*Writer) error { return errors.New("cursor broke") }
	net := must[*Network](t)(NewNetwork(registry(t).Versions("sct")))
	graphs := func(*GraphWriter) error { return nil }
	renamed := *all["sct_wide"]
	renamed.Name = "../evil"
	tests := []struct {
		name  string
		parts []Part
		want  string
	}{
		{"the same name twice", []Part{{Layout: all["sct_wide"], Rows: none}, {Layout: all["sct_wide"], Rows: none}}, "two parts"},
		{"an unsafe name", []Part{{Layout: &renamed, Rows: none}}, "safe file name"},
		{"no rows callback", []Part{{Layout: all["sct_wide"], Rows: nil}}, "needs"},
		{"a layout and a network", []Part{{Layout: all["sct_wide"], Rows: none, Network: net, Graphs: graphs}}, "needs"},
		{"no graphs callback", []Part{{Network: net}}, "needs"},
		{"graphs that fail", []Part{{Network: net, Graphs: func(*GraphWriter) error { return errors.New("cursor broke") }}}, "cursor broke"},
		{"rows that fail", []Part{{Layout: all["sct_wide"], Rows: failing}}, "cursor broke"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := DataReturn(io.Discard, About{Site: "A"}, tt.parts...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}

// countingWriter counts the bytes that reach it.
type countingWriter struct{ n int }

func (c *countingWriter) Write(p []byte) (int, error) { c.n += len(p); return len(p), nil }

func TestWriter_StreamsWithoutGrowingMemory(t *testing.T) {
	all := layouts(t)
	tests := []struct {
		name   string
		layout *Layout
	}{
		{"wide", all["sct_wide"]},
		{"long", all["sct_long"]},
	}
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := &countingWriter{}
			w := must[*Writer](t)(NewWriter(out, tt.layout))
			r := sctResponse(fullSCT())
			rows := func(n int) {
				for range n {
					if err := w.Response(r); err != nil {
						t.Fatal(err)
					}
				}
			}
			rows(1_000)
			before, written := heap(), out.n
			rows(19_000)
			after := heap()
			// Holding the 19,000 further rows would take megabytes; a
			// streaming writer keeps one row and the CSV buffer.
			if after > before+1<<20 {
				t.Errorf("heap grew from %d to %d bytes over 19,000 rows", before, after)
			}
			if out.n-written < 19_000*100 {
				t.Errorf("only %d bytes reached the output before Flush", out.n-written)
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			runtime.KeepAlive(w)
		})
	}
}

// The wide files say which language each form was completed in, in the
// CSV, its SPSS syntax and the codebook; the codes beside it are the same
// in every language.
func TestWide_LanguageColumn(t *testing.T) {
	reg := registry(t)
	l := must[*Layout](t)(Wide(reg.Versions("sct")))
	english := sctResponse(fullSCT())
	english.ID, english.Language = "3f1c2d9e-0000-4000-8000-000000000002", ""
	rows := records(t, l, write(t, l, sctResponse(fullSCT()), english))
	if len(rows) != 2 {
		t.Fatalf("%d rows, want 2", len(rows))
	}
	col := slices.IndexFunc(l.Columns, func(c Column) bool { return c.Name == "language" })
	if col < 0 || l.Columns[col].Kind != String {
		t.Fatalf("no string column language in %s", l.Name)
	}
	if rows[0]["language"] != "ar" || rows[1]["language"] != "en" {
		t.Errorf("languages %q, %q; want ar, and en for a record made before languages were kept", rows[0]["language"], rows[1]["language"])
	}
	for name, v := range rows[0] {
		if name != "language" && name != "response_id" && v != rows[1][name] {
			t.Errorf("%s: %q in Arabic, %q in English; codes never change with the language", name, v, rows[1][name])
		}
	}
	var sps, book bytes.Buffer
	if err := SPSS(&sps, l, "sct_wide.csv"); err != nil {
		t.Fatal(err)
	}
	if s := parseSPSS(t, sps.String()); !strings.HasPrefix(s.formats["language"], "A") || !strings.Contains(s.varLabels["language"], "Language completed in") {
		t.Errorf("SPSS: language format %q label %q", s.formats["language"], s.varLabels["language"])
	}
	if err := Codebook(&book, Part{Layout: l}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(book.String(), "| `language` | Language completed in") {
		t.Errorf("the codebook does not list language:\n%s", book.String())
	}
	if long := must[*Layout](t)(Long(reg.Versions("sct"))); slices.ContainsFunc(long.Columns, func(c Column) bool { return c.Name == "language" }) {
		t.Error("the long file repeats the language on every item; it belongs to the wide file")
	}
}
