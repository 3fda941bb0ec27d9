package store

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/lifelong-links/sct/internal/summary"
)

// The sums follow every write, a restart rebuilds them from the responses,
// and the check finds sums that went astray.
func TestSummaries_FollowWritesAndCheckFindsDrift(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	open := func() *Store {
		s, err := Open(ctx, Options{DataDir: dir, Database: "test", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatal(err)
		}
		s.UseSummaryScheme(summary.Scheme{Relationships: []string{"friend"}, Supports: []string{"trust"}})
		return s
	}
	s := open()
	resp := func(id, child, day string, n int) Response {
		return Response{ID: id, Form: "sct", Version: "1", ChildID: child, Site: "A", Group: "comparison", Timepoint: "baseline",
			Wave: 1, CompletedOn: day, Mode: "paper", Status: StatusSubmitted, Revision: 1, BodyHash: "h-" + id,
			Answers: map[string]any{}, Inputs: &summary.Input{Nominees: n, Relationships: []string{"friend"}}}
	}
	tally := func() summary.Tally {
		t.Helper()
		got, err := s.SCTTally(ctx, Filter{Form: "sct", Timepoint: "baseline"})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	a, b := resp("a", "C1", "2019-06-14", 4), resp("b", "C2", "2019-07-01", 2)
	for _, r := range []Response{a, b} {
		if err := s.InsertResponse(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if got := tally(); got.Respondents != 2 || got.NomineeSum != 6 {
		t.Fatalf("after two submissions: %+v", got)
	}
	a2 := a
	a2.Revision, a2.BodyHash, a2.Inputs = 2, "h-a-2", &summary.Input{Nominees: 9}
	if err := s.UpdateResponse(ctx, a2, a); err != nil {
		t.Fatal(err)
	}
	if got := tally(); got.Respondents != 2 || got.NomineeSum != 11 {
		t.Errorf("after a revision: %+v", got)
	}
	if diffs, err := s.CheckSummaries(ctx); err != nil || len(diffs) != 0 {
		t.Errorf("check: %v %v", diffs, err)
	}
	if err := s.EraseChild(ctx, "C2"); err != nil {
		t.Fatal(err)
	}
	if got := tally(); got.Respondents != 1 || got.NomineeSum != 9 {
		t.Errorf("after erasure: %+v", got)
	}

	// Sums gone astray are reported, and a rebuild mends them.
	s.sums.mu.Lock()
	s.sums.count("a", &counting{key: bucketOf(a2), in: summary.Input{Nominees: 1}})
	s.sums.mu.Unlock()
	if diffs, _ := s.CheckSummaries(ctx); len(diffs) != 1 || !strings.Contains(diffs[0], "response a") {
		t.Errorf("check after drift: %v", diffs)
	}
	if _, err := s.RebuildSummaries(ctx); err != nil {
		t.Fatal(err)
	}
	if diffs, _ := s.CheckSummaries(ctx); len(diffs) != 0 {
		t.Errorf("check after rebuild: %v", diffs)
	}

	// A restart builds the same sums from the responses.
	_ = s.Close(ctx)
	s = open()
	defer s.Close(ctx)
	if got := tally(); got.Respondents != 1 || got.NomineeSum != 9 {
		t.Errorf("after a restart: %+v", got)
	}
}
