package disclosure

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/lifelong-links/sct/internal/summary"
)

// canonical re-encodes JSON with sorted keys and numbers as written, so two documents
// compare equal exactly when they hold the same values.
func canonical(t *testing.T, doc []byte) string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode %s: %v", doc, err)
	}
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func applyJSON(t *testing.T, report string, threshold int) string {
	t.Helper()
	got, err := Apply(json.RawMessage(report), threshold)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	out, err := json.Marshal(got)
	if err != nil {
		t.Fatalf("encode result: %v", err)
	}
	return canonical(t, out)
}

// Every expectation below is worked by hand at threshold 5.
func TestApply(t *testing.T) {
	tests := []struct {
		name   string
		report string
		want   string
	}{
		{
			name: "adequacy row hides the small cell and the smallest other non-zero cell",
			// no_one 2 < 5 is primary; with it alone hidden, no_one = 20 − 6 − 12, so the
			// smallest remaining non-zero cell, too_few 6, is hidden too.
			report: `{"total":20,"no_one":{"count":2,"percent":10},"too_few":{"count":6,"percent":30},"enough":{"count":12,"percent":60}}`,
			want: `{"total":20,
				"no_one":{"count":null,"percent":null,"suppressed":true},
				"too_few":{"count":null,"percent":null,"suppressed":true},
				"enough":{"count":12,"percent":60},
				"disclosure":{"threshold":5,"suppressed_cells":2}}`,
		},
		{
			name: "adequacy subtotal hidden with its part does not leave the part derivable",
			// too_few 2 and no_one_or_too_few 2 are primary. Among no_one, too_few and
			// enough only too_few is hidden, and too_few = 12 − 10 − 0, so enough goes too.
			report: `{"total":12,"no_one":{"count":0,"percent":0},"too_few":{"count":2,"percent":16.7},
				"enough":{"count":10,"percent":83.3},"no_one_or_too_few":{"count":2,"percent":16.7}}`,
			want: `{"total":12,"no_one":{"count":0,"percent":0},
				"too_few":{"count":null,"percent":null,"suppressed":true},
				"enough":{"count":null,"percent":null,"suppressed":true},
				"no_one_or_too_few":{"count":null,"percent":null,"suppressed":true},
				"disclosure":{"threshold":5,"suppressed_cells":3}}`,
		},
		{
			name: "adequacy subtotal is hidden when it would give away the rest of the row",
			// enough 3 is primary; no_one 6 (first of the tie) is its complement; then
			// too_few = 12 − no_one and enough = 15 − 12, so too_few and the subtotal go.
			report: `{"total":15,"no_one":{"count":6,"percent":40},"too_few":{"count":6,"percent":40},
				"enough":{"count":3,"percent":20},"no_one_or_too_few":{"count":12,"percent":80}}`,
			want: `{"total":15,
				"no_one":{"count":null,"percent":null,"suppressed":true},
				"too_few":{"count":null,"percent":null,"suppressed":true},
				"enough":{"count":null,"percent":null,"suppressed":true},
				"no_one_or_too_few":{"count":null,"percent":null,"suppressed":true},
				"disclosure":{"threshold":5,"suppressed_cells":4}}`,
		},
		{
			name: "array of rows with one small count hides it and the next smallest",
			report: `{"base":40,"by_relationship":[
				{"relationship":"sibling","count":3,"percent":7.5},
				{"relationship":"grandparent","count":9,"percent":22.5},
				{"relationship":"friend","count":7,"percent":17.5},
				{"relationship":"other","count":0,"percent":0}]}`,
			want: `{"base":40,"by_relationship":[
				{"relationship":"sibling","count":null,"percent":null,"suppressed":true},
				{"relationship":"grandparent","count":9,"percent":22.5},
				{"relationship":"friend","count":null,"percent":null,"suppressed":true},
				{"relationship":"other","count":0,"percent":0}],
				"disclosure":{"threshold":5,"suppressed_cells":2}}`,
		},
		{
			name: "array of rows with two small counts hides just those two",
			report: `{"base":40,"by_relationship":[
				{"relationship":"sibling","count":3,"percent":7.5},
				{"relationship":"grandparent","count":2,"percent":5},
				{"relationship":"friend","count":7,"percent":17.5}]}`,
			want: `{"base":40,"by_relationship":[
				{"relationship":"sibling","count":null,"percent":null,"suppressed":true},
				{"relationship":"grandparent","count":null,"percent":null,"suppressed":true},
				{"relationship":"friend","count":7,"percent":17.5}],
				"disclosure":{"threshold":5,"suppressed_cells":2}}`,
		},
		{
			name: "single small cell among zeros is hidden alone and zeros are untouched",
			report: `{"base":10,"by_relationship":[
				{"relationship":"sibling","count":3,"percent":30},
				{"relationship":"friend","count":0,"percent":0},
				{"relationship":"other","count":0,"percent":0}]}`,
			want: `{"base":10,"by_relationship":[
				{"relationship":"sibling","count":null,"percent":null,"suppressed":true},
				{"relationship":"friend","count":0,"percent":0},
				{"relationship":"other","count":0,"percent":0}],
				"disclosure":{"threshold":5,"suppressed_cells":1}}`,
		},
		{
			name: "zero is never the complementary cell",
			report: `{"base":11,"by_relationship":[
				{"relationship":"sibling","count":3,"percent":27},
				{"relationship":"other","count":0,"percent":0},
				{"relationship":"friend","count":8,"percent":73}]}`,
			want: `{"base":11,"by_relationship":[
				{"relationship":"sibling","count":null,"percent":null,"suppressed":true},
				{"relationship":"other","count":0,"percent":0},
				{"relationship":"friend","count":null,"percent":null,"suppressed":true}],
				"disclosure":{"threshold":5,"suppressed_cells":2}}`,
		},
		{
			name: "small base hides every non-zero count under it however large",
			// Base 4 children; the objectives they set (9, 5) are counts over those 4.
			report: `{"base":4,"by_category":[
				{"category":"family","set":9,"met":6},
				{"category":"education","set":5,"met":0}],
				"all_met":{"count":0,"percent":0}}`,
			want: `{"base":4,"by_category":[
				{"category":"family","set":null,"met":null,"suppressed":true},
				{"category":"education","set":null,"met":0,"suppressed":true}],
				"all_met":{"count":0,"percent":0},
				"disclosure":{"threshold":5,"suppressed_cells":3}}`,
		},
		{
			name:   "base at the threshold is not small",
			report: `{"base":5,"by_category":[{"category":"family","set":9,"met":6}]}`,
			want: `{"base":5,"by_category":[{"category":"family","set":9,"met":6}],
				"disclosure":{"threshold":5,"suppressed_cells":0}}`,
		},
		{
			name: "availability row gives the plain percent to its one unpaired named count",
			// 3 is primary and takes "percent" with it; 27 = 30 − 3 is the complement.
			report: `{"support":"x","base":30,"probably_or_definitely":3,"percent":10,
				"not_at_all_or_not_really":27,"not_at_all_or_not_really_percent":90}`,
			want: `{"support":"x","base":30,"probably_or_definitely":null,"percent":null,
				"not_at_all_or_not_really":null,"not_at_all_or_not_really_percent":null,
				"suppressed":true,"disclosure":{"threshold":5,"suppressed_cells":2}}`,
		},
		{
			name: "named counts without percentages are hidden in place",
			// withdrew 2 and fgc 4 are primary; two hidden, so no complement.
			report: `{"rows":[{"site":"a","children":20,"participating":12,"withdrew":2,"paused":0,"plan_without_fgc":6,"fgc":4}]}`,
			want: `{"rows":[{"site":"a","children":20,"participating":12,"withdrew":null,"paused":0,
				"plan_without_fgc":6,"fgc":null,"suppressed":true}],
				"disclosure":{"threshold":5,"suppressed_cells":2}}`,
		},
		{
			name: "counts maps hide codes with their percentages and flag the holder",
			// In each map genogram 3 is primary and timeline 8 the complement; the tools
			// table's percent map belongs to the total row's counts.
			report: `{"base":20,
				"by_site":[{"site":"a","cases":20,"counts":{"ecomap":20,"genogram":3,"timeline":8},"mean_tools":1.55}],
				"total":{"counts":{"ecomap":20,"genogram":3,"timeline":8},"mean_tools":1.55},
				"percent":{"ecomap":100,"genogram":15,"timeline":40}}`,
			want: `{"base":20,
				"by_site":[{"site":"a","cases":20,"counts":{"ecomap":20,"genogram":null,"timeline":null},"mean_tools":1.55,"suppressed":true}],
				"total":{"counts":{"ecomap":20,"genogram":null,"timeline":null},"mean_tools":1.55,"suppressed":true},
				"percent":{"ecomap":100,"genogram":null,"timeline":null},
				"disclosure":{"threshold":5,"suppressed_cells":4}}`,
		},
		{
			name: "returns hide wave and named counts as separate groups",
			// Named: drafts 1 primary, without_baseline 5 the smallest other. follow_up:
			// wave 2's 3 primary, wave 1's 12 the complement. practice_summary has none.
			report: `{"returns":[{"site":"a","children":30,"baseline":25,"follow_up":{"1":12,"2":3},
				"practice_summary":{"1":0,"2":9},"drafts":1,"due_or_overdue":6,"without_baseline":5}]}`,
			want: `{"returns":[{"site":"a","children":30,"baseline":25,"follow_up":{"1":null,"2":null},
				"practice_summary":{"1":0,"2":9},"drafts":null,"due_or_overdue":6,"without_baseline":null,
				"suppressed":true}],
				"disclosure":{"threshold":5,"suppressed_cells":4}}`,
		},
		{
			name:   "statistics under follow_up are not counts",
			report: `{"pairs":12,"network_size":{"follow_up":{"n":3,"mean":2,"sd":1,"median":2,"min":1,"max":3}}}`,
			want: `{"pairs":12,"network_size":{"follow_up":{"n":3,"mean":2,"sd":1,"median":2,"min":1,"max":3}},
				"disclosure":{"threshold":5,"suppressed_cells":0}}`,
		},
		{
			name: "cross-tabulation protects every row and column",
			// (0,1)=2 is primary. Row 0 then hides 5 at (0,2); column 1 hides 6 at (2,1);
			// column 2, now holding one hidden cell, hides 9 at (2,2). Every row and
			// column then has zero or two hidden cells.
			report: `{"support":"x","base":40,"table":[[6,2,5],[5,7,0],[0,6,9]]}`,
			want: `{"support":"x","base":40,"table":[[6,null,null],[5,7,0],[0,null,null]],"suppressed":true,
				"disclosure":{"threshold":5,"suppressed_cells":4}}`,
		},
		{
			name:   "report that is a cell is suppressed",
			report: `{"count":3,"percent":10}`,
			want:   `{"count":null,"percent":null,"suppressed":true,"disclosure":{"threshold":5,"suppressed_cells":1}}`,
		},
		{
			name:   "report that is an array gets no disclosure member",
			report: `[{"relationship":"a","count":3,"percent":30},{"relationship":"b","count":7,"percent":70}]`,
			want: `[{"relationship":"a","count":null,"percent":null,"suppressed":true},
				{"relationship":"b","count":null,"percent":null,"suppressed":true}]`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := applyJSON(t, tt.report, 5)
			if want := canonical(t, []byte(tt.want)); got != want {
				t.Errorf("got  %s\nwant %s", got, want)
			}
		})
	}
}

func TestApply_ThresholdBelowTwoReturnsReportUnchanged(t *testing.T) {
	const report = `{"total":20,"no_one":{"count":2,"percent":10},"too_few":{"count":6,"percent":30},"enough":{"count":12,"percent":60}}`
	tests := []struct {
		name      string
		threshold int
	}{
		{name: "zero", threshold: 0},
		{name: "one", threshold: 1},
		{name: "negative", threshold: -5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, want := applyJSON(t, report, tt.threshold), canonical(t, []byte(report)); got != want {
				t.Errorf("got  %s\nwant %s", got, want)
			}
		})
	}
}

func TestApply_ReturnsErrorForUnencodableReport(t *testing.T) {
	if _, err := Apply(make(chan int), 5); err == nil {
		t.Fatal("Apply(chan) succeeded; want an encoding error")
	}
}

// TestApply_SCTReportKeepsNoSmallCount runs a real summary through Apply and checks the
// promise evaluators rely on: no visible count between 1 and threshold−1, no percentage
// left beside a hidden count, and suppressed_cells equal to the nulls it left.
func TestApply_SCTReportKeepsNoSmallCount(t *testing.T) {
	scheme := summary.Scheme{
		Relationships: []string{"biological_mother", "sibling", "friend", "other"},
		Supports:      []string{"emotional", "practical"},
	}
	tally := summary.Tally{
		Respondents:       12,
		NamedAnyone:       10,
		NomineeSum:        45,
		NomineeSumSquares: 230,
		Relationships:     map[string]int{"biological_mother": 7, "sibling": 3, "friend": 6},
		NamedKeyPerson:    9,
		KeyRelationships:  map[string]int{"biological_mother": 5, "sibling": 2, "friend": 1},
		Support:           map[string][4]int{"emotional": {1, 2, 8, 14}, "practical": {0, 1, 3, 2}},
		LetDown:           [4]int{10, 8, 3, 1},
		Adequacy:          map[string][3]int{"emotional": {1, 3, 8}, "practical": {0, 2, 10}},
	}
	const threshold = 5
	got, err := Apply(summary.SCT("baseline", scheme, tally), threshold)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	out, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		t.Fatal(err)
	}

	nulls := 0
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for key, m := range v {
				at := path + "." + key
				if key == "count" || namedCount(key) {
					switch m := m.(type) {
					case nil:
						nulls++
						if v["suppressed"] != true {
							t.Errorf("%s is hidden but its object has no suppressed flag", at)
						}
					case json.Number:
						if n, err := m.Int64(); err == nil && n >= 1 && n < threshold {
							t.Errorf("%s = %d is visible; want it hidden", at, n)
						}
					}
				}
				if key == "count" && m == nil && v["percent"] != nil {
					t.Errorf("%s is hidden but percent %v is visible", at, v["percent"])
				}
				walk(at, m)
			}
		case []any:
			for _, e := range v {
				walk(path+"[]", e)
			}
		}
	}
	walk("", doc)

	d, _ := doc["disclosure"].(map[string]any)
	if d == nil {
		t.Fatal("no disclosure member")
	}
	if k, _ := d["suppressed_cells"].(json.Number).Int64(); k != int64(nulls) || k == 0 {
		t.Errorf("suppressed_cells = %d; want the %d hidden counts (and more than none)", k, nulls)
	}

	// A hidden adequacy cell must not follow from what is left visible: try every value
	// of the hidden cells that fits no_one + too_few + enough = total and
	// no_one_or_too_few = no_one + too_few, and require each to have more than one.
	rows, _ := doc["adequacy"].([]any)
	for _, r := range rows {
		row := r.(map[string]any)
		if hiddenCells := undetermined(t, row); len(hiddenCells) > 0 {
			t.Errorf("adequacy %v: hidden %v can be worked out from the visible cells", row["support"], hiddenCells)
		}
	}

	// Strain pools 22 ratings: 4 "probably or definitely" is primary, 18 its complement.
	strain, _ := doc["strain"].(map[string]any)
	for _, key := range []string{"probably_or_definitely", "probably_or_definitely_percent", "not_at_all_or_not_really", "not_at_all_or_not_really_percent"} {
		if strain[key] != nil {
			t.Errorf("strain.%s = %v; want null", key, strain[key])
		}
	}
}

// undetermined returns the hidden cells of an adequacy row that have only one possible value.
func undetermined(t *testing.T, row map[string]any) []string {
	t.Helper()
	keys := []string{"no_one", "too_few", "enough", "no_one_or_too_few"}
	total, err := row["total"].(json.Number).Int64()
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]int64{}
	var hidden []string
	for _, k := range keys {
		switch c := row[k].(map[string]any)["count"].(type) {
		case nil:
			hidden = append(hidden, k)
		case json.Number:
			known[k], _ = c.Int64()
		}
	}
	seen := map[string]map[int64]bool{}
	var try func(i int, v map[string]int64)
	try = func(i int, v map[string]int64) {
		if i == len(hidden) {
			if v["no_one"]+v["too_few"]+v["enough"] == total && v["no_one_or_too_few"] == v["no_one"]+v["too_few"] {
				for _, k := range hidden {
					if seen[k] == nil {
						seen[k] = map[int64]bool{}
					}
					seen[k][v[k]] = true
				}
			}
			return
		}
		for n := int64(0); n <= total; n++ {
			v[hidden[i]] = n
			try(i+1, v)
		}
	}
	try(0, known)
	var fixed []string
	for _, k := range hidden {
		if len(seen[k]) < 2 {
			fixed = append(fixed, k)
		}
	}
	return fixed
}
