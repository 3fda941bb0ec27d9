package summary_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/lifelong-links/sct/internal/stats"
	"github.com/lifelong-links/sct/internal/summary"
)

// valueByValue is the paired comparison worked out pair by pair, as the
// evaluation report describes it: the reference the counted form must meet.
func valueByValue(scheme summary.Scheme, pairs []summary.Pair) summary.PairedReport {
	r := summary.PairedReport{Pairs: len(pairs)}
	var before, after, change, ll, cmp []float64
	for _, p := range pairs {
		b, a := float64(max(p.Baseline.Nominees, 0)), float64(max(p.FollowUp.Nominees, 0))
		before, after, change = append(before, b), append(after, a), append(change, a-b)
		switch p.Group {
		case "lifelong_links":
			ll = append(ll, a-b)
		case "comparison":
			cmp = append(cmp, a-b)
		}
	}
	w, _ := stats.WilcoxonSignedRank(before, after)
	r.NetworkSize = summary.PairedNetworkSize{Baseline: stats.Describe(before), FollowUp: stats.Describe(after), Change: stats.Describe(change), Wilcoxon: w}
	for _, s := range scheme.Supports {
		row := summary.PairedAdequacyRow{Support: s}
		var bs, as []float64
		for _, p := range pairs {
			b, a := p.Baseline.Adequacy[s], p.FollowUp.Adequacy[s]
			if b < 1 || b > 3 || a < 1 || a > 3 {
				continue
			}
			row.Base++
			row.Table[b-1][a-1]++
			bs, as = append(bs, float64(b)), append(as, float64(a))
		}
		t := row.Table
		row.Baseline = summary.AdequacyCounts{NoOne: t[0][0] + t[0][1] + t[0][2], TooFew: t[1][0] + t[1][1] + t[1][2], Enough: t[2][0] + t[2][1] + t[2][2]}
		row.FollowUp = summary.AdequacyCounts{NoOne: t[0][0] + t[1][0] + t[2][0], TooFew: t[0][1] + t[1][1] + t[2][1], Enough: t[0][2] + t[1][2] + t[2][2]}
		row.MarginalHomogeneity = stats.StuartMaxwell([][]int{t[0][:], t[1][:], t[2][:]})
		row.Wilcoxon, _ = stats.WilcoxonSignedRank(bs, as)
		r.Adequacy = append(r.Adequacy, row)
	}
	share := func(ratings func(summary.Input) [4]int) summary.PairedShare {
		var s summary.PairedShare
		var bs, as []float64
		var hb, nb, ha, na int
		high := func(c [4]int) (int, int) {
			h, n := 0, 0
			for i, x := range c {
				x = max(x, 0)
				n += x
				if i >= 2 {
					h += x
				}
			}
			return h, n
		}
		for _, p := range pairs {
			h1, n1 := high(ratings(p.Baseline))
			h2, n2 := high(ratings(p.FollowUp))
			if n1 == 0 || n2 == 0 {
				continue
			}
			s.Base++
			hb, nb, ha, na = hb+h1, nb+n1, ha+h2, na+n2
			bs, as = append(bs, float64(h1)/float64(n1)), append(as, float64(h2)/float64(n2))
		}
		if nb > 0 {
			v := float64(hb) * 100 / float64(nb)
			s.BaselinePercent = &v
		}
		if na > 0 {
			v := float64(ha) * 100 / float64(na)
			s.FollowUpPercent = &v
		}
		s.Wilcoxon, _ = stats.WilcoxonSignedRank(bs, as)
		return s
	}
	for _, s := range scheme.Supports {
		r.Availability = append(r.Availability, summary.PairedAvailabilityRow{Support: s, PairedShare: share(func(in summary.Input) [4]int { return in.Support[s] })})
	}
	r.Strain = share(func(in summary.Input) [4]int { return in.LetDown })
	r.Groups = summary.PairedGroups{LifelongLinks: len(ll), Comparison: len(cmp)}
	if len(ll) > 0 && len(cmp) > 0 {
		rs := stats.MannWhitneyU(ll, cmp)
		r.Groups.NetworkSizeChange = &rs
	}
	return r
}

func randomInput(r *rand.Rand, scheme summary.Scheme) summary.Input {
	in := summary.Input{Nominees: r.IntN(21), Support: map[string][4]int{}, Adequacy: map[string]int{}}
	if r.IntN(50) == 0 {
		in.Nominees = 21 + r.IntN(5) // beyond what the form allows: counted all the same
	}
	keyPeople := r.IntN(6)
	for _, s := range scheme.Supports {
		var c [4]int
		for range keyPeople {
			if r.IntN(6) > 0 {
				c[r.IntN(4)]++
			}
		}
		if r.IntN(60) == 0 {
			c[3] += 4 // more ratings than key people
		}
		in.Support[s] = c
		if r.IntN(5) > 0 {
			in.Adequacy[s] = 1 + r.IntN(3)
		}
	}
	for range keyPeople {
		in.LetDown[r.IntN(4)]++
	}
	return in
}

// Counting pairs per cell gives the same comparison as working pair by
// pair, for random pairs (some beyond the form's limits), and counts taken
// away leave what was there.
func TestPairTally_SameAsPairByPair(t *testing.T) {
	scheme := summary.Scheme{Relationships: []string{"friend"}, Supports: []string{"emotional", "practical", "trust"}}
	r := rand.New(rand.NewPCG(11, 17))
	for trial := range 60 {
		var pairs []summary.Pair
		for range r.IntN(80) {
			pairs = append(pairs, summary.Pair{Group: []string{"lifelong_links", "comparison", "other"}[r.IntN(3)],
				Baseline: randomInput(r, scheme), FollowUp: randomInput(r, scheme)})
		}
		want := encoded(t, valueByValue(scheme, pairs))
		if got := encoded(t, summary.Paired(scheme, pairs)); got != want {
			t.Fatalf("trial %d, %d pairs:\n got %s\nwant %s", trial, len(pairs), got, want)
		}

		// Add some pairs twice and take them away again.
		c := summary.NewPairCounter(scheme)
		var tally summary.PairTally
		for i, p := range pairs {
			c.Add(&tally, c.Cells(p.Group, p.Baseline, p.FollowUp), 1)
			if i%3 == 0 {
				extra := summary.Pair{Group: "comparison", Baseline: randomInput(r, scheme), FollowUp: randomInput(r, scheme)}
				cells := c.Cells(extra.Group, extra.Baseline, extra.FollowUp)
				c.Add(&tally, cells, 2)
				c.Add(&tally, cells, -2)
			}
		}
		if got := encoded(t, c.Report(scheme, tally)); got != want {
			t.Fatalf("trial %d after taking pairs away:\n got %s\nwant %s", trial, got, want)
		}
	}
}

// encoded is the report as JSON, floats to 10 significant digits: a mean or
// SD added up per value rather than one by one may differ in its last bits.
func encoded(t *testing.T, r summary.PairedReport) string {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(rounded(v))
	return string(out)
}

func rounded(v any) any {
	switch x := v.(type) {
	case float64:
		return fmt.Sprintf("%.10g", x)
	case map[string]any:
		for k, e := range x {
			x[k] = rounded(e)
		}
	case []any:
		for i, e := range x {
			x[i] = rounded(e)
		}
	}
	return v
}

// The cells of two packed responses are the cells of the inputs they were
// packed from.
func TestPairCells_OfPackedInputs(t *testing.T) {
	scheme := summary.Scheme{Relationships: []string{"friend"}, Supports: []string{"emotional", "practical", "trust"}}
	index, c := summary.NewIndex(scheme), summary.NewPairCounter(scheme)
	r := rand.New(rand.NewPCG(2, 9))
	for range 300 {
		b, f := randomInput(r, scheme), randomInput(r, scheme)
		group := []string{"lifelong_links", "comparison", "other"}[r.IntN(3)]
		want := c.Cells(group, b, f)
		if got := index.PairCells(c, group, index.Pack(b), index.Pack(f)); !reflect.DeepEqual(got, want) {
			t.Fatalf("cells of packed %+v and %+v:\n got %v\nwant %v", b, f, got, want)
		}
	}
}

// formInput is a random answer within what the form allows.
func formInput(r *rand.Rand, scheme summary.Scheme) summary.Input {
	for {
		in := randomInput(r, scheme)
		within := in.Nominees <= 20
		for _, c := range in.Support {
			within = within && c[0]+c[1]+c[2]+c[3] <= 5
		}
		if within {
			return in
		}
	}
}

// The report's cost follows the number of distinct cells counted, not of
// pairs: compare the sizes side by side.
func BenchmarkPairCounter_Report(b *testing.B) {
	scheme := summary.Scheme{Relationships: []string{"friend"}, Supports: []string{"a", "b", "c", "d", "e", "f", "g", "h"}}
	for _, n := range []int{500, 5000, 40000} {
		r := rand.New(rand.NewPCG(3, uint64(n)))
		c := summary.NewPairCounter(scheme)
		var tally summary.PairTally
		for range n {
			c.Add(&tally, c.Cells([]string{"lifelong_links", "comparison"}[r.IntN(2)], formInput(r, scheme), formInput(r, scheme)), 1)
		}
		b.Run(fmt.Sprintf("pairs=%d", n), func(b *testing.B) {
			for b.Loop() {
				c.Report(scheme, tally)
			}
		})
	}
}

// Tallies of parts merged give the report of all the pairs counted in one
// tally: with pairs taken away again (cells back at zero), with cells
// beyond the dense part, and merged in any grouping.
func TestPairTally_MergeOfPartsIsTheWhole(t *testing.T) {
	scheme := summary.Scheme{Relationships: []string{"friend"}, Supports: []string{"emotional", "practical", "trust"}}
	r := rand.New(rand.NewPCG(5, 9))
	c := summary.NewPairCounter(scheme)
	for trial := range 40 {
		var whole summary.PairTally
		parts := make([]summary.PairTally, 1+r.IntN(5))
		for range r.IntN(120) {
			cells := c.Cells([]string{"lifelong_links", "comparison", "other"}[r.IntN(3)], randomInput(r, scheme), randomInput(r, scheme))
			part := &parts[r.IntN(len(parts))]
			c.Add(part, cells, 1)
			c.Add(&whole, cells, 1)
			if r.IntN(4) == 0 { // counted and taken away again: leaves zeros behind
				c.Add(part, cells, -1)
				c.Add(&whole, cells, -1)
			}
		}
		var merged, nested summary.PairTally
		for i := range parts {
			merged.Merge(parts[i])
		}
		// The later parts first merged into one, then that into the first.
		nested.Merge(parts[0])
		var rest summary.PairTally
		for i := 1; i < len(parts); i++ {
			rest.Merge(parts[i])
		}
		nested.Merge(rest)
		want := encoded(t, c.Report(scheme, whole))
		if got := encoded(t, c.Report(scheme, merged)); got != want {
			t.Fatalf("trial %d: merged parts:\n got %s\nwant %s", trial, got, want)
		}
		if got := encoded(t, c.Report(scheme, nested)); got != want {
			t.Fatalf("trial %d: merged in two steps:\n got %s\nwant %s", trial, got, want)
		}
	}
}
