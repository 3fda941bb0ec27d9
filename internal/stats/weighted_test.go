package stats

import (
	"math/rand/v2"
	"reflect"
	"testing"
)

// Values given with how often each occurs give what the same values one by
// one give: the counts are how the paired comparison stays cheap at any
// size, so they must not change a figure.
func TestWeighted_SameAsEachValue(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 5))
	for trial := range 200 {
		// Small whole numbers and a few fractions, many ties, as the paired
		// comparison has them.
		value := func() float64 {
			if trial%2 == 0 {
				return float64(r.IntN(9) - 4)
			}
			return float64(r.IntN(4)) / float64(1+r.IntN(3))
		}
		var before, after []float64
		var pairs []PairCount
		var a, b []float64
		var wa, wb []Weighted
		for range 1 + r.IntN(6) {
			p := PairCount{Before: value(), After: value(), N: 1 + r.IntN(4)}
			pairs = append(pairs, p)
			for range p.N {
				before, after = append(before, p.Before), append(after, p.After)
			}
			w := Weighted{Value: value(), N: r.IntN(4)}
			for range w.N {
				a = append(a, w.Value)
			}
			wa = append(wa, w)
			w = Weighted{Value: value(), N: 1 + r.IntN(3)}
			for range w.N {
				b = append(b, w.Value)
			}
			wb = append(wb, w)
		}
		one, err := WilcoxonSignedRank(before, after)
		if err != nil {
			t.Fatal(err)
		}
		if got := SignedRankOf(pairs); !reflect.DeepEqual(got, one) {
			t.Errorf("signed rank of %v: %+v, value by value %+v", pairs, got, one)
		}
		if got, want := RankSumOf(wa, wb), MannWhitneyU(a, b); !reflect.DeepEqual(got, want) {
			t.Errorf("rank sum of %v and %v: %+v, value by value %+v", wa, wb, got, want)
		}
		if got, want := DescribeOf(wa), Describe(a); !sameDescription(got, want) {
			t.Errorf("description of %v: %+v, value by value %+v", wa, got, want)
		}
	}
}

func sameDescription(a, b Description) bool {
	near := func(x, y *float64) bool {
		if x == nil || y == nil {
			return x == y
		}
		d := *x - *y
		return d < 1e-12 && d > -1e-12
	}
	return a.N == b.N && near(a.Mean, b.Mean) && near(a.SD, b.SD) && near(a.Median, b.Median) && near(a.Min, b.Min) && near(a.Max, b.Max)
}

// Counts of differences in whole steps give what the pairs one by one give:
// network sizes (steps of one) and shares of up to five ratings (steps of a
// sixtieth, where fractions equal in value differ in their last bits as
// floats), with and without ties and zeros.
func TestSignedRankOfSteps_SameAsEachPair(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	for trial := range 300 {
		var pairs []PairCount
		up, down := make([]int, 61), make([]int, 61)
		zeros := 0
		for range r.IntN(60) {
			var before, after float64
			var steps int
			if trial%2 == 0 { // network sizes
				b, a := r.IntN(21), r.IntN(21)
				before, after, steps = float64(b), float64(a), a-b
			} else { // shares of high ratings
				nb, na := 1+r.IntN(5), 1+r.IntN(5)
				hb, ha := r.IntN(nb+1), r.IntN(na+1)
				before, after = float64(hb)/float64(nb), float64(ha)/float64(na)
				steps = 60*ha/na - 60*hb/nb
			}
			n := 1 + r.IntN(4)
			pairs = append(pairs, PairCount{Before: before, After: after, N: n})
			switch {
			case steps > 0:
				up[steps] += n
			case steps < 0:
				down[-steps] += n
			default:
				zeros += n
			}
		}
		want, got := SignedRankOf(pairs), SignedRankOfSteps(up, down, zeros)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("trial %d: %d pairs\n got %+v\nwant %+v", trial, len(pairs), got, want)
		}
	}
}
