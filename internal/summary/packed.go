package summary

import (
	"encoding/binary"
	"math"
)

// Packed is what one response adds to the index, packed: the counts of its
// tally over the index's scheme that are not zero, each as how far it is
// from the last one and its value, in the bytes they take (varints). A
// typical SCT has about 40 counts of some 90 not zero, nearly all under 64:
// about 80 bytes, held in a string, where a vector of two-byte numbers
// took 190 and a slice's header more. Many thousands of them cost little
// memory and nothing for the garbage collector to scan.
type Packed struct{ s string }

// Pack is in as the index counts it.
func (x *Index) Pack(in Input) Packed {
	var t Tally
	t.Add(in)
	return pack(x.toVec(t))
}

// pack is v packed.
func pack(v vec) Packed {
	var buf [256]byte // room for a typical response's: one allocation, the string
	b := buf[:0]
	last := -1
	for i, n := range v {
		if n != 0 {
			b = binary.AppendUvarint(b, uint64(i-last-1))
			b = binary.AppendVarint(b, n)
			last = i
		}
	}
	return Packed{string(b)}
}

// addTo adds p, sign times, to v.
func (p Packed) addTo(v vec, sign int64) {
	s, i := p.s, -1
	for len(s) > 0 {
		gap, k := uvarint(s)
		s = s[k:]
		u, k := uvarint(s)
		s = s[k:]
		n := int64(u >> 1) // zigzag, as binary.AppendVarint writes it
		if u&1 != 0 {
			n = ^n
		}
		i += int(gap) + 1
		v[i] += sign * n
	}
}

// uvarint reads a varint at the start of s and says how many bytes it took.
func uvarint(s string) (uint64, int) {
	var x uint64
	var shift uint
	for i := 0; i < len(s); i++ {
		b := s[i]
		if b < 0x80 {
			return x | uint64(b)<<shift, i + 1
		}
		x |= uint64(b&0x7f) << shift
		shift += 7
	}
	return x, len(s)
}

// vec is p as a vector over the index's scheme.
func (x *Index) vec(p Packed) vec {
	v := make(vec, x.size())
	p.addTo(v, 1)
	return v
}

// dayVec is what a day's bucket holds: its tally as a vector of two-byte
// numbers while they fit, whole once they do not. Unlike a response's, a
// range adds days up as it reads, so they are held as vectors, quick to
// add.
type dayVec struct {
	small []int16
	wide  []int64
}

// packDay is v as a day holds it.
func packDay(v vec) dayVec {
	small := make([]int16, len(v))
	for i, n := range v {
		if n < math.MinInt16 || n > math.MaxInt16 {
			return dayVec{wide: v}
		}
		small[i] = int16(n)
	}
	return dayVec{small: small}
}

// addTo adds d, sign times, to v.
func (d dayVec) addTo(v vec, sign int64) {
	if d.wide != nil {
		for i, n := range d.wide {
			v[i] += sign * n
		}
		return
	}
	for i, n := range d.small {
		v[i] += sign * int64(n)
	}
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
	at := func(p vec, i int) int { return int(p[i]) }
	side := func(p vec) Input {
		in := Input{Nominees: at(p, 2)}
		for _, j := range [4]int{0, 1, 2, 3} {
			in.LetDown[j] = at(p, let+j)
		}
		return in
	}
	bv, fv := x.vec(baseline), x.vec(followUp)
	b, f := side(bv), side(fv)
	cells := []PairCell{{Kind: cellNetwork, Part: groupPart(group), V: [4]int32{int32(max(b.Nominees, 0)), int32(max(f.Nominees, 0))}}}
	answer := func(p vec, i int) int {
		for j := range 3 {
			if at(p, adq+3*i+j) != 0 {
				return j + 1
			}
		}
		return 0
	}
	ratings := func(p vec, i int) (r [4]int) {
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
		if bi, fi := answer(bv, i), answer(fv, i); bi > 0 && fi > 0 {
			cells = append(cells, PairCell{Kind: cellAdequacy, Part: uint8(part), V: [4]int32{int32(bi), int32(fi)}})
		}
	}
	for part, s := range c.supports {
		if i, ok := x.sup[s]; ok {
			cells = shareCell(cells, part, ratings(bv, i), ratings(fv, i))
		}
	}
	return shareCell(cells, len(c.supports), b.LetDown, f.LetDown)
}
