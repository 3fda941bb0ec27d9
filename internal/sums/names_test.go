package sums

import (
	"fmt"
	"sync"
	"testing"

	"github.com/lifelong-links/sct/internal/summary"
)

// Named at once from many goroutines, each value gets one number, and each
// number reads back as its value while others are being named.
func TestNames_OneNumberEachAtOnce(t *testing.T) {
	var n names[string]
	const goroutines, values = 8, 500
	got := make([][]uint32, goroutines)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			got[g] = make([]uint32, values)
			for i := range values {
				v := fmt.Sprint((i*7 + g) % values)
				id := n.id(v)
				if back := n.of(id); back != v {
					t.Errorf("%q named %d reads back as %q", v, id, back)
					return
				}
				got[g][(i*7+g)%values] = id
			}
		})
	}
	wg.Wait()
	seen := map[uint32]int{}
	for i := range values {
		for g := range goroutines {
			if got[g][i] != got[0][i] {
				t.Fatalf("%d named %d and %d", i, got[0][i], got[g][i])
			}
		}
		if j, dup := seen[got[0][i]]; dup {
			t.Fatalf("%d and %d share the number %d", i, j, got[0][i])
		}
		seen[got[0][i]] = i
	}
}

// A key held as numbers reads back as the key, its series as the key
// without its day; keys of one series share their series' number.
func TestKeyID_ReadsBackAsTheKey(t *testing.T) {
	k := summary.Key{Form: "sct", Site: "A", Group: "comparison", Timepoint: "follow_up", Version: "2", Wave: 2, Day: "2019-03-04"}
	other := k
	other.Day = "2019-03-05"
	a, b := idOf(k), idOf(other)
	if a.Key() != k || b.Key() != other {
		t.Fatalf("read back as %+v and %+v", a.Key(), b.Key())
	}
	if a.series != b.series || a.day == b.day {
		t.Errorf("one series, two days: %+v and %+v", a, b)
	}
	series := k
	series.Day = ""
	if got := a.series.Key(); got != series {
		t.Errorf("series read back as %+v, want %+v", got, series)
	}
}
