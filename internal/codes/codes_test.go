package codes

import (
	"fmt"
	"sync"
	"testing"
)

// Coded at once from many goroutines, each value gets one code, and each
// code reads back as its value while others are being given.
func TestTable_OneCodeEachAtOnce(t *testing.T) {
	var tab Table[string]
	const goroutines, values = 8, 500
	got := make([][]uint32, goroutines)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			got[g] = make([]uint32, values)
			for i := range values {
				v := fmt.Sprint((i*7 + g) % values)
				c := tab.Code(v)
				if back := tab.Value(c); back != v {
					t.Errorf("%q coded %d reads back as %q", v, c, back)
					return
				}
				got[g][(i*7+g)%values] = c
			}
		})
	}
	wg.Wait()
	seen := map[uint32]int{}
	for i := range values {
		for g := range goroutines {
			if got[g][i] != got[0][i] {
				t.Fatalf("%d coded %d and %d", i, got[0][i], got[g][i])
			}
		}
		if j, dup := seen[got[0][i]]; dup {
			t.Fatalf("%d and %d share the code %d", i, j, got[0][i])
		}
		seen[got[0][i]] = i
	}
}

// Find gives no code to a value that has none.
func TestTable_FindGivesNoCode(t *testing.T) {
	var tab Table[string]
	if _, ok := tab.Find("a"); ok {
		t.Fatal("found a code in an empty table")
	}
	a := tab.Code("a")
	if c, ok := tab.Find("a"); !ok || c != a {
		t.Errorf("Find(a) = %d, %v; want %d, true", c, ok, a)
	}
	if _, ok := tab.Find("b"); ok {
		t.Error("found a code for a value never coded")
	}
}
