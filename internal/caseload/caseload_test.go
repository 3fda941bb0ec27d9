package caseload_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/lifelong-links/sct/internal/caseload"
	"github.com/lifelong-links/sct/internal/followup"
	"github.com/lifelong-links/sct/internal/participation"
	"github.com/lifelong-links/sct/internal/store"
	"github.com/lifelong-links/sct/internal/store/storetest"
)

// The caseload's tests run on the embedded store, then in MongoDB mode.
func TestMain(m *testing.M) { os.Exit(storetest.RunBoth(m)) }

var today = time.Date(2020, 3, 10, 15, 0, 0, 0, time.UTC)

var months = map[string]int{"A": 6, "B": 3, "C": 12}

func follow(s *store.Store) *caseload.Caseload {
	c := caseload.New(s)
	s.OnCommit(c.Committed)
	s.OnChildCommit(c.ChildCommitted)
	return c
}

// reference works out the due list, returns and Table 7 the way the
// followup and participation packages do from every record, read back.
func reference(t *testing.T, s *store.Store, site string) ([]followup.Item, map[string]int, []followup.Return, participation.Table7) {
	t.Helper()
	ctx := t.Context()
	children, err := s.ChildrenOfSite(ctx, site)
	if err != nil {
		t.Fatal(err)
	}
	responses, err := s.ResponsesOfSite(ctx, site)
	if err != nil {
		t.Fatal(err)
	}
	scts := map[string][]followup.SCT{}
	records := make([]followup.Record, len(responses))
	for i, r := range responses {
		records[i] = followup.Record{Site: r.Site, Form: r.Form, Version: r.Version, Timepoint: r.Timepoint, Status: r.Status, Wave: r.Wave}
		if r.Form == "sct" && r.Status == store.StatusSubmitted {
			scts[r.ChildID] = append(scts[r.ChildID], followup.SCT{Timepoint: r.Timepoint, Wave: r.Wave, CompletedOn: r.CompletedOn})
		}
	}
	perSite := map[string]int{}
	list := make([]followup.Child, len(children))
	for i, ch := range children {
		ceased := ch.Participation != nil && ch.Participation.CeasedOn != ""
		list[i] = followup.Child{ID: ch.ID, Site: ch.Site, Group: ch.Group, Ceased: ceased, SCTs: scts[ch.ID]}
		perSite[ch.Site]++
	}
	items := followup.List(list, months, today)
	return items, followup.Counts(items), followup.Returns(perSite, records, items), participation.Count(children)
}

// every reads a site's whole due list, pages of size at a time.
func every(t *testing.T, c *caseload.Caseload, site string, size int) ([]followup.Item, map[string]int) {
	t.Helper()
	var all []followup.Item
	var counts map[string]int
	after := ""
	for pages := 0; pages < 1000; pages++ {
		p, err := c.FollowUps(t.Context(), site, months[site], today, after, size)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Items) > size || (p.Next != "" && len(p.Items) != size) {
			t.Fatalf("a page of %d items (next %q) with a limit of %d", len(p.Items), p.Next, size)
		}
		all, counts = append(all, p.Items...), p.Counts
		if p.Next == "" {
			return all, counts
		}
		after = p.Next
	}
	t.Fatal("the pages do not end")
	return nil, nil
}

func agree(t *testing.T, s *store.Store, c *caseload.Caseload, when string) {
	t.Helper()
	for _, site := range []string{"A", "B", "C"} {
		wantItems, wantCounts, wantReturns, wantTable := reference(t, s, site)
		items, counts := every(t, c, site, 7)
		if len(items) == 0 {
			items = []followup.Item{}
		}
		if !reflect.DeepEqual(items, wantItems) {
			t.Fatalf("%s, site %s: due list\n%+v\nwant\n%+v", when, site, items, wantItems)
		}
		if !reflect.DeepEqual(counts, wantCounts) {
			t.Errorf("%s, site %s: counts %v, want %v", when, site, counts, wantCounts)
		}
		returns, err := c.Returns(t.Context(), site, months, today)
		if err != nil || !reflect.DeepEqual(returns, wantReturns) {
			t.Errorf("%s, site %s: returns %+v (%v), want %+v", when, site, returns, err, wantReturns)
		}
		table, err := c.Table7(t.Context(), site)
		if err != nil || !reflect.DeepEqual(table, wantTable) {
			t.Errorf("%s, site %s: Table 7 %+v (%v), want %+v", when, site, table, err, wantTable)
		}
	}
	_, _, wantAll, wantTable := reference(t, s, "")
	if all, err := c.Returns(t.Context(), "", months, today); err != nil || !reflect.DeepEqual(all, wantAll) {
		t.Errorf("%s, every site: returns %+v (%v), want %+v", when, all, err, wantAll)
	}
	if table, err := c.Table7(t.Context(), ""); err != nil || !reflect.DeepEqual(table, wantTable) {
		t.Errorf("%s, every site: Table 7 %+v (%v), want %+v", when, table, err, wantTable)
	}
}

// write makes a random history: children registered, SCTs at each
// timepoint (some drafts, some revised), practice summaries, participation
// records ended or not, and erasures.
func write(t *testing.T, s *store.Store, r *rand.Rand, n int, prefix string) {
	t.Helper()
	ctx := t.Context()
	yes := true
	for i := range n {
		id := fmt.Sprintf("%s%03d", prefix, i)
		site := []string{"A", "B", "C"}[r.IntN(3)]
		if _, err := s.CreateChild(ctx, store.Child{ID: id, Site: site, Group: []string{"lifelong_links", "comparison"}[r.IntN(2)]}); err != nil {
			t.Fatal(err)
		}
		day := time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, r.IntN(420))
		resp := func(rid, form, tp string, wave int, status string, on time.Time) store.Response {
			return store.Response{ID: rid, Form: form, Version: "1", ChildID: id, Site: site, Group: "comparison", Timepoint: tp,
				Wave: wave, CompletedOn: on.Format(time.DateOnly), Mode: "paper", Status: status, Revision: 1, BodyHash: rid,
				Answers: map[string]any{}, CreatedAt: time.Now(), UpdatedAt: time.Now()}
		}
		switch r.IntN(5) {
		case 0: // nothing yet
		case 1: // a draft baseline
			if err := s.InsertResponse(ctx, resp(id+"-d", "sct", "baseline", 1, store.StatusDraft, day)); err != nil {
				t.Fatal(err)
			}
		default:
			b := resp(id+"-b", "sct", "baseline", 1, store.StatusSubmitted, day)
			if err := s.InsertResponse(ctx, b); err != nil {
				t.Fatal(err)
			}
			for w := 1; w <= r.IntN(3); w++ {
				f := resp(fmt.Sprintf("%s-f%d", id, w), "sct", "follow_up", w, store.StatusSubmitted, day.AddDate(0, 0, 170*w))
				if err := s.InsertResponse(ctx, f); err != nil {
					t.Fatal(err)
				}
			}
			if r.IntN(3) == 0 { // a revision moves the baseline's date
				b2 := b
				b2.Revision, b2.BodyHash, b2.CompletedOn = 2, b.ID+"-2", day.AddDate(0, 0, -20).Format(time.DateOnly)
				if err := s.UpdateResponse(ctx, b2, b); err != nil {
					t.Fatal(err)
				}
			}
		}
		if r.IntN(3) == 0 {
			p := resp(id+"-p", "practice-summary", "", 1, store.StatusSubmitted, day.AddDate(0, 2, 0))
			p.Version = []string{"1", "2"}[r.IntN(2)]
			if err := s.InsertResponse(ctx, p); err != nil {
				t.Fatal(err)
			}
		}
		if r.IntN(2) == 0 {
			rec := store.Participation{Eligible: &yes, Participating: &yes, StartedOn: "2019-01-01"}
			if r.IntN(3) == 0 {
				rec.CeasedOn, rec.ReasonCeased = "2019-09-01", intp([]int{1, 2, 3}[r.IntN(3)])
				rec.FGCCompleted = intp(r.IntN(2))
			}
			if r.IntN(4) == 0 {
				rec.Pauses = []store.Pause{{From: "2019-03-01"}}
			}
			if _, err := s.SetParticipation(ctx, id, rec); err != nil {
				t.Fatal(err)
			}
		}
		if r.IntN(12) == 0 {
			if err := s.EraseChild(ctx, id); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func intp(v int) *int { return &v }

// The caseload follows every write and agrees with the due list, returns
// and Table 7 worked out from every record; one built afresh agrees too.
func TestCaseload_AgreesWithTheRecordsWhateverTheWrites(t *testing.T) {
	s := storetest.Open(t, store.Options{})
	c := follow(s)
	r := rand.New(rand.NewPCG(1, 2))
	write(t, s, r, 30, "E") // before the caseload is first read: the load reads them
	agree(t, s, c, "after the load")
	write(t, s, r, 60, "L") // after: the hooks carry them
	agree(t, s, c, "after more writes")
	fresh := follow(s)
	agree(t, s, fresh, "built afresh")

	// A site's interval changes: its list follows.
	months["A"] = 9
	defer func() { months["A"] = 6 }()
	agree(t, s, c, "with a new interval")
}

// Paging: a cursor the caseload did not make is refused.
func TestCaseload_RefusesACursorItDidNotMake(t *testing.T) {
	s := storetest.Open(t, store.Options{})
	c := follow(s)
	for _, after := range []string{"nonsense", "x:C1"} {
		if _, err := c.FollowUps(context.Background(), "A", 6, today, after, 5); err == nil {
			t.Errorf("cursor %q accepted", after)
		}
	}
}

// On a shared store another instance's writes reach the caseload within
// the catch-up interval.
func TestCaseload_CatchesUpWithAnotherInstance(t *testing.T) {
	if !storetest.MongoDB() {
		t.Skip("the embedded store has one instance")
	}
	ctx := context.Background()
	dir := t.TempDir()
	here, there := storetest.OpenAt(t, dir, store.Options{}), storetest.OpenAt(t, dir, store.Options{})
	c := follow(here)
	r := rand.New(rand.NewPCG(3, 4))
	write(t, here, r, 10, "H")
	agree(t, here, c, "own writes")
	write(t, there, r, 25, "T")
	deadline := time.Now().Add(8 * time.Second)
	for {
		_, _, want, _ := reference(t, here, "")
		got, err := c.Returns(ctx, "", months, today)
		if err == nil && reflect.DeepEqual(got, want) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("another instance's writes not seen: %+v, want %+v", got, want)
		}
		time.Sleep(200 * time.Millisecond)
	}
	agree(t, here, c, "after catching up")
}
