package sums

import (
	"context"
	"slices"
	"strings"

	"github.com/lifelong-links/sct/internal/idmap"
	"github.com/lifelong-links/sct/internal/summary"
)

// pairs keeps the paired comparison's join made: each child's baseline with
// each of their follow-ups, counted per series of pairs (the baseline's and
// the follow-up's series), so that a comparison adds one tally per series,
// and one with dates adds the pairs of the matching series one by one,
// never joining every SCT again.
type pairs struct {
	index   *summary.Index // unpacks the inputs
	counter *summary.PairCounter
	// joined is false until every SCT held is joined: a load leaves the
	// join to the first comparison (or to WarmPairs), so that Tables 3 and
	// 4 do not wait for it after a start.
	joined  bool
	byChild map[string][]idmap.ID // child → ids of their SCTs held
	series  map[pairSeries]*pairSet
	in      map[string][]pairSeries // child → the series holding their pairs
	dirty   map[string]bool         // children whose pairs are to be made again before the next read
}

// pairSeries names the series of a baseline and of a follow-up.
type pairSeries struct{ Baseline, FollowUp seriesID }

// pairSet is the pairs of one series: their tally, each pair by child, and
// (made when a comparison with dates first needs it after a change) the
// pairs in order of their baseline's day.
type pairSet struct {
	tally summary.PairTally
	pairs map[string]*pair
	days  *dayOrder
}

// dayOrder is a set's pairs in order of their baseline's day, held so that
// a comparison with dates finds where its range starts and ends by binary
// search and reads the pairs between in order: each pair's follow-up day
// as its rank among the set's follow-up days, its cells in a run.
type dayOrder struct {
	baseline   []string          // each pair's baseline day, in order
	followDays []string          // the distinct follow-up days, in order
	follow     []int32           // each pair's follow-up day: its place in followDays
	run        summary.PlacedRun // added up a block at a time too (SumBlocks)
}

// byBaselineDay is the set's pairs in order of their baseline's day.
func (set *pairSet) byBaselineDay() *dayOrder {
	if set.days != nil {
		return set.days
	}
	sorted := make([]*pair, 0, len(set.pairs))
	rank := map[string]int32{}
	for _, pr := range set.pairs {
		sorted = append(sorted, pr)
		rank[pr.followUpDay] = 0
	}
	slices.SortFunc(sorted, func(a, b *pair) int { return strings.Compare(a.baselineDay, b.baselineDay) })
	d := &dayOrder{baseline: make([]string, len(sorted)), follow: make([]int32, len(sorted))}
	for day := range rank {
		d.followDays = append(d.followDays, day)
	}
	slices.Sort(d.followDays)
	for i, day := range d.followDays {
		rank[day] = int32(i)
	}
	for i, pr := range sorted {
		d.baseline[i], d.follow[i] = pr.baselineDay, rank[pr.followUpDay]
		d.run.Append(pr.cells)
	}
	d.run.SumBlocks()
	set.days = d
	return d
}

// between is where the days from..to (inclusive; "" leaves that end open)
// start and end in days, which are in order.
func between(days []string, from, to string) (start, end int) {
	if from != "" {
		start, _ = slices.BinarySearch(days, from)
	}
	end = len(days)
	if to != "" {
		end, _ = slices.BinarySearchFunc(days, to, func(day, to string) int {
			if day <= to {
				return -1
			}
			return 1
		})
	}
	return start, max(start, end)
}

// pair is one child's baseline and follow-up: their days and the cells they
// fall in.
type pair struct {
	baselineDay, followUpDay string
	cells                    summary.Placed
}

func newPairs(index *summary.Index) *pairs {
	p := &pairs{index: index, counter: summary.NewPairCounter(index.Scheme())}
	p.reset()
	return p
}

// reset forgets every pair.
func (p *pairs) reset() {
	p.byChild, p.series, p.in, p.dirty = map[string][]idmap.ID{}, map[pairSeries]*pairSet{}, map[string][]pairSeries{}, map[string]bool{}
}

// changed notes that the pairs of the children whose SCT id changed (old or
// next nil: none) are to be made again: the next read makes them, so a
// write costs no more than the note.
func (p *pairs) changed(id string, old, next *Item[summary.Packed]) {
	if !p.joined {
		return // the join to come reads every SCT as it is then
	}
	at := idmap.IDOf(id)
	if old != nil {
		p.byChild[old.Child] = slices.DeleteFunc(p.byChild[old.Child], func(s idmap.ID) bool { return s == at })
		if len(p.byChild[old.Child]) == 0 {
			delete(p.byChild, old.Child)
		}
	}
	if next != nil && !slices.Contains(p.byChild[next.Child], at) {
		p.byChild[next.Child] = append(p.byChild[next.Child], at)
	}
	if old != nil {
		p.dirty[old.Child] = true
	}
	if next != nil {
		p.dirty[next.Child] = true
	}
}

// flush makes the noted children's pairs again from what items holds now,
// or joins every SCT if that is still to do.
func (p *pairs) flush(items *idmap.Map[Item[summary.Packed]]) {
	if !p.joined {
		p.join(items)
		return
	}
	for child := range p.dirty {
		p.rejoin(items, child)
	}
	clear(p.dirty)
}

// load forgets every pair: the next comparison joins the SCTs held then.
func (p *pairs) load() {
	p.reset()
	p.joined = false
}

// join joins every child's SCTs.
func (p *pairs) join(items *idmap.Map[Item[summary.Packed]]) {
	p.reset()
	p.joined = true
	for id, it := range items.All() {
		p.byChild[it.Child] = append(p.byChild[it.Child], idmap.IDOf(id))
	}
	for child := range p.byChild {
		p.rejoin(items, child)
	}
}

// rejoin takes a child's pairs away and makes them again from their SCTs:
// their baseline (the first by id, should there be more than one) with
// each of their follow-ups.
func (p *pairs) rejoin(items *idmap.Map[Item[summary.Packed]], child string) {
	for _, ps := range p.in[child] {
		set := p.series[ps]
		p.counter.AddPlaced(&set.tally, set.pairs[child].cells, -1)
		delete(set.pairs, child)
		set.days = nil
		if len(set.pairs) == 0 {
			delete(p.series, ps)
		}
	}
	delete(p.in, child)
	ids := slices.Clone(p.byChild[child])
	slices.SortFunc(ids, idmap.ID.Compare)
	var baseline *Item[summary.Packed]
	for _, id := range ids {
		if it, _ := items.GetID(id); it.Key().Timepoint == "baseline" {
			baseline = &it
			break
		}
	}
	if baseline == nil {
		return
	}
	for _, id := range ids {
		f, _ := items.GetID(id)
		bk, fk := baseline.Key(), f.Key()
		if fk.Timepoint != "follow_up" {
			continue
		}
		ps := pairSeries{Baseline: baseline.key.series, FollowUp: f.key.series}
		set := p.series[ps]
		if set == nil {
			set = &pairSet{pairs: map[string]*pair{}}
			p.series[ps] = set
		}
		if _, ok := set.pairs[child]; ok {
			continue // two follow-ups in one series cannot be: slots are unique
		}
		pr := &pair{baselineDay: bk.Day, followUpDay: fk.Day,
			cells: p.counter.Place(p.index.PairCells(p.counter, bk.Group, baseline.In, f.In))}
		set.pairs[child] = pr
		set.days = nil
		p.in[child] = append(p.in[child], ps)
		p.counter.AddPlaced(&set.tally, pr.cells, 1)
	}
}

// tally adds up the pairs whose baseline and follow-up (at wave) the query
// both selects.
func (p *pairs) tally(items *idmap.Map[Item[summary.Packed]], q summary.Query, wave int) summary.PairTally {
	p.flush(items)
	whole := q
	whole.From, whole.To = "", ""
	bq, fq := whole, whole
	bq.Timepoint, bq.Wave = "baseline", 0
	fq.Timepoint, fq.Wave = "follow_up", wave
	var t summary.PairTally
	for ps, set := range p.series {
		if !bq.Selects(ps.Baseline.Key()) || !fq.Selects(ps.FollowUp.Key()) {
			continue
		}
		if q.From == "" && q.To == "" {
			t.Merge(set.tally)
			continue
		}
		d := set.byBaselineDay()
		start, end := between(d.baseline, q.From, q.To)
		fromRank, toRank := between(d.followDays, q.From, q.To)
		in := func(i int) bool { r := int(d.follow[i]); return r >= fromRank && r < toRank }
		for i := start; i < end; {
			// A block wholly within the baselines selected is counted
			// whole, less its pairs whose follow-up falls outside the
			// range, when those are at most half of it.
			if k := i / summary.RunBlock; i%summary.RunBlock == 0 && i+summary.RunBlock <= end && d.run.Summed(k) {
				last := i + summary.RunBlock
				outside := 0
				for j := i; j < last; j++ {
					if !in(j) {
						outside++
					}
				}
				if outside <= summary.RunBlock/2 {
					p.counter.AddBlock(&t, &d.run, k)
					for j := i; j < last && outside > 0; j++ {
						if !in(j) {
							p.counter.AddFromRun(&t, &d.run, j, -1)
							outside--
						}
					}
					i = last
					continue
				}
			}
			if in(i) {
				p.counter.AddFromRun(&t, &d.run, i, 1)
			}
			i++
		}
	}
	return t
}

// WarmPairs joins the SCTs held into pairs now rather than at the first
// comparison (the server does it after the rest is built).
func (m *Sums) WarmPairs(ctx context.Context) error {
	if err := m.ready(ctx); err != nil {
		return err
	}
	defer m.mu.Unlock()
	m.pairs.flush(&m.items)
	return nil
}

// Paired compares the children's baselines with their follow-ups at wave,
// both selected by the query, with rows for scheme's support types.
func (m *Sums) Paired(ctx context.Context, q summary.Query, wave int, scheme summary.Scheme) (summary.PairedReport, error) {
	if err := m.ready(ctx); err != nil {
		return summary.PairedReport{}, err
	}
	defer m.mu.Unlock()
	q.Form = m.form
	return m.pairs.counter.Report(scheme, m.pairs.tally(&m.items, q, wave)), nil
}
