package sums

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/lifelong-links/sct/forms"
	"github.com/lifelong-links/sct/internal/form"
	"github.com/lifelong-links/sct/internal/idmap"
	"github.com/lifelong-links/sct/internal/summary"
)

// BenchmarkPairs_Dates times the paired comparison over two years of
// baselines, on the pairs alone (no store, no HTTP), with 2,000, 20,000 and
// 100,000 SCTs held as the fill makes them: twelve sites, both groups,
// baselines over three years, a third followed up five to seven months on.
//
//	go test -run '^$' -bench Pairs_Dates ./internal/sums
func BenchmarkPairs_Dates(b *testing.B) {
	reg, err := form.Load(forms.FS())
	if err != nil {
		b.Fatal(err)
	}
	scheme := summary.SchemeOfAll(reg.Versions("sct"))
	for _, n := range []int{2000, 20000, 100000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			index := summary.NewIndex(scheme)
			r := rand.New(rand.NewPCG(3, uint64(n)))
			items := idmap.Make[Item[summary.Packed]](n)
			start := time.Date(2017, 4, 1, 0, 0, 0, 0, time.UTC)
			put := func(child, timepoint, site, group string, day time.Time) {
				in := summary.Input{Nominees: r.IntN(21), KeyPeople: r.IntN(6), Support: map[string][4]int{}, Adequacy: map[string]int{}}
				for _, s := range scheme.Supports {
					var c [4]int
					for range in.KeyPeople {
						c[r.IntN(4)]++
					}
					in.Support[s] = c
					in.Adequacy[s] = 1 + r.IntN(3)
				}
				k := summary.Key{Form: "sct", Site: site, Group: group, Timepoint: timepoint, Version: "1", Wave: 1, Day: day.Format(time.DateOnly)}
				items.Set(fmt.Sprintf("%s-%s", child, timepoint), NewItem(k, child, index.Pack(in)))
			}
			for i := 0; items.Len() < n; i++ {
				child := fmt.Sprintf("C%07d", i)
				site, group := fmt.Sprint("S", i%12), []string{"lifelong_links", "comparison"}[i%4/3]
				day := start.AddDate(0, 0, r.IntN(3*365))
				put(child, "baseline", site, group, day)
				if r.IntN(3) == 0 {
					put(child, "follow_up", site, group, day.AddDate(0, 5, r.IntN(60)))
				}
			}
			p := newPairs(index)
			p.join(&items)
			q := summary.Query{Form: "sct", From: "2018-01-01", To: "2019-12-31"}
			p.tally(&items, q, 1) // the order by day is made at the first
			b.ResetTimer()
			for range b.N {
				p.tally(&items, q, 1)
			}
		})
	}
}
