// Package stats holds the descriptive statistics and the tests evaluators report for the
// paired SCT comparison: the Wilcoxon signed-rank test for paired scores, the Mann-Whitney
// U test for group differences, and the Stuart-Maxwell test of marginal homogeneity for
// paired categories. The tests follow SPSS's asymptotic (normal or chi-squared) versions,
// so figures can be checked against an evaluator's own SPSS output.
//
// A statistic that cannot be computed (too few values, zero variance, a singular matrix)
// is nil, never NaN or ±Inf, so every result encodes as JSON. Non-finite inputs are
// treated as missing values and left out, as SPSS leaves out system-missing values.
//
// The normal and chi-squared distributions come from gonum; the rank tests are written
// here because gonum does not have them.
package stats

import (
	"cmp"
	"math"
	"slices"
)

// Description summarises a sample. Mean, Median, Min and Max are nil when N is 0; SD, the
// sample standard deviation (n−1, as SPSS reports it), is nil when N is below 2.
type Description struct {
	N      int      `json:"n"`
	Mean   *float64 `json:"mean"`
	SD     *float64 `json:"sd"`
	Median *float64 `json:"median"`
	Min    *float64 `json:"min"`
	Max    *float64 `json:"max"`
}

// Describe returns the count, mean, sample SD, median, minimum and maximum of the finite
// values in xs; NaN and ±Inf are left out of every figure, N included.
func Describe(xs []float64) Description {
	ws := make([]Weighted, len(xs))
	for i, x := range xs {
		ws[i] = Weighted{Value: x, N: 1}
	}
	return DescribeOf(ws)
}

// DescribeOf is Describe over values given with how often each occurs.
func DescribeOf(ws []Weighted) Description {
	vals := finiteWeighted(ws)
	slices.SortFunc(vals, func(a, b Weighted) int { return cmp.Compare(a.Value, b.Value) })
	n := 0
	for _, w := range vals {
		n += w.N
	}
	d := Description{N: n}
	if n == 0 {
		return d
	}
	// at is the value at 0-based position i of the sorted sample.
	at := func(i int) float64 {
		for _, w := range vals {
			if i < w.N {
				return w.Value
			}
			i -= w.N
		}
		return vals[len(vals)-1].Value
	}

	var sum float64
	for _, w := range vals {
		sum += float64(w.N) * w.Value
	}
	mean := sum / float64(n)
	d.Mean = ptr(mean)

	median := at(n / 2)
	if n%2 == 0 {
		median = (at(n/2-1) + at(n/2)) / 2
	}
	d.Median = ptr(median)
	d.Min, d.Max = ptr(vals[0].Value), ptr(vals[len(vals)-1].Value)

	if n >= 2 {
		// Two passes: summing squared deviations avoids the cancellation of Σx² − n·mean².
		var ss float64
		for _, w := range vals {
			ss += float64(w.N) * (w.Value - mean) * (w.Value - mean)
		}
		d.SD = ptr(math.Sqrt(ss / float64(n-1)))
	}
	return d
}

func isFinite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

func ptr(x float64) *float64 { return &x }
