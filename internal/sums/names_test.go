package sums

import (
	"testing"

	"github.com/lifelong-links/sct/internal/summary"
)

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
