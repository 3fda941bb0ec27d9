package store

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/lifelong-links/sct/internal/summary"
)

var testScheme = summary.Scheme{
	Relationships: []string{"grandparent", "school_staff", "friend"},
	Supports:      []string{"emotional", "practical", "trust"},
}

func openTest(t *testing.T, dir string) *Store {
	t.Helper()
	s, err := Open(context.Background(), Options{DataDir: dir, Database: "test",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return time.Date(2024, 3, 5, 10, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	s.UseSummaryScheme(testScheme)
	return s
}

func submitted(id, child, timepoint, day string, nominees int) Response {
	return Response{ID: id, Form: "sct", Version: "1", ChildID: child, Site: "A", Group: "comparison", Timepoint: timepoint,
		Wave: 1, CompletedOn: day, Mode: "paper", Status: StatusSubmitted, Revision: 1, BodyHash: "h-" + id + "-1",
		Answers: map[string]any{}, Inputs: &summary.Input{Nominees: nominees, Relationships: []string{"friend"},
			Adequacy: map[string]int{"trust": 2}}}
}

func tallyOf(t *testing.T, s *Store, f Filter) summary.Tally {
	t.Helper()
	f.Form = "sct"
	got, err := s.SCTTally(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func mustAgree(t *testing.T, s *Store) {
	t.Helper()
	diffs, err := s.CheckSummaries(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(diffs) > 0 {
		t.Errorf("summary buckets differ from a recount: %v", diffs)
	}
}

// Through inserts, revisions that move a response between buckets, drafts
// and erasure, the buckets always equal a recount from the responses.
func TestBuckets_FollowEveryWrite(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, t.TempDir())
	defer s.Close(ctx)
	for _, c := range []string{"C1", "C2"} {
		if _, err := s.CreateChild(ctx, Child{ID: c, Site: "A", Group: "comparison"}); err != nil {
			t.Fatal(err)
		}
	}
	a := submitted("a", "C1", "baseline", "2019-06-14", 4)
	b := submitted("b", "C2", "baseline", "2019-06-14", 2)
	for _, r := range []Response{a, b} {
		if err := s.InsertResponse(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if got := tallyOf(t, s, Filter{Timepoint: "baseline"}); got.Respondents != 2 || got.NomineeSum != 6 {
		t.Fatalf("after two inserts: %+v", got)
	}
	mustAgree(t, s)

	// A revision dated another day moves a's inputs to another bucket.
	a2 := a
	a2.Revision, a2.BodyHash, a2.CompletedOn = 2, "h-a-2", "2019-07-01"
	a2.Inputs = &summary.Input{Nominees: 7}
	if err := s.UpdateResponse(ctx, a2, a); err != nil {
		t.Fatal(err)
	}
	if got := tallyOf(t, s, Filter{Timepoint: "baseline", To: "2019-06-30"}); got.Respondents != 1 || got.NomineeSum != 2 {
		t.Errorf("June after the revision: %+v", got)
	}
	if got := tallyOf(t, s, Filter{Timepoint: "baseline"}); got.Respondents != 2 || got.NomineeSum != 9 {
		t.Errorf("all after the revision: %+v", got)
	}
	if revs, _ := s.Revisions(ctx, "a"); len(revs) != 2 || revs[0].BodyHash != "h-a-1" || revs[1].BodyHash != "h-a-2" {
		t.Errorf("history %+v", revs)
	}
	mustAgree(t, s)

	// A lookup of the slot goes by _id and finds the holder.
	if r, err := s.SubmittedResponse(ctx, "C1", "sct", "baseline", 1); err != nil || r.ID != "a" {
		t.Errorf("slot lookup: %+v %v", r, err)
	}

	// Erasure takes the child's inputs out.
	if err := s.EraseChild(ctx, "C1"); err != nil {
		t.Fatal(err)
	}
	if got := tallyOf(t, s, Filter{}); got.Respondents != 1 || got.NomineeSum != 2 {
		t.Errorf("after erasure: %+v", got)
	}
	if _, err := s.SubmittedResponse(ctx, "C1", "sct", "baseline", 1); err == nil {
		t.Error("the erased child's slot still resolves")
	}
	mustAgree(t, s)
}

// A write that committed but crashed before its buckets were updated is
// finished at the next open; one that never committed is dropped.
func TestBuckets_RecoverAtOpen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openTest(t, dir)
	if _, err := s.CreateChild(ctx, Child{ID: "C1", Site: "A", Group: "comparison"}); err != nil {
		t.Fatal(err)
	}
	done := submitted("done", "C1", "baseline", "2019-06-14", 5)
	// The crash: journal written, response committed, nothing applied.
	j := journalFor(nil, &done)
	if err := s.journal(ctx, j); err != nil {
		t.Fatal(err)
	}
	if _, err := s.wdb.Collection(collResponses).InsertOne(ctx, toDoc(done)); err != nil {
		t.Fatal(err)
	}
	half := submitted("half", "C1", "follow_up", "2019-11-01", 2)
	jh := journalFor(nil, &half)
	// A third: committed and applied, but the entry not yet deleted.
	if err := s.journal(ctx, jh); err != nil {
		t.Fatal(err)
	}
	if _, err := s.wdb.Collection(collResponses).InsertOne(ctx, toDoc(half)); err != nil {
		t.Fatal(err)
	}
	if err := s.applyChanges(ctx, jh); err != nil {
		t.Fatal(err)
	}
	// Another crash: journal written, response never written.
	ghost := submitted("ghost", "C1", "follow_up", "2019-12-01", 9)
	if err := s.journal(ctx, journalFor(nil, &ghost)); err != nil {
		t.Fatal(err)
	}
	if diffs, _ := s.CheckSummaries(ctx); len(diffs) == 0 {
		t.Fatal("the simulated crash left the buckets in step; the test proves nothing")
	}
	_ = s.Close(ctx)

	s = openTest(t, dir)
	defer s.Close(ctx)
	if got := tallyOf(t, s, Filter{}); got.Respondents != 2 || got.NomineeSum != 7 {
		t.Errorf("after recovery: %+v, want the two committed responses, each once", got)
	}
	mustAgree(t, s)
	if n, _ := s.db.Collection(collJournal).CountDocuments(ctx, bson.D{}); n != 0 {
		t.Errorf("%d journal entries left", n)
	}
	if r, err := s.SubmittedResponse(ctx, "C1", "sct", "baseline", 1); err != nil || r.ID != "done" {
		t.Errorf("the recovered response's slot: %+v %v", r, err)
	}
}

func TestBuckets_RebuildRestoresDamage(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, t.TempDir())
	defer s.Close(ctx)
	if err := s.InsertResponse(ctx, submitted("a", "C1", "baseline", "2019-06-14", 3)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.wdb.Collection(collBuckets).UpdateMany(ctx, bson.D{}, bson.D{{Key: "$inc", Value: bson.D{{Key: "tally.respondents", Value: 5}}}}); err != nil {
		t.Fatal(err)
	}
	if diffs, _ := s.CheckSummaries(ctx); len(diffs) != 1 {
		t.Fatalf("check found %v, want the damaged bucket", diffs)
	}
	if n, err := s.RebuildSummaries(ctx); err != nil || n != 1 {
		t.Fatalf("rebuild: %d %v", n, err)
	}
	mustAgree(t, s)
	if got := tallyOf(t, s, Filter{}); got.Respondents != 1 {
		t.Errorf("after rebuild: %+v", got)
	}
}
