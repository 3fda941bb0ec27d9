package sums_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/lifelong-links/sct/forms"
	"github.com/lifelong-links/sct/internal/form"
	"github.com/lifelong-links/sct/internal/store"
	"github.com/lifelong-links/sct/internal/store/storetest"
	"github.com/lifelong-links/sct/internal/summary"
	"github.com/lifelong-links/sct/internal/summary/summarytest"
	"github.com/lifelong-links/sct/internal/sums"
)

// The sums' tests run on the embedded store, then in MongoDB mode.
func TestMain(m *testing.M) { os.Exit(storetest.RunBoth(m)) }

var scheme = summary.Scheme{Relationships: []string{"friend"}, Supports: []string{"trust"}}

func derived(t *testing.T, in summary.Input) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func submitted(t *testing.T, id, child, day string, n int) store.Response {
	return store.Response{ID: id, Form: "sct", Version: "1", ChildID: child, Site: "A", Group: "comparison", Timepoint: "baseline",
		Wave: 1, CompletedOn: day, Mode: "paper", Status: store.StatusSubmitted, Revision: 1, BodyHash: "h-" + id,
		Answers: map[string]any{}, Derived: derived(t, summary.Input{Nominees: n, Relationships: []string{"friend"}}),
		CreatedAt: time.Now(), UpdatedAt: time.Now()}
}

func follow(s *store.Store) *sums.Sums {
	m := sums.New(s, "sct", scheme)
	s.OnCommit(m.Committed)
	return m
}

func tallyOf(t *testing.T, m *sums.Sums) summary.Tally {
	t.Helper()
	got, err := m.Tally(t.Context(), summary.Query{Timepoint: "baseline"})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// The sums follow every write, a restart rebuilds them from the responses,
// and the check finds sums that went astray.
func TestSums_FollowWritesAndCheckFindsDrift(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	open := func() *store.Store { return storetest.OpenAt(t, dir, store.Options{}) }
	s := open()
	m := follow(s)
	a, b := submitted(t, "a", "C1", "2019-06-14", 4), submitted(t, "b", "C2", "2019-07-01", 2)
	for _, r := range []store.Response{a, b} {
		if err := s.InsertResponse(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if got := tallyOf(t, m); got.Respondents != 2 || got.NomineeSum != 6 {
		t.Fatalf("after two submissions: %+v", got)
	}
	a2 := a
	a2.Revision, a2.BodyHash, a2.Derived = 2, "h-a-2", derived(t, summary.Input{Nominees: 9})
	if err := s.UpdateResponse(ctx, a2, a); err != nil {
		t.Fatal(err)
	}
	if got := tallyOf(t, m); got.Respondents != 2 || got.NomineeSum != 11 {
		t.Errorf("after a revision: %+v", got)
	}
	// A practice summary with inputs of its own is not an SCT's.
	p := submitted(t, "p", "C1", "2019-06-20", 0)
	p.Form, p.Derived = "practice-summary", json.RawMessage(`{"version":"1","tools":["x"]}`)
	if err := s.InsertResponse(ctx, p); err != nil {
		t.Fatal(err)
	}
	if diffs, err := m.Check(ctx); err != nil || len(diffs) != 0 {
		t.Errorf("check: %v %v", diffs, err)
	}
	if err := s.EraseChild(ctx, "C2"); err != nil {
		t.Fatal(err)
	}
	if got := tallyOf(t, m); got.Respondents != 1 || got.NomineeSum != 9 {
		t.Errorf("after erasure: %+v", got)
	}

	// Sums gone astray are reported, and a rebuild mends them.
	drifted := a2
	drifted.Derived = derived(t, summary.Input{Nominees: 1})
	m.Committed("a", &drifted) // as if a write were told that never committed
	if diffs, _ := m.Check(ctx); len(diffs) != 1 || !strings.Contains(diffs[0], "response a") {
		t.Errorf("check after drift: %v", diffs)
	}
	if n, err := m.Rebuild(ctx); err != nil || n != 1 {
		t.Fatalf("rebuild: %d, %v; want 1 response", n, err)
	}
	if diffs, _ := m.Check(ctx); len(diffs) != 0 {
		t.Errorf("check after rebuild: %v", diffs)
	}

	// A restart builds the same sums from the responses.
	_ = s.Close(ctx)
	s = open()
	if got := tallyOf(t, follow(s)); got.Respondents != 1 || got.NomineeSum != 9 {
		t.Errorf("after a restart: %+v", got)
	}
}

// On a shared store another instance's submissions, revisions and
// erasures reach the sums within the catch-up interval.
func TestSums_CatchUpWithAnotherInstance(t *testing.T) {
	if !storetest.MongoDB() {
		t.Skip("the embedded store has one instance")
	}
	ctx := context.Background()
	dir := t.TempDir()
	here, there := storetest.OpenAt(t, dir, store.Options{}), storetest.OpenAt(t, dir, store.Options{})
	m := follow(here)
	a := submitted(t, "a", "C1", "2019-06-14", 4)
	if err := here.InsertResponse(ctx, a); err != nil {
		t.Fatal(err)
	}
	if got := tallyOf(t, m); got.Respondents != 1 {
		t.Fatalf("own write: %+v", got)
	}
	b := submitted(t, "b", "C2", "2019-06-15", 2)
	if err := there.InsertResponse(ctx, b); err != nil {
		t.Fatal(err)
	}
	a2 := a
	a2.Revision, a2.BodyHash, a2.Derived, a2.UpdatedAt = 2, "h-a-2", derived(t, summary.Input{Nominees: 7}), time.Now()
	if err := there.UpdateResponse(ctx, a2, a); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(3 * sums.CatchUpEvery)
	for {
		got := tallyOf(t, m)
		if got.Respondents == 2 && got.NomineeSum == 9 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("another instance's submission and revision not seen within %v: %+v", 3*sums.CatchUpEvery, got)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := there.EraseChild(ctx, "C2"); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(3 * sums.CatchUpEvery)
	for {
		got := tallyOf(t, m)
		if got.Respondents == 1 && got.NomineeSum == 7 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("another instance's erasure not seen: %+v", got)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if diffs, err := m.Check(ctx); err != nil || len(diffs) != 0 {
		t.Errorf("check: %v %v", diffs, err)
	}
}

// A submission hands its commit the value its derived inputs encode, and
// the sums hold that value rather than decoding the JSON again: what they
// hold must be what the stored JSON reads as. The check recounts from the
// stored JSON, so it agrees only if the two are the same, for every
// fixture of the summaries' own tests (skips, siblings, a nominee out of
// range, nobody named).
func TestSums_HoldTheDerivedValueAsItsJSONReads(t *testing.T) {
	ctx := context.Background()
	reg, err := form.Load(forms.FS())
	if err != nil {
		t.Fatal(err)
	}
	s := storetest.Open(t, store.Options{})
	m := sums.New(s, "sct", summary.SchemeOfAll(reg.Versions("sct")))
	s.OnCommit(m.Committed)
	tallyOf(t, m) // loaded: from here on the sums follow the commits
	fixtures := summarytest.Fixtures(t)
	if len(fixtures) < 6 {
		t.Fatalf("found %d fixtures", len(fixtures))
	}
	for i, f := range fixtures {
		in, err := summary.InputFromSCT(f.Answers)
		if err != nil {
			t.Fatal(err)
		}
		r := submitted(t, fmt.Sprint("r", i), fmt.Sprint("C", i), "2019-06-14", 0)
		r.Derived, r.DerivedValue = derived(t, in), in
		if err := s.InsertResponse(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if diffs, err := m.Check(ctx); err != nil || len(diffs) != 0 {
		t.Errorf("the held values differ from their stored JSON: %v %v", diffs, err)
	}

	// The value is what is held: one that says otherwise than its JSON
	// shows in the check (so the check above compared the values).
	r := submitted(t, "odd", "C-odd", "2019-06-14", 3)
	r.DerivedValue = summary.Input{Nominees: 4}
	if err := s.InsertResponse(ctx, r); err != nil {
		t.Fatal(err)
	}
	if diffs, _ := m.Check(ctx); len(diffs) != 1 || !strings.Contains(diffs[0], "response odd") {
		t.Errorf("check with a value unlike its JSON: %v", diffs)
	}
}
