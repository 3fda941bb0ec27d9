package summary

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
)

var indexScheme = Scheme{
	Relationships: []string{"biological_mother", "sibling", "friend", "school_staff"},
	Supports:      []string{"emotional", "trust"},
}

func randomInput(r *rand.Rand) Input {
	in := Input{Nominees: r.IntN(8), KeyPeople: r.IntN(3), Support: map[string][4]int{}, Adequacy: map[string]int{}}
	for _, rel := range indexScheme.Relationships {
		if in.Nominees > 0 && r.IntN(2) == 0 {
			in.Relationships = append(in.Relationships, rel)
		}
		if in.KeyPeople > 0 && r.IntN(3) == 0 {
			in.KeyRelationships = append(in.KeyRelationships, rel)
		}
	}
	for _, s := range indexScheme.Supports {
		in.Support[s] = [4]int{r.IntN(2), r.IntN(2), r.IntN(3), r.IntN(3)}
		if r.IntN(4) > 0 {
			in.Adequacy[s] = 1 + r.IntN(3)
		}
	}
	in.LetDown = [4]int{r.IntN(2), r.IntN(2), 0, r.IntN(2)}
	return in
}

// The index answers every query exactly as adding up the inputs one by one.
func TestIndex_MatchesBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	type row struct {
		k  Key
		in Input
	}
	var rows []row
	buckets := map[Key]*Tally{}
	for i := 0; i < 600; i++ {
		k := Key{Form: "sct", Site: []string{"A", "B", "C"}[r.IntN(3)], Group: []string{"lifelong_links", "comparison"}[r.IntN(2)],
			Timepoint: []string{"baseline", "follow_up"}[r.IntN(2)], Version: []string{"1", "2"}[r.IntN(2)], Wave: 1 + r.IntN(2),
			Day: fmt.Sprintf("2019-%02d-%02d", 1+r.IntN(6), 1+r.IntN(28))}
		in := randomInput(r)
		rows = append(rows, row{k, in})
		if buckets[k] == nil {
			buckets[k] = &Tally{}
		}
		buckets[k].Add(in)
	}
	x := NewIndex(indexScheme)
	for k, t := range buckets {
		x.Set(k, *t)
	}
	queries := []Query{
		{}, {Form: "sct"}, {Site: "A"}, {Site: "B", Group: "comparison"}, {Timepoint: "follow_up", Wave: 2},
		{Version: "2"}, {From: "2019-02-15"}, {To: "2019-03-10"}, {From: "2019-02-15", To: "2019-02-20"},
		{From: "2019-03-01", To: "2019-04-30", Site: "C"}, {From: "2019-07-01"}, {Site: "Z"},
	}
	for _, q := range queries {
		t.Run(fmt.Sprintf("%+v", q), func(t *testing.T) {
			var want Tally
			for _, rw := range rows {
				k := rw.k
				if (q.Form == "" || k.Form == q.Form) && (q.Site == "" || k.Site == q.Site) && (q.Group == "" || k.Group == q.Group) &&
					(q.Timepoint == "" || k.Timepoint == q.Timepoint) && (q.Version == "" || k.Version == q.Version) &&
					(q.Wave == 0 || k.Wave == q.Wave) && (q.From == "" || k.Day >= q.From) && (q.To == "" || k.Day <= q.To) {
					want.Add(rw.in)
				}
			}
			got := x.Tally(q)
			if !reflect.DeepEqual(SCT("baseline", indexScheme, got), SCT("baseline", indexScheme, want)) {
				t.Errorf("index and brute force differ:\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestIndex_SetReplacesAndEmptyRemoves(t *testing.T) {
	x := NewIndex(indexScheme)
	k := Key{Form: "sct", Site: "A", Group: "comparison", Timepoint: "baseline", Version: "1", Wave: 1, Day: "2019-05-05"}
	var one, two Tally
	one.Add(Input{Nominees: 3, Relationships: []string{"friend"}})
	two.Add(Input{Nominees: 3, Relationships: []string{"friend"}})
	two.Add(Input{Nominees: 5, Relationships: []string{"sibling"}})
	x.Set(k, one)
	if got := x.Tally(Query{}); got.Respondents != 1 {
		t.Fatalf("after the first set: %+v", got)
	}
	x.Set(k, two) // must not be answered from the cache
	if got := x.Tally(Query{}); got.Respondents != 2 || got.NomineeSum != 8 || got.Relationships["sibling"] != 1 {
		t.Errorf("after replacing: %+v", got)
	}
	x.Set(k, Tally{})
	if got := x.Tally(Query{}); got.Respondents != 0 || len(x.Keys()) != 0 {
		t.Errorf("after emptying: %+v, keys %v", got, x.Keys())
	}
}

func BenchmarkIndex_Tally(b *testing.B) {
	for _, buckets := range []int{1000, 40000} {
		b.Run(fmt.Sprint(buckets), func(b *testing.B) {
			r := rand.New(rand.NewPCG(3, 4))
			x := NewIndex(indexScheme)
			for i := 0; i < buckets; i++ {
				var t Tally
				t.Add(randomInput(r))
				x.Set(Key{Form: "sct", Site: fmt.Sprint(i % 12), Group: fmt.Sprint(i % 2), Timepoint: "baseline", Version: "1", Wave: 1,
					Day: fmt.Sprintf("%d-%02d-%02d", 2017+i%3, 1+i%12, 1+i%28)}, t)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				_ = x.Tally(Query{Timepoint: "baseline"})
			}
		})
	}
}

// Replacing and emptying buckets in any order leaves the index answering
// every date range exactly as adding up the buckets left.
func TestIndex_RangesAfterChangesMatchBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	day := func() string { return fmt.Sprintf("201%d-%02d-%02d", 8+r.IntN(2), 1+r.IntN(12), 1+r.IntN(28)) }
	key := func() Key {
		return Key{Form: "sct", Site: []string{"A", "B"}[r.IntN(2)], Group: "comparison", Timepoint: []string{"baseline", "follow_up"}[r.IntN(2)],
			Version: "1", Wave: 1, Day: day()}
	}
	held := map[Key]Tally{}
	x := NewIndex(indexScheme)
	for i := 0; i < 3000; i++ {
		k := key()
		var b Tally
		if r.IntN(4) > 0 { // a quarter of the changes empty a bucket
			for n := 1 + r.IntN(3); n > 0; n-- {
				b.Add(randomInput(r))
			}
			held[k] = b
		} else {
			delete(held, k)
		}
		x.Set(k, b)
		if i%100 != 99 {
			continue
		}
		from, to := day(), day()
		for _, q := range []Query{{From: from, To: to}, {From: from}, {To: to}, {Site: "A", Timepoint: "baseline", From: from, To: to}, {}} {
			var want Tally
			for k, tally := range held {
				if (q.Site == "" || k.Site == q.Site) && (q.Timepoint == "" || k.Timepoint == q.Timepoint) &&
					(q.From == "" || k.Day >= q.From) && (q.To == "" || k.Day <= q.To) {
					want.Merge(tally)
				}
			}
			if got := x.Uncached(q); !reflect.DeepEqual(SCT("baseline", indexScheme, got), SCT("baseline", indexScheme, want)) {
				t.Fatalf("after %d changes, %+v: index and brute force differ:\n got %+v\nwant %+v", i+1, q, got, want)
			}
		}
	}
	if got := len(x.Keys()); got != len(held) {
		t.Errorf("%d buckets held, want %d", got, len(held))
	}
}

// A day holds its tally in two bytes a number while its counts fit, and
// whole once they do not: a day of a hundred twenty-person networks (a sum of
// squares of 40,000) is counted exactly, in every range that ends within
// its month, and back in two bytes when most of it is taken away.
func TestIndex_DayBeyondTwoBytesCountsExactly(t *testing.T) {
	x := NewIndex(indexScheme)
	big := x.Pack(Input{Nominees: 20, Relationships: []string{"friend"}})
	small := x.Pack(Input{Nominees: 2})
	k := Key{Form: "sct", Site: "A", Group: "comparison", Timepoint: "baseline", Version: "1", Wave: 1, Day: "2019-05-10"}
	before := k
	before.Day = "2019-05-03"
	x.Add(before, small, 1)
	for range 100 {
		x.Add(k, big, 1)
	}
	for _, c := range []struct {
		q                  Query
		respondents, sumSq int
	}{
		{Query{}, 101, 40004},
		{Query{From: "2019-05-01", To: "2019-05-10"}, 101, 40004},
		{Query{From: "2019-05-04", To: "2019-05-31"}, 100, 40000},
		{Query{To: "2019-05-09"}, 1, 4},
		{Query{From: "2019-05-11"}, 0, 0},
	} {
		got := x.Uncached(c.q)
		if got.Respondents != c.respondents || got.NomineeSumSquares != c.sumSq {
			t.Errorf("%+v: %d respondents, sum of squares %d; want %d and %d", c.q, got.Respondents, got.NomineeSumSquares, c.respondents, c.sumSq)
		}
	}
	if got := x.Uncached(Query{}).Relationships["friend"]; got != 100 {
		t.Errorf("friends: %d, want 100", got)
	}
	for range 99 {
		x.Add(k, big, -1)
	}
	if p, _ := x.day(k); p.wide != nil {
		t.Errorf("a day of one twenty-person network is still held whole")
	}
	if got := x.Uncached(Query{From: "2019-05-04"}); got.Respondents != 1 || got.NomineeSumSquares != 400 {
		t.Errorf("after taking 99 away: %d respondents, sum of squares %d; want 1 and 400", got.Respondents, got.NomineeSumSquares)
	}
}
