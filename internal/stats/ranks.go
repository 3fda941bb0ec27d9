package stats

import (
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/stat/distuv"
)

// SignedRank is the result of a Wilcoxon signed-rank test on paired values. Positive,
// Negative and Zeros count the pairs whose difference (after − before) is above, below or
// equal to zero; N = Positive + Negative is the number of differences ranked. WPlus and
// WMinus are the sums of the ranks of the positive and negative differences.
//
// Z is (WPlus − n(n+1)/4)/σ, so its sign gives the direction: positive when values went up.
// SPSS's legacy NPAR TESTS output prints the same |Z| from the smaller rank sum, always
// negative, with a footnote saying which ranks it is based on. P is two-sided, from the
// normal approximation without continuity correction. Z and P are nil when N is 0.
type SignedRank struct {
	N        int      `json:"n"`
	Positive int      `json:"positive"`
	Negative int      `json:"negative"`
	Zeros    int      `json:"zeros"`
	WPlus    float64  `json:"w_plus"`
	WMinus   float64  `json:"w_minus"`
	Z        *float64 `json:"z"`
	P        *float64 `json:"p"`
}

// WilcoxonSignedRank tests whether paired values changed, as SPSS's Related-Samples
// Wilcoxon Signed Rank Test (NPAR TESTS /WILCOXON, asymptotic) does. before[i] and
// after[i] are one pair; a pair with a non-finite value is left out. Zero differences are
// dropped before ranking, tied |differences| share their average rank, and the variance
// n(n+1)(2n+1)/24 − Σ(t³−t)/48 is corrected for each group of t ties.
func WilcoxonSignedRank(before, after []float64) (SignedRank, error) {
	if len(before) != len(after) {
		return SignedRank{}, fmt.Errorf("stats: signed-rank test needs paired values, got %d before and %d after", len(before), len(after))
	}
	pairs := make([]PairCount, len(before))
	for i, b := range before {
		pairs[i] = PairCount{Before: b, After: after[i], N: 1}
	}
	return SignedRankOf(pairs), nil
}

// PairCount is N pairs with the same values before and after.
type PairCount struct {
	Before, After float64
	N             int
}

// SignedRankOf is WilcoxonSignedRank over pairs given with how often each
// occurs: what a sample of small whole numbers (or of a few fractions) comes
// to, whatever its size. Each of the N pairs ranks as it would alone.
func SignedRankOf(pairs []PairCount) SignedRank {
	var r SignedRank
	// Pairs with the same difference are ranked as one value counted their
	// number of times: a few fractions make many cells.
	type signed struct {
		abs      float64
		positive bool
	}
	at := make(map[signed]int, len(pairs))
	diffs := make([]Weighted, 0, len(pairs))
	positive := make([]bool, 0, len(pairs))
	for _, p := range pairs {
		a, b := p.After, p.Before
		if !isFinite(a) || !isFinite(b) || p.N <= 0 {
			continue
		}
		if tied(a, b) {
			r.Zeros += p.N
			continue
		}
		d := signed{math.Abs(a - b), a > b}
		if i, ok := at[d]; ok {
			diffs[i].N += p.N
			continue
		}
		at[d] = len(diffs)
		diffs = append(diffs, Weighted{Value: d.abs, N: p.N})
		positive = append(positive, d.positive)
	}

	ranks, ties := weightedRanks(diffs)
	for i, rank := range ranks {
		w := diffs[i].N
		if positive[i] {
			r.Positive += w
			r.WPlus += float64(w) * rank
		} else {
			r.Negative += w
			r.WMinus += float64(w) * rank
		}
	}
	return r.tested(ties)
}

// SignedRankOfSteps is SignedRankOf for differences that are whole numbers
// of one step (network sizes, or shares of up to five ratings in sixtieths):
// up[k] pairs went up by k steps and down[k] went down by k (k from 1),
// zeros did not change. Ranks and ties come from the counts in order of k,
// with no sorting, and are the same as SignedRankOf gives for the same
// pairs.
func SignedRankOfSteps(up, down []int, zeros int) SignedRank {
	r := SignedRank{Zeros: zeros}
	var before, ties int64 // differences ranked below k; Σ(t³−t)
	for k := 1; k < max(len(up), len(down)); k++ {
		var u, d int
		if k < len(up) {
			u = up[k]
		}
		if k < len(down) {
			d = down[k]
		}
		t := int64(u + d)
		if t == 0 {
			continue
		}
		// The t tied differences hold ranks before+1 .. before+t.
		rank := float64(2*before+1+t) / 2
		r.Positive, r.WPlus = r.Positive+u, r.WPlus+float64(u)*rank
		r.Negative, r.WMinus = r.Negative+d, r.WMinus+float64(d)*rank
		ties += t*t*t - t
		before += t
	}
	return r.tested(ties)
}

// tested completes a signed-rank test from its rank sums and Σ(t³−t) over
// the groups of t tied differences.
func (r SignedRank) tested(ties int64) SignedRank {
	n := int64(r.Positive + r.Negative)
	r.N = int(n)
	// 48·variance in integers, so the tie correction cannot leave a rounding residue.
	v48 := 2*n*(n+1)*(2*n+1) - ties
	if n == 0 || v48 <= 0 {
		return r
	}
	mean := float64(n*(n+1)) / 4
	z := (r.WPlus - mean) / math.Sqrt(float64(v48)/48)
	r.Z, r.P = ptr(z), ptr(twoSided(z))
	return r
}

// RankSum is the result of a Mann-Whitney U test on two independent samples. MeanRank1
// and MeanRank2 are the mean ranks of the first and second sample in the combined
// ranking (0 for an empty sample). U is the smaller of U1 = R1 − n1(n1+1)/2 and
// U2 = n1·n2 − U1, and Z = (U − n1·n2/2)/σ, so Z is never positive, as SPSS prints it; the
// mean ranks show which sample ranks higher. P is two-sided, from the tie-corrected normal
// approximation without continuity correction. Z and P are nil when either sample is
// empty or every value is tied.
//
// W, Wilcoxon's rank-sum statistic, is the rank sum of the sample whose own U
// (R − n(n+1)/2) is the U reported, and of the second sample when U1 = U2. With equal
// sample sizes that is the smaller rank sum, as in SPSS output (Field 2009, W = 90.5 for
// U = 35.5) and as PSPP computes it; SPSS's syntax reference describes W as the rank sum
// of "the smaller group", which can name the other sample when the sizes differ.
type RankSum struct {
	N1        int      `json:"n1"`
	N2        int      `json:"n2"`
	MeanRank1 float64  `json:"mean_rank1"`
	MeanRank2 float64  `json:"mean_rank2"`
	U         float64  `json:"u"`
	W         float64  `json:"w"`
	Z         *float64 `json:"z"`
	P         *float64 `json:"p"`
}

// MannWhitneyU tests whether two independent samples come from the same distribution, as
// SPSS's NPAR TESTS /M-W (asymptotic) does. Non-finite values are left out. All values are
// ranked together, ties sharing their average rank, and the variance
// n1·n2/12 · ((N+1) − Σ(t³−t)/(N(N−1))) is corrected for each group of t ties.
func MannWhitneyU(a, b []float64) RankSum {
	ones := func(xs []float64) []Weighted {
		out := make([]Weighted, len(xs))
		for i, x := range xs {
			out[i] = Weighted{Value: x, N: 1}
		}
		return out
	}
	return RankSumOf(ones(a), ones(b))
}

// Weighted is N values equal to Value.
type Weighted struct {
	Value float64
	N     int
}

// RankSumOf is MannWhitneyU over samples given as values and how often each
// occurs.
func RankSumOf(a, b []Weighted) RankSum {
	a, b = finiteWeighted(a), finiteWeighted(b)
	var n1, n2 int64
	for _, w := range a {
		n1 += int64(w.N)
	}
	for _, w := range b {
		n2 += int64(w.N)
	}
	r := RankSum{N1: int(n1), N2: int(n2)}

	ranks, ties := weightedRanks(slices.Concat(a, b))
	var r1, r2 float64
	for i, rank := range ranks {
		if i < len(a) {
			r1 += float64(a[i].N) * rank
		} else {
			r2 += float64(b[i-len(a)].N) * rank
		}
	}
	if n1 > 0 {
		r.MeanRank1 = r1 / float64(n1)
	}
	if n2 > 0 {
		r.MeanRank2 = r2 / float64(n2)
	}

	prod := float64(n1 * n2)
	u1 := r1 - float64(n1*(n1+1))/2
	r.U, r.W = prod-u1, r2
	if u1 < r.U {
		r.U, r.W = u1, r1
	}

	n := n1 + n2
	// 12·N(N−1)·variance / (n1·n2), in integers: zero exactly when every value is tied.
	spread := n*n*n - n - ties
	if n1 == 0 || n2 == 0 || spread <= 0 {
		return r
	}
	sd := math.Sqrt(prod * float64(spread) / float64(12*n*(n-1)))
	z := (r.U - prod/2) / sd
	r.Z, r.P = ptr(z), ptr(twoSided(z))
	return r
}

// weightedRanks returns the 1-based rank each value of ws takes in the
// sample they make (each of its N values alike), tied values sharing the
// mean of the ranks they span, and Σ(t³−t) over the groups of t tied
// values. Equal values are always in one group, so a value's rank is its
// group's.
func weightedRanks(ws []Weighted) (ranks []float64, ties int64) {
	type at struct {
		v float64
		i int
	}
	sorted := make([]at, len(ws))
	for i, w := range ws {
		sorted[i] = at{w.Value, i}
	}
	// The values are finite (callers leave the rest out).
	slices.SortFunc(sorted, func(a, b at) int {
		switch {
		case a.v < b.v:
			return -1
		case a.v > b.v:
			return 1
		}
		return 0
	})
	order := make([]int, len(ws))
	for k, s := range sorted {
		order[k] = s.i
	}
	ranks = make([]float64, len(ws))
	var before int64 // values ranked below the group
	for start := 0; start < len(order); {
		end, t := start+1, int64(ws[order[start]].N)
		for end < len(order) && tied(ws[order[end]].Value, ws[order[start]].Value) {
			t += int64(ws[order[end]].N)
			end++
		}
		// The group holds ranks before+1 .. before+t; their mean is (2·before+1+t)/2.
		rank := float64(2*before+1+t) / 2
		for _, i := range order[start:end] {
			ranks[i] = rank
		}
		ties += t*t*t - t
		before += t
		start = end
	}
	return ranks, ties
}

// finiteWeighted returns the values of ws that are finite and occur.
func finiteWeighted(ws []Weighted) []Weighted {
	out := make([]Weighted, 0, len(ws))
	for _, w := range ws {
		if isFinite(w.Value) && w.N > 0 {
			out = append(out, w)
		}
	}
	return out
}

// tieTolerance is the relative difference below which two values count as tied. Shares
// that are equal as fractions can differ in the last bit once subtracted (2/3 − 1/3 and
// 1 − 2/3 are not the same float64), and SPSS would rank them as the tie they are.
const tieTolerance = 1e-12

func tied(a, b float64) bool {
	return a == b || math.Abs(a-b) <= tieTolerance*math.Max(math.Abs(a), math.Abs(b))
}

// twoSided is the two-sided normal tail probability of z, 2·Φ(−|z|).
func twoSided(z float64) float64 {
	return 2 * distuv.UnitNormal.CDF(-math.Abs(z))
}
