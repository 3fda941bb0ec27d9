package sums_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/lifelong-links/sct/internal/practice"
	"github.com/lifelong-links/sct/internal/store"
	"github.com/lifelong-links/sct/internal/store/storetest"
	"github.com/lifelong-links/sct/internal/summary"
	"github.com/lifelong-links/sct/internal/sums"
)

var practiceScheme = practice.Scheme{Tools: []string{"genogram", "ecomap", "mobility"}, Outcomes: []string{"contact", "placement"},
	ObjectiveCategories: []string{"family", "school"}}

func randomPractice(r *rand.Rand) practice.Input {
	n := func(hi int) *int {
		if r.IntN(5) == 0 {
			return nil
		}
		v := r.IntN(hi)
		return &v
	}
	pick := func(codes []string) []string {
		var out []string
		for _, c := range codes {
			if r.IntN(2) == 0 {
				out = append(out, c)
			}
		}
		return out
	}
	in := practice.Input{Version: []string{"1", "2", "2", "3"}[r.IntN(4)], Identified: n(30), Retained: n(20), Attendees: n(15),
		Route: []string{"fgc", "plan_without_fgc", "neither", ""}[r.IntN(4)]}
	if r.IntN(4) > 0 {
		in.ToolsAnswered, in.Tools = true, pick(append(practiceScheme.Tools, "unknown"))
	}
	if r.IntN(4) > 0 {
		in.OutcomesAnswered, in.Outcomes = true, pick(practiceScheme.Outcomes)
	}
	for range r.IntN(4) {
		met := r.IntN(2) == 0
		o := practice.Objective{Category: []string{"family", "school", "other"}[r.IntN(3)], Met: &met}
		if r.IntN(5) == 0 {
			o.Met = nil
		}
		in.Objectives = append(in.Objectives, o)
	}
	start := time.Date(2018, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, r.IntN(700))
	if r.IntN(6) > 0 {
		in.StartedOn, in.EndedOn = start.Format(time.DateOnly), start.AddDate(0, 0, r.IntN(400)-20).Format(time.DateOnly)
	}
	return in
}

// The practice sums answer every query as the tables worked out from the
// summaries it selects do, after random submissions, revisions and
// erasures, and again after a restart.
func TestPractice_AgreesWithTablesOfTheSummaries(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	s := storetest.OpenAt(t, dir, store.Options{})
	follow := func(s *store.Store) *sums.Practice {
		p := sums.NewPractice(s, "practice-summary", practiceScheme)
		s.OnCommit(p.Committed)
		return p
	}
	p := follow(s)
	r := rand.New(rand.NewPCG(7, 13))
	live := map[string]store.Response{} // what the store holds, by id
	days := func() string {
		return time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, r.IntN(120)).Format(time.DateOnly)
	}
	put := func(id string) { // each summary is a child's own
		in := randomPractice(r)
		b, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		next := store.Response{ID: id, Form: "practice-summary", Version: in.Version, ChildID: "C-" + id, Site: []string{"A", "B", "C"}[r.IntN(3)],
			Group: "lifelong_links", CompletedOn: days(), Mode: "web", Status: store.StatusSubmitted, Revision: 1, BodyHash: "h",
			Answers: map[string]any{}, Derived: b, CreatedAt: time.Now(), UpdatedAt: time.Now()}
		write(t, s, live, next)
	}
	check := func(p *sums.Practice, when string) {
		t.Helper()
		queries := []summary.Query{{}, {Site: "B"}, {Version: "2"}, {From: "2019-02-10", To: "2019-03-31"},
			{From: "2019-01-31"}, {To: "2019-02-01"}, {Site: "A", From: "2019-02-01", To: "2019-02-28"}, {From: "2019-03-05", To: "2019-03-05"},
			{To: "2019-01-29"}, {From: "2019-03-02"}}
		for _, q := range queries {
			var cases []practice.Case
			ids := make([]string, 0, len(live))
			for id := range live {
				ids = append(ids, id)
			}
			slices.Sort(ids)
			for _, id := range ids {
				resp := live[id]
				k := summary.Key{Form: "practice-summary", Site: resp.Site, Group: resp.Group, Version: resp.Version, Day: resp.CompletedOn}
				if q.Selects(k) {
					var in practice.Input
					if err := json.Unmarshal(resp.Derived, &in); err != nil {
						t.Fatal(err)
					}
					cases = append(cases, practice.Case{Site: resp.Site, Input: in})
				}
			}
			want := practice.Tables(practiceScheme, cases)
			got, err := p.Report(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(jsonOf(t, got), jsonOf(t, want)) {
				t.Errorf("%s, query %+v:\n got %s\nwant %s", when, q, jsonOf(t, got), jsonOf(t, want))
			}
		}
	}
	for i := range 150 {
		put(fmt.Sprintf("p%03d", i))
	}
	check(p, "after submissions")
	for range 60 {
		put(fmt.Sprintf("p%03d", r.IntN(150)))
	}
	for _, child := range []string{"C-p003", "C-p017", "C-p099"} {
		if err := s.EraseChild(ctx, child); err != nil {
			t.Fatal(err)
		}
		for id, resp := range live {
			if resp.ChildID == child {
				delete(live, id)
			}
		}
	}
	check(p, "after revisions and erasures")
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	check(follow(storetest.OpenAt(t, dir, store.Options{})), "after a restart")
}

// jsonOf is what a report encodes as, with floats rounded past their last
// few bits: adding the same fractions in another order may change those.
func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var generic any
	if err := json.Unmarshal(b, &generic); err != nil {
		t.Fatal(err)
	}
	var round func(any) any
	round = func(v any) any {
		switch x := v.(type) {
		case float64:
			return fmt.Sprintf("%.10g", x)
		case map[string]any:
			for k, e := range x {
				x[k] = round(e)
			}
		case []any:
			for i, e := range x {
				x[i] = round(e)
			}
		}
		return v
	}
	out, _ := json.Marshal(round(generic))
	return string(out)
}

// write stores next as live holds it: submitted, or revised when live has
// it already; live then holds it as written.
func write(t *testing.T, s *store.Store, live map[string]store.Response, next store.Response) {
	t.Helper()
	old, ok := live[next.ID]
	if !ok {
		if err := s.InsertResponse(t.Context(), next); err != nil {
			t.Fatal(err)
		}
	} else {
		next.Revision, next.BodyHash = old.Revision+1, fmt.Sprintf("h%d", old.Revision+1)
		if err := s.UpdateResponse(t.Context(), next, old); err != nil {
			t.Fatal(err)
		}
	}
	live[next.ID] = next
}
