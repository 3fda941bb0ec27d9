package summary

import (
	"slices"

	"github.com/lifelong-links/sct/internal/stats"
)

// What a pair contributes to the paired comparison is a handful of small
// whole numbers: its network size at each timepoint, each adequacy answer at
// each, and for each support type (and let-down) how many of its ratings
// were high out of how many. A PairTally counts pairs per combination of
// those, so the comparison (descriptions, rank tests with their ties, the
// cross-tables) is worked out from a few thousand counts whatever the number
// of pairs, and tallies of any sets of pairs add and take away exactly.

// Bounds of the counted combinations held in the dense part of a tally: the
// SCT names up to 20 important people and 5 key people, each rating every
// support type once. Anything beyond them (which validated answers cannot
// give) is counted in the tally's extra cells, exactly the same.
const (
	maxNetwork = 20
	maxRatings = 5
	groupsN    = 3 // lifelong_links, comparison, any other
	netCells   = groupsN * (maxNetwork + 1) * (maxNetwork + 1)
	shareCells = (maxRatings + 1) * (maxRatings + 1) * (maxRatings + 1) * (maxRatings + 1)
)

// PairCell is one combination a pair falls in. Kind says which: network size
// (Part: the group; V: sizes before and after), adequacy (Part: the support
// type's position; V: answers before and after, 1..3) or a share of high
// ratings (Part: the support type's position, or the number of types for
// let-down; V: high and all ratings before, high and all after).
type PairCell struct {
	Kind uint8
	Part uint8
	V    [4]int32
}

// Cell kinds.
const (
	cellNetwork uint8 = iota
	cellAdequacy
	cellShare
)

// PairTally counts pairs per cell: dense where the answers can fall, and in
// extra beyond that.
type PairTally struct {
	dense []int64
	extra map[PairCell]int64
}

// PairCounter places pairs in cells over one scheme's support types.
type PairCounter struct {
	supports []string
	sup      map[string]int
}

// NewPairCounter counts over the support types of scheme.
func NewPairCounter(scheme Scheme) *PairCounter {
	c := &PairCounter{sup: map[string]int{}}
	for _, s := range scheme.Supports {
		if _, ok := c.sup[s]; !ok {
			c.sup[s] = len(c.supports)
			c.supports = append(c.supports, s)
		}
	}
	return c
}

func (c *PairCounter) denseSize() int {
	n := len(c.supports)
	return netCells + n*9 + (n+1)*shareCells
}

// index is a cell's place in the dense part, or false.
func (c *PairCounter) index(cell PairCell) (int, bool) {
	v := cell.V
	n := len(c.supports)
	switch cell.Kind {
	case cellNetwork:
		if v[0] < 0 || v[0] > maxNetwork || v[1] < 0 || v[1] > maxNetwork {
			return 0, false
		}
		return (int(cell.Part)*(maxNetwork+1)+int(v[0]))*(maxNetwork+1) + int(v[1]), true
	case cellAdequacy:
		return netCells + int(cell.Part)*9 + int(v[0]-1)*3 + int(v[1]-1), true
	default:
		for _, x := range v {
			if x < 0 || x > maxRatings {
				return 0, false
			}
		}
		i := ((int(v[0])*(maxRatings+1)+int(v[1]))*(maxRatings+1)+int(v[2]))*(maxRatings+1) + int(v[3])
		return netCells + n*9 + int(cell.Part)*shareCells + i, true
	}
}

// Cells are the cells one pair falls in: its network size, each adequacy
// item answered at both timepoints, and each share with a rating at both.
// Codes outside the counter's scheme are ignored.
func (c *PairCounter) Cells(group string, baseline, followUp Input) []PairCell {
	cells := []PairCell{{Kind: cellNetwork, Part: groupPart(group), V: [4]int32{int32(max(baseline.Nominees, 0)), int32(max(followUp.Nominees, 0))}}}
	for i, s := range c.supports {
		b, a := baseline.Adequacy[s], followUp.Adequacy[s]
		if b >= 1 && b <= 3 && a >= 1 && a <= 3 {
			cells = append(cells, PairCell{Kind: cellAdequacy, Part: uint8(i), V: [4]int32{int32(b), int32(a)}})
		}
	}
	for i, s := range c.supports {
		cells = shareCell(cells, i, baseline.Support[s], followUp.Support[s])
	}
	return shareCell(cells, len(c.supports), baseline.LetDown, followUp.LetDown)
}

// groupPart is a group's part of the network-size cells.
func groupPart(group string) uint8 {
	switch group {
	case groupLifelongLinks:
		return 0
	case groupComparison:
		return 1
	}
	return 2
}

// shareCell adds the cell of the shares of high ratings b and a to cells,
// when both have a rating.
func shareCell(cells []PairCell, part int, b, a [4]int) []PairCell {
	hb, nb := highShare(b)
	ha, na := highShare(a)
	if nb > 0 && na > 0 {
		cells = append(cells, PairCell{Kind: cellShare, Part: uint8(part), V: [4]int32{int32(hb), int32(nb), int32(ha), int32(na)}})
	}
	return cells
}

// Placed is a pair's cells by their place in a tally: what adding the pair
// costs is then an addition per cell.
type Placed struct {
	dense []int32
	extra []PairCell
}

// Place finds the places of cells.
func (c *PairCounter) Place(cells []PairCell) Placed {
	var p Placed
	for _, cell := range cells {
		if i, ok := c.index(cell); ok {
			p.dense = append(p.dense, int32(i))
		} else {
			p.extra = append(p.extra, cell)
		}
	}
	return p
}

// PlacedRun is many pairs' placed cells one after another in memory, so
// that counting a stretch of them reads memory in order rather than
// following a pointer for each pair.
type PlacedRun struct {
	dense []int32
	end   []int32            // pair i's cells are dense[end[i-1]:end[i]] (from 0 for the first)
	extra map[int][]PairCell // the cells beyond the dense part, of the pairs with any
	// blocks are the run's pairs added up RunBlock at a time (SumBlocks).
	blocks []runBlock
}

// RunBlock is how many pairs of a run SumBlocks adds up together: block k
// is pairs k*RunBlock to (k+1)*RunBlock-1.
const RunBlock = 64

// runBlock is a block of pairs' cells added up: each cell once, with how
// many of the block's pairs count it. A pair has about twenty cells and the
// pairs of a block share most of them, so counting a block this way adds
// a few hundred numbers where its pairs one by one would add over a
// thousand. summed is false for a block holding a pair with cells beyond
// the dense part: it is counted pair by pair.
type runBlock struct {
	cells  []int32
	counts []int32
	summed bool
}

// SumBlocks adds up each whole block of the run's pairs (see RunBlock), so
// that AddBlock can count it; call it once the run is complete.
func (r *PlacedRun) SumBlocks() {
	r.blocks = make([]runBlock, len(r.end)/RunBlock)
	counts := map[int32]int32{}
	for k := range r.blocks {
		first, last := k*RunBlock, (k+1)*RunBlock-1
		b := runBlock{summed: true}
		for i := first; i <= last; i++ {
			if r.extra[i] != nil {
				b.summed = false
				break
			}
		}
		if b.summed {
			var start int32
			if first > 0 {
				start = r.end[first-1]
			}
			clear(counts)
			for _, j := range r.dense[start:r.end[last]] {
				counts[j]++
			}
			b.cells = make([]int32, 0, len(counts))
			for j := range counts {
				b.cells = append(b.cells, j)
			}
			slices.Sort(b.cells)
			b.counts = make([]int32, len(b.cells))
			for n, j := range b.cells {
				b.counts[n] = counts[j]
			}
		}
		r.blocks[k] = b
	}
}

// Summed reports whether block k of the run's pairs (pairs k*RunBlock to
// (k+1)*RunBlock-1) is added up, for AddBlock: false for a block holding a
// pair with cells beyond the dense part, and before SumBlocks.
func (r *PlacedRun) Summed(k int) bool { return k < len(r.blocks) && r.blocks[k].summed }

// AddBlock counts each pair of block k once, as AddFromRun of each would;
// the block must be Summed.
func (c *PairCounter) AddBlock(t *PairTally, r *PlacedRun, k int) {
	if t.dense == nil {
		t.dense = make([]int64, c.denseSize())
	}
	b := &r.blocks[k]
	for n, j := range b.cells {
		t.dense[j] += int64(b.counts[n])
	}
}

// Append puts a pair's cells at the run's end.
func (r *PlacedRun) Append(p Placed) {
	if len(p.extra) > 0 {
		if r.extra == nil {
			r.extra = map[int][]PairCell{}
		}
		r.extra[len(r.end)] = p.extra
	}
	r.dense = append(r.dense, p.dense...)
	r.end = append(r.end, int32(len(r.dense)))
}

// Len is the number of pairs in the run.
func (r *PlacedRun) Len() int { return len(r.end) }

// AddFromRun counts pair i of a run n times (n negative: takes it away).
func (c *PairCounter) AddFromRun(t *PairTally, r *PlacedRun, i int, n int64) {
	if t.dense == nil {
		t.dense = make([]int64, c.denseSize())
	}
	var start int32
	if i > 0 {
		start = r.end[i-1]
	}
	for _, j := range r.dense[start:r.end[i]] {
		t.dense[j] += n
	}
	if extra := r.extra[i]; extra != nil {
		c.AddPlaced(t, Placed{extra: extra}, n)
	}
}

// Add counts cells n times (n negative: takes them away).
func (c *PairCounter) Add(t *PairTally, cells []PairCell, n int64) {
	c.AddPlaced(t, c.Place(cells), n)
}

// AddPlaced counts placed cells n times (n negative: takes them away).
func (c *PairCounter) AddPlaced(t *PairTally, p Placed, n int64) {
	if t.dense == nil {
		t.dense = make([]int64, c.denseSize())
	}
	for _, i := range p.dense {
		t.dense[i] += n
	}
	for _, cell := range p.extra {
		t.addExtra(cell, n)
	}
}

// addExtra counts n more pairs in a cell beyond the dense part; a cell
// back at none is forgotten.
func (t *PairTally) addExtra(cell PairCell, n int64) {
	if t.extra == nil {
		t.extra = map[PairCell]int64{}
	}
	t.extra[cell] += n
	if t.extra[cell] == 0 {
		delete(t.extra, cell)
	}
}

// Merge adds o to t.
func (t *PairTally) Merge(o PairTally) {
	if o.dense != nil {
		if t.dense == nil {
			t.dense = make([]int64, len(o.dense))
		}
		for i, n := range o.dense {
			t.dense[i] += n
		}
	}
	for cell, n := range o.extra {
		t.addExtra(cell, n)
	}
}

// Report is the paired comparison of the pairs counted in t, with rows for
// the support types of scheme (in its order).
func (c *PairCounter) Report(scheme Scheme, t PairTally) PairedReport {
	r := PairedReport{
		Adequacy:     make([]PairedAdequacyRow, 0, len(scheme.Supports)),
		Availability: make([]PairedAvailabilityRow, 0, len(scheme.Supports)),
	}
	// The network's cells, some thousands, hold a few dozen sizes and
	// changes: each is counted once, however many cells hold it.
	var before, after, change, ll, cmp wholes
	network := func(part uint8, b, a, n int) {
		r.Pairs += n
		before.add(b, n)
		after.add(a, n)
		change.add(a-b, n)
		switch part {
		case 0:
			ll.add(a-b, n)
			r.Groups.LifelongLinks += n
		case 1:
			cmp.add(a-b, n)
			r.Groups.Comparison += n
		}
	}
	tables := make([][3][3]int, len(c.supports))
	shares := make([]shareSum, len(c.supports)+1)
	// A share beyond five ratings (which validated answers cannot give)
	// is not a whole number of sixtieths: its type's shares are ranked as
	// fractions.
	for cell := range t.extra {
		if cell.Kind == cellShare {
			shares[cell.Part].fractions = true
		}
	}
	// The dense part, walked region by region, then the cells beyond it.
	if d := t.dense; d != nil {
		const side = maxNetwork + 1
		for i, n := range d[:netCells] {
			if n != 0 {
				network(uint8(i/(side*side)), i/side%side, i%side, int(n))
			}
		}
		n := len(c.supports)
		for i, m := range d[netCells : netCells+n*9] {
			if m != 0 {
				tables[i/9][i%9/3][i%3] += int(m)
			}
		}
		const r = maxRatings + 1
		for part := range shares {
			from := netCells + n*9 + part*shareCells
			for j, m := range d[from : from+shareCells] {
				if m != 0 {
					shares[part].add([4]int32{int32(j / (r * r * r)), int32(j / (r * r) % r), int32(j / r % r), int32(j % r)}, int(m))
				}
			}
		}
	}
	for cell, n := range t.extra {
		v := cell.V
		switch cell.Kind {
		case cellNetwork:
			network(cell.Part, int(v[0]), int(v[1]), int(n))
		case cellAdequacy:
			tables[cell.Part][v[0]-1][v[1]-1] += int(n)
		case cellShare:
			shares[cell.Part].add(v, int(n))
		}
	}
	r.NetworkSize = PairedNetworkSize{
		Baseline: stats.DescribeOf(before.weighted()),
		FollowUp: stats.DescribeOf(after.weighted()),
		Change:   stats.DescribeOf(change.weighted()),
		Wilcoxon: change.signedRank(),
	}
	for _, s := range scheme.Supports {
		var table [3][3]int
		if i, ok := c.sup[s]; ok {
			table = tables[i]
		}
		r.Adequacy = append(r.Adequacy, adequacyRow(s, table))
	}
	for _, s := range scheme.Supports {
		var row PairedAvailabilityRow
		if i, ok := c.sup[s]; ok {
			row.PairedShare = shares[i].compared()
		} else {
			row.PairedShare = (&shareSum{}).compared()
		}
		row.Support = s
		r.Availability = append(r.Availability, row)
	}
	r.Strain = shares[len(c.supports)].compared()
	if r.Groups.LifelongLinks > 0 && r.Groups.Comparison > 0 {
		rs := stats.RankSumOf(ll.weighted(), cmp.weighted())
		r.Groups.NetworkSizeChange = &rs
	}
	return r
}

// wholes counts whole numbers by their value: the differences of whole
// steps a signed-rank test ranks, or the sizes a description describes.
type wholes struct {
	up, down []int // up[k]: how many are +k; down[k]: how many are -k
	zeros    int
}

func (w *wholes) add(k, n int) {
	grow := func(s []int, k int) []int {
		if k >= len(s) {
			s = append(s, make([]int, k+1-len(s))...)
		}
		return s
	}
	switch {
	case k > 0:
		w.up = grow(w.up, k)
		w.up[k] += n
	case k < 0:
		w.down = grow(w.down, -k)
		w.down[-k] += n
	default:
		w.zeros += n
	}
}

func (w *wholes) signedRank() stats.SignedRank { return stats.SignedRankOfSteps(w.up, w.down, w.zeros) }

// weighted is the values counted, each once with its count, in order.
func (w *wholes) weighted() []stats.Weighted {
	var out []stats.Weighted
	for k := len(w.down) - 1; k > 0; k-- {
		if w.down[k] > 0 {
			out = append(out, stats.Weighted{Value: float64(-k), N: w.down[k]})
		}
	}
	if w.zeros > 0 {
		out = append(out, stats.Weighted{Value: 0, N: w.zeros})
	}
	for k, n := range w.up {
		if n > 0 {
			out = append(out, stats.Weighted{Value: float64(k), N: n})
		}
	}
	return out
}

// adequacyRow is one adequacy item's row from its cross-table.
func adequacyRow(support string, t [3][3]int) PairedAdequacyRow {
	row := PairedAdequacyRow{Support: support, Table: t}
	var pairs []stats.PairCount
	for b := range 3 {
		for a := range 3 {
			if n := t[b][a]; n > 0 {
				row.Base += n
				pairs = append(pairs, stats.PairCount{Before: float64(b + 1), After: float64(a + 1), N: n})
			}
		}
	}
	rowSum := func(i int) int { return t[i][0] + t[i][1] + t[i][2] }
	colSum := func(j int) int { return t[0][j] + t[1][j] + t[2][j] }
	row.Baseline = AdequacyCounts{NoOne: rowSum(0), TooFew: rowSum(1), Enough: rowSum(2)}
	row.FollowUp = AdequacyCounts{NoOne: colSum(0), TooFew: colSum(1), Enough: colSum(2)}
	row.MarginalHomogeneity = stats.StuartMaxwell([][]int{t[0][:], t[1][:], t[2][:]})
	row.Wilcoxon = stats.SignedRankOf(pairs)
	return row
}

// shareSum adds up the share cells of one support type (or of let-down).
type shareSum struct {
	base, highB, totalB, highA, totalA int
	// Each share's change in sixtieths; or, when fractions is set, every
	// cell as it is.
	steps     wholes
	fractions bool
	cells     []PairCell
	counts    []int
}

// add counts n pairs with a share cell's values: high and all ratings
// before, high and all after.
func (s *shareSum) add(v [4]int32, n int) {
	s.base += n
	s.highB, s.totalB = s.highB+n*int(v[0]), s.totalB+n*int(v[1])
	s.highA, s.totalA = s.highA+n*int(v[2]), s.totalA+n*int(v[3])
	switch {
	case s.fractions:
		s.cells, s.counts = append(s.cells, PairCell{Kind: cellShare, V: v}), append(s.counts, n)
	case v[1] > 0 && v[3] > 0: // a share of none is no share: not ranked
		s.steps.add(int(60*v[2]/v[3]-60*v[0]/v[1]), n)
	}
}

// compared compares the shares of high ratings before and after.
func (s *shareSum) compared() PairedShare {
	out := PairedShare{Base: s.base, BaselinePercent: percent(s.highB, s.totalB), FollowUpPercent: percent(s.highA, s.totalA)}
	if !s.fractions {
		out.Wilcoxon = s.steps.signedRank()
		return out
	}
	pairs := make([]stats.PairCount, len(s.cells))
	for i, cell := range s.cells {
		v := cell.V
		pairs[i] = stats.PairCount{Before: float64(v[0]) / float64(v[1]), After: float64(v[2]) / float64(v[3]), N: s.counts[i]}
	}
	out.Wilcoxon = stats.SignedRankOf(pairs)
	return out
}
