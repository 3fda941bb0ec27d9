package practice

import (
	"math"
	"math/big"
	"slices"
)

// Tally is what any number of practice summaries of one site add up to:
// counters that add exactly and in any order, and the extremes, which
// combine by taking the smaller or larger. The tables are worked out from
// tallies alone (Report), so a store can keep them per day and month and
// answer for any range of dates by adding a few of them, whatever the number
// of summaries. Counts per code follow a Counter's scheme.
type Tally struct {
	Cases     int            // every summary, whatever its version
	ByVersion map[string]int // summaries per form version

	// Everything below counts summaries of versions "1" and "2" only.
	Counted      int   // summaries of versions "1" and "2"
	ToolsBase    int   // answered tools_used
	Tools        []int // per scheme tool: summaries using it
	ToolSum      int   // Σ scheme tools per summary
	OutcomesBase int   // answered outcomes
	Outcomes     []int // per scheme outcome: summaries reporting it

	ObjectivesBase int   // version "2" summaries with an objective in a scheme category
	ObjectivesSet  int   // objectives set, over those
	ObjectivesMet  int   // of them met
	AllMet         int   // summaries with every objective met
	CategorySet    []int // per scheme category
	CategoryMet    []int
	// MetBySet[k] is Σ met over the summaries that set k objectives, so that
	// the mean share met, Σ met·100/set over summaries, is Σₖ 100·MetBySet[k]/k.
	MetBySet []int

	Identified      Extent // connections_identified
	RetainedBase    int    // with both connections counts
	Retained        int    // Σ connections_retained over RetainedBase
	RetainedOfIdent int    // Σ connections_identified over RetainedBase

	Routes    [3]int // fgc, plan_without_fgc, neither
	Attendees Extent // fgc_attendees where the route is fgc
	Days      Extent // days from start to end
}

// Extent adds up whole numbers: how many, their sum and sum of squares,
// their least and greatest (meaningful when N > 0).
type Extent struct {
	N, Sum, SumSquares int64
	Min, Max           int64
}

func (e *Extent) add(x int64) {
	if e.N == 0 || x < e.Min {
		e.Min = x
	}
	if e.N == 0 || x > e.Max {
		e.Max = x
	}
	e.N++
	e.Sum += x
	e.SumSquares += x * x
}

// Merge adds o to e.
func (e *Extent) Merge(o Extent) {
	if o.N == 0 {
		return
	}
	if e.N == 0 || o.Min < e.Min {
		e.Min = o.Min
	}
	if e.N == 0 || o.Max > e.Max {
		e.Max = o.Max
	}
	e.N += o.N
	e.Sum += o.Sum
	e.SumSquares += o.SumSquares
}

// Counter adds summaries up into tallies over one scheme.
type Counter struct {
	scheme                  Scheme
	tool, outcome, category map[string]int
	routeOf                 map[string]int
}

// NewCounter counts over the codes of scheme.
func NewCounter(scheme Scheme) *Counter {
	pos := func(codes []string) map[string]int {
		m := make(map[string]int, len(codes))
		for i, c := range codes {
			if _, ok := m[c]; !ok {
				m[c] = i
			}
		}
		return m
	}
	return &Counter{scheme: scheme, tool: pos(scheme.Tools), outcome: pos(scheme.Outcomes), category: pos(scheme.ObjectiveCategories),
		routeOf: map[string]int{RouteFGC: 0, RoutePlanWithoutFGC: 1, RouteNeither: 2}}
}

// Add counts one summary into t.
func (c *Counter) Add(t *Tally, in Input) {
	t.Cases++
	if t.ByVersion == nil {
		t.ByVersion = map[string]int{}
	}
	t.ByVersion[in.Version]++
	if in.Version != "1" && in.Version != "2" {
		return
	}
	t.Counted++
	if in.ToolsAnswered {
		t.ToolsBase++
		t.Tools = grown(t.Tools, len(c.scheme.Tools))
		for _, i := range positions(in.Tools, c.tool) {
			t.Tools[i]++
			t.ToolSum++
		}
	}
	if in.OutcomesAnswered {
		t.OutcomesBase++
		t.Outcomes = grown(t.Outcomes, len(c.scheme.Outcomes))
		for _, i := range positions(in.Outcomes, c.outcome) {
			t.Outcomes[i]++
		}
	}
	if in.Version == "2" {
		set, met := 0, 0
		for _, o := range in.Objectives {
			i, ok := c.category[o.Category]
			if !ok {
				continue
			}
			t.CategorySet = grown(t.CategorySet, len(c.scheme.ObjectiveCategories))
			t.CategoryMet = grown(t.CategoryMet, len(c.scheme.ObjectiveCategories))
			set++
			t.CategorySet[i]++
			if o.Met != nil && *o.Met {
				met++
				t.CategoryMet[i]++
			}
		}
		if set > 0 {
			t.ObjectivesBase++
			t.ObjectivesSet += set
			t.ObjectivesMet += met
			t.MetBySet = grown(t.MetBySet, set+1)
			t.MetBySet[set] += met
			if met == set {
				t.AllMet++
			}
		}
	}
	if id, ok := nonNegative(in.Identified); ok {
		t.Identified.add(int64(id))
		if ret, ok := nonNegative(in.Retained); ok {
			t.RetainedBase++
			t.Retained += ret
			t.RetainedOfIdent += id
		}
	}
	if i, ok := c.routeOf[in.Route]; ok {
		t.Routes[i]++
	}
	if n, ok := nonNegative(in.Attendees); ok && in.Route == RouteFGC {
		t.Attendees.add(int64(n))
	}
	if d, ok := daysBetween(in.StartedOn, in.EndedOn); ok {
		t.Days.add(d)
	}
}

// Merge adds o to t.
func (t *Tally) Merge(o Tally) {
	t.Cases += o.Cases
	for v, n := range o.ByVersion {
		if t.ByVersion == nil {
			t.ByVersion = map[string]int{}
		}
		t.ByVersion[v] += n
	}
	t.Counted += o.Counted
	t.ToolsBase += o.ToolsBase
	t.Tools = addInts(t.Tools, o.Tools)
	t.ToolSum += o.ToolSum
	t.OutcomesBase += o.OutcomesBase
	t.Outcomes = addInts(t.Outcomes, o.Outcomes)
	t.ObjectivesBase += o.ObjectivesBase
	t.ObjectivesSet += o.ObjectivesSet
	t.ObjectivesMet += o.ObjectivesMet
	t.AllMet += o.AllMet
	t.CategorySet = addInts(t.CategorySet, o.CategorySet)
	t.CategoryMet = addInts(t.CategoryMet, o.CategoryMet)
	t.MetBySet = addInts(t.MetBySet, o.MetBySet)
	t.Identified.Merge(o.Identified)
	t.RetainedBase += o.RetainedBase
	t.Retained += o.Retained
	t.RetainedOfIdent += o.RetainedOfIdent
	for i := range t.Routes {
		t.Routes[i] += o.Routes[i]
	}
	t.Attendees.Merge(o.Attendees)
	t.Days.Merge(o.Days)
}

// Report works the tables out from each site's tally. Rows follow the
// scheme order, and every scheme code gets a row or a key even when its
// count is zero.
func (c *Counter) Report(bySite map[string]Tally) Report {
	scheme := c.scheme
	var all Tally
	sites := make([]string, 0, len(bySite))
	for site, t := range bySite {
		all.Merge(t)
		sites = append(sites, site)
	}
	slices.Sort(sites)

	r := Report{Cases: all.Cases, ByVersion: map[string]int{"1": 0, "2": 0}}
	for v, n := range all.ByVersion {
		r.ByVersion[v] += n
	}

	// Table 2: every site with a summary of either format.
	r.Tools.Versions = []string{"1", "2"}
	r.Tools.Base = all.ToolsBase
	r.Tools.BySite = make([]SiteTools, 0, len(sites))
	for _, site := range sites {
		t := bySite[site]
		if t.Counted == 0 {
			continue
		}
		r.Tools.BySite = append(r.Tools.BySite, SiteTools{Site: site, Cases: t.ToolsBase, Counts: codeCounts(scheme.Tools, t.Tools), MeanTools: mean(t.ToolSum, t.ToolsBase)})
	}
	r.Tools.Total = ToolTotals{Counts: codeCounts(scheme.Tools, all.Tools), MeanTools: mean(all.ToolSum, all.ToolsBase)}
	r.Tools.Percent = make(map[string]*float64, len(scheme.Tools))
	for code, n := range r.Tools.Total.Counts {
		r.Tools.Percent[code] = percent(n, all.ToolsBase)
	}

	// Table 5.
	r.Objectives.Versions = []string{"2"}
	r.Objectives.Base = all.ObjectivesBase
	r.Objectives.TotalSet, r.Objectives.TotalMet = all.ObjectivesSet, all.ObjectivesMet
	r.Objectives.ByCategory = make([]ObjectiveRow, 0, len(scheme.ObjectiveCategories))
	for i, code := range scheme.ObjectiveCategories {
		if c.category[code] != i {
			continue // a code listed twice has one row
		}
		r.Objectives.ByCategory = append(r.Objectives.ByCategory, ObjectiveRow{Category: code, Set: at(all.CategorySet, i), Met: at(all.CategoryMet, i)})
	}
	if all.ObjectivesBase > 0 {
		var shareSum float64
		for k, met := range all.MetBySet {
			if k > 0 && met > 0 {
				shareSum += float64(met) * 100 / float64(k)
			}
		}
		m := shareSum / float64(all.ObjectivesBase)
		r.Objectives.MeanShareMet = &m
	}
	r.Objectives.AllMet = share(all.AllMet, all.ObjectivesBase)
	r.Objectives.Note = objectivesNote

	// Table 6.
	r.Outcomes.Versions = []string{"1", "2"}
	r.Outcomes.Base = all.OutcomesBase
	r.Outcomes.Rows = make([]OutcomeRow, 0, len(scheme.Outcomes))
	for i, code := range scheme.Outcomes {
		if c.outcome[code] != i {
			continue
		}
		n := at(all.Outcomes, i)
		r.Outcomes.Rows = append(r.Outcomes.Rows, OutcomeRow{Outcome: code, Count: n, Percent: percent(n, all.OutcomesBase)})
	}

	// Connections.
	id := all.Identified
	r.Connections.Versions = []string{"1", "2"}
	r.Connections.Base = int(id.N)
	r.Connections.Identified = IdentifiedStats{Total: int(id.Sum), Mean: mean(int(id.Sum), int(id.N))}
	if id.N > 0 {
		lo, hi := int(id.Min), int(id.Max)
		r.Connections.Identified.Min, r.Connections.Identified.Max = &lo, &hi
	}
	r.Connections.Retained = RetainedStats{Base: all.RetainedBase, Total: all.Retained, IdentifiedTotal: all.RetainedOfIdent,
		Percent: percent(all.Retained, all.RetainedOfIdent)}

	// Process.
	routeBase := all.Routes[0] + all.Routes[1] + all.Routes[2]
	r.Process.Versions = []string{"1", "2"}
	r.Process.Route = RouteTable{Base: routeBase, FGC: share(all.Routes[0], routeBase),
		PlanWithoutFGC: share(all.Routes[1], routeBase), Neither: share(all.Routes[2], routeBase)}
	r.Process.FGCAttendance = attendance(all.Attendees)
	r.Process.MonthsToCompletion = months(all.Days)
	return r
}

func attendance(e Extent) AttendanceStats {
	a := AttendanceStats{Base: int(e.N), Mean: mean(int(e.Sum), int(e.N))}
	if e.N > 0 {
		lo, hi := int(e.Min), int(e.Max)
		a.Min, a.Max = &lo, &hi
	}
	if e.N >= 2 {
		sd := math.Sqrt(spread(e) / float64(e.N*(e.N-1)))
		a.SD = &sd
	}
	return a
}

// spread is n·Σx² − (Σx)², that is n·(n−1) times the sample variance, worked
// out in integers (which it is), so no cancellation can leave a residue.
func spread(e Extent) float64 {
	n, sum, sq := big.NewInt(e.N), big.NewInt(e.Sum), big.NewInt(e.SumSquares)
	v := new(big.Int).Mul(n, sq)
	v.Sub(v, new(big.Int).Mul(sum, sum))
	f, _ := new(big.Float).SetInt(v).Float64()
	return f
}

func months(e Extent) MonthsStats {
	m := MonthsStats{Base: int(e.N)}
	if e.N > 0 {
		mean := float64(e.Sum) / float64(e.N) / daysPerMonth
		lo, hi := float64(e.Min)/daysPerMonth, float64(e.Max)/daysPerMonth
		m.Mean, m.Min, m.Max = &mean, &lo, &hi
	}
	return m
}

// positions returns the scheme positions of codes, each once; codes outside
// the scheme have none.
func positions(codes []string, pos map[string]int) []int {
	out := make([]int, 0, len(codes))
	for _, c := range codes {
		if i, ok := pos[c]; ok && !slices.Contains(out, i) {
			out = append(out, i)
		}
	}
	return out
}

// codeCounts gives every code of the scheme its count (zero when none), so
// a table's shape does not depend on its data.
func codeCounts(codes []string, counts []int) map[string]int {
	m := make(map[string]int, len(codes))
	for i, c := range codes {
		if _, ok := m[c]; !ok {
			m[c] = at(counts, i)
		}
	}
	return m
}

func at(xs []int, i int) int {
	if i < len(xs) {
		return xs[i]
	}
	return 0
}

// grown is xs with at least n elements.
func grown(xs []int, n int) []int {
	if len(xs) >= n {
		return xs
	}
	return append(xs, make([]int, n-len(xs))...)
}

// addInts adds o to xs element by element, growing xs to o's length.
func addInts(xs, o []int) []int {
	xs = grown(xs, len(o))
	for i, n := range o {
		xs[i] += n
	}
	return xs
}
