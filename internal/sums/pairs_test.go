package sums_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/lifelong-links/sct/internal/store"
	"github.com/lifelong-links/sct/internal/store/storetest"
	"github.com/lifelong-links/sct/internal/summary"
	"github.com/lifelong-links/sct/internal/sums"
)

var pairScheme = summary.Scheme{Relationships: []string{"friend", "sibling"}, Supports: []string{"emotional", "trust"}}

func randomSCT(r *rand.Rand) summary.Input {
	in := summary.Input{Nominees: r.IntN(21), KeyPeople: r.IntN(6), Support: map[string][4]int{}, Adequacy: map[string]int{}}
	for _, rel := range pairScheme.Relationships {
		if in.Nominees > 0 && r.IntN(2) == 0 {
			in.Relationships = append(in.Relationships, rel)
		}
		if in.KeyPeople > 0 && r.IntN(3) == 0 {
			in.KeyRelationships = append(in.KeyRelationships, rel)
		}
	}
	for _, s := range pairScheme.Supports {
		var c [4]int
		for range in.KeyPeople {
			c[r.IntN(4)]++
		}
		in.Support[s] = c
		if r.IntN(4) > 0 {
			in.Adequacy[s] = 1 + r.IntN(3)
		}
	}
	for range in.KeyPeople {
		in.LetDown[r.IntN(4)]++
	}
	return in
}

// The pairs kept joined give the comparison a join of every SCT gives, and
// the sums the tally of every SCT selected, for every filter, after random submissions, revisions (of sites, groups and
// days too) and erasures, and again after a restart.
func TestPaired_AgreesWithAJoinOfEverySCT(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	s := storetest.OpenAt(t, dir, store.Options{})
	follow := func(s *store.Store) *sums.Sums {
		m := sums.New(s, "sct", pairScheme)
		s.OnCommit(m.Committed)
		return m
	}
	m := follow(s)
	r := rand.New(rand.NewPCG(5, 23))
	live := map[string]store.Response{}
	put := func(child, timepoint string, wave int) {
		id := fmt.Sprintf("%s-%s-%d", child, timepoint, wave)
		in := randomSCT(r)
		b, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		day := time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, r.IntN(200)).Format(time.DateOnly)
		next := store.Response{ID: id, Form: "sct", Version: "1", ChildID: child, Site: []string{"A", "B"}[r.IntN(2)],
			Group: []string{"lifelong_links", "comparison"}[r.IntN(2)], Timepoint: timepoint, Wave: wave, CompletedOn: day,
			Mode: "paper", Status: store.StatusSubmitted, Revision: 1, BodyHash: "h", Answers: map[string]any{}, Derived: b,
			CreatedAt: time.Now(), UpdatedAt: time.Now()}
		write(t, s, live, next)
	}
	check := func(m *sums.Sums, when string) {
		t.Helper()
		queries := []summary.Query{{}, {Site: "A"}, {Group: "comparison"}, {Version: "1"}, {From: "2019-02-01", To: "2019-05-31"}, {From: "2019-03-10"},
			{To: "2019-04-15"}, {From: "2019-03-10", To: "2019-03-10"}, {From: "2019-05-01", To: "2019-02-01"}, {From: "2019-02-01", To: "2019-02-01T"}}
		for _, q := range queries {
			var want summary.Tally
			for _, resp := range live {
				k := summary.Key{Form: "sct", Site: resp.Site, Group: resp.Group, Timepoint: resp.Timepoint, Version: resp.Version, Wave: resp.Wave, Day: resp.CompletedOn}
				if q.Selects(k) {
					var in summary.Input
					if err := json.Unmarshal(resp.Derived, &in); err != nil {
						t.Fatal(err)
					}
					want.Add(in)
				}
			}
			got, err := m.Tally(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			if g, w := jsonOf(t, got), jsonOf(t, want); g != w {
				t.Errorf("%s, tally of query %+v:\n got %s\nwant %s", when, q, g, w)
			}
			for _, wave := range []int{1, 2} {
				ids := make([]string, 0, len(live))
				for id := range live {
					ids = append(ids, id)
				}
				slices.Sort(ids)
				baseline := map[string]store.Response{}
				key := func(r store.Response) summary.Key {
					return summary.Key{Form: "sct", Site: r.Site, Group: r.Group, Timepoint: r.Timepoint, Version: r.Version, Wave: r.Wave, Day: r.CompletedOn}
				}
				bq, fq := q, q
				bq.Timepoint, fq.Timepoint, fq.Wave = "baseline", "follow_up", wave
				for _, id := range ids {
					if b := live[id]; bq.Selects(key(b)) {
						baseline[b.ChildID] = b
					}
				}
				var pairs []summary.Pair
				for _, id := range ids {
					f := live[id]
					b, ok := baseline[f.ChildID]
					if !ok || !fq.Selects(key(f)) {
						continue
					}
					var bi, fi summary.Input
					if err := json.Unmarshal(b.Derived, &bi); err != nil {
						t.Fatal(err)
					}
					if err := json.Unmarshal(f.Derived, &fi); err != nil {
						t.Fatal(err)
					}
					pairs = append(pairs, summary.Pair{ChildID: f.ChildID, Group: b.Group, Baseline: bi, FollowUp: fi})
				}
				want := summary.Paired(pairScheme, pairs)
				got, err := m.Paired(ctx, q, wave, pairScheme)
				if err != nil {
					t.Fatal(err)
				}
				if g, w := jsonOf(t, got), jsonOf(t, want); g != w {
					t.Errorf("%s, query %+v wave %d:\n got %s\nwant %s", when, q, wave, g, w)
				}
			}
		}
	}
	for i := range 80 {
		child := fmt.Sprintf("C%02d", i)
		put(child, "baseline", 0)
		if i%2 == 0 {
			put(child, "follow_up", 1)
		}
		if i%5 == 0 {
			put(child, "follow_up", 2)
		}
	}
	check(m, "after submissions")
	for range 50 {
		i := r.IntN(80)
		child := fmt.Sprintf("C%02d", i)
		switch r.IntN(3) {
		case 0:
			put(child, "baseline", 0)
		default:
			put(child, "follow_up", 1+r.IntN(2))
		}
	}
	for _, child := range []string{"C04", "C10", "C33"} {
		if err := s.EraseChild(ctx, child); err != nil {
			t.Fatal(err)
		}
		for id, resp := range live {
			if resp.ChildID == child {
				delete(live, id)
			}
		}
	}
	check(m, "after revisions and erasures")
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	s = storetest.OpenAt(t, dir, store.Options{})
	m = follow(s)
	check(m, "after a restart")

	// Loaded again, then written to before any comparison joins the pairs:
	// the join made at the first comparison holds the writes.
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	s = storetest.OpenAt(t, dir, store.Options{})
	m = follow(s)
	if _, err := m.Tally(ctx, summary.Query{}); err != nil { // loads the sums, not the pairs
		t.Fatal(err)
	}
	for i := range 12 {
		if i%2 == 0 {
			put(fmt.Sprintf("C%02d", 40+i), "baseline", 0)
		} else {
			put(fmt.Sprintf("C%02d", 40+i), "follow_up", 1+i%3%2)
		}
	}
	check(m, "after writes made between a load and the first comparison")
}

// A comparison with dates counts whole blocks of pairs at once where it
// can (summary.RunBlock): with hundreds of pairs in one series, ranges of
// every width, and follow-ups on either side of their baselines, it still
// gives what a join of every SCT gives.
func TestPaired_DatesCountWholeBlocksAsTheirPairs(t *testing.T) {
	ctx := t.Context()
	s := storetest.Open(t, store.Options{})
	r := rand.New(rand.NewPCG(9, 41))
	start := time.Date(2018, 1, 1, 0, 0, 0, 0, time.UTC)
	day := func(d int) string { return start.AddDate(0, 0, d).Format(time.DateOnly) }
	var rs []store.Response
	var base, follow []store.Response
	for i := range 700 {
		child := fmt.Sprintf("C%03d", i)
		b := r.IntN(700)
		f := b + r.IntN(400)
		if i%5 == 0 {
			f = b - 1 - r.IntN(60) // a follow-up dated before its baseline, as an import may hold
		}
		for n, tp := range []string{"baseline", "follow_up"} {
			in := randomSCT(r)
			text, err := json.Marshal(in)
			if err != nil {
				t.Fatal(err)
			}
			resp := store.Response{ID: fmt.Sprintf("%s-%s", child, tp), Form: "sct", Version: "1", ChildID: child, Site: "A",
				Group: "lifelong_links", Timepoint: tp, Wave: 1, CompletedOn: day([]int{b, f}[n]), Mode: "paper",
				Status: store.StatusSubmitted, Revision: 1, BodyHash: "h", Answers: map[string]any{}, Derived: text}
			rs = append(rs, resp)
			if n == 0 {
				base = append(base, resp)
			} else {
				follow = append(follow, resp)
			}
		}
	}
	if _, err := s.ImportResponses(ctx, rs); err != nil {
		t.Fatal(err)
	}
	m := sums.New(s, "sct", pairScheme)
	decode := func(resp store.Response) summary.Input {
		var in summary.Input
		if err := json.Unmarshal(resp.Derived, &in); err != nil {
			t.Fatal(err)
		}
		return in
	}
	ranges := [][2]int{{0, 1200}, {0, 500}, {100, 900}, {200, 260}, {350, 350}, {-10, 2000}, {600, 1100}}
	for range 20 {
		from := r.IntN(900)
		ranges = append(ranges, [2]int{from, from + r.IntN(600)})
	}
	for _, rg := range ranges {
		q := summary.Query{From: day(rg[0]), To: day(rg[1])}
		var pairs []summary.Pair
		for i := range base {
			b, f := base[i], follow[i]
			if q.From <= b.CompletedOn && b.CompletedOn <= q.To && q.From <= f.CompletedOn && f.CompletedOn <= q.To {
				pairs = append(pairs, summary.Pair{ChildID: b.ChildID, Group: b.Group, Baseline: decode(b), FollowUp: decode(f)})
			}
		}
		want := summary.Paired(pairScheme, pairs)
		got, err := m.Paired(ctx, q, 1, pairScheme)
		if err != nil {
			t.Fatal(err)
		}
		if g, w := jsonOf(t, got), jsonOf(t, want); g != w {
			t.Errorf("dates %s to %s (%d pairs):\n got %s\nwant %s", q.From, q.To, len(pairs), g, w)
		}
	}
}
