package summary

import (
	"math"
	"slices"
)

// Packed is what one response adds to the index: the tally of that response
// alone, as a flat vector over the index's scheme. Small numbers take two
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
	v := x.toVec(t)
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

// Unpack is the part of a packed response's inputs that the tables read:
// the number of people named (0 when none), the relationships and key
// relationships in the scheme, whether a key person was named (KeyPeople is
// 1 then, not their number), the ratings and the adequacy answers in range.
func (x *Index) Unpack(p Packed) Input {
	t := x.toTally(p.vec())
	in := Input{Nominees: t.NomineeSum, KeyPeople: t.NamedKeyPerson, LetDown: t.LetDown}
	for code := range t.Relationships {
		in.Relationships = append(in.Relationships, code)
	}
	for code := range t.KeyRelationships {
		in.KeyRelationships = append(in.KeyRelationships, code)
	}
	slices.Sort(in.Relationships)
	slices.Sort(in.KeyRelationships)
	if len(t.Support) > 0 {
		in.Support = t.Support
	}
	for s, c := range t.Adequacy {
		for i, n := range c {
			if n > 0 {
				if in.Adequacy == nil {
					in.Adequacy = map[string]int{}
				}
				in.Adequacy[s] = i + 1
			}
		}
	}
	return in
}

// Sum adds packed responses up, as the index would add them to one bucket.
func (x *Index) Sum(ps []Packed) Tally {
	v := make(vec, x.size())
	for _, p := range ps {
		p.addTo(v, 1)
	}
	return x.toTally(v)
}
