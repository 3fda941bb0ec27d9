package summary

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// A packed vector unpacks to the vector it was packed from, whatever its
// counts: none, small, negative (a response taken away), or beyond any
// number of bytes a varint's first takes.
func TestPacked_UnpacksToWhatWasPacked(t *testing.T) {
	x := NewIndex(indexScheme)
	r := rand.New(rand.NewPCG(7, 8))
	values := []int64{1, -1, 2, 63, 64, -64, -65, 127, 128, 300, math.MaxInt16 + 1, 1 << 40, -(1 << 40), math.MaxInt64, math.MinInt64}
	for round := range 2000 {
		v := make(vec, x.size())
		for i := range v {
			if r.IntN(3) == 0 {
				v[i] = values[r.IntN(len(values))]
			}
		}
		if round == 0 {
			clear(v)
		}
		p := pack(v)
		if got := x.vec(p); !slices.Equal(got, v) {
			t.Fatalf("packed %v, unpacked %v", v, got)
		}
		w := make(vec, x.size())
		p.addTo(w, -1)
		for i := range w {
			if w[i] != -v[i] {
				t.Fatalf("taken away from nothing, %v gives %v", v, w)
			}
		}
	}
	if p := pack(make(vec, x.size())); p.s != "" {
		t.Errorf("nothing packs to %q", p.s)
	}
}

// Packing a response's inputs and unpacking them gives the vector of their
// tally.
func TestPacked_PackIsTheInputsTally(t *testing.T) {
	x := NewIndex(indexScheme)
	r := rand.New(rand.NewPCG(9, 10))
	for range 500 {
		in := randomInput(r)
		var tally Tally
		tally.Add(in)
		if got, want := x.vec(x.Pack(in)), x.toVec(tally); !slices.Equal(got, want) {
			t.Fatalf("%+v: unpacked %v, want %v", in, got, want)
		}
	}
}
