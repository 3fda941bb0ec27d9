package summary_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"testing"

	"github.com/lifelong-links/sct/internal/stats"
	"github.com/lifelong-links/sct/internal/summary"
)

// pairedScheme has a support type nobody answers, so its rows must still appear.
func pairedScheme() summary.Scheme {
	return summary.Scheme{Supports: []string{"emotional", "practical", "advice"}}
}

// pairedFixture is six children, four Lifelong Links and two comparison. Per child,
// baseline → follow-up:
//
//	child group  size  adequacy emotional  adequacy practical  emotional ratings 1..4    practical ratings 1..4    let_down 1..4
//	C01   LL     5→8   2→3                 3→3                 [0 1 1 2]→[0 0 1 3]       [0 2 1 0]→[0 1 2 0]       [2 1 0 1]→[3 1 0 0]
//	C02   LL     4→6   1→3                 2→2                 [1 1 0 0]→[0 1 1 0]       [1 0 2 0]→[0 0 1 2]       [1 1 0 0]→[1 0 0 1]
//	C03   LL     7→7   3→3                 3→3                 [0 0 2 1]→[0 0 0 3]       none→none                 none→[0 0 1 0]
//	C04   cmp    6→4   3→2                 1→1                 [0 1 0 1]→[1 1 0 0]       [1 0 0 0]→none            [1 0 1 0]→[0 1 0 0]
//	C05   cmp    3→6   2→skipped           3→3                 none→[0 0 1 0]            [0 0 1 1]→[1 0 1 2]       [1 0 0 0]→[1 0 0 0]
//	C06   LL     0→1   skipped→1           skipped→skipped     none→[0 0 0 1]            none→none                 none→[0 0 0 1]
//
// Nobody answers anything about advice.
func pairedFixture() []summary.Pair {
	in := func(size int, adequacy map[string]int, support map[string][4]int, letDown [4]int) summary.Input {
		return summary.Input{Nominees: size, Adequacy: adequacy, Support: support, LetDown: letDown}
	}
	type ratings = map[string][4]int
	type answers = map[string]int
	return []summary.Pair{
		{ChildID: "C01", Group: "lifelong_links",
			Baseline: in(5, answers{"emotional": 2, "practical": 3}, ratings{"emotional": {0, 1, 1, 2}, "practical": {0, 2, 1, 0}}, [4]int{2, 1, 0, 1}),
			FollowUp: in(8, answers{"emotional": 3, "practical": 3}, ratings{"emotional": {0, 0, 1, 3}, "practical": {0, 1, 2, 0}}, [4]int{3, 1, 0, 0})},
		{ChildID: "C02", Group: "lifelong_links",
			Baseline: in(4, answers{"emotional": 1, "practical": 2}, ratings{"emotional": {1, 1, 0, 0}, "practical": {1, 0, 2, 0}}, [4]int{1, 1, 0, 0}),
			FollowUp: in(6, answers{"emotional": 3, "practical": 2}, ratings{"emotional": {0, 1, 1, 0}, "practical": {0, 0, 1, 2}}, [4]int{1, 0, 0, 1})},
		{ChildID: "C03", Group: "lifelong_links",
			Baseline: in(7, answers{"emotional": 3, "practical": 3}, ratings{"emotional": {0, 0, 2, 1}}, [4]int{}),
			FollowUp: in(7, answers{"emotional": 3, "practical": 3}, ratings{"emotional": {0, 0, 0, 3}}, [4]int{0, 0, 1, 0})},
		{ChildID: "C04", Group: "comparison",
			Baseline: in(6, answers{"emotional": 3, "practical": 1}, ratings{"emotional": {0, 1, 0, 1}, "practical": {1, 0, 0, 0}}, [4]int{1, 0, 1, 0}),
			FollowUp: in(4, answers{"emotional": 2, "practical": 1}, ratings{"emotional": {1, 1, 0, 0}}, [4]int{0, 1, 0, 0})},
		{ChildID: "C05", Group: "comparison",
			Baseline: in(3, answers{"emotional": 2, "practical": 3}, ratings{"practical": {0, 0, 1, 1}}, [4]int{1, 0, 0, 0}),
			FollowUp: in(6, answers{"practical": 3}, ratings{"emotional": {0, 0, 1, 0}, "practical": {1, 0, 1, 2}}, [4]int{1, 0, 0, 0})},
		{ChildID: "C06", Group: "lifelong_links",
			Baseline: in(0, nil, nil, [4]int{}),
			FollowUp: in(1, answers{"emotional": 1}, ratings{"emotional": {0, 0, 0, 1}}, [4]int{0, 0, 0, 1})},
	}
}

func fp(x float64) *float64 { return &x }

// twoSidedP is 2Φ(−|z|), written independently of the stats package.
func twoSidedP(z float64) *float64 { return fp(math.Erfc(math.Abs(z) / math.Sqrt2)) }

func signedRank(n, pos, neg, zeros int, wPlus, wMinus, z float64) stats.SignedRank {
	return stats.SignedRank{N: n, Positive: pos, Negative: neg, Zeros: zeros, WPlus: wPlus, WMinus: wMinus, Z: fp(z), P: twoSidedP(z)}
}

func TestPaired_HandComputedFixture(t *testing.T) {
	want := summary.PairedReport{
		Pairs: 6,
		NetworkSize: summary.PairedNetworkSize{
			// Baseline 5 4 7 6 3 0: Σ = 25, Σx² = 135, Σ(x−m)² = 135 − 625/6 = 185/6, SD² = 185/30;
			// sorted 0 3 4 5 6 7, median (4+5)/2.
			Baseline: stats.Description{N: 6, Mean: fp(25.0 / 6), SD: fp(math.Sqrt(185.0 / 30)), Median: fp(4.5), Min: fp(0), Max: fp(7)},
			// Follow-up 8 6 7 4 6 1: Σ = 32, Σx² = 202, Σ(x−m)² = 202 − 1024/6 = 188/6; median (6+6)/2.
			FollowUp: stats.Description{N: 6, Mean: fp(32.0 / 6), SD: fp(math.Sqrt(188.0 / 30)), Median: fp(6), Min: fp(1), Max: fp(8)},
			// Change 3 2 0 −2 3 1: Σ = 7, Σx² = 27, Σ(x−m)² = 27 − 49/6 = 113/6; sorted −2 0 1 2 3 3.
			Change: stats.Description{N: 6, Mean: fp(7.0 / 6), SD: fp(math.Sqrt(113.0 / 30)), Median: fp(1.5), Min: fp(-2), Max: fp(3)},
			// C03's zero dropped; |d| 1→1, 2 2→2.5, 3 3→4.5. W+ = 4.5+2.5+4.5+1 = 12.5 (C01 C02
			// C05 C06), W− = 2.5 (C04). n = 5: mean 7.5, var 5·6·11/24 − (6+6)/48 = 13.5,
			// z = 5/√13.5 = 1.3608.
			Wilcoxon: signedRank(5, 4, 1, 1, 12.5, 2.5, 5/math.Sqrt(13.5)),
		},
		Adequacy: []summary.PairedAdequacyRow{
			{
				// C05 skipped at follow-up and C06 at baseline: base 4. Rows baseline, columns
				// follow-up: C02 1→3, C01 2→3, C03 3→3, C04 3→2.
				Support: "emotional", Base: 4,
				Table:    [3][3]int{{0, 0, 1}, {0, 0, 1}, {0, 1, 1}},
				Baseline: summary.AdequacyCounts{NoOne: 1, TooFew: 1, Enough: 2},
				FollowUp: summary.AdequacyCounts{NoOne: 0, TooFew: 1, Enough: 3},
				// d = (row1−col1, row2−col2) = (1−0, 1−1) = (1, 0); S = [[1+0−0, −(0+0)], [·, 1+1−0]]
				// = [[1 0] [0 2]]; chi2 = 1²/1 = 1 on 2 df, p = e^(−1/2).
				MarginalHomogeneity: stats.Marginal{Chi2: fp(1), DF: 2, P: fp(math.Exp(-0.5))},
				// d = +1 +2 0 −1; |d| 1 1→1.5, 2→3: W+ = 1.5+3 = 4.5, W− = 1.5; n = 3: mean 3,
				// var 3·4·7/24 − 6/48 = 3.375, z = 1.5/√3.375 = 0.8165.
				Wilcoxon: signedRank(3, 2, 1, 1, 4.5, 1.5, 1.5/math.Sqrt(3.375)),
			},
			{
				// C06 skipped both times: base 5, nobody changed, so no test can be computed.
				Support: "practical", Base: 5,
				Table:               [3][3]int{{1, 0, 0}, {0, 1, 0}, {0, 0, 3}},
				Baseline:            summary.AdequacyCounts{NoOne: 1, TooFew: 1, Enough: 3},
				FollowUp:            summary.AdequacyCounts{NoOne: 1, TooFew: 1, Enough: 3},
				MarginalHomogeneity: stats.StuartMaxwell([][]int{{1, 0, 0}, {0, 1, 0}, {0, 0, 3}}), // its note; nil chi2 checked below
				Wilcoxon:            stats.SignedRank{Zeros: 5},
			},
			{
				Support:             "advice",
				MarginalHomogeneity: stats.StuartMaxwell([][]int{{0, 0, 0}, {0, 0, 0}, {0, 0, 0}}),
			},
		},
		Availability: []summary.PairedAvailabilityRow{
			{
				// C05 and C06 have no emotional ratings at baseline: base 4.
				// Pooled baseline 3+0+3+1 = 7 of 4+2+3+2 = 11; follow-up 4+1+3+0 = 8 of 11.
				// Shares .75→1, 0→.5, 1→1, .5→0: d = +.25 +.5 0 −.5; ranks .25→1, .5 .5→2.5;
				// W+ = 3.5, W− = 2.5; var 3.375; z = 0.5/√3.375.
				Support: "emotional",
				PairedShare: summary.PairedShare{Base: 4, BaselinePercent: fp(700.0 / 11), FollowUpPercent: fp(800.0 / 11),
					Wilcoxon: signedRank(3, 2, 1, 1, 3.5, 2.5, 0.5/math.Sqrt(3.375))},
			},
			{
				// C03 none at baseline, C04 none at follow-up, C06 none: base 3 (C01 C02 C05).
				// Pooled baseline 1+2+2 = 5 of 3+3+2 = 8; follow-up 2+3+3 = 8 of 3+3+4 = 10.
				// Shares 1/3→2/3, 2/3→1, 1→3/4: the two rises of a third tie although their
				// float64 differences are not equal; ranks .25→1, ⅓ ⅓→2.5: W+ = 5, W− = 1;
				// var 3.375; z = 2/√3.375.
				Support: "practical",
				PairedShare: summary.PairedShare{Base: 3, BaselinePercent: fp(62.5), FollowUpPercent: fp(80),
					Wilcoxon: signedRank(3, 2, 1, 0, 5, 1, 2/math.Sqrt(3.375))},
			},
			{Support: "advice"},
		},
		// C03 skipped let_down at baseline, C06 had no key people: base 4.
		// Pooled baseline 1+0+1+0 = 2 of 4+2+2+1 = 9; follow-up 0+1+0+0 = 1 of 4+2+1+1 = 8.
		// Shares .25→0, 0→.5, .5→0, 0→0: d = −.25 +.5 −.5 0; ranks .25→1, .5 .5→2.5;
		// W+ = 2.5, W− = 3.5; z = −0.5/√3.375.
		Strain: summary.PairedShare{Base: 4, BaselinePercent: fp(200.0 / 9), FollowUpPercent: fp(12.5),
			Wilcoxon: signedRank(3, 1, 2, 1, 2.5, 3.5, -0.5/math.Sqrt(3.375))},
		Groups: summary.PairedGroups{
			LifelongLinks: 4, Comparison: 2,
			// Changes LL 3 2 0 1, comparison −2 3. Ranks −2→1, 0→2, 1→3, 2→4, 3 3→5.5:
			// R1 = 2+3+4+5.5 = 14.5, R2 = 1+5.5 = 6.5; U1 = 14.5 − 10 = 4.5, U2 = 6.5 − 3 = 3.5,
			// so U = 3.5 and W = R2 = 6.5. One tie pair: Σ(t³−t) = 6;
			// σ² = 4·2/12·(7 − 6/30) = 8·204/360; z = (3.5 − 4)/σ.
			NetworkSizeChange: &stats.RankSum{N1: 4, N2: 2, MeanRank1: 14.5 / 4, MeanRank2: 6.5 / 2, U: 3.5, W: 6.5,
				Z: fp(-0.5 / math.Sqrt(8*204.0/360)), P: twoSidedP(0.5 / math.Sqrt(8*204.0/360))},
		},
	}

	got := summary.Paired(pairedScheme(), pairedFixture())
	assertJSONNear(t, got, want)

	for _, row := range got.Adequacy[1:] {
		if m := row.MarginalHomogeneity; m.Chi2 != nil || m.P != nil || m.Note == "" {
			t.Errorf("%s: marginal homogeneity = %+v, want nil chi2 and p with a note", row.Support, m)
		}
	}
}

func TestPaired_NoPairsGivesEmptyRowsAndNils(t *testing.T) {
	got := summary.Paired(pairedScheme(), nil)
	b, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Pairs       int `json:"pairs"`
		NetworkSize map[string]struct {
			N    int      `json:"n"`
			Mean *float64 `json:"mean"`
			Z    *float64 `json:"z"`
		} `json:"network_size"`
		Adequacy []struct {
			Support  string          `json:"support"`
			Base     int             `json:"base"`
			Marginal json.RawMessage `json:"marginal_homogeneity"`
		} `json:"adequacy"`
		Availability []struct {
			Support  string   `json:"support"`
			Base     int      `json:"base"`
			Baseline *float64 `json:"baseline_percent"`
		} `json:"availability"`
		Groups struct {
			Change json.RawMessage `json:"network_size_change"`
		} `json:"groups"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Pairs != 0 {
		t.Errorf("pairs = %d, want 0", doc.Pairs)
	}
	for k, v := range doc.NetworkSize {
		if v.N != 0 || v.Mean != nil || v.Z != nil {
			t.Errorf("network_size.%s = %+v, want n 0 and nils", k, v)
		}
	}
	if len(doc.Adequacy) != 3 || len(doc.Availability) != 3 {
		t.Fatalf("got %d adequacy and %d availability rows, want one per support (3)", len(doc.Adequacy), len(doc.Availability))
	}
	for i, s := range pairedScheme().Supports {
		if a := doc.Adequacy[i]; a.Support != s || a.Base != 0 {
			t.Errorf("adequacy[%d] = %s base %d, want %s base 0", i, a.Support, a.Base, s)
		}
		if a := doc.Availability[i]; a.Support != s || a.Base != 0 || a.Baseline != nil {
			t.Errorf("availability[%d] = %+v, want %s base 0 and null percent", i, a, s)
		}
	}
	if string(doc.Groups.Change) != "null" {
		t.Errorf("groups.network_size_change = %s, want null", doc.Groups.Change)
	}
}

func TestPaired_OneGroupOnlyHasNoGroupTest(t *testing.T) {
	pairs := pairedFixture()
	for i := range pairs {
		pairs[i].Group = "lifelong_links"
	}
	pairs = append(pairs, summary.Pair{ChildID: "C07", Group: "unknown"})

	got := summary.Paired(pairedScheme(), pairs)
	if got.Pairs != 7 {
		t.Errorf("pairs = %d, want 7", got.Pairs)
	}
	if g := got.Groups; g.LifelongLinks != 6 || g.Comparison != 0 || g.NetworkSizeChange != nil {
		t.Errorf("groups = %d/%d/%v, want 6/0/nil", g.LifelongLinks, g.Comparison, g.NetworkSizeChange)
	}
}

// TestPaired_JSONFieldNames pins the API's field names.
func TestPaired_JSONFieldNames(t *testing.T) {
	b, err := json.Marshal(summary.Paired(pairedScheme(), pairedFixture()))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	object := func(v any) map[string]any { m, _ := v.(map[string]any); return m }
	first := func(v any) map[string]any { a, _ := v.([]any); return object(a[0]) }

	tests := []struct {
		name string
		obj  map[string]any
		keys []string
	}{
		{"report", doc, []string{"adequacy", "availability", "groups", "network_size", "pairs", "strain"}},
		{"network_size", object(doc["network_size"]), []string{"baseline", "change", "follow_up", "wilcoxon"}},
		{"description", object(object(doc["network_size"])["baseline"]), []string{"max", "mean", "median", "min", "n", "sd"}},
		{"signed rank", object(object(doc["network_size"])["wilcoxon"]), []string{"n", "negative", "p", "positive", "w_minus", "w_plus", "z", "zeros"}},
		{"adequacy row", first(doc["adequacy"]), []string{"base", "baseline", "follow_up", "marginal_homogeneity", "support", "table", "wilcoxon"}},
		{"adequacy counts", object(first(doc["adequacy"])["baseline"]), []string{"enough", "no_one", "too_few"}},
		{"marginal", object(first(doc["adequacy"])["marginal_homogeneity"]), []string{"chi2", "df", "p"}},
		{"availability row", first(doc["availability"]), []string{"base", "baseline_percent", "follow_up_percent", "support", "wilcoxon"}},
		{"strain", object(doc["strain"]), []string{"base", "baseline_percent", "follow_up_percent", "wilcoxon"}},
		{"groups", object(doc["groups"]), []string{"comparison", "lifelong_links", "network_size_change"}},
		{"rank sum", object(object(doc["groups"])["network_size_change"]), []string{"mean_rank1", "mean_rank2", "n1", "n2", "p", "u", "w", "z"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := slices.Sorted(maps.Keys(tt.obj)); !slices.Equal(got, tt.keys) {
				t.Errorf("keys = %v, want %v", got, tt.keys)
			}
		})
	}
}

// assertJSONNear compares got and want as encoded JSON, numbers within 1e-12 relative, so
// the hand-computed expressions need not round exactly as the code does.
func assertJSONNear(t *testing.T, got, want any) {
	t.Helper()
	decode := func(v any) any {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var out any
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	for _, diff := range jsonDiff("$", decode(got), decode(want)) {
		t.Error(diff)
	}
}

func jsonDiff(path string, got, want any) []string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s = %v, want an object", path, got)}
		}
		var diffs []string
		for _, k := range slices.Sorted(maps.Keys(w)) {
			diffs = append(diffs, jsonDiff(path+"."+k, g[k], w[k])...)
		}
		for k := range g {
			if _, ok := w[k]; !ok {
				diffs = append(diffs, fmt.Sprintf("%s.%s unexpected", path, k))
			}
		}
		return diffs
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return []string{fmt.Sprintf("%s = %v, want %v", path, got, want)}
		}
		var diffs []string
		for i := range w {
			diffs = append(diffs, jsonDiff(fmt.Sprintf("%s[%d]", path, i), g[i], w[i])...)
		}
		return diffs
	case float64:
		g, ok := got.(float64)
		if !ok || math.Abs(g-w) > 1e-12*math.Max(1, math.Abs(w)) {
			return []string{fmt.Sprintf("%s = %v, want %v", path, got, want)}
		}
		return nil
	default:
		if got != want {
			return []string{fmt.Sprintf("%s = %v, want %v", path, got, want)}
		}
		return nil
	}
}
