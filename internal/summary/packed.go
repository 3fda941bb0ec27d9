package summary

import "math"

// Packed is a tally as a flat vector over the index's scheme: what one
// response adds to the index, or what one day's bucket holds. Small numbers take two
// bytes each; a response whose counts do not fit (which validated answers
// cannot give) keeps them whole. A packed response holds no maps or strings,
// so holding many thousands costs little memory and little work for the
// garbage collector.
type Packed struct {
	small []int16
	wide  []int64
}

// Pack is in as the index counts it.
func (x *Index) Pack(in Input) Packed {
	var t Tally
	t.Add(in)
	return pack(x.toVec(t))
}

// pack is v packed: two bytes a number when every one fits.
func pack(v vec) Packed {
	small := make([]int16, len(v))
	for i, n := range v {
		if n < math.MinInt16 || n > math.MaxInt16 {
			return Packed{wide: v}
		}
		small[i] = int16(n)
	}
	return Packed{small: small}
}

// addTo adds p, sign times, to v.
func (p Packed) addTo(v vec, sign int64) {
	if p.wide != nil {
		for i, n := range p.wide {
			v[i] += sign * n
		}
		return
	}
	for i, n := range p.small {
		v[i] += sign * int64(n)
	}
}

func (p Packed) vec() vec {
	if p.wide != nil {
		return p.wide
	}
	v := make(vec, len(p.small))
	p.addTo(v, 1)
	return v
}

// SetSum makes a bucket hold the packed responses ps, added up as vectors.
func (x *Index) SetSum(k Key, ps []Packed) {
	v := make(vec, x.size())
	for _, p := range ps {
		p.addTo(v, 1)
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	x.setVec(k, v)
}

// PairCells are the cells of the pair of two packed responses, as
// c.Cells gives them for the inputs they were packed from.
func (x *Index) PairCells(c *PairCounter, group string, baseline, followUp Packed) []PairCell {
	_, _, sup, let, adq := x.offsets()
	at := func(p Packed, i int) int {
		if p.wide != nil {
			return int(p.wide[i])
		}
		return int(p.small[i])
	}
	side := func(p Packed) Input {
		in := Input{Nominees: at(p, 2)}
		for _, j := range [4]int{0, 1, 2, 3} {
			in.LetDown[j] = at(p, let+j)
		}
		return in
	}
	b, f := side(baseline), side(followUp)
	cells := []PairCell{{Kind: cellNetwork, Part: groupPart(group), V: [4]int32{int32(max(b.Nominees, 0)), int32(max(f.Nominees, 0))}}}
	answer := func(p Packed, i int) int {
		for j := range 3 {
			if at(p, adq+3*i+j) != 0 {
				return j + 1
			}
		}
		return 0
	}
	ratings := func(p Packed, i int) (r [4]int) {
		for j := range r {
			r[j] = at(p, sup+4*i+j)
		}
		return r
	}
	for part, s := range c.supports {
		i, ok := x.sup[s]
		if !ok {
			continue
		}
		if bi, fi := answer(baseline, i), answer(followUp, i); bi > 0 && fi > 0 {
			cells = append(cells, PairCell{Kind: cellAdequacy, Part: uint8(part), V: [4]int32{int32(bi), int32(fi)}})
		}
	}
	for part, s := range c.supports {
		if i, ok := x.sup[s]; ok {
			cells = shareCell(cells, part, ratings(baseline, i), ratings(followUp, i))
		}
	}
	return shareCell(cells, len(c.supports), b.LetDown, f.LetDown)
}
