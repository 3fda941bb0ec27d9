package stats

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

// Field, A. (2009). Discovering Statistics Using SPSS (3rd ed.), ch. 15, Drug.sav: Beck
// Depression Inventory scores of 10 ecstasy users and 10 alcohol users on the Sunday after
// a night out and on the following Wednesday. Field prints SPSS's output for them:
//
//	Mann-Whitney, Sunday:     U = 35.5, W = 90.5, Z = −1.105, p = .269
//	Mann-Whitney, Wednesday:  U = 4.0,  W = 59.0, Z = −3.48,  p < .001
//	Wilcoxon, ecstasy users:  T = 36, Z = −2.527 (based on negative ranks), p = .012
//	Wilcoxon, alcohol users:  T = 8,  Z = −1.990 (based on positive ranks), p = .047
//	Medians, ecstasy users:   Sunday 17.50, Wednesday 33.50
var (
	ecstasySunday    = []float64{15, 35, 16, 18, 19, 17, 27, 16, 13, 20}
	ecstasyWednesday = []float64{28, 35, 35, 24, 39, 32, 27, 29, 36, 35}
	alcoholSunday    = []float64{16, 15, 20, 15, 16, 13, 14, 19, 18, 18}
	alcoholWednesday = []float64{5, 6, 30, 8, 9, 7, 6, 17, 3, 10}
)

// published is how close a figure must come to a value published to 3 decimals.
const published = 5e-4

func checkNear(t *testing.T, what string, got *float64, want *float64, tol float64) {
	t.Helper()
	switch {
	case want == nil && got != nil:
		t.Errorf("%s = %v, want nil", what, *got)
	case want != nil && got == nil:
		t.Errorf("%s = nil, want %v", what, *want)
	case want != nil && math.Abs(*got-*want) > tol:
		t.Errorf("%s = %.6f, want %.6f (±%g)", what, *got, *want, tol)
	}
}

func f(x float64) *float64 { return &x }

// frac divides at run time: untyped constant expressions such as 2.0/3 − 1.0/3 are exact
// in Go, and would hide the rounding that real shares carry.
func frac(num, den int) float64 { return float64(num) / float64(den) }

func TestDescribe(t *testing.T) {
	tests := []struct {
		name string
		xs   []float64
		want Description
	}{
		{
			// Field (2009) prints the median 17.50. By hand: sorted 13 15 16 16 17 | 18 19
			// 20 27 35, median (17+18)/2; Σx = 196, mean 19.6; Σ(x−19.6)² = 392.4,
			// SD = √(392.4/9) = √43.6.
			name: "even count takes the mean of the middle two (Field's ecstasy Sunday scores)",
			xs:   ecstasySunday,
			want: Description{N: 10, Mean: f(19.6), SD: f(math.Sqrt(43.6)), Median: f(17.5), Min: f(13), Max: f(35)},
		},
		{
			name: "even count, Field's ecstasy Wednesday median 33.50",
			xs:   ecstasyWednesday,
			// Σx = 320; Σ(x−32)² = 16+9+9+64+49+0+25+9+16+9 = 206, SD = √(206/9).
			want: Description{N: 10, Mean: f(32), SD: f(math.Sqrt(206.0 / 9)), Median: f(33.5), Min: f(24), Max: f(39)},
		},
		{
			// Sorted 1 2 3 4 10: median 3, mean 4, Σ(x−4)² = 9+4+1+0+36 = 50, SD = √12.5.
			name: "odd count takes the middle value",
			xs:   []float64{3, 1, 2, 10, 4},
			want: Description{N: 5, Mean: f(4), SD: f(math.Sqrt(12.5)), Median: f(3), Min: f(1), Max: f(10)},
		},
		{
			name: "one value has no SD",
			xs:   []float64{7},
			want: Description{N: 1, Mean: f(7), Median: f(7), Min: f(7), Max: f(7)},
		},
		{
			name: "no values gives nils",
			xs:   nil,
			want: Description{},
		},
		{
			name: "non-finite values are left out as missing",
			xs:   []float64{1, math.NaN(), 3, math.Inf(1)},
			want: Description{N: 2, Mean: f(2), SD: f(math.Sqrt2), Median: f(2), Min: f(1), Max: f(3)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Describe(tt.xs)
			if got.N != tt.want.N {
				t.Errorf("N = %d, want %d", got.N, tt.want.N)
			}
			checkNear(t, "Mean", got.Mean, tt.want.Mean, 1e-12)
			checkNear(t, "SD", got.SD, tt.want.SD, 1e-12)
			checkNear(t, "Median", got.Median, tt.want.Median, 1e-12)
			checkNear(t, "Min", got.Min, tt.want.Min, 0)
			checkNear(t, "Max", got.Max, tt.want.Max, 0)
		})
	}
}

func TestDescribe_DoesNotReorderInput(t *testing.T) {
	xs := []float64{3, 1, 2}
	Describe(xs)
	if xs[0] != 3 || xs[1] != 1 || xs[2] != 2 {
		t.Errorf("input reordered to %v", xs)
	}
}

func TestWilcoxonSignedRank(t *testing.T) {
	tests := []struct {
		name          string
		before, after []float64
		want          SignedRank // Z and P compared separately, within tol
		tol           float64
	}{
		{
			// Field (2009): T = 36, Z = −2.527 based on negative ranks, p = .012. By hand:
			// d = 13 0 19 6 20 15 0 13 23 15, two zeros dropped, all 8 others positive.
			// |d| ranks: 6→1, 13 13→2.5, 15 15→4.5, 19→6, 20→7, 23→8; W+ = 36, W− = 0.
			// mean 8·9/4 = 18; var 8·9·17/24 − (6+6)/48 = 51 − 0.25 = 50.75;
			// z = (36−18)/√50.75 = 2.5267; SPSS prints −|z|, here the sign says "went up".
			name:   "zeros dropped and ties averaged (Field's ecstasy users, published)",
			before: ecstasySunday, after: ecstasyWednesday,
			want: SignedRank{N: 8, Positive: 8, Negative: 0, Zeros: 2, WPlus: 36, WMinus: 0, Z: f(2.527), P: f(0.012)},
			tol:  published,
		},
		{
			// Field (2009): T = 8, Z = −1.990 based on positive ranks, p = .047. By hand:
			// d = −11 −9 10 −7 −7 −6 −8 −2 −15 −8; |d| ranks 2→1, 6→2, 7 7→3.5, 8 8→5.5,
			// 9→7, 10→8, 11→9, 15→10; W+ = 8 (the only rise), W− = 47.
			// mean 27.5; var 10·11·21/24 − 12/48 = 96.25 − 0.25 = 96; z = −19.5/√96 = −1.9902.
			name:   "negative z when values fell (Field's alcohol users, published)",
			before: alcoholSunday, after: alcoholWednesday,
			want: SignedRank{N: 10, Positive: 1, Negative: 9, Zeros: 0, WPlus: 8, WMinus: 47, Z: f(-1.990), P: f(0.047)},
			tol:  published,
		},
		{
			// Computed by hand: d = 15 −7 5 20 0 −9 17 −12 5 −10; one zero; |d| ranks
			// 5 5→1.5, 7→3, 9→4, 10→5, 12→6, 15→7, 17→8, 20→9; W+ = 1.5+1.5+7+8+9 = 27,
			// W− = 3+4+5+6 = 18; mean 9·10/4 = 22.5; var 9·10·19/24 − 6/48 = 71.125;
			// z = 4.5/√71.125 = 0.533582; p = 2Φ(−0.533582) = 0.593631.
			name:   "one zero and one tie, hand computed",
			before: []float64{110, 122, 125, 120, 140, 124, 123, 137, 135, 145},
			after:  []float64{125, 115, 130, 140, 140, 115, 140, 125, 140, 135},
			want:   SignedRank{N: 9, Positive: 5, Negative: 4, Zeros: 1, WPlus: 27, WMinus: 18, Z: f(4.5 / math.Sqrt(71.125)), P: f(0.593631)},
			tol:    1e-6,
		},
		{
			// Shares 1/3→2/3 and 2/3→1 both rise by a third, though the two float64
			// differences are not equal; 1→3/4 falls by a quarter. Ranks 0.25→1,
			// ⅓ ⅓→2.5: W+ = 5, W− = 1; var 3·4·7/24 − 6/48 = 3.375; z = 2/√3.375.
			// Without the tie the variance would be 3.5 and z 1.0690.
			name:   "equal fractions that differ in the last bit still tie",
			before: []float64{frac(1, 3), frac(2, 3), 1},
			after:  []float64{frac(2, 3), 1, frac(3, 4)},
			want:   SignedRank{N: 3, Positive: 2, Negative: 1, WPlus: 5, WMinus: 1, Z: f(2 / math.Sqrt(3.375)), P: f(math.Erfc(2 / math.Sqrt(3.375) / math.Sqrt2))},
			tol:    1e-12,
		},
		{
			// n = 1: mean 0.5, var 1·2·3/24 = 0.25, z = 0.5/0.5 = 1, p = 2Φ(−1).
			name:   "a single change still has a z",
			before: []float64{4, 2}, after: []float64{4, 3},
			want: SignedRank{N: 1, Positive: 1, Zeros: 1, WPlus: 1, Z: f(1), P: f(math.Erfc(1 / math.Sqrt2))},
			tol:  1e-12,
		},
		{
			name:   "all differences zero gives nil z and p",
			before: []float64{1, 2, 3}, after: []float64{1, 2, 3},
			want: SignedRank{Zeros: 3},
		},
		{
			name: "no pairs gives nil z and p",
			want: SignedRank{},
		},
		{
			name:   "a pair with a missing value is left out",
			before: []float64{1, math.NaN(), 3}, after: []float64{2, 5, 3},
			want: SignedRank{N: 1, Positive: 1, Zeros: 1, WPlus: 1, Z: f(1), P: f(math.Erfc(1 / math.Sqrt2))},
			tol:  1e-12,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := WilcoxonSignedRank(tt.before, tt.after)
			if err != nil {
				t.Fatal(err)
			}
			w := tt.want
			if got.N != w.N || got.Positive != w.Positive || got.Negative != w.Negative || got.Zeros != w.Zeros {
				t.Errorf("counts n/+/−/0 = %d/%d/%d/%d, want %d/%d/%d/%d",
					got.N, got.Positive, got.Negative, got.Zeros, w.N, w.Positive, w.Negative, w.Zeros)
			}
			if got.WPlus != w.WPlus || got.WMinus != w.WMinus {
				t.Errorf("W+/W− = %v/%v, want %v/%v", got.WPlus, got.WMinus, w.WPlus, w.WMinus)
			}
			checkNear(t, "Z", got.Z, w.Z, tt.tol)
			checkNear(t, "P", got.P, w.P, tt.tol)
		})
	}
}

func TestWilcoxonSignedRank_RejectsUnequalLengths(t *testing.T) {
	if _, err := WilcoxonSignedRank([]float64{1, 2}, []float64{1}); err == nil {
		t.Fatal("no error for 2 before values and 1 after value")
	}
}

func TestMannWhitneyU(t *testing.T) {
	// NAG Library, g08amc/g08akf example: group 1 (n = 16) and group 2 (n = 23), many ties.
	// NAG publishes the ranks, U = 86.0000 and, with a 0.5 continuity correction, the
	// normal statistic −2.8039. By hand: R1 = 222 from the published ranks, U1 = 222 − 136 = 86,
	// U2 = 368 − 86 = 282; tie groups of 2,5,4,7,2,6,4,3,3 give Σ(t³−t) = 846;
	// σ² = 368/12·(40 − 846/(39·38)) = 1209.1606, σ = 34.77299;
	// SPSS's uncorrected z = (86−184)/σ = −2.818280 and p = .004828; NAG's corrected
	// (86−184+0.5)/σ = −2.8039 checks the same σ.
	nag1 := []float64{13, 6, 12, 7, 12, 7, 10, 7, 10, 7, 16, 7, 10, 8, 9, 8}
	nag2 := []float64{17, 6, 10, 8, 15, 8, 15, 10, 15, 10, 14, 10, 14, 11, 14, 11, 13, 12, 13, 12, 13, 12, 12}

	tests := []struct {
		name string
		a, b []float64
		want RankSum
		tol  float64
	}{
		{
			// Field (2009), published U = 35.5, W = 90.5, Z = −1.105, p = .269. By hand:
			// ecstasy ranks 1.5 5 8.5 8.5 11 13 15.5 17.5 19 20 sum to 119.5, alcohol 90.5;
			// U = 90.5 − 55 = 35.5; ties 2,3,4,3,2,2 give Σ(t³−t) = 126;
			// σ² = 100/12·(21 − 126/380) = 172.2368; z = −14.5/13.1239 = −1.1049.
			name: "ties corrected (Field's Sunday scores, published)",
			a:    ecstasySunday, b: alcoholSunday,
			want: RankSum{N1: 10, N2: 10, MeanRank1: 11.95, MeanRank2: 9.05, U: 35.5, W: 90.5, Z: f(-1.105), P: f(0.269)},
			tol:  published,
		},
		{
			// Field (2009), published U = 4, W = 59, Z = −3.48, p < .001. By hand: alcohol
			// ranks 1 2 3.5 3.5 5 6 7 8 9 14 sum to 59; U = 4; ties 2,3 give Σ(t³−t) = 30;
			// σ² = 100/12·(21 − 30/380) = 174.3421; z = −46/13.2039 = −3.4838; p = .000494.
			name: "a large difference (Field's Wednesday scores, published)",
			a:    ecstasyWednesday, b: alcoholWednesday,
			want: RankSum{N1: 10, N2: 10, MeanRank1: 15.1, MeanRank2: 5.9, U: 4, W: 59, Z: f(-3.4838), P: f(0.000494)},
			tol:  published,
		},
		{
			name: "unequal groups with many ties (NAG example)",
			a:    nag1, b: nag2,
			want: RankSum{N1: 16, N2: 23, MeanRank1: 222.0 / 16, MeanRank2: (780.0 - 222) / 23, U: 86, W: 222, Z: f(-2.818280), P: f(0.004828)},
			tol:  1e-6,
		},
		{
			name: "an empty group gives nil z and p",
			a:    []float64{1, 2}, b: nil,
			want: RankSum{N1: 2, N2: 0, MeanRank1: 1.5, U: 0, W: 0},
		},
		{
			name: "two empty groups give nil z and p",
			want: RankSum{},
		},
		{
			// Ranks 2 2 | 2: R1 = 4, U1 = 4 − 3 = 1, U2 = 2 − 1 = 1, W the second group's 2.
			name: "all values tied gives nil z and p",
			a:    []float64{5, 5}, b: []float64{5},
			want: RankSum{N1: 2, N2: 1, MeanRank1: 2, MeanRank2: 2, U: 1, W: 2},
		},
		{
			// Ranks 1 | 2: U1 = 0, W = R1 = 1; σ² = 1/12·3 = 0.25; z = (0 − 0.5)/0.5 = −1.
			name: "non-finite values are left out",
			a:    []float64{1, math.NaN()}, b: []float64{2, math.Inf(-1)},
			want: RankSum{N1: 1, N2: 1, MeanRank1: 1, MeanRank2: 2, U: 0, W: 1, Z: f(-1), P: f(math.Erfc(1 / math.Sqrt2))},
			tol:  1e-12,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := MannWhitneyU(tt.a, tt.b)
			w := tt.want
			if got.N1 != w.N1 || got.N2 != w.N2 || got.U != w.U || got.W != w.W {
				t.Errorf("n1/n2/U/W = %d/%d/%v/%v, want %d/%d/%v/%v", got.N1, got.N2, got.U, got.W, w.N1, w.N2, w.U, w.W)
			}
			if math.Abs(got.MeanRank1-w.MeanRank1) > 1e-12 || math.Abs(got.MeanRank2-w.MeanRank2) > 1e-12 {
				t.Errorf("mean ranks = %v/%v, want %v/%v", got.MeanRank1, got.MeanRank2, w.MeanRank1, w.MeanRank2)
			}
			checkNear(t, "Z", got.Z, w.Z, tt.tol)
			checkNear(t, "P", got.P, w.P, tt.tol)
		})
	}

	t.Run("NAG's continuity-corrected statistic follows from the same variance", func(t *testing.T) {
		got := MannWhitneyU(nag1, nag2)
		corrected := *got.Z * (98 - 0.5) / 98 // (U − mean + ½)/σ = z·(|U − mean| − ½)/|U − mean|
		checkNear(t, "corrected z", &corrected, f(-2.8039), 5e-5)
	})
}

func TestStuartMaxwell(t *testing.T) {
	tests := []struct {
		name     string
		table    [][]int
		wantChi2 *float64
		wantDF   int
		wantP    *float64
		tol      float64
		note     string // a fragment the note must contain; "" means no note
	}{
		{
			// Stuart (1955), unaided distance vision of 7477 women, right eye (rows) by
			// left eye; the statistic is published as 11.96 on 3 df (Stuart 1955; R coin's
			// vision data: "Asymptotic Stuart(-Maxwell) test (Q = 11.96)"). By hand:
			// d = (1976−1907, 2256−2222, 2456−2507) = (69, 34, −51);
			// S = [[843 −500 −241] [−500 1454 −794] [−241 −794 1419]]; dᵀS⁻¹d = 11.9566;
			// p = 2(1−Φ(√x)) + √(2x/π)·e^(−x/2) for 3 df = 0.007533.
			name: "four categories (Stuart's vision data, published 11.96)",
			table: [][]int{
				{1520, 266, 124, 66},
				{234, 1512, 432, 78},
				{117, 362, 1772, 205},
				{36, 82, 179, 492},
			},
			wantChi2: f(11.957), wantDF: 3, wantP: f(0.00753), tol: published,
		},
		{
			// R package nonpar, stuart.maxwell(matrix(c(12,30,13,7,70,34,3,20,32),3,3)),
			// published output: test statistic 23.5709322524609, 2 df, p 7.61442467334117e-06.
			name:     "three categories (nonpar's example, published)",
			table:    [][]int{{12, 7, 3}, {30, 70, 20}, {13, 34, 32}},
			wantChi2: f(23.5709322524609), wantDF: 2, wantP: f(7.61442467334117e-06), tol: 1e-9,
		},
		{
			// Two categories reduce to McNemar's test without correction: (5−2)²/(5+2).
			name:     "two categories is McNemar's test",
			table:    [][]int{{10, 5}, {2, 8}},
			wantChi2: f(9.0 / 7), wantDF: 1, wantP: f(math.Erfc(math.Sqrt(9.0/7) / math.Sqrt2)), tol: 1e-12,
		},
		{
			// Nobody moved into or out of category 1; McNemar on categories 2 and 3:
			// d = 7 − 4 = 3, S = 7 + 4 − 2·3 = 5, chi2 = 9/5.
			name:     "a category no pair moved into or out of is left out",
			table:    [][]int{{5, 0, 0}, {0, 3, 4}, {0, 1, 6}},
			wantChi2: f(1.8), wantDF: 1, wantP: f(math.Erfc(math.Sqrt(1.8) / math.Sqrt2)), tol: 1e-12,
			note: "category 1 left out",
		},
		{
			name:  "no off-diagonal counts is singular",
			table: [][]int{{4, 0, 0}, {0, 2, 0}, {0, 0, 7}},
			note:  "no pair changed category",
		},
		{
			name:  "an empty table is singular",
			table: [][]int{{0, 0, 0}, {0, 0, 0}, {0, 0, 0}},
			note:  "no pair changed category",
		},
		{
			name:  "categories with no moves between them are singular",
			table: [][]int{{3, 1, 0, 0}, {2, 3, 0, 0}, {0, 0, 3, 1}, {0, 0, 1, 3}},
			note:  "singular",
		},
		{
			name:  "a ragged table is refused",
			table: [][]int{{1, 2, 3}, {1, 2}, {1, 2, 3}},
			note:  "not square",
		},
		{
			name:  "a single category is refused",
			table: [][]int{{3}},
			note:  "at least two categories",
		},
		{
			name:  "a negative count is refused",
			table: [][]int{{1, -2}, {3, 4}},
			note:  "negative",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := StuartMaxwell(tt.table)
			checkNear(t, "Chi2", got.Chi2, tt.wantChi2, tt.tol)
			checkNear(t, "P", got.P, tt.wantP, tt.tol)
			if got.DF != tt.wantDF {
				t.Errorf("DF = %d, want %d", got.DF, tt.wantDF)
			}
			if tt.note == "" && got.Note != "" {
				t.Errorf("Note = %q, want none", got.Note)
			}
			if !strings.Contains(got.Note, tt.note) {
				t.Errorf("Note = %q, want it to mention %q", got.Note, tt.note)
			}
		})
	}
}

func TestResults_EncodeNilsAsJSONNull(t *testing.T) {
	sr, err := WilcoxonSignedRank(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	v := struct {
		D Description `json:"d"`
		S SignedRank  `json:"s"`
		R RankSum     `json:"r"`
		M Marginal    `json:"m"`
	}{Describe(nil), sr, MannWhitneyU(nil, nil), StuartMaxwell([][]int{{1, 0}, {0, 1}})}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"d":{"n":0,"mean":null,"sd":null,"median":null,"min":null,"max":null},` +
		`"s":{"n":0,"positive":0,"negative":0,"zeros":0,"w_plus":0,"w_minus":0,"z":null,"p":null},` +
		`"r":{"n1":0,"n2":0,"mean_rank1":0,"mean_rank2":0,"u":0,"w":0,"z":null,"p":null},` +
		`"m":{"chi2":null,"df":0,"p":null,"note":"no pair changed category, so there is nothing to test"}}`
	if string(b) != want {
		t.Errorf("JSON\n got %s\nwant %s", b, want)
	}
}
